// Replay in process: ordered answers to identical requests, match specs, diagnostics naming the
// nearest recorded request, placeholder substitution, response diffs, and both transports.
#include <gtest/gtest.h>

#include "model/jwt.hpp"
#include "recorder/diff.hpp"
#include "recorder/matcher.hpp"
#include "recorder/replayer.hpp"
#include "recorder/substitution.hpp"
#include "recorder/transports.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using testing::json_headers;
using testing::make_interaction;
using testing::make_jwt;
using testing::make_pat;

model::HttpRequest request(std::string method, std::string path, std::string query = "",
                           std::string body = "") {
  model::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.body = std::move(body);
  return r;
}

// Create, read, rename, read again: the two reads are identical requests.
std::vector<Interaction> read_modify_reread() {
  return {
      make_interaction("GET", "/v2/access-tokens/u1", "", {}, "", 200, json_headers(),
                       R"({"token_label":"old"})"),
      make_interaction("PATCH", "/v2/access-tokens/u1", "", json_headers(),
                       R"({"token_label":"new"})", 200, json_headers(), R"({"token_label":"new"})"),
      make_interaction("GET", "/v2/access-tokens/u1", "", {}, "", 200, json_headers(),
                       R"({"token_label":"new"})"),
  };
}

TEST(ReplayIndex, IdenticalRequestsGetResponsesInRecordedOrder) {
  ReplayIndex index(read_modify_reread(), MatchSpec{});
  auto first = index.take(request("GET", "/v2/access-tokens/u1"));
  auto patch = index.take(request("PATCH", "/v2/access-tokens/u1", "", R"({"token_label":"new"})"));
  auto second = index.take(request("GET", "/v2/access-tokens/u1"));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Hit>(first));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Hit>(patch));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Hit>(second));
  EXPECT_EQ(std::get<ReplayIndex::Hit>(first).entry, 0u);
  EXPECT_EQ(std::get<ReplayIndex::Hit>(patch).entry, 1u);
  EXPECT_EQ(std::get<ReplayIndex::Hit>(second).entry, 2u);
  EXPECT_TRUE(index.unused().empty());
  auto third = index.take(request("GET", "/v2/access-tokens/u1"));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Miss>(third));
  const auto& miss = std::get<ReplayIndex::Miss>(third);
  EXPECT_NE(miss.message.find("all 2 recorded responses to 'GET /v2/access-tokens/u1' were "
                              "already served (entries 0, 2)"),
            std::string::npos)
      << miss.message;
  EXPECT_EQ(index.misses(), 1u);
}

TEST(ReplayIndex, MissNamesTheNearestRequestAndWhatDiffers) {
  ReplayIndex index(read_modify_reread(), MatchSpec{});
  auto m = index.take(request("PATCH", "/v2/access-tokens/u1", "", R"({"token_label":"other"})"));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Miss>(m));
  const auto& miss = std::get<ReplayIndex::Miss>(m);
  EXPECT_EQ(miss.nearest, std::optional<std::size_t>(1));
  EXPECT_NE(miss.message.find("no recorded interaction matches 'PATCH /v2/access-tokens/u1' "
                              "(matching on method,path,query,body); nearest: entry 1 'PATCH "
                              "/v2/access-tokens/u1', which differs in body"),
            std::string::npos)
      << miss.message;
  EXPECT_EQ(index.unused(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(ReplayIndex, SecretsNeverDecideAMatch) {
  // The recording holds placeholders; a client sends the real password.
  std::vector<Interaction> entries = {make_interaction(
      "POST", "/v2/auth/token", "", json_headers(),
      R"({"identifier":"alice","secret":"<<patrol:password:alice>>"})", 200, json_headers(), "{}")};
  ReplayIndex index(entries, MatchSpec{});
  auto hit = index.take(request("POST", "/v2/auth/token", "",
                                R"({"secret": "real-password", "identifier":"alice"})"));
  EXPECT_TRUE(std::holds_alternative<ReplayIndex::Hit>(hit));
}

TEST(ReplayIndex, MatchSpecChoosesTheComponents) {
  auto spec = MatchSpec::parse("method,path");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->describe(), "method,path");
  std::vector<Interaction> entries = {
      make_interaction("GET", "/v2/access-tokens", "page=1", {}, "", 200, {}, "1"),
      make_interaction("GET", "/v2/access-tokens", "page=2", {}, "", 200, {}, "2")};
  ReplayIndex loose(entries, *spec);
  auto a = loose.take(request("GET", "/v2/access-tokens", "page=9"));
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Hit>(a));
  EXPECT_EQ(std::get<ReplayIndex::Hit>(a).entry, 0u);

  auto with_header = MatchSpec::parse("method,path,header:X-Run");
  ASSERT_TRUE(with_header.ok());
  entries[0].request.headers.add("X-Run", "a");
  entries[1].request.headers.add("X-Run", "b");
  ReplayIndex by_header(entries, *with_header);
  auto r = request("GET", "/v2/access-tokens");
  r.headers.add("x-run", "b");
  auto b = by_header.take(r);
  ASSERT_TRUE(std::holds_alternative<ReplayIndex::Hit>(b));
  EXPECT_EQ(std::get<ReplayIndex::Hit>(b).entry, 1u);

  auto bad = MatchSpec::parse("method,colour");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown component 'colour'"), std::string::npos);
  EXPECT_FALSE(MatchSpec::parse(",").ok());
}

TEST(SafeTarget, MasksSecretQueryValues) {
  auto r = request("GET", "/cb", "access_token=abc&page=2&x=" + make_pat(1));
  EXPECT_EQ(safe_target(r), "GET /cb?access_token=***&page=2&x=<secret>");
}

TEST(Substituter, SyntheticValuesAreStableAndWellFormed) {
  model::Fixture fixture = model::default_fixture();
  Substituter s(fixture);
  EXPECT_EQ(s.apply("a<<patrol:secret:3>>b<<patrol:secret:3>>"),
            "apatrol.replay.secret.3bpatrol.replay.secret.3");
  const auto* alice = fixture.find_account("alice");
  EXPECT_EQ(s.apply("<<patrol:password:alice>>"), alice->password);
  EXPECT_EQ(s.apply("<<patrol:password:nobody>>"), "patrol.replay.password.nobody");
  std::string jwt = make_jwt({{"sub", "alice"}}, 1);
  std::string redacted = jwt.substr(0, jwt.rfind('.') + 1) + "<<patrol:jwt:4>>";
  auto decoded = model::decode_jwt(s.apply(redacted));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->claims.sub, std::optional<std::string>("alice"));
  EXPECT_NE(s.apply(redacted), s.apply(jwt.substr(0, jwt.rfind('.') + 1) + "<<patrol:jwt:5>>"));
}

TEST(Substituter, BasicCredentialsAndJsonEscaping) {
  model::Fixture f = model::default_fixture();
  f.accounts[0].password = "quote\"back\\slash";
  Substituter s(f);
  auto r = request("POST", "/v2/users/login", "",
                   "{\"password\":\"<<patrol:password:" + f.accounts[0].username + ">>\"}");
  r.headers.add("Authorization",
                "Basic " + model::base64_encode(f.accounts[0].username + ":<<patrol:password:" +
                                                f.accounts[0].username + ">>"));
  auto out = s.apply(r);
  EXPECT_EQ(out.body, "{\"password\":\"quote\\\"back\\\\slash\"}");
  EXPECT_EQ(*out.headers.get("Authorization"),
            "Basic " + model::base64_encode(f.accounts[0].username + ":quote\"back\\slash"));
  EXPECT_EQ(s.unapply("bad password quote\"back\\slash"),
            "bad password <<patrol:password:" + f.accounts[0].username + ">>");
}

TEST(Substituter, LearnsLiveValuesFromResponses) {
  std::string old_jwt = make_jwt({{"sub", "alice"}}, 1);
  std::string redacted_jwt = old_jwt.substr(0, old_jwt.rfind('.') + 1) + "<<patrol:jwt:1>>";
  std::string live_jwt = make_jwt({{"sub", "alice"}, {"iat", 5}}, 2);
  std::string live_pat = make_pat(3);
  const std::string old_uuid = "11111111-2222-3333-4444-555555555555";
  const std::string new_uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  model::HttpResponse recorded;
  recorded.body = R"({"uuid":")" + old_uuid + R"(","token":"dckr_pat_<<patrol:secret:2>>",)" +
                  R"("access_token":")" + redacted_jwt + R"(","results":[{"uuid":"x"}]})";
  model::HttpResponse live;
  live.body = R"({"uuid":")" + new_uuid + R"(","token":")" + live_pat + R"(","access_token":")" +
              live_jwt + R"(","results":[{"uuid":"y"}]})";
  Substituter s;
  s.learn(recorded, live);
  auto r = request("GET", "/v2/access-tokens/" + old_uuid);
  r.headers.add("Authorization", "Bearer " + redacted_jwt);
  r.headers.add("X-Basic", "alice:dckr_pat_<<patrol:secret:2>>");
  auto out = s.apply(r);
  EXPECT_EQ(out.path, "/v2/access-tokens/" + new_uuid);
  EXPECT_EQ(*out.headers.get("Authorization"), "Bearer " + live_jwt);
  EXPECT_EQ(*out.headers.get("X-Basic"), "alice:" + live_pat);
  EXPECT_EQ(s.unapply("leaked " + live_pat), "leaked dckr_pat_<<patrol:secret:2>>");
}

TEST(Substituter, ShiftsRequestTimestampsByTheTargetsClock) {
  model::HttpResponse recorded;
  recorded.body = R"({"now":"2026-01-01T00:00:00.000000Z"})";
  model::HttpResponse live;
  live.body = R"({"now":"2026-01-03T12:00:00.000000Z"})";
  Substituter s;
  s.learn(recorded, live);
  auto out = s.apply(
      request("POST", "/v2/access-tokens", "",
              R"({"token_label":"2026-01-01T00:00:00Z","expires_at": "2026-01-01T00:02:00Z"})"));
  EXPECT_EQ(
      out.body,
      R"({"token_label":"2026-01-03T12:00:00.000000Z","expires_at": "2026-01-03T12:02:00.000000Z"})");
}

TEST(Diff, NormalisesWhatChangesBetweenRuns) {
  std::string jwt_a = make_jwt({{"sub", "alice"}, {"iat", 1}, {"exp", 601}, {"jti", "a"}}, 1);
  std::string jwt_b = make_jwt({{"sub", "alice"}, {"iat", 9}, {"exp", 609}, {"jti", "b"}}, 2);
  model::HttpResponse a;
  a.status = 201;
  a.headers.add("Content-Type", "application/json");
  a.body = R"({"uuid":"11111111-2222-3333-4444-555555555555","created_at":"2024-01-01T00:00:00Z",)"
           R"("creator_ip":"10.0.0.1","token":"dckr_pat_<<patrol:secret:1>>","jwt":")" +
           jwt_a + R"(","next":"http://127.0.0.1:1/v2/access-tokens?page=2","results":[1,2]})";
  model::HttpResponse b = a;
  b.headers.set("content-type", "application/json; charset=utf-8");
  b.body =
      R"({"uuid":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","created_at":"2025-05-05T01:02:03.5Z",)"
      R"("creator_ip":"127.0.0.1","token":")" +
      make_pat(4) + R"(","jwt":")" + jwt_b +
      R"(","next":"https://other:9/v2/access-tokens?page=2","results":[2,1]})";
  EXPECT_TRUE(diff_responses(a, b).empty());
}

TEST(Diff, ReportsRealChangesWithoutSecrets) {
  model::HttpResponse a;
  a.status = 200;
  a.body = R"({"token_label":"a","scopes":["repo:read"],"jwt":")" +
           make_jwt({{"access", {{{"actions", {"pull"}}}}}}, 1) + "\"}";
  model::HttpResponse b = a;
  b.status = 201;
  b.body = R"({"token_label":"b","scopes":["repo:read","x"],"leak":")" + make_pat(5) +
           R"(","jwt":")" + make_jwt({{"access", {{{"actions", {"pull", "push"}}}}}}, 2) + "\"}";
  auto d = diff_responses(a, b);
  std::vector<std::string> where;
  for (const auto& x : d) where.push_back(x.where);
  EXPECT_EQ(where, (std::vector<std::string>{"status", "body.jwt.jwt_claims.access[0].actions",
                                             "body.leak", "body.scopes", "body.token_label"}));
  for (const auto& x : d) EXPECT_EQ(x.live.find(make_pat(5)), std::string::npos);
}

TEST(Transports, RecordingTransportRecordsRedactedExchanges) {
  testing::ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("t.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  std::string pat = make_pat(8);
  http::FunctionTransport inner([&](const model::HttpRequest& r) {
    model::HttpResponse res;
    res.status = r.method == "POST" ? 201 : 200;
    res.body = "{\"token\":\"" + pat + "\"}";
    return res;
  });
  RecordingTransport recording(inner, **writer, "http://example.test");
  auto res =
      recording.send_annotated(request("POST", "/v2/access-tokens"), {{"command", "Create"}});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "{\"token\":\"" + pat + "\"}");  // the caller sees the real response
  ASSERT_TRUE(recording.send(request("GET", "/v2/access-tokens")).ok());
  ASSERT_TRUE((*writer)->finish().ok());
  auto c = read_cassette(dir.file("t.har"));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->entries.size(), 2u);
  EXPECT_EQ(c->entries[0].origin, "http://example.test");
  EXPECT_EQ(c->entries[0].annotations["command"], "Create");
  EXPECT_EQ(c->entries[0].response.body, "{\"token\":\"dckr_pat_<<patrol:secret:1>>\"}");
}

TEST(Transports, ReplayTransportServesInOrderAndRefusesStrangers) {
  Cassette c;
  c.entries = read_modify_reread();
  ReplayTransport t(c);
  EXPECT_EQ(t.send(request("GET", "/v2/access-tokens/u1"))->body, R"({"token_label":"old"})");
  EXPECT_EQ(t.unused(), (std::vector<std::size_t>{1, 2}));
  auto miss = t.send(request("DELETE", "/v2/access-tokens/u1"));
  ASSERT_FALSE(miss.ok());
  EXPECT_NE(miss.error().message.find("nearest: entry"), std::string::npos);
}

TEST(Replayer, ReissuesWithLearnedValuesAndReportsDifferences) {
  // Recorded: create (uuid U, secret S), then get U. The live target hands out other values.
  const std::string recorded_uuid = "11111111-2222-3333-4444-555555555555";
  Cassette c;
  c.entries.push_back(
      make_interaction("POST", "/v2/access-tokens", "", json_headers(), R"({"token_label":"a"})",
                       201, json_headers(),
                       R"({"uuid":")" + recorded_uuid +
                           R"(","token":"dckr_pat_<<patrol:secret:1>>","token_label":"a"})"));
  c.entries.push_back(make_interaction("GET", "/v2/access-tokens/" + recorded_uuid, "", {}, "", 200,
                                       json_headers(), R"({"token_label":"a","token":""})"));
  const std::string live_uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  std::vector<std::string> seen;
  http::FunctionTransport target([&](const model::HttpRequest& r) {
    seen.push_back(r.target_line());
    model::HttpResponse res;
    res.headers.add("Content-Type", "application/json");
    if (r.method == "POST") {
      res.status = 201;
      res.body =
          R"({"uuid":")" + live_uuid + R"(","token":")" + make_pat(2) + R"(","token_label":"a"})";
    } else {
      res.status = r.path == "/v2/access-tokens/" + live_uuid ? 200 : 404;
      res.body = R"({"token_label":"b","token":""})";
    }
    return res;
  });
  auto report = replay_session(c, target, model::default_fixture());
  EXPECT_EQ(report.sent, 2u);
  EXPECT_FALSE(report.transport_error.has_value());
  EXPECT_EQ(seen[1], "GET /v2/access-tokens/" + live_uuid);
  ASSERT_EQ(report.differing.size(), 1u);
  EXPECT_EQ(report.differing[0].entry, 1u);
  ASSERT_EQ(report.differing[0].differences.size(), 1u);
  EXPECT_EQ(report.differing[0].differences[0].where, "body.token_label");
}

}  // namespace
}  // namespace patrol::recorder
