// The recording proxy and the replay server over loopback: byte-exact forwarding (non-UTF-8
// bodies, raw request targets, repeated headers), many clients at once, upstream failures, and
// whole reference-server sessions recorded, verified, replayed and served back.
#include "recorder/proxy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "http/http_transport.hpp"
#include "recorder/replay_server.hpp"
#include "recorder/replayer.hpp"
#include "recorder/verify.hpp"
#include "recorder/writer.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"
#include "tests/recorder/har_validator.hpp"
#include "tests/recorder/sessions.hpp"
#include "tests/recorder/test_util.hpp"
#include "tests/server/tls_test_cert.hpp"

namespace patrol::recorder {
namespace {

using testing::make_jwt;
using testing::ScratchDir;

// An upstream that remembers the last request it saw and answers with binary bytes.
class EchoUpstream {
 public:
  struct Seen {
    std::string method, target, body;
    httplib::Headers headers;
  };

  EchoUpstream() {
    tune_server(server_, 32);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_ = {req.method, req.target, req.body, req.headers};
      }
      res.status =
          req.has_header("X-Want-Status") ? std::stoi(req.get_header_value("X-Want-Status")) : 200;
      res.headers.emplace("Set-Cookie", "a=1; Path=/");
      res.headers.emplace("Set-Cookie", "b=2; Path=/");
      res.headers.emplace("X-Upstream", "yes");
      res.set_content(std::string("\x00\xff\xfe", 3) + req.target, "application/octet-stream");
    };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    server_.Patch(".*", handler);
    server_.Delete(".*", handler);
    port_ = *bind_tuned(server_, ListenAddress{});
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~EchoUpstream() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  Seen last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  Seen last_;
};

std::unique_ptr<httplib::Client> client_for(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_url_encode(false);
  c->set_keep_alive(true);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(10, 0);
  c->set_write_timeout(10, 0);
  return c;
}

std::vector<std::string> values(const httplib::Headers& h, const std::string& name) {
  std::vector<std::string> out;
  auto range = h.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

TEST(Proxy, ForwardsAndRecordsByteExact) {
  EchoUpstream upstream;
  ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("f.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  ProxyOptions po;
  po.upstream.base_url = upstream.url();
  auto proxy = RecordingProxy::start(po, **writer);
  ASSERT_TRUE(proxy.ok()) << proxy.error().message;

  const std::string target = "/v2/a%2Fb/x+y?q=1,2&z=a+b&e=%C3%A9";
  const std::string body("\x00\x01{\"k\":\xff}\r\n", 11);
  const std::string jwt = make_jwt({{"sub", "alice"}}, 3);
  httplib::Headers headers = {{"X-Custom", "v1"},
                              {"X-Custom", "v2"},
                              {"Authorization", "Bearer " + jwt},
                              {"Connection", "keep-alive, X-Hop"},
                              {"X-Hop", "must not pass"},
                              {"X-Want-Status", "207"}};
  auto client = client_for((*proxy)->port());
  auto res = client->Post(target.c_str(), headers, body, "application/octet-stream");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  client.reset();  // an idle keep-alive connection would hold stop() until it times out

  auto seen = upstream.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, target);
  EXPECT_EQ(seen.body, body);
  EXPECT_EQ(values(seen.headers, "X-Custom"), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(values(seen.headers, "Authorization"), std::vector<std::string>{"Bearer " + jwt});
  EXPECT_TRUE(values(seen.headers, "X-Hop").empty());
  EXPECT_EQ(values(seen.headers, "Host"),
            std::vector<std::string>{"127.0.0.1:" + std::to_string(upstream.port())});
  EXPECT_EQ(values(seen.headers, "Accept-Encoding"), std::vector<std::string>{"identity"});

  EXPECT_EQ(res->status, 207);
  EXPECT_EQ(res->body, std::string("\x00\xff\xfe", 3) + target);
  EXPECT_EQ(values(res->headers, "Set-Cookie"),
            (std::vector<std::string>{"a=1; Path=/", "b=2; Path=/"}));
  EXPECT_EQ(values(res->headers, "X-Upstream"), std::vector<std::string>{"yes"});

  (*proxy)->stop();
  ASSERT_TRUE((*writer)->finish().ok());
  auto doc = nlohmann::json::parse(testing::read_all(dir.file("f.har")));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  auto cassette = read_cassette(dir.file("f.har"));
  ASSERT_TRUE(cassette.ok()) << cassette.error().message;
  ASSERT_EQ(cassette->entries.size(), 1u);
  const auto& e = cassette->entries[0];
  EXPECT_EQ(e.origin, upstream.url());
  EXPECT_EQ(e.request.path, "/v2/a/b/x+y");
  EXPECT_EQ(e.request.query, "q=1,2&z=a+b&e=%C3%A9");
  EXPECT_EQ(e.request.body, body);
  EXPECT_EQ(e.request.peer, "127.0.0.1");
  EXPECT_EQ(*e.request.headers.get("Authorization"),
            "Bearer " + jwt.substr(0, jwt.rfind('.') + 1) + "<<patrol:jwt:1>>");
  EXPECT_FALSE(e.request.headers.has("X-Hop"));
  EXPECT_EQ(e.response.status, 207);
  EXPECT_EQ(e.response.body, std::string("\x00\xff\xfe", 3) + target);
  EXPECT_EQ(e.response.headers.get("Set-Cookie"), "a=<<patrol:secret:2>>; Path=/");
}

TEST(Proxy, CompressedRequestBodiesGoUpstreamDecoded) {
  EchoUpstream upstream;
  ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("g.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  ProxyOptions po;
  po.upstream.base_url = upstream.url();
  auto proxy = RecordingProxy::start(po, **writer);
  ASSERT_TRUE(proxy.ok());
  const std::string body = R"({"token_label":"compressed","scopes":["repo:read"]})";
  {
    auto client = client_for((*proxy)->port());
    client->set_compress(true);  // gzip-encodes the request body
    auto res = client->Post("/v2/access-tokens", body, "application/json");
    ASSERT_TRUE(res);
  }
  auto seen = upstream.last();
  EXPECT_EQ(seen.body, body);
  EXPECT_TRUE(values(seen.headers, "Content-Encoding").empty());
  (*proxy)->stop();
  ASSERT_TRUE((*writer)->finish().ok());
  auto cassette = read_cassette(dir.file("g.har"));
  ASSERT_TRUE(cassette.ok());
  ASSERT_EQ(cassette->entries.size(), 1u);
  EXPECT_EQ(cassette->entries[0].request.body, body);
  EXPECT_FALSE(cassette->entries[0].request.headers.has("Content-Encoding"));
}

TEST(Proxy, ServesManyClientsAtOnceAndRecordsEveryExchange) {
  EchoUpstream upstream;
  ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("c.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  ProxyOptions po;
  po.upstream.base_url = upstream.url();
  auto proxy = RecordingProxy::start(po, **writer);
  ASSERT_TRUE(proxy.ok());
  constexpr int kClients = 16;
  constexpr int kEach = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto client = client_for((*proxy)->port());
      for (int i = 0; i < kEach; ++i) {
        std::string target = "/n/" + std::to_string(t) + "/" + std::to_string(i);
        auto res = client->Get(target.c_str());
        if (res && res->body == std::string("\x00\xff\xfe", 3) + target) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kEach);
  (*proxy)->stop();
  ASSERT_TRUE((*writer)->finish().ok());
  auto cassette = read_cassette(dir.file("c.har"));
  ASSERT_TRUE(cassette.ok());
  std::set<std::string> paths;
  for (const auto& e : cassette->entries) paths.insert(e.request.path);
  EXPECT_EQ(paths.size(), static_cast<std::size_t>(kClients * kEach));
  EXPECT_EQ((*proxy)->forwarded(), static_cast<std::size_t>(kClients * kEach));
}

TEST(Proxy, UnreachableUpstreamIsA502AndNothingIsRecorded) {
  // A port that was free a moment ago and that nothing listens on.
  int dead_port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    dead_port = ntohs(addr.sin_port);
    ::close(fd);
  }
  ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("d.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  ProxyOptions po;
  po.upstream.base_url = "http://127.0.0.1:" + std::to_string(dead_port);
  po.upstream.connect_timeout = std::chrono::milliseconds(2000);
  std::vector<std::string> errors;
  std::mutex mu;
  po.on_error = [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(m);
  };
  auto proxy = RecordingProxy::start(po, **writer);
  ASSERT_TRUE(proxy.ok());
  auto res = client_for((*proxy)->port())->Get("/v2/access-tokens");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_NE(res->body.find("upstream failed"), std::string::npos) << res->body;
  EXPECT_EQ((*proxy)->failures(), 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("127.0.0.1:" + std::to_string(dead_port)), std::string::npos);
  (*proxy)->stop();
  ASSERT_TRUE((*writer)->finish().ok());
  EXPECT_TRUE(read_cassette(dir.file("d.har"))->entries.empty());
}

TEST(Proxy, BadUpstreamAndListenAddressesAreRefused) {
  ScratchDir dir;
  auto writer = CassetteWriter::open(dir.file("x.har"), WriterOptions{});
  ASSERT_TRUE(writer.ok());
  ProxyOptions po;
  po.upstream.base_url = "ftp://example";
  auto bad = RecordingProxy::start(po, **writer);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--upstream"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("127.0.0.1:99999").ok());
  EXPECT_FALSE(parse_listen_address("localhost:").ok());
  auto ok = parse_listen_address(":8080");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "127.0.0.1");
  EXPECT_EQ(ok->port, 8080);
}

struct Recorded {
  Cassette cassette;
  std::vector<std::string> errors;
};

struct SessionSetup {
  // The reference server serves HTTPS with this certificate (the proxy's upstream exchanges
  // then go through its worker threads).
  std::optional<server::testing::TestCertificate> tls;
  Durability durability = Durability::kFlushBehind;
};

// Records one scripted session against a fresh reference server through the proxy.
Recorded record_session(const testing::NamedSession& session, ScratchDir& dir,
                        const SessionSetup& setup = {}) {
  Recorded out;
  server::ServerOptions so;
  so.manual_clock = true;
  auto core = server::ServerCore::create(so);
  server::ListenerOptions lo;
  if (setup.tls) {
    lo.tls_cert_file = setup.tls->cert_file;
    lo.tls_key_file = setup.tls->key_file;
  }
  auto listener = server::Listener::start(**core, lo);
  std::string path = dir.file(std::string(session.name) + ".har");
  WriterOptions wo;
  wo.declared = declared_from_fixture(model::default_fixture());
  wo.durability = setup.durability;
  auto writer = CassetteWriter::open(path, wo);
  ProxyOptions po;
  po.upstream.base_url = (*listener)->base_url();
  if (setup.tls) po.upstream.ca_file = setup.tls->cert_file;
  po.threads = 2;
  auto proxy = RecordingProxy::start(po, **writer);
  std::size_t sent = 0;
  {
    http::HttpTransportOptions to;
    to.base_url = (*proxy)->url();
    auto transport = http::HttpTransport::create(to);
    testing::SessionDriver driver(**transport, model::default_fixture());
    session.run(driver);
    out.errors = driver.errors();
    sent = driver.sent();
  }  // closes the connection, so stop() does not wait for it to idle out
  (*proxy)->stop();
  EXPECT_TRUE((*writer)->finish().ok());
  out.cassette = *read_cassette(path);
  EXPECT_EQ(out.cassette.entries.size(), sent);
  return out;
}

class ReferenceSessions : public ::testing::TestWithParam<testing::NamedSession> {};

TEST_P(ReferenceSessions, RecordVerifyReplayAndServeBack) {
  ScratchDir dir;
  Recorded rec = record_session(GetParam(), dir);
  ASSERT_TRUE(rec.errors.empty()) << rec.errors[0];

  auto report = verify_cassette(rec.cassette, model::Profile::hub(), model::default_fixture());
  EXPECT_EQ(report.judged + report.skipped, rec.cassette.entries.size());
  for (const auto& f : report.findings) {
    ADD_FAILURE() << "entry " << f.entry << " " << f.target << ": " << f.violation.rule << ": "
                  << f.violation.message;
  }

  // Re-issued against a fresh server, nothing differs once volatile fields are normalised.
  server::ServerOptions so;
  so.manual_clock = true;
  auto core = server::ServerCore::create(so);
  auto listener = server::Listener::start(**core);
  http::HttpTransportOptions to;
  to.base_url = (*listener)->base_url();
  auto transport = http::HttpTransport::create(to);
  auto replayed = replay_session(rec.cassette, **transport, model::default_fixture());
  EXPECT_FALSE(replayed.transport_error.has_value());
  for (const auto& d : replayed.differing) {
    for (const auto& x : d.differences) {
      ADD_FAILURE() << "entry " << d.entry << " " << d.target << ": " << x.where << ": "
                    << x.recorded << " vs " << x.live;
    }
  }

  // The same script run against the replay server is answered entirely from the recording.
  ReplayServerOptions ro;
  ro.fixture = model::default_fixture();
  std::vector<std::string> misses;
  std::mutex mu;
  ro.on_miss = [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    misses.push_back(m);
  };
  auto replay = ReplayServer::start(rec.cassette, ro);
  ASSERT_TRUE(replay.ok());
  http::HttpTransportOptions ro_to;
  ro_to.base_url = (*replay)->url();
  auto replay_transport = http::HttpTransport::create(ro_to);
  testing::SessionDriver driver(**replay_transport, model::default_fixture());
  GetParam().run(driver);
  EXPECT_EQ(misses, std::vector<std::string>{});
  EXPECT_EQ((*replay)->unused(), std::vector<std::size_t>{});
}

INSTANTIATE_TEST_SUITE_P(Golden, ReferenceSessions, ::testing::ValuesIn(testing::golden_sessions()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Proxy, HttpsUpstreamAndFsyncEachAppendsGoThroughTheWorkers) {
  // Both block, so the event loops hand them to the worker threads and take the results back.
  auto cert = server::testing::make_test_certificate(::testing::TempDir());
  ASSERT_TRUE(cert);
  ScratchDir dir;
  SessionSetup setup;
  setup.tls = cert;
  setup.durability = Durability::kSyncEach;
  const auto& session = testing::golden_sessions().front();
  Recorded rec = record_session(session, dir, setup);
  server::testing::remove_test_certificate(*cert);
  ASSERT_TRUE(rec.errors.empty()) << rec.errors[0];
  ASSERT_FALSE(rec.cassette.entries.empty());
  for (const auto& e : rec.cassette.entries) {
    EXPECT_EQ(e.origin.rfind("https://127.0.0.1:", 0), 0u) << e.origin;
  }
  auto report = verify_cassette(rec.cassette, model::Profile::hub(), model::default_fixture());
  EXPECT_EQ(report.judged + report.skipped, rec.cassette.entries.size());
  EXPECT_TRUE(report.findings.empty());
}

TEST(ReplayServer, UnmatchedRequestGetsADiagnosticNamingTheNearest) {
  Cassette c;
  c.entries.push_back(testing::make_interaction("GET", "/v2/access-tokens/u1", "", {}, "", 200,
                                                testing::json_headers(), R"({"n":1})"));
  c.entries.push_back(testing::make_interaction("GET", "/v2/access-tokens/u1", "", {}, "", 200,
                                                testing::json_headers(), R"({"n":2})"));
  c.entries.push_back(
      testing::make_interaction("DELETE", "/v2/access-tokens/u1", "", {}, "", 204, {}, ""));
  auto server = ReplayServer::start(c, ReplayServerOptions{});
  ASSERT_TRUE(server.ok());
  auto client = client_for((*server)->port());
  EXPECT_EQ(client->Get("/v2/access-tokens/u1")->body, R"({"n":1})");
  EXPECT_EQ(client->Get("/v2/access-tokens/u1")->body, R"({"n":2})");
  auto third = client->Get("/v2/access-tokens/u1");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, kUnmatchedStatus);
  EXPECT_EQ(third->get_header_value("X-Patrol-Replay"), "unmatched");
  auto body = nlohmann::json::parse(third->body);
  EXPECT_NE(body["message"].get<std::string>().find("already served (entries 0, 1)"),
            std::string::npos);
  auto other = client->Get("/v2/access-tokens/u2");
  auto other_body = nlohmann::json::parse(other->body);
  EXPECT_NE(other_body["message"].get<std::string>().find("which differs in path"),
            std::string::npos)
      << other_body;
  EXPECT_EQ((*server)->misses(), 2u);
  EXPECT_EQ((*server)->unused(), std::vector<std::size_t>{2});
}

}  // namespace
}  // namespace patrol::recorder
