// The fault catalogue: its shape, and for every fault one exchange on which the unfaulted core
// keeps the contract and the faulted core visibly does not.
#include "server/faults.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "model/rfc3339.hpp"
#include "server/core.hpp"
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

TEST(ServerFaultCatalogue, HasAtLeast25UniqueKebabCaseFaultsCoveringEverySection) {
  auto catalogue = fault_catalogue();
  ASSERT_GE(catalogue.size(), 25u);
  EXPECT_EQ(catalogue.size(), kFaultCount);
  std::set<std::string_view> names;
  std::set<std::string> sections;
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    const auto& f = catalogue[i];
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    for (char c : f.name)
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << f.name;
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_EQ(f.description.find('\n'), std::string_view::npos) << f.name;
    sections.insert(std::string(f.section.substr(0, 1)));
    EXPECT_EQ(&fault_info(static_cast<Fault>(i)), &f);
    EXPECT_EQ(find_fault(f.name), static_cast<Fault>(i));
  }
  for (const char* s : {"1", "2", "3", "4", "5", "6", "7", "8"}) {
    EXPECT_TRUE(sections.count(s)) << "no fault for section " << s;
  }
}

TEST(ServerFaultCatalogue, UnknownNamesAreRefusedWithNearMatches) {
  EXPECT_FALSE(find_fault("leak-secret"));
  auto near = near_fault_names("leak-secret-on-gte");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near.front(), "leak-secret-on-get");
  auto by_words = near_fault_names("secret-leak");
  ASSERT_FALSE(by_words.empty());
  EXPECT_NE(by_words.front().find("secret"), std::string::npos);
  EXPECT_TRUE(near_fault_names("zzzzzzzzzzzzzzzzzzzzzzzz").empty());
  auto parsed = parse_faults({"page-overlap", "pagee-overlap"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("'pagee-overlap'"), std::string::npos);
  EXPECT_NE(parsed.error().message.find("'page-overlap'"), std::string::npos);
  auto ok = parse_faults({"page-overlap", "count-drift"});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->has(Fault::kPageOverlap));
  EXPECT_FALSE(ok->has(Fault::kLeakSecretOnGet));
  EXPECT_EQ(ok->names(), (std::vector<std::string>{"page-overlap", "count-drift"}));
}

// ---- scenarios ---------------------------------------------------------------------------------

// Runs an exchange on a core built from the options and says whether the defect showed.
using Scenario = std::function<bool(ServerOptions)>;

std::string in_seconds(const ServerCore& core, std::int64_t s) {
  return model::format_rfc3339(model::Timestamp{core.now().micros + s * 1'000'000});
}

bool body_has(const model::HttpResponse& r, const Json& secret) {
  return r.body.find(secret.get<std::string>()) != std::string::npos;
}

// Builds a core, a client and alice's session, then runs the body.
Scenario with_alice(std::function<bool(ServerCore&, CoreClient&, const std::string&)> body) {
  return [body](ServerOptions options) {
    auto core = make_core(std::move(options));
    CoreClient c(*core);
    return body(*core, c, c.alice());
  };
}

const std::map<std::string, Scenario>& scenarios() {
  static const std::map<std::string, Scenario> table = {
      {"leak-secret-on-get", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         return body_has(c.get(s, t["uuid"]), t["token"]);
       })},
      {"leak-secret-in-list", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         return body_has(c.list(s), t["token"]);
       })},
      {"leak-secret-on-patch", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         return body_has(c.patch(s, t["uuid"], {{"token_label", "renamed"}}), t["token"]);
       })},
      {"leak-secret-in-error", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         auto r = c.patch(s, t["uuid"], {{"token_label", ""}});
         return r.status == 400 && body_has(r, t["token"]);
       })},
      {"leak-secret-in-header", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         auto r = c.get(s, t["uuid"]);
         for (const auto& [name, value] : r.headers.entries) {
           if (value.find(t["token"].get<std::string>()) != std::string::npos) return true;
         }
         return false;
       })},
      {"created-inactive", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.create_token(s)["is_active"] != true;
       })},
      {"inactive-token-authenticates",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         c.patch(s, t["uuid"], {{"is_active", false}});
         return c.auth("alice", t["token"]).status == 200;
       })},
      {"expired-token-authenticates",
       with_alice([](ServerCore& core, CoreClient& c, const std::string& s) {
         auto r = c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}},
                               {"expires_at", in_seconds(core, 10)}});
         core.advance(std::chrono::seconds(10));
         return c.auth("alice", body_json(r)["token"]).status == 200;
       })},
      {"deleted-token-authenticates",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         c.remove(s, t["uuid"]);
         return c.auth("alice", t["token"]).status == 200;
       })},
      {"deleted-token-readable", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         c.remove(s, t["uuid"]);
         return c.get(s, t["uuid"]).status == 200;
       })},
      {"delete-affects-neighbour", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto a = c.create_token(s);
         auto b = c.create_token(s);
         c.remove(s, b["uuid"]);
         return c.get(s, a["uuid"]).status != 200;
       })},
      {"deactivate-affects-neighbour",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto a = c.create_token(s, "shared");
         auto b = c.create_token(s, "shared");
         c.patch(s, b["uuid"], {{"is_active", false}});
         return body_json(c.get(s, a["uuid"]))["is_active"] != true;
       })},
      {"patch-expired-allowed", with_alice([](ServerCore& core, CoreClient& c, const std::string& s) {
         auto r = c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}},
                               {"expires_at", in_seconds(core, 10)}});
         core.advance(std::chrono::seconds(11));
         return c.patch(s, body_json(r)["uuid"], {{"token_label", "y"}}).status == 200;
       })},
      {"patch-applies-scopes", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s, "x", "repo:read");
         c.patch(s, t["uuid"], {{"scopes", {"repo:admin"}}});
         return body_json(c.get(s, t["uuid"]))["scopes"] != Json({"repo:read"});
       })},
      {"last-used-not-updated", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         c.auth("alice", t["token"]);
         return body_json(c.get(s, t["uuid"]))["last_used"].is_null();
       })},
      {"delete-200-with-body", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto r = c.remove(s, c.create_token(s)["uuid"]);
         return r.status != 204 || !r.body.empty();
       })},
      {"label-length-bytes", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         std::string label;
         for (int i = 0; i < 100; ++i) label += "\xc3\xa9";
         return c.create(s, {{"token_label", label}, {"scopes", {"repo:read"}}}).status != 201;
       })},
      {"label-off-by-one", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.create(s, {{"token_label", std::string(101, 'a')}, {"scopes", {"repo:read"}}})
                    .status == 201;
       })},
      {"empty-label-accepted", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.create(s, {{"token_label", ""}, {"scopes", {"repo:read"}}}).status == 201;
       })},
      {"empty-scopes-accepted", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.create(s, {{"token_label", "x"}, {"scopes", Json::array()}}).status == 201;
       })},
      {"unknown-scope-accepted", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.create(s, {{"token_label", "x"}, {"scopes", {"repo:superuser"}}}).status == 201;
       })},
      {"scope-normalised-to-lowest",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto r = c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read", "repo:admin"}}});
         return body_json(r)["scopes"] != Json({"repo:admin"});
       })},
      {"past-expiry-accepted", with_alice([](ServerCore& core, CoreClient& c, const std::string& s) {
         return c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}},
                             {"expires_at", in_seconds(core, -60)}})
                    .status == 201;
       })},
      {"expiry-offset-ignored", with_alice([](ServerCore& core, CoreClient& c, const std::string& s) {
         auto instant = model::Timestamp::from_seconds(core.now().seconds() + 86'400);
         std::string local = model::format_rfc3339({instant.micros + 2 * 3'600'000'000LL});
         local = local.substr(0, local.size() - 1) + "+02:00";
         auto r = c.create(s, {{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", local}});
         auto echoed = model::parse_rfc3339(body_json(r)["expires_at"].get<std::string>());
         return !echoed.ok() || !model::same_second(*echoed, instant);
       })},
      {"pat-jwt-manages-tokens", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto jwt = CoreClient::jwt_of(c.auth("alice", c.create_token(s)["token"]));
         return c.list(jwt).status == 200;
       })},
      {"raw-pat-as-bearer", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.list(c.create_token(s)["token"]).status == 200;
       })},
      {"jwt-signature-unchecked", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         std::string forged = s.substr(0, s.rfind('.') + 1) + "AAAA";
         return c.list(forged).status == 200;
       })},
      {"expired-session-accepted",
       with_alice([](ServerCore& core, CoreClient& c, const std::string& s) {
         core.advance(std::chrono::seconds(601));
         return c.list(s).status == 200;
       })},
      {"cross-account-read", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         return c.get(c.bob(), t["uuid"]).status == 200;
       })},
      {"forbidden-confirms-existence",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s);
         return c.get(c.bob(), t["uuid"]).status == 403;
       })},
      {"list-shows-all-accounts", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         c.create_token(s);
         return body_json(c.list(c.bob()))["count"] != 0;
       })},
      {"auth-token-ignores-identifier",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.auth("bob", c.create_token(s)["token"]).status == 200;
       })},
      {"second-factor-skipped", with_alice([](ServerCore&, CoreClient& c, const std::string&) {
         auto r = c.send("POST", "/v2/users/login",
                         Json{{"username", "bob"}, {"password", kBobPassword}}.dump());
         return r.status == 200;
       })},
      {"auth-token-long-lived", with_alice([](ServerCore&, CoreClient&, const std::string& s) {
         auto claims = claims_of(s);
         return *claims.exp - *claims.iat != 600;
       })},
      {"pat-jwt-without-scope", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto jwt = CoreClient::jwt_of(c.auth("alice", c.create_token(s, "x", "repo:write")["token"]));
         return claims_of(jwt).scope != "repo:write";
       })},
      {"public-read-pulls-private",
       with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s, "x", "repo:public_read");
         return c.granted("alice", t["token"], "alice/private-app", "pull") != "";
       })},
      {"write-grants-delete", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s, "x", "repo:write");
         return c.granted("alice", t["token"], "alice/public-app") != "pull,push";
       })},
      {"admin-lacks-delete", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto t = c.create_token(s, "x", "repo:admin");
         return c.granted("alice", t["token"], "alice/public-app") != "pull,push,delete";
       })},
      {"other-private-pullable", with_alice([](ServerCore&, CoreClient& c, const std::string&) {
         return c.granted("alice", kAlicePassword, "bob/private-lib") != "";
       })},
      {"anonymous-pulls-private", with_alice([](ServerCore&, CoreClient& c, const std::string&) {
         return c.granted("", "", "alice/private-app") != "";
       })},
      {"page-overlap", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         for (int i = 0; i < 4; ++i) c.create_token(s);
         std::set<std::string> seen;
         std::size_t listed = 0;
         for (int page = 1; page <= 2; ++page) {
           auto j = body_json(c.list(s, "page=" + std::to_string(page) + "&page_size=2"));
           for (const auto& t : j["results"]) seen.insert(t["uuid"].get<std::string>()), ++listed;
         }
         return seen.size() != listed || seen.size() != 4;
       })},
      {"next-on-last-page", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         for (int i = 0; i < 4; ++i) c.create_token(s);
         return !body_json(c.list(s, "page=2&page_size=2"))["next"].is_null();
       })},
      {"count-excludes-inactive", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         c.create_token(s);
         c.patch(s, c.create_token(s)["uuid"], {{"is_active", false}});
         return body_json(c.list(s))["count"] != 2;
       })},
      {"active-count-includes-expired",
       with_alice([](ServerCore& core, CoreClient& c, const std::string&) {
         c.create(c.alice(), {{"token_label", "x"}, {"scopes", {"repo:read"}},
                              {"expires_at", in_seconds(core, 10)}});
         core.advance(std::chrono::seconds(10));
         return body_json(c.list(c.alice()))["active_count"] != 0;
       })},
      {"page-size-unbounded", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         // More than 100 tokens, so a page of 150 is neither a 400 nor a page clamped to 100.
         for (int i = 0; i < 101; ++i) c.create_token(s);
         auto r = c.list(s, "page_size=150");
         return r.status == 200 && body_json(r)["results"].size() > 100;
       })},
      {"html-500-malformed-uuid", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto r = c.get(s, "not-a-uuid");
         return r.status >= 500 || body_json(r).is_discarded();
       })},
      {"patch-unknown-uuid-500", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         return c.patch(s, "00000000-0000-4000-8000-000000000000", {{"is_active", false}}).status >=
                500;
       })},
      {"error-body-not-json", with_alice([](ServerCore&, CoreClient& c, const std::string&) {
         return body_json(c.list("")).is_discarded();
       })},
      {"error-without-message", with_alice([](ServerCore&, CoreClient& c, const std::string& s) {
         auto j = body_json(c.create(s, {{"token_label", ""}, {"scopes", {"repo:read"}}}));
         return !(j.contains("message") || j.contains("detail") || j.contains("text"));
       })},
      {"retry-after-missing", [](ServerOptions options) {
         options.rate_limit_per_minute = 1;
         auto core = make_core(std::move(options));
         CoreClient c(*core);
         c.send("GET", "/v2/access-tokens");
         auto r = c.send("GET", "/v2/access-tokens");
         return r.status == 429 && !r.headers.has("Retry-After");
       }},
      {"lost-update-patch", [](ServerOptions options) {
         // A second PATCH lands inside the first one's window (when the fault opens one).
         ServerCore* target = nullptr;
         std::string uuid;
         std::string session;
         bool fired = false;
         options.race_window_hook = [&](std::string_view window) {
           if (window != "patch" || fired) return;
           fired = true;
           CoreClient(*target).patch(session, uuid, {{"is_active", false}});
         };
         auto core = make_core(std::move(options));
         target = core.get();
         CoreClient c(*core);
         session = c.alice();
         uuid = c.create_token(session, "before")["uuid"];
         c.patch(session, uuid, {{"token_label", "after"}});
         if (!fired) c.patch(session, uuid, {{"is_active", false}});
         auto j = body_json(c.get(session, uuid));
         return j["token_label"] != "after" || j["is_active"] != false;
       }},
      {"create-visible-before-readable", [](ServerOptions options) {
         // A listing and a read of the newest token, inside E1's window or right after E1.
         ServerCore* target = nullptr;
         std::string session;
         bool listed_but_unreadable = false;
         bool checked = false;
         auto check = [&] {
           CoreClient c(*target);
           auto listed = body_json(c.list(session))["results"];
           if (listed.empty()) return;
           checked = true;
           listed_but_unreadable = c.get(session, listed[0]["uuid"]).status == 404;
         };
         options.race_window_hook = [&](std::string_view window) {
           if (window == "create") check();
         };
         auto core = make_core(std::move(options));
         target = core.get();
         session = CoreClient(*core).alice();
         CoreClient(*core).create_token(session);
         if (!checked) check();
         return listed_but_unreadable;
       }},
      {"count-drift", [](ServerOptions options) {
         // A second E1 lands inside the first one's count window (when the fault opens one).
         ServerCore* target = nullptr;
         std::string session;
         bool fired = false;
         options.race_window_hook = [&](std::string_view window) {
           if (window != "count" || fired) return;
           fired = true;
           CoreClient(*target).create_token(session);
         };
         auto core = make_core(std::move(options));
         target = core.get();
         CoreClient c(*core);
         session = c.alice();
         c.create_token(session);
         if (!fired) c.create_token(session);
         auto j = body_json(c.list(session));
         return j["count"] != j["results"].size() || j["count"] != 2;
       }},
  };
  return table;
}

class ServerFault : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ServerFault, DefectIsObservableAndAbsentWithoutTheFault) {
  const std::string name(GetParam());
  auto it = scenarios().find(name);
  ASSERT_NE(it, scenarios().end()) << "no scenario for fault " << name;
  ServerOptions clean;
  clean.manual_clock = true;
  EXPECT_FALSE(it->second(clean)) << "the unfaulted core shows the defect of " << name;
  ServerOptions faulted = clean;
  faulted.faults = {name};
  EXPECT_TRUE(it->second(faulted)) << "fault " << name << " is not observable";
}

std::vector<std::string_view> all_fault_names() {
  std::vector<std::string_view> out;
  for (const auto& f : fault_catalogue()) out.push_back(f.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, ServerFault, ::testing::ValuesIn(all_fault_names()),
                         [](const ::testing::TestParamInfo<std::string_view>& info) {
                           std::string n(info.param);
                           for (auto& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

TEST(ServerFaultCatalogue, EveryScenarioNamesACatalogueFault) {
  for (const auto& [name, scenario] : scenarios()) EXPECT_TRUE(find_fault(name)) << name;
  EXPECT_EQ(scenarios().size(), fault_catalogue().size());
}

}  // namespace
}  // namespace patrol::server
