// The targets `patrol check` can run against: the embedded reference server (on loopback or
// in-process, a fresh store and manual clock per sequence so shrinking replays exactly), and any
// HTTP(S) endpoint (live Hub or a `patrol serve` elsewhere), wrapped in the rate-limit policy and,
// for live accounts, the ownership guard.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/http_transport.hpp"
#include "http/ownership_guard.hpp"
#include "http/polite_transport.hpp"
#include "properties/target.hpp"
#include "recorder/cassette.hpp"
#include "recorder/writer.hpp"
#include "server/core.hpp"

namespace patrol::app {

struct EmbeddedOptions {
  server::ServerOptions server;
  bool in_process = false;
  // Loopback, sequential runs: the thread that creates the target (the runner) and the
  // listener's workers share the CPU the runner is on, until the target is destroyed. Runner and
  // server take turns, so nothing is lost, and each exchange saves two cross-CPU wake-ups:
  // about twice the steps per second on a 2-vCPU machine. Not for parallel runs.
  bool co_locate = false;
};

// Creates the embedded target; fails on an unknown fault or a bad fixture.
model::Result<std::unique_ptr<properties::Target>> make_embedded_target(EmbeddedOptions options);

struct RemoteOptions {
  http::HttpTransportOptions http;
  std::optional<std::string> registry_url;  // R1 on another host (auth.docker.io)
  model::Fixture fixture;                   // accounts (credentials from the environment)
  http::PolitePolicy polite;
  bool guarded = true;       // live safety (see ownership_guard.hpp)
  std::string label_prefix;  // run label prefix, e.g. "patrol-1a2b3c-"
  std::size_t max_tokens = 20;
  // --record: every exchange of the run (below the guard, above the rate-limit policy) goes into
  // this cassette, annotated with the instants the run read (`now`), so a replay judges alike.
  recorder::CassetteWriter* record = nullptr;
};

// A live target: an account that may hold tokens the run never saw (Baseline::kUnknown), every
// exchange through the ownership guard and the rate-limit policy.
model::Result<std::unique_ptr<properties::Target>> make_remote_target(RemoteOptions options);

// The live-safety parts of a target made by make_remote_target, for sweeping; nullptr for others.
struct RemoteParts {
  http::Transport& polite;  // the rate-limit policy over the wire (not recorded)
  http::OwnershipGuard& guard;
  // Stops (true) and resumes (false) --record, so that sweeps stay out of the cassette.
  std::function<void(bool paused)> pause_recording;
};
std::optional<RemoteParts> remote_parts(properties::Target& target);

struct ReplayOptions {
  recorder::Cassette cassette;  // recorded by `patrol check --record`
  std::string name;             // for describe()
  model::Fixture fixture;       // the recorded run's accounts (passwords need not match)
  std::string label_prefix;     // the recorded run's prefix
  std::size_t max_tokens = 20;
};

// A recorded live run as a target: answers from the cassette (identical requests in recorded
// order, secrets masked in matching), `now` from the instants the recorded run read. A request the
// cassette has no answer for is a kInvalid transport error starting "replay: ".
std::unique_ptr<properties::Target> make_replay_target(ReplayOptions options);

// Entries of a replay target's cassette never served (nullopt for other targets).
std::optional<std::vector<std::size_t>> replay_unused(const properties::Target& target);

// The annotation key of an entry's list of instants (microseconds) read before its request.
inline constexpr const char* kNowAnnotation = "now";

// Reads accounts from PATROL_USERNAME / PATROL_PASSWORD (and PATROL_USERNAME_2 /
// PATROL_PASSWORD_2 for the second account) and repositories from PATROL_REPOSITORIES
// ("owner/name:public,owner/name:private"). Errors name the missing variable.
model::Result<model::Fixture> fixture_from_environment();

}  // namespace patrol::app
