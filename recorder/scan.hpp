// Finds unredacted secret shapes in text and files: Docker PATs, signed JWTs, HTTP Basic and
// Bearer credentials. `patrol scan` uses it as a CI gate for cassettes and corpora, and the
// redactor uses the same detectors, so anything the scan would flag never reaches a cassette.
// Redaction placeholders ("<<patrol:...>>") and JWTs whose signature was redacted are not flagged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
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

// The first occurrence of `needle` (not empty) in `text` at or after `from`, or npos. It looks for
// needle[anchor] with memchr, which is vectorised, and compares the rest there: choose a byte that
// is rare in the texts searched. string_view::find stops at every occurrence of the needle's first
// byte, and "asic " or "earer " start with letters that fill JSON bodies: scanning a body for
// secret shapes that way cost more than encoding it.
inline std::size_t find_text(std::string_view text, std::string_view needle, std::size_t from = 0,
                             std::size_t anchor = std::string_view::npos) {
  if (anchor >= needle.size()) anchor = needle.size() - 1;
  for (std::size_t i = from + anchor; i < text.size();) {
    const void* hit = std::memchr(text.data() + i, needle[anchor], text.size() - i);
    if (hit == nullptr) break;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    const std::size_t start = at - anchor;
    if (text.size() - start >= needle.size() &&
        std::memcmp(text.data() + start, needle.data(), needle.size()) == 0) {
      return start;
    }
    i = at + 1;
  }
  return std::string_view::npos;
}

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
