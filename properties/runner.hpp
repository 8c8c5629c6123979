// The sequential conformance runner: RapidCheck generates command sequences from the model state,
// every exchange is judged by the oracle, a failing sequence is shrunk to a minimal transcript,
// and the result carries one line that reproduces it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/profile.hpp"
#include "properties/commands.hpp"
#include "properties/report.hpp"
#include "properties/session.hpp"
#include "properties/target.hpp"

namespace patrol::properties {

struct CheckOptions {
  int runs = 100;                       // sequences to generate (before sharding)
  int max_steps = 40;                   // commands per sequence at most
  std::optional<double> time_budget_s;  // stop starting new sequences after this
  std::uint64_t seed = 0;
  bool shrink = true;
  std::optional<std::string> reproduce;  // a token printed by an earlier failing run
  int shard_index = 0;                   // K of --shard K/N, 0-based
  int shard_count = 1;
  GeneratorOptions generator;
  model::Profile profile = model::Profile::hub();
  // Set asynchronously (SIGINT/SIGTERM): no new command starts, the sequence cleans up, the run
  // ends with what it has.
  const std::atomic<bool>* interrupted = nullptr;
  // Called after every finished sequence (progress display).
  std::function<void(int done, int total, std::int64_t steps, bool failing)> progress;
};

struct CheckResult {
  RunSummary summary;
  std::vector<Step> counterexample;   // raw steps of the shrunk failing sequence (for bundles)
  std::optional<model::Error> error;  // the target became unreachable or refused
};

// Runs the property-based conformance check against a target.
CheckResult run_check(Target& target, const CheckOptions& options);

// Parses "K/N" (1-based K) into a 0-based index and a count.
model::Result<std::pair<int, int>> parse_shard(std::string_view text);

}  // namespace patrol::properties
