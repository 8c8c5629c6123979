#include "model/interesting.hpp"

namespace patrol::model {

Interesting interesting(const ModelState& state, std::string_view account, Timestamp now) {
  Interesting out;
  for (std::uint32_t i = 0; i < state.token_count(); ++i) {
    const TokenView t = state.token(i);
    std::string uuid(t.uuid);
    if (t.owner != account) {
      if (!t.deleted) out.others.push_back(std::move(uuid));
      continue;
    }
    std::vector<std::string>* secrets = nullptr;
    if (t.deleted) {
      out.deleted.push_back(uuid);
      secrets = &out.deleted_secrets;
    } else {
      out.live.push_back(uuid);
      if (t.expired_at(now)) {
        out.expired.push_back(uuid);
        secrets = &out.expired_secrets;
      } else if (t.is_active) {
        out.usable.push_back(uuid);
        secrets = &out.usable_secrets;
      } else {
        secrets = &out.inactive_secrets;
      }
      if (!t.is_active) out.inactive.push_back(uuid);
    }
    if (!t.secret.empty()) secrets->emplace_back(t.secret);
  }
  for (std::uint32_t i = 0; i < state.jwt_count(); ++i) {
    const JwtView j = state.jwt(i);
    const bool expired = j.expires_at && *j.expires_at <= now;
    if (expired) {
      out.expired_jwts.emplace_back(j.text);
      continue;
    }
    if (j.account != account) continue;
    if (j.kind == JwtKind::kSession) {
      out.session_jwts.emplace_back(j.text);
    } else {
      out.pat_jwts.emplace_back(j.text);
    }
  }
  return out;
}

std::vector<std::string> live_uuids(const ModelState& state, std::string_view account) {
  return interesting(state, account, Timestamp{}).live;
}

std::vector<std::string> usable_uuids(const ModelState& state, std::string_view account,
                                      Timestamp now) {
  return interesting(state, account, now).usable;
}

std::vector<std::string> inactive_uuids(const ModelState& state, std::string_view account) {
  return interesting(state, account, Timestamp{}).inactive;
}

std::vector<std::string> deleted_uuids(const ModelState& state, std::string_view account) {
  return interesting(state, account, Timestamp{}).deleted;
}

std::vector<std::string> expired_uuids(const ModelState& state, std::string_view account,
                                       Timestamp now) {
  return interesting(state, account, now).expired;
}

std::vector<std::string> other_accounts_uuids(const ModelState& state, std::string_view account) {
  return interesting(state, account, Timestamp{}).others;
}

std::vector<std::string> session_jwts(const ModelState& state, std::string_view account,
                                      Timestamp now) {
  return interesting(state, account, now).session_jwts;
}

std::vector<std::string> pat_jwts(const ModelState& state, std::string_view account,
                                  Timestamp now) {
  return interesting(state, account, now).pat_jwts;
}

std::vector<std::string> expired_jwts(const ModelState& state, Timestamp now) {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < state.jwt_count(); ++i) {
    const JwtView j = state.jwt(i);
    if (j.expires_at && *j.expires_at <= now) out.emplace_back(j.text);
  }
  return out;
}

std::vector<std::string> secrets_in_state(const ModelState& state, std::string_view account,
                                          SecretState which, Timestamp now) {
  Interesting all = interesting(state, account, now);
  switch (which) {
    case SecretState::kUsable:
      return std::move(all.usable_secrets);
    case SecretState::kInactive:
      return std::move(all.inactive_secrets);
    case SecretState::kExpired:
      return std::move(all.expired_secrets);
    case SecretState::kDeleted:
      return std::move(all.deleted_secrets);
  }
  return {};
}

}  // namespace patrol::model
