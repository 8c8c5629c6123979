// Equality of the contract types that carry decoder bookkeeping (`tolerated`), which is not part
// of the value.
#include "model/types.hpp"

#include <tuple>

namespace patrol::model {

bool AccessToken::operator==(const AccessToken& o) const {
  return std::tie(uuid, client_id, creator_ip, creator_ua, created_at, last_used, generated_by,
                  is_active, token, token_label, scopes, expires_at,
                  extra) == std::tie(o.uuid, o.client_id, o.creator_ip, o.creator_ua, o.created_at,
                                     o.last_used, o.generated_by, o.is_active, o.token,
                                     o.token_label, o.scopes, o.expires_at, o.extra);
}

bool TokenPage::operator==(const TokenPage& o) const {
  return std::tie(count, next, previous, active_count, results, extra) ==
         std::tie(o.count, o.next, o.previous, o.active_count, o.results, o.extra);
}

bool HubError::operator==(const HubError& o) const {
  return std::tie(message, detail, text, errinfo, extra) ==
         std::tie(o.message, o.detail, o.text, o.errinfo, o.extra);
}

}  // namespace patrol::model
