// `patrol check --parallel N`: the parallel half of the conformance run (properties/parallel.hpp)
// on the target `patrol check` built: progress, the verdict with the shrunk program and how
// often it failed, and for a failure the redacted history with its timelines in the bundle
// directory, ready for `patrol linearize`.
#pragma once

#include <string>

#include "app/args.hpp"
#include "properties/parallel.hpp"
#include "properties/runner.hpp"

namespace patrol::app {

// Runs the parallel check with the sequential run's options (runs, seed, profile, time budget,
// generator) and `--parallel`, `--max-steps`, `--bundle`, `--json`, `--junit` from `args`;
// `repro` is the command line that regenerates the same programs. Returns the exit code.
int run_parallel_check(const Args& args, properties::Target& target,
                       const properties::CheckOptions& check, properties::RaceScheduler* scheduler,
                       const std::string& repro);

}  // namespace patrol::app
