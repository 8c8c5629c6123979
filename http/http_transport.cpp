#include "http/http_transport.hpp"

#include <httplib.h>

#include <charconv>
#include <cstdlib>
#include <fstream>

#include "http/lean_socket.hpp"

namespace patrol::http {

using model::ErrorKind;
using model::HttpRequest;
using model::HttpResponse;
using model::make_error;
using model::Result;

namespace {

// Responses larger than this are refused rather than buffered without bound.
constexpr std::uint64_t kMaxResponseBytes = 16u << 20;

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

std::optional<std::string> proxy_from_env(const BaseUrl& url) {
  const char* names_https[] = {"HTTPS_PROXY", "https_proxy"};
  const char* names_http[] = {"HTTP_PROXY", "http_proxy"};
  for (const char* name : url.scheme == "https" ? names_https : names_http) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::string(v);
  }
  return std::nullopt;
}

}  // namespace

Result<BaseUrl> parse_base_url(std::string_view url) {
  BaseUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return make_error(ErrorKind::kInvalid,
                      "URL '" + std::string(url) + "': expected http:// or https://");
  }
  out.scheme = std::string(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return make_error(ErrorKind::kInvalid,
                      "URL '" + std::string(url) + "': scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  out.path_prefix = std::string(prefix);
  if (authority.find('@') != std::string_view::npos) {
    return make_error(ErrorKind::kInvalid,
                      "URL: credentials in the URL are not accepted; use the environment");
  }
  std::string_view host = authority;
  int port = out.scheme == "https" ? 443 : 80;
  auto colon = authority.rfind(':');
  bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || authority.find(']') < colon)) {
    std::string_view p = authority.substr(colon + 1);
    host = authority.substr(0, colon);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || ptr != p.data() + p.size() || port <= 0 || port > 65535) {
      return make_error(ErrorKind::kInvalid,
                        "URL '" + std::string(url) + "': bad port '" + std::string(p) + "'");
    }
  }
  if (host.empty()) {
    return make_error(ErrorKind::kInvalid, "URL '" + std::string(url) + "': missing host");
  }
  out.host = std::string(host);
  out.port = port;
  return out;
}

std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    bool keep = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct HttpTransport::Impl {
  HttpTransportOptions options;
  BaseUrl url;
  std::unique_ptr<httplib::ClientImpl> client;
};

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::create(HttpTransportOptions options) {
  auto url = parse_base_url(options.base_url);
  if (!url.ok()) return url.error();
  if (options.ca_file) {
    std::ifstream probe(*options.ca_file);
    if (!probe) {
      return make_error(ErrorKind::kIo, "--ca-file '" + *options.ca_file + "': cannot be read");
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->url = *url;
  std::string host_port = url->scheme + "://" + url->host + ":" + std::to_string(url->port);
  impl->client = make_client(url->scheme, url->host, url->port);
  if (!impl->client->is_valid()) {
    return make_error(ErrorKind::kInvalid, "cannot set up a client for '" + host_port + "'");
  }
  auto& c = *impl->client;
  auto to_sec = [](std::chrono::milliseconds ms) { return static_cast<time_t>(ms.count() / 1000); };
  auto to_usec = [](std::chrono::milliseconds ms) {
    return static_cast<time_t>((ms.count() % 1000) * 1000);
  };
  c.set_connection_timeout(to_sec(options.connect_timeout), to_usec(options.connect_timeout));
  c.set_read_timeout(to_sec(options.read_timeout), to_usec(options.read_timeout));
  c.set_write_timeout(to_sec(options.write_timeout), to_usec(options.write_timeout));
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_url_encode(false);  // paths arrive encoded by encode_path
  c.set_decompress(false);
  c.set_compress(false);
  c.set_follow_location(false);
  if (url->scheme == "https") {
    c.enable_server_certificate_verification(options.verify_tls);
    if (options.ca_file) c.set_ca_cert_path(*options.ca_file);
  }
  std::optional<std::string> proxy = options.proxy;
  if (!proxy && !is_loopback(url->host)) proxy = proxy_from_env(*url);
  if (proxy) {
    auto p = parse_base_url(*proxy);
    if (!p.ok()) return make_error(ErrorKind::kInvalid, "proxy: " + p.error().message);
    c.set_proxy(p->host, p->port);
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

Result<HttpResponse> HttpTransport::send(const HttpRequest& request) {
  httplib::Request req;
  req.method = request.method;
  req.path = encode_path(impl_->url.path_prefix + request.path);
  if (!request.query.empty()) req.path += "?" + request.query;
  for (const auto& [k, v] : request.headers.entries) req.headers.emplace(k, v);
  if (!request.headers.has("Accept-Encoding")) req.headers.emplace("Accept-Encoding", "identity");
  if (!request.headers.has("User-Agent"))
    req.headers.emplace("User-Agent", impl_->options.user_agent);
  req.body = request.body;
  if (!request.body.empty() && !request.headers.has("Content-Type")) {
    req.headers.emplace("Content-Type", "application/json");
  }
  // Overall deadline and size cap on the body, on top of the per-read timeout.
  auto deadline = std::chrono::steady_clock::now() + impl_->options.read_timeout * 2;
  bool too_big = false;
  req.progress = [&](std::uint64_t current, std::uint64_t /*total*/) {
    if (current > kMaxResponseBytes) {
      too_big = true;
      return false;
    }
    return std::chrono::steady_clock::now() < deadline;
  };
  auto res = impl_->client->send(req);
  std::string where = request.method + " " + impl_->url.scheme + "://" + impl_->url.host + ":" +
                      std::to_string(impl_->url.port) + request.path;
  if (!res) {
    auto err = res.error();
    if (too_big) {
      return make_error(ErrorKind::kInvalid, where + ": response body larger than " +
                                                 std::to_string(kMaxResponseBytes) + " bytes");
    }
    ErrorKind kind = ErrorKind::kIo;
    switch (err) {
      case httplib::Error::Connection:
      case httplib::Error::BindIPAddress:
      case httplib::Error::SSLConnection:
        kind = ErrorKind::kUnavailable;
        break;
      case httplib::Error::ConnectionTimeout:
      case httplib::Error::Canceled:
        kind = ErrorKind::kTimeout;
        break;
      case httplib::Error::SSLServerVerification:
      case httplib::Error::SSLLoadingCerts:
        kind = ErrorKind::kInvalid;
        break;
      default:
        break;
    }
    std::string reason = httplib::to_string(err);
    if (err == httplib::Error::Read) reason += " (no complete response within the read timeout)";
    if (err == httplib::Error::Canceled) reason = "no complete response within the deadline";
    return make_error(kind, where + ": " + reason);
  }
  HttpResponse out;
  out.status = res->status;
  for (const auto& [k, v] : res->headers) out.headers.add(k, v);
  out.body = std::move(res->body);
  return out;
}

}  // namespace patrol::http
