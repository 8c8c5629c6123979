#include "recorder/proxy.hpp"

#include <httplib.h>

#include <chrono>

#include "http/lean_socket.hpp"
#include "recorder/json_text.hpp"

namespace patrol::recorder {

namespace {

constexpr const char* kHttplibUserAgent = "cpp-httplib/" CPPHTTPLIB_VERSION;

model::Timestamp wall_now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return model::Timestamp{us.count()};
}

bool is_framing(std::string_view name) {
  return model::header_name_equal(name, "Content-Length") ||
         model::header_name_equal(name, "Host") ||
         model::header_name_equal(name, "Accept-Encoding") ||
         model::header_name_equal(name, "Expect");
}

}  // namespace

model::Result<std::unique_ptr<RecordingProxy>> RecordingProxy::start(ProxyOptions options,
                                                                     CassetteWriter& writer) {
  auto upstream = UpstreamPool::create(options.upstream);
  if (!upstream.ok()) return upstream.error();
  std::unique_ptr<RecordingProxy> proxy(new RecordingProxy());
  proxy->writer_ = &writer;
  proxy->upstream_ = std::move(*upstream);
  proxy->server_ = std::make_unique<http::LeanServer>();
  tune_server(*proxy->server_, options.threads);
  RecordingProxy* self = proxy.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->handle(req, res);
  };
  proxy->server_->Get(".*", handler);
  proxy->server_->Post(".*", handler);
  proxy->server_->Put(".*", handler);
  proxy->server_->Patch(".*", handler);
  proxy->server_->Delete(".*", handler);
  proxy->server_->Options(".*", handler);
  auto port = bind_tuned(*proxy->server_, options.listen);
  if (!port.ok()) return port.error();
  proxy->port_ = *port;
  proxy->options_ = std::move(options);
  proxy->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  return proxy;
}

RecordingProxy::~RecordingProxy() { stop(); }

std::string RecordingProxy::url() const {
  return "http://" + options_.listen.host + ":" + std::to_string(port_);
}

void RecordingProxy::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void RecordingProxy::fail(httplib::Response& res, int status, const std::string& message) {
  failures_.fetch_add(1);
  std::string safe = writer_->redactor().redact_text(message);
  if (options_.on_error) options_.on_error(safe);
  res.status = status;
  res.set_content(
      "{\"message\":" + detail::json_string("patrol record: " + safe) + ",\"errinfo\":{}}",
      "application/json");
}

void RecordingProxy::handle(const httplib::Request& req, httplib::Response& res) {
  Interaction it;
  it.started = wall_now();
  auto t0 = std::chrono::steady_clock::now();
  it.origin = upstream_->origin();
  model::HttpRequest& out = it.request;
  out.method = req.method;
  out.path = req.path;
  std::string target = req.target;
  if (auto q = target.find('?'); q != std::string::npos) out.query = target.substr(q + 1);
  out.peer = req.remote_addr;
  out.body = req.body;
  // What goes upstream is exactly what is recorded: the client's end-to-end headers, the
  // upstream's Host, identity encoding, and the defaults cpp-httplib would add anyway.
  out.headers.add("Host", upstream_->host_header());
  std::string connection = req.get_header_value("Connection");
  for (const auto& [k, v] : req.headers) {
    if (is_hop_by_hop(k, connection) || is_framing(k)) continue;
    // cpp-httplib hands the body over already decoded: it goes upstream (and into the cassette)
    // as identity, so its coding must not be claimed.
    if (model::header_name_equal(k, "Content-Encoding") &&
        (v == "gzip" || v == "deflate" || v == "br")) {
      continue;
    }
    out.headers.add(k, v);
  }
  out.headers.add("Accept-Encoding", "identity");
  if (!out.headers.has("Accept")) out.headers.add("Accept", "*/*");
  if (!out.headers.has("User-Agent")) out.headers.add("User-Agent", kHttplibUserAgent);
  if (!out.body.empty() && !out.headers.has("Content-Type")) {
    out.headers.add("Content-Type", "text/plain");
  }
  auto response = upstream_->send(out.method, target, out.headers, out.body);
  if (!response.ok()) {
    fail(res, 502, "upstream failed: " + response.error().message);
    return;
  }
  it.response = std::move(*response);
  std::string upstream_connection = it.response.headers.get("Connection").value_or("");
  std::erase_if(it.response.headers.entries, [&](const auto& h) {
    return is_hop_by_hop(h.first, upstream_connection) ||
           model::header_name_equal(h.first, "Content-Length");
  });
  it.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Journal first: a response the client saw is never missing from the cassette.
  if (auto s = writer_->append(it); !s.ok()) {
    fail(res, 502, "recording failed: " + s.error().message);
    return;
  }
  forwarded_.fetch_add(1);
  to_server_response(std::move(it.response), res);
}

}  // namespace patrol::recorder
