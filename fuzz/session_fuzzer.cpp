// Fuzz target: the session fuzzer. Input: a command script (session.hpp) run against the
// in-process reference server (unfaulted, hub profile, manual clock), every exchange judged by the
// oracle. Server and oracle are independent implementations of the contract, so any violation is a
// finding: one of them is wrong. The failure prints the whole transcript, secrets redacted; with
// PATROL_SESSION_TRANSCRIPT=1 in the environment every transcript is printed (to write seeds).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  patrol::fuzz::Session session;
  session.run_script({reinterpret_cast<const char*>(data), size});
  static const bool print = std::getenv("PATROL_SESSION_TRANSCRIPT") != nullptr;
  if (print) std::fputs(session.transcript().c_str(), stderr);
  PATROL_FUZZ_CHECK(session.violations().empty(),
                    "the reference server and the oracle disagree:\n" + session.transcript());
  return 0;
}
