// The listing query of E2 (contract 6) and the uuid path parameter of E3..E5 (contract 3.7).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace patrol::model {

inline constexpr std::int64_t kDefaultPage = 1;
inline constexpr std::int64_t kDefaultPageSize = 10;
inline constexpr std::int64_t kMaxPageSize = 100;

struct ListQuery {
  std::int64_t page = kDefaultPage;
  std::int64_t page_size = kDefaultPageSize;

  // True when page >= 1 and 1 <= page_size <= 100 (contract 6).
  bool in_range() const;
  // Returns "page=N&page_size=M".
  std::string to_query() const;
  bool operator==(const ListQuery&) const = default;
};

// Parses a raw query string (what follows the target's first '?'; a further '?' belongs to the
// first name, as Django reads it). `page` and `page_size` are numbers: "2", "2.0" and "2e0" are 2;
// "2.5", "abc", "" are kInvalid naming the parameter. Missing parameters take their defaults;
// other parameters are ignored. Range is not checked here (see ListQuery::in_range).
Result<ListQuery> parse_list_query(std::string_view query);

// True when the query's page is a positive integer too large for int64 ("page=4444...41") and its
// page_size, if any, is in range: such a page is past the end of every listing, so a 404 for it
// is the past-the-end answer (parse_list_query calls it out of range).
bool page_past_int64(std::string_view query);

// Reads page and page_size back from a next/previous link, absolute ("https://h/v2/...?page=2")
// or relative ("/v2/...?page=2" or "?page=2") (A11).
Result<ListQuery> parse_page_link(std::string_view url);

// True for a canonical lower-case 8-4-4-4-12 hex uuid.
bool is_canonical_uuid(std::string_view text);

// Which token route a path names.
enum class TokenRoute : std::uint8_t { kCollection, kItem, kOther };

struct TokenPath {
  TokenRoute route = TokenRoute::kOther;
  std::string uuid;  // the raw, percent-decoded {uuid} segment for kItem (may be malformed)
};

// Classifies "/v2/access-tokens" (optionally with one trailing slash, A9) and
// "/v2/access-tokens/{segment}". `path` is decoded (HttpRequest::path); the segment is returned
// as it stands.
TokenPath parse_token_path(std::string_view path);

}  // namespace patrol::model
