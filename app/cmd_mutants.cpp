// `patrol mutants`: runs the conformance checks against the embedded reference server with each
// catalogued fault switched on and prints the kill matrix. A fault that survives means patrol's
// checks have a blind spot.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/files.hpp"
#include "app/targets.hpp"
#include "properties/parallel.hpp"
#include "properties/runner.hpp"
#include "server/faults.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"fault", true, true, "only these faults (default: the whole catalogue)", "NAME"},
    {"runs", true, false, "sequences per fault at most (default 300)", "N"},
    {"max-steps", true, false, "commands per sequence at most (default 40)", "N"},
    {"seed", true, false, "random seed (default 1)", "N"},
    {"loopback", false, false, "talk to each server over loopback instead of in-process"},
    {"json", true, false, "write the kill matrix as JSON", "FILE"},
};

constexpr const char* kUsage =
    "usage: patrol mutants [options]\n\n"
    "Runs `patrol check` against the embedded server once per catalogued fault and prints\n"
    "which faults the checks kill. Exits 1 if any fault survives. Faults that only show under\n"
    "concurrency are run as parallel programs of two clients over loopback, their histories\n"
    "judged for linearizability.\n\noptions:\n";

// Faults whose defect shows only when requests overlap: a sequential run cannot see them.
// Programs of two concurrent branches tried per concurrency fault.
constexpr int kParallelPrograms = 100;

bool concurrency_only(std::string_view name) {
  return name == "lost-update-patch" || name == "create-visible-before-readable" ||
         name == "count-drift";
}

struct Row {
  std::string fault;
  std::string section;
  std::string outcome;  // "killed", "SURVIVED"
  std::string rule;
  std::int64_t steps = 0;
  double seconds = 0;
};

}  // namespace

int run_mutants(int argc, char** argv) {
  auto parsed = Args::parse(kOptions, argc, argv);
  if (!parsed.ok()) {
    std::cerr << "patrol mutants: " << parsed.error().message << "\n";
    return kExitUsage;
  }
  const Args& args = *parsed;
  if (args.help()) {
    std::cout << kUsage << format_options(kOptions);
    return kExitOk;
  }
  auto runs = args.integer("runs", 300);
  auto steps = args.integer("max-steps", 40);
  auto seed = args.integer("seed", 1);
  for (const auto* r : {&runs, &steps, &seed}) {
    if (!r->ok()) {
      std::cerr << "patrol mutants: " << r->error().message << "\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> names = args.values("fault");
  if (names.empty()) {
    for (const auto& f : server::fault_catalogue()) names.emplace_back(f.name);
  }
  for (const auto& n : names) {
    if (!server::find_fault(n)) {
      std::cerr << "patrol mutants: unknown fault '" << n << "' (see patrol serve --list-faults)\n";
      return kExitUsage;
    }
  }

  std::vector<Row> rows;
  int survived = 0;
  std::printf("%-34s %-5s %-17s %-6s %8s %9s\n", "fault", "sect", "outcome", "rule", "steps",
              "seconds");
  for (const auto& name : names) {
    const auto& info = server::fault_info(*server::find_fault(name));
    Row row{name, std::string(info.section)};
    if (concurrency_only(name)) {
      // Two clients at once on loopback, the server's race windows held open by the scheduler
      // so the race shows deterministically; the linearizability checker judges the history.
      auto race = std::make_shared<properties::RaceScheduler>();
      EmbeddedOptions eo;
      eo.server.faults = {name};
      eo.in_process = false;
      eo.server.race_window_hook = [race](std::string_view w) { race->window(w); };
      auto target = make_embedded_target(std::move(eo));
      if (!target.ok()) {
        std::cerr << "patrol mutants: " << target.error().message << "\n";
        return kExitUsage;
      }
      properties::ParallelOptions po;
      po.branches = 2;
      po.runs = std::min<int>(static_cast<int>(*runs), kParallelPrograms);
      po.seed = static_cast<std::uint64_t>(*seed);
      po.scheduler = race.get();
      po.shrink = false;  // the kill matrix needs the verdict, not the minimal program
      const auto r = properties::run_parallel(**target, po);
      if (r.error) {
        std::cerr << "patrol mutants: " << name << ": " << r.error->message << "\n";
        return kExitUnreachable;
      }
      row.outcome = r.failed ? "killed" : "SURVIVED";
      if (r.failed) row.rule = "lin";
      if (!r.failed) ++survived;
      row.steps = r.operations;
      row.seconds = r.seconds;
    } else {
      EmbeddedOptions eo;
      eo.server.faults = {name};
      eo.in_process = !args.has("loopback");
      properties::CheckOptions opts;
      // A missing Retry-After shows only on a 429: rate-limit the server, and require the
      // header (contract 1, A21), which the hub profile leaves optional.
      if (name == "retry-after-missing") {
        eo.server.rate_limit_per_minute = 4;
        opts.profile.require_retry_after = true;
      }
      auto target = make_embedded_target(std::move(eo));
      if (!target.ok()) {
        std::cerr << "patrol mutants: " << target.error().message << "\n";
        return kExitUsage;
      }
      opts.runs = static_cast<int>(*runs);
      opts.max_steps = static_cast<int>(*steps);
      opts.seed = static_cast<std::uint64_t>(*seed);
      const auto started = std::chrono::steady_clock::now();
      bool seen = false;
      opts.progress = [&](int, int, std::int64_t steps_done, bool failing) {
        if (failing && !seen) {
          seen = true;
          row.steps = steps_done;
          row.seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        }
      };
      auto result = properties::run_check(**target, opts);
      if (result.error) {
        std::cerr << "patrol mutants: " << name << ": " << result.error->message << "\n";
        return kExitUnreachable;
      }
      if (result.summary.failed) {
        row.outcome = "killed";
        row.rule = result.summary.violations.empty() ? "?" : result.summary.violations[0].rule;
        if (!seen) {
          row.steps = result.summary.steps;
          row.seconds = result.summary.seconds;
        }
      } else {
        row.outcome = "SURVIVED";
        row.steps = result.summary.steps;
        row.seconds = result.summary.seconds;
        ++survived;
      }
    }
    std::printf("%-34s %-5s %-17s %-6s %8lld %9.3f\n", row.fault.c_str(), row.section.c_str(),
                row.outcome.c_str(), row.rule.c_str(), static_cast<long long>(row.steps),
                row.seconds);
    std::fflush(stdout);
    rows.push_back(row);
  }
  int killed = 0;
  std::vector<double> times;
  for (const auto& r : rows) {
    if (r.outcome == "killed") {
      ++killed;
      times.push_back(r.seconds);
    }
  }
  std::sort(times.begin(), times.end());
  double median = times.empty() ? 0 : times[times.size() / 2];
  std::printf("\n%d killed, %d survived; median time to kill %.3f s\n", killed, survived, median);
  if (auto file = args.value("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows) {
      j.push_back({{"fault", r.fault},
                   {"section", r.section},
                   {"outcome", r.outcome},
                   {"rule", r.rule},
                   {"steps", r.steps},
                   {"seconds", r.seconds}});
    }
    if (auto st = write_file_atomic(*file, j.dump(2) + "\n"); !st.ok()) {
      std::cerr << "patrol mutants: " << st.error().message << "\n";
      return kExitUsage;
    }
  }
  return survived == 0 ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
