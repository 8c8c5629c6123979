// The E2 listing query (contract 6, A10, A11) and the token paths of E3..E5 (contract 3.7, A9).
#include "model/listing.hpp"

#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "model/http_message.hpp"
#include "model/json_read.hpp"

namespace patrol::model {

namespace {

enum class NumberIssue : std::uint8_t { kNone, kNotNumber, kNotInteger, kOutOfRange };

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal number ([+-]digits[.digits][(e|E)[+-]digits]) exactly, without floating point,
// and returns it when it is an integer in int64 range. "2", "2.0", "2e0", "20e-1" are all 2.
std::pair<std::int64_t, NumberIssue> parse_integral_number(std::string_view s) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::size_t int_begin = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  std::string_view int_digits = s.substr(int_begin, i - int_begin);
  if (int_digits.empty()) return {0, NumberIssue::kNotNumber};
  std::string_view frac_digits;
  if (i < s.size() && s[i] == '.') {
    std::size_t frac_begin = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_digits = s.substr(frac_begin, i - frac_begin);
    if (frac_digits.empty()) return {0, NumberIssue::kNotNumber};
  }
  std::int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    std::size_t exp_begin = i;
    constexpr std::int64_t kExponentCap = std::int64_t{1} << 40;  // saturate, never overflow
    while (i < s.size() && is_digit(s[i])) {
      if (exponent < kExponentCap) exponent = exponent * 10 + (s[i] - '0');
      ++i;
    }
    if (i == exp_begin) return {0, NumberIssue::kNotNumber};
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) return {0, NumberIssue::kNotNumber};

  // value = significant * 10^scale, with significant free of leading and trailing zeros.
  std::string significant;
  significant.reserve(int_digits.size() + frac_digits.size());
  significant.append(int_digits).append(frac_digits);
  std::size_t lead = significant.find_first_not_of('0');
  if (lead == std::string::npos) return {0, NumberIssue::kNone};
  significant.erase(0, lead);
  std::size_t last = significant.find_last_not_of('0');
  auto trailing = static_cast<std::int64_t>(significant.size() - last - 1);
  significant.erase(last + 1);
  std::int64_t scale = exponent - static_cast<std::int64_t>(frac_digits.size()) + trailing;
  if (scale < 0) return {0, NumberIssue::kNotInteger};
  // 10^19 exceeds int64, so more than 19 digits in all cannot fit.
  if (static_cast<std::int64_t>(significant.size()) + scale > 19) {
    return {0, NumberIssue::kOutOfRange};
  }
  std::uint64_t magnitude = 0;  // < 10^19 < 2^64: no overflow
  for (char c : significant) magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
  for (std::int64_t k = 0; k < scale; ++k) magnitude *= 10;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > kMax + 1) return {0, NumberIssue::kOutOfRange};
    if (magnitude == kMax + 1)
      return {std::numeric_limits<std::int64_t>::min(), NumberIssue::kNone};
    return {-static_cast<std::int64_t>(magnitude), NumberIssue::kNone};
  }
  if (magnitude > kMax) return {0, NumberIssue::kOutOfRange};
  return {static_cast<std::int64_t>(magnitude), NumberIssue::kNone};
}

Status read_parameter(std::string_view name, const std::string& text, std::int64_t& out) {
  auto [value, issue] = parse_integral_number(text);
  std::string shown = detail::quote_excerpt(text, 32);
  switch (issue) {
    case NumberIssue::kNone:
      out = value;
      return Ok{};
    case NumberIssue::kNotNumber:
      return make_error(ErrorKind::kInvalid,
                        std::string(name) + ": expected a number, got " + shown);
    case NumberIssue::kNotInteger:
      return make_error(ErrorKind::kInvalid,
                        std::string(name) + ": expected an integer, got " + shown);
    case NumberIssue::kOutOfRange:
      return make_error(ErrorKind::kInvalid, std::string(name) + ": out of range, got " + shown);
  }
  return make_error(ErrorKind::kInternal, std::string(name) + ": unreachable");
}

bool is_scheme_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || is_digit(c) || c == '+' || c == '-' || c == '.';
}

// True for "scheme://authority..." with a non-empty authority.
bool is_absolute_url(std::string_view url) {
  std::size_t i = 0;
  while (i < url.size() && is_scheme_char(url[i], i == 0)) ++i;
  if (i == 0 || url.substr(i, 3) != "://") return false;
  std::size_t authority = i + 3;
  return authority < url.size() && url[authority] != '/' && url[authority] != '?' &&
         url[authority] != '#';
}

}  // namespace

bool ListQuery::in_range() const {
  return page >= 1 && page_size >= 1 && page_size <= kMaxPageSize;
}

std::string ListQuery::to_query() const {
  return "page=" + std::to_string(page) + "&page_size=" + std::to_string(page_size);
}

namespace {

// The raw page and page_size values of a query. A repeated parameter takes its last value, as
// Django's QueryDict.get does: an earlier value is never read, so an invalid one does not make
// the query invalid. A '?' inside the query is a byte of a name like any other: the target
// "/v2/access-tokens??page=x" names a parameter "?page", which the server ignores
// (session_fuzzer: the oracle read it as page and wanted a 400).
struct RawListParameters {
  std::optional<std::string> page;
  std::optional<std::string> page_size;
};
RawListParameters raw_list_parameters(std::string_view query) {
  RawListParameters out;
  for (auto& [name, value] : parse_query(query)) {
    if (name == "page") out.page = std::move(value);
    if (name == "page_size") out.page_size = std::move(value);
  }
  return out;
}

}  // namespace

Result<ListQuery> parse_list_query(std::string_view query) {
  const auto [page, page_size] = raw_list_parameters(query);
  ListQuery q;
  if (page) {
    if (Status s = read_parameter("page", *page, q.page); !s.ok()) return s.error();
  }
  if (page_size) {
    if (Status s = read_parameter("page_size", *page_size, q.page_size); !s.ok()) return s.error();
  }
  return q;
}

bool page_past_int64(std::string_view query) {
  const auto [page, page_size] = raw_list_parameters(query);
  if (!page || page->empty() || page->front() == '-') return false;
  if (parse_integral_number(*page).second != NumberIssue::kOutOfRange) return false;
  if (!page_size) return true;
  auto [size, issue] = parse_integral_number(*page_size);
  return issue == NumberIssue::kNone && size >= 1 && size <= kMaxPageSize;
}

Result<ListQuery> parse_page_link(std::string_view url) {
  if (url.empty()) return make_error(ErrorKind::kInvalid, "page link: empty");
  for (std::size_t i = 0; i < url.size(); ++i) {
    auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c == 0x7f) {
      return make_error(ErrorKind::kInvalid,
                        "page link: unexpected character at offset " + std::to_string(i));
    }
  }
  // Absolute ("https://host/v2/...") or a relative reference: "/v2/...", "?page=2", or a relative
  // path whose first segment has no ':' (RFC 3986 4.2) (contract A11).
  bool relative = url.front() == '/' || url.front() == '?';
  if (!relative && !is_absolute_url(url)) {
    auto colon = url.find(':');
    auto slash = url.find_first_of("/?#");
    relative =
        colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon);
  }
  if (!relative && !is_absolute_url(url)) {
    return make_error(ErrorKind::kInvalid, "page link: not an absolute or relative URL");
  }
  std::string_view rest = url.substr(0, url.find('#'));
  auto q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  auto parsed = parse_list_query(query);
  if (!parsed.ok()) {
    return make_error(parsed.error().kind, "page link: " + parsed.error().message);
  }
  return parsed;
}

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

TokenPath parse_token_path(std::string_view path) {
  constexpr std::string_view kCollection = "/v2/access-tokens";
  if (path.substr(0, kCollection.size()) != kCollection) return {};
  std::string_view rest = path.substr(kCollection.size());
  if (rest.empty() || rest == "/") return {TokenRoute::kCollection, {}};
  if (rest.front() != '/') return {};
  std::string_view segment = rest.substr(1);
  if (segment.find('/') != std::string_view::npos) return {};
  // HttpRequest::path is decoded already (by the listener, the transport's caller or the
  // cassette reader): decoding the segment again would turn a literal "%41" into "A".
  return {TokenRoute::kItem, std::string(segment)};
}

}  // namespace patrol::model
