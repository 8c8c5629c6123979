// One generated sequence against a target: every exchange goes through the transport, is judged
// by the model's oracle at the target's `now`, and is kept (redacted) for the transcript, the
// coverage table and the repro bundle. Commands talk to the target only through a Session.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/oracle.hpp"
#include "model/walk.hpp"
#include "properties/report.hpp"
#include "properties/target.hpp"

namespace patrol::properties {

// One judged exchange.
struct Step {
  std::string command;  // the command that issued it (show())
  model::HttpRequest request;
  model::HttpResponse response;
  model::Timestamp now;
  std::vector<model::Violation> violations;
};

class Session {
 public:
  Session(Target& target, const model::Profile& profile);
  // Starts from a model state learned elsewhere (a parallel branch continues from its prefix).
  Session(Target& target, const model::Profile& profile, model::ModelState initial);

  // Sends one request, judges the response, records the step. A transport error is returned
  // as is (the run stops: the target is unreachable or refused by a policy).
  // A page of a listing walk is judged through `walk`, which also remembers what it listed.
  model::Result<const Step*> exchange(const std::string& command, model::HttpRequest request,
                                      const std::vector<const char*>& rules,
                                      model::ListingWalk* walk = nullptr);

  // Checks a finished listing walk (contract 6) and records its violations on the last step.
  void finish_walk(const model::ListingWalk& walk);

  const model::ModelState& state() const { return state_; }
  Target& target() { return target_; }
  const model::Profile& profile() const { return profile_; }
  model::Timestamp now() { return target_.now(); }

  // The newest session JWT of an account that has not expired at `now`.
  std::optional<std::string> session_jwt(std::string_view account, model::Timestamp now) const;

  const std::vector<Step>& steps() const { return steps_; }
  const Coverage& coverage() const { return coverage_; }
  bool failed() const { return failed_; }
  // Every violation recorded so far, in order.
  std::vector<model::Violation> violations() const;
  // The transcript, one redacted line per exchange, each violation under its exchange.
  std::vector<std::string> transcript() const;
  // Redacts every credential the model knows from a text.
  std::string redact(std::string_view text) const { return model::redact(text, state_); }
  // A step as one redacted transcript line: "GET /v2/access-tokens/<uuid> -> 404".
  std::string line(const Step& step) const;

  // Records which situation a token-route request met, for the coverage table.
  void note_state(const std::string& situation) { ++coverage_.states[situation]; }

 private:
  Target& target_;
  model::Profile profile_;
  model::ModelState state_;
  std::vector<Step> steps_;
  Coverage coverage_;
  bool failed_ = false;
};

}  // namespace patrol::properties
