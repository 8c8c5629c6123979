// JSON text parsing and the shared machinery of the strict codecs (json_read.hpp).
#include "model/codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "model/json_read.hpp"

namespace patrol::model {

namespace {

// Finds the first place where nesting exceeds kMaxJsonDepth, skipping string contents. Only called
// once the parser has refused a text for its depth, to name the offset.
std::optional<std::size_t> too_deep_at(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

// Rewrites an nlohmann parse message without the "last read: '...'" excerpt, which would copy
// body text (possibly a secret) into the error.
std::string describe_parse_error(const Json::parse_error& e) {
  // Views into nlohmann's message, cut apart without copies (every fuzz input that is not JSON
  // comes through here): "[json.exception.parse_error.101] parse error at line 1, column 6:
  // syntax error while parsing value - invalid literal; last read: 'tru'; expected ...".
  std::string_view what = e.what();
  if (!what.empty() && what.front() == '[') {
    auto close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  std::string_view where;
  constexpr std::string_view kAt = "parse error at ";
  constexpr std::string_view kPlain = "parse error: ";
  if (what.substr(0, kAt.size()) == kAt) {
    auto colon = what.find(": ");
    if (colon != std::string_view::npos) {
      where = what.substr(kAt.size(), colon - kAt.size());  // "line 1, column 6"
      what.remove_prefix(colon + 2);
    }
  } else if (what.substr(0, kPlain.size()) == kPlain) {
    what.remove_prefix(kPlain.size());
  }
  // What was last read is input text (perhaps a secret): it never goes into the message.
  std::string_view tail;
  constexpr std::string_view kLastRead = "; last read: '";
  auto lr = what.find(kLastRead);
  if (lr != std::string_view::npos) {
    constexpr std::string_view kExpected = "'; expected ";
    auto exp = what.rfind(kExpected);
    if (exp != std::string_view::npos && exp >= lr + kLastRead.size() - 1) {
      tail = what.substr(exp + 1);
    }
    what = what.substr(0, lr);
  }
  std::string out = "invalid JSON at offset ";
  out += std::to_string(e.byte > 0 ? e.byte - 1 : 0);
  if (!where.empty()) {
    out += " (";
    out += where;
    out += ')';
  }
  out += ": ";
  out += what;
  out += tail;
  return out;
}

// nlohmann's own DOM builder, with two differences: nesting deeper than kMaxJsonDepth stops the
// parse where it happens (no document is built past it, so the recursive parts of nlohmann --
// copy, compare, dump -- stay within the stack), and a syntax error is kept as a message instead of
// being thrown. Parsing is a hot path (every request the server reads, every fuzz input): this is
// one pass over the text and no exception.
class BoundedDomBuilder : public nlohmann::detail::json_sax_dom_parser<Json> {
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;

 public:
  explicit BoundedDomBuilder(Json& root) : Base(root, /*allow_exceptions_=*/false) {}

  bool start_object(std::size_t n) { return enter() && Base::start_object(n); }
  bool start_array(std::size_t n) { return enter() && Base::start_array(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }

  // Called by the parser in place of throwing; `ex` is a parse_error, or an out_of_range for a
  // number beyond the double range (nlohmann reports that one without an offset).
  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const Exception& ex) {
    if constexpr (std::is_same_v<Exception, Json::parse_error>) {
      failure_ = describe_parse_error(ex);
    } else if (ex.id == 406) {
      failure_ = "invalid JSON: a number is out of the double range";
    } else {
      failure_ = "invalid JSON: error " + std::to_string(ex.id);
    }
    return false;
  }

  // The syntax error, if the parse stopped for one (otherwise it stopped for depth).
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  bool enter() { return ++depth_ <= kMaxJsonDepth; }

  std::size_t depth_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace

Result<Json> parse_json(std::string_view text) {
  if (text.size() > kMaxBodyBytes) {
    return make_error(ErrorKind::kInvalid, "JSON text of " + std::to_string(text.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(kMaxBodyBytes));
  }
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0junk" parsed as {}.
  // A raw NUL is never valid JSON (not between tokens, not unescaped inside a string).
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    return make_error(ErrorKind::kParse,
                      "invalid JSON at offset " + std::to_string(nul) + ": a NUL byte");
  }
  Json doc;
  BoundedDomBuilder builder(doc);
  if (Json::sax_parse(text.begin(), text.end(), &builder)) return doc;
  if (builder.failure()) return make_error(ErrorKind::kParse, *builder.failure());
  auto at = too_deep_at(text);
  return make_error(ErrorKind::kInvalid, "JSON nesting deeper than " +
                                             std::to_string(kMaxJsonDepth) + " at offset " +
                                             (at ? std::to_string(*at) : std::string("?")));
}

const char* json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    case Json::value_t::binary:
      return "binary";
    case Json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

namespace detail {

std::string member_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string shown_path(std::string_view path) { return path.empty() ? "$" : std::string(path); }

Error type_error(std::string_view path, std::string_view expected, const Json& got) {
  return make_error(ErrorKind::kType, shown_path(path) + ": expected " + std::string(expected) +
                                          ", got " + json_type_name(got));
}

Error missing_error(std::string_view path) {
  return make_error(ErrorKind::kMissing, shown_path(path) + ": required");
}

Result<std::string> read_string(const Json& j, std::string_view path) {
  if (!j.is_string()) return type_error(path, "string", j);
  return j.get_ref<const std::string&>();
}

Result<std::int64_t> read_int64(const Json& j, std::string_view path) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<std::int64_t>();
  if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(u);
    }
    return make_error(ErrorKind::kInvalid,
                      shown_path(path) + ": integer out of range, got " + j.dump());
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    // 2.0 is the integer 2 (the spec types these as `number`, contract 6); 2.5 is not.
    if (!std::isfinite(d) || std::floor(d) != d) {
      return make_error(ErrorKind::kType, shown_path(path) + ": expected integer, got " + j.dump());
    }
    constexpr double kTwo63 = 9223372036854775808.0;
    if (d < -kTwo63 || d >= kTwo63) {
      return make_error(ErrorKind::kInvalid,
                        shown_path(path) + ": integer out of range, got " + j.dump());
    }
    return static_cast<std::int64_t>(d);
  }
  return type_error(path, "integer", j);
}

Result<std::vector<std::string>> read_string_array(const Json& j, std::string_view path) {
  if (!j.is_array()) return type_error(path, "array", j);
  std::vector<std::string> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Json& e = j[i];
    if (!e.is_string()) return type_error(index_path(path, i), "string", e);
    out.push_back(e.get_ref<const std::string&>());
  }
  return out;
}

std::string quote_excerpt(std::string_view text, std::size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  std::size_t n = std::min(text.size(), limit);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '"';
  if (text.size() > limit) out += "...";
  return out;
}

ObjectReader::ObjectReader(const Json& j, std::string path)
    : object_(j.is_object() ? &j : nullptr), path_(std::move(path)) {
  if (object_ == nullptr) fail(type_error(path_, "object", j));
}

bool ObjectReader::has(std::string_view key) const {
  return object_ != nullptr && object_->find(key) != object_->end();
}

const Json* ObjectReader::take(std::string_view key) {
  if (failed()) return nullptr;
  auto it = object_->find(key);
  if (it == object_->end()) return nullptr;
  taken_.push_back(&it.key());
  return &*it;
}

void ObjectReader::fail(Error error) {
  if (!error_) error_ = std::move(error);
}

Json ObjectReader::rest() const {
  Json out = Json::object();
  if (object_ == nullptr) return out;
  for (auto it = object_->begin(); it != object_->end(); ++it) {
    if (std::find(taken_.begin(), taken_.end(), &it.key()) == taken_.end()) out[it.key()] = *it;
  }
  return out;
}

namespace {

// Applies a Result-returning reader to a taken member, storing the value or the error.
template <class T, class Read>
void store(ObjectReader& r, const Json* m, std::string_view key, T& out, Read read) {
  if (m == nullptr) return;
  // The path only matters in an error: build it then (a decode takes many members, and this is
  // the hot path of every codec).
  auto v = read(*m, std::string_view());
  if (v.ok()) {
    out = std::move(v).value();
  } else {
    r.fail(read(*m, r.path_of(key)).error());
  }
}

template <class T, class Read>
void read_required(ObjectReader& r, std::string_view key, T& out, Read read) {
  const Json* m = r.take(key);
  if (m == nullptr) {
    if (!r.failed()) r.fail(missing_error(r.path_of(key)));
    return;
  }
  store(r, m, key, out, read);
}

template <class T, class Read>
void read_optional(ObjectReader& r, std::string_view key, std::optional<T>& out, Read read) {
  const Json* m = r.take(key);
  if (m == nullptr) return;
  T v{};
  store(r, m, key, v, read);
  if (!r.failed()) out = std::move(v);
}

Result<bool> read_bool(const Json& j, std::string_view path) {
  if (!j.is_boolean()) return type_error(path, "boolean", j);
  return j.get<bool>();
}

}  // namespace

void ObjectReader::read(std::string_view key, std::string& out) {
  read_required(*this, key, out, read_string);
}
void ObjectReader::read(std::string_view key, bool& out) {
  read_required(*this, key, out, read_bool);
}
void ObjectReader::read(std::string_view key, std::int64_t& out) {
  read_required(*this, key, out, read_int64);
}
void ObjectReader::read(std::string_view key, std::vector<std::string>& out) {
  read_required(*this, key, out, read_string_array);
}
void ObjectReader::read(std::string_view key, std::optional<std::string>& out) {
  read_optional(*this, key, out, read_string);
}
void ObjectReader::read(std::string_view key, std::optional<bool>& out) {
  read_optional(*this, key, out, read_bool);
}
void ObjectReader::read(std::string_view key, std::optional<std::int64_t>& out) {
  read_optional(*this, key, out, read_int64);
}
void ObjectReader::read(std::string_view key, std::optional<std::vector<std::string>>& out) {
  read_optional(*this, key, out, read_string_array);
}

void ObjectReader::read(std::string_view key, Nullable<std::string>& out) {
  const Json* m = take(key);
  if (m == nullptr) return;
  if (m->is_null()) {
    out = Nullable<std::string>::null();
  } else if (m->is_string()) {
    out = Nullable<std::string>::of(m->get<std::string>());
  } else {
    fail(type_error(path_of(key), "string or null", *m));
  }
}

void ObjectReader::read_object(std::string_view key, Json& out) {
  const Json* m = take(key);
  if (m == nullptr) {
    if (!failed()) fail(missing_error(path_of(key)));
    return;
  }
  if (!m->is_object()) {
    fail(type_error(path_of(key), "object", *m));
    return;
  }
  out = *m;
}

void ObjectReader::read_object_or_null(std::string_view key, Nullable<Json>& out) {
  const Json* m = take(key);
  if (m == nullptr) return;
  if (m->is_null()) {
    out = Nullable<Json>::null();
  } else if (m->is_object()) {
    out = Nullable<Json>::of(*m);
  } else {
    fail(type_error(path_of(key), "object or null", *m));
  }
}

void put(Json& j, const char* key, const std::optional<std::string>& v) {
  if (v) j[key] = *v;
}
void put(Json& j, const char* key, const std::optional<bool>& v) {
  if (v) j[key] = *v;
}
void put(Json& j, const char* key, const std::optional<std::int64_t>& v) {
  if (v) j[key] = *v;
}
void put(Json& j, const char* key, const std::optional<std::vector<std::string>>& v) {
  if (v) j[key] = *v;
}
void put(Json& j, const char* key, const Nullable<std::string>& v) {
  if (v.is_null()) j[key] = nullptr;
  if (v.has_value()) j[key] = v.value;
}
void put(Json& j, const char* key, const Nullable<Json>& v) {
  if (v.is_null()) j[key] = nullptr;
  if (v.has_value()) j[key] = v.value;
}

void put_extra(Json& j, const Json& extra) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!j.contains(it.key())) j[it.key()] = *it;
  }
}

}  // namespace detail

}  // namespace patrol::model
