// Unit tests of the oracle's parts: the JSON tape, profiles, the model state (copies, secret
// search, fingerprints), redaction, route classification, listing walks and generator queries.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/interesting.hpp"
#include "model/json_tape.hpp"
#include "model/walk.hpp"
#include "tests/oracle/oracle_test_util.hpp"

namespace patrol::oracle_test {
namespace {

using model::JsonKind;
using model::JsonTape;

// ---- JsonTape -----------------------------------------------------------------------------------

TEST(JsonTape, ParsesNestedDocumentsIntoATape) {
  JsonTape t;
  ASSERT_TRUE(t.parse(R"( {"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\"e"}} )")) << t.error();
  ASSERT_TRUE(t.is_object(0));
  EXPECT_EQ(t.node(0).len, 2u);  // two members
  const auto a = t.find(0, "a");
  ASSERT_NE(a, JsonTape::kNone);
  ASSERT_TRUE(t.is_array(a));
  EXPECT_EQ(t.node(a).len, 6u);
  const auto first = t.first_child(a);
  EXPECT_EQ(t.integer(first), 1);
  EXPECT_DOUBLE_EQ(t.number(t.next_sibling(first)), 2.5);
  EXPECT_EQ(t.integer(t.next_sibling(t.next_sibling(first))), -300);  // -3e2 is integral-valued
  const auto c = t.find(t.find(0, "b"), "c");
  std::string scratch;
  EXPECT_EQ(t.str(c, scratch), "d\"e");
  EXPECT_EQ(t.path_of(c), "b.c");
  EXPECT_EQ(t.path_of(t.next_sibling(first)), "a[1]");
  EXPECT_EQ(t.container_text(t.find(0, "b")), R"({"c":"d\"e"})");
}

TEST(JsonTape, TheLastDuplicateKeyWins) {
  JsonTape t;
  ASSERT_TRUE(t.parse(R"({"k":1,"k":2})"));
  EXPECT_EQ(t.integer(t.find(0, "k")), 2);
}

TEST(JsonTape, DecodesEscapesAndSurrogatePairs) {
  JsonTape t;
  ASSERT_TRUE(t.parse(R"(["\u00e9\ud83d\ude00\n\/"])"));
  std::string scratch;
  EXPECT_EQ(t.str(1, scratch), "\xC3\xA9\xF0\x9F\x98\x80\n/");
  std::string quoted;
  model::json_quote("a\"b\\c\x01", quoted);
  EXPECT_EQ(quoted, R"("a\"b\\c\u0001")");
}

TEST(JsonTape, RefusesWhatRfc8259Refuses) {
  const std::vector<std::string> bad = {"",
                                        "{",
                                        "[1,]",
                                        "{\"a\"}",
                                        "{\"a\":1,}",
                                        "01",
                                        "1.",
                                        "-",
                                        "1e",
                                        "tru",
                                        "nul",
                                        "\"\\x\"",
                                        "\"\\ud800\"",
                                        "\"\\udc00x\"",
                                        "\"a\nb\"",
                                        "\"\xff\"",
                                        "\"\xc0\xaf\"",
                                        "[1] [2]",
                                        "{1:2}",
                                        "\"\xed\xa0\x80\"",
                                        "'a'",
                                        "[\"unterminated]"};
  JsonTape t;
  for (const auto& doc : bad) {
    EXPECT_FALSE(t.parse(doc)) << "accepted: " << doc;
    EXPECT_FALSE(t.error().empty());
  }
}

TEST(JsonTape, RefusesNestingDeeperThanItsLimit) {
  JsonTape t;
  EXPECT_TRUE(
      t.parse(std::string(JsonTape::kMaxDepth, '[') + std::string(JsonTape::kMaxDepth, ']')));
  EXPECT_FALSE(t.parse(std::string(JsonTape::kMaxDepth + 1, '[') +
                       std::string(JsonTape::kMaxDepth + 1, ']')));
}

TEST(JsonTape, AgreesWithNlohmannOnNumbersItAccepts) {
  JsonTape t;
  for (const std::string doc : {"0", "-0", "12345678901234", "1e3", "2.0", "9223372036854775807"}) {
    ASSERT_TRUE(t.parse(doc)) << doc;
    EXPECT_EQ(t.kind(0), JsonKind::kNumber);
    EXPECT_DOUBLE_EQ(t.number(0), nlohmann::json::parse(doc).get<double>()) << doc;
  }
  ASSERT_TRUE(t.parse("2.5"));
  EXPECT_FALSE(t.integer(0).has_value());
  ASSERT_TRUE(t.parse("1e30"));
  EXPECT_FALSE(t.integer(0).has_value());
}

// ---- Profiles -----------------------------------------------------------------------------------

TEST(Profile, HubAndSpecDifferWhereTheContractSaysSo) {
  const Profile hub = Profile::hub();
  const Profile spec = Profile::spec();
  EXPECT_EQ(hub.name, "hub");
  EXPECT_EQ(spec.name, "spec");
  EXPECT_EQ(hub.read_token, model::ReadToken::kAnyString);
  EXPECT_EQ(spec.read_token, model::ReadToken::kEmptyOrStars);
  EXPECT_EQ(hub.error_bodies, model::ErrorBodies::kHub);
  EXPECT_EQ(spec.error_bodies, model::ErrorBodies::kSpec);
  EXPECT_TRUE(hub.out_of_range_page_may_clamp);
  EXPECT_FALSE(spec.out_of_range_page_may_clamp);
  EXPECT_TRUE(hub.jwt_keyword_may_authenticate);
  EXPECT_FALSE(spec.jwt_keyword_may_authenticate);
}

TEST(Profile, ByNameKnowsHubAndSpecOnly) {
  ASSERT_TRUE(model::profile_by_name("hub").ok());
  EXPECT_EQ(model::profile_by_name("spec")->name, "spec");
  const auto bad = model::profile_by_name("strict");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("hub, spec"), std::string::npos);
}

TEST(Profile, OverridesSetOneMemberAndNameBadOnes) {
  auto p = model::apply_profile_overrides(Profile::hub(), Json{{"read_token", "empty_or_stars"},
                                                               {"clock_skew_s", 0},
                                                               {"empty_patch_may_be_400", true},
                                                               {"secret_prefix", "dckr_pat_"}});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->read_token, model::ReadToken::kEmptyOrStars);
  EXPECT_EQ(p->clock_skew_s, 0);
  EXPECT_TRUE(p->empty_patch_may_be_400);
  EXPECT_EQ(p->secret_prefix, "dckr_pat_");
  EXPECT_EQ(p->unset_expiry, Profile::hub().unset_expiry);  // untouched

  auto unknown = model::apply_profile_overrides(Profile::hub(), Json{{"no_such_point", true}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("no_such_point"), std::string::npos);
  auto type = model::apply_profile_overrides(Profile::hub(), Json{{"delete_any_2xx", "yes"}});
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message.find("delete_any_2xx"), std::string::npos);
  auto value = model::apply_profile_overrides(Profile::hub(), Json{{"scope_echo", "sometimes"}});
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.error().message.find("echo_only"), std::string::npos);
}

TEST(Profile, DescribeListsEveryOverridableMemberWithItsValue) {
  const auto d = model::describe_profile(Profile::spec());
  ASSERT_GE(d.size(), 30u);
  EXPECT_EQ(d[0], (std::pair<std::string, std::string>{"name", "spec"}));
  Json all = Json::object();
  for (std::size_t i = 1; i < d.size(); ++i) {
    const auto& [k, v] = d[i];
    if (v == "true" || v == "false") {
      all[k] = v == "true";
    } else if (!v.empty() && v[0] == '"') {
      all[k] = v.substr(1, v.size() - 2);
    } else if (std::isdigit(static_cast<unsigned char>(v[0]))) {
      all[k] = std::stoll(v);
    } else {
      all[k] = v;
    }
  }
  // Describing then applying to another profile reproduces the described one.
  auto back = model::apply_profile_overrides(Profile::hub(), all);
  ASSERT_TRUE(back.ok()) << back.error().message;
  back->name = "spec";
  EXPECT_EQ(*back, Profile::spec());
}

// ---- State
// ----------------------------------------------------------------------------------------

TEST(ModelState, CopiesAreIndependent) {
  World w;
  auto jwt = w.login("alice");
  auto t = w.create(jwt);
  ModelState copy = w.state;
  EXPECT_EQ(copy, w.state);
  EXPECT_EQ(copy.fingerprint(), w.state.fingerprint());
  w.call(request("DELETE", World::item(t.uuid), "", jwt));
  EXPECT_FALSE(copy.token(*copy.find_token(t.uuid)).deleted);
  EXPECT_TRUE(w.state.token(*w.state.find_token(t.uuid)).deleted);
  EXPECT_NE(copy, w.state);
  EXPECT_NE(copy.fingerprint(), w.state.fingerprint());
}

TEST(ModelState, FindsSecretsAtEveryOffsetAndLength) {
  ModelState s(model::default_fixture());
  const std::vector<std::string> secrets = {"dckr_pat_abcdefghijklmnopqrstuvwxyz0", "short7",
                                            "exactly15chars!",
                                            "85145afa-7f81-4235-82c9-e37df7c244a8"};
  for (const auto& x : secrets) s.add_secret(x, model::kNoIndex);
  for (std::size_t k = 0; k < secrets.size(); ++k) {
    for (std::size_t pad = 0; pad < 20; ++pad) {
      const std::string text = std::string(pad, 'x') + secrets[k] + std::string(pad % 3, 'y');
      std::vector<std::pair<std::uint32_t, std::size_t>> hits;
      s.scan_secrets(text, [&](std::uint32_t si, std::size_t at) { hits.emplace_back(si, at); });
      ASSERT_EQ(hits.size(), 1u) << secrets[k] << " at " << pad;
      EXPECT_EQ(hits[0].first, k);
      EXPECT_EQ(hits[0].second, pad);
    }
  }
  std::size_t none = 0;
  s.scan_secrets("dckr_pat_abcdefghijklmnopqrstuvwxyz1 and shor7", [&](auto, auto) { ++none; });
  EXPECT_EQ(none, 0u);
  EXPECT_TRUE(s.is_secret("short7"));
  EXPECT_FALSE(s.is_secret("short8"));
}

TEST(ModelState, SecretsSharingAPrefixAndSuffixAreFoundExactly) {
  ModelState s(model::default_fixture());
  for (int i = 0; i < 2000; ++i) {
    // Same prefix and suffix, differing in the middle: the gram window moves away from both.
    s.add_secret("dckr_pat_" + std::to_string(100000 + i) + "_same_tail_for_all", model::kNoIndex);
  }
  std::size_t hits = 0;
  s.scan_secrets("... dckr_pat_101234_same_tail_for_all ...", [&](auto, auto) { ++hits; });
  EXPECT_EQ(hits, 1u);
}

// ---- Redaction, routes, judge()
// ---------------------------------------------------------------------

TEST(Redact, RemovesSecretsPasswordsAndJwts) {
  World w;
  auto jwt = w.login("alice");
  auto t = w.create(jwt);
  const std::string text = "secret " + t.secret + " password alice-password-1 jwt " + jwt + " end";
  const std::string r = model::redact(text, w.state);
  EXPECT_EQ(r.find(t.secret), std::string::npos);
  EXPECT_EQ(r.find("alice-password-1"), std::string::npos);
  EXPECT_EQ(r.find(jwt), std::string::npos);
  EXPECT_NE(r.find("<redacted secret>"), std::string::npos);
  EXPECT_NE(r.find("end"), std::string::npos);
}

TEST(Routes, ClassifyByMethodAndPath) {
  using model::Route;
  EXPECT_EQ(model::classify(request("POST", "/v2/access-tokens")), Route::kCreate);
  EXPECT_EQ(model::classify(request("GET", "/v2/access-tokens?page=2")), Route::kList);
  EXPECT_EQ(model::classify(request("GET", "/v2/access-tokens/")), Route::kList);
  EXPECT_EQ(model::classify(request("GET", "/v2/access-tokens/x")), Route::kGet);
  EXPECT_EQ(model::classify(request("PATCH", "/v2/access-tokens/x")), Route::kPatch);
  EXPECT_EQ(model::classify(request("DELETE", "/v2/access-tokens/x")), Route::kDelete);
  EXPECT_EQ(model::classify(request("PUT", "/v2/access-tokens/x")), Route::kWrongMethod);
  EXPECT_EQ(model::classify(request("GET", "/v2/access-tokens/x/y")), Route::kOther);
  EXPECT_EQ(model::classify(request("POST", "/v2/auth/token")), Route::kAuthToken);
  EXPECT_EQ(model::classify(request("GET", "/v2/auth/token")), Route::kWrongMethod);
  EXPECT_EQ(model::classify(request("POST", "/v2/users/login")), Route::kLogin);
  EXPECT_EQ(model::classify(request("POST", "/v2/users/2fa-login")), Route::kTwoFactorLogin);
  EXPECT_EQ(model::classify(request("GET", "/token?service=x")), Route::kRegistry);
  EXPECT_EQ(model::classify(request("GET", "/v2/repositories")), Route::kOther);
  EXPECT_EQ(model::route_id(Route::kPatch), "E4");
}

TEST(Judge, CopyingJudgeLeavesItsInputAloneAndMatchesInPlace) {
  World w;
  auto jwt = w.login("alice");
  const ModelState before = w.state;
  auto req = post("/v2/access-tokens", World::create_body("x", Json::array({"repo:read"})), jwt);
  auto resp = w.honest(req);
  const auto v = model::judge(w.state, req, resp, w.now, w.profile);
  EXPECT_TRUE(v.violations.empty()) << show(v.violations);
  EXPECT_EQ(w.state, before);
  EXPECT_EQ(v.next.token_count(), 1u);
  ModelState in_place = w.state;
  EXPECT_TRUE(model::judge_in_place(in_place, req, resp, w.now, w.profile).empty());
  EXPECT_EQ(in_place, v.next);
}

TEST(Judge, A429ChangesNothingButTheClock) {
  World w;
  auto jwt = w.login("alice");
  w.create(jwt);
  const ModelState before = w.state;
  w.advance(3);
  HttpResponse r = response(429, Json{{"detail", "Rate limit exceeded"}});
  r.headers.add("Retry-After", "1");
  EXPECT_TRUE(
      w.judge(post("/v2/access-tokens", World::create_body("y", Json::array({"repo:read"})), jwt),
              r)
          .empty());
  EXPECT_EQ(w.state.token_count(), before.token_count());
  EXPECT_EQ(w.state.secret_count(), before.secret_count());
  EXPECT_EQ(w.state.last_seen(), w.now);
}

TEST(Judge, GarbageNeverThrows) {
  World w;
  auto jwt = w.login("alice");
  const std::vector<std::string> bodies = {"",
                                           "\xff\xfe",
                                           "{",
                                           "[]",
                                           "{\"uuid\":7}",
                                           "null",
                                           std::string(5000, '['),
                                           "{\"results\":[1,{},null]}"};
  for (const std::string method : {"GET", "POST", "PATCH", "DELETE", "PUT"}) {
    for (const std::string path : {"/v2/access-tokens", "/v2/access-tokens/%zz", "/token",
                                   "/v2/auth/token", "/v2/users/login", "/v2/users/2fa-login"}) {
      for (const auto& body : bodies) {
        for (const int status : {0, 200, 201, 204, 302, 400, 401, 404, 429, 500, 999}) {
          HttpRequest req = request(method, path, body, jwt);
          HttpResponse resp = response(status, body);
          const auto v = w.judge(req, resp);
          for (const auto& x : v) {
            EXPECT_FALSE(x.rule.empty());
            EXPECT_NE(x.rule, "internal") << x.message;
          }
        }
      }
    }
  }
}

// ---- Walks
// ----------------------------------------------------------------------------------------

TEST(ListingWalk, ACompleteWalkOfHonestPagesIsClean) {
  World w;
  auto jwt = w.login("alice");
  for (int i = 0; i < 5; ++i) w.create(jwt, "t" + std::to_string(i));
  model::ListingWalk walk(w.profile);
  for (int p = 1; p <= 3; ++p) {
    auto req =
        request("GET", "/v2/access-tokens?page=" + std::to_string(p) + "&page_size=2", "", jwt);
    EXPECT_TRUE(walk.add_page(w.state, req, w.honest(req), w.now).empty());
  }
  EXPECT_EQ(walk.page_count(), 3u);
  EXPECT_TRUE(walk.finish(w.state).empty());
}

TEST(ListingWalk, AnIncompleteWalkDoesNotClaimMissingTokens) {
  World w;
  auto jwt = w.login("alice");
  for (int i = 0; i < 5; ++i) w.create(jwt, "t" + std::to_string(i));
  model::ListingWalk walk(w.profile);
  auto req = request("GET", "/v2/access-tokens?page=1&page_size=2", "", jwt);
  EXPECT_TRUE(walk.add_page(w.state, req, w.honest(req), w.now).empty());
  EXPECT_TRUE(walk.finish(w.state).empty());
}

TEST(ListingWalk, AWriteBetweenPagesSuspendsThePartitionCheck) {
  World w;
  auto jwt = w.login("alice");
  for (int i = 0; i < 3; ++i) w.create(jwt, "t" + std::to_string(i));
  model::ListingWalk walk(w.profile);
  auto p1 = request("GET", "/v2/access-tokens?page=1&page_size=2", "", jwt);
  EXPECT_TRUE(walk.add_page(w.state, p1, w.honest(p1), w.now).empty());
  w.create(jwt, "late");  // the listing shifts: page 2 may repeat or skip a token legitimately
  auto p2 = request("GET", "/v2/access-tokens?page=2&page_size=2", "", jwt);
  EXPECT_TRUE(walk.add_page(w.state, p2, w.honest(p2), w.now).empty());
  EXPECT_TRUE(walk.finish(w.state).empty());
}

// ---- Baseline::kUnknown: accounts with tokens from before the first exchange

// The honest server already holds tokens of alice that a fresh model never saw.
struct LiveAccount {
  World w;
  std::string jwt;
  std::vector<std::string> old_uuids;

  explicit LiveAccount(model::Baseline baseline) {
    jwt = w.login("alice");
    for (int i = 0; i < 3; ++i) old_uuids.push_back(w.create(jwt, "old-" + std::to_string(i)).uuid);
    // Forget them: a model started now, knowing nothing yet.
    w.state = ModelState(model::default_fixture(), w.now, baseline);
    w.advance(1);
    jwt = w.login("alice");
  }
};

TEST(UnknownBaseline, AListingTeachesTheUnseenTokensAndAdoptsThem) {
  LiveAccount a(model::Baseline::kUnknown);
  auto p1 = request("GET", "/v2/access-tokens?page=1&page_size=2", "", a.jwt);
  EXPECT_TRUE(a.w.judge(p1, a.w.honest(p1)).empty());
  EXPECT_EQ(a.w.state.unseen(0), 1u);  // 3 counted, 2 shown and adopted
  EXPECT_EQ(a.w.state.live_count(0), 2u);
  EXPECT_TRUE(a.w.state.token(*a.w.state.find_token(a.old_uuids[0])).adopted);
  // A token created now counts on top; the count must keep adding up.
  a.w.create(a.jwt, "new");
  auto all = request("GET", "/v2/access-tokens?page=1&page_size=10", "", a.jwt);
  EXPECT_TRUE(a.w.judge(all, a.w.honest(all)).empty());
  EXPECT_EQ(a.w.state.unseen(0), 0u);
  auto wrong = mutate(a.w.honest(all), [](Json& j) { j["count"] = 5; });
  EXPECT_TRUE(has_rule(a.w.judge(all, wrong), "6"));
}

TEST(UnknownBaseline, AGetOfAnUnseenTokenAdoptsIt) {
  LiveAccount a(model::Baseline::kUnknown);
  auto get = request("GET", World::item(a.old_uuids[1]), "", a.jwt);
  EXPECT_TRUE(a.w.judge(get, a.w.honest(get)).empty());
  ASSERT_TRUE(a.w.state.find_token(a.old_uuids[1]).has_value());
  auto stale = a.w.honest(get);
  auto del = request("DELETE", World::item(a.old_uuids[1]), "", a.jwt);
  EXPECT_TRUE(a.w.judge(del, a.w.honest(del)).empty());
  EXPECT_TRUE(has_rule(a.w.judge(get, stale), "3.6"));
}

TEST(UnknownBaseline, WithoutUnseenTokensAnUnknownUuidIsStillA404) {
  LiveAccount a(model::Baseline::kUnknown);
  auto all = request("GET", "/v2/access-tokens?page=1&page_size=10", "", a.jwt);
  EXPECT_TRUE(a.w.judge(all, a.w.honest(all)).empty());  // adopts all three: none unseen
  const std::string unknown = "00000000-0000-4000-8000-000000000777";
  auto body = mutate(a.w.honest(request("GET", World::item(a.old_uuids[0]), "", a.jwt)),
                     [&](Json& j) { j["uuid"] = unknown; });
  EXPECT_TRUE(has_rule(a.w.judge(request("GET", World::item(unknown), "", a.jwt), body), "3.7"));
}

TEST(UnknownBaseline, TheDefaultBaselineFlagsTokensItNeverSaw) {
  LiveAccount a(model::Baseline::kEmpty);
  auto all = request("GET", "/v2/access-tokens?page=1&page_size=10", "", a.jwt);
  const auto v = a.w.judge(all, a.w.honest(all));
  EXPECT_TRUE(has_rule(v, "6")) << show(v);
}

// ---- Generator queries
// ------------------------------------------------------------------------------

TEST(Interesting, SortsUuidsJwtsAndSecretsByState) {
  World w;
  auto alice = w.login("alice");
  auto bob = w.login("bob");
  auto live = w.create(alice, "live");
  auto inactive = w.create(alice, "inactive");
  auto gone = w.create(alice, "gone");
  auto expiring =
      w.create(alice, "expiring", Json::array({"repo:read"}), Timestamp{w.now.micros + 60'000'000});
  auto bobs = w.create(bob, "bobs");
  w.call(request("PATCH", World::item(inactive.uuid), R"({"is_active":false})", alice));
  w.call(request("DELETE", World::item(gone.uuid), "", alice));
  auto pat = w.pat_jwt("alice", live.secret);
  const Timestamp later{w.now.micros + 120'000'000};

  const auto i = model::interesting(w.state, "alice", later);
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  EXPECT_TRUE(has(i.live, live.uuid));
  EXPECT_TRUE(has(i.live, expiring.uuid));
  EXPECT_FALSE(has(i.live, gone.uuid));
  EXPECT_TRUE(has(i.usable, live.uuid));
  EXPECT_FALSE(has(i.usable, expiring.uuid));
  EXPECT_TRUE(has(i.inactive, inactive.uuid));
  EXPECT_TRUE(has(i.deleted, gone.uuid));
  EXPECT_TRUE(has(i.expired, expiring.uuid));
  EXPECT_TRUE(has(i.others, bobs.uuid));
  EXPECT_FALSE(has(i.others, live.uuid));
  EXPECT_TRUE(has(i.session_jwts, alice));
  EXPECT_FALSE(has(i.session_jwts, bob));
  EXPECT_TRUE(has(i.pat_jwts, pat));
  EXPECT_TRUE(has(i.usable_secrets, live.secret));
  EXPECT_TRUE(has(i.inactive_secrets, inactive.secret));
  EXPECT_TRUE(has(i.deleted_secrets, gone.secret));
  EXPECT_TRUE(has(i.expired_secrets, expiring.secret));
  EXPECT_EQ(model::live_uuids(w.state, "bob"), std::vector<std::string>{bobs.uuid});
  EXPECT_EQ(model::deleted_uuids(w.state, "alice"), std::vector<std::string>{gone.uuid});
  EXPECT_EQ(model::secrets_in_state(w.state, "alice", model::SecretState::kDeleted, later),
            std::vector<std::string>{gone.secret});

  const Timestamp much_later{w.now.micros + 4'000'000'000LL};
  EXPECT_TRUE(has(model::expired_jwts(w.state, much_later), alice));
  EXPECT_TRUE(model::session_jwts(w.state, "alice", much_later).empty());
}

}  // namespace
}  // namespace patrol::oracle_test
