// What a conformance run talks to: a transport, the target's notion of "now", and whether its
// clock can be moved. The embedded reference server (in-process or on loopback), any HTTP(S)
// endpoint, or a recorded session all present this one face.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/transport.hpp"
#include "model/fixture.hpp"
#include "model/result.hpp"
#include "model/rfc3339.hpp"
#include "model/state.hpp"

namespace patrol::properties {

class Target {
 public:
  virtual ~Target() = default;

  // The transport every exchange of the run goes through.
  virtual http::Transport& transport() = 0;
  // Opens another connection to the same target for one concurrent client of a parallel run;
  // the caller owns it and uses it from one thread. Targets that cannot give one answer an error.
  virtual model::Result<std::unique_ptr<http::Transport>> open_transport() {
    return model::make_error(model::ErrorKind::kInvalid,
                             "this target cannot open a connection per concurrent client");
  }
  // The instant the oracle judges the next exchange at.
  virtual model::Timestamp now() = 0;
  // True when advance_clock() works (the embedded server's manual clock).
  virtual bool can_advance_clock() const { return false; }
  // Moves the target's clock forward.
  virtual model::Status advance_clock(std::chrono::seconds /*by*/) {
    return model::make_error(model::ErrorKind::kInvalid, "this target's clock cannot be moved");
  }
  // Called before each generated sequence; an embedded target starts a fresh store so that
  // sequences are independent and shrinking replays exactly.
  virtual model::Status begin_sequence() { return model::Ok{}; }
  // True when the run may modify only tokens it created (live targets).
  virtual bool guarded() const { return false; }
  // What a sequence's model assumes about tokens that existed before it: a fresh store holds
  // none (kEmpty), a live account may hold tokens the run never saw (kUnknown).
  virtual model::Baseline baseline() const { return model::Baseline::kEmpty; }
  // Accounts and repositories of the target (credentials included).
  virtual const model::Fixture& fixture() const = 0;
  // 429 responses the transport absorbed so far (rate limits are never violations).
  virtual std::int64_t rate_limited() const { return 0; }
  // One line for reports: "embedded reference server (in-process)", "https://hub.docker.com".
  virtual std::string describe() const = 0;
};

}  // namespace patrol::properties
