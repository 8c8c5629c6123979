// Turns placeholders back into concrete values: synthetic ones (stable per placeholder) for
// offline use (verify, the replay server), the fixture's for declared passwords and codes, and,
// when re-issuing a session against a live target, the values learned from its new responses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "model/fixture.hpp"
#include "model/http_message.hpp"

namespace patrol::recorder {

class Substituter {
 public:
  // `fixture` supplies the values of "password:<user>" and "code:<user>" placeholders.
  explicit Substituter(model::Fixture fixture = {});

  // Returns the value a placeholder label stands for: a learned one, the fixture's, or a
  // synthetic one ("patrol-replay-secret-3"; a base64url signature for "jwt:N").
  std::string value_for(std::string_view label) const;

  // Remembers that a recorded string (a placeholder, a JWT with a redacted signature, or a uuid)
  // stands for `live` from now on.
  void bind(const std::string& recorded, const std::string& live);

  // Learns bindings from the JSON bodies of a recorded response and the live one: every string
  // outside arrays that is a placeholder, a redacted JWT or a uuid in the recording, taken from
  // the same place in the live body. A top-level "now" timestamp in both (the reference
  // server's /_patrol/clock) sets how far the target's clock is from the recording's.
  void learn(const model::HttpResponse& recorded, const model::HttpResponse& live);

  // Replaces placeholders, redacted JWTs and bound uuids in a text. With `json_strings`, values
  // are escaped for a JSON string literal.
  std::string apply(std::string_view text, bool json_strings = false) const;

  // Applies to path, query, header values (inside HTTP Basic credentials too) and body; RFC 3339
  // timestamps in a JSON body (an expires_at) move by the learned clock difference.
  model::HttpRequest apply(const model::HttpRequest& request) const;
  model::HttpResponse apply(const model::HttpResponse& response) const;

  // Maps the concrete values this substituter hands out back to their placeholders, so messages
  // about substituted traffic never show a password.
  std::string unapply(std::string_view text) const;

 private:
  model::Fixture fixture_;
  std::map<std::string, std::string, std::less<>> bound_;  // recorded text -> live value
  std::map<std::string, std::string, std::less<>> uuids_;  // recorded uuid -> live uuid
  std::int64_t clock_shift_micros_ = 0;                    // target clock minus recorded clock
};

// True for text that starts like a JSON document ('{' or '[' after whitespace).
bool looks_like_json(std::string_view text);

}  // namespace patrol::recorder
