// The checker against histories whose answer is known: clients keep requests in flight against
// the reference server, each request takes effect at a random instant inside its interval, so
// the history is linearizable by construction (no false alarm allowed); a response then edited
// to show a label nobody ever wrote has no explanation at all.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <queue>
#include <random>
#include <tuple>

#include "history_builder.hpp"
#include "properties/linearizability.hpp"

namespace patrol::properties {
namespace {

using model::HttpRequest;
using model::Json;

// Simulates `clients` clients of alice issuing `per_client` requests each on a few shared
// tokens; `listings` adds E2 requests (which keep the account in one part).
History concurrent_history(int clients, int per_client, bool listings, std::uint64_t seed) {
  testing::HistoryBuilder b;
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const std::string jwt = b.login_alice(0, 0, 10);
  std::vector<std::string> live;
  live.push_back(b.create(0, 20, 30, jwt, "seed").first);

  struct Pending {
    HttpRequest request;
    std::int64_t invoke = 0;
    std::size_t index = 0;
    int left = 0;
  };
  std::vector<Pending> pending(static_cast<std::size_t>(clients));
  using Ev = std::tuple<std::int64_t, int, int>;  // time, 0 = takes effect / 1 = answers, client
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> q;
  auto begin = [&](int c, std::int64_t at) {
    const int roll = static_cast<int>(uniform(0, 99));
    const std::string uuid = live[static_cast<std::size_t>(uniform(0, live.size() - 1))];
    HttpRequest r;
    if (roll < 20) {
      r = json_request(
          "POST", "/v2/access-tokens", jwt,
          Json{{"token_label", "c" + std::to_string(c)}, {"scopes", {"repo:read"}}}.dump());
    } else if (roll < 40) {
      r = json_request("GET", "/v2/access-tokens/" + uuid, jwt, "");
    } else if (roll < 75) {
      Json body = uniform(0, 1) ? Json{{"token_label", "l" + std::to_string(uniform(0, 9))}}
                                : Json{{"is_active", uniform(0, 1) == 1}};
      r = json_request("PATCH", "/v2/access-tokens/" + uuid, jwt, body.dump());
    } else if (roll < 85 || !listings) {
      r = json_request("DELETE", "/v2/access-tokens/" + uuid, jwt, "");
    } else {
      r = json_request("GET", "/v2/access-tokens", jwt, "");
      r.query = "page_size=100";
    }
    Pending& p = pending[static_cast<std::size_t>(c)];
    p.request = std::move(r);
    p.invoke = at;
    const std::int64_t duration = uniform(1, 400);
    q.push({at + uniform(0, duration), 0, c});
    q.push({at + duration, 1, c});
  };
  for (int c = 0; c < clients; ++c) {
    pending[static_cast<std::size_t>(c)].left = per_client - 1;
    begin(c, 40 + uniform(0, 50));
  }
  while (!q.empty()) {
    auto [t, kind, c] = q.top();
    q.pop();
    Pending& p = pending[static_cast<std::size_t>(c)];
    if (kind == 0) {
      p.index = b.op(c + 1, p.invoke, p.invoke, p.request);
      continue;
    }
    Operation& op = b.at(p.index);
    op.response_ns = t;
    if (op.request.method == "POST" && op.response.status == 201) {
      live.push_back(b.body(p.index).value("uuid", std::string()));
    }
    if (p.left-- > 0) begin(c, t + uniform(0, 60));
  }
  return std::move(b.history);
}

RC_GTEST_PROP(LinearizabilityProp, HistoriesThatTookEffectInsideTheirIntervalsAreLinearizable, ()) {
  const int clients = *rc::gen::inRange(2, 6);
  const int per_client = *rc::gen::inRange(1, 8);
  const bool listings = *rc::gen::arbitrary<bool>();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const History h = concurrent_history(clients, per_client, listings, seed);
  const auto r = check_linearizable(h, model::Profile::hub());
  RC_ASSERT(r.verdict == Linearizable::kYes);
  // Checked as one part, the answer is the same.
  CheckLimits whole;
  whole.split = false;
  RC_ASSERT(check_linearizable(h, model::Profile::hub(), whole).verdict == Linearizable::kYes);
}

RC_GTEST_PROP(LinearizabilityProp, ALabelNobodyWroteHasNoExplanation, ()) {
  const int clients = *rc::gen::inRange(2, 6);
  const int per_client = *rc::gen::inRange(1, 8);
  const bool listings = *rc::gen::arbitrary<bool>();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  History h = concurrent_history(clients, per_client, listings, seed);
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < h.operations.size(); ++i) {
    const auto& op = h.operations[i];
    if (op.response.status == 200 && op.request.path.size() > 18 &&
        op.response.body.find("\"token_label\"") != std::string::npos) {
      candidates.push_back(i);
    }
  }
  RC_PRE(!candidates.empty());
  const std::size_t victim = *rc::gen::elementOf(candidates);
  Json body = Json::parse(h.operations[victim].response.body);
  body["token_label"] = "never-written";
  h.operations[victim].response.body = body.dump();
  const auto r = check_linearizable(h, model::Profile::hub());
  RC_ASSERT(r.verdict == Linearizable::kNo);
  // The edited response is in the unexplainable part (stuck there, or at an operation that
  // observed its effect and answered first).
  const auto& ops = r.counterexample->operations;
  RC_ASSERT(std::find(ops.begin(), ops.end(), victim) != ops.end());
}

TEST(Linearizability, LongCounterexamplesShowAWindowAroundTheStuckOperation) {
  testing::HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, jwt);
  for (int i = 0; i < 60; ++i) {
    b.patch(1, 100 + i * 10, 105 + i * 10, jwt, uuid,
            {{"token_label", "step-" + std::to_string(i)}});
  }
  auto last = b.patch(2, 800, 810, jwt, uuid, {{"is_active", false}});
  b.edit(last, {{"token_label", "step-3"}});
  auto r = check_linearizable(b.history, model::Profile::hub());
  ASSERT_EQ(r.verdict, Linearizable::kNo);
  EXPECT_EQ(r.counterexample->stuck, last);
  const std::string text = render_timeline_text(b.history, *r.counterexample);
  EXPECT_NE(text.find("no order of these 63 operations"), std::string::npos) << text;
  EXPECT_NE(text.find("showing #24..#63 of 63 operations"), std::string::npos) << text;
  EXPECT_NE(text.find("(50 earlier operations), "), std::string::npos) << text;
  EXPECT_EQ(text.find("  #1 "), std::string::npos) << text;
}

}  // namespace
}  // namespace patrol::properties
