// Test helper: writes concurrent histories by hand. Each request is executed at once against an
// in-process reference server (so responses carry real JWTs, uuids and secrets) and gets the
// interval the test chooses; a test may then edit a response to describe a misbehaving server.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "model/codec.hpp"
#include "properties/commands.hpp"
#include "properties/linearizability.hpp"
#include "server/core.hpp"

namespace patrol::properties::testing {

using model::HttpRequest;
using model::Json;

inline constexpr const char* kAlicePassword = "alice-password-1";
inline constexpr const char* kBobPassword = "bob-password-2";
inline constexpr const char* kBobCode = "246810";

class HistoryBuilder {
 public:
  explicit HistoryBuilder(std::vector<std::string> faults = {}) {
    server::ServerOptions o;
    o.manual_clock = true;
    o.faults = std::move(faults);
    auto core = server::ServerCore::create(std::move(o));
    EXPECT_TRUE(core.ok());
    if (core.ok()) core_ = std::move(core).value();
    history.start = core_->now();
  }

  // Executes a request now and records it with the interval [invoke, response].
  std::size_t op(int client, std::int64_t invoke, std::int64_t response, HttpRequest request,
                 std::string command = "") {
    request.headers.set("User-Agent", "patrol-test/1");
    Operation o;
    o.client = client;
    o.invoke_ns = invoke;
    o.response_ns = response;
    o.response = core_->handle(request);
    o.at = core_->now();
    o.command = std::move(command);
    o.request = std::move(request);
    history.operations.push_back(std::move(o));
    return history.operations.size() - 1;
  }

  Operation& at(std::size_t i) { return history.operations[i]; }
  Json body(std::size_t i) const {
    return Json::parse(history.operations[i].response.body, nullptr, false);
  }
  // Replaces members of a JSON response body (a server that answered differently).
  void edit(std::size_t i, const Json& members) {
    Json b = body(i);
    for (auto it = members.begin(); it != members.end(); ++it) b[it.key()] = it.value();
    history.operations[i].response.body = b.dump();
  }

  // A1 with alice's password; returns the JWT.
  std::string login_alice(int client, std::int64_t inv, std::int64_t resp) {
    auto i = op(client, inv, resp,
                json_request("POST", "/v2/auth/token", "",
                             Json{{"identifier", "alice"}, {"secret", kAlicePassword}}.dump()));
    return body(i).value("access_token", std::string());
  }
  // A2 then the second step for bob; returns the JWT.
  std::string login_bob(int client, std::int64_t inv, std::int64_t resp) {
    auto a = op(client, inv, inv + (resp - inv) / 2,
                json_request("POST", "/v2/users/login", "",
                             Json{{"username", "bob"}, {"password", kBobPassword}}.dump()));
    auto handle = body(a).value("login_2fa_token", std::string());
    auto b = op(client, inv + (resp - inv) / 2 + 1, resp,
                json_request("POST", "/v2/users/2fa-login", "",
                             Json{{"login_2fa_token", handle}, {"code", kBobCode}}.dump()));
    return body(b).value("token", std::string());
  }
  // E1; returns (uuid, secret).
  std::pair<std::string, std::string> create(int client, std::int64_t inv, std::int64_t resp,
                                             const std::string& jwt,
                                             const std::string& label = "orig") {
    auto i = op(client, inv, resp,
                json_request("POST", "/v2/access-tokens", jwt,
                             Json{{"token_label", label}, {"scopes", {"repo:read"}}}.dump()));
    EXPECT_EQ(at(i).response.status, 201) << at(i).response.body;
    return {body(i).value("uuid", std::string()), body(i).value("token", std::string())};
  }
  std::size_t get(int client, std::int64_t inv, std::int64_t resp, const std::string& jwt,
                  const std::string& uuid) {
    return op(client, inv, resp, json_request("GET", "/v2/access-tokens/" + uuid, jwt, ""));
  }
  std::size_t patch(int client, std::int64_t inv, std::int64_t resp, const std::string& jwt,
                    const std::string& uuid, const Json& body) {
    return op(client, inv, resp,
              json_request("PATCH", "/v2/access-tokens/" + uuid, jwt, body.dump()));
  }
  std::size_t remove(int client, std::int64_t inv, std::int64_t resp, const std::string& jwt,
                     const std::string& uuid) {
    return op(client, inv, resp, json_request("DELETE", "/v2/access-tokens/" + uuid, jwt, ""));
  }
  std::size_t list(int client, std::int64_t inv, std::int64_t resp, const std::string& jwt) {
    HttpRequest r = json_request("GET", "/v2/access-tokens", jwt, "");
    r.query = "page_size=100";
    return op(client, inv, resp, std::move(r));
  }

  server::ServerCore& core() { return *core_; }

  History history;

 private:
  std::unique_ptr<server::ServerCore> core_;
};

}  // namespace patrol::properties::testing
