#include "recorder/cassette.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

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
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

const char* type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    case Json::value_t::discarded:
      return "nothing";
    default:
      return "number";
  }
}

// Field access with errors that name the path.
class Fields {
 public:
  Fields(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string at(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  Result<const Json*> get(std::string_view key, Json::value_t want, bool required) const {
    auto it = object_.find(key);
    if (it == object_.end()) {
      if (!required) return static_cast<const Json*>(nullptr);
      return make_error(ErrorKind::kMissing, at(key) + ": missing");
    }
    bool ok = it->type() == want || (want == Json::value_t::number_float && it->is_number()) ||
              (want == Json::value_t::number_integer && it->is_number_integer());
    if (!ok) {
      const char* wanted =
          want == Json::value_t::number_float || want == Json::value_t::number_integer
              ? (want == Json::value_t::number_integer ? "integer" : "number")
              : type_name(Json(want));
      return make_error(ErrorKind::kType,
                        at(key) + ": expected " + wanted + ", got " + type_name(*it));
    }
    return &*it;
  }

  Result<std::string> string(std::string_view key) const {
    auto v = get(key, Json::value_t::string, true);
    if (!v.ok()) return v.error();
    return (*v)->get<std::string>();
  }

  model::Status number(std::string_view key) const {
    auto v = get(key, Json::value_t::number_float, true);
    if (!v.ok()) return v.error();
    return model::Ok{};
  }

 private:
  const Json& object_;
  std::string path_;
};

Result<model::Headers> decode_pairs(const Json& array, const std::string& path) {
  model::Headers out;
  out.entries.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!array[i].is_object()) {
      return make_error(ErrorKind::kType, at + ": expected object, got " + type_name(array[i]));
    }
    Fields f(array[i], at);
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
  auto text = f.get("text", Json::value_t::string, false);
  if (!text.ok()) return text.error();
  if (*text == nullptr) return std::string();
  auto enc = f.get(encoding_key, Json::value_t::string, false);
  if (!enc.ok()) return enc.error();
  std::string body = (*text)->get<std::string>();
  if (*enc == nullptr || (*enc)->get<std::string>().empty()) return body;
  if ((*enc)->get<std::string>() != "base64") {
    return make_error(ErrorKind::kInvalid, f.at(encoding_key) + ": unsupported encoding '" +
                                               (*enc)->get<std::string>() + "' (only base64)");
  }
  auto bytes = model::base64_decode(body);
  if (!bytes.ok()) {
    return make_error(ErrorKind::kParse, f.at("text") + ": " + bytes.error().message);
  }
  return std::move(bytes).value();
}

Result<Json> parse_document(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    std::string where = "byte " + std::to_string(e.byte);
    // nlohmann's message quotes the text it last read ("; last read: '...'"), which may be a
    // secret: keep only what comes before.
    std::string reason = e.what();
    reason = reason.substr(0, reason.find("; last read:"));
    if (e.byte >= text.size()) {
      return make_error(ErrorKind::kParse,
                        std::string(what) + " ends early at " + where + " (truncated?): " + reason);
    }
    return make_error(ErrorKind::kParse,
                      std::string(what) + " is not valid JSON at " + where + ": " + reason);
  } catch (const Json::out_of_range&) {
    return make_error(
        ErrorKind::kParse,
        std::string(what) + " is not valid JSON: a number is out of the double range");
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::kParse,
                      std::string(what) + " is not valid JSON: error " + std::to_string(e.id));
  }
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
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return make_error(ErrorKind::kInvalid, "expected an absolute URL (scheme://host/path)");
  }
  auto hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  std::size_t authority_end = url.find_first_of("/?", sep + 3);
  if (authority_end == sep + 3) return make_error(ErrorKind::kInvalid, "URL has no host");
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
  Json doc = Json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("patrol_journal")) {
    return make_error(ErrorKind::kParse, "journal line 1: not a patrol journal header");
  }
  if (doc["patrol_journal"] != 1) {
    return make_error(ErrorKind::kInvalid, "journal line 1: unsupported journal version " +
                                               doc["patrol_journal"].dump());
  }
  CassetteInfo info;
  Fields f(doc, "journal line 1");
  auto creator = f.get("creator", Json::value_t::object, true);
  if (!creator.ok()) return creator.error();
  Fields c(**creator, f.at("creator"));
  auto name = c.string("name");
  if (!name.ok()) return name.error();
  auto version = c.string("version");
  if (!version.ok()) return version.error();
  info.creator_name = std::move(*name);
  info.creator_version = std::move(*version);
  if (auto it = doc.find("_patrol"); it != doc.end()) info.annotations = *it;
  return info;
}

Result<Interaction> decode_entry(const Json& entry, const std::string& path) {
  if (!entry.is_object()) {
    return make_error(ErrorKind::kType, path + ": expected object, got " + type_name(entry));
  }
  Interaction out;
  Fields e(entry, path);
  auto started = e.string("startedDateTime");
  if (!started.ok()) return started.error();
  auto ts = model::parse_rfc3339(*started);
  if (!ts.ok())
    return make_error(ts.error().kind, e.at("startedDateTime") + ": " + ts.error().message);
  out.started = *ts;
  auto time = e.get("time", Json::value_t::number_float, true);
  if (!time.ok()) return time.error();
  out.duration_ms = (*time)->get<double>();

  // request
  auto rq = e.get("request", Json::value_t::object, true);
  if (!rq.ok()) return rq.error();
  Fields r(**rq, e.at("request"));
  auto method = r.string("method");
  if (!method.ok()) return method.error();
  if (method->empty()) return make_error(ErrorKind::kInvalid, r.at("method") + ": empty");
  out.request.method = std::move(*method);
  auto url = r.string("url");
  if (!url.ok()) return url.error();
  auto parts = split_url(*url);
  if (!parts.ok())
    return make_error(parts.error().kind, r.at("url") + ": " + parts.error().message);
  out.origin = std::move(parts->origin);
  out.request.path = std::move(parts->path);
  out.request.query = std::move(parts->query);
  if (auto v = r.string("httpVersion"); !v.ok()) return v.error();
  for (const char* key : {"cookies", "queryString"}) {
    if (auto v = r.get(key, Json::value_t::array, true); !v.ok()) return v.error();
  }
  auto headers = r.get("headers", Json::value_t::array, true);
  if (!headers.ok()) return headers.error();
  auto rq_headers = decode_pairs(**headers, r.at("headers"));
  if (!rq_headers.ok()) return rq_headers.error();
  out.request.headers = std::move(*rq_headers);
  for (const char* key : {"headersSize", "bodySize"}) {
    if (auto v = r.number(key); !v.ok()) return v.error();
  }
  auto post = r.get("postData", Json::value_t::object, false);
  if (!post.ok()) return post.error();
  if (*post != nullptr) {
    Fields p(**post, r.at("postData"));
    if (auto v = p.string("mimeType"); !v.ok()) return v.error();
    auto body = decode_body(p, "_encoding");
    if (!body.ok()) return body.error();
    out.request.body = std::move(*body);
  }
  auto peer = r.get("_peer", Json::value_t::string, false);
  if (!peer.ok()) return peer.error();
  if (*peer != nullptr) out.request.peer = (*peer)->get<std::string>();

  // response
  auto rs = e.get("response", Json::value_t::object, true);
  if (!rs.ok()) return rs.error();
  Fields s(**rs, e.at("response"));
  auto status = s.get("status", Json::value_t::number_integer, true);
  if (!status.ok()) return status.error();
  auto code = (*status)->get<std::int64_t>();
  if (code < 0 || code > 999) {
    return make_error(ErrorKind::kInvalid,
                      s.at("status") + ": " + std::to_string(code) + " is not an HTTP status");
  }
  out.response.status = static_cast<int>(code);
  for (const char* key : {"statusText", "httpVersion", "redirectURL"}) {
    if (auto v = s.string(key); !v.ok()) return v.error();
  }
  if (auto v = s.get("cookies", Json::value_t::array, true); !v.ok()) return v.error();
  auto rs_headers_json = s.get("headers", Json::value_t::array, true);
  if (!rs_headers_json.ok()) return rs_headers_json.error();
  auto rs_headers = decode_pairs(**rs_headers_json, s.at("headers"));
  if (!rs_headers.ok()) return rs_headers.error();
  out.response.headers = std::move(*rs_headers);
  auto content = s.get("content", Json::value_t::object, true);
  if (!content.ok()) return content.error();
  Fields c(**content, s.at("content"));
  if (auto v = c.number("size"); !v.ok()) return v.error();
  if (auto v = c.string("mimeType"); !v.ok()) return v.error();
  auto body = decode_body(c, "encoding");
  if (!body.ok()) return body.error();
  out.response.body = std::move(*body);
  for (const char* key : {"headersSize", "bodySize"}) {
    if (auto v = s.number(key); !v.ok()) return v.error();
  }

  if (auto v = e.get("cache", Json::value_t::object, true); !v.ok()) return v.error();
  auto timings = e.get("timings", Json::value_t::object, true);
  if (!timings.ok()) return timings.error();
  Fields t(**timings, e.at("timings"));
  for (const char* key : {"send", "wait", "receive"}) {
    if (auto v = t.number(key); !v.ok()) return v.error();
  }
  if (auto it = entry.find("_patrol"); it != entry.end()) out.annotations = *it;
  return out;
}

}  // namespace detail

Result<Cassette> decode_har(std::string_view text) {
  auto doc = parse_document(text, "cassette");
  if (!doc.ok()) return doc.error();
  if (!doc->is_object()) {
    return make_error(ErrorKind::kType, "$: expected object, got " + std::string(type_name(*doc)));
  }
  Fields root(*doc, "");
  auto log = root.get("log", Json::value_t::object, true);
  if (!log.ok()) return log.error();
  Fields l(**log, "log");
  Cassette out;
  if (auto v = l.string("version"); !v.ok()) return v.error();
  auto creator = l.get("creator", Json::value_t::object, true);
  if (!creator.ok()) return creator.error();
  Fields c(**creator, "log.creator");
  auto name = c.string("name");
  if (!name.ok()) return name.error();
  auto version = c.string("version");
  if (!version.ok()) return version.error();
  out.info.creator_name = std::move(*name);
  out.info.creator_version = std::move(*version);
  if (auto it = (*log)->find("_patrol"); it != (*log)->end()) out.info.annotations = *it;
  auto entries = l.get("entries", Json::value_t::array, true);
  if (!entries.ok()) return entries.error();
  out.entries.reserve((*entries)->size());
  std::size_t i = 0;
  for (const auto& entry : **entries) {
    auto decoded = detail::decode_entry(entry, "log.entries[" + std::to_string(i++) + "]");
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot be read");
  std::ostringstream buf;
  buf << in.rdbuf();
  auto cassette = decode_har(buf.str());
  if (!cassette.ok()) {
    return make_error(cassette.error().kind, path + ": " + cassette.error().message);
  }
  return cassette;
}

}  // namespace patrol::recorder
