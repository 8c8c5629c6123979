#include "recorder/cassette.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "model/json_tape.hpp"
#include "model/jwt.hpp"
#include "recorder/har_format.hpp"
#include "recorder/json_text.hpp"
#include "recorder/writer.hpp"

namespace patrol::recorder {

using model::ErrorKind;
using model::Json;
using model::make_error;
using model::Result;

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(unsigned char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

// A decoded path as a URL path: everything but pchar and '/' escaped, '%' included, so that
// percent-decoding gives the same bytes back.
std::string encode_url_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

// A raw query kept as is, except characters a URL cannot hold.
std::string encode_url_query(std::string_view query) {
  std::string out;
  out.reserve(query.size());
  for (unsigned char c : query) {
    if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' || c == '?' ||
        c == '%') {
      out.push_back(static_cast<char>(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

void append_name_value(std::string& out, std::string_view name, std::string_view value) {
  out += "{\"name\":";
  detail::append_json_string(out, name);
  out += ",\"value\":";
  detail::append_json_string(out, value);
  out += '}';
}

void append_headers(std::string& out, const model::Headers& headers) {
  out += '[';
  bool first = true;
  for (const auto& [k, v] : headers.entries) {
    if (!first) out += ',';
    first = false;
    append_name_value(out, k, v);
  }
  out += ']';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void append_cookies(std::string& out, const model::Headers& headers, bool is_request) {
  out += '[';
  bool first = true;
  auto add = [&](std::string_view pair) {
    pair = trim(pair);
    auto eq = pair.find('=');
    if (pair.empty() || eq == std::string_view::npos) return;
    if (!first) out += ',';
    first = false;
    append_name_value(out, trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)));
  };
  for (const auto& [k, v] : headers.entries) {
    if (is_request && model::header_name_equal(k, "Cookie")) {
      std::string_view rest = v;
      while (true) {
        auto semi = rest.find(';');
        add(rest.substr(0, semi));
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
      }
    } else if (!is_request && model::header_name_equal(k, "Set-Cookie")) {
      add(std::string_view(v).substr(0, std::string_view(v).find(';')));
    }
  }
  out += ']';
}

void append_query_string(std::string& out, std::string_view query) {
  out += '[';
  bool first = true;
  for (const auto& [k, v] : model::parse_query(query)) {
    if (!first) out += ',';
    first = false;
    append_name_value(out, k, v);
  }
  out += ']';
}

// Appends "text" (and the encoding member) for a body: verbatim when UTF-8, else base64.
void append_body_text(std::string& out, std::string_view body, std::string_view encoding_key) {
  out += ",\"text\":";
  if (detail::is_utf8(body)) {
    detail::append_json_string(out, body);
    return;
  }
  detail::append_json_string(out, model::base64_encode(body));
  out += ",\"";
  out += encoding_key;
  out += "\":\"base64\"";
}

std::string format_ms(double ms) {
  if (!std::isfinite(ms) || ms < 0) ms = 0;
  // Room for the largest double in fixed notation (309 digits and ".000"): a smaller buffer cut
  // a huge duration short, and the cassette read back held another number.
  char buf[DBL_MAX_10_EXP + 16];
  // As "%.3f" would write it, without printf's cost.
  auto r = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  return std::string(buf, r.ptr);
}

const char* kind_name(model::JsonKind kind) {
  switch (kind) {
    case model::JsonKind::kObject:
      return "object";
    case model::JsonKind::kArray:
      return "array";
    case model::JsonKind::kString:
      return "string";
    case model::JsonKind::kTrue:
    case model::JsonKind::kFalse:
      return "boolean";
    case model::JsonKind::kNull:
      return "null";
    case model::JsonKind::kNumber:
      return "number";
  }
  return "?";
}

enum class Want : std::uint8_t { kObject, kArray, kString, kNumber, kInteger };

const char* want_name(Want w) {
  switch (w) {
    case Want::kObject:
      return "object";
    case Want::kArray:
      return "array";
    case Want::kString:
      return "string";
    case Want::kNumber:
      return "number";
    case Want::kInteger:
      return "integer";
  }
  return "?";
}

// Member access on one object node of a parsed document, with errors that name the path.
class Fields {
 public:
  static constexpr std::uint32_t kNone = model::JsonTape::kNone;

  Fields(const model::JsonTape& tape, std::uint32_t node, std::string path)
      : tape_(tape), node_(node), path_(std::move(path)) {}

  std::uint32_t node() const { return node_; }
  std::string at(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // The member's node, kNone when absent and not required.
  Result<std::uint32_t> get(std::string_view key, Want want, bool required) const {
    std::uint32_t v = tape_.find(node_, key);
    if (v == kNone) {
      if (!required) return kNone;
      return make_error(ErrorKind::kMissing, at(key) + ": missing");
    }
    const auto& n = tape_.node(v);
    bool ok = false;
    switch (want) {
      case Want::kObject:
        ok = n.kind == model::JsonKind::kObject;
        break;
      case Want::kArray:
        ok = n.kind == model::JsonKind::kArray;
        break;
      case Want::kString:
        ok = n.kind == model::JsonKind::kString;
        break;
      case Want::kNumber:
        ok = n.kind == model::JsonKind::kNumber;
        break;
      case Want::kInteger:
        ok = n.kind == model::JsonKind::kNumber && n.integral;
        break;
    }
    if (!ok) {
      return make_error(ErrorKind::kType,
                        at(key) + ": expected " + want_name(want) + ", got " + kind_name(n.kind));
    }
    return v;
  }

  Result<std::string> string(std::string_view key) const {
    auto v = get(key, Want::kString, true);
    if (!v.ok()) return v.error();
    return text(*v);
  }

  model::Status number(std::string_view key) const {
    auto v = get(key, Want::kNumber, true);
    if (!v.ok()) return v.error();
    return model::Ok{};
  }

  std::string text(std::uint32_t string_node) const {
    std::string scratch;
    return std::string(tape_.str(string_node, scratch));
  }

 private:
  const model::JsonTape& tape_;
  std::uint32_t node_;
  std::string path_;
};

Result<model::Headers> decode_pairs(const model::JsonTape& tape, std::uint32_t array,
                                    const std::string& path) {
  model::Headers out;
  out.entries.reserve(tape.node(array).len);
  std::size_t i = 0;
  for (std::uint32_t c = tape.first_child(array); c < tape.node(array).end;
       c = tape.next_sibling(c), ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!tape.is_object(c)) {
      return make_error(ErrorKind::kType, at + ": expected object, got " + kind_name(tape.kind(c)));
    }
    Fields f(tape, c, at);
    auto name = f.string("name");
    if (!name.ok()) return name.error();
    auto value = f.string("value");
    if (!value.ok()) return value.error();
    out.entries.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

// Reads "text" (+ encoding) from a postData/content object into bytes.
Result<std::string> decode_body(const Fields& f, std::string_view encoding_key) {
  auto text = f.get("text", Want::kString, false);
  if (!text.ok()) return text.error();
  if (*text == Fields::kNone) return std::string();
  auto enc = f.get(encoding_key, Want::kString, false);
  if (!enc.ok()) return enc.error();
  std::string body = f.text(*text);
  if (*enc == Fields::kNone) return body;
  std::string encoding = f.text(*enc);
  if (encoding.empty()) return body;
  if (encoding != "base64") {
    return make_error(ErrorKind::kInvalid, f.at(encoding_key) + ": unsupported encoding '" +
                                               encoding + "' (only base64)");
  }
  auto bytes = model::base64_decode(body);
  if (!bytes.ok()) {
    return make_error(ErrorKind::kParse, f.at("text") + ": " + bytes.error().message);
  }
  return std::move(bytes).value();
}

// A parse failure at an absolute byte offset, worded the same for every part of the document.
model::Error syntax_error(std::string_view text, std::size_t offset, const std::string& reason) {
  std::string where = "byte " + std::to_string(offset);
  if (offset >= text.size()) {
    return make_error(ErrorKind::kParse,
                      "cassette ends early at " + where + " (truncated?): " + reason);
  }
  return make_error(ErrorKind::kParse, "cassette is not valid JSON at " + where + ": " + reason);
}

// Parses the value text[begin, end) onto the tape, reporting errors at absolute offsets.
model::Status parse_part(model::JsonTape& tape, std::string_view text, std::size_t begin,
                         std::size_t end) {
  if (tape.parse(text.substr(begin, end - begin))) return model::Ok{};
  const std::string& err = tape.error();  // "offset N: reason"
  std::size_t offset = 0;
  std::string reason = err;
  if (err.rfind("offset ", 0) == 0) {
    offset = static_cast<std::size_t>(std::strtoull(err.c_str() + 7, nullptr, 10));
    if (auto colon = err.find(": "); colon != std::string::npos) reason = err.substr(colon + 2);
  }
  // A value cut short by the end of its part is cut short by the end of the document only when
  // the part runs to the end.
  return syntax_error(text, offset >= end - begin && end < text.size() ? end - 1 : begin + offset,
                      reason);
}

// The skeleton of a large document (root object, log object, entries array) is walked without
// building nodes for it, and each member or entry is parsed on its own: a 10k-entry cassette
// never needs a tape of millions of nodes at once.
class Skeleton {
  // Bytes that matter while skipping a container: quotes and brackets.
  static constexpr auto kStructural = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {'"', '[', ']', '{', '}'}) t[c] = true;
    return t;
  }();

 public:
  explicit Skeleton(std::string_view text) : s_(text) {}

  std::size_t skip_ws(std::size_t i) const {
    while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) {
      ++i;
    }
    return i;
  }

  // One past the end of the value starting at `i` (not validated: parse_part does that).
  Result<std::size_t> skip_value(std::size_t i) const {
    if (i >= s_.size()) return syntax_error(s_, i, "expected a value");
    char c = s_[i];
    if (c == '"') return skip_string(i);
    if (c == '{' || c == '[') {
      std::size_t depth = 0;
      const char* p = s_.data();
      const std::size_t n = s_.size();
      while (i < n) {
        char d = p[i];
        if (!kStructural[static_cast<unsigned char>(d)]) {
          ++i;
          continue;
        }
        if (d == '"') {
          auto e = skip_string(i);
          if (!e.ok()) return e.error();
          i = *e;
          continue;
        }
        ++i;
        if (d == '[' || d == '{') {
          ++depth;
        } else if (--depth == 0) {
          return i;
        }
      }
      return syntax_error(s_, s_.size(), "unterminated container");
    }
    std::size_t e = s_.find_first_of(",]} \t\r\n", i);
    return e == std::string_view::npos ? s_.size() : e;
  }

  Result<std::size_t> skip_string(std::size_t i) const {
    const char* p = s_.data();
    const std::size_t n = s_.size();
    for (std::size_t k = i + 1; k < n;) {
      const void* hit = std::memchr(p + k, '"', n - k);
      if (hit == nullptr) break;
      std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
      // The quote closes the string unless an odd number of backslashes precedes it.
      std::size_t slashes = 0;
      while (q - slashes > i + 1 && p[q - slashes - 1] == '\\') ++slashes;
      if (slashes % 2 == 0) return q + 1;
      k = q + 1;
    }
    return syntax_error(s_, s_.size(), "unterminated string");
  }

  struct Member {
    std::string key;
    std::size_t begin = 0;  // value
    std::size_t end = 0;
  };

  // The members of the object opening at `i`; `end` receives one past its closing brace.
  Result<std::vector<Member>> members(std::size_t i, std::size_t& end) const {
    std::vector<Member> out;
    i = skip_ws(i + 1);
    if (i < s_.size() && s_[i] == '}') {
      end = i + 1;
      return out;
    }
    while (true) {
      if (i >= s_.size() || s_[i] != '"') return syntax_error(s_, i, "expected a string key");
      auto key_end = skip_string(i);
      if (!key_end.ok()) return key_end.error();
      auto key = detail::decode_json_string(s_.substr(i, *key_end - i));
      if (!key) return syntax_error(s_, i, "malformed key");
      i = skip_ws(*key_end);
      if (i >= s_.size() || s_[i] != ':') return syntax_error(s_, i, "expected ':'");
      i = skip_ws(i + 1);
      auto value_end = skip_value(i);
      if (!value_end.ok()) return value_end.error();
      out.push_back({std::move(*key), i, *value_end});
      i = skip_ws(*value_end);
      if (i < s_.size() && s_[i] == ',') {
        i = skip_ws(i + 1);
        continue;
      }
      if (i < s_.size() && s_[i] == '}') {
        end = i + 1;
        return out;
      }
      return syntax_error(s_, i, "expected ',' or '}'");
    }
  }

  // The elements of the array opening at `i` as [begin, end) ranges.
  Result<std::vector<std::pair<std::size_t, std::size_t>>> elements(std::size_t i) const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    i = skip_ws(i + 1);
    if (i < s_.size() && s_[i] == ']') return out;
    while (true) {
      auto e = skip_value(i);
      if (!e.ok()) return e.error();
      out.emplace_back(i, *e);
      i = skip_ws(*e);
      if (i < s_.size() && s_[i] == ',') {
        i = skip_ws(i + 1);
        continue;
      }
      if (i < s_.size() && s_[i] == ']') return out;
      return syntax_error(s_, i, "expected ',' or ']'");
    }
  }

  // The JSON kind a value starting at `i` has, for type errors.
  const char* kind_at(std::size_t i) const {
    switch (i < s_.size() ? s_[i] : '\0') {
      case '{':
        return "object";
      case '[':
        return "array";
      case '"':
        return "string";
      case 't':
      case 'f':
        return "boolean";
      case 'n':
        return "null";
      default:
        return "number";
    }
  }

 private:
  std::string_view s_;
};

// A `_patrol` member as a JSON value (patrol's annotations are small).
Result<Json> annotations_of(const model::JsonTape& tape, std::uint32_t node,
                            const std::string& at) {
  std::string_view text =
      tape.kind(node) == model::JsonKind::kObject || tape.kind(node) == model::JsonKind::kArray
          ? tape.container_text(node)
          : tape.scalar_text(node);
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorKind::kInvalid, at + ": a number is out of the double range");
  }
  return j;
}

}  // namespace

std::string_view status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string entry_url(const Interaction& interaction) {
  std::string url = interaction.origin;
  url += encode_url_path(interaction.request.path.empty() ? "/" : interaction.request.path);
  if (!interaction.request.query.empty()) {
    url += '?';
    url += encode_url_query(interaction.request.query);
  }
  return url;
}

Result<UrlParts> split_url(std::string_view url) {
  // The fragment goes first: a '#' before "://" leaves no scheme (cassette_reader_fuzzer found
  // "ht#tp://host/" read as origin "ht", written back as "ht/" and then rejected).
  auto hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return make_error(ErrorKind::kInvalid, "expected an absolute URL (scheme://host/path)");
  }
  // RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = url[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
      return make_error(ErrorKind::kInvalid,
                        "URL scheme is not of the form ALPHA *(ALPHA / "
                        "DIGIT / \"+\" / \"-\" / \".\")");
    }
  }
  std::size_t authority_end = url.find_first_of("/?", sep + 3);
  // "scheme://" with nothing after it has no host either (written back as "scheme:///").
  if (std::min(authority_end, url.size()) == sep + 3) {
    return make_error(ErrorKind::kInvalid, "URL has no host");
  }
  // RFC 3986 3.2: the authority holds unreserved, pct-encoded and sub-delims characters, ':', '@'
  // and the brackets of an IPv6 literal, plus the '<' and '>' of the redactor's placeholders (a
  // secret in userinfo); nothing else, no space in particular. A space let
  // "p://Bearer acess-tokensfa3" pass as an origin: redacted alone it holds no secret shape, but
  // written back with the path's '/' after it, it did (cassette_reader_fuzzer).
  const std::string_view authority =
      url.substr(sep + 3, std::min(authority_end, url.size()) - sep - 3);
  auto bad = authority.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@[]<>");
  if (bad != std::string_view::npos) {
    return make_error(ErrorKind::kInvalid,
                      "URL authority holds a character not allowed there at offset " +
                          std::to_string(sep + 3 + bad));
  }
  UrlParts out;
  out.origin = std::string(url.substr(0, authority_end));
  if (authority_end == std::string_view::npos) {
    out.path = "/";
    return out;
  }
  std::string_view rest = url.substr(authority_end);
  auto q = rest.find('?');
  std::string_view raw_path = rest.substr(0, q);
  if (q != std::string_view::npos) out.query = std::string(rest.substr(q + 1));
  auto path = model::percent_decode(raw_path, false);
  if (!path) return make_error(ErrorKind::kInvalid, "URL path has a malformed %-escape");
  out.path = raw_path.empty() ? "/" : std::move(*path);
  return out;
}

namespace detail {

std::string encode_entry(const Redacted& redacted) {
  const Interaction& e = redacted.get();
  const auto& rq = e.request;
  const auto& rs = e.response;
  std::string out;
  out.reserve(512 + rq.body.size() + rs.body.size() +
              64 * (rq.headers.entries.size() + rs.headers.entries.size()));
  out += "{\"startedDateTime\":\"";
  out += model::format_rfc3339(e.started);
  out += "\",\"time\":";
  std::string ms = format_ms(e.duration_ms);
  out += ms;
  out += ",\"request\":{\"method\":";
  append_json_string(out, rq.method);
  out += ",\"url\":";
  append_json_string(out, entry_url(e));
  out += ",\"httpVersion\":\"HTTP/1.1\",\"cookies\":";
  append_cookies(out, rq.headers, true);
  out += ",\"headers\":";
  append_headers(out, rq.headers);
  out += ",\"queryString\":";
  append_query_string(out, rq.query);
  if (!rq.body.empty()) {
    out += ",\"postData\":{\"mimeType\":";
    append_json_string(out, rq.headers.get("Content-Type").value_or(""));
    append_body_text(out, rq.body, "_encoding");
    out += '}';
  }
  out += ",\"headersSize\":-1,\"bodySize\":";
  out += std::to_string(rq.body.size());
  if (!rq.peer.empty()) {
    out += ",\"_peer\":";
    append_json_string(out, rq.peer);
  }
  out += "},\"response\":{\"status\":";
  out += std::to_string(rs.status);
  out += ",\"statusText\":";
  append_json_string(out, status_text(rs.status));
  out += ",\"httpVersion\":\"HTTP/1.1\",\"cookies\":";
  append_cookies(out, rs.headers, false);
  out += ",\"headers\":";
  append_headers(out, rs.headers);
  out += ",\"content\":{\"size\":";
  out += std::to_string(rs.body.size());
  out += ",\"mimeType\":";
  append_json_string(out, rs.headers.get("Content-Type").value_or(""));
  if (!rs.body.empty()) append_body_text(out, rs.body, "encoding");
  out += "},\"redirectURL\":";
  append_json_string(out, rs.headers.get("Location").value_or(""));
  out += ",\"headersSize\":-1,\"bodySize\":";
  out += std::to_string(rs.body.size());
  out += "},\"cache\":{},\"timings\":{\"send\":0,\"wait\":";
  out += ms;
  out += ",\"receive\":0}";
  if (!e.annotations.is_null()) {
    out += ",\"_patrol\":";
    out += e.annotations.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out += '}';
  return out;
}

std::string encode_log_head(const CassetteInfo& info) {
  std::string out = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":";
  append_json_string(out, info.creator_name);
  out += ",\"version\":";
  append_json_string(out, info.creator_version);
  out += '}';
  if (!info.annotations.is_null()) {
    out += ",\"_patrol\":";
    out += info.annotations.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out += ",\"entries\":[\n";
  return out;
}

std::string encode_journal_header(const CassetteInfo& info) {
  std::string out = "{\"patrol_journal\":1,\"creator\":{\"name\":";
  append_json_string(out, info.creator_name);
  out += ",\"version\":";
  append_json_string(out, info.creator_version);
  out += '}';
  if (!info.annotations.is_null()) {
    out += ",\"_patrol\":";
    out += info.annotations.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out += '}';
  return out;
}

Result<CassetteInfo> decode_journal_header(std::string_view line) {
  model::JsonTape tape;
  if (!tape.parse(line) || !tape.is_object(0) ||
      tape.find(0, "patrol_journal") == model::JsonTape::kNone) {
    return make_error(ErrorKind::kParse, "journal line 1: not a patrol journal header");
  }
  auto version = tape.integer(tape.find(0, "patrol_journal"));
  if (version != std::optional<std::int64_t>(1)) {
    return make_error(ErrorKind::kInvalid,
                      "journal line 1: unsupported journal version " +
                          std::string(tape.scalar_text(tape.find(0, "patrol_journal"))));
  }
  CassetteInfo info;
  Fields f(tape, 0, "journal line 1");
  auto creator = f.get("creator", Want::kObject, true);
  if (!creator.ok()) return creator.error();
  Fields c(tape, *creator, f.at("creator"));
  auto name = c.string("name");
  if (!name.ok()) return name.error();
  auto ver = c.string("version");
  if (!ver.ok()) return ver.error();
  info.creator_name = std::move(*name);
  info.creator_version = std::move(*ver);
  if (auto a = tape.find(0, "_patrol"); a != model::JsonTape::kNone) {
    auto j = annotations_of(tape, a, f.at("_patrol"));
    if (!j.ok()) return j.error();
    info.annotations = std::move(*j);
  }
  return info;
}

Result<Interaction> decode_entry(const model::JsonTape& tape, std::uint32_t entry,
                                 const std::string& path) {
  if (!tape.is_object(entry)) {
    return make_error(ErrorKind::kType,
                      path + ": expected object, got " + kind_name(tape.kind(entry)));
  }
  Interaction out;
  Fields e(tape, entry, path);
  auto started = e.string("startedDateTime");
  if (!started.ok()) return started.error();
  auto ts = model::parse_rfc3339(*started);
  if (!ts.ok()) {
    return make_error(ts.error().kind, e.at("startedDateTime") + ": " + ts.error().message);
  }
  out.started = *ts;
  auto time = e.get("time", Want::kNumber, true);
  if (!time.ok()) return time.error();
  out.duration_ms = tape.number(*time);

  // request
  auto rq = e.get("request", Want::kObject, true);
  if (!rq.ok()) return rq.error();
  Fields r(tape, *rq, e.at("request"));
  auto method = r.string("method");
  if (!method.ok()) return method.error();
  if (method->empty()) return make_error(ErrorKind::kInvalid, r.at("method") + ": empty");
  out.request.method = std::move(*method);
  auto url = r.string("url");
  if (!url.ok()) return url.error();
  auto parts = split_url(*url);
  if (!parts.ok()) {
    return make_error(parts.error().kind, r.at("url") + ": " + parts.error().message);
  }
  out.origin = std::move(parts->origin);
  out.request.path = std::move(parts->path);
  out.request.query = std::move(parts->query);
  if (auto v = r.string("httpVersion"); !v.ok()) return v.error();
  for (const char* key : {"cookies", "queryString"}) {
    if (auto v = r.get(key, Want::kArray, true); !v.ok()) return v.error();
  }
  auto headers = r.get("headers", Want::kArray, true);
  if (!headers.ok()) return headers.error();
  auto rq_headers = decode_pairs(tape, *headers, r.at("headers"));
  if (!rq_headers.ok()) return rq_headers.error();
  out.request.headers = std::move(*rq_headers);
  for (const char* key : {"headersSize", "bodySize"}) {
    if (auto v = r.number(key); !v.ok()) return v.error();
  }
  auto post = r.get("postData", Want::kObject, false);
  if (!post.ok()) return post.error();
  if (*post != Fields::kNone) {
    Fields p(tape, *post, r.at("postData"));
    if (auto v = p.string("mimeType"); !v.ok()) return v.error();
    auto body = decode_body(p, "_encoding");
    if (!body.ok()) return body.error();
    out.request.body = std::move(*body);
  }
  auto peer = r.get("_peer", Want::kString, false);
  if (!peer.ok()) return peer.error();
  if (*peer != Fields::kNone) out.request.peer = r.text(*peer);

  // response
  auto rs = e.get("response", Want::kObject, true);
  if (!rs.ok()) return rs.error();
  Fields s(tape, *rs, e.at("response"));
  auto status = s.get("status", Want::kInteger, true);
  if (!status.ok()) return status.error();
  auto code = tape.integer(*status);
  if (!code || *code < 0 || *code > 999) {
    return make_error(
        ErrorKind::kInvalid,
        s.at("status") + ": " + std::string(tape.scalar_text(*status)) + " is not an HTTP status");
  }
  out.response.status = static_cast<int>(*code);
  for (const char* key : {"statusText", "httpVersion", "redirectURL"}) {
    if (auto v = s.string(key); !v.ok()) return v.error();
  }
  if (auto v = s.get("cookies", Want::kArray, true); !v.ok()) return v.error();
  auto rs_headers_node = s.get("headers", Want::kArray, true);
  if (!rs_headers_node.ok()) return rs_headers_node.error();
  auto rs_headers = decode_pairs(tape, *rs_headers_node, s.at("headers"));
  if (!rs_headers.ok()) return rs_headers.error();
  out.response.headers = std::move(*rs_headers);
  auto content = s.get("content", Want::kObject, true);
  if (!content.ok()) return content.error();
  Fields c(tape, *content, s.at("content"));
  if (auto v = c.number("size"); !v.ok()) return v.error();
  if (auto v = c.string("mimeType"); !v.ok()) return v.error();
  auto body = decode_body(c, "encoding");
  if (!body.ok()) return body.error();
  out.response.body = std::move(*body);
  for (const char* key : {"headersSize", "bodySize"}) {
    if (auto v = s.number(key); !v.ok()) return v.error();
  }

  if (auto v = e.get("cache", Want::kObject, true); !v.ok()) return v.error();
  auto timings = e.get("timings", Want::kObject, true);
  if (!timings.ok()) return timings.error();
  Fields t(tape, *timings, e.at("timings"));
  for (const char* key : {"send", "wait", "receive"}) {
    if (auto v = t.number(key); !v.ok()) return v.error();
  }
  if (auto a = tape.find(entry, "_patrol"); a != Fields::kNone) {
    auto j = annotations_of(tape, a, e.at("_patrol"));
    if (!j.ok()) return j.error();
    out.annotations = std::move(*j);
  }
  return out;
}

}  // namespace detail

Result<Cassette> decode_har(std::string_view text) {
  Skeleton sk(text);
  model::JsonTape tape;
  std::size_t root = sk.skip_ws(0);
  if (root >= text.size()) return syntax_error(text, root, "expected a value");
  if (text[root] != '{') {
    // Validate first, so that garbage is a syntax error rather than a type error.
    auto end = sk.skip_value(root);
    if (!end.ok()) return end.error();
    if (auto st = parse_part(tape, text, root, *end); !st.ok()) return st.error();
    return make_error(ErrorKind::kType, std::string("$: expected object, got ") + sk.kind_at(root));
  }
  std::size_t root_end = 0;
  auto root_members = sk.members(root, root_end);
  if (!root_members.ok()) return root_members.error();
  if (std::size_t rest = sk.skip_ws(root_end); rest != text.size()) {
    return syntax_error(text, rest, "trailing characters after the document");
  }
  const Skeleton::Member* log = nullptr;
  for (const auto& m : *root_members) {
    if (m.key == "log") {
      log = &m;
    } else if (auto st = parse_part(tape, text, m.begin, m.end); !st.ok()) {
      return st.error();
    }
  }
  if (log == nullptr) return make_error(ErrorKind::kMissing, "log: missing");
  if (text[log->begin] != '{') {
    if (auto st = parse_part(tape, text, log->begin, log->end); !st.ok()) return st.error();
    return make_error(ErrorKind::kType,
                      std::string("log: expected object, got ") + sk.kind_at(log->begin));
  }
  std::size_t log_end = 0;
  auto log_members = sk.members(log->begin, log_end);
  if (!log_members.ok()) return log_members.error();
  // Duplicated members: the last one counts, as with any JSON reader.
  std::map<std::string, const Skeleton::Member*> by_key;
  for (const auto& m : *log_members) by_key[m.key] = &m;

  Cassette out;
  // Every member but the entries is small: parse them as one object.
  {
    std::string small = "{";
    for (const auto& [key, m] : by_key) {
      if (key == "entries") continue;
      if (auto st = parse_part(tape, text, m->begin, m->end); !st.ok()) return st.error();
      if (small.size() > 1) small += ',';
      detail::append_json_string(small, key);
      small += ':';
      small.append(text.substr(m->begin, m->end - m->begin));
    }
    small += '}';
    if (!tape.parse(small)) return make_error(ErrorKind::kInternal, "log: " + tape.error());
    Fields l(tape, 0, "log");
    if (auto v = l.string("version"); !v.ok()) return v.error();
    auto creator = l.get("creator", Want::kObject, true);
    if (!creator.ok()) return creator.error();
    Fields c(tape, *creator, "log.creator");
    auto name = c.string("name");
    if (!name.ok()) return name.error();
    auto version = c.string("version");
    if (!version.ok()) return version.error();
    out.info.creator_name = std::move(*name);
    out.info.creator_version = std::move(*version);
    if (auto a = tape.find(0, "_patrol"); a != Fields::kNone) {
      auto j = annotations_of(tape, a, "log._patrol");
      if (!j.ok()) return j.error();
      out.info.annotations = std::move(*j);
    }
  }
  auto entries = by_key.find("entries");
  if (entries == by_key.end()) return make_error(ErrorKind::kMissing, "log.entries: missing");
  const auto& em = *entries->second;
  if (text[em.begin] != '[') {
    if (auto st = parse_part(tape, text, em.begin, em.end); !st.ok()) return st.error();
    return make_error(ErrorKind::kType,
                      std::string("log.entries: expected array, got ") + sk.kind_at(em.begin));
  }
  auto elements = sk.elements(em.begin);
  if (!elements.ok()) return elements.error();
  out.entries.reserve(elements->size());
  std::size_t i = 0;
  for (const auto& [begin, end] : *elements) {
    if (auto st = parse_part(tape, text, begin, end); !st.ok()) return st.error();
    auto decoded = detail::decode_entry(tape, 0, "log.entries[" + std::to_string(i++) + "]");
    if (!decoded.ok()) return decoded.error();
    out.entries.push_back(std::move(*decoded));
  }
  return out;
}

Result<Cassette> read_cassette(const std::string& path) {
  auto recovered = recover_journal(path);
  if (!recovered.ok()) {
    return make_error(recovered.error().kind, path + ": " + recovered.error().message);
  }
  auto text = detail::read_whole_file(path);
  if (!text.ok()) return text.error();
  auto cassette = decode_har(*text);
  if (!cassette.ok()) {
    return make_error(cassette.error().kind, path + ": " + cassette.error().message);
  }
  return cassette;
}

}  // namespace patrol::recorder
