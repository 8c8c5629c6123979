// The listener over loopback: HTTP and HTTPS, the cpp-httplib settings patrol chose, graceful
// stop, rate limiting and the manual clock, with real sockets on 127.0.0.1.
#include "server/listener.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "server/core.hpp"
#include "tests/loopback.hpp"
#include "tests/server/core_client.hpp"
#include "tests/server/tls_test_cert.hpp"

namespace patrol::server {
namespace {

using testing::body_json;
using testing::Json;
using testing::kAlicePassword;
using testing::make_core;

constexpr std::chrono::seconds kGuard{10};  // bound on every wait; never reached when correct

std::unique_ptr<Listener> start(ServerCore& core, ListenerOptions options = {}) {
  auto l = Listener::start(core, std::move(options));
  if (!l.ok()) {
    ADD_FAILURE() << "Listener::start: " << l.error().message;
    return nullptr;
  }
  return std::move(l).value();
}

void configure(httplib::Client& c) {
  c.set_connection_timeout(kGuard);
  c.set_read_timeout(kGuard);
  c.set_write_timeout(kGuard);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);  // or the client's own Nagle delays each body behind its headers
}

std::string session(httplib::Client& c) {
  auto r =
      c.Post("/v2/auth/token", Json{{"identifier", "alice"}, {"secret", kAlicePassword}}.dump(),
             "application/json");
  if (!r || r->status != 200) {
    ADD_FAILURE() << "login failed";
    return "";
  }
  return body_json(model::HttpResponse{r->status, {}, r->body})["access_token"];
}

httplib::Headers bearer(const std::string& jwt) { return {{"Authorization", "Bearer " + jwt}}; }

Json json_of(const httplib::Result& r) {
  return Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

// A raw loopback connection, for requests httplib's client would not send.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(patrol::testing::connect_loopback(port, kGuard)) {
    connected_ = fd_ >= 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends raw bytes and reads one response (headers and a Content-Length body).
  std::string exchange(const std::string& request) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return "";
    }
    std::string in;
    char buf[4096];
    for (;;) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + length) return in.substr(0, end + 4 + length);
      }
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return in;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(ServerListener, ServesTheCoreOverLoopbackWithTheChosenKeepAlive) {
  auto core = make_core();
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  EXPECT_GT(listener->port(), 0);
  EXPECT_EQ(listener->base_url(), "http://127.0.0.1:" + std::to_string(listener->port()));
  EXPECT_FALSE(listener->tls());

  httplib::Client c("127.0.0.1", listener->port());
  configure(c);
  c.set_default_headers({{"User-Agent", "listener-test/2"}});
  auto jwt = session(c);
  auto created =
      c.Post("/v2/access-tokens", bearer(jwt),
             Json{{"token_label", "ci"}, {"scopes", {"repo:read"}}}.dump(), "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(created->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(created->get_header_value("Keep-Alive"), "timeout=2, max=100000");
  auto token = json_of(created);
  EXPECT_EQ(token["creator_ip"], "127.0.0.1");
  EXPECT_EQ(token["creator_ua"], "listener-test/2");
  EXPECT_TRUE(created->has_header("X-RateLimit-Limit"));

  for (int i = 0; i < 20; ++i) {  // more than httplib's stock 5 per connection
    auto r = c.Get(("/v2/access-tokens/" + token["uuid"].get<std::string>()).c_str(), bearer(jwt));
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
  }
  auto deleted =
      c.Delete(("/v2/access-tokens/" + token["uuid"].get<std::string>()).c_str(), bearer(jwt));
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
  EXPECT_TRUE(deleted->body.empty());
  auto missing = c.Get("/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json_of(missing).contains("message"));
}

TEST(ServerListener, WorkersRunOnTheChosenCpuOnly) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int last = -1;  // the highest CPU this process may use: not the one a thread starts on by chance
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) last = cpu;
  }
  ASSERT_GE(last, 0);
  std::atomic<int> wrong{0};
  std::atomic<int> served{0};
  ListenerOptions o;
  o.worker_cpu = last;
  auto l = Listener::start(
      [&](const model::HttpRequest&) {
        cpu_set_t mine;
        if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) != 0 ||
            CPU_COUNT(&mine) != 1 || !CPU_ISSET(last, &mine) || sched_getcpu() != last) {
          ++wrong;
        }
        ++served;
        return model::HttpResponse{204, {}, ""};
      },
      "hub", o);
  ASSERT_TRUE(l.ok()) << l.error().message;
  for (int connection = 0; connection < 3; ++connection) {
    httplib::Client c("127.0.0.1", (*l)->port());
    configure(c);
    for (int i = 0; i < 5; ++i) {
      auto r = c.Get("/");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 204);
    }
  }
  EXPECT_EQ(served.load(), 15);
  EXPECT_EQ(wrong.load(), 0);
  // The thread that started the listener keeps its own CPUs.
  cpu_set_t after;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&after, &allowed));
}

TEST(ServerListener, NeverCompressesEvenWhenTheClientAccepts) {
  auto core = make_core();
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  httplib::Client c("127.0.0.1", listener->port());
  configure(c);
  c.set_decompress(false);
  auto jwt = session(c);
  httplib::Headers h = bearer(jwt);
  h.emplace("Accept-Encoding", "gzip, deflate, br");
  auto r = c.Get("/v2/access-tokens", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_TRUE(json_of(r).is_object()) << r->body;
}

TEST(ServerListener, BodylessRequestsAreAnsweredAsEmptyBodiesNotHeldUntilTimeout) {
  auto core = make_core();
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  RawConnection raw(listener->port());
  ASSERT_TRUE(raw.connected());
  // No Content-Length, no Transfer-Encoding: stock httplib 0.11 waits for the read timeout and
  // answers an empty 400; the listener answers the core's JSON 400 at once.
  auto r = raw.exchange("POST /v2/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_NE(r.find("\"message\""), std::string::npos) << r;
  // The connection stays usable for the next request.
  auto again = raw.exchange("GET /token?service=registry.docker.io HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(again.rfind("HTTP/1.1 200", 0), 0u) << again;
  auto patch = raw.exchange("PATCH /v2/access-tokens/x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(patch.rfind("HTTP/1.1 401", 0), 0u) << patch;
}

TEST(ServerListener, ErrorsHttplibProducesItselfAreJson) {
  auto core = make_core();
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  RawConnection long_uri(listener->port());
  auto r = long_uri.exchange("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 414", 0), 0u) << r.substr(0, 200);
  EXPECT_NE(r.find("{\"errinfo\":{},\"message\":\"HTTP 414"), std::string::npos) << r;

  httplib::Client c("127.0.0.1", listener->port());
  configure(c);
  auto big =
      c.Post("/v2/auth/token", std::string(kMaxRequestBodyBytes + 10, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_TRUE(json_of(big).contains("message")) << big->body;
}

TEST(ServerListener, ServesHttpsWithAGeneratedCertificate) {
  auto cert = testing::make_test_certificate(::testing::TempDir());
  ASSERT_TRUE(cert);
  auto core = make_core();
  ListenerOptions options;
  options.tls_cert_file = cert->cert_file;
  options.tls_key_file = cert->key_file;
  auto listener = start(*core, options);
  ASSERT_TRUE(listener);
  EXPECT_TRUE(listener->tls());
  EXPECT_EQ(listener->base_url().rfind("https://127.0.0.1:", 0), 0u);

  httplib::SSLClient tls("127.0.0.1", listener->port());
  tls.set_ca_cert_path(cert->cert_file.c_str());
  tls.enable_server_certificate_verification(true);
  tls.set_connection_timeout(kGuard);
  tls.set_read_timeout(kGuard);
  auto r =
      tls.Post("/v2/auth/token", Json{{"identifier", "alice"}, {"secret", kAlicePassword}}.dump(),
               "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(json_of(r).contains("access_token"));

  httplib::Client plain("127.0.0.1", listener->port());
  configure(plain);
  auto refused = plain.Get("/token?service=registry.docker.io");
  EXPECT_TRUE(!refused || refused->status != 200);

  listener->stop();
  testing::remove_test_certificate(*cert);
}

TEST(ServerListener, RefusesUnusableTlsFilesAndBusyPorts) {
  auto core = make_core();
  ListenerOptions missing;
  missing.tls_cert_file = "/nonexistent/cert.pem";
  missing.tls_key_file = "/nonexistent/key.pem";
  auto r1 = Listener::start(*core, missing);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().kind, model::ErrorKind::kInvalid);
  EXPECT_NE(r1.error().message.find("/nonexistent/cert.pem"), std::string::npos);
  ListenerOptions half;
  half.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_FALSE(Listener::start(*core, half).ok());

  auto first = start(*core);
  ASSERT_TRUE(first);
  ListenerOptions same;
  same.port = first->port();
  auto second = Listener::start(*core, same);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, model::ErrorKind::kIo);
}

TEST(ServerListener, StopLetsAnInFlightRequestFinishAndRefusesNewConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> blocked{false};
  ServerOptions options;
  options.faults = {"lost-update-patch"};  // opens a window inside PATCH where the test holds it
  options.race_window_hook = [&](std::string_view window) {
    if (window != "patch" || blocked.exchange(true)) return;
    entered.set_value();
    released.wait();
  };
  auto core = make_core(options);
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  const int port = listener->port();

  httplib::Client c("127.0.0.1", port);
  configure(c);
  auto jwt = session(c);
  auto created =
      c.Post("/v2/access-tokens", bearer(jwt),
             Json{{"token_label", "x"}, {"scopes", {"repo:read"}}}.dump(), "application/json");
  ASSERT_TRUE(created);
  std::string uuid = json_of(created)["uuid"];

  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client p("127.0.0.1", port);
    configure(p);
    auto r = p.Patch(("/v2/access-tokens/" + uuid).c_str(), bearer(jwt),
                     Json{{"token_label", "renamed"}}.dump(), "application/json");
    return r ? r->status : -1;
  });
  ASSERT_EQ(entered.get_future().wait_for(kGuard), std::future_status::ready);

  c.stop();  // an idle keep-alive connection would hold stop() for the keep-alive timeout
  auto stopping = std::async(std::launch::async, [&] { listener->stop(); });
  // Wait (bounded) until the listening socket is gone: new connections are refused.
  bool refused = false;
  for (auto deadline = std::chrono::steady_clock::now() + kGuard;
       !refused && std::chrono::steady_clock::now() < deadline;) {
    RawConnection probe(port);
    refused = !probe.connected();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
  EXPECT_NE(stopping.wait_for(std::chrono::seconds(0)), std::future_status::ready)
      << "stop() returned while a request was still in flight";
  release.set_value();
  EXPECT_EQ(in_flight.get(), 200);
  ASSERT_EQ(stopping.wait_for(kGuard), std::future_status::ready);
}

TEST(ServerListener, RateLimitAnswers429WithRetryAfter) {
  ServerOptions options;
  options.rate_limit_per_minute = 2;
  auto core = make_core(options);
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  httplib::Client c("127.0.0.1", listener->port());
  configure(c);
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get("/token?service=registry.docker.io");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("X-RateLimit-Limit"), "2");
    EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), std::to_string(1 - i));
  }
  auto over = c.Get("/token?service=registry.docker.io");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  ASSERT_TRUE(over->has_header("Retry-After"));
  auto wait = std::stol(over->get_header_value("Retry-After"));
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 60);
  EXPECT_EQ(over->get_header_value("X-RateLimit-Remaining"), "0");
  EXPECT_TRUE(json_of(over).contains("message"));
}

TEST(ServerListener, ManualClockExpiresTokensWithoutWaiting) {
  ServerOptions options;
  options.manual_clock = true;
  auto core = make_core(options);
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  httplib::Client c("127.0.0.1", listener->port());
  configure(c);
  auto now = c.Get("/_patrol/clock");
  ASSERT_TRUE(now);
  ASSERT_EQ(now->status, 200);
  auto start_time = model::parse_rfc3339(json_of(now)["now"].get<std::string>());
  ASSERT_TRUE(start_time.ok());

  auto jwt = session(c);
  auto expires = model::format_rfc3339({start_time->micros + 60'000'000});
  auto created =
      c.Post("/v2/access-tokens", bearer(jwt),
             Json{{"token_label", "x"}, {"scopes", {"repo:read"}}, {"expires_at", expires}}.dump(),
             "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201);
  auto token = json_of(created);
  auto use = [&] {
    auto r =
        c.Post("/v2/auth/token", Json{{"identifier", "alice"}, {"secret", token["token"]}}.dump(),
               "application/json");
    return r ? r->status : -1;
  };
  EXPECT_EQ(use(), 200);

  auto moved = c.Post("/_patrol/clock", R"({"advance_seconds": 60})", "application/json");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 200);
  EXPECT_EQ(json_of(moved)["now"], expires);
  EXPECT_EQ(use(), 401);
  auto listed = c.Get("/v2/access-tokens", bearer(jwt));
  ASSERT_TRUE(listed);
  EXPECT_EQ(json_of(listed)["count"], 1);
  EXPECT_EQ(json_of(listed)["active_count"], 0);
  auto path = "/v2/access-tokens/" + token["uuid"].get<std::string>();
  auto patched = c.Patch(path.c_str(), bearer(jwt), R"({"is_active": true})", "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 400);
  auto deleted = c.Delete(path.c_str(), bearer(jwt));
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
}

TEST(ServerListener, ServesManyOpenKeepAliveConnectionsAtOnce) {
  auto core = make_core();
  ListenerOptions options;
  options.keep_alive_timeout = std::chrono::seconds(30);  // idle connections keep their worker
  auto listener = start(*core, options);
  ASSERT_TRUE(listener);
  // Stock httplib has 8 workers: a 9th open connection would wait for one of them to idle out.
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 12; ++i) {
    open.push_back(std::make_unique<RawConnection>(listener->port()));
    ASSERT_TRUE(open.back()->connected());
    auto r =
        open.back()->exchange("GET /token?service=registry.docker.io HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << "connection " << i << ": " << r;
  }
  open.clear();  // closed by the client, so stop() need not wait for them to idle out
}

TEST(ServerListener, ParallelClientsSeeAConsistentStore) {
  auto core = make_core();
  auto listener = start(*core);
  ASSERT_TRUE(listener);
  httplib::Client setup("127.0.0.1", listener->port());
  configure(setup);
  auto jwt = session(setup);
  constexpr int kClients = 6;
  constexpr int kEach = 20;
  std::vector<std::future<int>> workers;
  for (int w = 0; w < kClients; ++w) {
    workers.push_back(std::async(std::launch::async, [&, w] {
      httplib::Client c("127.0.0.1", listener->port());
      configure(c);
      int created = 0;
      for (int i = 0; i < kEach; ++i) {
        auto r =
            c.Post("/v2/access-tokens", bearer(jwt),
                   Json{{"token_label", "w" + std::to_string(w)}, {"scopes", {"repo:read"}}}.dump(),
                   "application/json");
        created += (r && r->status == 201) ? 1 : 0;
      }
      return created;
    }));
  }
  int total = 0;
  for (auto& f : workers) total += f.get();
  EXPECT_EQ(total, kClients * kEach);
  auto listed = setup.Get("/v2/access-tokens?page_size=100", bearer(jwt));
  ASSERT_TRUE(listed);
  EXPECT_EQ(json_of(listed)["count"], kClients * kEach);
}

}  // namespace
}  // namespace patrol::server
