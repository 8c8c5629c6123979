#include "recorder/replay_server.hpp"

#include <httplib.h>

#include "http/lean_socket.hpp"
#include "recorder/json_text.hpp"
#include "recorder/substitution.hpp"

namespace patrol::recorder {

model::Result<std::unique_ptr<ReplayServer>> ReplayServer::start(const Cassette& cassette,
                                                                 ReplayServerOptions options) {
  std::unique_ptr<ReplayServer> rs(new ReplayServer());
  Substituter substituter(options.fixture);
  rs->responses_.reserve(cassette.entries.size());
  for (const auto& e : cassette.entries) rs->responses_.push_back(substituter.apply(e.response));
  rs->index_ = std::make_unique<ReplayIndex>(cassette.entries, options.match);
  rs->server_ = std::make_unique<http::LeanServer>();
  tune_server(*rs->server_, options.threads);
  ReplayServer* self = rs.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    auto taken = self->index_->take(from_server_request(req));
    if (const auto* hit = std::get_if<ReplayIndex::Hit>(&taken)) {
      to_server_response(self->responses_[hit->entry], res);
      return;
    }
    const auto& miss = std::get<ReplayIndex::Miss>(taken);
    if (self->options_.on_miss) self->options_.on_miss(miss.message);
    std::string body = "{\"message\":" + detail::json_string("patrol replay: " + miss.message);
    if (miss.nearest) body += ",\"nearest_entry\":" + std::to_string(*miss.nearest);
    body += ",\"errinfo\":{}}";
    res.status = kUnmatchedStatus;
    res.set_header("X-Patrol-Replay", "unmatched");
    res.set_content(body, "application/json");
  };
  rs->server_->Get(".*", handler);
  rs->server_->Post(".*", handler);
  rs->server_->Put(".*", handler);
  rs->server_->Patch(".*", handler);
  rs->server_->Delete(".*", handler);
  rs->server_->Options(".*", handler);
  auto port = bind_tuned(*rs->server_, options.listen);
  if (!port.ok()) return port.error();
  rs->port_ = *port;
  rs->options_ = std::move(options);
  rs->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  return rs;
}

ReplayServer::~ReplayServer() { stop(); }

std::string ReplayServer::url() const {
  return "http://" + options_.listen.host + ":" + std::to_string(port_);
}

void ReplayServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace patrol::recorder
