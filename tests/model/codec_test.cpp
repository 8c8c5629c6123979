// Strict codecs: every contract body in tests/model/data decodes to its type and re-encodes to the
// same JSON; malformed variants fail with the exact path and reason; hub tolerances are recorded.
#include "model/codec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace patrol::model {
namespace {

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(PATROL_MODEL_TEST_DATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Json load(const std::string& name) {
  auto parsed = parse_json(read_data(name));
  EXPECT_TRUE(parsed.ok()) << name << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : Json();
}

template <class T>
T decode_ok(const Json& j) {
  auto r = decode<T>(j);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : T{};
}

template <class T>
T load_as(const std::string& name) {
  return decode_ok<T>(load(name));
}

template <class T>
void expect_error(const Json& j, ErrorKind kind, const std::string& message) {
  auto r = decode<T>(j);
  ASSERT_FALSE(r.ok()) << "decoded unexpectedly: " << j.dump();
  EXPECT_EQ(r.error().message, message);
  EXPECT_EQ(r.error().kind, kind) << to_string(r.error().kind) << " for " << message;
}

Json token_json() { return load("openapi_access_token_read.json"); }

// A page of four well-formed results.
Json page_of_four() {
  Json page = load("openapi_token_page.json");
  Json one = page["results"][0];
  page["results"] = Json::array({one, one, one, one});
  page["count"] = 4;
  page["active_count"] = 4;
  return page;
}

// --- Every body of the test data decodes to its type and re-encodes to the same JSON ---------

template <class T>
void expect_faithful(const std::string& name) {
  SCOPED_TRACE(name);
  Json j = load(name);
  auto r = decode<T>(j);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(encode(*r), j);
  auto again = decode<T>(encode(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
}

TEST(CodecData, EveryBodyDecodesToItsTypeAndReencodesUnchanged) {
  expect_faithful<AccessToken>("openapi_access_token.json");
  expect_faithful<AccessToken>("openapi_access_token_read.json");
  expect_faithful<AccessToken>("observed_patch_response_2022.json");
  expect_faithful<TokenPage>("openapi_token_page.json");
  expect_faithful<TokenPage>("observed_token_page_2021.json");
  expect_faithful<TokenPage>("observed_token_page_2025.json");
  expect_faithful<CreateTokenRequest>("openapi_create_token_request.json");
  expect_faithful<PatchTokenRequest>("openapi_patch_token_request.json");
  expect_faithful<AuthTokenRequest>("openapi_auth_token_request.json");
  expect_faithful<AuthTokenResponse>("openapi_auth_token_response.json");
  expect_faithful<LoginRequest>("openapi_login_request.json");
  expect_faithful<LoginSuccess>("openapi_login_success.json");
  expect_faithful<LoginError>("openapi_login_error.json");
  expect_faithful<LoginError>("openapi_two_factor_login_error.json");
  expect_faithful<LoginError>("observed_error_login_incorrect.json");
  expect_faithful<LoginError>("observed_error_login_unauthorized.json");
  expect_faithful<TwoFactorLoginRequest>("openapi_two_factor_login_request.json");
  expect_faithful<JwtHeader>("openapi_jwt_header.json");
  expect_faithful<JwtClaims>("openapi_jwt_claims.json");
  expect_faithful<JwtClaims>("observed_jwt_claims_pat.json");
  expect_faithful<RegistryTokenResponse>("registry_token_response.json");
  expect_faithful<SpecValueError>("observed_error_db_value_error.json");
  for (const char* name :
       {"observed_error_plan_gated.json", "observed_error_db_value_error.json",
        "observed_error_unauthorized.json", "observed_error_pat_issued.json",
        "observed_error_forbidden_errinfo.json", "observed_error_login_incorrect.json",
        "observed_error_login_unauthorized.json", "observed_error_rate_limit.json"}) {
    expect_faithful<HubError>(name);
  }
}

TEST(TokenCodec, ReadsEveryMemberOfTheOpenapiExample) {
  auto t = load_as<AccessToken>("openapi_access_token.json");
  EXPECT_EQ(t.uuid, "b30bbf97-506c-4ecd-aabc-842f3cb484fb");
  EXPECT_EQ(t.client_id, "HUB");
  EXPECT_EQ(t.creator_ip, "127.0.0.1");
  EXPECT_EQ(t.creator_ua, "some user agent");
  EXPECT_EQ(t.created_at, "2021-07-20T12:00:00.000000Z");
  EXPECT_TRUE(t.last_used.is_null());
  EXPECT_EQ(t.generated_by, "manual");
  EXPECT_TRUE(t.is_active);
  EXPECT_EQ(t.token, "a7a5ef25-8889-43a0-8cc7-f2a94268e861");
  EXPECT_EQ(t.token_label, "My read only token");
  EXPECT_EQ(t.scopes, std::vector<std::string>{"repo:read"});
  EXPECT_EQ(t.expires_at, Nullable<std::string>::of("2021-10-28T18:30:19.520861Z"));
  EXPECT_EQ(t.extra, Json::object());
  EXPECT_TRUE(t.tolerated.empty());
}

TEST(TokenCodec, ReadsTheObservedPatchResponseWithoutExpiry) {
  auto t = load_as<AccessToken>("observed_patch_response_2022.json");
  EXPECT_EQ(t.token, "");
  EXPECT_FALSE(t.is_active);
  EXPECT_TRUE(t.expires_at.is_absent());
  EXPECT_TRUE(t.tolerated.empty());
}

TEST(TokenPageCodec, ReadsTheOpenapiExample) {
  auto p = load_as<TokenPage>("openapi_token_page.json");
  EXPECT_EQ(p.count, 1);
  EXPECT_EQ(p.active_count, 1);
  EXPECT_TRUE(p.next.is_null());
  EXPECT_TRUE(p.previous.is_null());
  ASSERT_EQ(p.results.size(), 1u);
  EXPECT_EQ(p.results[0].token, "");
  EXPECT_TRUE(p.tolerated.empty());
}

TEST(TokenPageCodec, ReadsTheObserved2021PageWithALegacyToken) {
  auto p = load_as<TokenPage>("observed_token_page_2021.json");
  EXPECT_EQ(p.count, 2);
  EXPECT_EQ(p.active_count, 1);
  ASSERT_EQ(p.results.size(), 2u);
  EXPECT_EQ(p.results[0].last_used, Nullable<std::string>::of("2021-10-13T08:02:44.120391Z"));
  EXPECT_FALSE(p.results[1].scopes.has_value());
  std::vector<Tolerance> expected = {{"results[1].scopes", "A14", "scopes absent (legacy token)"}};
  EXPECT_EQ(p.tolerated, expected);
  EXPECT_EQ(p.results[1].tolerated, expected);
  EXPECT_TRUE(p.results[0].tolerated.empty());
}

TEST(TokenPageCodec, ReadsTheObserved2025PageInItsKeyOrder) {
  auto p = load_as<TokenPage>("observed_token_page_2025.json");
  EXPECT_EQ(p.count, 1);
  EXPECT_EQ(p.active_count, 0);
  ASSERT_EQ(p.results.size(), 1u);
  EXPECT_FALSE(p.results[0].is_active);
  EXPECT_EQ(p.results[0].scopes, std::vector<std::string>{"repo:admin"});
}

TEST(RequestCodec, ReadsTheOpenapiRequests) {
  auto c = load_as<CreateTokenRequest>("openapi_create_token_request.json");
  EXPECT_EQ(c.token_label, "My read only token");
  EXPECT_EQ(c.scopes, std::vector<std::string>{"repo:read"});
  EXPECT_EQ(c.expires_at, "2021-10-28T18:30:19.520861Z");

  auto p = load_as<PatchTokenRequest>("openapi_patch_token_request.json");
  EXPECT_EQ(p.token_label, "My read only token");
  EXPECT_EQ(p.is_active, false);

  auto a = load_as<AuthTokenRequest>("openapi_auth_token_request.json");
  EXPECT_EQ(a.identifier, "myusername");
  EXPECT_EQ(a.secret, "dckr_pat_124509ugsdjga93");

  auto l = load_as<LoginRequest>("openapi_login_request.json");
  EXPECT_EQ(l.username, "myusername");
  EXPECT_EQ(l.password, "p@ssw0rd");

  auto f = load_as<TwoFactorLoginRequest>("openapi_two_factor_login_request.json");
  EXPECT_EQ(f.code, "123456");
}

TEST(RequestCodec, EmptyPatchIsLegal) {
  auto p = decode_ok<PatchTokenRequest>(Json::object());
  EXPECT_FALSE(p.token_label.has_value());
  EXPECT_FALSE(p.is_active.has_value());
  EXPECT_EQ(encode_text(p), "{}");
}

TEST(RequestCodec, PatchKeepsScopesAndExpiryAsExtra) {
  Json j = {{"is_active", true}, {"scopes", {"repo:admin"}}, {"expires_at", nullptr}};
  auto p = decode_ok<PatchTokenRequest>(j);
  EXPECT_EQ(p.is_active, true);
  EXPECT_EQ(p.extra, (Json{{"scopes", {"repo:admin"}}, {"expires_at", nullptr}}));
  EXPECT_EQ(encode(p), j);
}

TEST(AuthCodec, ReadsTheLoginResponses) {
  auto ok = load_as<LoginSuccess>("openapi_login_success.json");
  EXPECT_TRUE(ok.token.ends_with(".sig"));
  EXPECT_FALSE(ok.refresh_token.has_value());

  auto second = load_as<LoginError>("openapi_login_error.json");
  EXPECT_EQ(second.detail, "Incorrect authentication credentials");
  EXPECT_TRUE(second.login_2fa_token.has_value());

  auto plain = load_as<LoginError>("openapi_two_factor_login_error.json");
  EXPECT_TRUE(plain.login_2fa_token.is_absent());

  auto null_token = decode_ok<LoginError>({{"detail", "x"}, {"login_2fa_token", nullptr}});
  EXPECT_TRUE(null_token.login_2fa_token.is_null());
}

TEST(AuthCodec, ReadsTheRegistryTokenResponse) {
  auto r = load_as<RegistryTokenResponse>("registry_token_response.json");
  EXPECT_EQ(r.token, "opaque-registry-token");
  EXPECT_EQ(r.expires_in, 300);
  EXPECT_EQ(r.issued_at, "2025-06-01T12:00:00Z");
}

TEST(JwtClaimsCodec, ReadsThePatDerivedClaims) {
  auto c = load_as<JwtClaims>("observed_jwt_claims_pat.json");
  EXPECT_EQ(c.iss, "https://api.docker.com/");
  EXPECT_EQ(c.aud, std::vector<std::string>{"https://hub.docker.com"});
  EXPECT_FALSE(c.aud_is_array);
  EXPECT_EQ(c.scope, "repo:public_read");
  ASSERT_TRUE(c.exp && c.iat);
  EXPECT_EQ(*c.exp - *c.iat, 600);
  ASSERT_TRUE(c.extra.contains("https://hub.docker.com"));
  EXPECT_EQ(c.extra["https://hub.docker.com"]["username"], "someuser");
}

TEST(JwtClaimsCodec, RemembersWhetherAudWasAnArray) {
  auto one = decode_ok<JwtClaims>({{"aud", Json::array({"a"})}});
  EXPECT_TRUE(one.aud_is_array);
  EXPECT_EQ(encode(one)["aud"], Json::array({"a"}));
  auto str = decode_ok<JwtClaims>({{"aud", "a"}});
  EXPECT_FALSE(str.aud_is_array);
  EXPECT_EQ(encode(str)["aud"], "a");
  EXPECT_EQ(one.aud, str.aud);
  EXPECT_NE(one, str);
}

TEST(JwtClaimsCodec, ReadsRegistryAccess) {
  Json j = {
      {"access", {{{"type", "repository"}, {"name", "alice/public"}, {"actions", {"pull"}}}}}};
  auto c = decode_ok<JwtClaims>(j);
  ASSERT_TRUE(c.access.has_value());
  ASSERT_EQ(c.access->size(), 1u);
  EXPECT_EQ((*c.access)[0].name, "alice/public");
  EXPECT_EQ((*c.access)[0].actions, std::vector<std::string>{"pull"});
}

TEST(ErrorCodec, ReadsTheObservedErrorBodies) {
  auto forbidden = load_as<HubError>("observed_error_forbidden_errinfo.json");
  ASSERT_TRUE(forbidden.errinfo.has_value());
  EXPECT_EQ(forbidden.errinfo.value["http_status"], 403);
  EXPECT_TRUE(forbidden.tolerated.empty());

  auto rate = load_as<HubError>("observed_error_rate_limit.json");
  EXPECT_EQ(rate.detail, "Rate limit exceeded");
  EXPECT_TRUE(rate.errinfo.is_absent());
  EXPECT_EQ(rate.extra, (Json{{"error", false}}));

  auto db = load_as<HubError>("observed_error_db_value_error.json");
  EXPECT_EQ(db.text, "GetApiToken query error");
  EXPECT_TRUE(db.extra.contains("fields"));
  EXPECT_EQ(db.extra["line"], 118);

  auto spec = load_as<SpecValueError>("observed_error_db_value_error.json");
  EXPECT_EQ(spec.fields["error_code"], "invalid_text_representation");
  EXPECT_EQ(spec.text, "GetApiToken query error");
  EXPECT_EQ(spec.extra["func"], "GetApiToken");

  auto spec_error = decode_ok<SpecError>({{"detail", "d"}, {"message", "m"}});
  EXPECT_EQ(spec_error.detail, "d");
  EXPECT_EQ(spec_error.message, "m");
}

// --- Tolerances: recorded exactly where the hub profile is lenient, absent otherwise --------

TEST(Tolerances, NoneForACompleteToken) {
  EXPECT_TRUE(decode_ok<AccessToken>(token_json()).tolerated.empty());
}

TEST(Tolerances, AbsentTokenIsA1) {
  Json j = token_json();
  j.erase("token");
  auto t = decode_ok<AccessToken>(j);
  EXPECT_FALSE(t.token.has_value());
  EXPECT_EQ(t.tolerated,
            (std::vector<Tolerance>{{"token", "A1", "token absent (redacted by omission)"}}));
}

TEST(Tolerances, AbsentScopesIsA14) {
  Json j = token_json();
  j.erase("scopes");
  auto t = decode_ok<AccessToken>(j);
  EXPECT_EQ(t.tolerated,
            (std::vector<Tolerance>{{"scopes", "A14", "scopes absent (legacy token)"}}));
}

TEST(Tolerances, EmptyScopesAndEmptyTokenAreNotTolerances) {
  Json j = token_json();
  j["scopes"] = Json::array();
  j["token"] = "***";
  EXPECT_TRUE(decode_ok<AccessToken>(j).tolerated.empty());
}

TEST(Tolerances, PageCollectsResultTolerancesWithFullPaths) {
  Json page = page_of_four();
  page["results"][0].erase("token");
  page["results"][2].erase("scopes");
  auto p = decode_ok<TokenPage>(page);
  std::vector<Tolerance> expected = {
      {"results[0].token", "A1", "token absent (redacted by omission)"},
      {"results[2].scopes", "A14", "scopes absent (legacy token)"}};
  EXPECT_EQ(p.tolerated, expected);
  EXPECT_TRUE(p.results[1].tolerated.empty());
}

TEST(Tolerances, NestedPathPrefixesTheToleranceAndTheError) {
  Json j = token_json();
  j.erase("scopes");
  auto t = Codec<AccessToken>::decode(j, "body");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->tolerated.at(0).path, "body.scopes");
  j.erase("uuid");
  auto bad = Codec<AccessToken>::decode(j, "body");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "body.uuid: required");
}

TEST(Tolerances, NullErrinfoIsA3) {
  auto e = load_as<HubError>("observed_error_plan_gated.json");
  EXPECT_TRUE(e.errinfo.is_null());
  EXPECT_EQ(e.tolerated, (std::vector<Tolerance>{{"errinfo", "A3", "errinfo null"}}));
  EXPECT_TRUE(load_as<HubError>("observed_error_unauthorized.json").tolerated.empty());
  EXPECT_TRUE(load_as<HubError>("observed_error_login_incorrect.json").tolerated.empty());
}

// --- Malformed variants: exact path and reason ----------------------------------------------

TEST(CodecErrors, RootOfTheWrongType) {
  expect_error<AccessToken>(Json::array(), ErrorKind::kType, "$: expected object, got array");
  expect_error<TokenPage>("page", ErrorKind::kType, "$: expected object, got string");
  expect_error<HubError>(nullptr, ErrorKind::kType, "$: expected object, got null");
  expect_error<JwtClaims>(3, ErrorKind::kType, "$: expected object, got number");
}

TEST(CodecErrors, EachRequiredTokenMemberIsNamed) {
  for (const char* member : {"uuid", "created_at", "is_active", "token_label"}) {
    Json j = token_json();
    j.erase(member);
    expect_error<AccessToken>(j, ErrorKind::kMissing, std::string(member) + ": required");
  }
}

TEST(CodecErrors, OptionalTokenMembersMayBeAbsent) {
  Json j = token_json();
  for (const char* member :
       {"client_id", "creator_ip", "creator_ua", "last_used", "generated_by", "expires_at"}) {
    j.erase(member);
  }
  auto t = decode_ok<AccessToken>(j);
  EXPECT_TRUE(t.last_used.is_absent());
  EXPECT_TRUE(t.expires_at.is_absent());
  EXPECT_FALSE(t.client_id.has_value());
}

TEST(CodecErrors, WrongMemberTypesInAToken) {
  struct Case {
    const char* member;
    Json value;
    const char* message;
  };
  const Case cases[] = {
      {"uuid", 7, "uuid: expected string, got number"},
      {"client_id", nullptr, "client_id: expected string, got null"},
      {"created_at", Json::object(), "created_at: expected string, got object"},
      {"last_used", 5, "last_used: expected string or null, got number"},
      {"is_active", "true", "is_active: expected boolean, got string"},
      {"is_active", 1, "is_active: expected boolean, got number"},
      {"token", nullptr, "token: expected string, got null"},
      {"token_label", Json::array({"x"}), "token_label: expected string, got array"},
      {"scopes", "repo:read", "scopes: expected array, got string"},
      {"scopes", nullptr, "scopes: expected array, got null"},
      {"scopes", Json::array({"repo:read", false}), "scopes[1]: expected string, got boolean"},
      {"expires_at", false, "expires_at: expected string or null, got boolean"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    Json j = token_json();
    j[c.member] = c.value;
    expect_error<AccessToken>(j, ErrorKind::kType, c.message);
  }
}

TEST(CodecErrors, FirstProblemInMemberOrderIsReported) {
  Json j = token_json();
  j.erase("token_label");
  j["uuid"] = 1;
  expect_error<AccessToken>(j, ErrorKind::kType, "uuid: expected string, got number");
}

TEST(CodecErrors, PageNesting) {
  Json p = page_of_four();
  p["results"] = Json::object();
  expect_error<TokenPage>(p, ErrorKind::kType, "results: expected array, got object");

  p = page_of_four();
  p["results"][3]["scopes"][0] = 3;
  expect_error<TokenPage>(p, ErrorKind::kType, "results[3].scopes[0]: expected string, got number");

  p = page_of_four();
  p["results"][0] = Json::array();
  expect_error<TokenPage>(p, ErrorKind::kType, "results[0]: expected object, got array");

  p = page_of_four();
  p["results"][2].erase("uuid");
  expect_error<TokenPage>(p, ErrorKind::kMissing, "results[2].uuid: required");

  p = page_of_four();
  p.erase("results");
  expect_error<TokenPage>(p, ErrorKind::kMissing, "results: required");

  p = page_of_four();
  p["next"] = 2;
  expect_error<TokenPage>(p, ErrorKind::kType, "next: expected string or null, got number");
}

TEST(CodecErrors, IntegersAreStrictButAcceptIntegralFloats) {
  Json p = page_of_four();
  p["count"] = 2.0;
  EXPECT_EQ(decode_ok<TokenPage>(p).count, 2);

  p["count"] = 2.5;
  expect_error<TokenPage>(p, ErrorKind::kType, "count: expected integer, got 2.5");
  p["count"] = "4";
  expect_error<TokenPage>(p, ErrorKind::kType, "count: expected integer, got string");
  p["count"] = 4;
  p["active_count"] = 1e20;
  expect_error<TokenPage>(p, ErrorKind::kInvalid, "active_count: integer out of range, got 1e+20");
  p["active_count"] = std::numeric_limits<std::uint64_t>::max();
  expect_error<TokenPage>(p, ErrorKind::kInvalid,
                          "active_count: integer out of range, got 18446744073709551615");
  p["active_count"] = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(decode_ok<TokenPage>(p).active_count, std::numeric_limits<std::int64_t>::min());

  auto from_text = decode_text<TokenPage>(R"({"count": 3.0, "active_count": 1e0, "results": []})");
  ASSERT_TRUE(from_text.ok()) << from_text.error().message;
  EXPECT_EQ(from_text->count, 3);
  EXPECT_EQ(from_text->active_count, 1);
}

TEST(CodecErrors, ErrorBodies) {
  expect_error<HubError>(Json::object(), ErrorKind::kMissing,
                         "$: expected at least one of message, detail, text");
  expect_error<HubError>({{"errinfo", Json::object()}}, ErrorKind::kMissing,
                         "$: expected at least one of message, detail, text");
  expect_error<HubError>({{"message", 3}}, ErrorKind::kType,
                         "message: expected string, got number");
  expect_error<HubError>({{"message", "m"}, {"errinfo", "x"}}, ErrorKind::kType,
                         "errinfo: expected object or null, got string");
  expect_error<HubError>({{"detail", "d"}, {"errinfo", Json::array()}}, ErrorKind::kType,
                         "errinfo: expected object or null, got array");
  EXPECT_EQ(decode_ok<HubError>({{"text", "t"}}).text, "t");

  expect_error<SpecValueError>({{"fields", Json::array()}, {"text", "t"}}, ErrorKind::kType,
                               "fields: expected object, got array");
  expect_error<SpecValueError>({{"fields", Json::object()}}, ErrorKind::kMissing, "text: required");
  expect_error<SpecValueError>({{"text", "t"}}, ErrorKind::kMissing, "fields: required");
  expect_error<SpecError>({{"detail", "d"}}, ErrorKind::kMissing, "message: required");
  expect_error<SpecError>(load("observed_error_unauthorized.json"), ErrorKind::kMissing,
                          "detail: required");
  expect_error<LoginError>({{"message", "m"}}, ErrorKind::kMissing, "detail: required");
  expect_error<LoginError>({{"detail", "d"}, {"login_2fa_token", 5}}, ErrorKind::kType,
                           "login_2fa_token: expected string or null, got number");
}

TEST(CodecErrors, RequestsAndAuthBodies) {
  Json create = load("openapi_create_token_request.json");
  create.erase("scopes");
  expect_error<CreateTokenRequest>(create, ErrorKind::kMissing, "scopes: required");
  expect_error<CreateTokenRequest>(
      {{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", nullptr}}, ErrorKind::kType,
      "expires_at: expected string, got null");
  expect_error<PatchTokenRequest>({{"is_active", "false"}}, ErrorKind::kType,
                                  "is_active: expected boolean, got string");
  expect_error<AuthTokenRequest>({{"identifier", "u"}}, ErrorKind::kMissing, "secret: required");
  expect_error<AuthTokenResponse>(Json::object(), ErrorKind::kMissing, "access_token: required");
  expect_error<LoginRequest>({{"username", "u"}, {"password", 1}}, ErrorKind::kType,
                             "password: expected string, got number");
  expect_error<LoginSuccess>({{"token", "t"}, {"refresh_token", 1}}, ErrorKind::kType,
                             "refresh_token: expected string, got number");
  // The OpenAPI example writes the TOTP code unquoted; the schema says string.
  Json two_factor = load("openapi_two_factor_login_request.json");
  two_factor["code"] = 123456;
  expect_error<TwoFactorLoginRequest>(two_factor, ErrorKind::kType,
                                      "code: expected string, got number");
  expect_error<RegistryTokenResponse>({{"token", "t"}, {"expires_in", 1.5}}, ErrorKind::kType,
                                      "expires_in: expected integer, got 1.5");
}

TEST(CodecErrors, JwtPartsNameTheirMembers) {
  expect_error<JwtHeader>({{"typ", "JWT"}}, ErrorKind::kMissing, "alg: required");
  expect_error<JwtClaims>({{"aud", 5}}, ErrorKind::kType,
                          "aud: expected string or array, got number");
  expect_error<JwtClaims>({{"aud", {"a", 1}}}, ErrorKind::kType,
                          "aud[1]: expected string, got number");
  expect_error<JwtClaims>({{"exp", 1.5}}, ErrorKind::kType, "exp: expected integer, got 1.5");
  expect_error<JwtClaims>({{"iat", "1"}}, ErrorKind::kType, "iat: expected integer, got string");
  EXPECT_EQ(decode_ok<JwtClaims>({{"nbf", 10.0}}).nbf, 10);
  Json access = {{"access", {{{"type", "repository"}, {"name", "a/b"}, {"actions", {"pull", 2}}}}}};
  expect_error<JwtClaims>(access, ErrorKind::kType,
                          "access[0].actions[1]: expected string, got number");
  expect_error<JwtClaims>({{"access", {{{"type", "repository"}, {"actions", Json::array()}}}}},
                          ErrorKind::kMissing, "access[0].name: required");
}

// --- Extra members --------------------------------------------------------------------------

TEST(Extra, UnknownMembersAreKeptAndReencoded) {
  Json j = token_json();
  j["future_field"] = {{"nested", {1, 2, 3}}};
  j["flag"] = true;
  auto t = decode_ok<AccessToken>(j);
  EXPECT_EQ(t.extra, (Json{{"future_field", {{"nested", {1, 2, 3}}}}, {"flag", true}}));
  EXPECT_EQ(encode(t), j);
}

TEST(Extra, AKnownMemberWinsOverAnExtraOfTheSameName) {
  AccessToken t = decode_ok<AccessToken>(token_json());
  t.extra = {{"uuid", "not-this"}, {"other", 1}};
  Json j = encode(t);
  EXPECT_EQ(j["uuid"], t.uuid);
  EXPECT_EQ(j["other"], 1);
}

TEST(Encode, WritesNullsAndOmitsAbsentMembers) {
  AccessToken t;
  t.uuid = "u";
  t.created_at = "2021-07-20T12:00:00.000000Z";
  t.token_label = "l";
  t.last_used = Nullable<std::string>::null();
  Json j = encode(t);
  EXPECT_TRUE(j.contains("last_used"));
  EXPECT_TRUE(j["last_used"].is_null());
  EXPECT_FALSE(j.contains("expires_at"));
  EXPECT_FALSE(j.contains("token"));
  EXPECT_FALSE(j.contains("scopes"));
  EXPECT_EQ(j["is_active"], false);

  HubError e;
  e.message = "unauthorized";
  e.errinfo = Nullable<Json>::of(Json::object());
  EXPECT_EQ(encode_text(e), R"({"errinfo":{},"message":"unauthorized"})");
}

TEST(Encode, TextIsCompactAndReplacesInvalidUtf8) {
  PatchTokenRequest p;
  p.token_label = std::string("a\xff", 2);
  std::string text = encode_text(p);
  EXPECT_EQ(text, "{\"token_label\":\"a\xEF\xBF\xBD\"}");
}

// --- JSON text ------------------------------------------------------------------------------

TEST(ParseJson, TruncatedTextNamesTheOffset) {
  std::string text = read_data("openapi_token_page.json");
  std::string cut = text.substr(0, 40);
  auto r = decode_text<TokenPage>(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kParse);
  EXPECT_TRUE(r.error().message.starts_with("invalid JSON at offset 40 (line "))
      << r.error().message;

  auto empty = parse_json("");
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.error().message.starts_with("invalid JSON at offset 0"))
      << empty.error().message;
}

TEST(ParseJson, RejectsTrailingTextAndBadSyntax) {
  for (std::string_view bad : {"{} x", "{\"a\":1,}", "[1 2]", "{'a':1}", "nul", "\"\xff\""}) {
    SCOPED_TRACE(bad);
    auto r = parse_json(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kParse);
  }
  auto trailing = parse_json("{} x");
  EXPECT_TRUE(trailing.error().message.starts_with("invalid JSON at offset 3"))
      << trailing.error().message;
}

TEST(ParseJson, ANulByteIsNotTheEndOfTheText) {
  using namespace std::string_view_literals;
  for (std::string_view bad : {"{}\0junk"sv, "{\"a\":\"x\0y\"}"sv, "\0"sv, "[1]\0"sv}) {
    SCOPED_TRACE(std::string(bad.substr(0, 3)));
    auto r = parse_json(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kParse);
  }
  auto r = parse_json("{}\0{\"scopes\":[]}"sv);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "invalid JSON at offset 2: a NUL byte");
}

TEST(ParseJson, NeverCopiesBodyTextIntoTheError) {
  // Built at run time so no secret-shaped literal sits in the repository.
  std::string secret = "dckr_pat_" + std::string(27, 'Q');
  for (const std::string& text :
       {"{\"token\": \"" + secret, "{\"token\": " + secret + "}", "[" + secret + "]"}) {
    auto r = parse_json(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find("QQQQ"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("dckr_pat_"), std::string::npos) << r.error().message;
  }
}

TEST(ParseJson, NumberOverflowIsAnError) {
  auto r = parse_json("[1e400]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kParse);
}

TEST(ParseJson, RefusesDeepNestingAndHugeBodies) {
  std::string ok_depth = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json(ok_depth).ok());
  std::string deep(100000, '[');
  auto r = parse_json(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalid);
  EXPECT_EQ(r.error().message, "JSON nesting deeper than 256 at offset 256");
  // Brackets inside strings do not count.
  std::string in_string = "[\"" + std::string(1000, '[') + "\\\"\"]";
  EXPECT_TRUE(parse_json(in_string).ok());

  std::string huge(kMaxBodyBytes + 1, ' ');
  auto big = parse_json(huge);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, ErrorKind::kInvalid);
}

TEST(ParseJson, TypeNames) {
  EXPECT_STREQ(json_type_name(Json::object()), "object");
  EXPECT_STREQ(json_type_name(Json::array()), "array");
  EXPECT_STREQ(json_type_name("s"), "string");
  EXPECT_STREQ(json_type_name(1), "number");
  EXPECT_STREQ(json_type_name(1u), "number");
  EXPECT_STREQ(json_type_name(1.5), "number");
  EXPECT_STREQ(json_type_name(true), "boolean");
  EXPECT_STREQ(json_type_name(nullptr), "null");
}

}  // namespace
}  // namespace patrol::model
