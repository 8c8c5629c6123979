// The targets `patrol check` can run against: the embedded reference server (on loopback or
// in-process, a fresh store and manual clock per sequence so shrinking replays exactly), and any
// HTTP(S) endpoint (live Hub or a `patrol serve` elsewhere), wrapped in the rate-limit policy and,
// for live accounts, the ownership guard.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/http_transport.hpp"
#include "http/ownership_guard.hpp"
#include "http/polite_transport.hpp"
#include "properties/target.hpp"
#include "server/core.hpp"

namespace patrol::app {

struct EmbeddedOptions {
  server::ServerOptions server;
  bool in_process = false;
};

// Creates the embedded target; fails on an unknown fault or a bad fixture.
model::Result<std::unique_ptr<properties::Target>> make_embedded_target(EmbeddedOptions options);

struct RemoteOptions {
  http::HttpTransportOptions http;
  std::optional<std::string> registry_url;  // R1 on another host (auth.docker.io)
  model::Fixture fixture;                   // accounts (credentials from the environment)
  http::PolitePolicy polite;
  bool guarded = true;       // live safety (see ownership_guard.hpp)
  std::string label_prefix;  // run label prefix, e.g. "patrol-1a2b3c-"
  std::size_t max_tokens = 20;
};

model::Result<std::unique_ptr<properties::Target>> make_remote_target(RemoteOptions options);

// Reads accounts from PATROL_USERNAME / PATROL_PASSWORD (and PATROL_USERNAME_2 /
// PATROL_PASSWORD_2 for the second account) and repositories from PATROL_REPOSITORIES
// ("owner/name:public,owner/name:private"). Errors name the missing variable.
model::Result<model::Fixture> fixture_from_environment();

}  // namespace patrol::app
