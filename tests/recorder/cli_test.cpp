// The recorder subcommands as a user runs them: the `patrol` binary as a child process. The
// centrepiece kills a recording proxy with SIGKILL under concurrent load and checks that
// recovery keeps every interaction a client saw complete.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "recorder/net.hpp"
#include "recorder/writer.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"
#include "tests/recorder/child_process.hpp"
#include "tests/recorder/har_validator.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::run_command;
using testing::ScratchDir;

const std::string kPatrol = PATROL_BINARY;
const std::string kGolden = PATROL_CASSETTE_DIR;

// An upstream answering every GET with its path and a fresh secret (to be redacted).
class TokenUpstream {
 public:
  TokenUpstream() {
    tune_server(server_, 32);
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::string pat = testing::make_pat(static_cast<unsigned>(++counter_));
      res.set_content("{\"path\":\"" + req.path + "\",\"token\":\"" + pat + "\"}",
                      "application/json");
    });
    port_ = *bind_tuned(server_, ListenAddress{});
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TokenUpstream() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int issued() const { return counter_.load(); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> counter_{0};
};

// Reads the "listening on http://127.0.0.1:PORT" line a recorder or replay server prints.
int listening_port(ChildProcess& child) {
  auto line = child.read_line(30s);
  if (!line) return 0;
  std::smatch m;
  if (!std::regex_search(*line, m,
                         std::regex(R"((?:on|listening on) http://127\.0\.0\.1:(\d+))"))) {
    ADD_FAILURE() << "unexpected first line: " << *line;
    return 0;
  }
  return std::stoi(m[1]);
}

TEST(RecordCli, KillMinus9LosesNothingThatCompleted) {
  TokenUpstream upstream;
  ScratchDir dir;
  std::string out = dir.file("k.har");
  auto child = ChildProcess::spawn(
      {kPatrol, "record", "--upstream", upstream.url(), "--listen", "127.0.0.1:0", "--out", out});
  ASSERT_TRUE(child);
  int port = listening_port(*child);
  ASSERT_GT(port, 0);

  constexpr int kClients = 6;
  constexpr std::size_t kKillAfter = 400;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> completed;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < kClients; ++t) {
    load.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_connection_timeout(5, 0);
      client.set_read_timeout(5, 0);
      client.set_write_timeout(5, 0);
      for (int i = 0; !stop.load(); ++i) {
        std::string path = "/k/" + std::to_string(t) + "/" + std::to_string(i);
        auto res = client.Get(path.c_str());
        if (!res || res->status != 200) break;  // the recorder is gone
        std::lock_guard<std::mutex> lock(mu);
        completed.push_back(path);
        cv.notify_all();
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 60s, [&] { return completed.size() >= kKillAfter; }))
        << "only " << completed.size() << " requests completed";
  }
  child->signal(SIGKILL);  // mid-load: requests are in flight on every connection
  EXPECT_EQ(child->wait(), 128 + SIGKILL);
  stop = true;
  for (auto& t : load) t.join();
  std::vector<std::string> seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    seen = completed;
  }
  EXPECT_TRUE(std::filesystem::exists(journal_path_for(out)));
  EXPECT_FALSE(std::filesystem::exists(out));

  auto [rc, text] = run_command({kPatrol, "record", "--recover", "--out", out});
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("recovered"), std::string::npos) << text;
  auto doc = nlohmann::json::parse(testing::read_all(out));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  auto cassette = read_cassette(out);
  ASSERT_TRUE(cassette.ok()) << cassette.error().message;
  std::set<std::string> recorded;
  for (const auto& e : cassette->entries) recorded.insert(e.request.path);
  for (const auto& p : seen) EXPECT_EQ(recorded.count(p), 1u) << p << " completed but was lost";
  // Nothing more than the interactions in flight at the kill may be extra.
  EXPECT_LE(recorded.size(), seen.size() + kClients);
  EXPECT_EQ(cassette->entries.size(), recorded.size());
  std::string bytes = testing::read_all(out);
  for (int i = 1; i <= upstream.issued(); ++i) {
    ASSERT_EQ(bytes.find(testing::make_pat(static_cast<unsigned>(i))), std::string::npos);
  }
}

TEST(RecordCli, SigtermFinishesTheCassette) {
  TokenUpstream upstream;
  ScratchDir dir;
  std::string out = dir.file("t.har");
  auto child = ChildProcess::spawn(
      {kPatrol, "record", "--upstream", upstream.url(), "--out", out, "--durable"});
  ASSERT_TRUE(child);
  int port = listening_port(*child);
  ASSERT_GT(port, 0);
  {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Get("/t/" + std::to_string(i)));
  }
  child->signal(SIGTERM);
  std::string rest = child->read_all(30s);
  EXPECT_EQ(child->wait(), 0);
  EXPECT_NE(rest.find("recorded 3 interactions to " + out), std::string::npos) << rest;
  EXPECT_FALSE(std::filesystem::exists(journal_path_for(out)));
  EXPECT_EQ(read_cassette(out)->entries.size(), 3u);
  // A second recording to the same file is refused rather than overwriting it.
  auto [rc, text] = run_command({kPatrol, "record", "--upstream", upstream.url(), "--out", out});
  EXPECT_EQ(rc, 2);
}

TEST(RecordCli, UsageErrors) {
  EXPECT_EQ(run_command({kPatrol, "record", "--upstream", "http://127.0.0.1:1"}).first, 2);
  EXPECT_EQ(run_command({kPatrol, "record", "--out", "/tmp/x.har", "--bogus"}).first, 2);
  EXPECT_EQ(run_command({kPatrol, "replay-server"}).first, 2);
  EXPECT_EQ(run_command({kPatrol, "verify", "/nonexistent.har"}).first, 2);
  EXPECT_EQ(run_command({kPatrol, "replay", kGolden + "/tokens_lifecycle.har"}).first, 2);
  auto [rc, out] = run_command({kPatrol, "record", "--help"});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("--upstream URL"), std::string::npos);
}

TEST(ScanCli, ExitsNonZeroOnALeakWithoutPrintingIt) {
  ScratchDir dir;
  std::string pat = testing::make_pat(42);
  testing::write_all(dir.file("leak.txt"), "x\ntoken=" + pat + "\n");
  auto [rc, out] = run_command({kPatrol, "scan", dir.path(), kGolden});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find(dir.file("leak.txt") + ": line 2: unredacted pat"), std::string::npos) << out;
  EXPECT_EQ(out.find(pat), std::string::npos);
  auto [clean_rc, clean] = run_command({kPatrol, "scan", kGolden});
  EXPECT_EQ(clean_rc, 0) << clean;
  EXPECT_EQ(run_command({kPatrol, "scan"}).first, 2);
}

TEST(ScanCli, AllowlistPassesItsFindingsOnlyAndNamesStaleEntries) {
  ScratchDir dir;
  testing::write_all(dir.file("fixture.txt"), "fake=" + testing::make_pat(43) + "\n");
  auto [rc, out] = run_command({kPatrol, "scan", dir.file("fixture.txt")});
  ASSERT_EQ(rc, 1);
  auto open = out.find(" ["), close = out.find("]\n");
  ASSERT_NE(close, std::string::npos) << out;
  std::string fingerprint = out.substr(open + 2, close - open - 2);
  testing::write_all(dir.file("allow"), "# the fixture's fake PAT\n" + fingerprint + "\n" +
                                            dir.file("gone.txt") + ":pat:0123456789abcdef\n");
  auto [allowed_rc, allowed] =
      run_command({kPatrol, "scan", "--allow", dir.file("allow"), dir.file("fixture.txt")});
  EXPECT_EQ(allowed_rc, 0) << allowed;
  EXPECT_NE(allowed.find(": allowed pat "), std::string::npos) << allowed;
  EXPECT_NE(allowed.find("0 unredacted secrets (1 allowed)"), std::string::npos) << allowed;
  EXPECT_NE(allowed.find("allowlist entry matched nothing: " + dir.file("gone.txt")),
            std::string::npos)
      << allowed;
  // Another secret in the same file is not covered by the first one's entry.
  testing::write_all(dir.file("fixture.txt"),
                     "fake=" + testing::make_pat(43) + "\nreal=" + testing::make_pat(44) + "\n");
  EXPECT_EQ(
      run_command({kPatrol, "scan", "--allow", dir.file("allow"), dir.file("fixture.txt")}).first,
      1);
  testing::write_all(dir.file("allow"), "not a fingerprint\n");
  EXPECT_EQ(
      run_command({kPatrol, "scan", "--allow", dir.file("allow"), dir.file("fixture.txt")}).first,
      2);
}

TEST(VerifyCli, CleanGoldenPassesAndALeakIsReportedWithEntryAndRule) {
  auto [rc, out] = run_command({kPatrol, "verify", kGolden + "/tokens_lifecycle.har"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(", 0 violations"), std::string::npos) << out;

  // Tamper: the E3 read of the created token returns its secret again (contract 3.1).
  auto cassette = read_cassette(kGolden + "/tokens_lifecycle.har");
  ASSERT_TRUE(cassette.ok());
  std::optional<std::size_t> tampered;
  std::string secret;
  for (std::size_t i = 0; i < cassette->entries.size(); ++i) {
    auto& e = cassette->entries[i];
    auto body = model::Json::parse(e.response.body, nullptr, false);
    if (secret.empty() && e.request.method == "POST" && e.response.status == 201) {
      secret = body["token"].get<std::string>();
    } else if (!secret.empty() && e.request.method == "GET" && e.response.status == 200 &&
               body.is_object() && body.contains("uuid")) {
      body["token"] = secret;
      e.response.body = body.dump();
      tampered = i;
      break;
    }
  }
  ASSERT_TRUE(tampered.has_value());
  ScratchDir dir;
  ASSERT_TRUE(write_cassette(dir.file("bad.har"), *cassette).ok());
  auto [bad_rc, bad] = run_command({kPatrol, "verify", dir.file("bad.har")});
  EXPECT_EQ(bad_rc, 1) << bad;
  EXPECT_NE(bad.find("entry " + std::to_string(*tampered) + " GET /v2/access-tokens/"),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("rule 3.1"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("patrol.replay."), std::string::npos) << bad;  // stand-ins never shown
}

TEST(ReplayCli, SameServerMatchesAndAChangedOneDiffers) {
  for (const char* profile : {"hub", "spec"}) {
    server::ServerOptions so;
    so.manual_clock = true;
    so.profile = profile;
    auto core = server::ServerCore::create(so);
    ASSERT_TRUE(core.ok());
    auto listener = server::Listener::start(**core);
    ASSERT_TRUE(listener.ok());
    auto [rc, out] = run_command({kPatrol, "replay", kGolden + "/errors_and_expiry.har", "--target",
                                  (*listener)->base_url()});
    if (std::string(profile) == "hub") {
      EXPECT_EQ(rc, 0) << out;
      EXPECT_NE(out.find(", 0 differ"), std::string::npos) << out;
    } else {
      // The spec profile answers 400s with {fields, text}: every error entry differs.
      EXPECT_EQ(rc, 1) << out;
      EXPECT_NE(out.find("body.text: recorded (absent)"), std::string::npos) << out;
    }
  }
  auto [rc, out] = run_command(
      {kPatrol, "replay", kGolden + "/errors_and_expiry.har", "--target", "http://127.0.0.1:1"});
  EXPECT_EQ(rc, 3) << out;
}

TEST(ReplayServerCli, ServesAndReportsUnusedAndUnmatched) {
  auto child = ChildProcess::spawn({kPatrol, "replay-server", kGolden + "/auth_and_registry.har"});
  ASSERT_TRUE(child);
  int port = listening_port(*child);
  ASSERT_GT(port, 0);
  {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    auto anon =
        client.Get("/token?service=registry.docker.io&scope=repository:alice/public-app:pull");
    ASSERT_TRUE(anon);
    EXPECT_EQ(anon->status, 200);
    auto stranger = client.Get("/v2/nothing-here");
    ASSERT_TRUE(stranger);
    EXPECT_EQ(stranger->status, 501);
  }
  child->signal(SIGTERM);
  std::string rest = child->read_all(30s);
  EXPECT_EQ(child->wait(), 1);
  EXPECT_NE(rest.find("1 requests unmatched"), std::string::npos) << rest;
  EXPECT_NE(rest.find("unused interactions:"), std::string::npos) << rest;
  EXPECT_NE(rest.find("entry 0: POST /v2/users/login -> 200"), std::string::npos) << rest;
}

}  // namespace
}  // namespace patrol::recorder
