#include "server/faults.hpp"

#include <algorithm>
#include <array>

namespace patrol::server {
namespace {

constexpr std::array<FaultInfo, kFaultCount> kCatalogue = {{
    {"leak-secret-on-get", "3.1",
     "E3 returns the token's secret in `token` instead of redacting it"},
    {"leak-secret-in-list", "3.1", "E2 results carry every token's secret"},
    {"leak-secret-on-patch", "3.1", "E4's response echoes the token's secret"},
    {"leak-secret-in-error", "3.1",
     "a rejected E4 quotes the stored token, secret included, in its error message"},
    {"leak-secret-in-header", "3.1", "E3 responses carry the secret in an X-Token-Debug header"},
    {"created-inactive", "3.1", "E1 creates tokens with is_active false"},
    {"inactive-token-authenticates", "3.8", "a deactivated token still authenticates (A1, A2, R1)"},
    {"expired-token-authenticates", "3.8", "a token past its expires_at still authenticates"},
    {"deleted-token-authenticates", "3.6",
     "E5 only hides the token: its secret still authenticates"},
    {"deleted-token-readable", "3.6",
     "E3 on a deleted token answers 200 (soft delete not filtered)"},
    {"delete-affects-neighbour", "3.9", "E5 also removes the caller's next older token"},
    {"deactivate-affects-neighbour", "3.9",
     "E4 is_active applies to every caller token with the same label"},
    {"patch-expired-allowed", "3.4", "E4 on an expired token succeeds instead of 400"},
    {"patch-applies-scopes", "3.5", "E4 applies a `scopes` member instead of ignoring it"},
    {"last-used-not-updated", "3.8", "successful authentication leaves last_used null"},
    {"delete-200-with-body", "1", "E5 answers 200 with a JSON body instead of 204"},
    {"label-length-bytes", "3.2",
     "token_label length counted in bytes: 100 multi-byte characters are refused"},
    {"label-off-by-one", "3.2", "a 101-character token_label is accepted"},
    {"empty-label-accepted", "3.2", "an empty token_label is accepted on E1 and E4"},
    {"empty-scopes-accepted", "3.3", "E1 accepts `scopes: []`"},
    {"unknown-scope-accepted", "3.3", "E1 accepts and stores unknown scope strings"},
    {"scope-normalised-to-lowest", "3.3",
     "redundant scopes are normalised to the lowest member instead of the highest"},
    {"past-expiry-accepted", "3.4", "E1 accepts an expires_at in the past"},
    {"expiry-offset-ignored", "2",
     "expires_at offsets are dropped: \"+02:00\" is read as UTC and echoed two hours off"},
    {"pat-jwt-manages-tokens", "4", "a JWT obtained with a PAT may call E1..E5 (should be 403)"},
    {"raw-pat-as-bearer", "4", "a raw PAT is accepted as the bearer on E1..E5 (should be 401)"},
    {"jwt-signature-unchecked", "4", "bearer JWT signatures are not verified"},
    {"expired-session-accepted", "4", "a bearer JWT past its exp is accepted"},
    {"cross-account-read", "4", "E3 returns another account's token"},
    {"forbidden-confirms-existence", "4",
     "another account's uuid answers 403 instead of 404, confirming it exists"},
    {"list-shows-all-accounts", "4", "E2 lists every account's tokens"},
    {"auth-token-ignores-identifier", "4",
     "A1 accepts a PAT under any identifier and issues a JWT for that identifier"},
    {"second-factor-skipped", "4",
     "A2 issues a session to an account with a second factor without the second step"},
    {"auth-token-long-lived", "1", "A1 JWTs live a day instead of 10 minutes"},
    {"pat-jwt-without-scope", "4", "JWTs obtained with a PAT lack the `scope` claim"},
    {"public-read-pulls-private", "5", "repo:public_read grants pull on the owner's private repos"},
    {"write-grants-delete", "5", "repo:write grants delete"},
    {"admin-lacks-delete", "5", "repo:admin is not granted delete (grant narrower than required)"},
    {"other-private-pullable", "5",
     "any signed-in account may pull another account's private repos"},
    {"anonymous-pulls-private", "5", "anonymous requests may pull private repositories"},
    {"page-overlap", "6", "pages after the first start one token early, repeating one"},
    {"next-on-last-page", "6",
     "`next` is not null on the last page when count is a multiple of page_size"},
    {"count-excludes-inactive", "6", "`count` counts only active tokens"},
    {"active-count-includes-expired", "6", "`active_count` counts expired tokens as active"},
    {"page-size-unbounded", "6",
     "page_size above 100 is honoured: one page can hold more than 100 tokens"},
    {"html-500-malformed-uuid", "3.7", "a malformed uuid answers 500 with an HTML page"},
    {"patch-unknown-uuid-500", "3.7", "E4 on an unknown well-formed uuid answers 500"},
    {"error-body-not-json", "7", "401 bodies are plain text, not JSON"},
    {"error-without-message", "7", "400 bodies carry none of message, detail, text"},
    {"retry-after-missing", "1",
     "429 answers lack Retry-After (needs --rate-limit; a violation where the profile requires "
     "it)"},
    {"lost-update-patch", "3.9",
     "E4 writes back a stale copy of the token: concurrent PATCHes lose updates"},
    {"create-visible-before-readable", "8",
     "E1 lists a new token before E3 can read it (non-atomic insert)"},
    {"count-drift", "6",
     "`count` is a counter updated without holding the lock: creates lose increments"},
}};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string_view> words_of(std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('-', start);
    if (end == std::string_view::npos) end = name.size();
    if (end > start) out.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::span<const FaultInfo> fault_catalogue() { return kCatalogue; }

const FaultInfo& fault_info(Fault fault) { return kCatalogue[static_cast<std::size_t>(fault)]; }

std::optional<Fault> find_fault(std::string_view name) {
  for (std::size_t i = 0; i < kCatalogue.size(); ++i) {
    if (kCatalogue[i].name == name) return static_cast<Fault>(i);
  }
  return std::nullopt;
}

std::vector<std::string> near_fault_names(std::string_view name, std::size_t limit) {
  // Score: edit distance, lowered by one per word the two names share (so "leak-secret" finds
  // the leak faults even though it is far from each of them in edit distance).
  struct Scored {
    long score;
    std::string_view name;
  };
  std::vector<Scored> scored;
  auto wanted = words_of(name);
  for (const auto& info : kCatalogue) {
    long shared = 0;
    for (auto w : words_of(info.name)) {
      if (std::find(wanted.begin(), wanted.end(), w) != wanted.end()) ++shared;
    }
    long distance = static_cast<long>(edit_distance(name, info.name));
    long threshold = std::max<long>(3, static_cast<long>(name.size()) / 3);
    if (distance <= threshold || shared > 0) {
      scored.push_back({distance - 4 * shared, info.name});
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == limit) break;
    out.emplace_back(s.name);
  }
  return out;
}

std::vector<std::string> FaultSet::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kFaultCount; ++i) {
    if (bits_.test(i)) out.emplace_back(kCatalogue[i].name);
  }
  return out;
}

model::Result<FaultSet> parse_faults(const std::vector<std::string>& names) {
  FaultSet set;
  for (const auto& name : names) {
    auto fault = find_fault(name);
    if (!fault) {
      std::string message = "unknown fault '" + name + "'";
      auto near = near_fault_names(name);
      if (!near.empty()) {
        message += " (did you mean ";
        for (std::size_t i = 0; i < near.size(); ++i) {
          message += (i == 0 ? "'" : ", '") + near[i] + "'";
        }
        message += "?)";
      }
      message += "; `patrol serve --list-faults` lists them all";
      return model::make_error(model::ErrorKind::kInvalid, message);
    }
    set.add(*fault);
  }
  return set;
}

}  // namespace patrol::server
