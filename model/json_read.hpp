// Internal to model/: the path-aware readers the codecs use to take members out of a JSON object
// strictly. A reader remembers the first problem as "<path>: <reason>" and ignores later reads, so
// a decoder reads its fields in order and checks once at the end. Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/codec.hpp"
#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::model::detail {

// Joins a member name onto a path: "" + "uuid" -> "uuid", "results[2]" + "scopes" -> ...
std::string member_path(std::string_view parent, std::string_view key);
// Appends an array index: "results" + 3 -> "results[3]".
std::string index_path(std::string_view parent, std::size_t index);
// Returns the path as errors show it: the root "" reads "$".
std::string shown_path(std::string_view path);

// "<path>: expected <what>, got <json type>" (kType).
Error type_error(std::string_view path, std::string_view expected, const Json& got);
// "<path>: required" (kMissing).
Error missing_error(std::string_view path);

// Reads a string, an integer (an integral float such as 2.0 counts) or a boolean at a path.
Result<std::string> read_string(const Json& j, std::string_view path);
Result<std::int64_t> read_int64(const Json& j, std::string_view path);
Result<std::vector<std::string>> read_string_array(const Json& j, std::string_view path);

// Quotes untrusted text for an error message: at most `limit` bytes, bytes outside printable
// ASCII as \xNN, so a message stays one readable line whatever the input.
std::string quote_excerpt(std::string_view text, std::size_t limit = 64);

// Takes members out of one JSON object. The overload picked by the output's type decides
// whether the member is required (plain types) or optional (std::optional, Nullable).
class ObjectReader {
 public:
  // Records "<path>: expected object, got <type>" when `j` is not an object.
  ObjectReader(const Json& j, std::string path);

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return member_path(path_, key); }
  bool has(std::string_view key) const;

  void read(std::string_view key, std::string& out);
  void read(std::string_view key, std::optional<std::string>& out);
  void read(std::string_view key, Nullable<std::string>& out);
  void read(std::string_view key, bool& out);
  void read(std::string_view key, std::optional<bool>& out);
  void read(std::string_view key, std::int64_t& out);
  void read(std::string_view key, std::optional<std::int64_t>& out);
  void read(std::string_view key, std::vector<std::string>& out);
  void read(std::string_view key, std::optional<std::vector<std::string>>& out);
  // A required member that must be a JSON object, kept as is.
  void read_object(std::string_view key, Json& out);
  // A member that may be absent, null or an object.
  void read_object_or_null(std::string_view key, Nullable<Json>& out);

  // A required array whose elements decode with Codec<T>.
  template <class T>
  void read_each(std::string_view key, std::vector<T>& out) {
    const Json* m = take(key);
    if (m == nullptr) {
      if (!failed()) fail(missing_error(path_of(key)));
      return;
    }
    decode_each(*m, path_of(key), out);
  }

  // An optional array whose elements decode with Codec<T>.
  template <class T>
  void read_each(std::string_view key, std::optional<std::vector<T>>& out) {
    const Json* m = take(key);
    if (m == nullptr) return;
    std::vector<T> items;
    decode_each(*m, path_of(key), items);
    if (!failed()) out = std::move(items);
  }

  // Marks a member as read and returns it, or nullptr when absent (or after a failure).
  const Json* take(std::string_view key);
  // Records an error unless one is already recorded.
  void fail(Error error);
  // The members no read has taken, as an object (the type's `extra`).
  Json rest() const;

 private:
  template <class T>
  void decode_each(const Json& m, const std::string& at, std::vector<T>& out) {
    if (!m.is_array()) {
      fail(type_error(at, "array", m));
      return;
    }
    out.clear();
    out.reserve(m.size());
    for (std::size_t i = 0; i < m.size(); ++i) {
      auto item = Codec<T>::decode(m[i], index_path(at, i));
      if (!item.ok()) {
        fail(item.error());
        return;
      }
      out.push_back(std::move(item).value());
    }
  }

  const Json* object_;  // null when the input was not an object
  std::string path_;
  std::vector<const std::string*> taken_;  // keys of the members taken, inside *object_
  std::optional<Error> error_;
};

// Runs a decoder body, turning a stray nlohmann exception into a kInternal error at `path`.
template <class T, class F>
Result<T> guarded(const std::string& path, F&& body) {
  try {
    return body();
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::kInternal, shown_path(path) + ": decoder fault: " + e.what());
  }
}

// Encoding helpers: absent optionals write nothing; a null Nullable writes null.
void put(Json& j, const char* key, const std::optional<std::string>& v);
void put(Json& j, const char* key, const std::optional<bool>& v);
void put(Json& j, const char* key, const std::optional<std::int64_t>& v);
void put(Json& j, const char* key, const std::optional<std::vector<std::string>>& v);
void put(Json& j, const char* key, const Nullable<std::string>& v);
void put(Json& j, const char* key, const Nullable<Json>& v);
// Appends `extra` members after the known ones; a member named like a known one is not written.
void put_extra(Json& j, const Json& extra);

}  // namespace patrol::model::detail
