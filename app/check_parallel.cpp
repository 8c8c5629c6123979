#include "app/check_parallel.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "app/files.hpp"
#include "properties/report.hpp"

namespace patrol::app {

int run_parallel_check(const Args& args, properties::Target& target,
                       const properties::CheckOptions& check, properties::RaceScheduler* scheduler,
                       const std::string& repro) {
  auto n = args.integer("parallel", 2);
  if (!n.ok()) {
    std::cerr << "patrol check: " << n.error().message << "\n";
    return kExitUsage;
  }
  if (*n < 2 || *n > 16) {
    std::cerr << "patrol check: --parallel must be between 2 and 16 branches\n";
    return kExitUsage;
  }
  properties::ParallelOptions o;
  o.branches = static_cast<int>(*n);
  o.runs = check.runs;
  o.seed = check.seed;
  o.shrink = check.shrink;
  o.time_budget_s = check.time_budget_s;
  o.generator = check.generator;
  o.profile = check.profile;
  o.scheduler = scheduler;
  o.interrupted = check.interrupted;
  if (args.has("max-steps")) o.branch_steps = check.max_steps;
  // The reproduce line states the branch length the programs were generated with.
  std::string again = repro;
  if (auto at = again.find(" --max-steps "); at != std::string::npos) {
    auto end = again.find(' ', at + 13);
    again.replace(at, end == std::string::npos ? std::string::npos : end - at,
                  " --max-steps " + std::to_string(o.branch_steps));
  }
  const bool tty = ::isatty(2);
  o.progress = [&](int done, int total, bool failing) {
    if (tty) {
      std::fprintf(stderr, "\r  %d/%d programs%s   ", done, total,
                   failing ? ", shrinking a failure" : "");
      std::fflush(stderr);
    } else if (failing || done == total || done % std::max(1, total / 10) == 0) {
      std::fprintf(stderr, "  %d/%d programs%s\n", done, total,
                   failing ? ", shrinking a failure" : "");
    }
  };
  std::cerr << "patrol check --parallel " << o.branches << ": " << target.describe() << ", profile "
            << o.profile.name << ", seed " << o.seed << "\n";

  properties::ParallelResult r = properties::run_parallel(target, o);
  if (tty) std::fprintf(stderr, "\n");
  if (r.error) {
    std::cerr << "patrol check: " << r.error->message << "\n";
    return r.error->kind == model::ErrorKind::kInvalid ? kExitUsage : kExitUnreachable;
  }
  std::cout << properties::render_parallel_text(r, o);

  properties::RunSummary sum;
  sum.target = target.describe() + ", " + std::to_string(o.branches) + " concurrent clients";
  sum.profile = o.profile.name;
  sum.seed = o.seed;
  sum.runs_requested = o.runs;
  sum.runs_passed = r.failed ? r.programs - 1 : r.programs;
  sum.steps = r.operations;
  sum.seconds = r.seconds;
  sum.failed = r.failed;
  if (r.failed) {
    sum.reproduce = again + " --parallel " + std::to_string(o.branches);
    std::cout << "\nreproduce (races recur often, not always): " << sum.reproduce << "\n";
  }
  if (r.failed && r.failure && r.failure->verdict.counterexample) {
    const auto& ce = *r.failure->verdict.counterexample;
    for (const auto& v : ce.why) sum.violations.push_back({v.rule, v.message, v.excerpt});
    if (sum.violations.empty()) {
      sum.violations.push_back({"8", "no sequential order explains the history", ""});
    }
    std::istringstream lines(properties::render_timeline_text(r.failure->history, ce));
    for (std::string line; std::getline(lines, line);) sum.transcript.push_back(line);

    const std::string dir = args.value("bundle").value_or("patrol-repro-" + std::to_string(o.seed));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const properties::History redacted = properties::redact_history(r.failure->history);
    model::Status st =
        ec ? model::Status(model::make_error(model::ErrorKind::kIo, dir + ": " + ec.message()))
           : write_file_atomic(dir + "/history.json",
                               properties::encode_history(redacted).dump(2) + "\n");
    if (st.ok()) {
      st = write_file_atomic(dir + "/timeline.html",
                             properties::render_timeline_html(r.failure->history, ce));
    }
    if (st.ok()) {
      st = write_file_atomic(dir + "/timeline.txt",
                             properties::render_timeline_text(r.failure->history, ce));
    }
    if (st.ok()) {
      sum.bundle_dir = dir;
      std::cout << "history and timelines: " << dir << "/history.json, " << dir
                << "/timeline.html, " << dir << "/timeline.txt\n"
                << "check it again offline: patrol linearize " << dir << "/history.json\n";
    } else {
      std::cerr << "patrol check: history not written: " << st.error().message << "\n";
    }
  }

  int rc = r.failed ? kExitViolations : kExitOk;
  if (auto file = args.value("junit")) {
    if (auto st = write_file_atomic(*file, properties::render_junit(sum)); !st.ok()) {
      std::cerr << "patrol check: " << st.error().message << "\n";
      rc = rc == kExitOk ? kExitUsage : rc;
    }
  }
  if (auto file = args.value("json")) {
    auto j = properties::render_json(sum);
    j["parallel"] = {{"branches", o.branches},         {"programs", r.programs},
                     {"executions", r.executions},     {"unknown", r.unknown},
                     {"shrink_steps", r.shrink_steps}, {"failures", r.failures},
                     {"attempts", r.attempts}};
    if (auto st = write_file_atomic(*file, j.dump(2) + "\n"); !st.ok()) {
      std::cerr << "patrol check: " << st.error().message << "\n";
      rc = rc == kExitOk ? kExitUsage : rc;
    }
  }
  return rc;
}

}  // namespace patrol::app
