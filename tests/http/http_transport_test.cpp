// The cpp-httplib transport against loopback servers: fidelity, timeouts, dead endpoints, bad
// URLs. Synchronisation uses condition variables, never sleeps.
#include "http/http_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace patrol::http {
namespace {

using model::ErrorKind;
using model::HttpRequest;

// A loopback httplib server on an ephemeral port, stopped and joined on destruction.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(httplib::Server&)> routes) {
    server_.set_keep_alive_max_count(1000);  // Debian's build closes after 5 requests
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(BaseUrl, ParsesAndRejects) {
  auto u = parse_base_url("https://hub.docker.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->host, "hub.docker.com");
  auto p = parse_base_url("http://127.0.0.1:8080/prefix/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->path_prefix, "/prefix");
  EXPECT_FALSE(parse_base_url("ftp://x").ok());
  EXPECT_FALSE(parse_base_url("http://x:99999").ok());
  EXPECT_FALSE(parse_base_url("hub.docker.com").ok());
  auto creds = parse_base_url("https://user:pw@hub.docker.com");
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.error().message.find("pw"), std::string::npos) << "never echo credentials";
}

TEST(EncodePath, KeepsSlashesAndUnreservedEscapesTheRest) {
  EXPECT_EQ(encode_path("/v2/access-tokens/abc-1_2.3~"), "/v2/access-tokens/abc-1_2.3~");
  EXPECT_EQ(encode_path("/v2/access-tokens/a b%"), "/v2/access-tokens/a%20b%25");
  EXPECT_EQ(encode_path("/\xff"), "/%FF");
}

TEST(HttpTransport, SendsMethodPathQueryHeadersAndBodyAndReadsTheResponse) {
  LoopbackServer server([](httplib::Server& s) {
    s.Patch(R"(/v2/access-tokens/(.*))", [](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json echo = {{"path", req.path},
                             {"segment", req.matches[1].str()},
                             {"q", req.get_param_value("page")},
                             {"auth", req.get_header_value("Authorization")},
                             {"enc", req.get_header_value("Accept-Encoding")},
                             {"len", req.get_header_value("Content-Length")},
                             {"body", req.body}};
      res.status = 200;
      res.set_header("X-RateLimit-Remaining", "41");
      res.set_content(echo.dump(), "application/json");
    });
  });
  auto t = HttpTransport::create({server.url()});
  ASSERT_TRUE(t.ok()) << t.error().message;
  HttpRequest req{"PATCH", "/v2/access-tokens/a b", "page=2", {}, R"({"is_active":false})"};
  req.headers.add("Authorization", "Bearer x.y.z");
  auto res = (*t)->send(req);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->headers.get("x-ratelimit-remaining"), "41");
  auto echo = nlohmann::json::parse(res->body);
  EXPECT_EQ(echo["segment"], "a b");
  EXPECT_EQ(echo["q"], "2");
  EXPECT_EQ(echo["auth"], "Bearer x.y.z");
  EXPECT_EQ(echo["enc"], "identity");
  EXPECT_EQ(echo["len"], "19");
  EXPECT_EQ(echo["body"], R"({"is_active":false})");
}

TEST(HttpTransport, ReusesOneKeepAliveConnection) {
  std::mutex mu;
  std::set<int> ports;
  LoopbackServer server([&](httplib::Server& s) {
    s.Get("/", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      ports.insert(req.remote_port);
      res.set_content("{}", "application/json");
    });
  });
  auto t = HttpTransport::create({server.url()});
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*t)->send(HttpRequest{"GET", "/"}).ok());
  EXPECT_EQ(ports.size(), 1u);
}

TEST(HttpTransport, ASlowServerTimesOutInsteadOfHanging) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  LoopbackServer server([&](httplib::Server& s) {
    s.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
      res.set_content("{}", "application/json");
    });
  });
  HttpTransportOptions opts{server.url()};
  opts.read_timeout = std::chrono::milliseconds(200);
  auto t = HttpTransport::create(opts);
  ASSERT_TRUE(t.ok());
  auto res = (*t)->send(HttpRequest{"GET", "/slow"});
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("/slow"), std::string::npos) << res.error().message;
}

TEST(HttpTransport, ADeadEndpointIsUnavailable) {
  // A socket bound but never listening: its port is ours and refuses connections.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  HttpTransportOptions opts{"http://127.0.0.1:" + std::to_string(port)};
  opts.connect_timeout = std::chrono::milliseconds(500);
  auto t = HttpTransport::create(opts);
  ASSERT_TRUE(t.ok());
  auto res = (*t)->send(HttpRequest{"GET", "/v2/access-tokens"});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().kind, ErrorKind::kUnavailable) << res.error().message;
  ::close(fd);
}

TEST(HttpTransport, AMissingCaFileIsAConfigurationError) {
  HttpTransportOptions opts{"https://127.0.0.1:1"};
  opts.ca_file = "/nonexistent/ca.pem";
  auto t = HttpTransport::create(opts);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace patrol::http
