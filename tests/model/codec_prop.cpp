// decode(encode(x)) == x for every contract type, as JSON values and through compact text.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>

#include "fuzz/codec_checks.hpp"
#include "model/codec.hpp"
#include "tests/model/generators.hpp"

namespace patrol::model {
namespace {

namespace t = generators;

template <class T>
void check_round_trip(const T& x) {
  auto back = decode<T>(encode(x));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == x);
  auto from_text = decode_text<T>(encode_text(x));
  RC_ASSERT(from_text.ok());
  RC_ASSERT(*from_text == x);
}

RC_GTEST_PROP(CodecRoundTrip, AccessToken, ()) {
  AccessToken x = *t::access_token();
  check_round_trip(x);
  // A tolerance appears exactly where the hub profile was lenient.
  auto back = decode<AccessToken>(encode(x));
  RC_ASSERT(back.ok());
  std::size_t expected = (x.token ? 0 : 1) + (x.scopes ? 0 : 1);
  RC_ASSERT(back->tolerated.size() == expected);
}

RC_GTEST_PROP(CodecRoundTrip, TokenPage, ()) {
  TokenPage x = *t::token_page();
  check_round_trip(x);
  auto back = decode<TokenPage>(encode(x));
  RC_ASSERT(back.ok());
  std::size_t expected = 0;
  for (std::size_t i = 0; i < x.results.size(); ++i) {
    expected += (x.results[i].token ? 0 : 1) + (x.results[i].scopes ? 0 : 1);
  }
  RC_ASSERT(back->tolerated.size() == expected);
  for (const auto& tol : back->tolerated) RC_ASSERT(tol.path.rfind("results[", 0) == 0);
}

RC_GTEST_PROP(CodecRoundTrip, CreateTokenRequest, ()) {
  check_round_trip(*t::create_token_request());
}

RC_GTEST_PROP(CodecRoundTrip, PatchTokenRequest, ()) {
  check_round_trip(*t::patch_token_request());
}

RC_GTEST_PROP(CodecRoundTrip, AuthBodies, ()) {
  AuthTokenRequest req{*t::text(), *t::text(), *t::extra()};
  check_round_trip(req);
  AuthTokenResponse resp{*t::text(), *t::extra()};
  check_round_trip(resp);
  LoginRequest login{*t::text(), *t::text(), *t::extra()};
  check_round_trip(login);
  LoginSuccess ok{*t::text(), *t::optional_of(t::text()), *t::extra()};
  check_round_trip(ok);
  LoginError err{*t::text(), *t::nullable_of(t::text()), *t::extra()};
  check_round_trip(err);
  TwoFactorLoginRequest two{*t::text(), *t::text(), *t::extra()};
  check_round_trip(two);
  RegistryTokenResponse reg{*t::text(), *t::optional_of(t::text()),
                            *t::optional_of(rc::gen::arbitrary<std::int64_t>()),
                            *t::optional_of(t::timestamp_text()), *t::extra()};
  check_round_trip(reg);
}

RC_GTEST_PROP(CodecRoundTrip, JwtParts, ()) {
  check_round_trip(*t::jwt_header());
  check_round_trip(*t::jwt_claims());
  check_round_trip(*t::access_entry());
}

RC_GTEST_PROP(CodecRoundTrip, ErrorBodies, ()) {
  HubError hub = *t::hub_error();
  check_round_trip(hub);
  auto back = decode<HubError>(encode(hub));
  RC_ASSERT(back.ok());
  RC_ASSERT(back->tolerated.size() == (hub.errinfo.is_null() ? 1u : 0u));
  SpecValueError value{*t::json_object(), *t::text(), *t::extra()};
  check_round_trip(value);
  SpecError spec{*t::text(), *t::text(), *t::extra()};
  check_round_trip(spec);
}

// Removing any one required member of an encoded token is reported as exactly that member.
RC_GTEST_PROP(CodecErrors, MissingRequiredMemberIsNamed, ()) {
  AccessToken x = *t::access_token();
  std::string member =
      *rc::gen::element<std::string>("uuid", "created_at", "is_active", "token_label");
  Json j = encode(x);
  j.erase(member);
  auto r = decode<AccessToken>(j);
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.error().message == member + ": required");
}

// The codec fuzz targets check decode(encode(v)) == v on the document and survives_text() for its
// text, instead of a second parse per input. That holds only if survives_text() is exactly
// "compact text parses back to the same document", over any bytes and any double.
rc::Gen<std::string> any_bytes() {
  return rc::gen::oneOf(
      t::text(6), rc::gen::resize(6, rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
}

rc::Gen<Json> risky_scalar() {
  return rc::gen::oneOf(
      t::json_scalar(), rc::gen::map(any_bytes(), [](std::string s) { return Json(s); }),
      rc::gen::map(rc::gen::arbitrary<double>(), [](double d) { return Json(d); }),
      rc::gen::element(Json(std::numeric_limits<double>::quiet_NaN()),
                       Json(std::numeric_limits<double>::infinity()), Json(-0.0),
                       Json(std::numeric_limits<std::uint64_t>::max())));
}

RC_GTEST_PROP(FuzzCodecChecks, SurvivesTextIsTheTextRoundTrip, ()) {
  Json j = *rc::gen::weightedOneOf<Json>(
      {{2, risky_scalar()},
       {1, rc::gen::map(rc::gen::resize(3, rc::gen::container<std::vector<Json>>(risky_scalar())),
                        [](std::vector<Json> v) { return Json(std::move(v)); })},
       {2, t::small_object(any_bytes(), risky_scalar(), 3)}});
  auto back = parse_json(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  RC_ASSERT(back.ok());
  RC_TAG(fuzz::survives_text(j));
  RC_ASSERT(fuzz::survives_text(j) == (*back == j));
}

}  // namespace
}  // namespace patrol::model
