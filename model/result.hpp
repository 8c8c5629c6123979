// Errors as values: Result<T> holds either a value or an Error with a closed kind and a message.
// Every public API of patrol returns these instead of throwing; exceptions from libraries are
// caught once, at the boundary where they arise.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace patrol::model {

// The closed set of error kinds every layer reports.
enum class ErrorKind : std::uint8_t {
  kParse,        // input is not well-formed (JSON syntax, timestamp, base64, UTF-8...)
  kType,         // well-formed but a value has the wrong type
  kMissing,      // a required field is absent
  kInvalid,      // well-formed and typed, but the value is out of its domain
  kIo,           // a file or socket operation failed
  kTimeout,      // an operation exceeded its deadline
  kUnavailable,  // the peer could not be reached
  kInternal,     // a bug in patrol
};

// Returns a stable lower-case name for a kind ("parse", "type", ...).
const char* to_string(ErrorKind kind);

// An error: what kind, and a message that names what and where.
struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  bool operator==(const Error&) const = default;
};

// Either a T or an Error. Access the value only after checking ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}     // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

// The value-less result of an operation that can fail.
struct Ok {
  bool operator==(const Ok&) const = default;
};
using Status = Result<Ok>;

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

}  // namespace patrol::model
