// Sweeping patrol's leftovers from live accounts: a crashed or killed run leaves tokens behind;
// their labels carry a run prefix ("patrol-" + six hex digits + "-"), so a later run (at its
// start, and `patrol sweep`) lists every page of each account and deletes those, and only those,
// through the ownership guard.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/ownership_guard.hpp"
#include "http/transport.hpp"
#include "model/fixture.hpp"
#include "model/rfc3339.hpp"

namespace patrol::app {

// The label prefix of one run: "patrol-" + six lowercase hex digits + "-".
std::string make_run_prefix(std::uint64_t seed);

// True when a label starts like a run prefix made by make_run_prefix (any run's).
bool is_patrol_label(std::string_view label);

struct SweepOptions {
  // Which labels are patrol's; default: is_patrol_label (the leftovers of any run).
  std::function<bool(std::string_view label)> match = is_patrol_label;
  std::optional<std::int64_t> older_than_s;  // only tokens created at least this long ago
  bool dry_run = false;                      // list, delete nothing
};

struct SweptToken {
  std::string account;
  std::string uuid;
  std::string label;
  std::string created_at;
  bool deleted = false;  // false under dry_run, or when the DELETE failed (see error)
  std::string error;
};

struct SweepReport {
  std::vector<SweptToken> tokens;   // patrol's tokens found (deleted unless dry_run)
  std::size_t others = 0;           // tokens seen and left alone
  std::vector<std::string> errors;  // accounts that could not be listed, with the reason
};

// Signs each fixture account in with its password, lists every page of its tokens through
// `transport` (the rate-limit policy), and deletes the matching ones through `guard` after
// adopting them. A transport failure of the first request is returned as an error (unreachable);
// later problems are reported per account and token.
model::Result<SweepReport> sweep(http::Transport& transport, http::OwnershipGuard& guard,
                                 const model::Fixture& fixture, const SweepOptions& options,
                                 model::Timestamp now);

}  // namespace patrol::app
