// Parallel runs (issue 8, after Erlang QuickCheck's parallel state machines): a short
// sequential prefix, then N branches of commands run at once, each on its own connection; the
// recorded history is judged by the linearizability checker. A failing program is shrunk
// (fewer branches, fewer commands), each candidate run several times to tell a race from luck.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/profile.hpp"
#include "properties/commands.hpp"
#include "properties/linearizability.hpp"
#include "properties/target.hpp"

namespace patrol::properties {

// Holds a server's race windows (ServerOptions::race_window_hook) open while the branches of a
// parallel run make progress, so concurrency faults show deterministically rather than by luck.
//
// It is a cooperative scheduler: in a parallel phase at most one request runs at a time. A branch
// asks for a turn before each request (begin_request) and hands it back when the response is in
// (end_request) or when its request stops inside a race window. Turns are granted only when the
// phase is quiescent (every branch is waiting for a turn, inside a window or finished, none between
// two requests), in round-robin order, so the interleaving depends on the program alone and not on
// which thread the operating system happened to run first: a request that never enters a window
// (a listing, a read) still runs while another branch's request is held inside its window. A window
// is held until every other branch is inside a window too or finished; then the held requests are
// resumed one at a time, in branch order, each to its end (or its next window), before any new
// request starts.
//
// Windows pass at once outside a parallel phase, and for requests the scheduler did not start.
// `max_wait` only guards against a hang (a branch that never comes back): a wait that long gives
// up scheduling for the rest of the phase, and timeouts() counts it; it is not a pacing device.
class RaceScheduler {
 public:
  explicit RaceScheduler(std::chrono::milliseconds max_wait = std::chrono::seconds(60))
      : max_wait_(max_wait) {}

  // The hook: called by the server inside a window.
  void window(std::string_view name);
  // Starts a parallel phase of `clients` branches, numbered 0..clients-1.
  void arm(int clients);
  // Branch `client` is about to send a request: returns when it is the branch's turn.
  void begin_request(int client);
  // Branch `client` has the response to its request.
  void end_request(int client);
  // Branch `client` finished its commands.
  void client_done(int client);
  // Ends the phase; waiting windows close.
  void disarm();
  // Windows that were held open (and ended by the others' progress) since construction.
  std::int64_t held() const;
  // Waits that ran into max_wait since construction (each gave up scheduling for its phase).
  std::int64_t timeouts() const;

 private:
  enum class State { kBetween, kWaiting, kRunning, kParked, kDone };
  void schedule_locked();
  bool wait_locked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& until);

  std::chrono::milliseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool bypass_ = false;  // a wait timed out: this phase runs unscheduled
  std::vector<State> states_;
  std::vector<bool> resume_;  // parked branches released together, resumed one at a time
  int running_ = -1;          // the branch whose request runs, if any
  int last_turn_ = -1;        // round-robin position
  std::int64_t grants_ = 0;   // turns granted since construction
  std::int64_t held_ = 0;
  std::int64_t timeouts_ = 0;
};

// A parallel program as seeds: each command is picked from the model state it runs in, from its
// own seed, so shrinking removes a command without changing the others.
struct ParallelProgram {
  std::vector<std::uint64_t> prefix;
  std::vector<std::vector<std::uint64_t>> branches;

  std::size_t size() const;
  bool operator==(const ParallelProgram&) const = default;
};

struct ParallelOptions {
  int branches = 2;      // N concurrent clients
  int runs = 100;        // programs to generate
  int prefix_steps = 3;  // commands in the prefix at most (after logging every account in)
  int branch_steps = 4;  // commands per branch at most
  int repeats = 2;       // executions of each generated program
  // Executions of each shrink candidate. It is kept when it fails at least half as often as the
  // failing program did in as many executions (at least once). With a scheduler an execution's
  // interleaving follows from the program, so a failing program fails every time and the repeats
  // only matter for targets whose races are left to thread timing (no scheduler).
  int shrink_repeats = 8;
  int confirm_repeats = 20;  // executions of the shrunk program, to say how often it fails
  std::uint64_t seed = 0;
  bool shrink = true;
  std::optional<double> time_budget_s;  // stop starting programs after this
  GeneratorOptions generator;
  model::Profile profile = model::Profile::hub();
  CheckLimits limits = {5.0, std::size_t{512} << 20, true, true};
  // When the target's server calls this scheduler from its race windows; the branches then take
  // turns through it (see RaceScheduler).
  RaceScheduler* scheduler = nullptr;
  const std::atomic<bool>* interrupted = nullptr;
  std::function<void(int done, int total, bool failing)> progress;
};

// One execution: the commands as run and the recorded history (prefix on client 0, branch k on
// client k).
struct Execution {
  std::vector<std::string> prefix_shown;
  std::vector<std::vector<std::string>> branches_shown;
  History history;
  LinearizabilityResult verdict;
};

struct ParallelResult {
  int programs = 0;    // programs generated and run
  int executions = 0;  // executions in all, shrinking included
  int unknown = 0;     // executions whose check ran out of bounds
  std::int64_t operations = 0;
  bool failed = false;
  ParallelProgram program;  // the shrunk failing program
  int shrink_steps = 0;
  int failures = 0;                   // how often the shrunk program failed ...
  int attempts = 0;                   // ... in this many executions
  std::optional<Execution> failure;   // a failing execution of the shrunk program
  std::optional<model::Error> error;  // the target became unreachable or refused
  double seconds = 0;
};

// Generates a program from a seed.
ParallelProgram generate_program(std::uint64_t seed, const ParallelOptions& options);

// Runs a program once against a fresh store of the target and checks its history.
model::Result<Execution> execute_program(Target& target, const ParallelProgram& program,
                                         const ParallelOptions& options);

// Generates, runs and checks programs; shrinks the first failing one.
ParallelResult run_parallel(Target& target, const ParallelOptions& options);

// The run as text: verdict, the shrunk program, how often it failed, and the timeline.
std::string render_parallel_text(const ParallelResult& result, const ParallelOptions& options);

}  // namespace patrol::properties
