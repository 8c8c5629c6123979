// HTTP(S) transport over cpp-httplib: one keep-alive connection per transport, TCP_NODELAY,
// connect/read/write timeouts, TLS with certificate verification on by default, HTTPS_PROXY
// honoured, `Accept-Encoding: identity` so bodies arrive as the server wrote them.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/transport.hpp"

namespace patrol::http {

struct HttpTransportOptions {
  std::string base_url;  // "http://127.0.0.1:8080" or "https://hub.docker.com"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{15000};
  std::chrono::milliseconds write_timeout{15000};
  std::optional<std::string> ca_file;  // PEM bundle; default: the system store
  bool verify_tls = true;
  std::string user_agent = "patrol";
  // Proxy "http://host:port"; when unset, HTTPS_PROXY / https_proxy (https targets) or
  // HTTP_PROXY / http_proxy (http targets) from the environment, except for loopback targets.
  std::optional<std::string> proxy;
};

// The parts of a base URL patrol needs.
struct BaseUrl {
  std::string scheme;  // "http" or "https"
  std::string host;
  int port = 0;
  std::string path_prefix;  // without trailing slash, often empty
};

// Parses "http(s)://host[:port][/prefix]"; errors name the offending part.
model::Result<BaseUrl> parse_base_url(std::string_view url);

// Percent-encodes a path for the request line, keeping '/' and RFC 3986 unreserved characters.
std::string encode_path(std::string_view path);

class HttpTransport final : public Transport {
 public:
  // Validates the options (URL, CA file readable, proxy syntax) before any connection.
  static model::Result<std::unique_ptr<HttpTransport>> create(HttpTransportOptions options);
  ~HttpTransport() override;

  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override;

 private:
  struct Impl;
  explicit HttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace patrol::http
