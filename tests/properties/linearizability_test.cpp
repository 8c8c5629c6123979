// The linearizability checker on hand-written histories: verdicts, real-time order, the split
// into parts, bounds giving "unknown", the counterexample and its renderings, redaction and the
// history file format.
#include "properties/linearizability.hpp"

#include <gtest/gtest.h>

#include "history_builder.hpp"
#include "model/jwt.hpp"

namespace patrol::properties {
namespace {

using model::Json;
using testing::HistoryBuilder;

const model::Profile kHub = model::Profile::hub();

// Two clients PATCH the same token at once: one renames it, the other deactivates it.
struct TwoPatches {
  HistoryBuilder b;
  std::string jwt;
  std::string uuid;
  std::string secret;
  std::size_t rename = 0;
  std::size_t deactivate = 0;

  TwoPatches() {
    jwt = b.login_alice(0, 0, 10);
    std::tie(uuid, secret) = b.create(0, 20, 30, jwt);
    rename = b.patch(1, 40, 60, jwt, uuid, {{"token_label", "a"}});
    deactivate = b.patch(2, 45, 65, jwt, uuid, {{"is_active", false}});
  }
  // The deactivation wrote back a stale copy: the rename is lost (fault lost-update-patch).
  void lose_update() { b.edit(deactivate, {{"token_label", "orig"}}); }
};

TEST(Linearizability, ConcurrentPatchesThatComposeAreLinearizable) {
  TwoPatches t;
  auto r = check_linearizable(t.b.history, kHub);
  EXPECT_EQ(r.verdict, Linearizable::kYes) << r.reason;
  EXPECT_FALSE(r.counterexample.has_value());
  EXPECT_GT(r.judgements, 0u);
}

TEST(Linearizability, LostUpdateIsNotLinearizable) {
  TwoPatches t;
  t.lose_update();
  auto r = check_linearizable(t.b.history, kHub);
  ASSERT_EQ(r.verdict, Linearizable::kNo);
  ASSERT_TRUE(r.counterexample.has_value());
  const auto& ce = *r.counterexample;
  // Both PATCHes are in the unexplainable part; one of them is where every explanation fails.
  EXPECT_NE(std::find(ce.operations.begin(), ce.operations.end(), t.rename), ce.operations.end());
  EXPECT_NE(std::find(ce.operations.begin(), ce.operations.end(), t.deactivate),
            ce.operations.end());
  EXPECT_TRUE(ce.stuck == t.rename || ce.stuck == t.deactivate);
  EXPECT_FALSE(ce.why.empty());
  EXPECT_NE(ce.part.find("account alice"), std::string::npos) << ce.part;
}

TEST(Linearizability, TheSamePatchesOneAfterTheOtherAreNotLinearizable) {
  // Without overlap the rename is first, so the deactivation must show the new label.
  TwoPatches t;
  t.b.at(t.deactivate).invoke_ns = 61;
  t.lose_update();
  EXPECT_EQ(check_linearizable(t.b.history, kHub).verdict, Linearizable::kNo);
}

TEST(Linearizability, RealTimeOrderDecides) {
  HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, jwt);
  // Executed first, so it shows the old label; the rename is executed after it.
  auto read = b.get(2, 50, 80, jwt, uuid);
  b.patch(1, 40, 60, jwt, uuid, {{"token_label", "a"}});
  EXPECT_EQ(check_linearizable(b.history, kHub).verdict, Linearizable::kYes);
  // The same read started after the rename answered: it must have seen "a".
  b.at(read).invoke_ns = 70;
  auto r = check_linearizable(b.history, kHub);
  ASSERT_EQ(r.verdict, Linearizable::kNo);
  EXPECT_EQ(r.counterexample->stuck, read);
}

TEST(Linearizability, ReadAfterDeleteMayOverlapButNotFollow) {
  HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, jwt);
  auto read = b.get(2, 35, 38, jwt, uuid);  // 200, executed before the delete
  b.remove(1, 36, 50, jwt, uuid);
  EXPECT_EQ(check_linearizable(b.history, kHub).verdict, Linearizable::kYes);
  b.at(read).invoke_ns = 51;  // a 200 after the DELETE answered 204
  b.at(read).response_ns = 60;
  EXPECT_EQ(check_linearizable(b.history, kHub).verdict, Linearizable::kNo);
}

TEST(Linearizability, CountDriftIsNotLinearizable) {
  HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  b.create(1, 20, 40, jwt, "one");
  b.create(2, 21, 41, jwt, "two");
  auto listing = b.list(1, 50, 60, jwt);
  EXPECT_EQ(check_linearizable(b.history, kHub).verdict, Linearizable::kYes);
  b.edit(listing, {{"count", 1}});  // both creates answered before the listing started
  auto r = check_linearizable(b.history, kHub);
  ASSERT_EQ(r.verdict, Linearizable::kNo);
  EXPECT_EQ(r.counterexample->stuck, listing);
  // A listing reads every token of the account: the account is not split per token.
  EXPECT_EQ(r.counterexample->part, "account alice");
}

TEST(Linearizability, TinyBoundsGiveUnknownNeverAVerdict) {
  TwoPatches t;
  t.lose_update();
  CheckLimits no_time;
  no_time.time_limit_s = 0;
  auto r = check_linearizable(t.b.history, kHub, no_time);
  EXPECT_EQ(r.verdict, Linearizable::kUnknown);
  EXPECT_NE(r.reason.find("time limit"), std::string::npos) << r.reason;
  EXPECT_FALSE(r.counterexample.has_value());

  CheckLimits no_memory;
  no_memory.memory_limit_bytes = 1;
  r = check_linearizable(t.b.history, kHub, no_memory);
  EXPECT_EQ(r.verdict, Linearizable::kUnknown);
  EXPECT_NE(r.reason.find("memory limit"), std::string::npos) << r.reason;
}

TEST(Linearizability, SplitsPerAccountAndPerTokenUnlessAListingReadsThemAll) {
  HistoryBuilder b;
  auto alice = b.login_alice(0, 0, 10);
  auto bob = b.login_bob(1, 0, 10);
  auto [t1, s1] = b.create(0, 20, 30, alice, "one");
  auto [t2, s2] = b.create(0, 40, 50, alice, "two");
  auto [t3, s3] = b.create(1, 20, 30, bob, "three");
  b.get(2, 60, 70, alice, t1);
  b.patch(3, 60, 70, bob, t3, {{"is_active", false}});

  auto parts = split_history(b.history);
  std::map<std::string, std::size_t> sizes;
  for (const auto& p : parts) sizes[p.name] = p.operations.size();
  // Each token part carries the login its operations need (bob's is two steps).
  EXPECT_EQ(sizes["account alice, token " + t1.substr(0, 8) + "..."], 3u);
  EXPECT_EQ(sizes["account alice, token " + t2.substr(0, 8) + "..."], 2u);
  EXPECT_EQ(sizes["account bob, token " + t3.substr(0, 8) + "..."], 4u);
  EXPECT_EQ(sizes["account alice, logins and operations on no token"], 1u);
  // Smallest first.
  for (std::size_t i = 1; i < parts.size(); ++i) {
    EXPECT_LE(parts[i - 1].operations.size(), parts[i].operations.size());
  }

  b.list(2, 80, 90, alice);
  parts = split_history(b.history);
  sizes.clear();
  for (const auto& p : parts) sizes[p.name] = p.operations.size();
  EXPECT_EQ(sizes["account alice"], 5u);
  EXPECT_EQ(sizes.count("account bob, token " + t3.substr(0, 8) + "..."), 1u);
}

TEST(Linearizability, PatJwtOperationsFollowTheirPat) {
  HistoryBuilder b;
  auto alice = b.login_alice(0, 0, 10);
  auto [t1, secret] = b.create(0, 20, 30, alice, "one");
  auto [t2, s2] = b.create(0, 40, 50, alice, "two");
  auto pat_login = b.op(1, 60, 70,
                        json_request("POST", "/v2/auth/token", "",
                                     Json{{"identifier", "alice"}, {"secret", secret}}.dump()));
  auto pat_jwt = b.body(pat_login).value("access_token", std::string());
  // A PAT-derived JWT on another token's route gets 403: judged with the PAT that issued it.
  auto forbidden = b.get(1, 80, 90, pat_jwt, t2);
  ASSERT_EQ(b.at(forbidden).response.status, 403);
  EXPECT_EQ(check_linearizable(b.history, kHub).verdict, Linearizable::kYes);
  for (const auto& p : split_history(b.history)) {
    bool has = std::find(p.operations.begin(), p.operations.end(), forbidden) != p.operations.end();
    if (has) {
      EXPECT_EQ(p.name, "account alice, token " + t1.substr(0, 8) + "...");
    }
  }
}

TEST(Linearizability, ANoTooLargeToConfirmExactlyKeepsTheFastSearchsDiagnosis) {
  // Between "no memory at all" and "enough to keep a state per configuration" lies a range where
  // the fast search finishes but the exact confirmation does not fit: the verdict is still "no",
  // explained by the fast search itself (no second search), and never "yes" at any bound.
  TwoPatches t;
  t.lose_update();
  bool unconfirmed = false;
  for (std::size_t limit = 4096; limit < (std::size_t{1} << 24); limit += limit / 8) {
    CheckLimits bounded;
    bounded.memory_limit_bytes = limit;
    const auto r = check_linearizable(t.b.history, kHub, bounded);
    ASSERT_NE(r.verdict, Linearizable::kYes) << limit;
    if (r.verdict != Linearizable::kNo || r.counterexample->exact) continue;
    unconfirmed = true;
    const auto& ce = *r.counterexample;
    EXPECT_TRUE(ce.stuck == t.rename || ce.stuck == t.deactivate);
    EXPECT_FALSE(ce.why.empty());
    EXPECT_NE(std::find(ce.operations.begin(), ce.operations.end(), ce.stuck), ce.operations.end());
    EXPECT_NE(render_timeline_text(t.b.history, ce).find("128-bit memo keys"), std::string::npos);
  }
  EXPECT_TRUE(unconfirmed);
}

TEST(Linearizability, CounterexampleDropsWhatItDoesNotNeed) {
  HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, jwt);
  // A read that is explained either way, and a token of its own.
  auto early = b.get(3, 32, 35, jwt, uuid);
  auto [other, other_secret] = b.create(3, 36, 39, jwt, "other");
  b.patch(1, 40, 60, jwt, uuid, {{"token_label", "a"}});
  auto deactivate = b.patch(2, 45, 65, jwt, uuid, {{"is_active", false}});
  b.get(3, 70, 75, jwt, other);
  b.edit(deactivate, {{"token_label", "orig"}});
  auto r = check_linearizable(b.history, kHub);
  ASSERT_EQ(r.verdict, Linearizable::kNo);
  const auto& ops = r.counterexample->operations;
  EXPECT_EQ(std::find(ops.begin(), ops.end(), early), ops.end());
  for (std::size_t i : ops) {
    EXPECT_EQ(b.history.operations[i].request.path.find(other), std::string::npos);
  }
  // login, create and the two PATCHes remain.
  EXPECT_EQ(ops.size(), 4u) << render_timeline_text(b.history, *r.counterexample);
}

TEST(Linearizability, TimelinesShowLanesAndTheStuckOperationWithoutCredentials) {
  TwoPatches t;
  t.lose_update();
  auto r = check_linearizable(t.b.history, kHub);
  ASSERT_TRUE(r.counterexample.has_value());
  const std::string text = render_timeline_text(t.b.history, *r.counterexample);
  EXPECT_NE(text.find("client 1"), std::string::npos) << text;
  EXPECT_NE(text.find("client 2"), std::string::npos) << text;
  EXPECT_NE(text.find("<- no explanation places this"), std::string::npos) << text;
  EXPECT_NE(text.find("contract "), std::string::npos) << text;
  EXPECT_NE(text.find("[="), std::string::npos) << text;
  const std::string html = render_timeline_html(t.b.history, *r.counterexample);
  EXPECT_NE(html.find("class=\"op stuck\""), std::string::npos);
  EXPECT_NE(html.find("class=\"lane\""), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  const std::string signature = t.jwt.substr(t.jwt.rfind('.') + 1);
  for (const std::string* s : {&text, &html}) {
    EXPECT_EQ(s->find(testing::kAlicePassword), std::string::npos);
    EXPECT_EQ(s->find(signature), std::string::npos);
    EXPECT_EQ(s->find(t.secret), std::string::npos);
  }
}

TEST(Linearizability, RedactedHistoriesHoldNoCredentialAndCheckTheSame) {
  HistoryBuilder b;
  auto alice = b.login_alice(0, 0, 10);
  auto bob = b.login_bob(1, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, alice);
  b.op(2, 40, 50,
       json_request("POST", "/v2/auth/token", "",
                    Json{{"identifier", "alice"}, {"secret", secret}}.dump()));
  model::HttpRequest wrong = json_request(
      "POST", "/v2/auth/token", "",
      Json{{"identifier", "alice"}, {"secret", std::string(testing::kAlicePassword) + "-wrong"}}
          .dump());
  b.op(2, 60, 70, wrong);
  model::HttpRequest basic{"GET", "/token"};
  basic.query = "service=registry.docker.io&scope=repository:alice/private:pull";
  basic.headers.set("Authorization", "Basic " + model::base64_encode("alice:" + secret));
  b.op(3, 60, 70, basic);
  auto rename = b.patch(1, 80, 90, alice, uuid, {{"token_label", "a"}});

  const History red = redact_history(b.history);
  const std::string text = encode_history(red).dump();
  EXPECT_EQ(text.find(secret), std::string::npos);
  EXPECT_EQ(text.find(testing::kAlicePassword), std::string::npos);
  EXPECT_EQ(text.find(testing::kBobPassword), std::string::npos);
  EXPECT_EQ(text.find(std::string("\"code\":\"") + testing::kBobCode), std::string::npos);
  EXPECT_NE(text.find("<<patrol:code:bob>>"), std::string::npos);
  EXPECT_EQ(text.find(alice.substr(alice.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(text.find(bob.substr(bob.rfind('.') + 1)), std::string::npos);
  EXPECT_NE(text.find("<<patrol:password:alice>>-wrong"), std::string::npos);
  EXPECT_NE(text.find("dckr_pat_<<patrol:secret:"), std::string::npos);

  EXPECT_NE(text.find(".<<patrol:jwt:"), std::string::npos);
  auto back = decode_history(encode_history(red));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(check_linearizable(*back, kHub).verdict, Linearizable::kYes);
  b.edit(rename, {{"token_label", "never-written"}});
  back = decode_history(encode_history(redact_history(b.history)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(check_linearizable(*back, kHub).verdict, Linearizable::kNo);
}

TEST(HistoryFormat, RoundTripsIncludingBytesThatAreNotUtf8) {
  TwoPatches t;
  t.b.at(t.rename).request.body = "{\"token_label\":\"\xff\xfe\"}";
  t.b.at(t.rename).command = "PATCH with a bad label";
  auto decoded = parse_history(encode_history(t.b.history).dump(2));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->operations.size(), t.b.history.operations.size());
  for (std::size_t i = 0; i < decoded->operations.size(); ++i) {
    const auto& a = decoded->operations[i];
    const auto& b = t.b.history.operations[i];
    EXPECT_EQ(a.client, b.client);
    EXPECT_EQ(a.invoke_ns, b.invoke_ns);
    EXPECT_EQ(a.response_ns, b.response_ns);
    EXPECT_EQ(a.at, b.at);
    EXPECT_EQ(a.command, b.command);
    EXPECT_EQ(a.request, b.request);
    EXPECT_EQ(a.response, b.response);
  }
  EXPECT_EQ(decoded->start, t.b.history.start);
  EXPECT_EQ(decoded->fixture, t.b.history.fixture);
}

TEST(HistoryFormat, ErrorsNameWhatAndWhere) {
  auto e = parse_history("{\"format\":\"patrol-history/1\"}");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "operations: required");

  e = parse_history("[1]");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("expected a JSON object"), std::string::npos);

  e = parse_history("{\"format\":\"other/2\",\"operations\":[]}");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("format"), std::string::npos);

  TwoPatches t;
  auto j = encode_history(t.b.history);
  j["operations"][2]["response_ns"] = 1;
  e = decode_history(j);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("operations[2]: response_ns 1 is before invoke_ns 40"),
            std::string::npos)
      << e.error().message;

  j = encode_history(t.b.history);
  j["operations"][3]["client"] = 1;  // overlaps operations[2] of client 1
  e = decode_history(j);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("same client 1"), std::string::npos) << e.error().message;

  j = encode_history(t.b.history);
  j["operations"][1]["request"].erase("method");
  e = decode_history(j);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "operations[1].request.method: required");

  j = encode_history(t.b.history);
  j["operations"][0]["at"] = "yesterday";
  e = decode_history(j);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.rfind("operations[0].at: ", 0), 0u) << e.error().message;
}

}  // namespace
}  // namespace patrol::properties
