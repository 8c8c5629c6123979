// Finds unredacted secret shapes in text and files: Docker PATs, signed JWTs, HTTP Basic and
// Bearer credentials. `patrol scan` uses it as a CI gate for cassettes and corpora, and the
// redactor uses the same detectors, so anything the scan would flag never reaches a cassette.
// Redaction placeholders ("<<patrol:...>>") and JWTs whose signature was redacted are not flagged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace patrol::recorder {

enum class SecretShape : std::uint8_t {
  kPat,     // "dckr_pat_" followed by 16 or more url-safe characters
  kJwt,     // three base64url parts "eyJ...".eyJ...".<signature of 8+ characters>"
  kBasic,   // "Basic <base64 of user:secret>" whose secret is not a placeholder
  kBearer,  // "Bearer <opaque token>" of 16+ characters mixing letters and digits
};

// Returns "pat", "jwt", "basic" or "bearer".
const char* to_string(SecretShape shape);

// One secret in a text: [offset, offset + length) spans the secret itself (the whole PAT or JWT,
// the base64 credential after "Basic ", the token after "Bearer ").
struct SecretFinding {
  std::size_t offset = 0;
  std::size_t length = 0;
  SecretShape shape = SecretShape::kPat;
};

// Lists the secret shapes in a text, in order of offset, without overlaps.
std::vector<SecretFinding> find_secret_shapes(std::string_view text);

// Shows the start of a secret and its length, never the secret: "dckr…(36 chars)".
std::string masked_excerpt(std::string_view secret);

struct FileFinding {
  std::string path;
  std::string location;  // "line 12", or "entries[3].response.content (base64)" inside a HAR
  SecretShape shape = SecretShape::kPat;
  std::string excerpt;      // masked_excerpt of the secret
  std::string fingerprint;  // scan_fingerprint, for an allowlist
};

// Names one finding without showing its secret: "PATH:SHAPE:HEX", the path lexically normalised
// ("./a/../b" is "b") and HEX the first 16 hex digits of the secret's SHA-256. It survives the
// secret moving within its file; another secret in the same file has another fingerprint.
std::string scan_fingerprint(const std::string& path, SecretShape shape, std::string_view secret);

// Reads an allowlist of known, deliberate findings (fake secrets in fuzz regression inputs or test
// fixtures): one fingerprint per line; blank lines and lines starting with '#' are ignored. An
// unreadable file or a line that is no fingerprint is an error naming the file and line.
model::Result<std::set<std::string>> read_scan_allowlist(const std::string& path);

// Scans files and directories (recursively, skipping .git). Inside HAR cassettes, base64-encoded
// bodies are decoded and scanned too. Errors name the path that could not be read.
model::Result<std::vector<FileFinding>> scan_paths(const std::vector<std::string>& paths);

}  // namespace patrol::recorder
