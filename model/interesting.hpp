// Generator-facing queries (issue 3): from a model state, the values that make a request
// meaningful now - live, deleted, expired and other accounts' uuids, JWTs by kind, secrets by
// the state of their token - so property sequences reach interesting states instead of random
// 404s. Expiry here is plain `expires_at <= now`; the oracle applies the clock skew.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/state.hpp"

namespace patrol::model {

// Uuids of the account's tokens that are not deleted (expired ones included).
std::vector<std::string> live_uuids(const ModelState& state, std::string_view account);
// Uuids of the account's live tokens that are active and unexpired at `now`.
std::vector<std::string> usable_uuids(const ModelState& state, std::string_view account,
                                      Timestamp now);
// Uuids of the account's live tokens that are inactive.
std::vector<std::string> inactive_uuids(const ModelState& state, std::string_view account);
// Uuids of the account's deleted tokens.
std::vector<std::string> deleted_uuids(const ModelState& state, std::string_view account);
// Uuids of the account's live tokens whose expires_at is not after `now`.
std::vector<std::string> expired_uuids(const ModelState& state, std::string_view account,
                                       Timestamp now);
// Uuids of every other account's live tokens.
std::vector<std::string> other_accounts_uuids(const ModelState& state, std::string_view account);

// Session JWTs of the account not expired at `now`.
std::vector<std::string> session_jwts(const ModelState& state, std::string_view account,
                                      Timestamp now);
// PAT-derived JWTs of the account not expired at `now`.
std::vector<std::string> pat_jwts(const ModelState& state, std::string_view account, Timestamp now);
// JWTs of any account and kind whose exp is not after `now`.
std::vector<std::string> expired_jwts(const ModelState& state, Timestamp now);

// The state of a secret's token, for choosing credentials (contract 3.8, 5).
enum class SecretState : std::uint8_t { kUsable, kInactive, kExpired, kDeleted };

// Secrets of the account's tokens in the given state at `now`.
std::vector<std::string> secrets_in_state(const ModelState& state, std::string_view account,
                                          SecretState which, Timestamp now);

// Everything above for one account, in one pass.
struct Interesting {
  std::vector<std::string> live;
  std::vector<std::string> usable;
  std::vector<std::string> inactive;
  std::vector<std::string> deleted;
  std::vector<std::string> expired;
  std::vector<std::string> others;
  std::vector<std::string> session_jwts;
  std::vector<std::string> pat_jwts;
  std::vector<std::string> expired_jwts;
  std::vector<std::string> usable_secrets;
  std::vector<std::string> inactive_secrets;
  std::vector<std::string> expired_secrets;
  std::vector<std::string> deleted_secrets;
};

// Collects the interesting values for `account` at `now`.
Interesting interesting(const ModelState& state, std::string_view account, Timestamp now);

}  // namespace patrol::model
