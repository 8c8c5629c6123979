// Parallel runs against the embedded reference server: its concurrency faults are killed by
// --parallel runs and not by sequential ones, the unfaulted server passes repeated parallel runs,
// failing programs shrink, and the race scheduler interleaves deterministically (no sleeps: the
// server's race_window_hook holds a window open until the other branches catch up).
#include "properties/parallel.hpp"

#include <gtest/gtest.h>

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
    if (op.client != 0) EXPECT_GE(op.invoke_ns, prefix_end);
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

TEST(RaceScheduler, HoldsAWindowUntilTheOtherClientArrives) {
  RaceScheduler s(std::chrono::minutes(10));
  s.arm(2);
  std::thread a([&] { s.window("patch"); });
  std::thread b([&] { s.window("patch"); });
  a.join();
  b.join();
  EXPECT_EQ(s.held(), 1);  // whichever came first waited for the other
  s.disarm();
}

TEST(RaceScheduler, PassesAtOnceWhenTheOthersAreDoneOrNotRacing) {
  RaceScheduler s(std::chrono::minutes(10));
  s.window("create");  // not armed
  s.arm(1);
  s.window("create");  // the only client
  s.arm(3);
  s.client_done();
  s.client_done();
  s.window("count");  // everyone else finished
  EXPECT_EQ(s.held(), 0);
  s.disarm();
}

TEST(RaceScheduler, AFinishingClientReleasesTheWaitingOne) {
  RaceScheduler s(std::chrono::minutes(10));
  s.arm(2);
  std::thread a([&] { s.window("count"); });
  s.client_done();
  a.join();
  s.disarm();
}

}  // namespace
}  // namespace patrol::properties
