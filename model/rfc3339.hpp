// RFC 3339 timestamps (contract A20): parsing with 'Z' or numeric offsets and any number of
// fraction digits (kept to the microsecond), and formatting as the Hub writes them:
// "2021-10-12T14:37:15.697655Z".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace patrol::model {

// An instant in microseconds since the Unix epoch, UTC.
struct Timestamp {
  std::int64_t micros = 0;

  static Timestamp from_seconds(std::int64_t s) { return {s * 1'000'000}; }
  std::int64_t seconds() const;  // floor division
  auto operator<=>(const Timestamp&) const = default;
};

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 't'/'z' are accepted; a leap second (60)
// and out-of-range fields are kInvalid; syntax errors are kParse naming the offending offset.
Result<Timestamp> parse_rfc3339(std::string_view text);

// Formats as UTC with exactly six fraction digits and 'Z'.
std::string format_rfc3339(Timestamp t);

// Same instant to the second (contract 2: `expires_at` echo).
bool same_second(Timestamp a, Timestamp b);

}  // namespace patrol::model
