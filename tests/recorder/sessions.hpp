// Scripted sessions against the reference server, driven through any transport: the golden
// cassettes in corpora/cassettes/ are these sessions recorded (record_golden.cpp), and the
// integration tests run them through the recording proxy. Each step reacts to what the server
// answered (uuids, secrets, JWTs), like a real client.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "http/transport.hpp"
#include "model/fixture.hpp"
#include "model/jwt.hpp"
#include "model/rfc3339.hpp"
#include "model/types.hpp"

namespace patrol::recorder::testing {

class SessionDriver {
 public:
  SessionDriver(http::Transport& transport, model::Fixture fixture)
      : transport_(transport), fixture_(std::move(fixture)) {}

  // Sends one request; a transport error is recorded and answered with status 0.
  model::HttpResponse send(const std::string& method, const std::string& path,
                           const std::string& query = "", const std::string& body = "",
                           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    model::HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = query;
    r.body = body;
    if (!body.empty()) r.headers.add("Content-Type", "application/json");
    r.headers.add("User-Agent", "patrol-golden/1");
    for (const auto& [k, v] : headers) r.headers.add(k, v);
    auto res = transport_.send(r);
    ++sent_;
    if (!res.ok()) {
      errors_.push_back(method + " " + path + ": " + res.error().message);
      return {};
    }
    return *res;
  }

  static std::string field(const model::HttpResponse& r, const char* name) {
    auto j = model::Json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return {};
    return j[name].get<std::string>();
  }

  const std::string& password(const std::string& user) const {
    return fixture_.find_account(user)->password;
  }

  // A1 with a password or a PAT; returns the access_token ("" on failure).
  std::string auth_token(const std::string& user, const std::string& secret) {
    model::Json body = {{"identifier", user}, {"secret", secret}};
    return field(send("POST", "/v2/auth/token", "", body.dump()), "access_token");
  }

  static std::pair<std::string, std::string> bearer(const std::string& jwt) {
    return {"Authorization", "Bearer " + jwt};
  }
  static std::pair<std::string, std::string> basic(const std::string& user,
                                                   const std::string& secret) {
    return {"Authorization", "Basic " + model::base64_encode(user + ":" + secret)};
  }

  // E1; returns the response.
  model::HttpResponse create(const std::string& jwt, const std::string& label,
                             std::vector<std::string> scopes, const std::string& expires_at = "") {
    model::Json body = {{"token_label", label}, {"scopes", scopes}};
    if (!expires_at.empty()) body["expires_at"] = expires_at;
    return send("POST", "/v2/access-tokens", "", body.dump(), {bearer(jwt)});
  }

  void advance_clock(int seconds) {
    send("POST", "/_patrol/clock", "", model::Json{{"advance_seconds", seconds}}.dump());
  }

  std::size_t sent() const { return sent_; }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  http::Transport& transport_;
  model::Fixture fixture_;
  std::size_t sent_ = 0;
  std::vector<std::string> errors_;
};

// E1..E5 through a token's whole life, and what the token can do at each stage.
inline void tokens_lifecycle(SessionDriver& d) {
  std::string session = d.auth_token("alice", d.password("alice"));
  auto created = d.create(session, "ci runner", {"repo:write", "repo:read"});
  std::string uuid = SessionDriver::field(created, "uuid");
  std::string pat = SessionDriver::field(created, "token");
  d.create(session, "second", {"repo:public_read"});
  d.send("GET", "/v2/access-tokens", "", "", {SessionDriver::bearer(session)});
  d.send("GET", "/v2/access-tokens", "page=1&page_size=1", "", {SessionDriver::bearer(session)});
  d.send("GET", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(session)});
  // The read-modify-reread case: the same GET before and after a PATCH.
  d.send("PATCH", "/v2/access-tokens/" + uuid, "", R"({"token_label":"renamed"})",
         {SessionDriver::bearer(session)});
  d.send("GET", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(session)});
  d.send("PATCH", "/v2/access-tokens/" + uuid, "", "{}", {SessionDriver::bearer(session)});
  std::string pat_jwt = d.auth_token("alice", pat);
  d.send("GET", "/v2/access-tokens", "", "", {SessionDriver::bearer(pat_jwt)});  // 403
  d.send("PATCH", "/v2/access-tokens/" + uuid, "", R"({"is_active":false})",
         {SessionDriver::bearer(session)});
  d.auth_token("alice", pat);  // 401: inactive
  d.send("GET", "/token", "service=registry.docker.io&scope=repository:alice/private-app:pull", "",
         {SessionDriver::basic("alice", pat)});  // 401
  d.send("PATCH", "/v2/access-tokens/" + uuid, "", R"({"is_active":true})",
         {SessionDriver::bearer(session)});
  d.auth_token("alice", pat);  // 200 again
  d.send("DELETE", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(session)});
  d.send("GET", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(session)});     // 404
  d.send("DELETE", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(session)});  // 404
  d.auth_token("alice", pat);  // 401: deleted
  // Another account never sees alice's tokens.
  std::string bob_session;
  {
    auto first = d.send("POST", "/v2/users/login", "",
                        model::Json{{"username", "bob"}, {"password", d.password("bob")}}.dump());
    std::string challenge = SessionDriver::field(first, "login_2fa_token");
    auto second = d.send("POST", "/v2/users/2fa-login", "",
                         model::Json{{"login_2fa_token", challenge}, {"code", "246810"}}.dump());
    bob_session = SessionDriver::field(second, "token");
  }
  d.send("GET", "/v2/access-tokens", "", "", {SessionDriver::bearer(bob_session)});
}

// Authentication routes (A1, A2 with and without a second factor) and the registry token
// service (R1) with passwords, scoped PATs and anonymous callers.
inline void auth_and_registry(SessionDriver& d) {
  d.send("POST", "/v2/users/login", "",
         model::Json{{"username", "alice"}, {"password", d.password("alice")}}.dump());
  d.send("POST", "/v2/users/login", "",
         model::Json{{"username", "alice"}, {"password", "wrong-password"}}.dump());
  d.auth_token("alice", "wrong-password");
  std::string session = d.auth_token("alice", d.password("alice"));
  std::string read_pat = SessionDriver::field(d.create(session, "reader", {"repo:read"}), "token");
  std::string public_pat =
      SessionDriver::field(d.create(session, "public", {"repo:public_read"}), "token");
  const std::string service = "service=registry.docker.io";
  auto scope = [&](const std::string& repo, const std::string& actions) {
    return service + "&scope=repository:" + repo + ":" + actions;
  };
  d.send("GET", "/token", scope("alice/public-app", "pull"));   // anonymous
  d.send("GET", "/token", scope("alice/private-app", "pull"));  // anonymous: nothing
  d.send("GET", "/token", scope("alice/private-app", "pull,push,delete"), "",
         {SessionDriver::basic("alice", d.password("alice"))});
  d.send("GET", "/token", scope("alice/private-app", "pull,push"), "",
         {SessionDriver::basic("alice", read_pat)});
  d.send("GET", "/token", scope("alice/private-app", "pull"), "",
         {SessionDriver::basic("alice", public_pat)});
  d.send("GET", "/token",
         scope("bob/public-lib", "pull,push") + "&scope=repository:bob/private-lib:pull", "",
         {SessionDriver::basic("alice", d.password("alice"))});
  d.send("GET", "/token", scope("alice/public-app", "pull"), "",
         {SessionDriver::basic("alice", "wrong-password")});
  d.auth_token("alice", read_pat);
  // Bob has a second factor: login answers with a challenge first.
  auto first = d.send("POST", "/v2/users/login", "",
                      model::Json{{"username", "bob"}, {"password", d.password("bob")}}.dump());
  std::string challenge = SessionDriver::field(first, "login_2fa_token");
  d.send("POST", "/v2/users/2fa-login", "",
         model::Json{{"login_2fa_token", challenge}, {"code", "000000"}}.dump());
  d.send("POST", "/v2/users/2fa-login", "",
         model::Json{{"login_2fa_token", challenge}, {"code", "246810"}}.dump());
}

// The main error statuses, and expiry driven by the reference server's manual clock.
inline void errors_and_expiry(SessionDriver& d) {
  std::string session = d.auth_token("alice", d.password("alice"));
  auto bearer = SessionDriver::bearer(session);
  d.send("GET", "/v2/access-tokens");                                                   // 401
  d.send("GET", "/v2/access-tokens", "", "", {{"Authorization", "Bearer not-a-jwt"}});  // 401
  d.create(session, "", {"repo:read"});                                                 // 400
  d.create(session, std::string(101, 'x'), {"repo:read"});                              // 400
  d.create(session, "bad scope", {"repo:everything"});                                  // 400
  d.create(session, "no scopes", {});                                                   // 400
  d.create(session, "past", {"repo:read"}, "2001-01-01T00:00:00Z");                     // 400
  d.send("GET", "/v2/access-tokens", "page_size=0", "", {bearer});                      // 400
  d.send("GET", "/v2/access-tokens", "page=2.5", "", {bearer});                         // 400
  d.send("GET", "/v2/access-tokens", "page=99", "", {bearer});  // past the end
  d.send("GET", "/v2/access-tokens/not-a-uuid", "", "", {bearer});
  d.send("GET", "/v2/access-tokens/00000000-0000-4000-8000-000000000000", "", "", {bearer});
  d.send("PUT", "/v2/access-tokens", "", "{}", {bearer});  // wrong method
  // A token that expires two minutes after the server's now, then the clock moves four.
  auto clock = d.send("GET", "/_patrol/clock");
  std::string now = SessionDriver::field(clock, "now");
  auto parsed = model::parse_rfc3339(now);
  std::string in_two_minutes =
      model::format_rfc3339(model::Timestamp{(parsed.ok() ? parsed->micros : 0) + 120'000'000});
  auto created = d.create(session, "short-lived", {"repo:read"}, in_two_minutes);
  std::string uuid = SessionDriver::field(created, "uuid");
  std::string pat = SessionDriver::field(created, "token");
  d.auth_token("alice", pat);  // 200 while valid
  d.advance_clock(240);
  d.auth_token("alice", pat);  // 401: expired
  std::string fresh = d.auth_token("alice", d.password("alice"));
  d.send("GET", "/v2/access-tokens", "", "", {SessionDriver::bearer(fresh)});  // still listed
  d.send("PATCH", "/v2/access-tokens/" + uuid, "", R"({"token_label":"late"})",
         {SessionDriver::bearer(fresh)});  // 400: expired
  d.send("DELETE", "/v2/access-tokens/" + uuid, "", "", {SessionDriver::bearer(fresh)});  // 204
}

struct NamedSession {
  const char* name;  // cassette file stem
  void (*run)(SessionDriver&);
};

inline const std::vector<NamedSession>& golden_sessions() {
  static const std::vector<NamedSession> kSessions = {
      {"tokens_lifecycle", tokens_lifecycle},
      {"auth_and_registry", auth_and_registry},
      {"errors_and_expiry", errors_and_expiry},
  };
  return kSessions;
}

}  // namespace patrol::recorder::testing
