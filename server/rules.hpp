// The reference server's own reading of the contract rules: scope levels, label length, listing
// parameters and pages, uuids and registry grants. Written independently of model/ (which holds
// the checker's version of the same rules) so that the two implementations check each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace patrol::server {

// Permission levels of a PAT, weakest first (contract 3.3).
enum class Level : std::uint8_t { kPublicRead = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

// Reads "repo:public_read" .. "repo:admin"; anything else is nullopt.
std::optional<Level> level_from_name(std::string_view name);

// Returns the wire name of a level.
std::string_view level_name(Level level);

// Counts the code points of well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values
// above U+10FFFF); nullopt for anything else.
std::optional<std::size_t> utf8_length(std::string_view text);

// How a label check counts; the faithful rule is characters with bounds 1..100 (contract 3.2).
struct LabelRule {
  bool count_bytes = false;
  std::size_t min_length = 1;
  std::size_t max_length = 100;
};

// Returns an error sentence for a bad label, or nullopt when the label is acceptable.
std::optional<std::string> label_problem(std::string_view label, const LabelRule& rule = {});

// One parsed listing parameter: a number that must denote an integer (contract 6, "2.0" is 2).
struct PageParam {
  bool ok = false;
  std::int64_t value = 0;  // saturated to +-INT64_MAX for huge magnitudes
  std::string problem;     // why it was refused, when !ok
};

// Reads a page or page_size value with JSON number syntax; fractions and other text are refused.
PageParam parse_page_param(std::string_view text);

// One page of a listing of `total` items.
struct PageWindow {
  std::size_t first = 0;  // index of the first item on the page
  std::size_t size = 0;   // number of items on the page
  bool has_next = false;
  bool has_previous = false;
};

// Places page `page` of size `page_size` over `total` items; nullopt when the page lies past the
// end. Page 1 of an empty listing exists and is empty. Requires page >= 1 and page_size >= 1.
std::optional<PageWindow> page_window(std::int64_t page, std::int64_t page_size, std::size_t total);

// True for a canonical lower-case 8-4-4-4-12 hexadecimal uuid (contract 3.7).
bool is_uuid(std::string_view text);

// Registry actions as a bit set, in their canonical order pull, push, delete.
inline constexpr unsigned kPull = 1u;
inline constexpr unsigned kPush = 2u;
inline constexpr unsigned kDelete = 4u;
inline constexpr unsigned kAllActions = kPull | kPush | kDelete;

// Reads "pull", "push", "delete" or "*" (all); other names are 0.
unsigned action_from_name(std::string_view name);

// Lists the names of the set bits in canonical order.
std::vector<std::string> action_names(unsigned actions);

// Who asks the registry token service for a grant.
struct Grantee {
  enum class Kind : std::uint8_t { kAnonymous, kPassword, kPat };
  Kind kind = Kind::kAnonymous;
  std::string account;               // empty for anonymous
  Level level = Level::kPublicRead;  // the PAT's effective level, for kPat
};

// Adjustments that the fault catalogue makes to the grant table.
struct GrantDefects {
  bool public_read_pulls_private = false;
  bool write_grants_delete = false;
  bool admin_lacks_delete = false;
  bool other_private_pullable = false;
  bool anonymous_pulls_private = false;
};

// The actions the table of contract 5 allows a grantee on a repository.
unsigned allowed_actions(const Grantee& who, std::string_view repo_owner, bool repo_is_private,
                         const GrantDefects& defects = {});

}  // namespace patrol::server
