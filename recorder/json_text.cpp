#include "recorder/json_text.hpp"

#include <cstdint>
#include <cstring>

namespace patrol::recorder::detail {
namespace {

// Length of the well-formed UTF-8 sequence starting at `i`, or 0 when it is not well-formed
// (RFC 3629 table: overlongs, surrogates and values above U+10FFFF are rejected).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = s.size() - i;
  auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Index just past the closing quote of the literal opening at `i`, or npos when unterminated.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (std::size_t k = i + 1; k < s.size(); ++k) {
    if (s[k] == '\\') {
      ++k;
    } else if (s[k] == '"') {
      return k + 1;
    }
  }
  return std::string_view::npos;
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::uint32_t> read_hex4(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    int d = hex_digit(s[k]);
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint32_t>(d);
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

// Eight bytes at a time: HTTP bodies and headers are mostly ASCII with few bytes to escape, and
// the cassette writer escapes every body and header it records.
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Non-zero when a byte of v is a control character, '"', '\\' or not ASCII: the bytes a JSON
// string literal cannot copy verbatim. (The usual zero-byte test: exact on whether any byte
// matches, which is all this tells.)
std::uint64_t needs_escape_or_check(std::uint64_t v) {
  auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighBits; };
  return ((v - kOnes * 0x20) & ~v & kHighBits) | zero_byte(v ^ (kOnes * '"')) |
         zero_byte(v ^ (kOnes * '\\')) | (v & kHighBits);
}

}  // namespace

bool is_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    if (i + 8 <= bytes.size() && (load8(bytes.data() + i) & kHighBits) == 0) {
      i += 8;
      continue;
    }
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence_length(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied verbatim
  auto flush = [&](std::size_t upto) { out.append(text.data() + run, upto - run); };
  for (std::size_t i = 0; i < text.size();) {
    if (i + 8 <= text.size() && needs_escape_or_check(load8(text.data() + i)) == 0) {
      i += 8;
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t n = utf8_sequence_length(text, i);
      if (n != 0) {
        i += n;
        continue;
      }
      flush(i);
      out.append("\xEF\xBF\xBD");
      run = ++i;
      continue;
    }
    flush(i);
    if (c == '"' || c == '\\') {
      // The byte itself starts the next verbatim run: one append less per quote, and a JSON
      // body is full of quotes.
      out.push_back('\\');
      run = i++;
      continue;
    }
    switch (c) {
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    run = ++i;
  }
  flush(text.size());
  out.push_back('"');
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

std::optional<std::string> decode_json_string(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') return std::nullopt;
  std::string_view s = literal.substr(1, literal.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return std::nullopt;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    switch (s[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
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
        auto hi = read_hex4(s, i + 1);
        if (!hi) return std::nullopt;
        i += 4;
        std::uint32_t cp = *hi;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 2 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u') return std::nullopt;
          auto lo = read_hex4(s, i + 3);
          if (!lo || *lo < 0xDC00 || *lo > 0xDFFF) return std::nullopt;
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return std::nullopt;
        }
        append_code_point(out, cp);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

std::vector<JsonStringToken> find_string_tokens(std::string_view json) {
  std::vector<JsonStringToken> out;
  std::size_t i = 0;
  while (i < json.size()) {
    if (json[i] != '"') {
      ++i;
      continue;
    }
    std::size_t end = skip_string(json, i);
    if (end == std::string_view::npos) break;
    std::size_t next = skip_space(json, end);
    if (next >= json.size() || json[next] != ':') out.push_back({i, end, false});
    i = end;
  }
  return out;
}

std::vector<KeyedString> find_string_values(std::string_view json,
                                            const std::vector<std::string_view>& keys) {
  std::vector<KeyedString> found;
  std::size_t i = 0;
  while (i < json.size()) {
    if (json[i] != '"') {
      ++i;
      continue;
    }
    std::size_t end = skip_string(json, i);
    if (end == std::string_view::npos) break;
    std::size_t next = skip_space(json, end);
    if (next >= json.size() || json[next] != ':') {
      i = end;
      continue;
    }
    // A key: decode it only when its raw text could be one of the wanted keys.
    std::string_view raw = json.substr(i + 1, end - i - 2);
    std::optional<std::string> key;
    if (raw.find('\\') == std::string_view::npos) {
      for (auto k : keys) {
        if (k == raw) key = std::string(raw);
      }
    } else if (auto decoded = decode_json_string(json.substr(i, end - i))) {
      for (auto k : keys) {
        if (k == *decoded) key = *decoded;
      }
    }
    std::size_t value = skip_space(json, next + 1);
    if (key && value < json.size() && json[value] == '"') {
      std::size_t value_end = skip_string(json, value);
      if (value_end == std::string_view::npos) break;
      found.push_back({std::move(*key), {value, value_end, false}});
      i = value_end;
      continue;
    }
    i = value;
  }
  return found;
}

}  // namespace patrol::recorder::detail
