// Fuzz target: RFC 3339 timestamps (contract A20). Input: text, one timestamp per line. Each line
// is parsed by the model and by an independent reference written here; they must agree, and every
// accepted instant must format and parse back to itself.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/byte_reader.hpp"
#include "fuzz/fuzz_check.hpp"
#include "model/rfc3339.hpp"

namespace patrol::fuzz {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
std::optional<unsigned> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return v;
}

// The grammar of rfc3339.hpp: YYYY-MM-DD(T|t)HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM), fraction of one
// or more digits truncated to microseconds, no leap second, every field within its range.
std::optional<std::int64_t> reference_parse(std::string_view s) {
  auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  auto hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) frac *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_seconds = (s[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  const std::int64_t secs = days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 +
                            *minute * 60 + *second - offset_seconds;
  return secs * kMicrosPerSecond + frac;
}

void check_format_roundtrip(model::Timestamp t) {
  const std::string text = model::format_rfc3339(t);
  PATROL_FUZZ_CHECK(text.size() == 27 && text[10] == 'T' && text[19] == '.' && text.back() == 'Z',
                    "format_rfc3339(" + std::to_string(t.micros) + ") = '" + text + "'");
  auto back = model::parse_rfc3339(text);
  PATROL_FUZZ_CHECK(back.ok() && back->micros == t.micros,
                    "parse_rfc3339(format_rfc3339(t)) != t for '" + text + "'");
  const std::int64_t secs = t.seconds();
  const std::int64_t rem = t.micros - secs * kMicrosPerSecond;
  PATROL_FUZZ_CHECK(rem >= 0 && rem < kMicrosPerSecond,
                    "seconds() is not floor division for " + std::to_string(t.micros));
  PATROL_FUZZ_CHECK(model::same_second(t, model::Timestamp{secs * kMicrosPerSecond}) &&
                        !model::same_second(t, model::Timestamp{(secs + 1) * kMicrosPerSecond}),
                    "same_second wrong around " + text);
}

void check_line(std::string_view line) {
  auto parsed = model::parse_rfc3339(line);
  auto expected = reference_parse(line);
  PATROL_FUZZ_CHECK(parsed.ok() == expected.has_value(),
                    "parse_rfc3339('" + std::string(line) + "') " +
                        (parsed.ok() ? "accepted what the grammar rejects"
                                     : "rejected a valid timestamp: " + parsed.error().message));
  if (!parsed.ok()) {
    const auto kind = parsed.error().kind;
    PATROL_FUZZ_CHECK((kind == model::ErrorKind::kParse || kind == model::ErrorKind::kInvalid) &&
                          !parsed.error().message.empty(),
                      "parse_rfc3339 error: " + parsed.error().message);
    return;
  }
  PATROL_FUZZ_CHECK(parsed->micros == *expected, "parse_rfc3339('" + std::string(line) +
                                                     "') = " + std::to_string(parsed->micros) +
                                                     ", reference " + std::to_string(*expected));
  // Formatting covers years 0000..9999 in UTC; an offset can push an instant just outside.
  static const std::int64_t first = days_from_civil(0, 1, 1) * 86'400 * kMicrosPerSecond;
  static const std::int64_t last = days_from_civil(10'000, 1, 1) * 86'400 * kMicrosPerSecond - 1;
  for (std::int64_t delta : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1},
                             std::int64_t{86'400} * kMicrosPerSecond}) {
    const std::int64_t micros = parsed->micros + delta;
    if (first <= micros && micros <= last) check_format_roundtrip(model::Timestamp{micros});
  }
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  patrol::fuzz::ByteReader in(data, size);
  while (!in.empty()) patrol::fuzz::check_line(in.line());
  return 0;
}
