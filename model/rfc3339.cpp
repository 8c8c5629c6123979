// RFC 3339 timestamps (contract A20). Calendar arithmetic uses Howard Hinnant's days-from-civil
// algorithms (proleptic Gregorian, any year), never the C library's time zone machinery.
#include "model/rfc3339.hpp"

#include <cstdio>

namespace patrol::model {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
  return {y + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

Error syntax(std::string_view what, std::size_t at) {
  return make_error(ErrorKind::kParse, "timestamp: expected " + std::string(what) + " at offset " +
                                           std::to_string(at));
}

Error range(std::string_view field, unsigned value, std::string_view allowed) {
  return make_error(ErrorKind::kInvalid, "timestamp: " + std::string(field) + " " +
                                             std::to_string(value) + " out of range " +
                                             std::string(allowed));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`; on failure reports the offset of the first non-digit.
Result<unsigned> digits(std::string_view text, std::size_t pos, std::size_t n) {
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (pos + i >= text.size() || !is_digit(text[pos + i])) return syntax("a digit", pos + i);
    v = v * 10 + static_cast<unsigned>(text[pos + i] - '0');
  }
  return v;
}

Status literal(std::string_view text, std::size_t pos, char a, char b = '\0') {
  if (pos < text.size() && (text[pos] == a || (b != '\0' && text[pos] == b))) return Ok{};
  std::string what = "'" + std::string(1, a) + "'";
  return syntax(what, pos);
}

}  // namespace

std::int64_t Timestamp::seconds() const { return floor_div(micros, kMicrosPerSecond); }

Result<Timestamp> parse_rfc3339(std::string_view text) {
  // Fixed layout: YYYY-MM-DDTHH:MM:SS, then an optional fraction and the zone.
  struct Field {
    std::size_t pos;
    std::size_t width;
    char after;  // separator that follows, or '\0'
  };
  static constexpr Field kFields[] = {{0, 4, '-'},  {5, 2, '-'},  {8, 2, 'T'},
                                      {11, 2, ':'}, {14, 2, ':'}, {17, 2, '\0'}};
  unsigned v[6] = {};
  for (std::size_t i = 0; i < 6; ++i) {
    auto d = digits(text, kFields[i].pos, kFields[i].width);
    if (!d.ok()) return d.error();
    v[i] = *d;
    std::size_t sep = kFields[i].pos + kFields[i].width;
    if (kFields[i].after == 'T') {
      if (auto s = literal(text, sep, 'T', 't'); !s.ok()) return s.error();
    } else if (kFields[i].after != '\0') {
      if (auto s = literal(text, sep, kFields[i].after); !s.ok()) return s.error();
    }
  }
  std::size_t pos = 19;
  std::int64_t frac_micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (pos >= text.size() || !is_digit(text[pos])) return syntax("a digit", pos);
    std::size_t n = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (n < 6) frac_micros = frac_micros * 10 + (text[pos] - '0');  // beyond 6: truncated
      ++n;
      ++pos;
    }
    for (; n < 6; ++n) frac_micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos >= text.size()) return syntax("'Z' or a numeric offset", pos);
  char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    auto oh = digits(text, pos + 1, 2);
    if (!oh.ok()) return oh.error();
    if (auto s = literal(text, pos + 3, ':'); !s.ok()) return s.error();
    auto om = digits(text, pos + 4, 2);
    if (!om.ok()) return om.error();
    if (*oh > 23) return range("offset hour", *oh, "00..23");
    if (*om > 59) return range("offset minute", *om, "00..59");
    offset_seconds = (zone == '+' ? 1 : -1) * static_cast<std::int64_t>(*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return syntax("'Z' or a numeric offset", pos);
  }
  if (pos != text.size()) return syntax("end of text", pos);

  const unsigned year = v[0], month = v[1], day = v[2], hour = v[3], minute = v[4], second = v[5];
  if (month < 1 || month > 12) return range("month", month, "01..12");
  unsigned dim = days_in_month(year, month);
  if (day < 1 || day > dim) {
    return range("day", day,
                 "01.." + std::to_string(dim) + " for " + std::to_string(year) + "-" +
                     (month < 10 ? "0" : "") + std::to_string(month));
  }
  if (hour > 23) return range("hour", hour, "00..23");
  if (minute > 59) return range("minute", minute, "00..59");
  if (second > 59) return range("second", second, "00..59 (leap seconds are not accepted)");

  std::int64_t days = days_from_civil(year, month, day);
  std::int64_t secs = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_seconds;
  return Timestamp{secs * kMicrosPerSecond + frac_micros};
}

std::string format_rfc3339(Timestamp t) {
  std::int64_t secs = floor_div(t.micros, kMicrosPerSecond);
  std::int64_t micros = t.micros - secs * kMicrosPerSecond;
  std::int64_t days = floor_div(secs, kSecondsPerDay);
  std::int64_t sod = secs - days * kSecondsPerDay;
  Civil c = civil_from_days(days);
  if (c.year >= 0 && c.year <= 9999) {
    // The common case without printf, which was a tenth of encoding a cassette entry.
    char out[] = "0000-00-00T00:00:00.000000Z";
    auto put = [&](std::size_t at, std::int64_t value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) {
        out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      }
    };
    put(0, c.year, 4);
    put(5, c.month, 2);
    put(8, c.day, 2);
    put(11, sod / 3600, 2);
    put(14, sod / 60 % 60, 2);
    put(17, sod % 60, 2);
    put(20, micros, 6);
    return std::string(out, sizeof out - 1);
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60),
                static_cast<long long>(micros));
  return buf;
}

bool same_second(Timestamp a, Timestamp b) { return a.seconds() == b.seconds(); }

}  // namespace patrol::model
