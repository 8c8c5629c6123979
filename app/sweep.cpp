#include "app/sweep.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "properties/commands.hpp"

namespace patrol::app {

using model::ErrorKind;
using model::make_error;
using model::Result;

namespace {

constexpr std::string_view kRunPrefixHead = "patrol-";
constexpr int kPageSize = 100;   // the largest page contract 6 allows
constexpr int kMaxPages = 1000;  // 100,000 tokens: far beyond any real account

struct Listed {
  std::string uuid, label, created_at;
};

// Every token of the account, page by page, with the session JWT `bearer` (contract 6).
Result<std::vector<Listed>> list_all(http::Transport& transport, const std::string& bearer) {
  std::vector<Listed> out;
  for (int page = 1; page <= kMaxPages; ++page) {
    auto req = properties::json_request("GET", "/v2/access-tokens", bearer, "");
    req.query = "page=" + std::to_string(page) + "&page_size=" + std::to_string(kPageSize);
    auto res = transport.send(req);
    if (!res.ok()) return res.error();
    // A page past the end: 404 (Django REST style) or an empty 200 (contract 6, A11).
    if (res->status == 404 && page > 1) break;
    if (res->status != 200) {
      return make_error(ErrorKind::kInvalid, "listing page " + std::to_string(page) + " answered " +
                                                 std::to_string(res->status));
    }
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("results") || !body["results"].is_array()) {
      return make_error(ErrorKind::kInvalid,
                        "listing page " + std::to_string(page) + " has no results array");
    }
    for (const auto& t : body["results"]) {
      if (!t.is_object() || !t.contains("uuid") || !t["uuid"].is_string()) continue;
      Listed l;
      l.uuid = t["uuid"].get<std::string>();
      if (t.contains("token_label") && t["token_label"].is_string()) {
        l.label = t["token_label"].get<std::string>();
      }
      if (t.contains("created_at") && t["created_at"].is_string()) {
        l.created_at = t["created_at"].get<std::string>();
      }
      out.push_back(std::move(l));
    }
    const bool more = body.contains("next") && body["next"].is_string();
    if (!more || body["results"].empty()) break;
  }
  return out;
}

}  // namespace

std::string make_run_prefix(std::uint64_t seed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "patrol-%06llx-",
                static_cast<unsigned long long>(seed & 0xFFFFFF));
  return buf;
}

bool is_patrol_label(std::string_view label) {
  if (label.substr(0, kRunPrefixHead.size()) != kRunPrefixHead) return false;
  label.remove_prefix(kRunPrefixHead.size());
  if (label.size() < 7 || label[6] != '-') return false;
  for (char c : label.substr(0, 6)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<SweepReport> sweep(http::Transport& transport, http::OwnershipGuard& guard,
                          const model::Fixture& fixture, const SweepOptions& options,
                          model::Timestamp now) {
  SweepReport report;
  bool reached = false;
  for (const auto& account : fixture.accounts) {
    nlohmann::json login = {{"identifier", account.username}, {"secret", account.password}};
    auto res = transport.send(properties::json_request("POST", "/v2/auth/token", "", login.dump()));
    if (!res.ok()) {
      if (!reached) return res.error();
      report.errors.push_back(account.username + ": " + res.error().message);
      continue;
    }
    reached = true;
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || !body.is_object() || !body.contains("access_token") ||
        !body["access_token"].is_string()) {
      report.errors.push_back(account.username + ": sign-in answered " +
                              std::to_string(res->status));
      continue;
    }
    const std::string bearer = body["access_token"].get<std::string>();
    auto tokens = list_all(transport, bearer);
    if (!tokens.ok()) {
      report.errors.push_back(account.username + ": " + tokens.error().message);
      continue;
    }
    for (const auto& t : *tokens) {
      bool ours = options.match(t.label);
      if (ours && options.older_than_s) {
        // A token whose age cannot be told is not old enough.
        auto created = model::parse_rfc3339(t.created_at);
        ours = created.ok() && now.micros - created->micros >= *options.older_than_s * 1'000'000;
      }
      if (!ours) {
        ++report.others;
        continue;
      }
      SweptToken s{account.username, t.uuid, t.label, t.created_at, false, ""};
      if (!options.dry_run) {
        guard.adopt(t.uuid);
        auto del = guard.send(
            properties::json_request("DELETE", "/v2/access-tokens/" + t.uuid, bearer, ""));
        if (!del.ok()) {
          s.error = del.error().message;
        } else if (del->status == 204 || del->status == 404) {
          s.deleted = true;  // 404: gone already
        } else {
          s.error = "DELETE answered " + std::to_string(del->status);
        }
      }
      report.tokens.push_back(std::move(s));
    }
  }
  return report;
}

}  // namespace patrol::app
