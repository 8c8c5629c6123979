#include "properties/runner.hpp"

#include <rapidcheck.h>

#include <charconv>
#include <unordered_map>

// RapidCheck's own reproduce-string codec: compiled into librapidcheck but not declared in its
// installed headers.
namespace rc::detail {
std::unordered_map<std::string, Reproduce> stringToReproduceMap(const std::string& str);
std::string reproduceMapToString(const std::unordered_map<std::string, Reproduce>& map);
}  // namespace rc::detail

namespace patrol::properties {

using model::ErrorKind;
using model::make_error;

namespace {

constexpr const char* kPropertyId = "patrol";
constexpr int kBatch = 25;

// Counts finished sequences for the progress callback.
class ProgressListener final : public rc::detail::TestListener {
 public:
  explicit ProgressListener(std::function<void()> on_case) : on_case_(std::move(on_case)) {}
  void onTestCaseFinished(const rc::detail::CaseDescription&) override { on_case_(); }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  std::function<void()> on_case_;
};

// Thrown out of a sequence when the transport fails: not a contract violation, the run stops.
struct TransportFailure {
  model::Error error;
};

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

model::Result<std::pair<int, int>> parse_shard(std::string_view text) {
  auto slash = text.find('/');
  int k = 0;
  int n = 0;
  if (slash != std::string_view::npos) {
    auto a = std::from_chars(text.data(), text.data() + slash, k);
    auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), n);
    if (a.ec == std::errc{} && a.ptr == text.data() + slash && b.ec == std::errc{} &&
        b.ptr == text.data() + text.size() && n >= 1 && k >= 1 && k <= n) {
      return std::pair{k - 1, n};
    }
  }
  return make_error(ErrorKind::kInvalid,
                    "--shard '" + std::string(text) + "': expected K/N with 1 <= K <= N");
}

CheckResult run_check(Target& target, const CheckOptions& options) {
  CheckResult out;
  RunSummary& sum = out.summary;
  sum.target = target.describe();
  sum.profile = options.profile.name;
  sum.seed = options.seed;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };

  // Shard K of N takes every N-th sequence; each batch gets its own seed derived from the run's.
  int mine = options.runs / options.shard_count +
             (options.shard_index < options.runs % options.shard_count ? 1 : 0);
  sum.runs_requested = mine;

  GeneratorOptions gen = options.generator;
  gen.can_advance_clock = target.can_advance_clock();
  gen.guarded = gen.guarded || target.guarded();

  // The latest failing sequence: during shrinking, the last failing execution is the minimal one.
  std::optional<Session> last_failure;
  std::optional<model::Error> transport_error;

  auto property = [&] {
    if (auto st = target.begin_sequence(); !st.ok()) throw TransportFailure{st.error()};
    Session session(target, options.profile);
    // A target that outlives the sequence gets back every token the sequence created.
    struct Cleanup {
      Session* s;
      ~Cleanup() {
        if (s != nullptr && s->target().guarded()) delete_created_tokens(*s);
      }
    } cleanup{&session};
    auto fail_if_needed = [&] {
      if (session.failed()) {
        if (session.target().guarded()) delete_created_tokens(session);
        cleanup.s = nullptr;
        sum.steps += static_cast<std::int64_t>(session.steps().size());
        auto first = session.violations().front();
        last_failure.emplace(std::move(session));
        RC_FAIL("contract " + first.rule + ": " + first.message);
      }
    };
    if (auto st = bootstrap(session); !st.ok()) throw TransportFailure{st.error()};
    fail_if_needed();
    // The sequence is a list of seeds, one per command, drawn before it runs: each command is
    // picked from its seed in the model state the sequence has reached. The shrinker removes
    // seeds from anywhere in the list and the others keep theirs, so a counterexample loses the
    // commands it does not need, and the reproduce token (a path through those removals) replays
    // exactly. Lists are drawn up to twice the step budget and cut to it, so half of the full-size
    // sequences run the whole budget: deep states need long sequences.
    // Swarm testing: a seed of its own says which command kinds this sequence leaves out (not
    // one of the command seeds, which the shrinker removes).
    const GeneratorOptions swarm = pick_swarm(
        gen,
        *rc::gen::noShrink(rc::gen::resize(rc::kNominalSize, rc::gen::arbitrary<std::uint64_t>())));
    const auto& seeds = *rc::gen::withSize([&](int size) {
      const int top = std::max(1, std::min(options.max_steps, 2 * size));
      return rc::gen::resize(
          2 * top, rc::gen::container<std::vector<std::uint64_t>>(rc::gen::noShrink(
                       rc::gen::resize(rc::kNominalSize, rc::gen::arbitrary<std::uint64_t>()))));
    });
    const auto steps =
        std::min<std::size_t>(seeds.size(), static_cast<std::size_t>(options.max_steps));
    for (std::size_t i = 0; i < steps; ++i) {
      if (options.interrupted != nullptr && options.interrupted->load()) break;
      CommandPtr cmd = pick_command_from_seed(seeds[i], session, swarm);
      if (!cmd || !cmd->check_preconditions(session)) continue;
      if (auto st = cmd->run(session); !st.ok()) throw TransportFailure{st.error()};
      fail_if_needed();
    }
    sum.steps += static_cast<std::int64_t>(session.steps().size());
    sum.coverage.merge(session.coverage());
  };
  // A transport failure must not be mistaken for a contract violation, nor shrunk.
  auto guarded_property = [&] {
    if (transport_error) RC_DISCARD("target unavailable");
    if (options.interrupted != nullptr && options.interrupted->load()) RC_DISCARD("interrupted");
    try {
      property();
    } catch (const TransportFailure& f) {
      transport_error = f.error;
      RC_DISCARD("target unavailable");
    }
  };

  int done = 0;
  ProgressListener listener([&] {
    ++done;
    if (options.progress) options.progress(done, mine, sum.steps, last_failure.has_value());
  });
  rc::detail::TestMetadata meta{kPropertyId, "contract conformance"};
  rc::detail::TestResult result = rc::detail::SuccessResult{0, {}};

  // Runs the one case a reproduce token names. Not disableShrinking: under it RapidCheck drops
  // the token's shrink path and would replay the unshrunk case (a replay never shrinks anyway).
  auto replay = [&](const std::unordered_map<std::string, rc::detail::Reproduce>& map) {
    rc::detail::TestParams params;
    params.seed = options.seed;
    params.disableShrinking = false;
    return rc::detail::checkProperty(rc::detail::toProperty(guarded_property), meta, params,
                                     listener, map);
  };

  if (options.reproduce) {
    std::unordered_map<std::string, rc::detail::Reproduce> map;
    try {
      map = rc::detail::stringToReproduceMap(*options.reproduce);
    } catch (...) {
      out.error = make_error(ErrorKind::kInvalid, "--reproduce: not a token printed by patrol");
      return out;
    }
    if (map.find(kPropertyId) == map.end()) {
      out.error = make_error(ErrorKind::kInvalid, "--reproduce: not a token printed by patrol");
      return out;
    }
    sum.runs_requested = 1;
    result = replay(map);
  } else {
    for (int batch = 0; done < mine; ++batch) {
      if (options.time_budget_s && elapsed() >= *options.time_budget_s) break;
      rc::detail::TestParams params;
      params.seed = mix(options.seed ^ mix(static_cast<std::uint64_t>(batch) * 1000003u +
                                           static_cast<std::uint64_t>(options.shard_index)));
      params.maxSuccess = std::min(kBatch, mine - done);
      params.maxSize = options.max_steps;
      params.maxDiscardRatio = 1;
      params.disableShrinking = !options.shrink;
      result = rc::detail::checkProperty(rc::detail::toProperty(guarded_property), meta, params,
                                         listener);
      if (!result.is<rc::detail::SuccessResult>()) break;
    }
  }

  sum.seconds = elapsed();
  sum.rate_limited = target.rate_limited();
  if (transport_error) {
    out.error = transport_error;
    return out;
  }
  rc::detail::FailureResult failure;
  if (result.match(failure) && !options.reproduce) {
    // Replay the reported case once more, so the transcript shown is exactly what the reproduce
    // token replays (the shrinker's last failing execution is not always its final answer).
    std::unordered_map<std::string, rc::detail::Reproduce> map{{kPropertyId, failure.reproduce}};
    last_failure.reset();
    auto again = replay(map);
    rc::detail::FailureResult replayed;
    if (again.match(replayed)) failure.description = replayed.description;
  }
  if (result.match(failure)) {
    sum.failed = true;
    sum.runs_passed = failure.numSuccess;
    if (last_failure) {
      for (const auto& v : last_failure->violations()) {
        sum.violations.push_back({v.rule, v.message, v.excerpt});
      }
      sum.transcript = last_failure->transcript();
      out.counterexample = last_failure->steps();
      sum.coverage.merge(last_failure->coverage());
    }
    std::unordered_map<std::string, rc::detail::Reproduce> map{{kPropertyId, failure.reproduce}};
    sum.reproduce = rc::detail::reproduceMapToString(map);
  } else {
    sum.runs_passed = done;
  }
  return out;
}

}  // namespace patrol::properties
