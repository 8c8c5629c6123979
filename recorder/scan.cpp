#include "recorder/scan.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/jwt.hpp"
#include "model/types.hpp"

namespace patrol::recorder {
namespace {

constexpr std::string_view kPatPrefix = "dckr_pat_";
constexpr std::size_t kMinPatTail = 16;
constexpr std::size_t kMinSignature = 8;
constexpr std::size_t kMinBearer = 16;
constexpr std::string_view kPlaceholderOpen = "<<patrol:";
constexpr std::size_t kFingerprintHex = 16;

FileFinding make_finding(const std::string& path, std::string location, SecretShape shape,
                         std::string_view secret) {
  return {path, std::move(location), shape, masked_excerpt(secret),
          scan_fingerprint(path, shape, secret)};
}

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

bool is_token68(char c) {
  return is_b64url(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

std::size_t run_end(std::string_view s, std::size_t i, bool (*pred)(char)) {
  while (i < s.size() && pred(s[i])) ++i;
  return i;
}

// Length of a signed JWT starting at `i` ("eyJ" already matched there), or 0.
std::size_t jwt_length_at(std::string_view s, std::size_t i) {
  std::size_t header_end = run_end(s, i, is_b64url);
  if (header_end - i < 5 || header_end >= s.size() || s[header_end] != '.') return 0;
  std::size_t claims = header_end + 1;
  if (s.substr(claims, 3) != "eyJ") return 0;
  std::size_t claims_end = run_end(s, claims, is_b64url);
  if (claims_end - claims < 5 || claims_end >= s.size() || s[claims_end] != '.') return 0;
  std::size_t sig = claims_end + 1;
  std::size_t sig_end = run_end(s, sig, is_b64url);
  if (sig_end - sig < kMinSignature) return 0;
  return sig_end - i;
}

void find_pats(std::string_view s, std::vector<SecretFinding>& out) {
  // Found through its 'k': '_' and 'd' are everywhere in JSON keys and hex ids.
  for (std::size_t i = find_text(s, kPatPrefix, 0, 2); i != std::string_view::npos;
       i = find_text(s, kPatPrefix, i + 1, 2)) {
    std::size_t end = run_end(s, i + kPatPrefix.size(), is_b64url);
    if (end - i - kPatPrefix.size() >= kMinPatTail) {
      out.push_back({i, end - i, SecretShape::kPat});
      i = end - 1;
    }
  }
}

void find_jwts(std::string_view s, std::vector<SecretFinding>& out) {
  for (std::size_t i = find_text(s, "eyJ"); i != std::string_view::npos;
       i = find_text(s, "eyJ", i + 1)) {
    if (std::size_t n = jwt_length_at(s, i); n != 0) {
      out.push_back({i, n, SecretShape::kJwt});
      i += n - 1;
    }
  }
}

// Calls f(start of credential) after each "Basic " / "basic " (or Bearer), given the scheme
// without its first letter ("asic ").
template <class F>
void for_each_scheme(std::string_view s, std::string_view scheme_tail, F&& f) {
  for (std::size_t i = find_text(s, scheme_tail); i != std::string_view::npos;
       i = find_text(s, scheme_tail, i + 1)) {
    if (i == 0 || (s[i - 1] != 'B' && s[i - 1] != 'b')) continue;
    std::size_t start = i + scheme_tail.size();
    while (start < s.size() && s[start] == ' ') ++start;
    f(start);
  }
}

void find_basic(std::string_view s, std::vector<SecretFinding>& out) {
  for_each_scheme(s, "asic ", [&](std::size_t start) {
    std::size_t end = run_end(s, start, is_b64);
    if (end - start < 8) return;
    auto decoded = model::base64_decode(s.substr(start, end - start));
    if (!decoded.ok()) return;
    auto colon = decoded->find(':');
    if (colon == std::string::npos || colon + 1 >= decoded->size()) return;
    std::string_view secret = std::string_view(*decoded).substr(colon + 1);
    // A placeholder, possibly behind the PAT prefix the redactor keeps ("dckr_pat_<<patrol:...").
    if (secret.substr(0, kPatPrefix.size()) == kPatPrefix) secret.remove_prefix(kPatPrefix.size());
    if (secret.substr(0, kPlaceholderOpen.size()) == kPlaceholderOpen) return;
    for (char c : *decoded) {
      if (static_cast<unsigned char>(c) < 0x20) return;
    }
    out.push_back({start, end - start, SecretShape::kBasic});
  });
}

void find_bearer(std::string_view s, std::vector<SecretFinding>& out) {
  for_each_scheme(s, "earer ", [&](std::size_t start) {
    std::size_t end = run_end(s, start, is_token68);
    // A JWT whose signature is a placeholder, plain or percent-encoded (in a URL query).
    if (end < s.size() && (s[end] == '<' || s.substr(end, 13) == "%3C%3Cpatrol:")) return;
    std::string_view token = s.substr(start, end - start);
    if (token.size() < kMinBearer) return;
    if (token.substr(0, 3) == "eyJ" && jwt_length_at(s, start) != 0) return;  // reported as JWT
    // An unsigned JWT ("<header>.<claims>.") holds nothing secret; the redactor keeps it as is.
    if (token.substr(0, 3) == "eyJ" && token.back() == '.' &&
        std::count(token.begin(), token.end(), '.') == 2 && token[token.find('.') + 1] != '.') {
      return;
    }
    if (token.substr(0, kPatPrefix.size()) == kPatPrefix) return;  // reported as PAT
    bool digit =
        std::any_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
    bool alpha = std::any_of(token.begin(), token.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    });
    if (digit && alpha) out.push_back({start, token.size(), SecretShape::kBearer});
  });
}

std::size_t line_of(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

void scan_har_bodies(const std::string& path, std::string_view text,
                     std::vector<FileFinding>& out) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return;
  if (text.find("\"base64\"") == std::string_view::npos) return;
  model::Json doc = model::Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return;
  auto log = doc.find("log");
  if (log == doc.end() || !log->is_object()) return;
  auto entries = log->find("entries");
  if (entries == log->end() || !entries->is_array()) return;
  auto check = [&](const model::Json* holder, const char* encoding_key, const std::string& where) {
    if (holder == nullptr || !holder->is_object()) return;
    auto enc = holder->find(encoding_key);
    auto body = holder->find("text");
    if (enc == holder->end() || body == holder->end() || *enc != "base64" || !body->is_string()) {
      return;
    }
    auto bytes = model::base64_decode(body->get<std::string>());
    if (!bytes.ok()) return;
    for (const auto& f : find_secret_shapes(*bytes)) {
      out.push_back(make_finding(path, where + " (base64)", f.shape,
                                 std::string_view(*bytes).substr(f.offset, f.length)));
    }
  };
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& e = (*entries)[i];
    if (!e.is_object()) continue;
    std::string at = "entries[" + std::to_string(i) + "]";
    const model::Json* post = nullptr;
    const model::Json* content = nullptr;
    if (auto r = e.find("request"); r != e.end() && r->is_object()) {
      if (auto p = r->find("postData"); p != r->end()) post = &*p;
    }
    if (auto r = e.find("response"); r != e.end() && r->is_object()) {
      if (auto c = r->find("content"); c != r->end()) content = &*c;
    }
    check(post, "_encoding", at + ".request.postData");
    check(content, "encoding", at + ".response.content");
  }
}

model::Status scan_file(const std::filesystem::path& file, std::vector<FileFinding>& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return model::make_error(model::ErrorKind::kIo, file.string() + ": cannot be read");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = std::move(buf).str();
  std::string path = file.string();
  for (const auto& f : find_secret_shapes(text)) {
    out.push_back(make_finding(path, "line " + std::to_string(line_of(text, f.offset)), f.shape,
                               std::string_view(text).substr(f.offset, f.length)));
  }
  scan_har_bodies(path, text, out);
  return model::Ok{};
}

}  // namespace

const char* to_string(SecretShape shape) {
  switch (shape) {
    case SecretShape::kPat:
      return "pat";
    case SecretShape::kJwt:
      return "jwt";
    case SecretShape::kBasic:
      return "basic";
    case SecretShape::kBearer:
      return "bearer";
  }
  return "?";
}

std::vector<SecretFinding> find_secret_shapes(std::string_view text) {
  std::vector<SecretFinding> all;
  find_pats(text, all);
  find_jwts(text, all);
  find_basic(text, all);
  find_bearer(text, all);
  std::sort(all.begin(), all.end(),
            [](const SecretFinding& a, const SecretFinding& b) { return a.offset < b.offset; });
  std::vector<SecretFinding> out;
  for (const auto& f : all) {
    if (!out.empty() && f.offset < out.back().offset + out.back().length) continue;
    out.push_back(f);
  }
  return out;
}

std::string scan_fingerprint(const std::string& path, SecretShape shape, std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(secret.data(), secret.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    std::abort();  // SHA-256 over memory cannot fail short of a broken libcrypto
  }
  return std::filesystem::path(path).lexically_normal().generic_string() + ':' + to_string(shape) +
         ':' + model::hex_encode({reinterpret_cast<const char*>(digest), kFingerprintHex / 2});
}

model::Result<std::set<std::string>> read_scan_allowlist(const std::string& path) {
  std::ifstream in(path);
  if (!in) return model::make_error(model::ErrorKind::kIo, path + ": cannot be read");
  std::set<std::string> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto last = line.find_last_not_of(" \t\r");
    std::string entry = line.substr(first, last - first + 1);
    // PATH:SHAPE:HEX, PATH itself possibly holding ':'.
    auto hex_colon = entry.rfind(':');
    auto shape_colon = hex_colon == std::string::npos || hex_colon == 0
                           ? std::string::npos
                           : entry.rfind(':', hex_colon - 1);
    std::string_view hex = std::string_view(entry).substr(hex_colon + 1);
    bool hex_ok = hex.size() == kFingerprintHex &&
                  hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    if (shape_colon == std::string::npos || shape_colon == 0 || !hex_ok) {
      return model::make_error(model::ErrorKind::kParse,
                               path + ": line " + std::to_string(n) +
                                   ": expected a fingerprint PATH:SHAPE:HEX as patrol scan prints "
                                   "it (16 lower-case hex digits)");
    }
    out.insert(std::move(entry));
  }
  if (in.bad()) return model::make_error(model::ErrorKind::kIo, path + ": read failed");
  return out;
}

std::string masked_excerpt(std::string_view secret) {
  return std::string(secret.substr(0, 4)) + "\xE2\x80\xA6(" + std::to_string(secret.size()) +
         " chars)";
}

model::Result<std::vector<FileFinding>> scan_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<FileFinding> out;
  for (const auto& p : paths) {
    std::error_code ec;
    auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
      return model::make_error(model::ErrorKind::kIo, p + ": no such file or directory");
    }
    if (fs::is_regular_file(status)) {
      if (auto s = scan_file(p, out); !s.ok()) return s.error();
      continue;
    }
    if (!fs::is_directory(status)) continue;
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) return model::make_error(model::ErrorKind::kIo, p + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return model::make_error(model::ErrorKind::kIo, p + ": " + ec.message());
      if (it->is_directory(ec) && it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (auto s = scan_file(f, out); !s.ok()) return s.error();
    }
  }
  return out;
}

}  // namespace patrol::recorder
