// RapidCheck generators of the contract types for the model's property tests: valid UTF-8 text
// (multi-byte characters included), RFC 3339 strings with and without fractions, every scope list,
// and extra members that never collide with a type's known members.
#pragma once

#include <rapidcheck.h>

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/rfc3339.hpp"
#include "model/scope.hpp"
#include "model/types.hpp"
#include "model/utf8.hpp"

namespace patrol::model::generators {

// One code point: ASCII, or two-, three- or four-byte UTF-8 (never a surrogate).
inline rc::Gen<char32_t> code_point() {
  return rc::gen::oneOf(
      rc::gen::inRange<char32_t>(0x20, 0x7f), rc::gen::inRange<char32_t>(0, 0x80),
      rc::gen::inRange<char32_t>(0x80, 0x800), rc::gen::inRange<char32_t>(0x800, 0xd800),
      rc::gen::inRange<char32_t>(0xe000, 0x10000), rc::gen::inRange<char32_t>(0x10000, 0x110000));
}

inline std::string to_utf8(const std::vector<char32_t>& cps) {
  std::string out;
  for (char32_t cp : cps) append_utf8(out, cp);
  return out;
}

// Valid UTF-8 of at most `max_code_points` code points.
inline rc::Gen<std::string> text(std::size_t max_code_points = 24) {
  return rc::gen::map(
      rc::gen::mapcat(
          rc::gen::inRange<std::size_t>(0, max_code_points + 1),
          [](std::size_t n) { return rc::gen::container<std::vector<char32_t>>(n, code_point()); }),
      to_utf8);
}

// A token label: 1..100 code points (contract 3.2).
inline rc::Gen<std::string> label() {
  return rc::gen::map(
      rc::gen::mapcat(
          rc::gen::inRange<std::size_t>(1, 101),
          [](std::size_t n) { return rc::gen::container<std::vector<char32_t>>(n, code_point()); }),
      to_utf8);
}

// Microseconds between 0000-01-01 and 9999-12-31, the range RFC 3339 can write.
inline rc::Gen<Timestamp> timestamp() {
  return rc::gen::map(
      rc::gen::inRange<std::int64_t>(-62167219200LL * 1000000, 253402300800LL * 1000000),
      [](std::int64_t us) { return Timestamp{us}; });
}

// An RFC 3339 string with no fraction, three or six fraction digits.
inline rc::Gen<std::string> timestamp_text() {
  return rc::gen::apply(
      [](Timestamp t, int digits) {
        std::string s = format_rfc3339(t);  // "....SS.ffffffZ"
        std::size_t dot = s.find('.');
        if (digits == 0) return s.substr(0, dot) + "Z";
        return s.substr(0, dot + 1 + digits) + "Z";
      },
      timestamp(), rc::gen::element(0, 3, 6));
}

inline rc::Gen<std::string> scope_text() {
  return rc::gen::weightedOneOf<std::string>(
      {{6,
        rc::gen::element<std::string>("repo:admin", "repo:write", "repo:read", "repo:public_read")},
       {1, text(12)}});
}

inline rc::Gen<std::vector<std::string>> scope_list() {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 6), [](std::size_t n) {
    return rc::gen::container<std::vector<std::string>>(n, scope_text());
  });
}

inline rc::Gen<std::vector<Scope>> scopes() {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 7), [](std::size_t n) {
    return rc::gen::container<std::vector<Scope>>(n, rc::gen::elementOf(kAllScopes));
  });
}

template <class T>
rc::Gen<std::optional<T>> optional_of(rc::Gen<T> g) {
  return rc::gen::weightedOneOf<std::optional<T>>(
      {{1, rc::gen::just(std::optional<T>())},
       {3, rc::gen::map(std::move(g), [](T v) { return std::optional<T>(std::move(v)); })}});
}

template <class T>
rc::Gen<Nullable<T>> nullable_of(rc::Gen<T> g) {
  return rc::gen::weightedOneOf<Nullable<T>>(
      {{1, rc::gen::just(Nullable<T>::absent())},
       {1, rc::gen::just(Nullable<T>::null())},
       {3, rc::gen::map(std::move(g), [](T v) { return Nullable<T>::of(std::move(v)); })}});
}

// A small JSON value: scalars (finite doubles included), and shallow arrays and objects of at
// most a few members, so that generation stays cheap under the sanitizers.
inline rc::Gen<Json> json_scalar() {
  return rc::gen::oneOf(
      rc::gen::just(Json(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Json(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Json(i); }),
      rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<double>(),
                                     [](double d) { return std::isfinite(d); }),
                   [](double d) { return Json(d); }),
      rc::gen::map(text(8), [](std::string s) { return Json(std::move(s)); }));
}

// An object of 0..max_members members named by `key`.
inline rc::Gen<Json> small_object(rc::Gen<std::string> key, rc::Gen<Json> value,
                                  std::size_t max_members) {
  return rc::gen::map(
      rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, max_members + 1),
                      [key, value](std::size_t n) {
                        return rc::gen::container<std::vector<std::pair<std::string, Json>>>(
                            n, rc::gen::pair(key, value));
                      }),
      [](std::vector<std::pair<std::string, Json>> members) {
        Json j = Json::object();
        for (auto& [k, v] : members) j[k] = std::move(v);
        return j;
      });
}

inline rc::Gen<Json> json_value() {
  return rc::gen::weightedOneOf<Json>(
      {{4, json_scalar()},
       {1, rc::gen::map(rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 4),
                                        [](std::size_t n) {
                                          return rc::gen::container<std::vector<Json>>(
                                              n, json_scalar());
                                        }),
                        [](std::vector<Json> v) { return Json(std::move(v)); })},
       {1, small_object(text(6), json_scalar(), 3)}});
}

// Extra members: names carry an "x-" prefix, which no contract member has.
inline rc::Gen<Json> extra() {
  return rc::gen::weightedOneOf<Json>(
      {{2, rc::gen::just(Json::object())},
       {1, small_object(rc::gen::map(text(6), [](std::string k) { return "x-" + k; }), json_value(),
                        4)}});
}

inline rc::Gen<Json> json_object() { return small_object(text(6), json_value(), 4); }

inline rc::Gen<AccessToken> access_token() {
  return rc::gen::build<AccessToken>(
      rc::gen::set(&AccessToken::uuid, text()),
      rc::gen::set(&AccessToken::client_id, optional_of(text())),
      rc::gen::set(&AccessToken::creator_ip, optional_of(text())),
      rc::gen::set(&AccessToken::creator_ua, optional_of(text())),
      rc::gen::set(&AccessToken::created_at, timestamp_text()),
      rc::gen::set(&AccessToken::last_used, nullable_of(timestamp_text())),
      rc::gen::set(&AccessToken::generated_by, optional_of(text())),
      rc::gen::set(&AccessToken::is_active), rc::gen::set(&AccessToken::token, optional_of(text())),
      rc::gen::set(&AccessToken::token_label, label()),
      rc::gen::set(&AccessToken::scopes, optional_of(scope_list())),
      rc::gen::set(&AccessToken::expires_at, nullable_of(timestamp_text())),
      rc::gen::set(&AccessToken::extra, extra()));
}

inline rc::Gen<TokenPage> token_page() {
  return rc::gen::build<TokenPage>(
      rc::gen::set(&TokenPage::count), rc::gen::set(&TokenPage::next, nullable_of(text())),
      rc::gen::set(&TokenPage::previous, nullable_of(text())),
      rc::gen::set(&TokenPage::active_count),
      rc::gen::set(&TokenPage::results,
                   rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 5),
                                   [](std::size_t n) {
                                     return rc::gen::container<std::vector<AccessToken>>(
                                         n, access_token());
                                   })),
      rc::gen::set(&TokenPage::extra, extra()));
}

inline rc::Gen<CreateTokenRequest> create_token_request() {
  return rc::gen::build<CreateTokenRequest>(
      rc::gen::set(&CreateTokenRequest::token_label, label()),
      rc::gen::set(&CreateTokenRequest::scopes, scope_list()),
      rc::gen::set(&CreateTokenRequest::expires_at, optional_of(timestamp_text())),
      rc::gen::set(&CreateTokenRequest::extra, extra()));
}

inline rc::Gen<PatchTokenRequest> patch_token_request() {
  return rc::gen::build<PatchTokenRequest>(
      rc::gen::set(&PatchTokenRequest::token_label, optional_of(label())),
      rc::gen::set(&PatchTokenRequest::is_active, optional_of(rc::gen::arbitrary<bool>())),
      rc::gen::set(&PatchTokenRequest::extra, extra()));
}

inline rc::Gen<AccessEntry> access_entry() {
  return rc::gen::build<AccessEntry>(
      rc::gen::set(&AccessEntry::type, rc::gen::element<std::string>("repository", "registry")),
      rc::gen::set(&AccessEntry::name, text()),
      rc::gen::set(&AccessEntry::actions,
                   rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 4),
                                   [](std::size_t n) {
                                     return rc::gen::container<std::vector<std::string>>(
                                         n, rc::gen::element<std::string>("pull", "push", "delete",
                                                                          "*"));
                                   })),
      rc::gen::set(&AccessEntry::extra, extra()));
}

inline rc::Gen<JwtHeader> jwt_header() {
  return rc::gen::build<JwtHeader>(
      rc::gen::set(&JwtHeader::alg, rc::gen::element<std::string>("HS256", "RS256", "none")),
      rc::gen::set(&JwtHeader::typ, optional_of(rc::gen::just(std::string("JWT")))),
      rc::gen::set(&JwtHeader::kid, optional_of(text())), rc::gen::set(&JwtHeader::extra, extra()));
}

inline rc::Gen<JwtClaims> jwt_claims() {
  auto base =
      rc::gen::build<JwtClaims>(
          rc::gen::set(&JwtClaims::iss, optional_of(text())),
          rc::gen::set(&JwtClaims::sub, optional_of(text())),
          rc::gen::set(&JwtClaims::aud, optional_of(rc::gen::mapcat(
                                            rc::gen::inRange<std::size_t>(0, 4),
                                            [](std::size_t n) {
                                              return rc::gen::container<std::vector<std::string>>(
                                                  n, text());
                                            }))),
          rc::gen::set(&JwtClaims::aud_is_array),
          rc::gen::set(&JwtClaims::exp, optional_of(rc::gen::arbitrary<std::int64_t>())),
          rc::gen::set(&JwtClaims::iat, optional_of(rc::gen::arbitrary<std::int64_t>())),
          rc::gen::set(&JwtClaims::nbf, optional_of(rc::gen::arbitrary<std::int64_t>())),
          rc::gen::set(&JwtClaims::jti, optional_of(text())),
          rc::gen::set(&JwtClaims::scope, optional_of(scope_text())),
          rc::gen::set(
              &JwtClaims::access,
              optional_of(rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 3),
                                          [](std::size_t n) {
                                            return rc::gen::container<std::vector<AccessEntry>>(
                                                n, access_entry());
                                          }))),
          rc::gen::set(&JwtClaims::username, optional_of(text())),
          rc::gen::set(&JwtClaims::extra, extra()));
  // `aud_is_array` only means something for a one-element `aud`; elsewhere it is implied.
  return rc::gen::map(std::move(base), [](JwtClaims c) {
    if (!c.aud) c.aud_is_array = false;
    if (c.aud && c.aud->size() != 1) c.aud_is_array = true;
    return c;
  });
}

inline rc::Gen<HubError> hub_error() {
  auto base = rc::gen::build<HubError>(rc::gen::set(&HubError::message, optional_of(text())),
                                       rc::gen::set(&HubError::detail, optional_of(text())),
                                       rc::gen::set(&HubError::text, optional_of(text())),
                                       rc::gen::set(&HubError::errinfo, nullable_of(json_object())),
                                       rc::gen::set(&HubError::extra, extra()));
  return rc::gen::map(std::move(base), [](HubError e) {
    if (!e.message && !e.detail && !e.text) e.message = "unauthorized";
    return e;
  });
}

}  // namespace patrol::model::generators
