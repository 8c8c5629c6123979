// `patrol check`: the property-based conformance run (see properties/runner.hpp).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>

#include "app/args.hpp"
#include "app/bundle.hpp"
#include "app/check_parallel.hpp"
#include "app/commands.hpp"
#include "app/files.hpp"
#include "app/targets.hpp"
#include "model/codec.hpp"
#include "properties/runner.hpp"
#include "server/faults.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"target", true, false, "base URL of the API under test (default: embedded server)", "URL"},
    {"registry-auth", true, false, "registry token service base URL, when not on --target", "URL"},
    {"in-process", false, false, "talk to the embedded server in-process (no sockets)"},
    {"fault", true, true, "turn on a fault of the embedded server (see patrol serve --list-faults)",
     "NAME"},
    {"fixture", true, false, "accounts and repositories (JSON); env credentials override", "FILE"},
    {"profile", true, false, "hub (default) or spec", "NAME"},
    {"profile-overrides", true, false, "JSON object of profile members to change", "FILE"},
    {"runs", true, false, "sequences to generate (default 100)", "N"},
    {"max-steps", true, false, "commands per sequence at most (default 40)", "N"},
    {"time", true, false, "stop starting sequences after this many seconds", "SECONDS"},
    {"seed", true, false, "random seed (default: random, printed)", "N"},
    {"no-shrink", false, false, "report the first failing sequence as found"},
    {"reproduce", true, false, "re-run one failing sequence printed by an earlier run", "TOKEN"},
    {"shard", true, false, "run shard K of N of the sequences (CI matrix)", "K/N"},
    {"junit", true, false, "write JUnit XML, one test case per rule", "FILE"},
    {"json", true, false, "write a JSON summary", "FILE"},
    {"bundle", true, false, "directory for the repro bundle (default patrol-repro-SEED)", "DIR"},
    {"min-coverage", true, false, "fail when fewer than PCT% of the rules were exercised", "PCT"},
    {"max-requests", true, false, "request budget for a live target", "N"},
    {"max-tokens", true, false, "tokens of this run alive at once on a live target (default 20)",
     "N"},
    {"ca-file", true, false, "PEM CA bundle for TLS verification", "FILE"},
    {"timeout", true, false, "per-request timeout in seconds (default 15)", "SECONDS"},
    {"dry-run", false, false, "print the plan and exit without sending anything"},
    {"parallel", true, false,
     "run programs of N concurrent branches and check their histories for linearizability "
     "(embedded target)",
     "N"},
};

constexpr const char* kUsage =
    "usage: patrol check [options]\n\n"
    "Generates sequences of token operations, judges every exchange against the contract\n"
    "model, and shrinks a failure to a minimal transcript with a one-line reproduce command.\n"
    "Without --target it starts the embedded reference server on 127.0.0.1.\n\n"
    "Live targets take credentials from the environment only: PATROL_USERNAME, PATROL_PASSWORD\n"
    "(and PATROL_USERNAME_2 / PATROL_PASSWORD_2 for the second account), repositories from\n"
    "PATROL_REPOSITORIES=owner/name:public,owner/name:private.\n\noptions:\n";

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

bool color_wanted() { return ::isatty(1) && std::getenv("NO_COLOR") == nullptr; }

int usage_error(const std::string& message) {
  std::cerr << "patrol check: " << message << "\n";
  return kExitUsage;
}

std::string run_prefix(std::uint64_t seed) {
  char buf[32];
  std::snprintf(
      buf, sizeof buf, "patrol-%06llx-",
      static_cast<unsigned long long>((seed ^ static_cast<std::uint64_t>(::getpid())) & 0xFFFFFF));
  return buf;
}

}  // namespace

int run_check(int argc, char** argv) {
  auto parsed = Args::parse(kOptions, argc, argv);
  if (!parsed.ok()) return usage_error(parsed.error().message);
  const Args& args = *parsed;
  if (args.help()) {
    std::cout << kUsage << format_options(kOptions);
    return kExitOk;
  }
  if (!args.positionals().empty()) {
    return usage_error("unexpected argument '" + args.positionals().front() + "'");
  }

  properties::CheckOptions opts;
  auto profile = model::profile_by_name(args.value("profile").value_or("hub"));
  if (!profile.ok()) return usage_error(profile.error().message);
  opts.profile = *profile;
  if (auto file = args.value("profile-overrides")) {
    auto text = read_file(*file);
    if (!text.ok()) return usage_error(text.error().message);
    auto json = model::parse_json(*text);
    if (!json.ok()) return usage_error(*file + ": " + json.error().message);
    auto p = model::apply_profile_overrides(opts.profile, *json);
    if (!p.ok()) return usage_error(*file + ": " + p.error().message);
    opts.profile = *p;
  }
  auto runs = args.integer("runs", 100);
  auto steps = args.integer("max-steps", 40);
  auto timeout = args.integer("timeout", 15);
  auto max_tokens = args.integer("max-tokens", 20);
  for (const auto* r : {&runs, &steps, &timeout, &max_tokens}) {
    if (!r->ok()) return usage_error(r->error().message);
  }
  if (*runs < 1 || *steps < 1 || *timeout < 1 || *max_tokens < 1) {
    return usage_error("--runs, --max-steps, --timeout and --max-tokens must be at least 1");
  }
  opts.runs = static_cast<int>(*runs);
  opts.max_steps = static_cast<int>(*steps);
  if (auto t = args.value("time")) {
    try {
      opts.time_budget_s = std::stod(*t);
    } catch (...) {
      return usage_error("--time '" + *t + "' is not a number of seconds");
    }
  }
  if (args.has("seed")) {
    auto seed = args.integer("seed", 0);
    if (!seed.ok()) return usage_error(seed.error().message);
    opts.seed = static_cast<std::uint64_t>(*seed);
  } else {
    opts.seed = std::random_device{}() & 0x7FFFFFFF;
  }
  opts.shrink = !args.has("no-shrink");
  opts.reproduce = args.value("reproduce");
  if (auto shard = args.value("shard")) {
    auto s = properties::parse_shard(*shard);
    if (!s.ok()) return usage_error(s.error().message);
    opts.shard_index = s->first;
    opts.shard_count = s->second;
  }
  std::optional<double> min_coverage;
  if (auto mc = args.value("min-coverage")) {
    try {
      min_coverage = std::stod(*mc);
    } catch (...) {
      return usage_error("--min-coverage '" + *mc + "' is not a percentage");
    }
  }

  model::Fixture fixture = model::default_fixture();
  if (auto file = args.value("fixture")) {
    auto text = read_file(*file);
    if (!text.ok()) return usage_error(text.error().message);
    auto json = model::parse_json(*text);
    if (!json.ok()) return usage_error(*file + ": " + json.error().message);
    auto f = model::decode_fixture(*json);
    if (!f.ok()) return usage_error(*file + ": " + f.error().message);
    fixture = *f;
  }

  // The reproduce line repeats every flag that shapes the sequences.
  std::string repro = "patrol check --seed " + std::to_string(opts.seed) + " --max-steps " +
                      std::to_string(opts.max_steps);
  if (auto p = args.value("profile")) repro += " --profile " + *p;
  if (auto p = args.value("profile-overrides")) repro += " --profile-overrides " + *p;
  if (auto f = args.value("fixture")) repro += " --fixture " + *f;

  std::unique_ptr<properties::Target> target;
  std::shared_ptr<properties::RaceScheduler> race;  // holds race windows open in --parallel
  const bool remote = args.has("target");
  if (remote) {
    if (!args.values("fault").empty()) {
      return usage_error("--fault applies to the embedded server only (no --target)");
    }
    RemoteOptions ro;
    ro.http.base_url = *args.value("target");
    ro.http.read_timeout = std::chrono::seconds(*timeout);
    ro.http.write_timeout = std::chrono::seconds(*timeout);
    ro.http.ca_file = args.value("ca-file");
    ro.registry_url = args.value("registry-auth");
    auto env = fixture_from_environment();
    if (!env.ok()) {
      return usage_error(env.error().message +
                         " (live targets take credentials from the "
                         "environment; see patrol check --help)");
    }
    ro.fixture = *env;
    if (ro.fixture.repositories.empty()) ro.fixture.repositories = fixture.repositories;
    ro.label_prefix = run_prefix(opts.seed);
    ro.max_tokens = static_cast<std::size_t>(*max_tokens);
    if (args.has("max-requests")) {
      auto mr = args.integer("max-requests", 0);
      if (!mr.ok() || *mr < 1) return usage_error("--max-requests must be a positive integer");
      ro.polite.max_requests = *mr;
    }
    opts.generator.label_prefix = ro.label_prefix;
    opts.generator.registry = true;
    repro += " --target " + ro.http.base_url;
    if (ro.registry_url) repro += " --registry-auth " + *ro.registry_url;
    if (args.has("dry-run")) {
      std::cout << "plan: " << opts.runs << " sequences of up to " << opts.max_steps
                << " commands against " << ro.http.base_url << " as " << ro.fixture.accounts.size()
                << " account(s); tokens labelled '" << ro.label_prefix << "...', at most "
                << ro.max_tokens << " alive at once, all deleted at exit\n";
      return kExitOk;
    }
    auto t = make_remote_target(std::move(ro));
    if (!t.ok()) return usage_error(t.error().message);
    target = std::move(*t);
  } else {
    EmbeddedOptions eo;
    eo.server.fixture = fixture;
    eo.server.profile = opts.profile.name == "spec" ? "spec" : "hub";
    eo.server.faults = args.values("fault");
    eo.in_process = args.has("in-process");
    if (args.has("parallel")) {
      race = std::make_shared<properties::RaceScheduler>();
      eo.server.race_window_hook = [race](std::string_view w) { race->window(w); };
    }
    for (const auto& f : eo.server.faults) repro += " --fault " + f;
    if (eo.in_process) repro += " --in-process";
    if (args.has("dry-run")) {
      std::cout << "plan: " << opts.runs << " sequences of up to " << opts.max_steps
                << " commands against the embedded reference server\n";
      return kExitOk;
    }
    auto t = make_embedded_target(std::move(eo));
    if (!t.ok()) return usage_error(t.error().message);
    target = std::move(*t);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  opts.interrupted = &g_interrupted;
  if (args.has("parallel")) return run_parallel_check(args, *target, opts, race.get(), repro);
  const bool tty = ::isatty(2);
  opts.progress = [&](int done, int total, std::int64_t steps_done, bool failing) {
    if (tty) {
      std::fprintf(stderr, "\r  %d/%d sequences, %lld steps%s   ", done, total,
                   static_cast<long long>(steps_done), failing ? ", shrinking a failure" : "");
      std::fflush(stderr);
    } else if (done == total || done % std::max(1, total / 10) == 0) {
      std::fprintf(stderr, "  %d/%d sequences, %lld steps\n", done, total,
                   static_cast<long long>(steps_done));
    }
  };
  std::cerr << "patrol check: " << target->describe() << ", profile " << opts.profile.name
            << ", seed " << opts.seed << "\n";

  properties::CheckResult result = properties::run_check(*target, opts);
  if (tty) std::fprintf(stderr, "\n");
  properties::RunSummary& sum = result.summary;
  sum.reproduce = sum.failed ? repro + " --reproduce " + sum.reproduce : "";

  if (result.error) {
    std::cerr << "patrol check: " << result.error->message << "\n";
    return result.error->kind == model::ErrorKind::kInvalid &&
                   result.error->message.find("--reproduce") != std::string::npos
               ? kExitUsage
               : kExitUnreachable;
  }
  if (g_interrupted.load()) std::cerr << "patrol check: interrupted; partial results\n";

  if (sum.failed) {
    std::string dir = args.value("bundle").value_or("patrol-repro-" + std::to_string(opts.seed));
    auto st = write_repro_bundle(dir, sum, result.counterexample, target->fixture());
    if (st.ok()) {
      sum.bundle_dir = dir;
    } else {
      std::cerr << "patrol check: repro bundle not written: " << st.error().message << "\n";
    }
  }
  std::cout << properties::render_text(sum, color_wanted());

  int rc = sum.failed ? kExitViolations : kExitOk;
  if (min_coverage && sum.coverage.rule_fraction() * 100.0 < *min_coverage) {
    std::cout << "coverage " << static_cast<int>(sum.coverage.rule_fraction() * 100)
              << "% is below --min-coverage " << *min_coverage << "%\n";
    rc = kExitViolations;
  }
  if (auto file = args.value("junit")) {
    if (auto st = write_file_atomic(*file, properties::render_junit(sum)); !st.ok()) {
      std::cerr << "patrol check: " << st.error().message << "\n";
      rc = rc == kExitOk ? kExitUsage : rc;
    }
  }
  if (auto file = args.value("json")) {
    if (auto st = write_file_atomic(*file, properties::render_json(sum).dump(2) + "\n"); !st.ok()) {
      std::cerr << "patrol check: " << st.error().message << "\n";
      rc = rc == kExitOk ? kExitUsage : rc;
    }
  }
  return rc;
}

}  // namespace patrol::app
