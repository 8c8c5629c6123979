// Test helper: drives a ServerCore in-process with short calls (login, create, list...) and
// reads JSON answers, so that each test states only the exchange it is about.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "model/codec.hpp"
#include "model/http_message.hpp"
#include "model/jwt.hpp"
#include "server/core.hpp"

namespace patrol::server::testing {

using model::HttpRequest;
using model::HttpResponse;
using model::Json;

inline constexpr const char* kAlicePassword = "alice-password-1";
inline constexpr const char* kBobPassword = "bob-password-2";
inline constexpr const char* kBobCode = "246810";

// Builds a core or fails the test.
inline std::unique_ptr<ServerCore> make_core(ServerOptions options = {}) {
  auto core = ServerCore::create(std::move(options));
  if (!core.ok()) {
    ADD_FAILURE() << "ServerCore::create: " << core.error().message;
    return nullptr;
  }
  return std::move(core).value();
}

// Parses a response body as JSON; a non-JSON body parses to a discarded value.
inline Json body_json(const HttpResponse& r) {
  return Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// Reads the claims of a JWT without verifying it.
inline model::JwtClaims claims_of(const std::string& jwt) {
  auto decoded = model::decode_jwt(jwt);
  if (!decoded.ok()) {
    ADD_FAILURE() << "decode_jwt: " << decoded.error().message;
    return {};
  }
  return decoded->claims;
}

// A thin request builder around one core.
class CoreClient {
 public:
  explicit CoreClient(ServerCore& core) : core_(core) {}

  HttpResponse send(std::string method, std::string path, std::string body = "",
                    std::string bearer = "", std::string query = "") {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.query = std::move(query);
    req.body = std::move(body);
    req.peer = "127.0.0.1";
    req.headers.add("User-Agent", "patrol-test/1");
    if (!req.body.empty()) req.headers.add("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.add("Authorization", "Bearer " + bearer);
    return core_.handle(req);
  }

  // A1 with a secret; returns the response.
  HttpResponse auth(const std::string& identifier, const std::string& secret) {
    return send("POST", "/v2/auth/token",
                Json{{"identifier", identifier}, {"secret", secret}}.dump());
  }

  // A session JWT for alice (A1 with her password).
  std::string alice() { return jwt_of(auth("alice", kAlicePassword)); }

  // A session JWT for bob (A2 with his password, then the second step).
  std::string bob() {
    auto first = send("POST", "/v2/users/login",
                      Json{{"username", "bob"}, {"password", kBobPassword}}.dump());
    auto handle = body_json(first).value("login_2fa_token", std::string());
    auto second = send("POST", "/v2/users/2fa-login",
                       Json{{"login_2fa_token", handle}, {"code", kBobCode}}.dump());
    EXPECT_EQ(second.status, 200) << second.body;
    return body_json(second).value("token", std::string());
  }

  // E1; returns the response.
  HttpResponse create(const std::string& session, const Json& body) {
    return send("POST", "/v2/access-tokens", body.dump(), session);
  }

  // E1 with a label and one scope; returns the created token object (with its secret).
  Json create_token(const std::string& session, const std::string& label = "ci",
                    const std::string& scope = "repo:read") {
    auto r = create(session, {{"token_label", label}, {"scopes", {scope}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return body_json(r);
  }

  HttpResponse list(const std::string& session, const std::string& query = "") {
    return send("GET", "/v2/access-tokens", "", session, query);
  }
  HttpResponse get(const std::string& session, const std::string& uuid) {
    return send("GET", "/v2/access-tokens/" + uuid, "", session);
  }
  HttpResponse patch(const std::string& session, const std::string& uuid, const Json& body) {
    return send("PATCH", "/v2/access-tokens/" + uuid, body.dump(), session);
  }
  HttpResponse remove(const std::string& session, const std::string& uuid) {
    return send("DELETE", "/v2/access-tokens/" + uuid, "", session);
  }

  // R1 with optional HTTP Basic credentials and scopes joined as repeated parameters.
  HttpResponse registry(const std::string& user, const std::string& secret,
                        const std::vector<std::string>& scopes) {
    HttpRequest req;
    req.method = "GET";
    req.path = "/token";
    req.query = "service=registry.docker.io";
    for (const auto& s : scopes) req.query += "&scope=" + s;
    req.peer = "127.0.0.1";
    if (!user.empty()) {
      req.headers.add("Authorization", "Basic " + model::base64_encode(user + ":" + secret));
    }
    return core_.handle(req);
  }

  // The actions R1 grants on one repository ("" joined by ','), or "401" / "<status>".
  std::string granted(const std::string& user, const std::string& secret, const std::string& repo,
                      const std::string& actions = "pull,push,delete") {
    auto r = registry(user, secret, {"repository:" + repo + ":" + actions});
    if (r.status != 200) return std::to_string(r.status);
    auto jwt = body_json(r).value("token", std::string());
    auto claims = claims_of(jwt);
    std::string out;
    if (!claims.access) return "no access claim";
    for (const auto& entry : *claims.access) {
      if (entry.name != repo) continue;
      for (const auto& a : entry.actions) out += (out.empty() ? "" : ",") + a;
    }
    return out;
  }

  static std::string jwt_of(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = body_json(r);
    if (j.contains("access_token")) return j["access_token"].get<std::string>();
    return j.value("token", std::string());
  }

 private:
  ServerCore& core_;
};

}  // namespace patrol::server::testing
