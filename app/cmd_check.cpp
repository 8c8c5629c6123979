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
#include "app/sweep.hpp"
#include "app/targets.hpp"
#include "app/version.hpp"
#include "model/codec.hpp"
#include "properties/runner.hpp"
#include "recorder/redactor.hpp"
#include "recorder/writer.hpp"
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
    {"record", true, false,
     "record the run's exchanges with a live target as a redacted HAR cassette (replaces FILE)",
     "FILE.har"},
    {"replay", true, false,
     "run the check offline against a cassette made by --record (same seed and options)",
     "FILE.har"},
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
    "PATROL_REPOSITORIES=owner/name:public,owner/name:private.\n\n"
    "Live safety: every token the run creates is labelled patrol-XXXXXX-... (its run prefix);\n"
    "the ownership guard refuses to modify or delete any token the run did not create; each\n"
    "sequence deletes its tokens, and at exit (also on SIGINT/SIGTERM) the run deletes whatever\n"
    "of its own is left. A run starts by sweeping the leftovers of earlier, crashed runs (labels\n"
    "patrol-XXXXXX-...), as `patrol sweep` does; run one check per account at a time.\n\n"
    "--replay FILE.har re-runs a recorded check offline with the recorded seed and options. When\n"
    "the generated sequence departs from the cassette (another patrol version or options), the\n"
    "run stops with exit status 2 naming the request the cassette has no answer for.\n\n"
    "exit status: 0 conforms, 1 violations, 2 usage or configuration error, 3 unreachable\n\n"
    "options:\n";

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

bool color_wanted() { return ::isatty(1) && std::getenv("NO_COLOR") == nullptr; }

int usage_error(const std::string& message) {
  std::cerr << "patrol check: " << message << "\n";
  return kExitUsage;
}

model::Timestamp wall_now() {
  return model::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count()};
}

// Prints what a sweep did; returns the number of tokens it could not delete.
std::size_t print_sweep(const SweepReport& report, const char* what) {
  std::size_t deleted = 0;
  std::size_t failed = 0;
  for (const auto& t : report.tokens) {
    if (t.deleted) {
      ++deleted;
    } else {
      ++failed;
      std::cerr << "patrol check: could not delete " << what << " token " << t.uuid << " ("
                << t.account << ", '" << t.label << "'): " << t.error << "\n";
    }
  }
  if (deleted > 0) std::cerr << "patrol check: deleted " << deleted << " " << what << " token(s)\n";
  for (const auto& e : report.errors) std::cerr << "patrol check: sweep: " << e << "\n";
  return failed;
}

// The options of a recorded run that shape its sequences, kept in the cassette for --replay.
model::Json recorded_options(const properties::CheckOptions& opts, const RemoteOptions& ro) {
  model::Fixture shown = ro.fixture;
  for (auto& a : shown.accounts) a.password = "-";  // passwords stay out of the cassette
  return {{"command", "check"},
          {"seed", opts.seed},
          {"runs", opts.runs},
          {"max_steps", opts.max_steps},
          {"shard", std::to_string(opts.shard_index + 1) + "/" + std::to_string(opts.shard_count)},
          {"profile", opts.profile.name},
          {"label_prefix", ro.label_prefix},
          {"max_tokens", ro.max_tokens},
          {"fixture", model::encode_fixture(shown)}};
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
  std::shared_ptr<properties::RaceScheduler> race;   // holds race windows open in --parallel
  std::unique_ptr<recorder::CassetteWriter> writer;  // --record
  const bool remote = args.has("target");
  const bool replay = args.has("replay");
  if (args.has("record") && (!remote || replay || args.has("parallel") || args.has("time"))) {
    return usage_error(
        "--record needs --target and goes with neither --replay, --parallel nor --time");
  }
  if (replay) {
    for (const char* flag : {"target", "seed", "runs", "max-steps", "shard", "reproduce", "fault",
                             "parallel", "time", "in-process", "fixture", "max-tokens"}) {
      if (args.has(flag)) {
        return usage_error(std::string("--replay takes the recorded run's options; drop --") +
                           flag);
      }
    }
    const std::string file = *args.value("replay");
    auto cassette = recorder::read_cassette(file);
    if (!cassette.ok()) return usage_error(file + ": " + cassette.error().message);
    const model::Json& rec = cassette->info.annotations;
    if (!rec.is_object() || rec.value("command", "") != "check") {
      return usage_error(file + ": not recorded by patrol check --record");
    }
    ReplayOptions rp;
    try {
      opts.seed = rec.at("seed").get<std::uint64_t>();
      opts.runs = rec.at("runs").get<int>();
      opts.max_steps = rec.at("max_steps").get<int>();
      auto shard = properties::parse_shard(rec.at("shard").get<std::string>());
      if (!shard.ok()) return usage_error(file + ": " + shard.error().message);
      opts.shard_index = shard->first;
      opts.shard_count = shard->second;
      if (!args.has("profile")) {
        auto p = model::profile_by_name(rec.at("profile").get<std::string>());
        if (!p.ok()) return usage_error(file + ": " + p.error().message);
        opts.profile = *p;
      }
      rp.label_prefix = rec.at("label_prefix").get<std::string>();
      rp.max_tokens = rec.at("max_tokens").get<std::size_t>();
      auto f = model::decode_fixture(rec.at("fixture"));
      if (!f.ok()) return usage_error(file + ": fixture: " + f.error().message);
      rp.fixture = *f;
    } catch (const std::exception& e) {
      return usage_error(file + ": recorded options: " + e.what());
    }
    // Passwords never enter a cassette; requests match with secrets masked, so any will do.
    for (auto& a : rp.fixture.accounts) a.password = "replay-password-" + a.username;
    rp.cassette = std::move(*cassette);
    rp.name = file;
    opts.generator.label_prefix = rp.label_prefix;
    opts.generator.registry = true;
    opts.generator.max_live_tokens = rp.max_tokens;
    repro = "patrol check --replay " + file;
    if (args.has("dry-run")) {
      std::cout << "plan: replay " << opts.runs << " sequences of up to " << opts.max_steps
                << " commands (seed " << opts.seed << ") from " << file << ", "
                << rp.cassette.entries.size() << " recorded exchanges, offline\n";
      return kExitOk;
    }
    target = make_replay_target(std::move(rp));
  } else if (remote) {
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
    // The run id mixes the seed with the process and the clock: two runs of one seed differ.
    ro.label_prefix = make_run_prefix(opts.seed ^ (static_cast<std::uint64_t>(::getpid()) << 24) ^
                                      static_cast<std::uint64_t>(wall_now().micros / 1000) ^
                                      (static_cast<std::uint64_t>(wall_now().micros / 1000) >> 24));
    ro.max_tokens = static_cast<std::size_t>(*max_tokens);
    if (args.has("max-requests")) {
      auto mr = args.integer("max-requests", 0);
      if (!mr.ok() || *mr < 1) return usage_error("--max-requests must be a positive integer");
      ro.polite.max_requests = *mr;
    }
    opts.generator.label_prefix = ro.label_prefix;
    opts.generator.registry = true;
    opts.generator.max_live_tokens = ro.max_tokens;
    repro += " --target " + ro.http.base_url;
    if (ro.registry_url) repro += " --registry-auth " + *ro.registry_url;
    if (args.has("dry-run")) {
      std::cout << "plan: " << opts.runs << " sequences of up to " << opts.max_steps
                << " commands against " << ro.http.base_url << " as " << ro.fixture.accounts.size()
                << " account(s); first sweeps every account's leftovers of earlier runs "
                   "(labels patrol-XXXXXX-...); tokens labelled '"
                << ro.label_prefix << "...', at most " << ro.max_tokens
                << " alive at once, all deleted at exit"
                << (args.has("record") ? "; recorded to " + *args.value("record") : "") << "\n";
      return kExitOk;
    }
    if (auto file = args.value("record")) {
      recorder::WriterOptions wo;
      wo.info.creator_name = "patrol";
      wo.info.creator_version = kVersion;
      wo.info.annotations = recorded_options(opts, ro);
      wo.declared = recorder::declared_from_fixture(ro.fixture);
      wo.overwrite = true;
      auto w = recorder::CassetteWriter::open(*file, std::move(wo));
      if (!w.ok()) return usage_error("--record " + *file + ": " + w.error().message);
      writer = std::move(*w);
      ro.record = writer.get();
    }
    const model::Fixture accounts = ro.fixture;
    auto t = make_remote_target(std::move(ro));
    if (!t.ok()) return usage_error(t.error().message);
    target = std::move(*t);
    // Leftovers of earlier runs that were killed before their cleanup (live safety): every
    // account's tokens labelled with any run prefix, and no other token, are deleted first.
    auto parts = remote_parts(*target);
    parts->pause_recording(true);  // sweeps are not part of the recorded run
    auto swept = sweep(parts->polite, parts->guard, accounts, SweepOptions{}, wall_now());
    parts->pause_recording(false);
    if (!swept.ok()) {
      std::cerr << "patrol check: " << target->describe() << ": " << swept.error().message << "\n";
      return kExitUnreachable;
    }
    print_sweep(*swept, "leftover");
  } else {
    EmbeddedOptions eo;
    eo.server.fixture = fixture;
    eo.server.profile = opts.profile.name == "spec" ? "spec" : "hub";
    eo.server.faults = args.values("fault");
    eo.in_process = args.has("in-process");
    eo.co_locate = !eo.in_process && !args.has("parallel");
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

  // Whatever of this run's own is still there (a cleanup DELETE that failed, a 201 lost to a
  // timeout) goes now, found by the run prefix; nothing else is touched.
  bool leftovers = false;
  if (auto parts = remote_parts(*target)) {
    SweepOptions own;
    const std::string prefix = parts->guard.label_prefix();
    own.match = [prefix](std::string_view label) { return label.rfind(prefix, 0) == 0; };
    parts->pause_recording(true);
    auto swept = sweep(parts->polite, parts->guard, target->fixture(), own, wall_now());
    if (swept.ok()) leftovers = print_sweep(*swept, "of this run's") > 0;
    for (const auto& uuid : parts->guard.live_tokens()) {
      std::cerr << "patrol check: token " << uuid << " of this run may still exist\n";
      leftovers = true;
    }
    if (leftovers) std::cerr << "patrol check: run patrol sweep to delete what is left\n";
  }
  if (writer) {
    if (auto st = writer->finish(); !st.ok()) {
      std::cerr << "patrol check: --record: " << st.error().message << "\n";
      return kExitUsage;
    }
    std::cerr << "patrol check: recorded " << writer->size() << " exchanges to " << writer->path()
              << "\n";
  }

  if (result.error) {
    if (replay && result.error->message.rfind("replay: ", 0) == 0) {
      std::cerr << "patrol check: the generated sequence departed from the cassette ("
                << result.error->message
                << "); it was recorded by another patrol version or with other options\n";
      return kExitUsage;
    }
    std::cerr << "patrol check: " << result.error->message << "\n";
    return result.error->kind == model::ErrorKind::kInvalid &&
                   result.error->message.find("--reproduce") != std::string::npos
               ? kExitUsage
               : kExitUnreachable;
  }
  if (auto unused = replay_unused(*target); unused && !unused->empty() && !g_interrupted.load()) {
    std::cerr << "patrol check: the run ended but " << unused->size()
              << " recorded exchange(s) were never asked for (first: entry " << unused->front()
              << "); the cassette was recorded by another patrol version or with other options\n";
    return kExitUsage;
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
    // A transcript may quote an invalid UTF-8 label (contract 3.2): written as U+FFFD.
    const std::string text =
        properties::render_json(sum).dump(2, ' ', false, model::Json::error_handler_t::replace);
    if (auto st = write_file_atomic(*file, text + "\n"); !st.ok()) {
      std::cerr << "patrol check: " << st.error().message << "\n";
      rc = rc == kExitOk ? kExitUsage : rc;
    }
  }
  return rc;
}

}  // namespace patrol::app
