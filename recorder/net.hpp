// Socket-level helpers shared by the recording proxy and the replay server: listen-address
// parsing, explicit cpp-httplib server tuning for the replay server (Debian 0.11 defaults serve 8
// connections and drop keep-alive after 5 requests), the upstream's identity and a pooled
// keep-alive client that forwards request targets byte-exact (the proxy's path to an HTTPS
// upstream), content decoding, and hop-by-hop header filtering (RFC 9110 section 7.6.1).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/http_message.hpp"
#include "model/result.hpp"

namespace httplib {
class Server;
class ClientImpl;
struct Request;
struct Response;
}  // namespace httplib

namespace patrol::recorder {

struct ListenAddress {
  std::string host = "127.0.0.1";
  int port = 0;
};

// Parses "HOST:PORT", ":PORT" or "PORT" (host 127.0.0.1; port 0 picks a free one).
model::Result<ListenAddress> parse_listen_address(std::string_view text);

// Applies the settings every patrol server uses: `threads` worker threads (each keep-alive
// connection holds one), unlimited keep-alive requests (2 s idle timeout), TCP_NODELAY, 30 s
// read/write timeouts, a 64 MiB body limit, SO_REUSEADDR, and a listen backlog of 1024 once bound
// (see bind_tuned).
void tune_server(httplib::Server& server, std::size_t threads);

// Binds a tuned server and raises its listen backlog (cpp-httplib 0.11 listens with 5). Returns
// the bound port; errors name the address.
model::Result<int> bind_tuned(httplib::Server& server, const ListenAddress& address);

// True for headers that describe one connection, not the message: Connection and the names it
// lists, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade; plus the
// pseudo-headers cpp-httplib adds (REMOTE_ADDR, LOCAL_PORT, ...).
bool is_hop_by_hop(std::string_view name, std::string_view connection_header);

// Converts a cpp-httplib server request to a model request (headers minus hop-by-hop, path
// decoded, query raw, peer address).
model::HttpRequest from_server_request(const httplib::Request& request);

// Writes a model response into a cpp-httplib response (repeated headers kept; framing headers
// left to cpp-httplib).
void to_server_response(const model::HttpResponse& in, httplib::Response& out);
// The same, taking the body over instead of copying it.
void to_server_response(model::HttpResponse&& in, httplib::Response& out);

// True for the content codings patrol decodes (gzip, deflate, br).
bool is_decodable_coding(std::string_view coding);
// Decodes a body in one of those codings; nullopt when the bytes are not valid in it.
std::optional<std::string> decode_content(std::string_view coding, std::string_view body);

struct UpstreamOptions {
  std::string base_url;  // "http://127.0.0.1:8080" or "https://hub.docker.com"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  bool verify_tls = true;
  std::optional<std::string> ca_file;
};

// Keep-alive connections to one upstream, one per concurrent request, reused.
class UpstreamPool {
 public:
  static model::Result<std::unique_ptr<UpstreamPool>> create(UpstreamOptions options);
  ~UpstreamPool();

  // Sends a request with `target` ("/path?query") forwarded byte-exact. The headers are sent as
  // given; cpp-httplib adds Content-Length. Errors are kTimeout, kUnavailable or kIo naming the
  // upstream.
  model::Result<model::HttpResponse> send(const std::string& method, const std::string& target,
                                          const model::Headers& headers, const std::string& body);

  // "scheme://host[:port]" as a URL origin (default ports omitted).
  const std::string& origin() const { return origin_; }
  // The Host header value for the upstream.
  const std::string& host_header() const { return host_header_; }
  bool is_https() const { return scheme_ == "https"; }
  // Host (without brackets) and port to connect to, and the base URL's path, put before targets.
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& path_prefix() const { return path_prefix_; }
  const UpstreamOptions& options() const { return options_; }

 private:
  UpstreamPool() = default;
  std::unique_ptr<httplib::ClientImpl> make_client() const;

  UpstreamOptions options_;
  std::string scheme_;  // "http" or "https"
  std::string host_;
  int port_ = 0;
  std::string origin_;
  std::string host_header_;
  std::string path_prefix_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;
};

}  // namespace patrol::recorder
