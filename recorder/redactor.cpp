#include "recorder/redactor.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "model/jwt.hpp"
#include "recorder/json_text.hpp"
#include "recorder/scan.hpp"

namespace patrol::recorder {
namespace {

constexpr std::string_view kEncodedOpen = "%3C%3Cpatrol:";
constexpr std::string_view kEncodedClose = "%3E%3E";
constexpr std::size_t kIndexedMin = 8;  // secrets this long are replaced anywhere
constexpr std::string_view kPatPrefix = "dckr_pat_";

bool iequal(std::string_view a, std::string_view b) { return model::header_name_equal(a, b); }

std::string sanitize_label(std::string_view label) {
  std::string out(label);
  for (char& c : out) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == ':' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

// A value that only masks a secret ("", "***", "dckr_pat_****") is not one: nothing but '*'
// after an optional lower-case prefix.
bool is_mask(std::string_view s) {
  std::size_t stars = s.size() - std::min(s.size(), s.find_last_not_of('*') + 1);
  if (s.empty() || stars == s.size()) return true;
  if (stars < 3) return false;
  return std::all_of(s.begin(), s.end() - static_cast<std::ptrdiff_t>(stars),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Three base64url parts whose header starts like a JSON object; returns the offset of the
// signature, or npos.
std::size_t jwt_signature_offset(std::string_view s) {
  if (s.substr(0, 3) != "eyJ") return std::string_view::npos;
  std::size_t dots = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      ++dots;
      last = i;
    } else if (!is_b64url(s[i])) {
      return std::string_view::npos;
    }
  }
  if (dots != 2 || s[s.find('.') + 1] == '.') return std::string_view::npos;
  return last + 1;
}

// A secret value that went through redaction already holds a whole placeholder: the value's own
// ("<<patrol:secret:3>>", "dckr_pat_<<...>>", "<header>.<claims>.<<patrol:jwt:4>>"), and maybe
// others where a secret learned later was replaced inside it (a JWT header that was also seen as
// a Bearer token). Such a value is kept; an opener alone ("at_<<patrol:") proves nothing.
bool holds_placeholder(std::string_view s) { return !find_placeholders(s).empty(); }

// The secret half of a Basic credential counts as redacted only where the secret scan accepts it
// (scan.cpp find_basic): it starts with a placeholder, behind the PAT prefix at most.
bool basic_secret_redacted(std::string_view secret) {
  if (secret.substr(0, kPatPrefix.size()) == kPatPrefix) secret.remove_prefix(kPatPrefix.size());
  auto spans = find_placeholders(secret);
  return !spans.empty() && spans.front().begin == 0;
}

bool is_b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

// A placeholder label this redactor writes: "secret:N", "jwt:N" or one of its declared labels.
bool is_own_label(std::string_view label, const std::vector<std::string>& declared) {
  for (std::string_view kind : {std::string_view("secret:"), std::string_view("jwt:")}) {
    if (label.size() > kind.size() && label.substr(0, kind.size()) == kind &&
        std::all_of(label.begin() + static_cast<std::ptrdiff_t>(kind.size()), label.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      return true;
    }
  }
  return std::find(declared.begin(), declared.end(), label) != declared.end();
}

// Where known secrets are not replaced: placeholders this redactor writes, and the base64 of each
// Basic credential whose secret is redacted already. A secret learned later may occur inside that
// base64 by chance (the Bearer token "YXRfPDxwYXRyb2w6" is base64 of "at_<<patrol:"); replacing it
// there would cut the credential short into one the scan flags. Of any other placeholder-shaped
// text only the marks are kept: its label is text like any other, and "<<patrol:" + secret + ">>"
// must not shelter the secret (redactor_fuzzer found "<<patrol:sec<password>:1>>" kept whole),
// while a secret learned later inside an own label ("password" in "<<patrol:password:alice>>")
// must not be replaced there either, or redaction stops being idempotent. Sorted by begin.
std::vector<PlaceholderSpan> kept_spans(std::string_view text,
                                        const std::vector<std::string>& declared) {
  std::vector<PlaceholderSpan> out;
  for (const auto& p : find_placeholders(text)) {
    if (is_own_label(p.label, declared)) {
      out.push_back({p.begin, p.end, {}});
      continue;
    }
    const std::size_t label_begin =
        p.end - p.label.size() -
        (text.compare(p.begin, kEncodedOpen.size(), kEncodedOpen) == 0 ? kEncodedClose.size()
                                                                       : kPlaceholderClose.size());
    out.push_back({p.begin, label_begin, {}});
    out.push_back({label_begin + p.label.size(), p.end, {}});
  }
  const std::size_t placeholders = out.size();
  constexpr std::string_view kSchemeTail = "asic ";  // "Basic " or "basic ", as scan.cpp
  for (std::size_t i = find_text(text, kSchemeTail); i != std::string_view::npos;
       i = find_text(text, kSchemeTail, i + 1)) {
    if (i == 0 || (text[i - 1] != 'B' && text[i - 1] != 'b')) continue;
    std::size_t begin = i + kSchemeTail.size();
    while (begin < text.size() && text[begin] == ' ') ++begin;
    std::size_t end = begin;
    while (end < text.size() && is_b64(text[end])) ++end;
    if (end == begin) continue;
    auto decoded = model::base64_decode(text.substr(begin, end - begin));
    if (!decoded.ok()) continue;
    auto colon = decoded->find(':');
    if (colon == std::string::npos || !basic_secret_redacted(decoded->substr(colon + 1))) continue;
    out.push_back({begin, end, {}});
  }
  if (out.size() != placeholders) {
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.begin < b.begin; });
  }
  return out;
}

std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Whether [begin, end) overlaps one of `spans` (sorted by begin, disjoint).
bool overlaps(const std::vector<PlaceholderSpan>& spans, std::size_t begin, std::size_t end) {
  auto after =
      std::lower_bound(spans.begin(), spans.end(), end,
                       [](const PlaceholderSpan& s, std::size_t e) { return s.begin < e; });
  return after != spans.begin() && std::prev(after)->end > begin;
}

// Secrets of kIndexedMin bytes or more, keyed by their last 8 bytes, with a one-hash bloom filter
// in front so scanning a text costs one bit test per byte.
class SecretIndex {
 public:
  // A declared label: its placeholders are kept whole.
  void add_own_label(std::string label) { own_labels_.push_back(std::move(label)); }

  void add(const std::string& secret, const std::string& replacement) {
    std::uint64_t key = load8(secret.data() + secret.size() - 8);
    bloom_[bit(key) >> 6] |= std::uint64_t{1} << (bit(key) & 63);
    auto& bucket = by_suffix_[key];
    bucket.push_back({secret, replacement});
    std::sort(bucket.begin(), bucket.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  // Replaces known secrets outside kept_spans(); returns true when something changed. Of
  // overlapping secrets the one starting first (the longest, at one start) wins, and a secret
  // reaching past it has the rest replaced too: taking the first to end instead let a known
  // prefix of a longer secret leave that secret's tail in the clear.
  bool replace_all(std::string& text) const {
    if (by_suffix_.empty() || text.size() < 8) return false;
    // Worked out at the first candidate only: most texts hold no known secret at all.
    std::optional<std::vector<PlaceholderSpan>> kept;
    struct Match {
      std::size_t begin;
      std::size_t end;
      const std::string* replacement;
    };
    std::vector<Match> matches;
    for (std::size_t end = 8; end <= text.size(); ++end) {
      std::uint64_t key = load8(text.data() + end - 8);
      std::uint32_t b = bit(key);
      if ((bloom_[b >> 6] & (std::uint64_t{1} << (b & 63))) == 0) continue;
      auto it = by_suffix_.find(key);
      if (it == by_suffix_.end()) continue;
      for (const auto& [secret, replacement] : it->second) {
        if (secret.size() > end) continue;
        std::size_t begin = end - secret.size();
        if (std::memcmp(text.data() + begin, secret.data(), secret.size()) != 0) continue;
        if (!kept) kept = kept_spans(text, own_labels_);
        if (overlaps(*kept, begin, end)) continue;
        matches.push_back({begin, end, &replacement});
      }
    }
    if (matches.empty()) return false;
    std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
    });
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    for (const auto& m : matches) {
      if (m.end <= copied) continue;
      out.append(text, copied, m.begin > copied ? m.begin - copied : 0);
      out.append(*m.replacement);
      copied = m.end;
    }
    out.append(text, copied, std::string::npos);
    text = std::move(out);
    return true;
  }

 private:
  static std::uint32_t bit(std::uint64_t key) {
    return static_cast<std::uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 48);
  }
  std::vector<std::uint64_t> bloom_ = std::vector<std::uint64_t>(1024, 0);
  std::vector<std::string> own_labels_;
  std::unordered_map<std::uint64_t, std::vector<std::pair<std::string, std::string>>> by_suffix_;
};

const std::vector<std::string_view> kRequestBodyKeys = {
    "secret",        "password", "token",           "access_token",
    "refresh_token", "id_token", "login_2fa_token", "code"};
const std::vector<std::string_view> kResponseBodyKeys = {
    "secret", "password", "token", "access_token", "refresh_token", "id_token", "login_2fa_token"};
const std::vector<std::string_view> kQueryKeys = {
    "secret", "password", "token", "access_token", "refresh_token", "id_token", "login_2fa_token"};

// An HTTP token (RFC 9110 5.6.2), as a cookie name must be.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Rewrites the placeholders find_placeholders() sees in their plain form to the percent-encoded
// form, and nothing else: a "<<patrol:" that opens no placeholder is left alone (pairing it with
// some later ">>" half-encoded text that is no placeholder, and a second pass encoded the rest).
std::string encode_placeholders_for_query(std::string text) {
  if (text.find(kPlaceholderOpen) == std::string::npos) return text;
  std::string out;
  std::size_t copied = 0;
  for (const auto& span : find_placeholders(text)) {
    if (text.compare(span.begin, kPlaceholderOpen.size(), kPlaceholderOpen) != 0) continue;
    out.append(text, copied, span.begin - copied);
    out.append(kEncodedOpen);
    out.append(span.label);
    out.append(kEncodedClose);
    copied = span.end;
  }
  if (copied == 0) return text;
  out.append(text, copied, std::string::npos);
  return out;
}

}  // namespace

std::string make_placeholder(std::string_view label) {
  std::string out(kPlaceholderOpen);
  out += label;
  out += kPlaceholderClose;
  return out;
}

std::vector<PlaceholderSpan> find_placeholders(std::string_view text) {
  std::vector<PlaceholderSpan> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t plain = text.find(kPlaceholderOpen, i);
    std::size_t encoded = text.find(kEncodedOpen, i);
    if (plain == std::string_view::npos && encoded == std::string_view::npos) break;
    bool is_plain = plain < encoded;
    std::size_t begin = is_plain ? plain : encoded;
    std::string_view open = is_plain ? kPlaceholderOpen : kEncodedOpen;
    std::string_view close = is_plain ? kPlaceholderClose : kEncodedClose;
    std::size_t label_begin = begin + open.size();
    std::size_t label_end = label_begin;
    while (label_end < text.size()) {
      char c = text[label_end];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '@' || c == ':' || c == '-';
      if (!ok) break;
      ++label_end;
    }
    if (label_end > label_begin && text.substr(label_end, close.size()) == close) {
      out.push_back({begin, label_end + close.size(),
                     std::string(text.substr(label_begin, label_end - label_begin))});
      i = label_end + close.size();
    } else {
      i = begin + 1;
    }
  }
  return out;
}

std::vector<DeclaredSecret> declared_from_fixture(const model::Fixture& fixture) {
  std::vector<DeclaredSecret> out;
  for (const auto& a : fixture.accounts) {
    out.push_back({a.password, "password:" + a.username});
    if (a.second_factor_code) out.push_back({*a.second_factor_code, "code:" + a.username});
  }
  return out;
}

namespace {

// Redaction first runs under a shared lock, as most interactions hold only secrets the redactor
// knows already; learning a new one needs the exclusive lock, so such a pass stops and the
// interaction is redacted again exclusively. (One mutex for everything serialised the recording
// proxy's connections.)
thread_local bool t_read_only = false;
struct NeedsWrite {};

class ReadOnlyPass {
 public:
  ReadOnlyPass() { t_read_only = true; }
  ~ReadOnlyPass() { t_read_only = false; }
  ReadOnlyPass(const ReadOnlyPass&) = delete;
  ReadOnlyPass& operator=(const ReadOnlyPass&) = delete;
};

}  // namespace

// Header lines recur from one interaction to the next (the same Authorization, User-Agent,
// Content-Type...), and scrubbing them was most of the cost of redacting a typical exchange: each
// thread remembers the lines it redacted, for one redactor while it learns no new secret (its
// result depends on nothing else).
struct HeaderMemo {
  static constexpr std::size_t kMaxLine = 2048;  // longer lines are not remembered
  static constexpr std::size_t kMaxLines = 256;  // then it starts over
  std::uint64_t redactor = 0;
  std::size_t generation = 0;
  std::string key;  // scratch: the line looked up
  std::unordered_map<std::string, std::pair<std::string, std::string>> lines;
};
thread_local HeaderMemo t_header_memo;
std::atomic<std::uint64_t> g_redactor_ids{0};

struct Redactor::State {
  std::shared_mutex mu;
  const std::uint64_t id = ++g_redactor_ids;           // for HeaderMemo, which outlives a redactor
  std::unordered_map<std::string, std::string> exact;  // secret or whole JWT -> replacement
  SecretIndex index;
  std::uint64_t next = 1;
  std::size_t distinct = 0;

  void remember(const std::string& secret, const std::string& replacement) {
    if (t_read_only) throw NeedsWrite{};
    ++distinct;
    exact.emplace(secret, replacement);
    // The bare PAT prefix, a secret only where it stands as one, is not looked for elsewhere: it
    // starts every redacted PAT ("dckr_pat_<<patrol:secret:3>>").
    if (secret.size() >= kIndexedMin && secret != kPatPrefix) index.add(secret, replacement);
  }

  // The replacement of one secret value, registering it on first sight. A value that holds a
  // placeholder already is kept unless `keep_redacted` is false.
  std::string replacement(std::string_view value, bool keep_redacted = true) {
    if (is_mask(value) || (keep_redacted && holds_placeholder(value))) return std::string(value);
    if (auto it = exact.find(std::string(value)); it != exact.end()) return it->second;
    std::string v(value);
    std::size_t sig = jwt_signature_offset(value);
    // A JWT keeps header and claims only when they hold no secret shape of their own (a PAT glued
    // into a JWT-shaped Bearer token, which the Bearer finding hid from the scan); otherwise the
    // whole value is one opaque secret.
    if (sig != std::string_view::npos && !find_secret_shapes(value.substr(0, sig)).empty()) {
      sig = std::string_view::npos;
    }
    if (sig != std::string_view::npos) {
      if (sig == value.size()) return v;  // unsigned: nothing secret to take away
      std::string signature = v.substr(sig);
      std::string ph;
      if (auto it = exact.find(signature); it != exact.end()) {
        ph = it->second;
      } else {
        if (t_read_only) throw NeedsWrite{};
        ph = make_placeholder("jwt:" + std::to_string(next++));
        remember(signature, ph);
      }
      std::string out = v.substr(0, sig) + ph;
      if (!t_read_only) exact.emplace(v, out);  // a shortcut only: the result is the same
      return out;
    }
    if (t_read_only) throw NeedsWrite{};
    std::string ph = make_placeholder("secret:" + std::to_string(next++));
    // A PAT keeps its prefix, so the format (contract A19) survives redaction. The prefix alone
    // does not: its replacement would hold the secret, replaced again on every pass.
    if (value.size() > kPatPrefix.size() && value.substr(0, kPatPrefix.size()) == kPatPrefix) {
      ph = std::string(kPatPrefix) + ph;
    }
    remember(v, ph);
    return ph;
  }

  std::string basic_credential(std::string_view b64) {
    auto decoded = model::base64_decode(b64);
    if (!decoded.ok()) return replacement(b64);
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return replacement(b64);
    std::string secret = decoded->substr(colon + 1);
    if (secret.empty() || basic_secret_redacted(secret)) return std::string(b64);
    return model::base64_encode(decoded->substr(0, colon + 1) + replacement(secret, false));
  }

  // Replaces known secrets, then any secret shape, anywhere in a text. Replacing a shape can
  // uncover another that overlapped it and lost to it ("Basic <b64>dckr_pat_..." whose base64 run
  // ends inside a PAT prefix, redactor_fuzzer): go again until no shape is left (bounded; each
  // round replaces at least one shape).
  std::string scrub(std::string text) {
    for (int round = 0; round < 8; ++round) {
      bool shapes = false;
      std::string next = scrub_once(text, shapes);
      if (!shapes || next == text) return next;
      text = std::move(next);
    }
    return text;
  }

  // One round of scrub(); `shapes` tells whether it found any shape.
  std::string scrub_once(std::string text, bool& shapes) {
    index.replace_all(text);
    auto found = find_secret_shapes(text);
    if (found.empty()) return text;
    shapes = true;
    std::string out;
    std::size_t copied = 0;
    for (const auto& f : found) {
      std::string_view span = std::string_view(text).substr(f.offset, f.length);
      out.append(text, copied, f.offset - copied);
      out += f.shape == SecretShape::kBasic ? basic_credential(span) : replacement(span);
      copied = f.offset + f.length;
    }
    out.append(text, copied, std::string::npos);
    // A shape found above may be a secret learned just now that also occurs earlier in the text,
    // where the first index pass could not know it: replace those too, so scrubbing is
    // idempotent.
    index.replace_all(out);
    return out;
  }

  std::string authorization(std::string_view value) {
    std::string_view v = trim(value);
    auto space = v.find(' ');
    if (space == std::string_view::npos) return replacement(v);
    std::string_view scheme = v.substr(0, space);
    std::string_view credential = trim(v.substr(space + 1));
    std::string out(scheme);
    out += ' ';
    out += iequal(scheme, "basic") ? basic_credential(credential) : replacement(credential);
    return out;
  }

  // Replaces the value of each "name=value" pair and keeps every other byte as it was: pairs that
  // are no cookie, separators, spaces. Rejoining the pairs with "; " was not idempotent: a secret
  // replaced after this (" Pat..." learned with its leading space) could leave ';' without its
  // space, which the next pass put back (redactor_fuzzer).
  std::string cookie_pairs(std::string_view value) {
    std::string out;
    while (true) {
      auto semi = value.find(';');
      std::string_view pair = value.substr(0, semi);
      auto eq = pair.find('=');
      std::string_view secret = eq == std::string_view::npos ? "" : trim(pair.substr(eq + 1));
      // A pair whose name is no token ("Basic YWU6...Pg==", the padding of a credential this
      // redactor wrote; "= x", no name at all) is no cookie.
      if (secret.empty() || !is_token(trim(pair.substr(0, eq)))) {
        out += pair;
      } else {
        std::size_t at = static_cast<std::size_t>(secret.data() - pair.data());
        out += pair.substr(0, at);
        out += replacement(secret);
        out += pair.substr(at + secret.size());
      }
      if (semi == std::string_view::npos) break;
      out += ';';
      value.remove_prefix(semi + 1);
    }
    return out;
  }

  std::string set_cookie(std::string_view value) {
    auto semi = value.find(';');
    std::string_view first = value.substr(0, semi);
    auto eq = first.find('=');
    // As in cookie_pairs: a name that is no token makes this no cookie. Taking the first '=' of
    // such a value for the separator was not stable: scrub() rewrites a Basic credential in it,
    // whose base64 padding is a new, earlier '=' (redactor_fuzzer).
    if (eq == std::string_view::npos || !is_token(trim(first.substr(0, eq)))) {
      return std::string(value);
    }
    std::string out(first.substr(0, eq + 1));
    out += replacement(trim(first.substr(eq + 1)));
    if (semi != std::string_view::npos) out += value.substr(semi);
    return out;
  }

  // Redacts a body: the values of `keys` if it is JSON, then scrub(). Replacing a known secret that
  // holds JSON syntax ('enamed"}' from a header) can change which strings the key finder sees, so
  // this goes again until nothing changes: a second redaction must find nothing left to do.
  std::string json_body(std::string_view body, const std::vector<std::string_view>& keys) {
    std::string out = json_body_once(body, keys);
    // A pass that changed nothing learned nothing either (a new secret is always replaced), so
    // another pass over the same text would find the same: most bodies hold no secret at all.
    if (out == body) return out;
    for (int round = 0; round < 4; ++round) {
      std::string again = json_body_once(out, keys);
      if (again == out) break;
      out = std::move(again);
    }
    return out;
  }

  std::string json_body_once(std::string_view body, const std::vector<std::string_view>& keys) {
    auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || (body[first] != '{' && body[first] != '[')) {
      return scrub(std::string(body));
    }
    std::string out;
    std::size_t copied = 0;
    for (const auto& hit : detail::find_string_values(body, keys)) {
      std::string_view literal = body.substr(hit.value.begin, hit.value.end - hit.value.begin);
      auto decoded = detail::decode_json_string(literal);
      if (!decoded) continue;
      std::string repl = replacement(*decoded);
      if (repl == *decoded) continue;
      out.append(body.data() + copied, hit.value.begin - copied);
      detail::append_json_string(out, repl);
      copied = hit.value.end;
    }
    out.append(body.data() + copied, body.size() - copied);
    return scrub(std::move(out));
  }

  std::string query(std::string_view q) {
    if (q.empty()) return {};
    std::string out;
    std::string_view rest = q;
    while (true) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      bool secret = false;
      if (eq != std::string_view::npos) {
        auto name = model::percent_decode(pair.substr(0, eq), true);
        secret = name && std::find(kQueryKeys.begin(), kQueryKeys.end(), *name) != kQueryKeys.end();
      }
      if (secret) {
        auto value = model::percent_decode(pair.substr(eq + 1), true);
        out += pair.substr(0, eq + 1);
        out += replacement(value ? *value : std::string(pair.substr(eq + 1)));
      } else {
        out += pair;
      }
      if (amp == std::string_view::npos) break;
      out += '&';
      rest.remove_prefix(amp + 1);
    }
    return encode_placeholders_for_query(scrub(std::move(out)));
  }

  model::Json json_value(const model::Json& v) {
    if (v.is_string()) return scrub(v.get<std::string>());
    if (v.is_array()) {
      model::Json out = model::Json::array();
      for (const auto& e : v) out.push_back(json_value(e));
      return out;
    }
    if (v.is_object()) {
      model::Json out = model::Json::object();
      for (const auto& [k, e] : v.items()) out[scrub(k)] = json_value(e);
      return out;
    }
    return v;
  }

  void headers(model::Headers& h, bool is_request) {
    HeaderMemo& memo = t_header_memo;
    for (auto& [name, value] : h.entries) {
      if (memo.redactor != id || memo.generation != distinct ||
          memo.lines.size() >= memo.kMaxLines) {
        memo.lines.clear();
        memo.redactor = id;
        memo.generation = distinct;
      }
      const bool memorable = name.size() + value.size() <= memo.kMaxLine;
      if (memorable) {
        memo.key.assign(1, is_request ? 'q' : 's');
        memo.key += std::to_string(name.size());
        memo.key += ':';
        memo.key += name;
        memo.key += value;
        if (auto it = memo.lines.find(memo.key); it != memo.lines.end()) {
          name = it->second.first;
          value = it->second.second;
          continue;
        }
      }
      std::string key = memorable ? memo.key : std::string();
      redact_header(name, value, is_request);
      if (memorable && memo.generation == distinct)
        memo.lines.emplace(std::move(key), std::pair(name, value));
    }
  }

  void redact_header(std::string& name, std::string& value, bool is_request) {
    if (iequal(name, "Authorization") || iequal(name, "Proxy-Authorization")) {
      value = authorization(value);
    } else if (is_request && iequal(name, "Cookie")) {
      value = cookie_pairs(value);
    } else if (!is_request && iequal(name, "Set-Cookie")) {
      value = set_cookie(value);
    }
    value = scrub(std::move(value));
    name = scrub(std::move(name));
  }
};

Redactor::Redactor(std::vector<DeclaredSecret> declared) : state_(std::make_unique<State>()) {
  for (auto& d : declared) {
    if (d.value.empty() || state_->exact.count(d.value) != 0) continue;
    state_->index.add_own_label(sanitize_label(d.label));
    state_->remember(d.value, make_placeholder(sanitize_label(d.label)));
  }
}

Redactor::~Redactor() = default;

Redacted Redactor::redact(const Interaction& interaction) {
  {
    std::shared_lock<std::shared_mutex> lock(state_->mu);
    ReadOnlyPass pass;
    try {
      return redact_locked(interaction);
    } catch (const NeedsWrite&) {
      // a secret seen for the first time: again, exclusively
    }
  }
  std::unique_lock<std::shared_mutex> lock(state_->mu);
  return redact_locked(interaction);
}

Redacted Redactor::redact_locked(const Interaction& interaction) {
  auto& s = *state_;
  const std::size_t known_before = s.distinct;
  Interaction out = interaction;
  s.headers(out.request.headers, true);
  out.request.method = s.scrub(std::move(out.request.method));
  out.request.peer = s.scrub(std::move(out.request.peer));
  out.origin = s.scrub(std::move(out.origin));
  out.request.path = s.scrub(std::move(out.request.path));
  out.request.query = s.query(out.request.query);
  out.request.body = s.json_body(out.request.body, kRequestBodyKeys);
  s.headers(out.response.headers, false);
  out.response.body = s.json_body(out.response.body, kResponseBodyKeys);
  if (!out.annotations.is_null()) out.annotations = s.json_value(out.annotations);
  // A secret first seen in a later field (a response body, a later header) may also sit in an
  // earlier one: replace the secrets now known once more everywhere. A replacement can complete a
  // shape beside it ("Basic OiJhbGl6<<patrol:secret:3>>": the placeholder ends a base64 run that
  // now decodes to a credential, redactor_fuzzer), so a changed text is scrubbed again, which may
  // learn yet another secret: repeat while secrets are learned (each round learns at least one).
  std::size_t known = known_before;
  for (int round = 0; round < 8 && s.distinct != known; ++round) {
    known = s.distinct;
    auto again = [&](std::string& text) {
      if (s.index.replace_all(text)) text = s.scrub(std::move(text));
    };
    for (auto* headers : {&out.request.headers, &out.response.headers}) {
      for (auto& [name, value] : headers->entries) {
        again(name);
        again(value);
      }
    }
    for (auto* text : {&out.request.method, &out.request.peer, &out.origin, &out.request.path}) {
      again(*text);
    }
    if (s.index.replace_all(out.request.body)) {
      out.request.body = s.json_body(out.request.body, kRequestBodyKeys);
    }
    if (s.index.replace_all(out.response.body)) {
      out.response.body = s.json_body(out.response.body, kResponseBodyKeys);
    }
    if (s.index.replace_all(out.request.query)) out.request.query = s.query(out.request.query);
    if (!out.annotations.is_null()) out.annotations = s.json_value(out.annotations);
  }
  return Redacted(std::move(out));
}

model::Json Redactor::redact_json(const model::Json& value) {
  std::unique_lock<std::shared_mutex> lock(state_->mu);
  return state_->json_value(value);
}

std::string Redactor::redact_text(std::string_view text) {
  std::unique_lock<std::shared_mutex> lock(state_->mu);
  return state_->scrub(std::string(text));
}

std::size_t Redactor::secret_count() const {
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  return state_->distinct;
}

}  // namespace patrol::recorder
