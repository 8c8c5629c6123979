// Properties of the unfaulted core over arbitrary requests: never a 5xx, always a JSON body, and
// a secret never seen again after its creation (contract 3.1, 7).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "server/core.hpp"
#include "tests/server/core_client.hpp"

namespace patrol::server {
namespace {

using testing::body_json;
using testing::CoreClient;
using testing::Json;

rc::Gen<std::string> gen_path(const std::string& uuid) {
  return rc::gen::oneOf(
      rc::gen::element<std::string>("/v2/access-tokens", "/v2/access-tokens/", "/v2/auth/token",
                                    "/v2/users/login", "/v2/users/2fa-login", "/token",
                                    "/_patrol/clock", "/", "/v2/access-tokens/" + uuid),
      rc::gen::map(rc::gen::arbitrary<std::string>(),
                   [](std::string s) { return "/v2/access-tokens/" + s; }),
      rc::gen::arbitrary<std::string>());
}

rc::Gen<std::string> gen_body() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::element<std::string>(
          "", "{}", "[]", "null", R"({"token_label":"x","scopes":["repo:read"]})",
          R"({"token_label":"","scopes":[]})", R"({"is_active":false})",
          R"({"token_label":"y","expires_at":"1970-01-01T00:00:00Z"})",
          R"({"identifier":"alice","secret":"alice-password-1"})",
          R"({"username":"bob","password":"bob-password-2"})", R"({"advance_seconds":5})",
          R"({"token_label":"x","scopes":["repo:read"],"expires_at":"2999-01-01T00:00:00+02:00"})"));
}

RC_GTEST_PROP(ServerCoreProperty, NeverA5xxAlwaysJsonAndTheSecretNeverReappears, ()) {
  ServerOptions options;
  options.manual_clock = true;
  options.profile = *rc::gen::element<std::string>("hub", "spec");
  auto core = ServerCore::create(options);
  RC_ASSERT(core.ok());
  CoreClient c(**core);
  auto session = c.alice();
  auto created = c.create_token(session);
  const std::string secret = created["token"];
  const std::string uuid = created["uuid"];

  auto steps = *rc::gen::inRange(1, 25);
  for (int i = 0; i < steps; ++i) {
    model::HttpRequest req;
    req.method = *rc::gen::element<std::string>("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD");
    req.path = *gen_path(uuid);
    req.query =
        *rc::gen::oneOf(rc::gen::arbitrary<std::string>(),
                        rc::gen::element<std::string>(
                            "", "page=2&page_size=1", "page_size=0",
                            "service=registry.docker.io&scope=repository:alice/public-app:pull"));
    req.body = *gen_body();
    if (*rc::gen::arbitrary<bool>()) req.headers.add("Authorization", "Bearer " + session);
    auto r = (*core)->handle(req);
    RC_ASSERT(r.status >= 200);
    RC_ASSERT(r.status < 500);
    RC_ASSERT(r.body.find(secret) == std::string::npos);
    for (const auto& [name, value] : r.headers.entries) {
      RC_ASSERT(value.find(secret) == std::string::npos);
    }
    if (r.status == 204 || req.method == "HEAD") {
      RC_ASSERT(r.body.empty());
    } else {
      RC_ASSERT(body_json(r).is_object());
      RC_ASSERT(r.headers.get("Content-Type") == std::optional<std::string>("application/json"));
    }
  }
}

}  // namespace
}  // namespace patrol::server
