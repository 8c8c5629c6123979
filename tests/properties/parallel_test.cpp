// Parallel runs against the embedded reference server: its concurrency faults are killed by
// --parallel runs and not by sequential ones, the unfaulted server passes repeated parallel runs,
// failing programs shrink, and the race scheduler interleaves deterministically (no sleeps: the
// server's race_window_hook holds a window open until the other branches catch up).
#include "properties/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "app/targets.hpp"
#include "properties/runner.hpp"

namespace patrol::properties {
namespace {

std::unique_ptr<Target> embedded(std::vector<std::string> faults, RaceScheduler* scheduler,
                                 bool in_process = false) {
  app::EmbeddedOptions eo;
  eo.server.faults = std::move(faults);
  eo.in_process = in_process;
  if (scheduler != nullptr) {
    eo.server.race_window_hook = [scheduler](std::string_view w) { scheduler->window(w); };
  } else {
    eo.server.race_window_hook = [](std::string_view) {};  // no window lasts
  }
  auto t = app::make_embedded_target(std::move(eo));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(*t) : nullptr;
}

ParallelOptions quick(RaceScheduler* scheduler, std::uint64_t seed) {
  ParallelOptions o;
  o.branches = 3;
  o.runs = 40;
  o.repeats = 2;
  o.shrink_repeats = 3;
  o.confirm_repeats = 5;
  o.seed = seed;
  o.scheduler = scheduler;
  return o;
}

class ConcurrencyFault : public ::testing::TestWithParam<const char*> {};

TEST_P(ConcurrencyFault, IsKilledByParallelRunsAndShrinksToTwoBranches) {
  RaceScheduler scheduler;
  auto target = embedded({GetParam()}, &scheduler);
  ASSERT_NE(target, nullptr);
  const ParallelOptions options = quick(&scheduler, 7);
  ParallelResult r = run_parallel(*target, options);
  ASSERT_FALSE(r.error) << r.error->message;
  ASSERT_TRUE(r.failed) << render_parallel_text(r, options);
  ASSERT_TRUE(r.failure.has_value());
  ASSERT_TRUE(r.failure->verdict.counterexample.has_value());
  EXPECT_EQ(r.failure->verdict.verdict, Linearizable::kNo);
  // A race needs two clients; the shrunk program keeps little else.
  EXPECT_EQ(r.program.branches.size(), 2u) << render_parallel_text(r, options);
  EXPECT_LE(r.program.size(), 4u) << render_parallel_text(r, options);
  EXPECT_GT(r.failures, 0) << render_parallel_text(r, options);
  EXPECT_EQ(r.attempts, options.confirm_repeats);
  EXPECT_GT(scheduler.held(), 0);
  EXPECT_EQ(scheduler.timeouts(), 0);  // every window was ended by the branches, not the clock

  // The recorded history, written redacted and read back, still fails on its own.
  auto again = decode_history(encode_history(redact_history(r.failure->history)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(check_linearizable(*again, options.profile).verdict, Linearizable::kNo);
  const std::string text = render_parallel_text(r, options);
  EXPECT_NE(text.find("FAILED"), std::string::npos);
  EXPECT_NE(text.find("branch 2"), std::string::npos);
}

TEST_P(ConcurrencyFault, SurvivesSequentialRuns) {
  auto target = embedded({GetParam()}, nullptr);
  ASSERT_NE(target, nullptr);
  CheckOptions o;
  o.runs = 40;
  o.seed = 7;
  CheckResult r = run_check(*target, o);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_FALSE(r.summary.failed) << r.summary.violations.front().message;
  EXPECT_EQ(r.summary.runs_passed, 40);
}

INSTANTIATE_TEST_SUITE_P(Server, ConcurrencyFault,
                         ::testing::Values("lost-update-patch", "create-visible-before-readable",
                                           "count-drift"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(ParallelRuns, UnfaultedServerPassesRepeatedRunsOverLoopback) {
  RaceScheduler scheduler;
  auto target = embedded({}, &scheduler);
  ASSERT_NE(target, nullptr);
  ParallelOptions o = quick(&scheduler, 11);
  o.runs = 30;
  o.repeats = 3;
  ParallelResult r = run_parallel(*target, o);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_FALSE(r.failed) << render_parallel_text(r, o);
  EXPECT_EQ(r.programs, 30);
  EXPECT_EQ(r.executions, 90);
  EXPECT_EQ(r.unknown, 0);
  EXPECT_GT(r.operations, 90 * 5);
}

TEST(ParallelRuns, UnfaultedServerPassesWithFourBranchesInProcess) {
  auto target = embedded({}, nullptr, /*in_process=*/true);
  ASSERT_NE(target, nullptr);
  ParallelOptions o = quick(nullptr, 12);
  o.branches = 4;
  o.branch_steps = 6;
  o.runs = 25;
  ParallelResult r = run_parallel(*target, o);
  ASSERT_FALSE(r.error) << r.error->message;
  EXPECT_FALSE(r.failed) << render_parallel_text(r, o);
  EXPECT_EQ(r.unknown, 0);
}

TEST(ParallelRuns, HistoryHasThePrefixOnClientZeroBeforeEveryBranch) {
  auto target = embedded({}, nullptr);
  ASSERT_NE(target, nullptr);
  ParallelOptions o;
  o.branches = 3;
  ParallelProgram p = generate_program(5, o);
  ASSERT_EQ(p.branches.size(), 3u);
  EXPECT_EQ(generate_program(5, o), p);  // the seed decides the program
  auto ex = execute_program(*target, p, o);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  const auto& ops = ex->history.operations;
  ASSERT_FALSE(ops.empty());
  std::int64_t prefix_end = 0;
  std::map<int, std::int64_t> last_response;
  for (const auto& op : ops) {
    ASSERT_GE(op.client, 0);
    ASSERT_LE(op.client, 3);
    EXPECT_LE(op.invoke_ns, op.response_ns);
    EXPECT_FALSE(op.command.empty());
    if (op.client == 0) prefix_end = std::max(prefix_end, op.response_ns);
    // One client's operations follow one another.
    EXPECT_GE(op.invoke_ns, last_response[op.client]);
    last_response[op.client] = op.response_ns;
  }
  for (const auto& op : ops) {
    if (op.client != 0) {
      EXPECT_GE(op.invoke_ns, prefix_end);
    }
  }
  EXPECT_EQ(ex->branches_shown.size(), 3u);
  EXPECT_EQ(ex->verdict.verdict, Linearizable::kYes) << ex->verdict.reason;
}

// A target that only lets one client in.
class GuardedTarget final : public Target {
 public:
  http::Transport& transport() override { return t_; }
  model::Timestamp now() override { return {}; }
  bool guarded() const override { return true; }
  const model::Fixture& fixture() const override { return f_; }
  std::string describe() const override { return "guarded"; }

 private:
  http::FunctionTransport t_{[](const model::HttpRequest&) { return model::HttpResponse{}; }};
  model::Fixture f_ = model::default_fixture();
};

TEST(ParallelRuns, RefusesGuardedLiveTargets) {
  GuardedTarget target;
  ParallelResult r = run_parallel(target, ParallelOptions{});
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("guarded live target"), std::string::npos);
  EXPECT_EQ(r.executions, 0);
}

// A branch as the scheduler sees it: requests, some of which stop in a race window; every event
// is logged in the order it happened.
struct ScriptedBranch {
  RaceScheduler& s;
  int id;
  std::mutex& mu;
  std::vector<std::string>& log;

  void note(const std::string& e) {
    std::lock_guard lock(mu);
    log.push_back(std::to_string(id) + ":" + e);
  }
  void request(const std::string& name, bool window) {
    s.begin_request(id);
    note(name);
    if (window) {
      s.window(name);
      note(name + " resumed");
    }
    s.end_request(id);
  }
};

TEST(RaceScheduler, HoldsAWindowUntilTheOtherClientArrives) {
  RaceScheduler s(std::chrono::minutes(10));
  s.arm(2);
  std::mutex mu;
  std::vector<std::string> log;
  std::thread a([&] {
    ScriptedBranch b{s, 0, mu, log};
    b.request("patch", true);
    s.client_done(0);
  });
  std::thread b([&] {
    ScriptedBranch br{s, 1, mu, log};
    br.request("patch", true);
    s.client_done(1);
  });
  a.join();
  b.join();
  s.disarm();
  // Both requests are inside the window before either leaves it, branch 0 first, whichever
  // thread ran first.
  EXPECT_EQ(log,
            (std::vector<std::string>{"0:patch", "1:patch", "0:patch resumed", "1:patch resumed"}));
  EXPECT_EQ(s.held(), 2);
  EXPECT_EQ(s.timeouts(), 0);
}

TEST(RaceScheduler, ARequestOutsideAnyWindowRunsWhileAWindowIsHeld) {
  // Branch 0 creates (a window); branch 1 lists and reads, touching no window. The listing runs
  // inside branch 0's window on every execution, however the threads are scheduled.
  for (int round = 0; round < 50; ++round) {
    RaceScheduler s(std::chrono::minutes(10));
    s.arm(2);
    std::mutex mu;
    std::vector<std::string> log;
    std::thread lister([&] {
      ScriptedBranch b{s, 1, mu, log};
      b.request("list", false);
      b.request("read", false);
      s.client_done(1);
    });
    std::thread creator([&] {
      ScriptedBranch b{s, 0, mu, log};
      b.request("create", true);
      s.client_done(0);
    });
    lister.join();
    creator.join();
    s.disarm();
    ASSERT_EQ(log, (std::vector<std::string>{"0:create", "1:list", "1:read", "0:create resumed"}))
        << "round " << round;
    EXPECT_EQ(s.held(), 1);
  }
}

TEST(RaceScheduler, TurnsGoRoundRobinAndOneRequestRunsAtATime) {
  RaceScheduler s(std::chrono::minutes(10));
  s.arm(3);
  std::mutex mu;
  std::vector<std::string> log;
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int id = 2; id >= 0; --id) {
    threads.emplace_back([&, id] {
      for (int k = 0; k < 2; ++k) {
        s.begin_request(id);
        const int now = ++running;
        most = std::max(most.load(), now);
        {
          std::lock_guard lock(mu);
          log.push_back(std::to_string(id));
        }
        --running;
        s.end_request(id);
      }
      s.client_done(id);
    });
  }
  for (auto& t : threads) t.join();
  s.disarm();
  EXPECT_EQ(log, (std::vector<std::string>{"0", "1", "2", "0", "1", "2"}));
  EXPECT_EQ(most.load(), 1);
}

TEST(RaceScheduler, PassesAtOnceWhenTheOthersAreDoneOrNotRacing) {
  RaceScheduler s(std::chrono::minutes(10));
  s.window("create");  // not armed
  s.arm(1);
  s.begin_request(0);
  s.window("create");  // the only client
  s.end_request(0);
  s.client_done(0);
  s.arm(3);
  s.client_done(0);
  s.client_done(1);
  s.begin_request(2);
  s.window("count");  // everyone else finished
  s.end_request(2);
  s.window("count");  // a request the scheduler did not start
  EXPECT_EQ(s.held(), 0);
  s.disarm();
  EXPECT_EQ(s.timeouts(), 0);
}

TEST(RaceScheduler, AFinishingClientReleasesTheWaitingOne) {
  RaceScheduler s(std::chrono::minutes(10));
  s.arm(2);
  std::thread a([&] {
    s.begin_request(0);
    s.window("count");
    s.end_request(0);
    s.client_done(0);
  });
  s.client_done(1);
  a.join();
  s.disarm();
  EXPECT_EQ(s.timeouts(), 0);
}

TEST(RaceScheduler, AStuckBranchEndsSchedulingAfterMaxWaitInsteadOfHanging) {
  RaceScheduler s(std::chrono::milliseconds(1));
  s.arm(2);
  s.begin_request(0);  // branch 1 never shows up: the turn cannot be granted
  s.window("patch");
  s.end_request(0);
  EXPECT_GE(s.timeouts(), 1);
  s.disarm();
}

}  // namespace
}  // namespace patrol::properties
