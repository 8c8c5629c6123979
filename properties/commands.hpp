// The commands of a conformance sequence, one struct each (RapidCheck's examples/database
// style): checkPreconditions says whether the command means something in the model state now,
// run issues its requests through the Session (which judges every exchange with the oracle), and
// show prints what it does. No command carries a rule of its own: the oracle is the judge.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "properties/session.hpp"

namespace patrol::properties {

struct Command {
  virtual ~Command() = default;
  // True when the command can run in this state (e.g. a token to act on exists).
  virtual bool check_preconditions(const Session& /*session*/) const { return true; }
  // Issues the command's requests. A transport error stops the sequence.
  virtual model::Status run(Session& session) const = 0;
  // One line: what the command does, with credentials shown as placeholders.
  virtual std::string show() const = 0;
};

using CommandPtr = std::shared_ptr<const Command>;

// What the generator may use.
struct GeneratorOptions {
  bool can_advance_clock = false;  // embedded target with a manual clock
  bool guarded = false;            // live target: never PATCH/DELETE a uuid the run did not create
  bool registry = true;            // the target serves R1
  std::string label_prefix = "patrol-";  // every created label starts with it (live safety)
  // Swarm testing (Groce et al., ISSTA 2012): command kinds this sequence leaves out, one bit
  // each, so that a sequence dwells on a few operations and reaches deeper states with them.
  std::uint32_t left_out = 0;
  std::size_t max_live_tokens = 0;  // live target: the run's tokens alive at once (0: no cap)
};

// The kinds a sequence leaves out, drawn from `seed` (each optional kind with probability 1/3;
// logins and creates always stay).
GeneratorOptions pick_swarm(GeneratorOptions options, std::uint64_t seed);

// Picks the next command from what is interesting in the session's model state. Every choice
// comes from the enclosing choose::Scope; throws choose::NothingToPick when nothing applies.
CommandPtr pick_command(const Session& session, const GeneratorOptions& options);

// pick_command with its choices drawn from `seed` alone, outside any enclosing property's record
// of choices; null when nothing applies in this state.
CommandPtr pick_command_from_seed(std::uint64_t seed, const Session& session,
                                  const GeneratorOptions& options);

// Logs every fixture account in (a session JWT each), as every sequence starts.
model::Status bootstrap(Session& session);

// Deletes every token the session created and has not deleted (live safety), logging in again
// where a session JWT expired; tokens the model adopted from a live account are left alone. These
// exchanges are not judged: the sequence is over.
void delete_created_tokens(Session& session);

// Request builders shared by commands and the repro bundle.
model::HttpRequest json_request(std::string method, std::string path, const std::string& bearer,
                                std::string body);

}  // namespace patrol::properties
