// Table-driven tests of the oracle: for every numbered rule of CONTRACT.md and every A-point the
// model decides, exchanges the oracle must accept and exchanges it must reject with that rule's
// id. Most reject cases take the honest server's answer and corrupt one thing.
#include <gtest/gtest.h>

#include <set>

#include "model/walk.hpp"
#include "tests/oracle/oracle_test_util.hpp"

namespace patrol::oracle_test {
namespace {

using V = std::vector<Violation>;

struct RuleCase {
  std::string rule;
  bool accept = true;
  std::string name;
  std::function<V(World&)> run;
};

RuleCase accept(std::string rule, std::string name, std::function<V(World&)> run) {
  return {std::move(rule), true, std::move(name), std::move(run)};
}
RuleCase reject(std::string rule, std::string name, std::function<V(World&)> run) {
  return {std::move(rule), false, std::move(name), std::move(run)};
}

HttpRequest get(const std::string& target, const std::string& jwt) {
  return request("GET", target, "", jwt);
}
HttpRequest patch(const std::string& uuid, const Json& body, const std::string& jwt) {
  return request("PATCH", World::item(uuid), body.dump(), jwt);
}
HttpRequest del(const std::string& uuid, const std::string& jwt) {
  return request("DELETE", World::item(uuid), "", jwt);
}
HttpRequest create_req(const std::string& jwt, const Json& body) {
  return post("/v2/access-tokens", body, jwt);
}
Json read_scope() { return Json::array({"repo:read"}); }
HttpResponse hub_error(int status) {
  return response(status, Json{{"message", "nope"}, {"errinfo", Json::object()}});
}
std::string label_of(std::size_t n, const std::string& unit = "a") {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}
std::string registry_target(const std::string& repo, const std::string& actions) {
  return kRegistry + "&scope=repository:" + repo + ":" + actions;
}
HttpResponse registry_grant(const Json& access) {
  const std::string jwt = fake_jwt({{"access", access}, {"exp", t0().seconds() + 300}});
  return response(200, Json{{"token", jwt}, {"access_token", jwt}, {"expires_in", 300}});
}
Json auth(const std::string& id, const std::string& secret) {
  return {{"identifier", id}, {"secret", secret}};
}
HttpResponse access_token(const Json& claims) {
  return response(200, Json{{"access_token", fake_jwt(claims)}});
}

// A token of alice, a session JWT, and the honest GET of it.
struct Alice {
  std::string jwt;
  World::Created t;
};
Alice alice_with_token(World& w, const Json& scopes = read_scope()) {
  Alice a;
  a.jwt = w.login("alice");
  a.t = w.create(a.jwt, "ci", scopes);
  return a;
}

std::vector<RuleCase> build_cases() {
  std::vector<RuleCase> c;

  // ---- 1: routes and statuses ----------------------------------------------------------------
  c.push_back(accept("1", "E5 returns 204 with an empty body", [](World& w) {
    auto a = alice_with_token(w);
    auto req = del(a.t.uuid, a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("1", "a route outside the contract is not judged", [](World& w) {
    return w.judge(request("GET", "/v2/repositories/alice"), response(200, Json::object()));
  }));
  c.push_back(reject("1", "E5 returns 204 with a body", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(del(a.t.uuid, a.jwt), response(204, "{}"));
  }));
  c.push_back(reject("1", "E1 returns 404", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(create_req(jwt, World::create_body("x", read_scope())), hub_error(404));
  }));
  c.push_back(reject("1", "PUT on the collection returns 200", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(request("PUT", "/v2/access-tokens", "{}", jwt), response(200, Json::object()));
  }));
  c.push_back(reject("1", "E2 returns 200 with an array", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(get("/v2/access-tokens", jwt), response(200, "[]"));
  }));
  c.push_back(reject("1", "E3 of a live token returns 404", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(get(World::item(a.t.uuid), a.jwt), hub_error(404));
  }));
  c.push_back(reject("1", "A1 returns 302", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("alice", "alice-password-1")), response(302));
  }));
  c.push_back(reject("1", "a status outside HTTP", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("alice", "x")), response(42));
  }));
  // R1: a 400 is wrong only for the registry's own service. The last `service` value counts, as
  // Django reads a query (session_fuzzer: "...&service" asks for the service "").
  c.push_back(accept("1", "R1 may refuse a request whose last service is empty", [](World& w) {
    return w.judge(basic(registry_target("alice/public-app", "pull") + "&service", "alice",
                         "alice-password-1"),
                   hub_error(400));
  }));
  c.push_back(reject("1", "R1 refuses a well-formed request with 400", [](World& w) {
    return w.judge(basic("/token?service=x&scope=repository:alice/public-app:pull"
                         "&service=registry.docker.io",
                         "alice", "alice-password-1"),
                   hub_error(400));
  }));

  // ---- 2: the token object -------------------------------------------------------------------
  c.push_back(accept("2", "the honest GET", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("2", "GET shows another label", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token_label"] = "other"; }));
  }));
  c.push_back(reject("2", "E1 reuses an earlier uuid", [](World& w) {
    auto a = alice_with_token(w);
    auto req = create_req(a.jwt, World::create_body("second", read_scope()));
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["uuid"] = a.t.uuid; }));
  }));
  c.push_back(reject("2", "GET without created_at", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("created_at"); }));
  }));
  c.push_back(reject("2", "creator_ua changes between reads", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    w.call(req);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["creator_ua"] = "curl/8"; }));
  }));
  c.push_back(reject("2", "201 with created_at an hour before the request", [](World& w) {
    auto jwt = w.login("alice");
    w.advance(10);
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    const std::string early = model::format_rfc3339({w.now.micros - 3'600'000'000LL});
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["created_at"] = early; }));
  }));
  c.push_back(reject("2", "201 with a non-canonical uuid", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     std::string u = j["uuid"];
                     for (char& ch : u) ch = static_cast<char>(std::toupper(ch));
                     j["uuid"] = u;
                   }));
  }));

  // ---- 3.1: the secret is returned once ------------------------------------------------------
  c.push_back(accept("3.1", "the honest create", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.1", "GET returns the secret", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["token"] = a.t.secret; }));
  }));
  c.push_back(reject("3.1", "a list entry carries the secret", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get("/v2/access-tokens", a.jwt);
    return w.judge(req,
                   mutate(w.honest(req), [&](Json& j) { j["results"][0]["token"] = a.t.secret; }));
  }));
  c.push_back(reject("3.1", "an error body echoes a secret", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(post("/v2/auth/token", auth("bob", a.t.secret)),
                   response(401, Json{{"message", "bad secret " + a.t.secret + " for bob"}}));
  }));
  c.push_back(reject("3.1", "a header carries a secret", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    auto resp = w.honest(req);
    resp.headers.add("X-Debug-Token", a.t.secret);
    return w.judge(req, resp);
  }));
  c.push_back(reject("3.1", "a JSON-escaped secret in a message", [](World& w) {
    auto a = alice_with_token(w);
    const std::string escaped =
        "\\u00" + std::string(a.t.secret[0] == 'd' ? "64" : "00") + a.t.secret.substr(1);
    return w.judge(post("/v2/auth/token", auth("alice", "wrong")),
                   response(401, "{\"message\":\"token " + escaped + "\"}"));
  }));
  c.push_back(reject("3.1", "201 re-issues an earlier secret", [](World& w) {
    auto a = alice_with_token(w);
    auto req = create_req(a.jwt, World::create_body("again", read_scope()));
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["token"] = a.t.secret; }));
  }));
  c.push_back(reject("3.1", "201 creates an inactive token", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["is_active"] = false; }));
  }));
  c.push_back(reject("3.1", "201 without the secret", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("token"); }));
  }));

  // ---- 3.2: labels ---------------------------------------------------------------------------
  c.push_back(accept("3.2", "a 100-character label is created", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body(label_of(100), read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.2", "an empty label is a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("", read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.2", "a 101-character label is a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body(label_of(101), read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.2", "an empty label is created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(create_req(jwt, World::create_body("", read_scope())),
                   mutate(w.honest(ok), [](Json& j) { j["token_label"] = ""; }));
  }));
  c.push_back(reject("3.2", "a 101-character label is created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(create_req(jwt, World::create_body(label_of(101), read_scope())),
                   mutate(w.honest(ok), [](Json& j) { j["token_label"] = label_of(101); }));
  }));
  c.push_back(reject("3.2", "PATCH to an empty label returns 200", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, {{"token_label", ""}}, a.jwt),
                   w.honest(get(World::item(a.t.uuid), a.jwt)));
  }));
  c.push_back(reject("3.2", "a label of invalid UTF-8 is created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    HttpRequest bad = ok;
    bad.body = "{\"token_label\":\"\xff\xfe\",\"scopes\":[\"repo:read\"]}";
    return w.judge(bad, w.honest(ok));
  }));

  // ---- 3.3: scopes ---------------------------------------------------------------------------
  c.push_back(accept("3.3", "an unknown scope is a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", Json::array({"repo:everything"})));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.3", "empty scopes are a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", Json::array()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.3", "redundant scopes are normalised to the highest", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", Json::array({"repo:read", "repo:write"})));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.3", "an unknown scope is created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(create_req(jwt, World::create_body("x", Json::array({"repo:everything"}))),
                   w.honest(ok));
  }));
  c.push_back(reject("3.3", "empty scopes are created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(create_req(jwt, World::create_body("x", Json::array())), w.honest(ok));
  }));
  c.push_back(reject("3.3", "201 narrows repo:admin to repo:read", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", Json::array({"repo:admin"})));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["scopes"] = read_scope(); }));
  }));
  c.push_back(reject("3.3", "GET shows a scope outside the four", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req),
                               [](Json& j) { j["scopes"] = Json::array({"repo:everything"}); }));
  }));

  // ---- 3.4: expiry ---------------------------------------------------------------------------
  c.push_back(accept("3.4", "expires_at in the past is a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(
        jwt, World::create_body("x", read_scope(), Timestamp{w.now.micros - 3'600'000'000LL}));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.4", "PATCH of an expired token is a 400", [](World& w) {
    auto jwt = w.login("alice");
    auto t = w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    auto req = patch(t.uuid, {{"is_active", false}}, w.login("alice"));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.4", "an expired token is still listed", [](World& w) {
    auto jwt = w.login("alice");
    w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    auto req = get("/v2/access-tokens", w.login("alice"));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.4", "an expired PAT gets 401", [](World& w) {
    auto jwt = w.login("alice");
    auto t = w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    auto req = post("/v2/auth/token", auth("alice", t.secret));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.4", "expires_at in the past is created", [](World& w) {
    auto jwt = w.login("alice");
    const Timestamp past{w.now.micros - 3'600'000'000LL};
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(
        create_req(jwt, World::create_body("x", read_scope(), past)),
        mutate(w.honest(ok), [&](Json& j) { j["expires_at"] = model::format_rfc3339(past); }));
  }));
  c.push_back(reject("3.4", "PATCH of an expired token returns 200", [](World& w) {
    auto jwt = w.login("alice");
    auto t = w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    jwt = w.login("alice");
    return w.judge(
        patch(t.uuid, {{"token_label", "y"}}, jwt),
        mutate(w.honest(get(World::item(t.uuid), jwt)), [](Json& j) { j["token_label"] = "y"; }));
  }));
  c.push_back(reject("3.4", "an expired PAT authenticates", [](World& w) {
    auto jwt = w.login("alice");
    auto t = w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    return w.judge(
        post("/v2/auth/token", auth("alice", t.secret)),
        access_token(
            {{"username", "alice"}, {"scope", "repo:read"}, {"exp", w.now.seconds() + 600}}));
  }));

  // ---- 3.5: PATCH ------------------------------------------------------------------------------
  c.push_back(accept("3.5", "PATCH is_active false", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"is_active", false}}, a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.5", "PATCH {} is a no-op 200", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, Json::object(), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.5", "PATCH is_active false returns true", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"is_active", false}}, a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["is_active"] = true; }));
  }));
  c.push_back(reject("3.5", "PATCH label returns the old label", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"token_label", "renamed"}}, a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token_label"] = "ci"; }));
  }));
  c.push_back(reject("3.5", "a valid PATCH returns 400", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, {{"token_label", "renamed"}}, a.jwt), hub_error(400));
  }));
  c.push_back(reject("3.5", "PATCH with scopes changes the scopes", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"scopes", Json::array({"repo:admin"})}}, a.jwt);
    return w.judge(
        req, mutate(w.honest(req), [](Json& j) { j["scopes"] = Json::array({"repo:admin"}); }));
  }));

  // ---- 3.6: DELETE is permanent ----------------------------------------------------------------
  c.push_back(accept("3.6", "GET after DELETE is 404", [](World& w) {
    auto a = alice_with_token(w);
    w.call(del(a.t.uuid, a.jwt));
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.6", "DELETE twice is 404", [](World& w) {
    auto a = alice_with_token(w);
    w.call(del(a.t.uuid, a.jwt));
    auto req = del(a.t.uuid, a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.6", "GET after DELETE returns 200", [](World& w) {
    auto a = alice_with_token(w);
    auto before = w.honest(get(World::item(a.t.uuid), a.jwt));
    w.call(del(a.t.uuid, a.jwt));
    return w.judge(get(World::item(a.t.uuid), a.jwt), before);
  }));
  c.push_back(reject("3.6", "PATCH after DELETE returns 200", [](World& w) {
    auto a = alice_with_token(w);
    auto before = w.honest(get(World::item(a.t.uuid), a.jwt));
    w.call(del(a.t.uuid, a.jwt));
    return w.judge(patch(a.t.uuid, {{"token_label", "ci"}}, a.jwt), before);
  }));
  c.push_back(reject("3.6", "a listing shows a deleted token", [](World& w) {
    auto a = alice_with_token(w);
    auto before = w.honest(get("/v2/access-tokens", a.jwt));
    w.call(del(a.t.uuid, a.jwt));
    return w.judge(get("/v2/access-tokens", a.jwt), before);
  }));
  c.push_back(reject("3.6", "a deleted PAT authenticates", [](World& w) {
    auto a = alice_with_token(w);
    w.call(del(a.t.uuid, a.jwt));
    return w.judge(
        post("/v2/auth/token", auth("alice", a.t.secret)),
        access_token(
            {{"username", "alice"}, {"scope", "repo:read"}, {"exp", w.now.seconds() + 600}}));
  }));

  // ---- 3.7: unknown uuids
  // -------------------------------------------------------------------------
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  c.push_back(accept("3.7", "GET of an unknown uuid is 404", [unknown](World& w) {
    auto jwt = w.login("alice");
    auto req = get(World::item(unknown), jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.7", "PATCH of an unknown uuid is 404", [unknown](World& w) {
    auto jwt = w.login("alice");
    auto req = patch(unknown, {{"is_active", false}}, jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.7", "DELETE of an unknown uuid is 404", [unknown](World& w) {
    auto jwt = w.login("alice");
    auto req = del(unknown, jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.7", "GET of an unknown uuid returns 200", [unknown](World& w) {
    auto a = alice_with_token(w);
    auto body =
        mutate(w.honest(get(World::item(a.t.uuid), a.jwt)), [&](Json& j) { j["uuid"] = unknown; });
    return w.judge(get(World::item(unknown), a.jwt), body);
  }));
  c.push_back(reject("3.7", "DELETE of an unknown uuid returns 204", [unknown](World& w) {
    auto jwt = w.login("alice");
    return w.judge(del(unknown, jwt), response(204));
  }));

  // ---- 3.8: authentication with a PAT
  // ------------------------------------------------------------
  c.push_back(accept("3.8", "an active PAT authenticates", [](World& w) {
    auto a = alice_with_token(w);
    auto req = post("/v2/auth/token", auth("alice", a.t.secret));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.8", "GET after a use shows last_used", [](World& w) {
    auto a = alice_with_token(w);
    w.advance(5);
    w.call(post("/v2/auth/token", auth("alice", a.t.secret)));
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("3.8", "a re-activated PAT authenticates again", [](World& w) {
    auto a = alice_with_token(w);
    w.call(patch(a.t.uuid, {{"is_active", false}}, a.jwt));
    w.call(post("/v2/auth/token", auth("alice", a.t.secret)));
    w.call(patch(a.t.uuid, {{"is_active", true}}, a.jwt));
    auto req = post("/v2/auth/token", auth("alice", a.t.secret));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.8", "an active PAT gets 401", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(post("/v2/auth/token", auth("alice", a.t.secret)), hub_error(401));
  }));
  c.push_back(reject("3.8", "an inactive PAT authenticates", [](World& w) {
    auto a = alice_with_token(w);
    w.call(patch(a.t.uuid, {{"is_active", false}}, a.jwt));
    return w.judge(
        post("/v2/auth/token", auth("alice", a.t.secret)),
        access_token(
            {{"username", "alice"}, {"scope", "repo:read"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("3.8", "last_used stays null after a use", [](World& w) {
    auto a = alice_with_token(w);
    w.call(post("/v2/auth/token", auth("alice", a.t.secret)));
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["last_used"] = nullptr; }));
  }));
  c.push_back(reject("3.8", "last_used set before any use", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req),
                               [&](Json& j) { j["last_used"] = model::format_rfc3339(w.now); }));
  }));
  c.push_back(reject("3.8", "last_used moves backwards", [](World& w) {
    auto a = alice_with_token(w);
    w.advance(10);
    w.call(post("/v2/auth/token", auth("alice", a.t.secret)));
    w.call(get(World::item(a.t.uuid), a.jwt));
    w.advance(10);
    w.call(post("/v2/auth/token", auth("alice", a.t.secret)));
    auto req = get(World::item(a.t.uuid), a.jwt);
    const std::string early = model::format_rfc3339({t0().micros + 5'000'000});
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["last_used"] = early; }));
  }));
  c.push_back(reject("3.8", "the registry grants to an inactive PAT", [](World& w) {
    auto a = alice_with_token(w);
    w.call(patch(a.t.uuid, {{"is_active", false}}, a.jwt));
    return w.judge(basic(registry_target("alice/public-app", "pull"), "alice", a.t.secret),
                   registry_grant(Json::array()));
  }));

  // ---- 3.9: one token's operation never affects another ----------------------------------------
  c.push_back(accept("3.9", "deactivating one token leaves the other active", [](World& w) {
    auto a = alice_with_token(w);
    auto b = w.create(a.jwt, "other");
    w.call(patch(a.t.uuid, {{"is_active", false}}, a.jwt));
    auto req = get(World::item(b.uuid), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("3.9", "deactivating one token deactivates another", [](World& w) {
    auto a = alice_with_token(w);
    auto b = w.create(a.jwt, "other");
    w.call(patch(a.t.uuid, {{"is_active", false}}, a.jwt));
    auto req = get(World::item(b.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["is_active"] = false; }));
  }));
  c.push_back(reject("3.9", "deleting one token deletes another", [](World& w) {
    auto a = alice_with_token(w);
    auto b = w.create(a.jwt, "other");
    w.call(del(a.t.uuid, a.jwt));
    return w.judge(get(World::item(b.uuid), a.jwt), hub_error(404));
  }));

  // ---- 4: authentication and ownership
  // -----------------------------------------------------------
  c.push_back(accept("4", "no Authorization header gets 401", [](World& w) {
    auto req = request("GET", "/v2/access-tokens");
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("4", "a PAT-derived JWT gets 403", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get("/v2/access-tokens", w.pat_jwt("alice", a.t.secret));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("4", "a raw PAT as bearer gets 401", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get("/v2/access-tokens", a.t.secret);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("4", "another account's uuid is 404", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), w.login("bob"));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("4", "an unseen JWT naming alice may succeed", [](World& w) {
    auto jwt = fake_jwt({{"username", "alice"}, {"exp", w.now.seconds() + 600}});
    return w.judge(get("/v2/access-tokens", jwt), response(200, Json{{"count", 0},
                                                                     {"next", nullptr},
                                                                     {"previous", nullptr},
                                                                     {"active_count", 0},
                                                                     {"results", Json::array()}}));
  }));
  c.push_back(reject("4", "no Authorization header gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(request("GET", "/v2/access-tokens"), ok);
  }));
  c.push_back(reject("4", "a raw PAT as bearer gets 200", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(get("/v2/access-tokens", a.t.secret), w.honest(get("/v2/access-tokens", a.jwt)));
  }));
  c.push_back(reject("4", "a PAT-derived JWT gets 200", [](World& w) {
    auto a = alice_with_token(w);
    auto pj = w.pat_jwt("alice", a.t.secret);
    return w.judge(get("/v2/access-tokens", pj), w.honest(get("/v2/access-tokens", a.jwt)));
  }));
  c.push_back(reject("4", "another account's uuid gets 200", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(get(World::item(a.t.uuid), w.login("bob")),
                   w.honest(get(World::item(a.t.uuid), a.jwt)));
  }));
  c.push_back(reject("4", "a listing shows another account's token", [](World& w) {
    auto a = alice_with_token(w);
    auto bob = w.login("bob");
    auto mine = w.create(bob, "bobs");
    auto alice_entry = Json::parse(w.honest(get(World::item(a.t.uuid), a.jwt)).body);
    auto req = get("/v2/access-tokens", bob);
    (void)mine;
    return w.judge(req, mutate(w.honest(req), [&](Json& j) {
                     alice_entry["token"] = "";
                     j["results"][0] = alice_entry;
                   }));
  }));
  c.push_back(reject("4", "a session JWT gets 401", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(get("/v2/access-tokens", jwt), hub_error(401));
  }));
  c.push_back(reject("4", "an expired session JWT gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    w.advance(700);
    return w.judge(get("/v2/access-tokens", jwt), ok);
  }));
  c.push_back(reject("4", "login of a second-factor account skips the second step", [](World& w) {
    return w.judge(post("/v2/users/login", {{"username", "bob"}, {"password", "bob-password-2"}}),
                   response(200, Json{{"token", fake_jwt({{"username", "bob"}})}}));
  }));
  c.push_back(reject("4", "a second-factor 401 lacks login_2fa_token", [](World& w) {
    return w.judge(post("/v2/users/login", {{"username", "bob"}, {"password", "bob-password-2"}}),
                   response(401, Json{{"detail", "Require secondary authentication"}}));
  }));
  c.push_back(reject("4", "a wrong password gets a login_2fa_token", [](World& w) {
    return w.judge(post("/v2/users/login", {{"username", "bob"}, {"password", "nope"}}),
                   response(401, Json{{"detail", "no"}, {"login_2fa_token", "abc"}}));
  }));
  c.push_back(reject("4", "a PAT-derived JWT lacks the scope claim", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(post("/v2/auth/token", auth("alice", a.t.secret)),
                   access_token({{"username", "alice"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("4", "a PAT-derived JWT carries the wrong scope", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(
        post("/v2/auth/token", auth("alice", a.t.secret)),
        access_token(
            {{"username", "alice"}, {"scope", "repo:admin"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("4", "A1 issues a JWT naming another account", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("alice", "alice-password-1")),
                   access_token({{"username", "bob"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("4", "an unseen JWT naming nobody gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(get("/v2/access-tokens", fake_jwt({{"username", "mallory"}})), ok);
  }));
  c.push_back(reject("4", "a malformed bearer gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(get("/v2/access-tokens", "not-a-jwt"), ok);
  }));
  c.push_back(reject("4", "an issued JWT with another signature gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    const std::string forged = jwt.substr(0, jwt.rfind('.') + 1) + "Zm9yZ2Vk";
    return w.judge(get("/v2/access-tokens", forged), ok);
  }));
  c.push_back(accept("4", "an issued JWT with another signature gets 401", [](World& w) {
    auto jwt = w.login("alice");
    const std::string forged = jwt.substr(0, jwt.rfind('.') + 1) + "Zm9yZ2Vk";
    return w.judge(get("/v2/access-tokens", forged), hub_error(401));
  }));
  c.push_back(reject("4", "an unsigned JWT naming alice gets 200", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(get("/v2/access-tokens", fake_jwt({{"username", "alice"}}, "")), ok);
  }));

  // ---- 5: registry grants
  // --------------------------------------------------------------------------
  c.push_back(accept("5", "alice's password pushes and deletes on her private repo", [](World& w) {
    auto req = basic(registry_target("alice/private-app", "pull,push,delete"), "alice",
                     "alice-password-1");
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("5", "repo:public_read gets nothing on its own private repo", [](World& w) {
    auto a = alice_with_token(w, Json::array({"repo:public_read"}));
    auto req = basic(registry_target("alice/private-app", "pull"), "alice", a.t.secret);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("5", "anonymous pulls a public repo", [](World& w) {
    auto req = request("GET", registry_target("bob/public-lib", "pull,push"));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("5", "another's private repo grants nothing", [](World& w) {
    auto req = basic(registry_target("bob/private-lib", "pull"), "alice", "alice-password-1");
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("5", "repo:write pulls and pushes, no delete", [](World& w) {
    auto a = alice_with_token(w, Json::array({"repo:write"}));
    auto req = basic(registry_target("alice/public-app", "pull,push,delete"), "alice", a.t.secret);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("5", "a grant of nothing may omit the entry", [](World& w) {
    return w.judge(request("GET", registry_target("alice/private-app", "pull")),
                   registry_grant(Json::array()));
  }));
  c.push_back(reject("5", "repo:public_read pulls its own private repo", [](World& w) {
    auto a = alice_with_token(w, Json::array({"repo:public_read"}));
    return w.judge(
        basic(registry_target("alice/private-app", "pull"), "alice", a.t.secret),
        registry_grant(Json::array(
            {{{"type", "repository"}, {"name", "alice/private-app"}, {"actions", {"pull"}}}})));
  }));
  c.push_back(reject("5", "repo:admin is denied push on its own repo", [](World& w) {
    auto a = alice_with_token(w, Json::array({"repo:admin"}));
    return w.judge(
        basic(registry_target("alice/public-app", "pull,push"), "alice", a.t.secret),
        registry_grant(Json::array(
            {{{"type", "repository"}, {"name", "alice/public-app"}, {"actions", {"pull"}}}})));
  }));
  c.push_back(reject("5", "a wrong password gets a token", [](World& w) {
    return w.judge(basic(registry_target("alice/public-app", "pull"), "alice", "guess"),
                   registry_grant(Json::array()));
  }));
  c.push_back(reject("5", "anonymous gets 401", [](World& w) {
    return w.judge(request("GET", registry_target("alice/public-app", "pull")),
                   response(401, Json{{"details", "no"}}));
  }));
  c.push_back(reject("5", "a grant on a repository that was not requested", [](World& w) {
    return w.judge(
        request("GET", registry_target("alice/public-app", "pull")),
        registry_grant(Json::array(
            {{{"type", "repository"}, {"name", "alice/public-app"}, {"actions", {"pull"}}},
             {{"type", "repository"}, {"name", "bob/public-lib"}, {"actions", {"pull"}}}})));
  }));
  c.push_back(reject("5", "another's private repo grants pull", [](World& w) {
    return w.judge(
        basic(registry_target("bob/private-lib", "pull"), "alice", "alice-password-1"),
        registry_grant(Json::array(
            {{{"type", "repository"}, {"name", "bob/private-lib"}, {"actions", {"pull"}}}})));
  }));

  // ---- 6: listing
  // --------------------------------------------------------------------------------
  auto three = [](World& w) {
    auto jwt = w.login("alice");
    for (int i = 0; i < 3; ++i) w.create(jwt, "t" + std::to_string(i));
    return jwt;
  };
  c.push_back(accept("6", "the honest listing", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=2&page_size=2", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("6", "a page past the end is 404", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=3&page_size=2", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("6", "a page past the end may be an empty 200", [three](World& w) {
    auto jwt = three(w);
    return w.judge(get("/v2/access-tokens?page=3&page_size=2", jwt),
                   response(200, Json{{"count", 3},
                                      {"next", nullptr},
                                      {"previous", "/v2/access-tokens?page=2&page_size=2"},
                                      {"active_count", 3},
                                      {"results", Json::array()}}));
  }));
  c.push_back(accept("6", "page=2.0 is page 2", [three](World& w) {
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens?page=2&page_size=2", jwt));
    return w.judge(get("/v2/access-tokens?page=2.0&page_size=2", jwt), honest);
  }));
  c.push_back(accept("6", "a complete walk partitions the tokens", [three](World& w) {
    auto jwt = three(w);
    std::vector<model::Exchange> pages;
    for (int p = 1; p <= 2; ++p) {
      auto req = get("/v2/access-tokens?page=" + std::to_string(p) + "&page_size=2", jwt);
      pages.push_back({req, w.honest(req), w.now});
    }
    auto v = model::judge_walk(w.state, pages, w.profile);
    return v.violations;
  }));
  c.push_back(reject("6", "count is off by one", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["count"] = 4; }));
  }));
  c.push_back(reject("6", "a page holds more than page_size results", [three](World& w) {
    auto jwt = three(w);
    auto all = Json::parse(w.honest(get("/v2/access-tokens", jwt)).body);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["results"] = all["results"]; }));
  }));
  c.push_back(reject("6", "a token twice on one page", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["results"][1] = j["results"][0]; }));
  }));
  c.push_back(reject("6", "page=2.5 returns 200", [three](World& w) {
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens?page=2&page_size=2", jwt));
    return w.judge(get("/v2/access-tokens?page=2.5&page_size=2", jwt), honest);
  }));
  // "/v2/access-tokens??page=2.5": the query is "?page=2.5", whose one parameter is named "?page"
  // and ignored, as Django reads it (session_fuzzer found the oracle reading it as page).
  c.push_back(accept("6", "a parameter named ?page is not page", [three](World& w) {
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(get("/v2/access-tokens??page=2.5", jwt), honest);
  }));
  c.push_back(reject("6", "a query of ?page alone returns 400", [three](World& w) {
    auto jwt = three(w);
    return w.judge(get("/v2/access-tokens??page", jwt), hub_error(400));
  }));
  c.push_back(reject("6", "a valid query returns 400", [three](World& w) {
    auto jwt = three(w);
    return w.judge(get("/v2/access-tokens?page=1&page_size=100", jwt), hub_error(400));
  }));
  c.push_back(reject("6", "page 1 returns 404", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(get("/v2/access-tokens", jwt), hub_error(404));
  }));
  c.push_back(reject("6", "a listing shows a token never created", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["results"][0]["uuid"] = "11111111-1111-4111-8111-111111111111";
                   }));
  }));
  c.push_back(reject("6", "active_count exceeds count", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["active_count"] = 9; }));
  }));
  c.push_back(reject("6", "a walk shows a token on two pages and misses one", [three](World& w) {
    auto jwt = three(w);
    auto r1 = get("/v2/access-tokens?page=1&page_size=2", jwt);
    auto r2 = get("/v2/access-tokens?page=2&page_size=2", jwt);
    auto p1 = w.honest(r1);
    const Json first = Json::parse(p1.body)["results"][0];
    auto p2 = mutate(w.honest(r2), [&](Json& j) { j["results"][0] = first; });
    auto v = model::judge_walk(w.state, {{r1, p1, w.now}, {r2, p2, w.now}}, w.profile);
    int walk_violations = 0;
    for (const auto& x : v.violations) walk_violations += x.message.rfind("listing walk", 0) == 0;
    EXPECT_EQ(walk_violations, 2) << show(v.violations);
    return v.violations;
  }));
  c.push_back(reject("6", "a walk's count changes between pages", [three](World& w) {
    auto jwt = three(w);
    auto r1 = get("/v2/access-tokens?page=1&page_size=2", jwt);
    auto r2 = get("/v2/access-tokens?page=2&page_size=2", jwt);
    auto p2 = mutate(w.honest(r2), [](Json& j) { j["count"] = 4; });
    Profile lenient = w.profile;
    model::ListingWalk walk(lenient);
    V all = walk.add_page(w.state, r1, w.honest(r1), w.now);
    V second = walk.add_page(w.state, r2, p2, w.now);
    all.insert(all.end(), second.begin(), second.end());
    V cross = walk.finish(w.state);
    EXPECT_TRUE(has_rule(cross, "6")) << show(cross);
    all.insert(all.end(), cross.begin(), cross.end());
    return all;
  }));

  // ---- 7: error bodies
  // ---------------------------------------------------------------------------
  c.push_back(accept("7", "a hub error body", [](World& w) {
    auto jwt = w.login("alice");
    auto req = get(World::item("00000000-0000-4000-8000-000000000001"), jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("7", "a detail-only error body", [](World& w) {
    return w.judge(request("GET", "/v2/access-tokens"),
                   response(401, Json{{"detail", "Authentication credentials were not provided"}}));
  }));
  c.push_back(reject("7", "an HTML 404", [](World& w) {
    auto jwt = w.login("alice");
    HttpResponse r;
    r.status = 404;
    r.headers.add("Content-Type", "text/html");
    r.body = "<html><body>Not Found</body></html>";
    return w.judge(get(World::item("00000000-0000-4000-8000-000000000001"), jwt), r);
  }));
  c.push_back(reject("7", "an empty 401", [](World& w) {
    return w.judge(request("GET", "/v2/access-tokens"), response(401));
  }));
  c.push_back(reject("7", "errinfo that is a string", [](World& w) {
    return w.judge(request("GET", "/v2/access-tokens"),
                   response(401, Json{{"message", "no"}, {"errinfo", "x"}}));
  }));
  c.push_back(reject("7", "an error object without message, detail or text", [](World& w) {
    return w.judge(request("GET", "/v2/access-tokens"), response(401, Json{{"error", "no"}}));
  }));

  // ---- 8: server errors
  // ----------------------------------------------------------------------------
  c.push_back(accept("8", "a malformed uuid gets 400, not 5xx", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(get(World::item("not-a-uuid"), jwt), hub_error(400));
  }));
  c.push_back(reject("8", "E1 returns 500", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(create_req(jwt, World::create_body("x", read_scope())), hub_error(500));
  }));
  c.push_back(reject("8", "A1 returns 503", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("alice", "x")), response(503));
  }));
  c.push_back(reject("8", "a route outside the contract returns 502", [](World& w) {
    return w.judge(request("GET", "/v2/anything"), response(502));
  }));

  // ---- A1: token on reads
  // --------------------------------------------------------------------------
  c.push_back(accept("A1", "hub: token absent on GET", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("token"); }));
  }));
  c.push_back(accept("A1", "hub: any redaction string", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token"] = "[redacted]"; }));
  }));
  c.push_back(accept("A1", "spec: ***", [](World& w) {
    w.spec();
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token"] = "***"; }));
  }));
  c.push_back(reject("A1", "spec: another redaction string", [](World& w) {
    w.spec();
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token"] = "[redacted]"; }));
  }));
  c.push_back(reject("A1", "spec: token absent", [](World& w) {
    w.spec();
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("token"); }));
  }));
  c.push_back(reject("A1", "hub: token null", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token"] = nullptr; }));
  }));

  // ---- A2: expires_at on responses -------------------------------------------------------------
  c.push_back(accept("A2", "unset expiry shown as null", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A2", "unset expiry absent", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("expires_at"); }));
  }));
  c.push_back(accept("A2", "a set expiry echoed to the second", [](World& w) {
    auto jwt = w.login("alice");
    const Timestamp exp{w.now.micros + 86'400'000'000LL + 123456};
    auto req = create_req(jwt, World::create_body("x", read_scope(), exp));
    return w.judge(req, mutate(w.honest(req), [&](Json& j) {
                     j["expires_at"] =
                         model::format_rfc3339(Timestamp::from_seconds(exp.seconds()));
                   }));
  }));
  c.push_back(reject("A2", "unset expiry shown as a time", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [&](Json& j) {
                     j["expires_at"] = model::format_rfc3339({w.now.micros + 86'400'000'000LL});
                   }));
  }));
  c.push_back(reject("A2", "a set expiry an hour off", [](World& w) {
    auto jwt = w.login("alice");
    const Timestamp exp{w.now.micros + 86'400'000'000LL};
    auto req = create_req(jwt, World::create_body("x", read_scope(), exp));
    return w.judge(req, mutate(w.honest(req), [&](Json& j) {
                     j["expires_at"] = model::format_rfc3339({exp.micros + 3'600'000'000LL});
                   }));
  }));
  c.push_back(reject("A2", "null-only profile: unset expiry absent", [](World& w) {
    w.profile.unset_expiry = model::UnsetExpiry::kNullOnly;
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("expires_at"); }));
  }));

  // ---- A3 / A4: spec error schemas
  // -----------------------------------------------------------------
  c.push_back(accept("A3", "spec: 404 {detail, message}", [](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    auto req = get(World::item("00000000-0000-4000-8000-000000000001"), jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("A3", "spec: 404 in the hub shape", [](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    return w.judge(get(World::item("00000000-0000-4000-8000-000000000001"), jwt), hub_error(404));
  }));
  c.push_back(accept("A4", "spec: 400 {fields, text}", [](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("", read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("A4", "spec: 400 with only message", [](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    return w.judge(create_req(jwt, World::create_body("", read_scope())), hub_error(400));
  }));

  // ---- A5: 403 for PAT-derived bearers, 429 anywhere --------------------------------------------
  c.push_back(accept("A5", "429 on any route", [](World& w) {
    auto jwt = w.login("alice");
    HttpResponse r = response(429, Json{{"detail", "Rate limit exceeded"}});
    r.headers.add("Retry-After", "7");
    return w.judge(create_req(jwt, World::create_body("x", read_scope())), r);
  }));
  c.push_back(accept("A5", "a PAT-derived JWT gets 403 on DELETE", [](World& w) {
    auto a = alice_with_token(w);
    auto req = del(a.t.uuid, w.pat_jwt("alice", a.t.secret));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("A5", "a PAT-derived JWT gets 401", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(get("/v2/access-tokens", w.pat_jwt("alice", a.t.secret)), hub_error(401));
  }));

  // ---- A6: PATCH of an unknown uuid ------------------------------------------------------------
  c.push_back(accept("A6", "PATCH of an unknown uuid is 404", [unknown](World& w) {
    auto jwt = w.login("alice");
    auto req = patch(unknown, {{"token_label", "x"}}, jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(
      accept("A6", "lenient profile: PATCH of an unknown uuid may be 400", [unknown](World& w) {
        w.profile.patch_unknown_may_be_400 = true;
        auto jwt = w.login("alice");
        return w.judge(patch(unknown, {{"token_label", "x"}}, jwt), hub_error(400));
      }));
  c.push_back(reject("A6", "PATCH of an unknown uuid is 400", [unknown](World& w) {
    auto jwt = w.login("alice");
    return w.judge(patch(unknown, {{"token_label", "x"}}, jwt), hub_error(400));
  }));

  // ---- A7: DELETE success code
  // -------------------------------------------------------------------
  c.push_back(accept("A7", "DELETE 204", [](World& w) {
    auto a = alice_with_token(w);
    auto req = del(a.t.uuid, a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A7", "lenient profile: DELETE 200", [](World& w) {
    w.profile.delete_any_2xx = true;
    auto a = alice_with_token(w);
    return w.judge(del(a.t.uuid, a.jwt), response(200));
  }));
  c.push_back(reject("A7", "DELETE 200", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(del(a.t.uuid, a.jwt), response(200));
  }));
  c.push_back(reject("A7", "DELETE 202", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(del(a.t.uuid, a.jwt), response(202));
  }));

  // ---- A8: malformed uuids
  // -----------------------------------------------------------------------
  c.push_back(accept("A8", "a malformed uuid gets 404", [](World& w) {
    auto jwt = w.login("alice");
    auto req = get(World::item("not-a-uuid"), jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A8", "an upper-case spelling of a live uuid may be served", [](World& w) {
    auto a = alice_with_token(w);
    std::string upper = a.t.uuid;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(ch));
    return w.judge(get(World::item(upper), a.jwt), w.honest(get(World::item(a.t.uuid), a.jwt)));
  }));
  c.push_back(reject("A8", "a malformed uuid gets 200", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(get(World::item("not-a-uuid"), a.jwt),
                   w.honest(get(World::item(a.t.uuid), a.jwt)));
  }));
  c.push_back(reject("A8", "404-only profile: a malformed uuid gets 400", [](World& w) {
    w.profile.malformed_uuid_may_be_400 = false;
    auto jwt = w.login("alice");
    return w.judge(del("not-a-uuid", jwt), hub_error(400));
  }));

  // ---- A9: trailing slash
  // ------------------------------------------------------------------------
  c.push_back(accept("A9", "the trailing-slash path served as an alias", [](World& w) {
    auto jwt = w.login("alice");
    auto req = get("/v2/access-tokens/", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A9", "the trailing-slash path not served", [](World& w) {
    auto jwt = w.login("alice");
    return w.judge(get("/v2/access-tokens/", jwt), hub_error(404));
  }));
  c.push_back(reject("A9", "alias-only profile: the trailing-slash path is 404", [](World& w) {
    w.profile.trailing_slash_may_be_404 = false;
    auto jwt = w.login("alice");
    return w.judge(get("/v2/access-tokens/", jwt), hub_error(404));
  }));

  // ---- A10: out-of-range pages
  // -------------------------------------------------------------------
  c.push_back(accept("A10", "page_size=101 is a 400", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page_size=101", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A10", "hub: page_size=101 clamped to 100", [three](World& w) {
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens?page=1&page_size=100", jwt));
    return w.judge(get("/v2/access-tokens?page_size=101", jwt), honest);
  }));
  c.push_back(reject("A10", "spec: page_size=101 clamped", [three](World& w) {
    w.spec();
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens?page=1&page_size=100", jwt));
    return w.judge(get("/v2/access-tokens?page_size=101", jwt), honest);
  }));
  c.push_back(reject("A10", "hub: page_size=0 answered with 2 of 3 tokens", [three](World& w) {
    auto jwt = three(w);
    auto honest = w.honest(get("/v2/access-tokens?page=1&page_size=2", jwt));
    return w.judge(get("/v2/access-tokens?page_size=0", jwt), honest);
  }));

  // ---- A11: next / previous
  // -----------------------------------------------------------------------
  c.push_back(accept("A11", "absolute links", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A11", "hub: relative links", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=2&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["previous"] = "/v2/access-tokens?page=1&page_size=2";
                   }));
  }));
  c.push_back(reject("A11", "next on the last page", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=2&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["next"] = "http://127.0.0.1/v2/access-tokens?page=3&page_size=2";
                   }));
  }));
  c.push_back(reject("A11", "previous on the first page", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["previous"] = "http://127.0.0.1/v2/access-tokens?page=0&page_size=2";
                   }));
  }));
  c.push_back(reject("A11", "next without page_size", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["next"] = "http://127.0.0.1/v2/access-tokens?page=2";
                   }));
  }));
  c.push_back(reject("A11", "next missing while a page follows", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["next"] = nullptr; }));
  }));
  c.push_back(reject("A11", "absolute-only profile: a relative link", [three](World& w) {
    w.profile.page_links_may_be_relative = false;
    auto jwt = three(w);
    auto req = get("/v2/access-tokens?page=1&page_size=2", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["next"] = "/v2/access-tokens?page=2&page_size=2";
                   }));
  }));

  // ---- A12: echo or normalised scopes
  // --------------------------------------------------------------
  const Json redundant = Json::array({"repo:read", "repo:write"});
  c.push_back(accept("A12", "redundant scopes echoed", [redundant](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", redundant));
    return w.judge(req, mutate(w.honest(req), [&](Json& j) { j["scopes"] = redundant; }));
  }));
  c.push_back(accept("A12", "redundant scopes normalised", [redundant](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", redundant));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(reject("A12", "scopes neither echoed nor normalised", [redundant](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", redundant));
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["scopes"] = Json::array({"repo:write", "repo:public_read"});
                   }));
  }));
  c.push_back(reject("A12", "echo-only profile: normalised scopes", [redundant](World& w) {
    w.profile.scope_echo = model::ScopeEcho::kEchoOnly;
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", redundant));
    return w.judge(req, w.honest(req));
  }));

  // ---- A14: legacy tokens without scopes
  // ----------------------------------------------------------
  c.push_back(accept("A14", "hub: 201 without scopes", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("scopes"); }));
  }));
  c.push_back(accept("A14", "hub: GET without scopes", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("scopes"); }));
  }));
  c.push_back(reject("A14", "scopes-required profile: GET without scopes", [](World& w) {
    w.profile.scopes_may_be_absent = false;
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j.erase("scopes"); }));
  }));

  // ---- A15: scopes / expires_at in PATCH
  // -----------------------------------------------------------
  c.push_back(accept("A15", "PATCH with scopes ignored", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"scopes", Json::array({"repo:admin"})}}, a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A15", "PATCH with expires_at refused", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, {{"expires_at", "2030-01-01T00:00:00Z"}}, a.jwt),
                   hub_error(400));
  }));
  c.push_back(reject("A15", "ignore-only profile: PATCH with scopes refused", [](World& w) {
    w.profile.patch_extras = model::PatchExtras::kIgnoredOnly;
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, {{"scopes", Json::array({"repo:admin"})}}, a.jwt),
                   hub_error(400));
  }));
  c.push_back(reject("A15", "400-only profile: PATCH with scopes ignored", [](World& w) {
    w.profile.patch_extras = model::PatchExtras::k400Only;
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, {{"scopes", Json::array({"repo:admin"})}}, a.jwt);
    return w.judge(req, w.honest(req));
  }));

  // ---- A16: empty PATCH
  // ----------------------------------------------------------------------------
  c.push_back(accept("A16", "PATCH {} is 200", [](World& w) {
    auto a = alice_with_token(w);
    auto req = patch(a.t.uuid, Json::object(), a.jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A16", "lenient profile: PATCH {} may be 400", [](World& w) {
    w.profile.empty_patch_may_be_400 = true;
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, Json::object(), a.jwt), hub_error(400));
  }));
  c.push_back(reject("A16", "PATCH {} is 400", [](World& w) {
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, Json::object(), a.jwt), hub_error(400));
  }));

  // ---- A18: active_count
  // --------------------------------------------------------------------------
  c.push_back(accept("A18", "active_count excludes inactive tokens", [three](World& w) {
    auto jwt = three(w);
    auto uuid = Json::parse(w.honest(get("/v2/access-tokens", jwt)).body)["results"][0]["uuid"];
    w.call(patch(uuid.get<std::string>(), {{"is_active", false}}, jwt));
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A18", "bounds-only profile: active_count off by one", [three](World& w) {
    w.profile.active_count_exact = false;
    auto jwt = three(w);
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["active_count"] = 2; }));
  }));
  c.push_back(reject("A18", "active_count off by one", [three](World& w) {
    auto jwt = three(w);
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["active_count"] = 2; }));
  }));
  c.push_back(reject("A18", "active_count counts an expired token", [](World& w) {
    auto jwt = w.login("alice");
    w.create(jwt, "x", read_scope(), Timestamp{w.now.micros + 60'000'000});
    w.advance(120);
    jwt = w.login("alice");
    auto req = get("/v2/access-tokens", jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["active_count"] = 1; }));
  }));

  // ---- A19: secret format
  // --------------------------------------------------------------------------
  c.push_back(accept("A19", "a secret without the dckr_pat_ prefix", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["token"] = "85145afa-7f81-4235-82c9-e37df7c244a8";
                   }));
  }));
  c.push_back(reject("A19", "an empty secret", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token"] = ""; }));
  }));
  c.push_back(reject("A19", "prefix profile: a secret without the prefix", [](World& w) {
    w.profile.secret_prefix = "dckr_pat_";
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     j["token"] = "85145afa-7f81-4235-82c9-e37df7c244a8";
                   }));
  }));

  // ---- A20: RFC 3339 timestamps
  // ----------------------------------------------------------------------
  c.push_back(accept("A20", "created_at with a numeric offset", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) {
                     std::string s = j["created_at"];
                     s.back() = '+';
                     j["created_at"] = s + "00:00";
                   }));
  }));
  c.push_back(reject("A20", "created_at that is not RFC 3339", [](World& w) {
    auto a = alice_with_token(w);
    auto req = get(World::item(a.t.uuid), a.jwt);
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["created_at"] = "yesterday"; }));
  }));
  c.push_back(reject("A20", "expires_at \"tomorrow\" is created", [](World& w) {
    auto jwt = w.login("alice");
    auto ok = create_req(jwt, World::create_body("x", read_scope()));
    return w.judge(
        create_req(jwt,
                   {{"token_label", "x"}, {"scopes", read_scope()}, {"expires_at", "tomorrow"}}),
        w.honest(ok));
  }));

  // ---- A21: 429 headers
  // -----------------------------------------------------------------------------
  c.push_back(accept("A21", "hub: 429 without Retry-After", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("alice", "x")), response(429));
  }));
  c.push_back(accept("A21", "strict profile: 429 with X-Retry-After", [](World& w) {
    w.profile.require_retry_after = true;
    HttpResponse r = response(429);
    r.headers.add("X-Retry-After", "1750000100");
    return w.judge(post("/v2/auth/token", auth("alice", "x")), r);
  }));
  c.push_back(reject("A21", "strict profile: 429 without either header", [](World& w) {
    w.profile.require_retry_after = true;
    return w.judge(post("/v2/auth/token", auth("alice", "x")), response(429));
  }));

  // ---- A22: the legacy JWT keyword
  // -----------------------------------------------------------------
  auto with_keyword = [](HttpRequest r, const std::string& jwt) {
    r.headers.set("Authorization", "JWT " + jwt);
    return r;
  };
  c.push_back(accept("A22", "hub: JWT keyword accepted", [with_keyword](World& w) {
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(with_keyword(request("GET", "/v2/access-tokens"), jwt), ok);
  }));
  c.push_back(accept("A22", "spec: JWT keyword refused", [with_keyword](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    return w.judge(with_keyword(request("GET", "/v2/access-tokens"), jwt),
                   response(401, Json{{"detail", "no"}, {"message", "no"}}));
  }));
  c.push_back(reject("A22", "spec: JWT keyword accepted", [with_keyword](World& w) {
    w.spec();
    auto jwt = w.login("alice");
    auto ok = w.honest(get("/v2/access-tokens", jwt));
    return w.judge(with_keyword(request("GET", "/v2/access-tokens"), jwt), ok);
  }));

  // ---- A23: second-factor password on /v2/auth/token -----------------------------------------
  c.push_back(accept("A23", "hub: refused", [](World& w) {
    auto req = post("/v2/auth/token", auth("bob", "bob-password-2"));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A23", "hub: accepted as a session", [](World& w) {
    return w.judge(post("/v2/auth/token", auth("bob", "bob-password-2")),
                   access_token({{"username", "bob"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("A23", "refusing profile: accepted", [](World& w) {
    w.profile.two_factor_password = model::TwoFactorPassword::kRefused;
    return w.judge(post("/v2/auth/token", auth("bob", "bob-password-2")),
                   access_token({{"username", "bob"}, {"exp", w.now.seconds() + 600}}));
  }));
  c.push_back(reject("A23", "accepting profile: refused", [](World& w) {
    w.profile.two_factor_password = model::TwoFactorPassword::kAccepted;
    auto req = post("/v2/auth/token", auth("bob", "bob-password-2"));
    return w.judge(req, w.honest(req));
  }));

  // ---- A25: labels counted in characters
  // -----------------------------------------------------------
  const std::string cjk = label_of(100, "\xE6\xBC\xA2");  // 100 x U+6F22, 300 bytes
  c.push_back(accept("A25", "100 three-byte characters are created", [cjk](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body(cjk, read_scope()));
    return w.judge(req, w.honest(req));
  }));
  c.push_back(accept("A25", "hub: a label returned trimmed", [](World& w) {
    auto jwt = w.login("alice");
    auto req = create_req(jwt, World::create_body("  padded  ", read_scope()));
    return w.judge(req, mutate(w.honest(req), [](Json& j) { j["token_label"] = "padded"; }));
  }));
  c.push_back(reject("A25", "100 three-byte characters refused on create", [cjk](World& w) {
    auto jwt = w.login("alice");
    return w.judge(create_req(jwt, World::create_body(cjk, read_scope())), hub_error(400));
  }));
  c.push_back(reject("A25", "100 three-byte characters refused on PATCH", [cjk](World& w) {
    auto a = alice_with_token(w);
    return w.judge(patch(a.t.uuid, {{"token_label", cjk}}, a.jwt), hub_error(400));
  }));
  return c;
}

const std::vector<RuleCase>& cases() {
  static const std::vector<RuleCase> kCases = build_cases();
  return kCases;
}

// Every rule id the oracle emits or a profile decides.
const std::vector<std::string> kRules = {
    "1",   "2",   "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "4",  "5",
    "6",   "7",   "8",   "A1",  "A2",  "A3",  "A4",  "A5",  "A6",  "A7",  "A8",  "A9", "A10",
    "A11", "A12", "A14", "A15", "A16", "A18", "A19", "A20", "A21", "A22", "A23", "A25"};

class OracleRule : public ::testing::TestWithParam<std::size_t> {};

TEST_P(OracleRule, Judges) {
  const RuleCase& c = cases()[GetParam()];
  SCOPED_TRACE("rule " + c.rule + ": " + c.name);
  World w;
  const V v = c.run(w);
  if (c.accept) {
    EXPECT_TRUE(v.empty()) << "expected no violations, got:\n" << show(v);
  } else {
    EXPECT_TRUE(has_rule(v, c.rule)) << "expected rule " << c.rule << ", got:\n" << show(v);
  }
  // Every message is one line ending with its contract citation, and no excerpt or message
  // carries a secret, a password or a JWT.
  for (const auto& x : v) {
    EXPECT_EQ(x.message.find('\n'), std::string::npos) << x.message;
    const std::string tail = "(contract " + x.rule + ")";
    EXPECT_TRUE(x.message.size() >= tail.size() &&
                x.message.compare(x.message.size() - tail.size(), tail.size(), tail) == 0)
        << x.message;
    for (std::uint32_t s = 0; s < w.state.secret_count(); ++s) {
      const std::string secret(w.state.secret_text(s));
      EXPECT_EQ(x.excerpt.find(secret), std::string::npos) << x.excerpt;
      EXPECT_EQ(x.message.find(secret), std::string::npos) << x.message;
    }
    for (const auto& acc : w.state.fixture().accounts) {
      EXPECT_EQ(x.excerpt.find(acc.password), std::string::npos) << x.excerpt;
    }
    EXPECT_EQ(x.excerpt.find("eyJ"), std::string::npos) << x.excerpt;
  }
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  const RuleCase& c = cases()[info.param];
  std::string n = (c.accept ? "Accept_" : "Reject_") + c.rule + "_" + std::to_string(info.param);
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Table, OracleRule, ::testing::Range<std::size_t>(0, cases().size()),
                         case_name);

TEST(OracleRuleTable, EveryRuleHasAnAcceptAndARejectCase) {
  for (const std::string& rule : kRules) {
    int accepts = 0;
    int rejects = 0;
    for (const auto& c : cases()) {
      if (c.rule != rule) continue;
      (c.accept ? accepts : rejects)++;
    }
    EXPECT_GE(accepts, 1) << "rule " << rule << " has no accept case";
    EXPECT_GE(rejects, 1) << "rule " << rule << " has no reject case";
  }
  for (const auto& c : cases()) {
    EXPECT_NE(std::find(kRules.begin(), kRules.end(), c.rule), kRules.end())
        << "case '" << c.name << "' cites unlisted rule " << c.rule;
  }
}

TEST(OracleMessages, GetAfterDeleteReadsLikeTheContract) {
  World w;
  auto a = alice_with_token(w);
  auto before = w.honest(get(World::item(a.t.uuid), a.jwt));
  w.call(del(a.t.uuid, a.jwt));
  const V v = w.judge(get(World::item(a.t.uuid), a.jwt), before);
  ASSERT_EQ(v.size(), 1u) << show(v);
  EXPECT_EQ(v[0].rule, "3.6");
  EXPECT_EQ(v[0].message,
            "GET after DELETE returned 200; a deleted token must be 404 (contract 3.6)");
  EXPECT_NE(v[0].excerpt.find("HTTP 200"), std::string::npos);
}

}  // namespace
}  // namespace patrol::oracle_test
