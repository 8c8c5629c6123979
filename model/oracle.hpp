// The oracle (DESIGN.md, "the spine"): judges one HTTP exchange against the model state and
// returns the violations it finds, each naming its CONTRACT.md rule, together with the next state
// built from the values the server chose (uuids, secrets, timestamps, JWTs). Every harness - live
// runs, cassette verification, session fuzzing, linearizability - asks this one function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/http_message.hpp"
#include "model/profile.hpp"
#include "model/rfc3339.hpp"
#include "model/state.hpp"

namespace patrol::model {

// One broken rule: its id ("3.6", "5", "A12"...), a one-line message ending with
// "(contract X)", and the offending excerpt with every secret redacted.
struct Violation {
  std::string rule;
  std::string message;
  std::string excerpt;

  bool operator==(const Violation&) const = default;
};

struct Verdict {
  std::vector<Violation> violations;
  ModelState next;
};

// A request, the response it got, and the instant the response arrived.
struct Exchange {
  HttpRequest request;
  HttpResponse response;
  Timestamp now;
};

// The routes of contract 1 (plus the 2FA step of A2), as the oracle classifies requests.
enum class Route : std::uint8_t {
  kCreate,          // E1 POST /v2/access-tokens
  kList,            // E2 GET /v2/access-tokens
  kGet,             // E3 GET /v2/access-tokens/{uuid}
  kPatch,           // E4 PATCH /v2/access-tokens/{uuid}
  kDelete,          // E5 DELETE /v2/access-tokens/{uuid}
  kAuthToken,       // A1 POST /v2/auth/token
  kLogin,           // A2 POST /v2/users/login
  kTwoFactorLogin,  // POST /v2/users/2fa-login
  kRegistry,        // R1 GET /token
  kWrongMethod,     // another method on a contract path (must be answered 4xx)
  kOther,           // outside the contract (only 5xx and leaked secrets are judged)
};

// Classifies a request by method and path.
Route classify(const HttpRequest& request);

// Returns the contract id of a route: "E1".."E5", "A1", "A2", "2FA", "R1", "other".
std::string_view route_id(Route route);

// Judges one exchange: `now` is when the response arrived (the model never reads a clock).
// Never throws; arbitrary bytes in the request or response give violations, not crashes.
Verdict judge(const ModelState& state, const HttpRequest& request, const HttpResponse& response,
              Timestamp now, const Profile& profile);

// Same judgement, updating `state` in place (no copy); returns the violations.
std::vector<Violation> judge_in_place(ModelState& state, const HttpRequest& request,
                                      const HttpResponse& response, Timestamp now,
                                      const Profile& profile);

// Replaces every known secret, fixture password, login_2fa_token and JWT-looking string in
// `text` with a placeholder, so excerpts and messages never carry credentials.
std::string redact(std::string_view text, const ModelState& state);

}  // namespace patrol::model
