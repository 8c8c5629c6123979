#include "recorder/net.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <fstream>

#include "http/http_transport.hpp"
#include "http/lean_socket.hpp"

namespace patrol::recorder {

using model::ErrorKind;
using model::make_error;
using model::Result;

namespace {

constexpr int kBacklog = 1024;
constexpr std::size_t kMaxBody = 64u << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

time_t secs(std::chrono::milliseconds ms) { return static_cast<time_t>(ms.count() / 1000); }
time_t usecs(std::chrono::milliseconds ms) {
  return static_cast<time_t>((ms.count() % 1000) * 1000);
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port = text;
  auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    if (colon > 0) out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (!out.host.empty() && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return make_error(ErrorKind::kInvalid,
                      "--listen '" + std::string(text) + "': expected HOST:PORT, :PORT or PORT");
  }
  return out;
}

void tune_server(httplib::Server& server, std::size_t threads) {
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(std::size_t{1} << 30);
  // An idle keep-alive connection holds stop() for this long (cpp-httplib 0.11 only checks for
  // shutdown between waits), so keep it short; busy connections are unaffected.
  server.set_keep_alive_timeout(2);
  server.set_tcp_nodelay(true);
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  server.set_payload_max_length(kMaxBody);
}

Result<int> bind_tuned(httplib::Server& server, const ListenAddress& address) {
  // Remember the listening socket so its backlog can be raised once bound.
  auto fd = std::make_shared<int>(-1);
  server.set_socket_options([fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    *fd = sock;
  });
  int port = address.port;
  if (port == 0) {
    port = server.bind_to_any_port(address.host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(address.host, port)) {
    port = 0;
  }
  if (port == 0) {
    return make_error(ErrorKind::kUnavailable,
                      "cannot listen on " + address.host + ":" + std::to_string(address.port));
  }
  if (*fd >= 0) ::listen(*fd, kBacklog);
  return port;
}

bool is_hop_by_hop(std::string_view name, std::string_view connection_header) {
  static constexpr std::string_view kNames[] = {"Connection", "Keep-Alive",  "Proxy-Connection",
                                                "TE",         "Trailer",     "Transfer-Encoding",
                                                "Upgrade",    "REMOTE_ADDR", "REMOTE_PORT",
                                                "LOCAL_ADDR", "LOCAL_PORT"};
  for (auto n : kNames) {
    if (model::header_name_equal(name, n)) return true;
  }
  while (!connection_header.empty()) {
    auto comma = connection_header.find(',');
    if (model::header_name_equal(trim(connection_header.substr(0, comma)), name)) return true;
    if (comma == std::string_view::npos) break;
    connection_header.remove_prefix(comma + 1);
  }
  return false;
}

model::HttpRequest from_server_request(const httplib::Request& request) {
  model::HttpRequest out;
  out.method = request.method;
  out.path = request.path;
  auto q = request.target.find('?');
  if (q != std::string::npos) out.query = request.target.substr(q + 1);
  std::string connection = request.get_header_value("Connection");
  for (const auto& [k, v] : request.headers) {
    if (!is_hop_by_hop(k, connection)) out.headers.add(k, v);
  }
  out.body = request.body;
  out.peer = request.remote_addr;
  return out;
}

namespace {

void copy_status_and_headers(const model::HttpResponse& in, httplib::Response& out) {
  out.status = in.status;
  std::string connection = in.headers.get("Connection").value_or("");
  for (const auto& [k, v] : in.headers.entries) {
    if (is_hop_by_hop(k, connection) || model::header_name_equal(k, "Content-Length")) continue;
    out.headers.emplace(k, v);
  }
}

}  // namespace

void to_server_response(const model::HttpResponse& in, httplib::Response& out) {
  copy_status_and_headers(in, out);
  out.body = in.body;
}

void to_server_response(model::HttpResponse&& in, httplib::Response& out) {
  copy_status_and_headers(in, out);
  out.body = std::move(in.body);
}

bool is_decodable_coding(std::string_view coding) {
  return coding == "gzip" || coding == "deflate" || coding == "br";
}

std::optional<std::string> decode_content(std::string_view coding, std::string_view body) {
  std::unique_ptr<httplib::detail::decompressor> d;
  if (coding == "gzip" || coding == "deflate") {
    d = std::make_unique<httplib::detail::gzip_decompressor>();
  } else if (coding == "br") {
    d = std::make_unique<httplib::detail::brotli_decompressor>();
  }
  if (!d || !d->is_valid()) return std::nullopt;
  std::string out;
  bool ok = d->decompress(body.data(), body.size(), [&](const char* data, std::size_t n) {
    out.append(data, n);
    return out.size() <= kMaxBody;
  });
  if (!ok) return std::nullopt;
  return out;
}

Result<std::unique_ptr<UpstreamPool>> UpstreamPool::create(UpstreamOptions options) {
  auto url = http::parse_base_url(options.base_url);
  if (!url.ok()) return make_error(url.error().kind, "--upstream: " + url.error().message);
  if (options.ca_file) {
    std::ifstream probe(*options.ca_file);
    if (!probe) {
      return make_error(ErrorKind::kIo, "CA file '" + *options.ca_file + "': cannot be read");
    }
  }
  std::unique_ptr<UpstreamPool> pool(new UpstreamPool());
  bool default_port =
      (url->scheme == "http" && url->port == 80) || (url->scheme == "https" && url->port == 443);
  std::string host = url->host.find(':') != std::string::npos && url->host.front() != '['
                         ? "[" + url->host + "]"
                         : url->host;
  pool->host_header_ = default_port ? host : host + ":" + std::to_string(url->port);
  pool->origin_ = url->scheme + "://" + pool->host_header_;
  pool->path_prefix_ = url->path_prefix;
  pool->scheme_ = url->scheme;
  pool->host_ = url->host;
  pool->port_ = url->port;
  pool->options_ = std::move(options);
  auto probe = pool->make_client();
  if (!probe->is_valid()) {
    return make_error(ErrorKind::kInvalid, "--upstream: cannot set up a client for '" +
                                               url->scheme + "://" + host + ":" +
                                               std::to_string(url->port) + "'");
  }
  pool->idle_.push_back(std::move(probe));
  return pool;
}

UpstreamPool::~UpstreamPool() = default;

std::unique_ptr<httplib::ClientImpl> UpstreamPool::make_client() const {
  // Plain HTTP through LeanClient (a proxy's upstream exchange is half its syscalls).
  auto c = http::make_client(scheme_, host_, port_);
  c->set_connection_timeout(secs(options_.connect_timeout), usecs(options_.connect_timeout));
  c->set_read_timeout(secs(options_.read_timeout), usecs(options_.read_timeout));
  c->set_write_timeout(secs(options_.write_timeout), usecs(options_.write_timeout));
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_url_encode(false);
  c->set_compress(false);
  c->set_decompress(
      true);  // a server ignoring Accept-Encoding: identity is decoded, never recorded compressed
  c->set_follow_location(false);
  if (scheme_ == "https") {
    c->enable_server_certificate_verification(options_.verify_tls);
    if (options_.ca_file) c->set_ca_cert_path(*options_.ca_file);
  }
  return c;
}

Result<model::HttpResponse> UpstreamPool::send(const std::string& method, const std::string& target,
                                               const model::Headers& headers,
                                               const std::string& body) {
  std::unique_ptr<httplib::ClientImpl> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = make_client();
  httplib::Request req;
  req.method = method;
  req.path = path_prefix_ + target;
  for (const auto& [k, v] : headers.entries) req.headers.emplace(k, v);
  req.body = body;
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = client->send(req, res, err);
  if (!ok) {
    ErrorKind kind = ErrorKind::kIo;
    if (err == httplib::Error::Connection || err == httplib::Error::SSLConnection) {
      kind = ErrorKind::kUnavailable;
    } else if (err == httplib::Error::ConnectionTimeout || err == httplib::Error::Read) {
      kind = ErrorKind::kTimeout;
    }
    return make_error(kind, method + " " + origin_ + path_prefix_ +
                                target.substr(0, target.find('?')) + ": " +
                                httplib::to_string(err));
  }
  model::HttpResponse out;
  out.status = res.status;
  std::string encoding = res.get_header_value("Content-Encoding");
  bool decoded = encoding == "gzip" || encoding == "deflate" || encoding == "br";
  for (auto& [k, v] : res.headers) {
    if (decoded && (model::header_name_equal(k, "Content-Encoding") ||
                    model::header_name_equal(k, "Content-Length"))) {
      continue;
    }
    out.headers.add(k, v);
  }
  out.body = std::move(res.body);
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(client));
  }
  return out;
}

}  // namespace patrol::recorder
