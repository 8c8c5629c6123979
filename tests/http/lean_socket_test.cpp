// LeanServer and LeanClient: cpp-httplib's server and client over the leaner socket stream must
// behave as cpp-httplib does (keep-alive, pipelining, 100-continue, timeouts, large bodies,
// addresses) and stop promptly.
#include "http/lean_socket.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "tests/loopback.hpp"

namespace patrol::http {
namespace {

// A LeanServer on an ephemeral loopback port, listening on its own thread.
class Served {
 public:
  explicit Served(const std::function<void(LeanServer&)>& configure) {
    configure(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Served() { stop(); }
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  LeanServer& server() { return server_; }

 private:
  LeanServer server_;
  int port_ = 0;
  std::thread thread_;
};

// A raw client socket, so tests control exactly what bytes go out and when.
class Raw {
 public:
  // The guard bounds a hang; it is never reached when the server is right.
  explicit Raw(int port) : fd_(testing::connect_loopback(port, std::chrono::seconds(30))) {
    connected_ = fd_ >= 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send_all(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  // Reads until `needle` has arrived (true) or the peer closes / the guard expires (false).
  bool read_until(const std::string& needle) {
    while (got_.find(needle) == std::string::npos) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      got_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  // True when the peer closed the connection (recv returned 0) before the guard expired.
  bool closed_by_peer() {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;
      got_.append(buf, static_cast<std::size_t>(n));
    }
  }
  const std::string& received() const { return got_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string got_;
};

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

void echo_routes(LeanServer& s) {
  s.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("hello " + req.get_param_value("n"), "text/plain");
  });
  s.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.body, "application/octet-stream");
  });
}

TEST(LeanServer, AnswersPipelinedRequestsInOrderOnOneConnection) {
  Served served(echo_routes);
  Raw c(served.port());
  ASSERT_TRUE(c.connected());
  // Three requests in one send: the second and third sit in the stream's buffer after the first.
  std::string three;
  for (int i = 1; i <= 3; ++i) {
    three += "GET /hello?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  c.send_all(three);
  ASSERT_TRUE(c.read_until("hello 3"));
  const std::string& got = c.received();
  EXPECT_EQ(count_of(got, "HTTP/1.1 200 OK"), 3u);
  EXPECT_LT(got.find("hello 1"), got.find("hello 2"));
  EXPECT_LT(got.find("hello 2"), got.find("hello 3"));
}

TEST(LeanServer, SendsOneHundredContinueBeforeReadingTheBody) {
  Served served(echo_routes);
  Raw c(served.port());
  ASSERT_TRUE(c.connected());
  c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  // The client waits for the interim response before it sends the body; a stream that kept the
  // interim response back until the exchange ended would leave both sides waiting.
  ASSERT_TRUE(c.read_until("HTTP/1.1 100 Continue\r\n\r\n"));
  c.send_all("abcde");
  ASSERT_TRUE(c.read_until("abcde"));
  EXPECT_NE(c.received().find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST(LeanServer, AnswersARequestThatStallsPastTheReadTimeoutWith400) {
  Served served([](LeanServer& s) {
    echo_routes(s);
    s.set_read_timeout(0, 200'000);
  });
  Raw c(served.port());
  ASSERT_TRUE(c.connected());
  c.send_all("GET /hello HTTP/1.1\r\nHost: x\r\n");  // the blank line never comes
  // As cpp-httplib's own stream does: the header read gives up and the request is refused. A read
  // that ignored the timeout would leave this waiting for the client's guard.
  ASSERT_TRUE(c.read_until("\r\n\r\n"));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << c.received();
  EXPECT_EQ(c.received().find("hello"), std::string::npos);
}

TEST(LeanServer, HonoursConnectionClose) {
  Served served(echo_routes);
  Raw c(served.port());
  ASSERT_TRUE(c.connected());
  c.send_all("GET /hello?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_NE(c.received().find("hello 1"), std::string::npos);
}

TEST(LeanServer, StopDoesNotWaitForAnIdleKeepAliveClient) {
  Served served([](LeanServer& s) {
    echo_routes(s);
    s.set_keep_alive_timeout(3600);  // stop() must not wait for this
  });
  Raw c(served.port());
  ASSERT_TRUE(c.connected());
  c.send_all("GET /hello?n=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.read_until("hello 1"));
  // The connection now idles in the keep-alive wait. stop() must end it; the generous bound only
  // keeps a broken build from hanging the suite for the hour.
  auto stopped = std::async(std::launch::async, [&] { served.stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(LeanClient, KeepsOneConnectionAndMovesLargeBinaryBodiesByteExact) {
  std::mutex mu;
  std::set<std::pair<std::string, int>> peers;
  Served served([&](LeanServer& s) {
    s.Post("/echo", [&](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu);
        peers.insert({req.remote_addr, req.remote_port});
      }
      res.set_content(req.body, "application/octet-stream");
    });
  });
  LeanClient client("127.0.0.1", served.port());
  client.set_keep_alive(true);
  client.set_read_timeout(30, 0);
  // Every byte value, and bodies from empty to several times the stream's gathering limit.
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{70'000}, std::size_t{1'000'003}}) {
    std::string body(size, '\0');
    for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>((i * 131 + 7) % 256);
    auto res = client.Post("/echo", body, "application/octet-stream");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(res->body == body) << "body of " << size << " bytes changed";
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(peers.size(), 1u) << "the client opened more than one connection";
  EXPECT_EQ(peers.begin()->first, "127.0.0.1");
  EXPECT_GT(peers.begin()->second, 0);
}

TEST(LeanClient, GivesUpOnAResponseThatDoesNotComeWithinTheReadTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Served served([&](LeanServer& s) {
    s.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
      res.set_content("late", "text/plain");
    });
  });
  LeanClient client("127.0.0.1", served.port());
  client.set_read_timeout(0, 200'000);
  auto res = client.Get("/slow");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::Read);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

}  // namespace
}  // namespace patrol::http
