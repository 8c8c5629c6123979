#include "tests/oracle/honest_server.hpp"

#include "model/jwt.hpp"
#include "model/listing.hpp"
#include "model/scope.hpp"
#include "model/utf8.hpp"

namespace patrol::oracle_test {

using nlohmann::json;

namespace {

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

const char* scope_rank[] = {"repo:public_read", "repo:read", "repo:write", "repo:admin"};

int rank_of(const std::string& s) {
  for (int i = 0; i < 4; ++i) {
    if (s == scope_rank[i]) return i;
  }
  return -1;
}

std::optional<std::string> bearer(const HttpRequest& r) {
  auto h = r.headers.get("Authorization");
  if (!h || h->rfind("Bearer ", 0) != 0) return std::nullopt;
  return h->substr(7);
}

}  // namespace

HttpResponse HonestServer::reply(int status, const nlohmann::json& body) const {
  HttpResponse r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = body.dump();
  return r;
}

HttpResponse HonestServer::error(int status, const std::string& message) const {
  if (!spec_errors_) return reply(status, {{"message", message}, {"errinfo", json::object()}});
  if (status == 400) return reply(status, {{"fields", json::object()}, {"text", message}});
  return reply(status, {{"detail", message}, {"message", message}});
}

std::string HonestServer::next_hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) {
    std::uint64_t v = splitmix(++counter_);
    for (int i = 0; i < 16 && out.size() < n; ++i, v >>= 4) out.push_back(kHex[v & 15]);
  }
  return out;
}

json HonestServer::token_json(const Token& t, bool with_secret) const {
  json j = {
      {"uuid", t.uuid},
      {"client_id", "HUB"},
      {"creator_ip", "127.0.0.1"},
      {"creator_ua", t.ua},
      {"created_at", model::format_rfc3339(t.created_at)},
      {"last_used", t.last_used ? json(model::format_rfc3339(*t.last_used)) : json(nullptr)},
      {"generated_by", "manual"},
      {"is_active", t.active},
      {"token", with_secret ? t.secret : ""},
      {"token_label", t.label},
      {"scopes", json::array({t.scope})},
      {"expires_at", t.expires_at ? json(model::format_rfc3339(*t.expires_at)) : json(nullptr)}};
  return j;
}

std::string HonestServer::issue_jwt(const std::string& account, const Token* pat, Timestamp now,
                                    std::int64_t lifetime, json extra) {
  json claims = {{"iss", "honest"},
                 {"sub", account},
                 {"username", account},
                 {"iat", now.seconds()},
                 {"exp", now.seconds() + lifetime},
                 {"jti", next_hex(16)}};
  if (pat) claims["scope"] = pat->scope;
  for (auto it = extra.begin(); it != extra.end(); ++it) claims[it.key()] = it.value();
  const std::string jwt = model::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                          model::base64url_encode(claims.dump()) + "." +
                          model::base64url_encode("sig" + next_hex(8));
  if (!extra.contains("access")) {
    sessions_[jwt] = Session{account, pat ? std::optional<std::string>(pat->uuid) : std::nullopt,
                             now.seconds() + lifetime};
  }
  return jwt;
}

HonestServer::Token* HonestServer::find_token(const std::string& uuid) {
  auto it = by_uuid_.find(uuid);
  return it == by_uuid_.end() ? nullptr : &tokens_[it->second];
}

HonestServer::Token* HonestServer::find_secret(const std::string& secret) {
  auto it = by_secret_.find(secret);
  return it == by_secret_.end() ? nullptr : &tokens_[it->second];
}

bool HonestServer::usable(const Token& t, Timestamp now) const {
  return !t.deleted && t.active && !(t.expires_at && *t.expires_at <= now);
}

HttpResponse HonestServer::handle(const HttpRequest& r, Timestamp now) {
  if (r.path.rfind("/v2/access-tokens", 0) == 0) return tokens(r, now);
  if (r.path == "/v2/auth/token" && r.method == "POST") return auth_token(r, now);
  if (r.path == "/v2/users/login" && r.method == "POST") return login(r, now);
  if (r.path == "/v2/users/2fa-login" && r.method == "POST") return two_factor(r, now);
  if (r.path == "/token" && r.method == "GET") return registry(r, now);
  return error(404, "not found");
}

HttpResponse HonestServer::tokens(const HttpRequest& r, Timestamp now) {
  const model::TokenPath tp = model::parse_token_path(r.path);
  if (tp.route == model::TokenRoute::kOther) return error(404, "not found");
  const auto b = bearer(r);
  if (!b) return error(401, "unauthorized");
  auto s = sessions_.find(*b);
  if (s == sessions_.end() || s->second.exp <= now.seconds()) return error(401, "unauthorized");
  if (s->second.pat_uuid)
    return error(403, "token issued from personal access token is not allowed");
  const std::string me = s->second.account;

  if (tp.route == model::TokenRoute::kCollection) {
    if (r.method == "POST") {
      const json body = json::parse(r.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return error(400, "invalid body");
      if (!body.contains("token_label") || !body["token_label"].is_string()) {
        return error(400, "token_label required");
      }
      const std::string label = body["token_label"].get<std::string>();
      const auto cps = model::utf8_code_points(label);
      if (!cps.ok() || *cps < 1 || *cps > model::kMaxLabelCodePoints) {
        return error(400, "token_label must be 1..100 characters");
      }
      if (!body.contains("scopes") || !body["scopes"].is_array() || body["scopes"].empty()) {
        return error(400, "scopes required");
      }
      int best = -1;
      for (const auto& sc : body["scopes"]) {
        const int k = sc.is_string() ? rank_of(sc.get<std::string>()) : -1;
        if (k < 0) return error(400, "unknown scope");
        best = std::max(best, k);
      }
      Token t;
      if (body.contains("expires_at") && !body["expires_at"].is_null()) {
        if (!body["expires_at"].is_string()) return error(400, "expires_at must be a string");
        const auto e = model::parse_rfc3339(body["expires_at"].get<std::string>());
        if (!e.ok()) return error(400, "expires_at must be RFC 3339");
        if (*e <= now) return error(400, "expires_at is in the past");
        t.expires_at = *e;
      }
      const std::string h = next_hex(32);
      t.uuid = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
               h.substr(16, 4) + "-" + h.substr(20, 12);
      static constexpr char kUrlSafe[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      t.secret = "dckr_pat_";
      const std::uint64_t seed = splitmix(++counter_);
      std::uint64_t v = 0;
      for (int i = 0; i < 27; ++i) {
        if (i % 10 == 0) v = splitmix(seed ^ (static_cast<std::uint64_t>(i) << 56));
        t.secret.push_back(kUrlSafe[v & 63]);
        v >>= 6;
      }
      t.owner = me;
      t.label = label;
      t.scope = scope_rank[best];
      t.ua = r.headers.get("User-Agent").value_or("");
      t.created_at = now;
      by_uuid_[t.uuid] = tokens_.size();
      by_secret_[t.secret] = tokens_.size();
      tokens_.push_back(t);
      return reply(201, token_json(t, true));
    }
    if (r.method == "GET") {
      const auto q = model::parse_list_query(r.query);
      if (!q.ok() || !q->in_range()) return error(400, "invalid page or page_size");
      std::vector<const Token*> mine;
      std::int64_t active = 0;
      for (const auto& t : tokens_) {
        if (t.owner != me || t.deleted) continue;
        mine.push_back(&t);
        if (t.active && !(t.expires_at && *t.expires_at <= now)) ++active;
      }
      const auto count = static_cast<std::int64_t>(mine.size());
      const std::int64_t start = (q->page - 1) * q->page_size;
      if (q->page > 1 && start >= count) return error(404, "invalid page");
      json results = json::array();
      for (std::int64_t i = start; i < count && i < start + q->page_size; ++i) {
        results.push_back(token_json(*mine[static_cast<std::size_t>(i)], false));
      }
      auto link = [&](std::int64_t page) {
        return "http://127.0.0.1/v2/access-tokens?page=" + std::to_string(page) +
               "&page_size=" + std::to_string(q->page_size);
      };
      return reply(200, {{"count", count},
                         {"next", start + q->page_size < count ? json(link(q->page + 1)) : json()},
                         {"previous", q->page > 1 ? json(link(q->page - 1)) : json()},
                         {"active_count", active},
                         {"results", results}});
    }
    return error(405, "method not allowed");
  }

  if (r.method != "GET" && r.method != "PATCH" && r.method != "DELETE") {
    return error(405, "method not allowed");
  }
  if (!model::is_canonical_uuid(tp.uuid)) return error(404, "not found");
  Token* t = find_token(tp.uuid);
  if (!t || t->deleted || t->owner != me) return error(404, "not found");
  if (r.method == "GET") return reply(200, token_json(*t, false));
  if (r.method == "DELETE") {
    t->deleted = true;
    HttpResponse resp;
    resp.status = 204;
    return resp;
  }
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(400, "invalid body");
  std::optional<std::string> label;
  std::optional<bool> active;
  if (body.contains("token_label")) {
    if (!body["token_label"].is_string()) return error(400, "token_label must be a string");
    label = body["token_label"].get<std::string>();
    const auto cps = model::utf8_code_points(*label);
    if (!cps.ok() || *cps < 1 || *cps > model::kMaxLabelCodePoints) {
      return error(400, "token_label must be 1..100 characters");
    }
  }
  if (body.contains("is_active")) {
    if (!body["is_active"].is_boolean()) return error(400, "is_active must be a boolean");
    active = body["is_active"].get<bool>();
  }
  if (t->expires_at && *t->expires_at <= now) return error(400, "token expired");
  if (label) t->label = *label;
  if (active) t->active = *active;
  return reply(200, token_json(*t, false));
}

HttpResponse HonestServer::auth_token(const HttpRequest& r, Timestamp now) {
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("identifier") ||
      !body.contains("secret") || !body["identifier"].is_string() || !body["secret"].is_string()) {
    return error(400, "identifier and secret required");
  }
  const std::string id = body["identifier"].get<std::string>();
  const std::string secret = body["secret"].get<std::string>();
  const model::FixtureAccount* a = fixture_.find_account(id);
  if (!a) return error(401, "unauthorized");
  if (secret == a->password) {
    if (a->second_factor_code) return error(401, "second factor required");
    return reply(200, {{"access_token", issue_jwt(id, nullptr, now, 600)}});
  }
  Token* t = find_secret(secret);
  if (!t || t->owner != id || !usable(*t, now)) return error(401, "unauthorized");
  t->last_used = now;
  return reply(200, {{"access_token", issue_jwt(id, t, now, 600)}});
}

HttpResponse HonestServer::login(const HttpRequest& r, Timestamp now) {
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("username") ||
      !body.contains("password") || !body["username"].is_string() ||
      !body["password"].is_string()) {
    return reply(400, {{"detail", "username and password required"}});
  }
  const std::string user = body["username"].get<std::string>();
  const std::string password = body["password"].get<std::string>();
  const model::FixtureAccount* a = fixture_.find_account(user);
  if (a && password == a->password) {
    if (a->second_factor_code) {
      const std::string tf = "2fa-" + next_hex(24);
      two_factor_[tf] = user;
      return reply(401, {{"detail", "Require secondary authentication on MFA enabled account"},
                         {"message", "second factor required"},
                         {"login_2fa_token", tf}});
    }
    return reply(200, {{"token", issue_jwt(user, nullptr, now, 3600)}});
  }
  Token* t = a ? find_secret(password) : nullptr;
  if (!t || t->owner != user || !usable(*t, now)) {
    return reply(401,
                 {{"detail", "Incorrect authentication credentials"}, {"message", "unauthorized"}});
  }
  t->last_used = now;
  return reply(200, {{"token", issue_jwt(user, t, now, 3600)}});
}

HttpResponse HonestServer::two_factor(const HttpRequest& r, Timestamp now) {
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("login_2fa_token") ||
      !body.contains("code") || !body["login_2fa_token"].is_string() || !body["code"].is_string()) {
    return reply(400, {{"detail", "login_2fa_token and code required"}});
  }
  auto it = two_factor_.find(body["login_2fa_token"].get<std::string>());
  if (it == two_factor_.end()) return reply(401, {{"detail", "unknown token"}, {"message", "no"}});
  const model::FixtureAccount* a = fixture_.find_account(it->second);
  if (!a || !a->second_factor_code || body["code"].get<std::string>() != *a->second_factor_code) {
    return reply(401, {{"detail", "wrong code"}, {"message", "no"}});
  }
  const std::string user = it->second;
  two_factor_.erase(it);
  return reply(200, {{"token", issue_jwt(user, nullptr, now, 3600)}});
}

HttpResponse HonestServer::registry(const HttpRequest& r, Timestamp now) {
  std::optional<std::string> user;
  enum { kAnon, kPassword, kPat } kind = kAnon;
  int rank = 3;
  if (auto h = r.headers.get("Authorization")) {
    if (h->rfind("Basic ", 0) != 0) return reply(401, {{"details", "unauthorized"}});
    const auto decoded = model::base64_decode(h->substr(6));
    const std::size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return reply(401, {{"details", "unauthorized"}});
    user = decoded->substr(0, colon);
    const std::string secret = decoded->substr(colon + 1);
    const model::FixtureAccount* a = fixture_.find_account(*user);
    if (!a) return reply(401, {{"details", "unauthorized"}});
    if (secret == a->password) {
      if (a->second_factor_code) return reply(401, {{"details", "use a personal access token"}});
      kind = kPassword;
    } else {
      Token* t = find_secret(secret);
      if (!t || t->owner != *user || !usable(*t, now)) {
        return reply(401, {{"details", "unauthorized"}});
      }
      t->last_used = now;
      kind = kPat;
      rank = rank_of(t->scope);
    }
  }
  json access = json::array();
  for (const auto& [k, v] : model::parse_query(r.query)) {
    if (k != "scope") continue;
    const std::size_t c1 = v.find(':');
    const std::size_t c2 = v.rfind(':');
    if (c1 == std::string::npos || c2 == c1) continue;
    const std::string name = v.substr(c1 + 1, c2 - c1 - 1);
    const model::FixtureRepository* repo = fixture_.find_repository(name);
    if (v.substr(0, c1) != "repository" || !repo) continue;
    const bool own = kind != kAnon && repo->owner == *user;
    json actions = json::array();
    std::string acts = v.substr(c2 + 1);
    std::size_t at = 0;
    while (at <= acts.size()) {
      std::size_t comma = acts.find(',', at);
      if (comma == std::string::npos) comma = acts.size();
      const std::string a = acts.substr(at, comma - at);
      at = comma + 1;
      bool ok = false;
      if (a == "pull") {
        ok = own ? (rank >= 1 || !repo->is_private) : !repo->is_private;
      } else if (a == "push") {
        ok = own && rank >= 2;
      } else if (a == "delete") {
        ok = own && rank >= 3;
      }
      if (ok) actions.push_back(a);
    }
    access.push_back({{"type", "repository"}, {"name", name}, {"actions", actions}});
  }
  const std::string jwt = issue_jwt(user.value_or(""), nullptr, now, 300, {{"access", access}});
  return reply(200, {{"token", jwt},
                     {"access_token", jwt},
                     {"expires_in", 300},
                     {"issued_at", model::format_rfc3339(now)}});
}

}  // namespace patrol::oracle_test
