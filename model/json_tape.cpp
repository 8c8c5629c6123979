#include "model/json_tape.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace patrol::model {

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

inline std::uint64_t has_zero_byte(std::uint64_t v) { return (v - kOnes) & ~v & kHighs; }

// Marks (high bit of each byte) the bytes of a little-endian word that need the slow path inside
// a string: '"', '\\', a control character or a non-ASCII byte. Borrows can mark bytes above a
// true match, never below, so the lowest mark is exact.
inline std::uint64_t attention(std::uint64_t w) {
  const std::uint64_t quote = has_zero_byte(w ^ (kOnes * '"'));
  const std::uint64_t backslash = has_zero_byte(w ^ (kOnes * '\\'));
  const std::uint64_t control = (w - kOnes * 0x20) & ~w & kHighs;
  return quote | backslash | control | (w & kHighs);
}

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at s[i..i+4); returns -1 when they are not hex or out of bounds.
long read_hex4(const char* s, std::size_t n, std::size_t i) {
  if (i + 4 > n) return -1;
  long v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    int h = hex_value(s[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_code_point(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// For a number from_chars found out of range: true when it is too large, false when it is too
// small. Decides by the decimal exponent of its first significant digit.
bool overflows(const char* b, const char* e) {
  if (*b == '-') ++b;
  const char* p = b;
  std::int64_t lead = 0;
  bool seen = false;
  while (p < e && *p >= '0' && *p <= '9') {  // integer part
    if (*p != '0' || seen) {
      if (seen) ++lead;
      seen = true;
    }
    ++p;
  }
  if (p < e && *p == '.') {
    ++p;
    std::int64_t j = 0;
    while (p < e && *p >= '0' && *p <= '9') {
      if (!seen && *p != '0') {
        seen = true;
        lead = -(j + 1);
      }
      ++j;
      ++p;
    }
  }
  if (!seen) return false;  // zero
  std::int64_t exponent = 0;
  if (p < e && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool negative = p < e && *p == '-';
    if (p < e && (*p == '-' || *p == '+')) ++p;
    for (; p < e && exponent < 1'000'000; ++p) exponent = exponent * 10 + (*p - '0');
    if (negative) exponent = -exponent;
  }
  return lead + exponent >= 0;
}

}  // namespace

bool JsonTape::fail(std::size_t offset, const char* what) {
  error_ = "offset " + std::to_string(offset) + ": " + what;
  return false;
}

__attribute__((always_inline)) inline bool JsonTape::parse_string(std::size_t& i, JsonNode& node) {
  const char* s = text_.data();
  const std::size_t n = text_.size();
  node.kind = JsonKind::kString;
  node.begin = static_cast<std::uint32_t>(i);
  for (;;) {
#if defined(__SSE2__)
    // 16 bytes at a time: '"', '\\', control characters (signed < 0x20 with bytes >= 0x80 seen
    // as negative) and non-ASCII bytes (movemask of the sign bits).
    {
      const __m128i quote = _mm_set1_epi8('"');
      const __m128i backslash = _mm_set1_epi8('\\');
      const __m128i space = _mm_set1_epi8(0x20);
      while (i + 16 <= n) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        const __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmplt_epi8(v, space));
        const unsigned mark = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (mark != 0) {
          i += static_cast<std::size_t>(__builtin_ctz(mark));
          goto slow;
        }
        i += 16;
      }
    }
#endif
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      const std::uint64_t mark = attention(w);
      if (mark != 0) {
        i += static_cast<std::size_t>(__builtin_ctzll(mark)) / 8;
        break;
      }
      i += 8;
    }
#if defined(__SSE2__)
  slow:
#endif
    if (i >= n) return fail(i, "unterminated string");
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') break;
    if (c == '\\') {
      node.escaped = true;
      if (i + 1 >= n) return fail(i, "unterminated escape");
      const char e = s[i + 1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
          e == 't') {
        i += 2;
        continue;
      }
      if (e != 'u') return fail(i, "invalid escape");
      const long cp = read_hex4(s, n, i + 2);
      if (cp < 0) return fail(i, "invalid \\u escape");
      i += 6;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(i - 6, "lone low surrogate");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 1 >= n || s[i] != '\\' || s[i + 1] != 'u') {
          return fail(i - 6, "high surrogate not followed by a low surrogate");
        }
        const long lo = read_hex4(s, n, i + 2);
        if (lo < 0xDC00 || lo > 0xDFFF) {
          return fail(i - 6, "high surrogate not followed by a low surrogate");
        }
        i += 6;
      }
      continue;
    }
    if (c < 0x20) return fail(i, "control character in string");
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Multi-byte UTF-8 (Unicode table 3-7).
    auto cont = [&](std::size_t k, unsigned lo, unsigned hi) {
      if (i + k >= n) return false;
      const auto b = static_cast<unsigned char>(s[i + k]);
      return b >= lo && b <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(1, 0x80, 0xBF)) return fail(i, "invalid UTF-8");
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned hi = c == 0xED ? 0x9F : 0xBF;
      if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF)) return fail(i, "invalid UTF-8");
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
      const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) {
        return fail(i, "invalid UTF-8");
      }
      i += 4;
    } else {
      return fail(i, "invalid UTF-8");
    }
  }
  node.len = static_cast<std::uint32_t>(i - node.begin);
  ++i;  // closing quote
  return true;
}

__attribute__((always_inline)) inline bool JsonTape::parse_number(std::size_t& i, JsonNode& node) {
  const char* s = text_.data();
  const std::size_t n = text_.size();
  node.kind = JsonKind::kNumber;
  node.begin = static_cast<std::uint32_t>(i);
  node.integral = true;
  if (s[i] == '-') ++i;
  if (i >= n || !is_digit(s[i])) return fail(i, "expected a digit");
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && s[i] == '.') {
    node.integral = false;
    ++i;
    if (i >= n || !is_digit(s[i])) return fail(i, "expected a digit after '.'");
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    node.integral = false;
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return fail(i, "expected a digit in the exponent");
    while (i < n && is_digit(s[i])) ++i;
  }
  node.len = static_cast<std::uint32_t>(i - node.begin);
  // Like nlohmann, refuse a number that overflows a double (underflow to zero is fine).
  if (!node.integral || node.len > 18) {
    const char* b = s + node.begin;
    double d = 0.0;
    if (std::from_chars(b, s + i, d).ec == std::errc::result_out_of_range && overflows(b, s + i)) {
      return fail(node.begin, "number out of range");
    }
  }
  return true;
}

bool JsonTape::parse(std::string_view text) {
  text_ = text;
  count_ = 0;
  depth_ = 0;
  error_.clear();
  if (text.size() >= 0xFFFFFFF0u) return fail(0, "document too large");
  // Every node takes at least two bytes of text, except the last: size/2 + 2 nodes at most.
  if (nodes_.size() < text.size() / 2 + 2) nodes_.resize(text.size() / 2 + 2);
  const char* s = text.data();
  const std::size_t n = text.size();
  std::size_t i = 0;
  auto skip_ws = [&] {
    // Compact JSON has no whitespace: one comparison settles the common case.
    while (i < n && static_cast<unsigned char>(s[i]) <= ' ' && is_ws(s[i])) ++i;
  };

value:
  skip_ws();
  if (i >= n) return fail(i, "expected a value");
  if (depth_ != 0 && nodes_[stack_[depth_ - 1]].kind == JsonKind::kArray) {
    nodes_[stack_[depth_ - 1]].len++;
  }
  {
    // Filled in place: building a node on the stack and copying it stalls on store forwarding.
    JsonNode& nd = slot();
    const char c = s[i];
    switch (c) {
      case '{':
      case '[': {
        if (depth_ >= kMaxDepth) return fail(i, "nesting too deep");
        nd.kind = c == '{' ? JsonKind::kObject : JsonKind::kArray;
        nd.begin = static_cast<std::uint32_t>(i);
        ++i;
        const std::uint32_t idx = count_++;
        stack_[depth_++] = idx;
        skip_ws();
        if (i < n && s[i] == (c == '{' ? '}' : ']')) {
          ++i;
          nodes_[idx].end = count_;
          nodes_[idx].close = static_cast<std::uint32_t>(i);
          --depth_;
          goto after;
        }
        if (c == '{') goto key;
        goto value;
      }
      case '"':
        ++i;
        if (!parse_string(i, nd)) return false;
        break;
      case 't':
        if (n - i < 4 || std::memcmp(s + i, "true", 4) != 0) return fail(i, "invalid literal");
        nd.kind = JsonKind::kTrue;
        nd.begin = static_cast<std::uint32_t>(i);
        nd.len = 4;
        i += 4;
        break;
      case 'f':
        if (n - i < 5 || std::memcmp(s + i, "false", 5) != 0) return fail(i, "invalid literal");
        nd.kind = JsonKind::kFalse;
        nd.begin = static_cast<std::uint32_t>(i);
        nd.len = 5;
        i += 5;
        break;
      case 'n':
        if (n - i < 4 || std::memcmp(s + i, "null", 4) != 0) return fail(i, "invalid literal");
        nd.kind = JsonKind::kNull;
        nd.begin = static_cast<std::uint32_t>(i);
        nd.len = 4;
        i += 4;
        break;
      default:
        if (c != '-' && !is_digit(c)) return fail(i, "unexpected character");
        if (!parse_number(i, nd)) return false;
        break;
    }
    nd.end = ++count_;
    goto after;
  }

key:
  if (i >= n || s[i] != '"') return fail(i, "expected a string key");
  {
    ++i;
    JsonNode& k = slot();
    if (!parse_string(i, k)) return false;
    k.end = ++count_;
    nodes_[stack_[depth_ - 1]].len++;
    skip_ws();
    if (i >= n || s[i] != ':') return fail(i, "expected ':'");
    ++i;
    goto value;
  }

after:
  skip_ws();
  if (depth_ == 0) {
    if (i != n) return fail(i, "trailing characters after the document");
    return true;
  }
  if (i >= n) return fail(i, "unterminated container");
  {
    const std::uint32_t top = stack_[depth_ - 1];
    const bool in_object = nodes_[top].kind == JsonKind::kObject;
    if (s[i] == ',') {
      ++i;
      if (in_object) {
        skip_ws();
        goto key;
      }
      goto value;
    }
    if (s[i] == (in_object ? '}' : ']')) {
      ++i;
      nodes_[top].end = count_;
      nodes_[top].close = static_cast<std::uint32_t>(i);
      --depth_;
      goto after;
    }
    return fail(i, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

std::uint32_t JsonTape::find(std::uint32_t obj, std::string_view key) const {
  if (obj >= count_ || nodes_[obj].kind != JsonKind::kObject) return kNone;
  std::uint32_t found = kNone;
  std::string scratch;
  for (std::uint32_t k = obj + 1; k < nodes_[obj].end; k = nodes_[k + 1].end) {
    const JsonNode& kn = nodes_[k];
    if (!kn.escaped) {
      if (kn.len == key.size() &&
          std::memcmp(text_.data() + kn.begin, key.data(), key.size()) == 0) {
        found = k + 1;
      }
    } else if (str(k, scratch) == key) {
      found = k + 1;
    }
  }
  return found;
}

std::string_view JsonTape::str(std::uint32_t i, std::string& scratch) const {
  const JsonNode& nd = nodes_[i];
  std::string_view raw_text = text_.substr(nd.begin, nd.len);
  if (!nd.escaped) return raw_text;
  scratch.clear();
  json_unescape(raw_text, scratch);
  return scratch;
}

std::string_view JsonTape::scalar_text(std::uint32_t i) const {
  const JsonNode& nd = nodes_[i];
  if (nd.kind == JsonKind::kString) return text_.substr(nd.begin - 1, nd.len + 2);
  if (nd.kind == JsonKind::kObject || nd.kind == JsonKind::kArray) {
    return text_.substr(nd.begin, 1);
  }
  return text_.substr(nd.begin, nd.len);
}

std::optional<std::int64_t> JsonTape::integer(std::uint32_t i) const {
  const JsonNode& nd = nodes_[i];
  if (nd.kind != JsonKind::kNumber) return std::nullopt;
  const char* b = text_.data() + nd.begin;
  const char* e = b + nd.len;
  if (nd.integral) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc() && p == e) return v;
  }
  const double d = number(i);
  if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

double JsonTape::number(std::uint32_t i) const {
  const JsonNode& nd = nodes_[i];
  if (nd.kind != JsonKind::kNumber) return 0.0;
  double d = 0.0;
  const char* b = text_.data() + nd.begin;
  auto [p, ec] = std::from_chars(b, b + nd.len, d);
  if (ec == std::errc::result_out_of_range) {
    return (*b == '-') ? -HUGE_VAL : HUGE_VAL;
  }
  (void)p;
  return d;
}

std::string JsonTape::path_of(std::uint32_t target) const {
  if (target == 0 || target >= count_) return "$";
  std::string path;
  std::string scratch;
  std::uint32_t cur = 0;
  while (cur != target) {
    const JsonNode& c = nodes_[cur];
    bool descended = false;
    if (c.kind == JsonKind::kObject) {
      for (std::uint32_t k = cur + 1; k < c.end; k = nodes_[k + 1].end) {
        const std::uint32_t v = k + 1;
        if (target == k || (target >= v && target < nodes_[v].end)) {
          if (!path.empty()) path += '.';
          path += str(k, scratch);
          if (target == k) return path;
          cur = v;
          descended = true;
          break;
        }
      }
    } else if (c.kind == JsonKind::kArray) {
      std::size_t index = 0;
      for (std::uint32_t e = cur + 1; e < c.end; e = nodes_[e].end, ++index) {
        if (target >= e && target < nodes_[e].end) {
          path += '[' + std::to_string(index) + ']';
          cur = e;
          descended = true;
          break;
        }
      }
    }
    if (!descended) break;
  }
  return path.empty() ? "$" : path;
}

void json_unescape(std::string_view raw, std::string& out) {
  const char* s = raw.data();
  const std::size_t n = raw.size();
  for (std::size_t i = 0; i < n;) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    if (i + 1 >= n) break;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        long cp = read_hex4(s, n, i);
        if (cp < 0) return;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
          const long lo = read_hex4(s, n, i + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_code_point(out, static_cast<std::uint32_t>(cp));
        break;
      }
      default:
        out.push_back(e);
        break;
    }
  }
}

void json_quote(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace patrol::model
