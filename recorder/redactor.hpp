// Redaction of secrets in recorded interactions. Every secret becomes a stable placeholder (the
// same secret gets the same placeholder everywhere in a cassette) so cross-references survive and
// replay can substitute fresh values. JWTs keep header and claims and lose only their signature.
// The cassette writer runs every interaction through a Redactor; there is no unredacted write path.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/fixture.hpp"
#include "model/types.hpp"
#include "recorder/cassette.hpp"

namespace patrol::recorder {

// Placeholders read "<<patrol:LABEL>>": "<<patrol:secret:3>>" for a secret (a Docker PAT keeps
// its prefix: "dckr_pat_<<patrol:secret:3>>"), "<<patrol:jwt:4>>" in place of a JWT signature,
// "<<patrol:password:alice>>" for a declared secret. Inside a URL query
// they are written percent-encoded ("%3C%3Cpatrol:secret:3%3E%3E") and recognised in that form.
inline constexpr std::string_view kPlaceholderOpen = "<<patrol:";
inline constexpr std::string_view kPlaceholderClose = ">>";

// Returns "<<patrol:" + label + ">>".
std::string make_placeholder(std::string_view label);

// A placeholder found in a text: [begin, end) spans it, in either form.
struct PlaceholderSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string label;  // "secret:3", "jwt:4", "password:alice"
};

// Lists placeholders in order (both the plain and the percent-encoded form).
std::vector<PlaceholderSpan> find_placeholders(std::string_view text);

// A secret whose placeholder the caller names, e.g. {"hunter2", "password:alice"}, so offline
// tools (verify, replay) know what it stood for. Labels keep [A-Za-z0-9_.@:-]; others become '_'.
struct DeclaredSecret {
  std::string value;
  std::string label;
};

// The fixture's passwords ("password:<user>") and second-factor codes ("code:<user>").
std::vector<DeclaredSecret> declared_from_fixture(const model::Fixture& fixture);

// An interaction that went through a Redactor. Only a Redactor makes one, so code that writes
// cassettes cannot be handed unredacted data by mistake.
class Redacted {
 public:
  const Interaction& get() const { return value_; }

 private:
  friend class Redactor;
  explicit Redacted(Interaction value) : value_(std::move(value)) {}
  Interaction value_;
};

// Replaces secrets with placeholders, remembering each secret for the life of the object (one
// cassette). Thread-safe. Secrets of 8 bytes or more are also replaced wherever else they appear
// (outside placeholders and redacted Basic credentials; of overlapping ones, the first to start);
// shorter ones, and a bare "dckr_pat_", only in the positions listed in redact(). A secret value
// that holds a whole placeholder is taken as redacted already.
class Redactor {
 public:
  explicit Redactor(std::vector<DeclaredSecret> declared = {});
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Redacts: Authorization/Proxy-Authorization (Bearer tokens, the secret half of Basic
  // credentials, any other scheme's credential), Cookie and Set-Cookie values; in JSON bodies the
  // string values of secret, password, token, access_token, refresh_token, id_token,
  // login_2fa_token (and code in requests); the same names in query strings; then, everywhere
  // (path, query, headers, bodies, annotations), every secret seen so far and every shape
  // find_secret_shapes() reports.
  Redacted redact(const Interaction& interaction);

  // Redacts every string inside a JSON value (cassette-wide annotations, verdict messages).
  model::Json redact_json(const model::Json& value);

  // Redacts a free text (a log line, an error message).
  std::string redact_text(std::string_view text);

  // Number of distinct secrets seen, declared ones included.
  std::size_t secret_count() const;

 private:
  struct State;
  Redacted redact_locked(const Interaction& interaction);  // with state_->mu held
  std::unique_ptr<State> state_;
};

}  // namespace patrol::recorder
