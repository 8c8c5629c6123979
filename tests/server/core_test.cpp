// The reference server's core, in-process: every route of contract section 1 and the rules of
// sections 2-7, one exchange at a time.
#include "server/core.hpp"

#include <gtest/gtest.h>

#include <set>

#include "model/rfc3339.hpp"
#include "tests/server/core_client.hpp"

namespace patrol::server {
namespace {

using testing::body_json;
using testing::claims_of;
using testing::CoreClient;
using testing::Json;
using testing::kAlicePassword;
using testing::kBobPassword;
using testing::make_core;

std::string rfc3339_in(const ServerCore& core, std::int64_t seconds) {
  return model::format_rfc3339(model::Timestamp{core.now().micros + seconds * 1'000'000});
}

std::string repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

bool is_hub_error(const Json& j) {
  return j.is_object() && j.contains("message") && j["message"].is_string() &&
         j.contains("errinfo") && j["errinfo"].is_object();
}

// ---- creation (E1) ----------------------------------------------------------------------------

TEST(ServerCreate, ReturnsAnActiveTokenWithItsSecretAndServerFields) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.create(c.alice(), {{"token_label", "ci"}, {"scopes", {"repo:read"}}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  auto t = model::decode_text<model::AccessToken>(r.body);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->uuid.size(), 36u);
  EXPECT_EQ(t->uuid[14], '4');  // version 4
  EXPECT_TRUE(t->is_active);
  EXPECT_EQ(t->token_label, "ci");
  ASSERT_TRUE(t->token.has_value());
  EXPECT_EQ(t->token->rfind("dckr_pat_", 0), 0u);
  EXPECT_EQ(t->token->size(), 9u + 27u);
  EXPECT_EQ(t->client_id, "HUB");
  EXPECT_EQ(t->generated_by, "manual");
  EXPECT_EQ(t->creator_ip, "127.0.0.1");
  EXPECT_EQ(t->creator_ua, "patrol-test/1");
  EXPECT_TRUE(t->last_used.is_null());
  EXPECT_TRUE(t->expires_at.is_null());
  EXPECT_EQ(t->scopes, std::vector<std::string>{"repo:read"});
  auto created = model::parse_rfc3339(t->created_at);
  ASSERT_TRUE(created.ok());
  EXPECT_LE(created->micros, core->now().micros);
}

TEST(ServerCreate, NormalisesRedundantScopesToTheHighest) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.create(c.alice(), {{"token_label", "x"},
                                {"scopes", {"repo:read", "repo:admin", "repo:public_read"}}});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(body_json(r)["scopes"], Json({"repo:admin"}));
}

TEST(ServerCreate, SecretsAndUuidsAreUnique) {
  auto core = make_core();
  CoreClient c(*core);
  auto session = c.alice();
  std::set<std::string> secrets, uuids;
  for (int i = 0; i < 50; ++i) {
    auto t = c.create_token(session);
    secrets.insert(t["token"].get<std::string>());
    uuids.insert(t["uuid"].get<std::string>());
  }
  EXPECT_EQ(secrets.size(), 50u);
  EXPECT_EQ(uuids.size(), 50u);
}

TEST(ServerCreate, LabelIsOneToHundredCharactersNotBytes) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto create = [&](const std::string& label) {
    return c.create(s, {{"token_label", label}, {"scopes", {"repo:read"}}}).status;
  };
  EXPECT_EQ(create(""), 400);
  EXPECT_EQ(create(repeat("a", 100)), 201);
  EXPECT_EQ(create(repeat("a", 101)), 400);
  EXPECT_EQ(create(repeat("\xc3\xa9", 100)), 201);          // 100 characters, 200 bytes
  EXPECT_EQ(create(repeat("\xf0\x9f\x90\xb3", 100)), 201);  // 100 characters, 400 bytes
  EXPECT_EQ(create(repeat("\xc3\xa9", 101)), 400);
}

TEST(ServerCreate, RefusesMalformedBodiesWith400NamingTheField) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto send = [&](const std::string& body) { return c.send("POST", "/v2/access-tokens", body, s); };
  EXPECT_EQ(send("").status, 400);
  EXPECT_EQ(send("{").status, 400);
  EXPECT_EQ(send("[]").status, 400);
  auto missing_label = send(R"({"scopes":["repo:read"]})");
  EXPECT_EQ(missing_label.status, 400);
  EXPECT_NE(body_json(missing_label)["message"].get<std::string>().find("token_label"),
            std::string::npos);
  EXPECT_EQ(send(R"({"token_label":5,"scopes":["repo:read"]})").status, 400);
  EXPECT_EQ(send(R"({"token_label":"x"})").status, 400);
  EXPECT_EQ(send(R"({"token_label":"x","scopes":"repo:read"})").status, 400);
  EXPECT_EQ(send(R"({"token_label":"x","scopes":[1]})").status, 400);
  EXPECT_EQ(send(R"({"token_label":"x","scopes":["repo:read"],"expires_at":5})").status, 400);
  EXPECT_TRUE(is_hub_error(body_json(send("{"))));
  // Invalid UTF-8 inside the JSON text itself.
  EXPECT_EQ(send("{\"token_label\":\"\xff\",\"scopes\":[\"repo:read\"]}").status, 400);
}

TEST(ServerCreate, ScopesMustBeKnownAndNonEmpty) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto create = [&](const Json& scopes) {
    return c.create(s, {{"token_label", "x"}, {"scopes", scopes}}).status;
  };
  EXPECT_EQ(create(Json::array()), 400);
  EXPECT_EQ(create({"repo:superuser"}), 400);
  EXPECT_EQ(create({"repo:read", "REPO:READ"}), 400);
  for (const char* scope : {"repo:public_read", "repo:read", "repo:write", "repo:admin"}) {
    EXPECT_EQ(create({scope}), 201) << scope;
  }
}

TEST(ServerCreate, ExpiryMustBeInTheFutureAndIsEchoedToTheSecond) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto create = [&](const Json& expires) {
    return c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", expires}});
  };
  EXPECT_EQ(create(rfc3339_in(*core, -1)).status, 400);
  EXPECT_EQ(create(rfc3339_in(*core, 0)).status, 400);  // born expired
  EXPECT_EQ(create("not a time").status, 400);
  EXPECT_EQ(create(nullptr).status, 201);

  auto future = rfc3339_in(*core, 3600);
  auto r = create(future);
  ASSERT_EQ(r.status, 201);
  auto echoed = model::parse_rfc3339(body_json(r)["expires_at"].get<std::string>());
  ASSERT_TRUE(echoed.ok());
  EXPECT_TRUE(model::same_second(*echoed, *model::parse_rfc3339(future)));

  // An offset names the same instant; the echo is that instant.
  auto utc = model::Timestamp::from_seconds(core->now().seconds() + 7200);
  std::string with_offset = model::format_rfc3339(utc);  // "...Z"
  auto hours_ahead = model::Timestamp{utc.micros + 2 * 3'600'000'000LL};
  std::string text = model::format_rfc3339(hours_ahead);
  text = text.substr(0, text.size() - 1) + "+02:00";
  auto offset = create(text);
  ASSERT_EQ(offset.status, 201);
  EXPECT_EQ(body_json(offset)["expires_at"], with_offset);
}

TEST(ServerCreate, RefusesBeyondThePerAccountLimit) {
  ServerOptions options;
  options.max_tokens_per_account = 2;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  c.create_token(s);
  c.create_token(s);
  EXPECT_EQ(c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}}}).status, 400);
  EXPECT_EQ(c.create_token(c.bob())["is_active"], true);  // another account is unaffected
}

// ---- authentication of E-routes (contract 4) ---------------------------------------------------

TEST(ServerBearer, OnlyAValidSessionJwtMayManageTokens) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto session = c.alice();
  auto token = c.create_token(session);
  std::string secret = token["token"];

  EXPECT_EQ(c.list("").status, 401);
  EXPECT_EQ(c.list(secret).status, 401);  // raw PAT as bearer
  EXPECT_EQ(c.list("not.a.jwt").status, 401);
  auto pat_jwt = CoreClient::jwt_of(c.auth("alice", secret));
  auto forbidden = c.list(pat_jwt);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(body_json(forbidden)["message"],
            "token issued from personal access token is not allowed");
  EXPECT_EQ(c.create(pat_jwt, {{"token_label", "x"}, {"scopes", {"repo:read"}}}).status, 403);
  EXPECT_EQ(c.remove(pat_jwt, token["uuid"]).status, 403);

  // A tampered signature, a foreign core's JWT, a registry JWT.
  std::string tampered = session;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(c.list(tampered).status, 401);
  auto other = make_core();
  EXPECT_EQ(CoreClient(*other).list(session).status, 401);
  auto registry =
      body_json(c.registry("alice", kAlicePassword, {"repository:alice/public-app:pull"}));
  EXPECT_EQ(c.list(registry["token"]).status, 401);

  // Scheme keyword is case-insensitive; other schemes are not bearer tokens.
  model::HttpRequest req;
  req.method = "GET";
  req.path = "/v2/access-tokens";
  req.headers.add("Authorization", "bearer " + session);
  EXPECT_EQ(core->handle(req).status, 200);
  req.headers.set("Authorization", "Basic " + session);
  EXPECT_EQ(core->handle(req).status, 401);

  EXPECT_EQ(c.list(session).status, 200);
  core->advance(std::chrono::seconds(600));  // A1 sessions live 10 minutes
  EXPECT_EQ(c.list(session).status, 401);
}

TEST(ServerBearer, UnauthenticatedErrorsAreHubShapedAndNeverLeak) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.list("");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(is_hub_error(body_json(r))) << r.body;
}

// ---- A1, A2 and the second factor ---------------------------------------------------------------

TEST(ServerAuth, PasswordGivesATenMinuteSessionJwt) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.auth("alice", kAlicePassword);
  ASSERT_EQ(r.status, 200);
  auto claims = claims_of(CoreClient::jwt_of(r));
  EXPECT_EQ(claims.iss, "patrol-reference");
  EXPECT_EQ(claims.sub, "alice");
  EXPECT_EQ(claims.username, "alice");
  ASSERT_TRUE(claims.exp && claims.iat);
  EXPECT_EQ(*claims.exp - *claims.iat, 600);
  EXPECT_EQ(*claims.iat, core->now().seconds());
  EXPECT_TRUE(claims.jti.has_value());
  EXPECT_FALSE(claims.scope.has_value());
  EXPECT_FALSE(claims.extra.contains("patrol:pat_uuid"));
}

TEST(ServerAuth, WrongCredentialsAre401AndMalformedBodies400) {
  auto core = make_core();
  CoreClient c(*core);
  EXPECT_EQ(c.auth("alice", "wrong").status, 401);
  EXPECT_EQ(c.auth("mallory", kAlicePassword).status, 401);
  EXPECT_EQ(c.auth("alice", "").status, 401);
  EXPECT_EQ(c.send("POST", "/v2/auth/token", R"({"identifier":"alice"})").status, 400);
  EXPECT_EQ(c.send("POST", "/v2/auth/token", "nope").status, 400);
  EXPECT_EQ(c.send("GET", "/v2/auth/token").status, 405);
}

TEST(ServerAuth, PatGivesAScopedJwtAndSetsLastUsed) {
  auto core = make_core();
  CoreClient c(*core);
  auto session = c.alice();
  auto token = c.create_token(session, "ci", "repo:write");
  auto r = c.auth("alice", token["token"]);
  ASSERT_EQ(r.status, 200);
  auto claims = claims_of(CoreClient::jwt_of(r));
  EXPECT_EQ(claims.scope, "repo:write");
  EXPECT_EQ(claims.extra["patrol:pat_uuid"], token["uuid"]);
  auto after = body_json(c.get(session, token["uuid"]));
  ASSERT_TRUE(after["last_used"].is_string());
  EXPECT_GE(after["last_used"].get<std::string>(), after["created_at"].get<std::string>());
  // Another account's name with alice's PAT does not authenticate.
  EXPECT_EQ(c.auth("bob", token["token"]).status, 401);
}

TEST(ServerAuth, AccountWithSecondFactorCannotTradeItsPasswordAtA1) {
  auto core = make_core();
  CoreClient c(*core);
  EXPECT_EQ(c.auth("bob", kBobPassword).status, 401);  // contract A23, server's choice
  auto bob = c.bob();
  auto token = c.create_token(bob);
  EXPECT_EQ(c.auth("bob", token["token"]).status, 200);
}

TEST(ServerLogin, PasswordWithoutSecondFactorGivesAnHourLongToken) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.send("POST", "/v2/users/login",
                  Json{{"username", "alice"}, {"password", kAlicePassword}}.dump());
  ASSERT_EQ(r.status, 200);
  auto claims = claims_of(body_json(r)["token"]);
  EXPECT_EQ(*claims.exp - *claims.iat, 3600);
  EXPECT_EQ(c.list(body_json(r)["token"]).status, 200);
}

TEST(ServerLogin, SecondFactorIsASecondStepWithASingleUseHandle) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto login = [&](const std::string& password) {
    return c.send("POST", "/v2/users/login",
                  Json{{"username", "bob"}, {"password", password}}.dump());
  };
  auto wrong = login("nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(body_json(wrong)["detail"].is_string());
  EXPECT_FALSE(body_json(wrong).contains("login_2fa_token"));

  auto first = login(kBobPassword);
  ASSERT_EQ(first.status, 401);
  auto handle = body_json(first)["login_2fa_token"];
  ASSERT_TRUE(handle.is_string());
  auto second = [&](const Json& h, const std::string& code) {
    return c.send("POST", "/v2/users/2fa-login",
                  Json{{"login_2fa_token", h}, {"code", code}}.dump());
  };
  EXPECT_EQ(second(handle, "000000").status, 401);
  auto ok = second(handle, testing::kBobCode);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(claims_of(body_json(ok)["token"]).username, "bob");
  EXPECT_EQ(second(handle, testing::kBobCode).status, 401);  // used up

  auto later = body_json(login(kBobPassword))["login_2fa_token"];
  core->advance(std::chrono::seconds(301));
  EXPECT_EQ(second(later, testing::kBobCode).status, 401);  // expired
}

TEST(ServerLogin, PatLoginGivesAPatDerivedToken) {
  auto core = make_core();
  CoreClient c(*core);
  auto token = c.create_token(c.bob(), "ci", "repo:admin");
  auto r = c.send("POST", "/v2/users/login",
                  Json{{"username", "bob"}, {"password", token["token"]}}.dump());
  ASSERT_EQ(r.status, 200);  // no second step with a PAT
  EXPECT_EQ(claims_of(body_json(r)["token"]).scope, "repo:admin");
  EXPECT_EQ(c.list(body_json(r)["token"]).status, 403);
}

// ---- listing (E2) ----------------------------------------------------------------------------

TEST(ServerList, PagesPartitionTheTokensWithLinks) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  std::set<std::string> created;
  for (int i = 0; i < 25; ++i) created.insert(c.create_token(s, "t" + std::to_string(i))["uuid"]);
  c.create_token(c.bob());  // not alice's

  std::multiset<std::string> seen;
  for (int page = 1; page <= 3; ++page) {
    auto r = c.list(s, "page=" + std::to_string(page) + "&page_size=10");
    ASSERT_EQ(r.status, 200) << r.body;
    auto p = model::decode_text<model::TokenPage>(r.body);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->count, 25);
    EXPECT_EQ(p->active_count, 25);
    EXPECT_EQ(p->results.size(), page < 3 ? 10u : 5u);
    for (const auto& t : p->results) {
      seen.insert(t.uuid);
      EXPECT_EQ(t.token, "");
    }
    if (page < 3) {
      EXPECT_EQ(p->next.get(),
                "/v2/access-tokens?page=" + std::to_string(page + 1) + "&page_size=10");
    } else {
      EXPECT_TRUE(p->next.is_null());
    }
    if (page > 1) {
      EXPECT_EQ(p->previous.get(),
                "/v2/access-tokens?page=" + std::to_string(page - 1) + "&page_size=10");
    } else {
      EXPECT_TRUE(p->previous.is_null());
    }
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(c.list(s, "page=4&page_size=10").status, 404);
}

TEST(ServerList, DefaultsAreFirstPageOfTenNewestFirst) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  std::vector<std::string> uuids;
  for (int i = 0; i < 12; ++i) uuids.push_back(c.create_token(s)["uuid"]);
  auto j = body_json(c.list(s));
  ASSERT_EQ(j["results"].size(), 10u);
  EXPECT_EQ(j["results"][0]["uuid"], uuids.back());
  EXPECT_EQ(j["next"], "/v2/access-tokens?page=2&page_size=10");
}

TEST(ServerList, EmptyListingIsAnEmptyFirstPage) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.list(c.alice());
  ASSERT_EQ(r.status, 200);
  auto j = body_json(r);
  EXPECT_EQ(j["count"], 0);
  EXPECT_EQ(j["results"], Json::array());
  EXPECT_TRUE(j["next"].is_null());
  EXPECT_TRUE(j["previous"].is_null());
  EXPECT_EQ(c.list(c.alice(), "page=2").status, 404);
}

TEST(ServerList, ParametersMustBeIntegersInRange) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  c.create_token(s);
  auto status = [&](const std::string& q) { return c.list(s, q).status; };
  EXPECT_EQ(status("page=0"), 400);
  EXPECT_EQ(status("page=-1"), 400);
  EXPECT_EQ(status("page_size=0"), 400);
  EXPECT_EQ(status("page_size=101"), 400);
  EXPECT_EQ(status("page_size=100"), 200);
  EXPECT_EQ(status("page=2.5"), 400);
  EXPECT_EQ(status("page=abc"), 400);
  EXPECT_EQ(status("page="), 400);
  EXPECT_EQ(status("page=1.0&page_size=1e1"), 200);
  EXPECT_EQ(status("page=99999999999999999999999"), 404);  // an integer, past the end
  EXPECT_EQ(status("unrelated=1"), 200);
  auto bad = c.list(s, "page_size=101");
  EXPECT_NE(body_json(bad)["message"].get<std::string>().find("page_size"), std::string::npos);
}

TEST(ServerList, CountsIncludeInactiveAndExpiredButActiveCountDoesNot) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto a = c.create_token(s);
  auto b = c.create_token(s);
  c.create(
      s,
      {{"token_label", "soon"}, {"scopes", {"repo:read"}}, {"expires_at", rfc3339_in(*core, 60)}});
  ASSERT_EQ(c.patch(s, b["uuid"], {{"is_active", false}}).status, 200);
  core->advance(std::chrono::seconds(61));
  s = c.alice();
  auto j = body_json(c.list(s));
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["active_count"], 1);
  EXPECT_EQ(j["results"].size(), 3u);
}

// ---- read, update, delete (E3..E5) -----------------------------------------------------------

TEST(ServerGet, RedactsTheSecretAndHidesOtherAccounts) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s);
  auto r = c.get(s, t["uuid"]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_json(r)["token"], "");
  EXPECT_EQ(r.body.find(t["token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(c.get(c.bob(), t["uuid"]).status, 404);
  EXPECT_EQ(c.get(s, "00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(c.get(s, "not-a-uuid").status, 404);
  std::string upper = t["uuid"];
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(c.get(s, upper).status, 404);
  EXPECT_TRUE(is_hub_error(body_json(c.get(s, "not-a-uuid"))));
}

TEST(ServerPatch, ChangesOnlyLabelAndActiveState) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s, "before", "repo:write");
  auto r = c.patch(s, t["uuid"],
                   {{"token_label", "after"},
                    {"is_active", false},
                    {"scopes", {"repo:admin"}},
                    {"expires_at", "2000-01-01T00:00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body_json(r);
  EXPECT_EQ(j["token_label"], "after");
  EXPECT_EQ(j["is_active"], false);
  EXPECT_EQ(j["scopes"], Json({"repo:write"}));
  EXPECT_TRUE(j["expires_at"].is_null());
  EXPECT_EQ(j["token"], "");
  EXPECT_EQ(j["created_at"], t["created_at"]);

  auto noop = c.patch(s, t["uuid"], Json::object());
  ASSERT_EQ(noop.status, 200);
  EXPECT_EQ(body_json(noop), j);
}

TEST(ServerPatch, ValidatesItsBody) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s);
  EXPECT_EQ(c.patch(s, t["uuid"], {{"token_label", ""}}).status, 400);
  EXPECT_EQ(c.patch(s, t["uuid"], {{"token_label", repeat("a", 101)}}).status, 400);
  EXPECT_EQ(c.patch(s, t["uuid"], {{"token_label", nullptr}}).status, 400);
  EXPECT_EQ(c.patch(s, t["uuid"], {{"is_active", "false"}}).status, 400);
  EXPECT_EQ(c.send("PATCH", "/v2/access-tokens/" + t["uuid"].get<std::string>(), "[]", s).status,
            400);
  EXPECT_EQ(body_json(c.get(s, t["uuid"]))["is_active"], true);  // nothing applied
}

TEST(ServerPatch, UnknownOrForeignTokenIs404) {
  auto core = make_core();
  CoreClient c(*core);
  auto t = c.create_token(c.alice());
  EXPECT_EQ(c.patch(c.bob(), t["uuid"], {{"is_active", false}}).status, 404);
  EXPECT_EQ(
      c.patch(c.alice(), "00000000-0000-4000-8000-000000000000", {{"is_active", false}}).status,
      404);
  EXPECT_EQ(body_json(c.get(c.alice(), t["uuid"]))["is_active"], true);
}

TEST(ServerPatch, ExpiredTokenCanOnlyBeDeleted) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto r = c.create(
      s, {{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", rfc3339_in(*core, 10)}});
  std::string uuid = body_json(r)["uuid"];
  core->advance(std::chrono::seconds(10));  // now == expires_at: expired
  EXPECT_EQ(c.patch(s, uuid, {{"is_active", false}}).status, 400);
  EXPECT_EQ(c.patch(s, uuid, Json::object()).status, 400);
  EXPECT_EQ(c.get(s, uuid).status, 200);
  EXPECT_EQ(c.remove(s, uuid).status, 204);
}

TEST(ServerDelete, IsPermanentAndTouchesNoOtherToken) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto older = c.create_token(s);
  auto t = c.create_token(s);
  auto newer = c.create_token(s);
  EXPECT_EQ(c.remove(c.bob(), t["uuid"]).status, 404);
  auto r = c.remove(s, t["uuid"]);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(c.get(s, t["uuid"]).status, 404);
  EXPECT_EQ(c.patch(s, t["uuid"], {{"is_active", true}}).status, 404);
  EXPECT_EQ(c.remove(s, t["uuid"]).status, 404);
  EXPECT_EQ(c.auth("alice", t["token"]).status, 401);
  EXPECT_EQ(c.get(s, older["uuid"]).status, 200);
  EXPECT_EQ(c.get(s, newer["uuid"]).status, 200);
  EXPECT_EQ(c.auth("alice", older["token"]).status, 200);
  EXPECT_EQ(body_json(c.list(s))["count"], 2);
}

// ---- lifecycle of authentication (contract 3.8, 3.9)
// ---------------------------------------------

TEST(ServerLifecycle, InactiveAndExpiredTokensDoNotAuthenticateUntilReactivated) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s, "ci", "repo:read");
  auto other = c.create_token(s, "ci", "repo:read");
  std::string secret = t["token"];
  ASSERT_EQ(c.patch(s, t["uuid"], {{"is_active", false}}).status, 200);
  EXPECT_EQ(c.auth("alice", secret).status, 401);
  EXPECT_EQ(c.granted("alice", secret, "alice/private-app"), "401");
  EXPECT_EQ(c.auth("alice", other["token"]).status, 200);  // same label, unaffected
  ASSERT_EQ(c.patch(s, t["uuid"], {{"is_active", true}}).status, 200);
  EXPECT_EQ(c.auth("alice", secret).status, 200);

  auto r = c.create(
      s, {{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", rfc3339_in(*core, 30)}});
  std::string expiring = body_json(r)["token"];
  EXPECT_EQ(c.auth("alice", expiring).status, 200);
  core->advance(std::chrono::seconds(30));
  EXPECT_EQ(c.auth("alice", expiring).status, 401);
  EXPECT_EQ(c.granted("alice", expiring, "alice/public-app"), "401");
}

TEST(ServerLifecycle, LastUsedNeverMovesBackwards) {
  auto options = ServerOptions{};
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s);
  ASSERT_EQ(c.auth("alice", t["token"]).status, 200);
  auto first = body_json(c.get(s, t["uuid"]))["last_used"].get<std::string>();
  core->advance(std::chrono::seconds(5));
  ASSERT_EQ(c.granted("alice", t["token"], "alice/public-app", "pull"), "pull");
  auto second = body_json(c.get(s, t["uuid"]))["last_used"].get<std::string>();
  EXPECT_GT(second, first);
  EXPECT_EQ(*model::parse_rfc3339(second), core->now());
}

// ---- registry token service (contract 5)
// ---------------------------------------------------------

TEST(ServerRegistry, GrantsFollowTheTableOfSectionFive) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  struct Row {
    std::string credential;
    std::string secret;
    std::string own_public, own_private, other_public, other_private;
  };
  std::vector<Row> rows = {
      {"password", kAlicePassword, "pull,push,delete", "pull,push,delete", "pull", ""},
      {"repo:admin", c.create_token(s, "a", "repo:admin")["token"], "pull,push,delete",
       "pull,push,delete", "pull", ""},
      {"repo:write", c.create_token(s, "w", "repo:write")["token"], "pull,push", "pull,push",
       "pull", ""},
      {"repo:read", c.create_token(s, "r", "repo:read")["token"], "pull", "pull", "pull", ""},
      {"repo:public_read", c.create_token(s, "p", "repo:public_read")["token"], "pull", "", "pull",
       ""},
      {"anonymous", "", "pull", "", "pull", ""},
  };
  for (const auto& row : rows) {
    std::string user = row.credential == "anonymous" ? "" : "alice";
    EXPECT_EQ(c.granted(user, row.secret, "alice/public-app"), row.own_public) << row.credential;
    EXPECT_EQ(c.granted(user, row.secret, "alice/private-app"), row.own_private) << row.credential;
    EXPECT_EQ(c.granted(user, row.secret, "bob/public-lib"), row.other_public) << row.credential;
    EXPECT_EQ(c.granted(user, row.secret, "bob/private-lib"), row.other_private) << row.credential;
  }
  EXPECT_EQ(c.granted("alice", "wrong", "alice/public-app"), "401");
  EXPECT_EQ(c.granted("bob", kAlicePassword, "alice/public-app"), "401");
}

TEST(ServerRegistry, RequestedActionsAreIntersectedAndEveryRepositoryListed) {
  auto core = make_core();
  CoreClient c(*core);
  auto r = c.registry("alice", kAlicePassword,
                      {"repository:alice/private-app:pull", "repository:bob/private-lib:pull,push",
                       "repository:alice/private-app:delete", "repository:nobody/none:pull"});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = model::decode_text<model::RegistryTokenResponse>(r.body);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(body->access_token, body->token);
  EXPECT_EQ(body->expires_in, 300);
  EXPECT_TRUE(body->issued_at.has_value());
  auto claims = claims_of(body->token);
  ASSERT_TRUE(claims.access.has_value());
  ASSERT_EQ(claims.access->size(), 3u);
  EXPECT_EQ((*claims.access)[0].name, "alice/private-app");
  EXPECT_EQ((*claims.access)[0].actions, (std::vector<std::string>{"pull", "delete"}));
  EXPECT_EQ((*claims.access)[1].name, "bob/private-lib");
  EXPECT_TRUE((*claims.access)[1].actions.empty());  // a grant of nothing is still listed
  EXPECT_TRUE((*claims.access)[2].actions.empty());
  EXPECT_EQ(claims.aud, std::vector<std::string>{"registry.docker.io"});
  EXPECT_EQ(claims.sub, "alice");
}

TEST(ServerRegistry, SecondFactorAccountsUseAPat) {
  auto core = make_core();
  CoreClient c(*core);
  EXPECT_EQ(c.granted("bob", kBobPassword, "bob/private-lib"), "401");
  auto t = c.create_token(c.bob(), "ci", "repo:write");
  EXPECT_EQ(c.granted("bob", t["token"], "bob/private-lib"), "pull,push");
  EXPECT_EQ(c.granted("alice", t["token"], "bob/private-lib"), "401");
}

TEST(ServerRegistry, RefusesMalformedRequests) {
  auto core = make_core();
  CoreClient c(*core);
  model::HttpRequest req;
  req.method = "GET";
  req.path = "/token";
  req.query = "scope=repository:alice/public-app:pull";
  EXPECT_EQ(core->handle(req).status, 400);  // no service
  req.query = "service=registry.docker.io&scope=nonsense";
  EXPECT_EQ(core->handle(req).status, 400);
  req.query = "service=registry.docker.io";
  EXPECT_EQ(core->handle(req).status, 200);  // no scope: a token with an empty access list
  req.headers.add("Authorization", "Basic !!!");
  EXPECT_EQ(core->handle(req).status, 401);
  req.headers.set("Authorization", "Bearer abc");
  EXPECT_EQ(core->handle(req).status, 401);
}

// ---- rate limiting, clock, profiles, routing
// -----------------------------------------------------

TEST(ServerRateLimit, HeadersOnEveryResponseAnd429WithRetryAfterOverTheLimit) {
  ServerOptions options;
  options.rate_limit_per_minute = 3;
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  for (int i = 0; i < 5; ++i) {  // the clock route reports the budget without spending it
    auto clock = c.send("GET", "/_patrol/clock");
    EXPECT_EQ(clock.status, 200);
    EXPECT_EQ(clock.headers.get("X-RateLimit-Remaining"), "3");
  }
  auto s = c.alice();      // 1
  auto first = c.list(s);  // 2
  EXPECT_EQ(first.headers.get("X-RateLimit-Limit"), "3");
  EXPECT_EQ(first.headers.get("X-RateLimit-Remaining"), "1");
  ASSERT_TRUE(first.headers.has("X-RateLimit-Reset"));
  EXPECT_EQ(c.list(s).status, 200);  // 3
  auto over = c.list(s);
  EXPECT_EQ(over.status, 429);
  EXPECT_TRUE(is_hub_error(body_json(over)));
  auto retry = over.headers.get("Retry-After");
  ASSERT_TRUE(retry.has_value());
  long wait = std::stol(*retry);
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 60);
  EXPECT_EQ(std::stoll(*over.headers.get("X-RateLimit-Reset")), core->now().seconds() + wait);
  EXPECT_EQ(c.auth("bob", "x").status, 401);  // another account has its own budget
  core->advance(std::chrono::seconds(wait));
  EXPECT_EQ(c.list(s).status, 200);
}

TEST(ServerRateLimit, UnenforcedLimitStillAdvertisesHeaders) {
  auto core = make_core();
  CoreClient c(*core);
  for (int i = 0; i < 5; ++i) {
    auto r = c.send("GET", "/nowhere");
    EXPECT_EQ(r.headers.get("X-RateLimit-Limit"), std::to_string(kNominalRateLimit));
    EXPECT_EQ(r.headers.get("X-RateLimit-Remaining"), std::to_string(kNominalRateLimit));
  }
}

TEST(ServerClock, ControlRouteExistsOnlyUnderTheManualClock) {
  auto system = make_core();
  EXPECT_EQ(CoreClient(*system).send("GET", "/_patrol/clock").status, 404);

  ServerOptions options;
  options.manual_clock = true;
  auto core = make_core(options);
  CoreClient c(*core);
  auto before = core->now();
  auto r = c.send("GET", "/_patrol/clock");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_json(r)["now"], model::format_rfc3339(before));
  EXPECT_EQ(core->now(), before);  // frozen
  auto moved = c.send("POST", "/_patrol/clock", R"({"advance_seconds": 90})");
  ASSERT_EQ(moved.status, 200);
  EXPECT_EQ(body_json(moved)["now"], model::format_rfc3339({before.micros + 90'000'000}));
  EXPECT_EQ(c.send("POST", "/_patrol/clock", R"({"advance_seconds": -1})").status, 400);
  EXPECT_EQ(c.send("POST", "/_patrol/clock", R"({"advance_seconds": 1.5})").status, 400);
  EXPECT_EQ(c.send("POST", "/_patrol/clock", R"({})").status, 400);
  EXPECT_EQ(core->now().micros, before.micros + 90'000'000);
}

TEST(ServerProfile, SpecProfileUsesTheDeclaredErrorSchemasAndRedaction) {
  ServerOptions options;
  options.profile = "spec";
  auto core = make_core(options);
  CoreClient c(*core);
  auto s = c.alice();
  auto bad = body_json(c.create(s, {{"token_label", ""}, {"scopes", Json::array()}}));
  ASSERT_TRUE(bad.contains("fields")) << bad;
  EXPECT_TRUE(bad["fields"].contains("token_label"));
  EXPECT_TRUE(bad["fields"].contains("scopes"));
  EXPECT_TRUE(bad["text"].is_string());
  auto unauthorised = body_json(c.list(""));
  EXPECT_TRUE(unauthorised["detail"].is_string());
  EXPECT_TRUE(unauthorised["message"].is_string());
  auto missing = body_json(c.get(s, "00000000-0000-4000-8000-000000000000"));
  EXPECT_TRUE(missing["detail"].is_string());
  auto t = c.create_token(s);
  EXPECT_EQ(body_json(c.get(s, t["uuid"]))["token"], "***");
  auto login = body_json(
      c.send("POST", "/v2/users/login", Json{{"username", "alice"}, {"password", "no"}}.dump()));
  EXPECT_TRUE(login.contains("login_2fa_token"));
  EXPECT_TRUE(login["login_2fa_token"].is_null());
}

TEST(ServerOptionsCheck, RejectsUnknownProfileFaultAndNegativeRateLimit) {
  ServerOptions bad_profile;
  bad_profile.profile = "strict";
  auto r1 = ServerCore::create(bad_profile);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("strict"), std::string::npos);
  ServerOptions bad_fault;
  bad_fault.faults = {"leak-secret-on-gett"};
  auto r2 = ServerCore::create(bad_fault);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("leak-secret-on-get'"), std::string::npos);
  ServerOptions bad_rate;
  bad_rate.rate_limit_per_minute = -1;
  EXPECT_FALSE(ServerCore::create(bad_rate).ok());
  ServerOptions no_accounts;
  no_accounts.fixture = {};
  EXPECT_FALSE(ServerCore::create(no_accounts).ok());
}

TEST(ServerRouting, UnknownRoutesWrongMethodsTrailingSlashAndHead) {
  auto core = make_core();
  CoreClient c(*core);
  auto s = c.alice();
  auto t = c.create_token(s);
  auto none = c.send("GET", "/v2/nothing", "", s);
  EXPECT_EQ(none.status, 404);
  EXPECT_TRUE(is_hub_error(body_json(none)));
  auto wrong = c.send("PUT", "/v2/access-tokens", "{}", s);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers.get("Allow"), "GET, POST");
  EXPECT_EQ(c.send("POS", "/v2/access-tokens", "{}", s).status, 405);
  EXPECT_EQ(c.send("GET", "/v2/access-tokens/", "", s).status, 200);  // A9
  EXPECT_EQ(c.send("GET", "/v2/access-tokens/" + t["uuid"].get<std::string>() + "/", "", s).status,
            200);
  EXPECT_EQ(c.send("GET", "/v2/access-tokens/a/b", "", s).status, 404);
  auto head = c.send("HEAD", "/v2/access-tokens", "", s);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  auto huge = c.send("POST", "/v2/access-tokens", std::string(kMaxRequestBodyBytes + 1, ' '), s);
  EXPECT_EQ(huge.status, 413);
}

}  // namespace
}  // namespace patrol::server
