// Small builders for the oracle's tests: requests, responses, fake JWTs, and a World that pairs a
// model state with the honest test server so a test reaches a state in a few calls and then
// judges one final exchange (often an honest response with one targeted corruption).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/jwt.hpp"
#include "model/oracle.hpp"
#include "tests/oracle/honest_server.hpp"

namespace patrol::oracle_test {

using model::Fixture;
using model::ModelState;
using model::Profile;
using model::Violation;
using Json = nlohmann::json;

// 2025-06-15T15:06:40Z, a fixed start for every test clock.
inline Timestamp t0() { return Timestamp::from_seconds(1'750'000'000); }

inline std::string show(const std::vector<Violation>& v) {
  std::string out;
  for (const auto& x : v)
    out += "  [" + x.rule + "] " + x.message + "\n    excerpt: " + x.excerpt + "\n";
  return out.empty() ? "  (no violations)\n" : out;
}

inline bool has_rule(const std::vector<Violation>& v, const std::string& rule) {
  for (const auto& x : v) {
    if (x.rule == rule) return true;
  }
  return false;
}

inline HttpRequest request(std::string method, std::string target, std::string body = "",
                           std::string bearer = "") {
  HttpRequest r;
  r.method = std::move(method);
  auto [path, query] = model::split_target(target);
  r.path = path;
  r.query = query;
  r.body = std::move(body);
  if (!bearer.empty()) r.headers.add("Authorization", "Bearer " + bearer);
  if (!r.body.empty()) r.headers.add("Content-Type", "application/json");
  r.headers.add("User-Agent", "patrol-test/1");
  r.peer = "127.0.0.1";
  return r;
}

inline HttpRequest post(const std::string& path, const Json& body, const std::string& bearer = "") {
  return request("POST", path, body.dump(), bearer);
}

inline HttpRequest basic(const std::string& target, const std::string& user,
                         const std::string& secret) {
  HttpRequest r = request("GET", target);
  r.headers.add("Authorization", "Basic " + model::base64_encode(user + ":" + secret));
  return r;
}

inline HttpResponse response(int status, const std::string& body = "") {
  HttpResponse r;
  r.status = status;
  r.body = body;
  if (!body.empty()) r.headers.add("Content-Type", "application/json");
  return r;
}

inline HttpResponse response(int status, const Json& body) { return response(status, body.dump()); }

inline HttpResponse response(int status, const char* body) {
  return response(status, std::string(body));
}

inline std::string fake_jwt(const Json& claims, const std::string& signature = "c2ln") {
  return model::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         model::base64url_encode(claims.dump()) + "." + signature;
}

// Rewrites a JSON response body.
inline HttpResponse mutate(HttpResponse r, const std::function<void(Json&)>& f) {
  Json j = Json::parse(r.body);
  f(j);
  r.body = j.dump();
  return r;
}

inline const std::string kRegistry = "/token?service=registry.docker.io";

// A model state, the honest server, a profile and a clock advanced by hand.
struct World {
  ModelState state{model::default_fixture()};
  HonestServer server{model::default_fixture()};
  Profile profile = Profile::hub();
  Timestamp now = t0();

  explicit World(Profile p = Profile::hub(), bool spec_errors = false)
      : server(model::default_fixture(), spec_errors), profile(std::move(p)) {}

  // Switches to the spec profile, with spec-shaped error bodies from the server.
  void spec() {
    profile = Profile::spec();
    server.set_spec_errors(true);
  }

  void advance(std::int64_t seconds) { now.micros += seconds * 1'000'000; }

  // Judges an exchange on the state and returns its violations.
  std::vector<Violation> judge(const HttpRequest& req, const HttpResponse& resp) {
    return model::judge_in_place(state, req, resp, now, profile);
  }

  // Sends a setup request to the honest server; the oracle must accept the exchange.
  HttpResponse call(const HttpRequest& req) {
    HttpResponse resp = server.handle(req, now);
    const auto v = judge(req, resp);
    if (!v.empty()) {
      ADD_FAILURE() << "setup exchange " << req.target_line() << " -> " << resp.status
                    << " was not accepted:\n"
                    << show(v);
    }
    return resp;
  }

  // The honest answer to `req` (server state advances; the model does not).
  HttpResponse honest(const HttpRequest& req) { return server.handle(req, now); }

  std::string login(const std::string& user) {
    const std::string password =
        state.fixture().find_account(user) ? state.fixture().find_account(user)->password : "";
    if (user == "bob") {
      auto r = call(post("/v2/users/login", {{"username", user}, {"password", password}}));
      const std::string tf = Json::parse(r.body).at("login_2fa_token").get<std::string>();
      auto r2 = call(post("/v2/users/2fa-login", {{"login_2fa_token", tf}, {"code", "246810"}}));
      return Json::parse(r2.body).at("token").get<std::string>();
    }
    auto r = call(post("/v2/auth/token", {{"identifier", user}, {"secret", password}}));
    return Json::parse(r.body).at("access_token").get<std::string>();
  }

  std::string pat_jwt(const std::string& user, const std::string& secret) {
    auto r = call(post("/v2/auth/token", {{"identifier", user}, {"secret", secret}}));
    return Json::parse(r.body).at("access_token").get<std::string>();
  }

  struct Created {
    std::string uuid;
    std::string secret;
  };

  static Json create_body(const std::string& label, const Json& scopes,
                          const std::optional<Timestamp>& expires = std::nullopt) {
    Json b = {{"token_label", label}, {"scopes", scopes}};
    if (expires) b["expires_at"] = model::format_rfc3339(*expires);
    return b;
  }

  Created create(const std::string& jwt, const std::string& label = "ci",
                 const Json& scopes = Json::array({"repo:read"}),
                 const std::optional<Timestamp>& expires = std::nullopt) {
    auto r = call(post("/v2/access-tokens", create_body(label, scopes, expires), jwt));
    if (r.status != 201) {
      ADD_FAILURE() << "create returned " << r.status << ": " << r.body;
      return {};
    }
    const Json j = Json::parse(r.body);
    return {j.at("uuid").get<std::string>(), j.at("token").get<std::string>()};
  }

  static std::string item(const std::string& uuid) { return "/v2/access-tokens/" + uuid; }
};

}  // namespace patrol::oracle_test
