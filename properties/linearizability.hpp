// Linearizability of concurrent histories against the model (issue 8): does some order of the
// operations, consistent with real time, explain every response when the oracle judges them one
// by one in that order? Wing & Gong / Lowe just-in-time search with memoisation, run on
// independent parts of the history (P-compositionality), bounded in time and memory (past the
// bounds the verdict is "unknown", never a false alarm), with the smallest unexplainable part
// rendered as a text timeline and as an HTML page.
//
// History JSON ("patrol-history/1"), as `patrol check --parallel` writes it and
// `patrol linearize` reads it:
//
//   {
//     "format": "patrol-history/1",
//     "profile": "hub",                     optional, informational ("hub" or "spec")
//     "fixture": {...},                     optional, model/fixture.hpp format; default fixture
//     "start": "2025-06-15T12:00:00Z",      optional: the target's clock before the first
//                                           operation; default: the earliest "at"
//     "operations": [
//       {"client": 1,                       integer >= 0; one client's operations never overlap
//        "invoke_ns": 1200,                 integer: when the request was sent (any monotonic
//                                           clock, the same for every operation)
//        "response_ns": 3400,               integer >= invoke_ns: when the response arrived
//        "at": "2025-06-15T12:00:00.0001Z", the target's clock when the response arrived (the
//                                           instant the oracle judges the exchange at)
//        "command": "PATCH ...",            optional: what issued it, for timelines
//        "request": {"method": "PATCH", "path": "/v2/access-tokens/<uuid>", "query": "",
//                    "headers": [["Authorization", "Bearer <jwt>"]], "body": "{...}"},
//        "response": {"status": 200, "headers": [["Content-Type", "application/json"]],
//                     "body": "{...}"}}
//     ]
//   }
//
// Any of path, query, header values and bodies that is not valid UTF-8 is written as
// {"base64": "..."} instead of a string. Files patrol writes are redacted (redact_history):
// passwords and second-factor codes become "<<patrol:password:USER>>" / "<<patrol:code:USER>>"
// in the operations and in the fixture alike, PAT secrets "dckr_pat_<<patrol:secret:N>>",
// login_2fa_tokens "<<patrol:2fa:N>>", and JWTs keep header and claims with the signature
// replaced by "<<patrol:jwt:N>>" (read back as a base64url stand-in); every replacement is
// consistent, so a redacted history, once read back, checks like the original.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/codec.hpp"
#include "model/fixture.hpp"
#include "model/http_message.hpp"
#include "model/oracle.hpp"
#include "model/profile.hpp"
#include "model/result.hpp"
#include "model/rfc3339.hpp"

namespace patrol::properties {

// One exchange of one client, with the interval in which it took effect.
struct Operation {
  int client = 0;
  std::int64_t invoke_ns = 0;    // request sent
  std::int64_t response_ns = 0;  // response received
  model::Timestamp at;           // the target's clock at the response
  std::string command;           // what issued it (may be empty)
  model::HttpRequest request;
  model::HttpResponse response;
};

struct History {
  model::Fixture fixture = model::default_fixture();
  std::string profile = "hub";
  std::optional<model::Timestamp> start;
  std::vector<Operation> operations;
};

inline constexpr std::string_view kHistoryFormat = "patrol-history/1";

// Decodes a history; errors name the JSON path ("operations[3].response_ns: ...") and reject
// intervals that end before they begin or overlap within one client.
model::Result<History> decode_history(const model::Json& json);
// Parses history text (JSON).
model::Result<History> parse_history(std::string_view text);
// Encodes a history as is (call redact_history first for anything written to disk).
model::Json encode_history(const History& history);

// Returns a copy with every credential replaced by a consistent placeholder (see above).
History redact_history(const History& history);

// Bounds of one check. Past either, the verdict is kUnknown.
struct CheckLimits {
  double time_limit_s = 10.0;
  std::size_t memory_limit_bytes = std::size_t{1} << 30;
  // Split the history into independent parts (per account, and per token where no listing
  // reads the whole account). Off, the whole history is one part.
  bool split = true;
  // Shrink the unexplainable part (drop reads and unused logins that it does not need).
  bool minimise = true;
};

enum class Linearizable : std::uint8_t { kYes, kNo, kUnknown };

// Returns "linearizable", "not linearizable" or "unknown".
std::string_view to_string(Linearizable verdict);

// The smallest unexplainable part found: operations (indices into the history, in invocation
// order) that no order consistent with real time explains.
struct Counterexample {
  std::string part;  // "account alice, token 6f1c..."
  std::vector<std::size_t> operations;
  std::size_t stuck = 0;               // an operation the furthest explanation could not place
  std::vector<std::size_t> explained;  // that explanation: operations in linearization order
  std::vector<model::Violation> why;   // the oracle on `stuck` right after `explained`
  // True when an exact search (states compared, no hash keys) confirmed it; a part too large
  // for that rests on 128-bit memo keys, whose collision odds are below 2^-100.
  bool exact = true;
};

struct LinearizabilityResult {
  Linearizable verdict = Linearizable::kYes;
  std::string reason;  // for kUnknown: which bound was reached where
  std::size_t parts = 0;
  std::size_t parts_checked = 0;
  std::size_t operations = 0;
  std::size_t judgements = 0;    // oracle calls
  std::size_t memo_entries = 0;  // largest memo of any part
  std::size_t peak_bytes = 0;    // largest working memory estimate of any part
  double seconds = 0;
  std::optional<Counterexample> counterexample;
};

// Decides whether the history is linearizable with the model as the sequential specification.
LinearizabilityResult check_linearizable(const History& history, const model::Profile& profile,
                                         const CheckLimits& limits = {});

// Names the independent parts the history splits into, with their operations (invocation order).
struct HistoryPart {
  std::string name;
  std::vector<std::size_t> operations;
};
std::vector<HistoryPart> split_history(const History& history);

// The counterexample as text: a lane chart (one row per client, bars in event order) and one
// line per operation, credentials redacted.
std::string render_timeline_text(const History& history, const Counterexample& counterexample);
// The counterexample as a self-contained HTML page: one lane per client, operations as bars on a
// real-time axis, the explanation and the unexplainable operation marked, details on hover.
std::string render_timeline_html(const History& history, const Counterexample& counterexample);

}  // namespace patrol::properties
