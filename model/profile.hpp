// Profiles: the oracle's accept set as data (CONTRACT.md, "profiles"). Each member settles one
// ambiguity of REFERENCE-NOTES.md (A1..A26) or one tolerance; `hub` is what the live Docker Hub is
// observed to do, `spec` reads the OpenAPI document strictly. A user tightens or loosens one point
// by changing one member, without touching the oracle.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::model {

// What `token` may hold on E2/E3/E4 responses (contract 2, A1). The secret itself is always a
// violation (contract 3.1).
enum class ReadToken : std::uint8_t {
  kAnyString,    // any string that is not a secret
  kEmptyOrStars  // exactly "" or "***"
};

// How `expires_at` may look when the token was created without one (contract 2, A2).
enum class UnsetExpiry : std::uint8_t { kAbsentOrNull, kNullOnly, kAbsentOnly };

// Which error-body schema 4xx responses follow (contract 7, A3, A4).
enum class ErrorBodies : std::uint8_t {
  kHub,  // any JSON object with a string message, detail or text; errinfo object or null
  kSpec  // 400: {fields: object, text: string}; 401/403/404: {detail: string, message: string}
};

// How the 201 may return the requested scopes (contract 3.3, A12).
enum class ScopeEcho : std::uint8_t { kEchoOrNormalised, kEchoOnly, kNormalisedOnly };

// What E4 may do with `scopes` / `expires_at` in its body (contract 3.5, A15).
enum class PatchExtras : std::uint8_t { kIgnoredOr400, kIgnoredOnly, k400Only };

// How an account with a second factor may fare when it authenticates with its password on
// /v2/auth/token and the registry (A23).
enum class TwoFactorPassword : std::uint8_t { kEither, kRefused, kAccepted };

struct Profile {
  std::string name;

  // A1: `token` on reads.
  ReadToken read_token = ReadToken::kAnyString;
  // A1: whether `token` may be absent on reads.
  bool read_token_may_be_absent = true;
  // A2: `expires_at` of a token created without one.
  UnsetExpiry unset_expiry = UnsetExpiry::kAbsentOrNull;
  // A3/A4 (contract 7): error-body schema.
  ErrorBodies error_bodies = ErrorBodies::kHub;
  // A5/A17 (contract 4): a PAT-derived JWT on E1..E5 may get 401 instead of 403.
  bool pat_jwt_may_get_401 = false;
  // A5: E1 may answer 403 (plan gating: "not allowed to create a scoped personal access token").
  bool create_may_be_plan_gated = false;
  // A6: E4 on an unknown well-formed uuid may answer 400 instead of 404.
  bool patch_unknown_may_be_400 = false;
  // A7: E5 may answer any 2xx instead of 204.
  bool delete_any_2xx = false;
  // A8: statuses a malformed uuid may get on E3..E5.
  bool malformed_uuid_may_be_400 = true;
  bool malformed_uuid_may_be_404 = true;
  // A9: the collection path with a trailing slash may answer 404 (otherwise it is an alias).
  bool trailing_slash_may_be_404 = true;
  // A10: out-of-range page/page_size may get a clamped 200 instead of 400.
  bool out_of_range_page_may_clamp = true;
  // Contract 6: a page past the end may be 404, or 200 with empty results.
  bool page_past_end_may_be_404 = true;
  bool page_past_end_may_be_empty = true;
  // A11: next/previous may be relative URLs.
  bool page_links_may_be_relative = true;
  // A12: echo or normalised scopes in the 201.
  ScopeEcho scope_echo = ScopeEcho::kEchoOrNormalised;
  // A14: token objects may lack `scopes`.
  bool scopes_may_be_absent = true;
  // A15: `scopes`/`expires_at` in a PATCH body.
  PatchExtras patch_extras = PatchExtras::kIgnoredOr400;
  // A16: an empty PATCH body may get 400 instead of the 200 no-op of contract 3.5.
  bool empty_patch_may_be_400 = false;
  // A18: active_count must equal the active, unexpired tokens (contract 6); when false only
  // 0 <= active_count <= count is required.
  bool active_count_exact = true;
  // A19: required prefix of secrets; empty accepts any non-empty string.
  std::string secret_prefix;
  // A21: a 429 must carry Retry-After or X-Retry-After.
  bool require_retry_after = false;
  // A22: a valid JWT sent with the legacy `JWT` keyword may authenticate (else it must be 401).
  bool jwt_keyword_may_authenticate = true;
  // A23: a second-factor account's password on /v2/auth/token and the registry.
  TwoFactorPassword two_factor_password = TwoFactorPassword::kEither;
  // A25: the returned label may be the requested one with surrounding whitespace trimmed.
  bool label_may_be_trimmed = true;
  // Contract 2: client_id, creator_ip, creator_ua, generated_by may be null.
  bool info_fields_may_be_null = true;
  // Unknown members in E1/E4 request bodies may get 400 (otherwise they are ignored).
  bool unknown_request_members_may_be_400 = true;
  // Contract 3.8: last_used stays null until the token first authenticates.
  bool last_used_null_until_use = true;
  // Contract 3.8: a successful authentication with a PAT makes its last_used non-null.
  bool last_used_set_by_use = true;
  // Contract 1: upper bound of exp - now for /v2/auth/token JWTs ("10 min"); 0 disables.
  std::int64_t auth_token_lifetime_s = 600;
  // Seconds /v2/users/2fa-login must honour a fresh login_2fa_token (later either answer is fine).
  std::int64_t two_factor_window_s = 300;
  // Tolerated difference between the server's clock and the `now` the caller passes, in seconds.
  // Expiry and timestamps within this margin accept either outcome.
  std::int64_t clock_skew_s = 30;

  // The default profile: the live Hub's observed behaviour, lenient where sources disagree.
  static Profile hub();
  // The OpenAPI document read strictly.
  static Profile spec();

  bool operator==(const Profile&) const = default;
};

// Returns "hub" or "spec" profiles by name; other names are kInvalid listing the known ones.
Result<Profile> profile_by_name(std::string_view name);

// Applies member overrides from a JSON object ({"read_token": "empty_or_stars",
// "clock_skew_s": 0, ...}); unknown members and wrong types are errors naming the member.
Result<Profile> apply_profile_overrides(Profile base, const Json& overrides);

// Describes every member as (name, value) pairs, in declaration order, for reports.
std::vector<std::pair<std::string, std::string>> describe_profile(const Profile& profile);

}  // namespace patrol::model
