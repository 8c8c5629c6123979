// Properties of the oracle. Sequences of operations are generated independently of the state
// and resolved against it when run (a GET of "a deleted uuid of alice" picks one if any exists),
// so shrinking works on plain data and runs reach interesting states instead of random 404s.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "model/interesting.hpp"
#include "model/json_tape.hpp"
#include "model/utf8.hpp"
#include "tests/oracle/oracle_test_util.hpp"

namespace patrol::oracle_test {
namespace {

// One generated operation: what to do and the numbers that pick its details.
struct Op {
  int kind = 0;
  int account = 0;
  int pick = 0;
  int variant = 0;
  int amount = 0;
};

constexpr int kOpKinds = 10;

rc::Gen<std::vector<Op>> gen_ops() {
  return rc::gen::container<std::vector<Op>>(rc::gen::map(
      rc::gen::tuple(rc::gen::inRange(0, kOpKinds), rc::gen::inRange(0, 2), rc::gen::inRange(0, 8),
                     rc::gen::inRange(0, 12), rc::gen::inRange(0, 40)),
      [](const std::tuple<int, int, int, int, int>& t) {
        return Op{std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t), std::get<4>(t)};
      }));
}

const char* kAccounts[] = {"alice", "bob"};
const std::string kUnknownUuid = "00000000-0000-4000-8000-00000000abcd";

// Runs operations against the honest server, judges every exchange and checks invariants the
// oracle does not decide itself (so a broken oracle that accepts everything still fails here).
struct Driver {
  World w;
  std::map<std::string, std::string> owner_of;  // uuid -> account, from the 201s seen
  std::map<std::string, std::string> jwt_owner;
  std::map<std::string, std::string> session;  // account -> latest session JWT
  std::vector<std::string> secrets;            // every secret a 201 returned
  std::vector<std::string> log;
  std::vector<std::string> problems;
  std::set<std::string> reached;  // "E3 404", "A1 200"...: for classifying runs
  std::vector<std::pair<HttpRequest, HttpResponse>> exchanges;  // every judged exchange

  std::string transcript() const {
    std::string out;
    for (const auto& l : log) out += "  " + l + "\n";
    for (const auto& p : problems) out += "  PROBLEM: " + p + "\n";
    return out;
  }

  HttpResponse exchange(const HttpRequest& req) {
    const std::vector<std::string> known_secrets = secrets;
    HttpResponse resp = w.honest(req);
    exchanges.emplace_back(req, resp);
    const auto v = w.judge(req, resp);
    log.push_back(req.target_line() + " -> " + std::to_string(resp.status));
    reached.insert(std::string(model::route_id(model::classify(req))) + " " +
                   std::to_string(resp.status));
    for (const auto& x : v) problems.push_back("[" + x.rule + "] " + x.message);
    // Independent: no earlier secret anywhere in this response.
    for (const auto& s : known_secrets) {
      bool seen = resp.body.find(s) != std::string::npos;
      for (const auto& [k, val] : resp.headers.entries)
        seen = seen || val.find(s) != std::string::npos;
      if (seen) problems.push_back("a secret came back in " + req.target_line());
    }
    // Independent: a caller only ever sees its own tokens.
    const auto auth = req.headers.get("Authorization");
    const std::string caller =
        auth && auth->rfind("Bearer ", 0) == 0 && jwt_owner.count(auth->substr(7))
            ? jwt_owner[auth->substr(7)]
            : "";
    const auto route = model::classify(req);
    if (resp.status == 201 && route == model::Route::kCreate) {
      const Json j = Json::parse(resp.body);
      owner_of[j.at("uuid").get<std::string>()] = caller;
      secrets.push_back(j.at("token").get<std::string>());
    }
    if (resp.status == 200 && !caller.empty() &&
        (route == model::Route::kList || route == model::Route::kGet)) {
      const Json j = Json::parse(resp.body);
      const Json items = route == model::Route::kList ? j.at("results") : Json::array({j});
      for (const auto& item : items) {
        const std::string uuid = item.at("uuid").get<std::string>();
        if (owner_of[uuid] != caller) problems.push_back(caller + " saw token " + uuid);
      }
    }
    return resp;
  }

  std::string login(const std::string& account) {
    std::string jwt;
    if (account == "bob") {
      auto r =
          exchange(post("/v2/users/login", {{"username", "bob"}, {"password", "bob-password-2"}}));
      if (r.status != 401) return "";
      const std::string tf = Json::parse(r.body).at("login_2fa_token").get<std::string>();
      auto r2 =
          exchange(post("/v2/users/2fa-login", {{"login_2fa_token", tf}, {"code", "246810"}}));
      if (r2.status != 200) return "";
      jwt = Json::parse(r2.body).at("token").get<std::string>();
    } else {
      auto r = exchange(
          post("/v2/auth/token", {{"identifier", account}, {"secret", "alice-password-1"}}));
      if (r.status != 200) return "";
      jwt = Json::parse(r.body).at("access_token").get<std::string>();
    }
    jwt_owner[jwt] = account;
    session[account] = jwt;
    return jwt;
  }

  std::string session_of(const std::string& account) {
    const auto live = model::session_jwts(w.state, account, Timestamp{w.now.micros + 60'000'000});
    if (session.count(account) &&
        std::find(live.begin(), live.end(), session[account]) != live.end()) {
      return session[account];
    }
    return login(account);
  }

  static std::string choose(const std::vector<std::string>& from, int pick,
                            const std::string& or_else) {
    return from.empty() ? or_else : from[static_cast<std::size_t>(pick) % from.size()];
  }

  std::string target(const std::string& account, int variant, int pick) {
    const auto i = model::interesting(w.state, account, w.now);
    switch (variant % 6) {
      case 0:
        return choose(i.live, pick, kUnknownUuid);
      case 1:
        return choose(i.deleted, pick, kUnknownUuid);
      case 2:
        return choose(i.others, pick, kUnknownUuid);
      case 3:
        return choose(i.expired, pick, kUnknownUuid);
      case 4:
        return kUnknownUuid;
      default:
        return "not-a-uuid";
    }
  }

  std::string secret(const std::string& account, int variant, int pick) {
    // PAT-shaped, never issued; spelled in two pieces so that `patrol scan` of the sources stays
    // clean.
    static const std::string kNotIssued = std::string("dckr_pat_") + "not_issued_000000000000";
    const auto i = model::interesting(w.state, account, w.now);
    switch (variant % 5) {
      case 0:
        return choose(i.usable_secrets, pick, kNotIssued);
      case 1:
        return choose(i.inactive_secrets, pick, kNotIssued);
      case 2:
        return choose(i.expired_secrets, pick, kNotIssued);
      case 3:
        return choose(i.deleted_secrets, pick, kNotIssued);
      default:
        return "wrong-secret";
    }
  }

  void run(const Op& op) {
    const std::string account = kAccounts[op.account];
    switch (op.kind) {
      case 0:
        login(account);
        break;
      case 1: {
        const std::string s = secret(account, op.variant, op.pick);
        if (op.variant % 2 == 0) {
          exchange(post("/v2/auth/token", {{"identifier", account}, {"secret", s}}));
        } else {
          exchange(post("/v2/users/login", {{"username", account}, {"password", s}}));
        }
        break;
      }
      case 2: {
        const std::string jwt = session_of(account);
        static const std::vector<Json> kScopes = {Json::array({"repo:read"}),
                                                  Json::array({"repo:admin"}),
                                                  Json::array({"repo:public_read", "repo:write"}),
                                                  Json::array({"repo:write"}),
                                                  Json::array(),
                                                  Json::array({"repo:everything"})};
        std::string label = "label-" + std::to_string(op.amount);
        if (op.variant == 7) label = "";
        if (op.variant == 8) label = std::string(101, 'x');
        if (op.variant == 9) {
          label.clear();
          for (int k = 0; k < 100; ++k) model::append_utf8(label, U'\u00e9');
        }
        Json body = {{"token_label", label},
                     {"scopes", kScopes[static_cast<std::size_t>(op.pick) % kScopes.size()]}};
        if (op.variant == 10)
          body["expires_at"] = model::format_rfc3339({w.now.micros - 3'600'000'000LL});
        if (op.variant == 11 || op.variant < 3) {
          body["expires_at"] =
              model::format_rfc3339({w.now.micros + (op.amount + 1) * 50'000'000LL});
        }
        exchange(post("/v2/access-tokens", body, jwt));
        break;
      }
      case 3: {
        static const int kSizes[] = {0, 1, 2, 3, 10, 100, 101};
        const int size = kSizes[op.variant % 7];
        exchange(request("GET",
                         "/v2/access-tokens?page=" + std::to_string(op.amount % 5) +
                             "&page_size=" + std::to_string(size),
                         "", session_of(account)));
        break;
      }
      case 4:
        exchange(request("GET", World::item(target(account, op.variant, op.pick)), "",
                         session_of(account)));
        break;
      case 5: {
        static const std::vector<std::string> kBodies = {R"({"is_active":false})",
                                                         R"({"is_active":true})",
                                                         R"({"token_label":"renamed"})",
                                                         R"({"token_label":""})",
                                                         "{}",
                                                         R"({"scopes":["repo:admin"]})",
                                                         R"({"is_active":"no"})",
                                                         "not json"};
        exchange(request("PATCH", World::item(target(account, op.pick, op.amount)),
                         kBodies[static_cast<std::size_t>(op.variant) % kBodies.size()],
                         session_of(account)));
        break;
      }
      case 6:
        exchange(request("DELETE", World::item(target(account, op.variant, op.pick)), "",
                         session_of(account)));
        break;
      case 7: {
        static const std::vector<std::string> kRepos = {"alice/public-app", "alice/private-app",
                                                        "bob/public-lib", "bob/private-lib",
                                                        "alice/unknown"};
        static const std::vector<std::string> kActions = {"pull", "push", "pull,push",
                                                          "pull,push,delete", "delete"};
        const std::string target_repo =
            kRegistry +
            "&scope=repository:" + kRepos[static_cast<std::size_t>(op.pick) % kRepos.size()] + ":" +
            kActions[static_cast<std::size_t>(op.amount) % kActions.size()];
        if (op.variant % 4 == 0) {
          exchange(request("GET", target_repo));
        } else if (op.variant % 4 == 1) {
          exchange(basic(target_repo, account,
                         account == "alice" ? "alice-password-1" : "bob-password-2"));
        } else {
          exchange(basic(target_repo, account, secret(account, op.variant, op.pick)));
        }
        break;
      }
      case 8:
        w.advance(op.amount * 37);
        break;
      default: {
        // E-routes with bearers that must not work (contract 4).
        const auto i = model::interesting(w.state, account, w.now);
        std::string bearer;
        if (op.variant % 4 == 1) bearer = choose(i.usable_secrets, op.pick, "raw");
        if (op.variant % 4 == 2) bearer = choose(i.pat_jwts, op.pick, "");
        if (op.variant % 4 == 3) bearer = choose(i.expired_jwts, op.pick, "");
        exchange(request("GET", "/v2/access-tokens", "", bearer));
        break;
      }
    }
  }

  // Every run starts from a populated world: sessions, a few tokens per account (one expiring
  // soon), and a PAT-derived JWT, so generated operations find something to act on.
  void warm_up() {
    for (const std::string account : {"alice", "bob"}) {
      const std::string jwt = login(account);
      for (int k = 0; k < 3; ++k) {
        Json body = World::create_body("warm-" + std::to_string(k), Json::array({"repo:write"}));
        if (k == 2) body["expires_at"] = model::format_rfc3339({w.now.micros + 400'000'000LL});
        exchange(post("/v2/access-tokens", body, jwt));
      }
      const auto usable = model::interesting(w.state, account, w.now).usable_secrets;
      if (!usable.empty()) {
        auto r = exchange(post("/v2/auth/token", {{"identifier", account}, {"secret", usable[0]}}));
        if (r.status == 200)
          jwt_owner[Json::parse(r.body).at("access_token").get<std::string>()] = "";
      }
    }
  }

  // State invariants: unique uuids, active_count <= count for every account.
  void check_state() {
    std::set<std::string> uuids;
    for (std::uint32_t t = 0; t < w.state.token_count(); ++t) {
      if (!uuids.insert(std::string(w.state.uuid(t))).second) {
        problems.push_back("uuid twice in the model: " + std::string(w.state.uuid(t)));
      }
    }
    for (std::uint16_t a = 0; a < w.state.account_count(); ++a) {
      const auto [lo, hi] =
          w.state.active_count_bounds(a, [](Timestamp) { return model::Tri::kNo; });
      if (lo > hi || hi > w.state.live_count(a)) problems.push_back("active_count above count");
    }
  }
};

RC_GTEST_PROP(OracleProperties, HonestSessionsAreAcceptedAndKeepTheInvariants, ()) {
  const auto ops = *gen_ops();
  Driver d;
  d.warm_up();
  for (const Op& op : ops) d.run(op);
  d.check_state();
  RC_CLASSIFY(d.reached.count("E3 404") != 0, "a GET got 404");
  RC_CLASSIFY(d.reached.count("E4 200") != 0, "a PATCH succeeded");
  RC_CLASSIFY(d.reached.count("E4 400") != 0, "a PATCH was refused");
  RC_CLASSIFY(d.reached.count("E2 404") != 0, "a page past the end");
  RC_CLASSIFY(d.reached.count("E2 403") != 0, "a PAT-derived JWT on E2");
  RC_CLASSIFY(d.reached.count("A1 200") != 0 || d.reached.count("A2 200") != 0, "a login");
  RC_CLASSIFY(d.reached.count("R1 200") != 0, "a registry token");
  RC_CLASSIFY(d.reached.count("R1 401") != 0, "a refused registry credential");
  RC_CLASSIFY(!model::interesting(d.w.state, "alice", d.w.now).expired.empty(), "an expired token");
  if (!d.problems.empty()) RC_LOG() << d.transcript();
  RC_ASSERT(d.problems.empty());
}

// The undo journal (ModelState::mark / rollback) the linearizability search backtracks with:
// rolling back restores the state exactly, nested marks included, and a rolled-back state judges
// the same exchanges as a copy that never journaled.
RC_GTEST_PROP(StateJournal, RollbackRestoresTheStateExactly, ()) {
  const auto before = *gen_ops();
  const auto after = *gen_ops();
  const auto split = *rc::gen::inRange<std::size_t>(0, after.size() + 1);
  Driver d;
  d.warm_up();
  for (const Op& op : before) d.run(op);
  const ModelState at_a = d.w.state;
  const std::size_t first = d.exchanges.size();
  d.w.state.start_journal();
  const ModelState::Mark a = d.w.state.mark();
  for (std::size_t i = 0; i < split; ++i) d.run(after[i]);
  const ModelState at_b = d.w.state;
  RC_ASSERT(!at_b.journaling());  // a copy leaves the journal behind
  const ModelState::Mark b = d.w.state.mark();
  for (std::size_t i = split; i < after.size(); ++i) d.run(after[i]);

  d.w.state.rollback(b);
  RC_ASSERT(d.w.state == at_b);
  RC_ASSERT(d.w.state.fingerprint() == at_b.fingerprint());
  d.w.state.rollback(a);
  RC_ASSERT(d.w.state == at_a);
  RC_ASSERT(d.w.state.fingerprint() == at_a.fingerprint());
  RC_ASSERT(d.w.state.token_count() == at_a.token_count());
  for (std::uint32_t t = 0; t < at_a.token_count(); ++t) {
    RC_ASSERT(d.w.state.find_token(at_a.uuid(t)) == std::optional<std::uint32_t>(t));
  }

  // Replayed, the same exchanges get the same verdicts as on a copy that never journaled.
  ModelState fresh = at_a;
  for (std::size_t i = first; i < d.exchanges.size(); ++i) {
    const auto& [req, resp] = d.exchanges[i];
    const auto x = model::judge_in_place(d.w.state, req, resp, d.w.now, d.w.profile);
    const auto y = model::judge_in_place(fresh, req, resp, d.w.now, d.w.profile);
    RC_ASSERT(x.size() == y.size());
    for (std::size_t k = 0; k < x.size(); ++k) RC_ASSERT(x[k].message == y[k].message);
  }
  RC_ASSERT(d.w.state == fresh);
}

// ---- A broken server is caught whatever happened before
// -------------------------------------------

const std::vector<std::pair<const char*, std::function<std::vector<Violation>(Driver&)>>>&
corruptions() {
  static const std::vector<std::pair<const char*, std::function<std::vector<Violation>(Driver&)>>>
      k = {
          {"3.1",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             auto r = d.exchange(post("/v2/access-tokens",
                                      World::create_body("c", Json::array({"repo:read"})), jwt));
             const Json j = Json::parse(r.body);
             auto req = request("GET", World::item(j["uuid"]), "", jwt);
             return d.w.judge(req,
                              mutate(d.w.honest(req), [&](Json& x) { x["token"] = j["token"]; }));
           }},
          {"3.6",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             auto r = d.exchange(post("/v2/access-tokens",
                                      World::create_body("c", Json::array({"repo:read"})), jwt));
             const std::string uuid = Json::parse(r.body)["uuid"];
             auto stale = d.w.honest(request("GET", World::item(uuid), "", jwt));
             d.exchange(request("DELETE", World::item(uuid), "", jwt));
             return d.w.judge(request("GET", World::item(uuid), "", jwt), stale);
           }},
          {"6",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             auto req = request("GET", "/v2/access-tokens?page=1&page_size=100", "", jwt);
             return d.w.judge(req, mutate(d.w.honest(req),
                                          [](Json& x) { x["count"] = x["count"].get<int>() + 1; }));
           }},
          {"8",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             return d.w.judge(request("GET", "/v2/access-tokens", "", jwt), response(502));
           }},
          {"3.8",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             auto r = d.exchange(post("/v2/access-tokens",
                                      World::create_body("c", Json::array({"repo:read"})), jwt));
             const Json j = Json::parse(r.body);
             d.exchange(request("PATCH", World::item(j["uuid"]), R"({"is_active":false})", jwt));
             return d.w.judge(
                 post("/v2/auth/token", {{"identifier", "alice"}, {"secret", j["token"]}}),
                 response(200,
                          Json{{"access_token", fake_jwt({{"username", "alice"},
                                                          {"scope", "repo:read"},
                                                          {"exp", d.w.now.seconds() + 600}})}}));
           }},
          {"4",
           [](Driver& d) {
             const auto bob = d.login("bob");
             auto r = d.exchange(post("/v2/access-tokens",
                                      World::create_body("c", Json::array({"repo:read"})), bob));
             const std::string uuid = Json::parse(r.body)["uuid"];
             const auto alice = d.login("alice");
             return d.w.judge(request("GET", World::item(uuid), "", alice),
                              d.w.honest(request("GET", World::item(uuid), "", bob)));
           }},
          {"3.9",
           [](Driver& d) {
             const auto jwt = d.login("alice");
             auto a = Json::parse(
                 d.exchange(post("/v2/access-tokens",
                                 World::create_body("a", Json::array({"repo:read"})), jwt))
                     .body);
             auto b = Json::parse(
                 d.exchange(post("/v2/access-tokens",
                                 World::create_body("b", Json::array({"repo:read"})), jwt))
                     .body);
             d.exchange(request("PATCH", World::item(a["uuid"]), R"({"is_active":false})", jwt));
             auto req = request("GET", World::item(b["uuid"]), "", jwt);
             return d.w.judge(req,
                              mutate(d.w.honest(req), [](Json& x) { x["is_active"] = false; }));
           }},
      };
  return k;
}

RC_GTEST_PROP(OracleProperties, ABrokenAnswerIsCaughtAfterAnyHonestHistory, ()) {
  const auto ops = *gen_ops();
  const auto which = *rc::gen::inRange<std::size_t>(0, corruptions().size());
  Driver d;
  d.warm_up();
  for (const Op& op : ops) d.run(op);
  RC_PRE(d.problems.empty());
  const auto& [rule, corrupt] = corruptions()[which];
  const auto v = corrupt(d);
  bool found = false;
  for (const auto& x : v) found = found || x.rule == rule;
  RC_ASSERT(found);
}

// ---- JSON tape against nlohmann
// ------------------------------------------------------------------

rc::Gen<std::string> gen_utf8() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
          rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
          rc::gen::inRange<std::uint32_t>(0xE000, 0x110000))),
      [](const std::vector<std::uint32_t>& cps) {
        std::string s;
        for (const auto cp : cps) model::append_utf8(s, static_cast<char32_t>(cp));
        return s;
      });
}

rc::Gen<Json> gen_json(int depth) {
  auto scalar = rc::gen::oneOf(
      rc::gen::just(Json(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Json(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Json(i); }),
      rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<double>(),
                                     [](double x) { return std::isfinite(x); }),
                   [](double x) { return Json(x); }),
      rc::gen::map(gen_utf8(), [](const std::string& s) { return Json(s); }));
  if (depth == 0) return scalar;
  return rc::gen::oneOf(
      scalar,
      rc::gen::map(rc::gen::resize(6, rc::gen::container<std::vector<Json>>(gen_json(depth - 1))),
                   [](const std::vector<Json>& v) { return Json(v); }),
      rc::gen::map(rc::gen::resize(6, rc::gen::container<std::map<std::string, Json>>(
                                          gen_utf8(), gen_json(depth - 1))),
                   [](const std::map<std::string, Json>& m) { return Json(m); }));
}

Json to_json(const model::JsonTape& t, std::uint32_t i) {
  const auto& n = t.node(i);
  std::string scratch;
  switch (n.kind) {
    case model::JsonKind::kNull:
      return nullptr;
    case model::JsonKind::kTrue:
      return true;
    case model::JsonKind::kFalse:
      return false;
    case model::JsonKind::kString:
      return std::string(t.str(i, scratch));
    case model::JsonKind::kNumber:
      if (n.integral) {
        if (auto v = t.integer(i)) return *v;
      }
      return t.number(i);
    case model::JsonKind::kArray: {
      Json a = Json::array();
      for (auto e = t.first_child(i); e < n.end; e = t.next_sibling(e)) a.push_back(to_json(t, e));
      return a;
    }
    case model::JsonKind::kObject: {
      Json o = Json::object();
      for (auto k = t.first_child(i); k < n.end; k = t.next_sibling(k + 1)) {
        o[std::string(t.str(k, scratch))] = to_json(t, k + 1);
      }
      return o;
    }
  }
  return nullptr;
}

RC_GTEST_PROP(JsonTapeProperties, ReadsBackWhatNlohmannWrites, ()) {
  const Json value = *gen_json(3);
  const std::string text = value.dump(*rc::gen::element(-1, 2));
  model::JsonTape t;
  RC_ASSERT(t.parse(text));
  RC_ASSERT(to_json(t, 0) == value);
}

RC_GTEST_PROP(JsonTapeProperties, AcceptsExactlyWhatNlohmannAccepts, ()) {
  const std::string alphabet = "{}[],:\"\\/0123456789.-+eEtrufalsnu \t\n\x01\xc3\xa9\xff";
  // Mostly near-JSON: a valid document with a few bytes replaced, inserted or dropped.
  std::string text = (*gen_json(2)).dump();
  const auto edits = *rc::gen::resize(
      3, rc::gen::container<std::vector<std::tuple<int, std::size_t, char>>>(
             rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::arbitrary<std::size_t>(),
                            rc::gen::elementOf(alphabet))));
  for (const auto& [op, at, c] : edits) {
    const std::size_t i = text.empty() ? 0 : at % (text.size() + 1);
    if (op == 0) text.insert(text.begin() + static_cast<std::ptrdiff_t>(i), c);
    if (op == 1 && i < text.size()) text[i] = c;
    if (op == 2 && i < text.size()) text.erase(i, 1);
  }
  RC_LOG() << "text: " << text;
  model::JsonTape t;
  const bool accepted = Json::accept(text);
  RC_CLASSIFY(accepted);
  RC_ASSERT(t.parse(text) == accepted);
}

// ---- Secret search
// -------------------------------------------------------------------------------

RC_GTEST_PROP(SecretSearch, ReportsExactlyTheOccurrences, ()) {
  const auto piece = rc::gen::container<std::string>(rc::gen::elementOf(std::string("ab_x")));
  const auto secrets = *rc::gen::resize(
      8, rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(rc::gen::nonEmpty(piece))));
  const auto parts = *rc::gen::container<std::vector<std::pair<bool, std::size_t>>>(
      rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange<std::size_t>(0, 64)));
  std::string text;
  for (const auto& [plant, k] : parts) {
    text += plant ? secrets[k % secrets.size()] : std::string(k % 9, 'z');
  }
  ModelState s(model::default_fixture());
  for (const auto& x : secrets) s.add_secret(x, model::kNoIndex);
  std::set<std::pair<std::uint32_t, std::size_t>> want;
  for (std::uint32_t i = 0; i < secrets.size(); ++i) {
    for (auto p = text.find(secrets[i]); p != std::string::npos; p = text.find(secrets[i], p + 1)) {
      want.insert({i, p});
    }
  }
  std::set<std::pair<std::uint32_t, std::size_t>> got;
  s.scan_secrets(text, [&](std::uint32_t si, std::size_t at) { got.insert({si, at}); });
  RC_ASSERT(got == want);
}

// ---- Arbitrary exchanges
// -------------------------------------------------------------------------

RC_GTEST_PROP(OracleProperties, ArbitraryExchangesGiveWellFormedViolations, ()) {
  Driver d;
  const auto jwt = d.login("alice");
  d.exchange(post("/v2/access-tokens", World::create_body("x", Json::array({"repo:read"})), jwt));
  const std::string method =
      *rc::gen::element<std::string>("GET", "POST", "PATCH", "DELETE", "PUT");
  const std::string path = *rc::gen::element<std::string>(
      "/v2/access-tokens", "/v2/access-tokens/", "/v2/access-tokens/" + kUnknownUuid,
      "/v2/access-tokens/x%2", "/v2/auth/token", "/v2/users/login", "/v2/users/2fa-login", "/token",
      "/elsewhere");
  const std::string alphabet = "{}[],:\"\\0123456789.-etrufalsn azAZ_\xc3\xa9\xff";
  const auto body = *rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  const auto query = *rc::gen::container<std::string>(
      rc::gen::elementOf(std::string("page_size=&0123.:/repository")));
  const int status =
      *rc::gen::element(0, 200, 201, 204, 301, 400, 401, 403, 404, 405, 429, 500, 503, 1000);
  HttpRequest req =
      request(method, path + (query.empty() ? "" : "?" + query), body,
              *rc::gen::element<std::string>(std::string(jwt), std::string(), std::string("x.y.z"),
                                             std::string("Zm9v")));
  HttpResponse resp = response(
      status, *rc::gen::element<std::string>(std::string(body), std::string(), std::string("{}"),
                                             std::string("{\"message\":\"no\"}")));
  const auto v = d.w.judge(req, resp);
  for (const auto& x : v) {
    RC_ASSERT(x.rule != "internal");
    RC_ASSERT(x.message.find('\n') == std::string::npos);
    const std::string tail = "(contract " + x.rule + ")";
    RC_ASSERT(x.message.size() >= tail.size());
    RC_ASSERT(x.message.compare(x.message.size() - tail.size(), tail.size(), tail) == 0);
  }
}

}  // namespace
}  // namespace patrol::oracle_test
