// Sequential conformance throughput: steps per second of `patrol check` against the embedded
// reference server in-process and over loopback (prints figures; never a test).
#include <chrono>
#include <cstdio>

#include "app/targets.hpp"
#include "properties/runner.hpp"

int main() {
  for (bool in_process : {true, false}) {
    patrol::app::EmbeddedOptions eo;
    eo.in_process = in_process;
    eo.co_locate = !in_process;  // as patrol check does for a sequential loopback run
    auto target = patrol::app::make_embedded_target(eo);
    if (!target.ok()) {
      std::fprintf(stderr, "%s\n", target.error().message.c_str());
      return 1;
    }
    patrol::properties::CheckOptions o;
    o.seed = 11;
    o.runs = 2000;
    o.max_steps = 60;
    o.time_budget_s = 10;
    auto r = patrol::properties::run_check(**target, o);
    const auto& s = r.summary;
    std::printf("%-10s %6d sequences %8lld steps %7.2f s  %8.0f steps/s  %s\n",
                in_process ? "in-process" : "loopback", s.runs_passed,
                static_cast<long long>(s.steps), s.seconds,
                s.seconds > 0 ? static_cast<double>(s.steps) / s.seconds : 0.0,
                s.failed ? "FAILED" : "conforms");
  }
  return 0;
}
