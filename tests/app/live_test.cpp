// Live safety of `patrol check` against the reference server on 127.0.0.1 (issue 5): accounts that
// already hold tokens somebody else made come out with those tokens untouched, whether the run
// ends normally or is killed with SIGKILL mid-run; patrol's own tokens are gone at exit, a crashed
// run's leftovers are swept by the next start and by `patrol sweep`; --record/--replay round-trip
// with no secret in the cassette.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/sweep.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"

extern char** environ;

namespace patrol::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr auto kGuard = std::chrono::seconds(300);  // bound on every wait; never reached

// The default fixture without bob's second factor: live credentials come from the environment,
// which carries no 2FA code.
model::Fixture fixture() {
  model::Fixture f = model::default_fixture();
  for (auto& a : f.accounts) a.second_factor_code.reset();
  return f;
}

// A token as the server lists it: what must not change for a token patrol did not create.
struct Seen {
  std::string label;
  json scopes;
  bool is_active = false;
  json expires_at;
  bool operator==(const Seen&) const = default;
};

// Sits between the listener and the core. Normally every request passes. hold_next() makes the
// next request wait in the gate, unapplied; the check is a sequential client, so while its request
// is held it has nothing else in flight, and after `kill -9` drop_held() answers that request 503
// without touching the core. What the killed run did to the server is then settled, and the test
// reads it without racing a request the run sent just before it died.
class Gate {
 public:
  model::HttpResponse pass(const model::HttpRequest& r, server::ServerCore& core) {
    std::unique_lock lock(mu_);
    if (state_ == State::kHoldNext) {
      state_ = State::kHolding;
      cv_.notify_all();
      cv_.wait(lock, [&] { return state_ == State::kDropHeld; });
      state_ = State::kPass;
      model::HttpResponse dropped;
      dropped.status = 503;
      return dropped;
    }
    lock.unlock();
    return core.handle(r);
  }
  void hold_next() {
    std::lock_guard lock(mu_);
    state_ = State::kHoldNext;
  }
  // Waits (bounded) until a request is held; false when none came.
  bool wait_holding(std::chrono::seconds bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return state_ == State::kHolding; });
  }
  void drop_held() {
    std::lock_guard lock(mu_);
    if (state_ == State::kHolding) state_ = State::kDropHeld;
    if (state_ == State::kHoldNext) state_ = State::kPass;
    cv_.notify_all();
  }

 private:
  enum class State { kPass, kHoldNext, kHolding, kDropHeld };
  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kPass;
};

// The reference server on an ephemeral loopback port, and a client of its API (in-process calls
// into the same core, the way any client sees it).
class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions so;
    so.fixture = fixture();
    auto core = server::ServerCore::create(so);
    ASSERT_TRUE(core.ok()) << core.error().message;
    core_ = std::move(*core);
    server::ListenerOptions lo;
    lo.host = "127.0.0.1";
    lo.port = 0;
    auto listener = server::Listener::start(
        [this](const model::HttpRequest& r) { return gate_.pass(r, *core_); }, "hub", lo);
    ASSERT_TRUE(listener.ok()) << listener.error().message;
    listener_ = std::move(*listener);
    dir_ = fs::temp_directory_path() /
           ("patrol-live-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    gate_.drop_held();
    listener_.reset();
    fs::remove_all(dir_);
  }

  model::HttpResponse call(const std::string& method, const std::string& path,
                           const std::string& bearer, const std::string& body,
                           const std::string& query = "") {
    model::HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = query;
    r.body = body;
    r.peer = "127.0.0.1";
    r.headers.set("Accept", "application/json");
    if (!body.empty()) r.headers.set("Content-Type", "application/json");
    if (!bearer.empty()) r.headers.set("Authorization", "Bearer " + bearer);
    return core_->handle(r);
  }
  std::string login(const std::string& user) {
    const std::string password = fixture().find_account(user)->password;
    auto r =
        call("POST", "/v2/auth/token", "", json{{"identifier", user}, {"secret", password}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("access_token").get<std::string>();
  }
  std::string create(const std::string& user, const std::string& label, json scopes,
                     json extra = json::object()) {
    json body = {{"token_label", label}, {"scopes", std::move(scopes)}};
    body.update(extra);
    auto r = call("POST", "/v2/access-tokens", login(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).at("uuid").get<std::string>();
  }
  // Every token of the account, all pages.
  std::map<std::string, Seen> tokens(const std::string& user) {
    std::map<std::string, Seen> out;
    std::string bearer = login(user);
    for (int page = 1;; ++page) {
      auto r = call("GET", "/v2/access-tokens", bearer, "",
                    "page=" + std::to_string(page) + "&page_size=100");
      if (r.status == 404) break;
      EXPECT_EQ(r.status, 200) << r.body;
      json body = json::parse(r.body);
      for (const auto& t : body.at("results")) {
        out[t.at("uuid").get<std::string>()] =
            Seen{t.at("token_label").get<std::string>(), t.value("scopes", json()),
                 t.at("is_active").get<bool>(), t.value("expires_at", json())};
      }
      if (body.at("next").is_null()) break;
    }
    return out;
  }
  std::size_t patrol_tokens(const std::string& user) {
    std::size_t n = 0;
    for (const auto& [uuid, t] : tokens(user)) n += is_patrol_label(t.label) ? 1 : 0;
    return n;
  }
  // Tokens of the running check (not the planted leftovers of run 0a1b2c).
  std::size_t run_tokens(const std::string& user) {
    std::size_t n = 0;
    for (const auto& [uuid, t] : tokens(user)) {
      n += is_patrol_label(t.label) && t.label.rfind(kCrashed, 0) != 0 ? 1 : 0;
    }
    return n;
  }
  static constexpr const char* kCrashed = "patrol-0a1b2c-";
  // Polls (bounded) until the running check `pid` has tokens of its own on the server; false
  // when it exited or the bound passed first.
  bool wait_for_run_tokens(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (std::chrono::steady_clock::now() < deadline && alive(pid)) {
      if (run_tokens("alice") + run_tokens("bob") > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll interval
    }
    return false;
  }

  // Tokens patrol did not create, in both accounts, and one leftover of a "crashed" run each.
  void populate() {
    create("alice", "ci-deploy", {"repo:read"});
    std::string laptop = create("alice", "laptop", {"repo:admin", "repo:write"});
    auto r = call("PATCH", "/v2/access-tokens/" + laptop, login("alice"), R"({"is_active":false})");
    ASSERT_EQ(r.status, 200) << r.body;
    create("alice", "patrol-notarun", {"repo:public_read"});  // "patrol-" alone is no run prefix
    create("bob", "build-bot", {"repo:write"}, {{"expires_at", "2099-01-01T00:00:00Z"}});
    create("bob", "  spaced  label ", {"repo:read"});
    foreign_ = {{"alice", tokens("alice")}, {"bob", tokens("bob")}};
    create("alice", "patrol-0a1b2c-3", {"repo:read"});
    create("bob", "patrol-0a1b2c-renamed-7", {"repo:admin"});
    ASSERT_EQ(patrol_tokens("alice"), 1u);
    ASSERT_EQ(patrol_tokens("bob"), 1u);
  }
  // Every foreign token is there, unchanged, and nothing of patrol's is.
  void expect_only_foreign_tokens() {
    for (const auto& [user, before] : foreign_) {
      EXPECT_EQ(tokens(user), before) << user << "'s tokens changed";
    }
  }

  // Runs patrol with the two accounts' credentials in the environment; output to a file.
  pid_t spawn(std::vector<std::string> args, const std::string& log) {
    // A failing check writes its repro bundle under the test's directory, not the source tree.
    if (args.front() == "check") args.insert(args.end(), {"--bundle", (dir_ / "bundle").string()});
    args.insert(args.begin(), PATROL_BIN);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("PATROL_", 0) != 0) env.emplace_back(*e);
    }
    for (const char* v :
         {"PATROL_USERNAME=alice", "PATROL_PASSWORD=alice-password-1", "PATROL_USERNAME_2=bob",
          "PATROL_PASSWORD_2=bob-password-2", "NO_COLOR=1"}) {
      env.emplace_back(v);
    }
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string path = (dir_ / log).string();
    posix_spawn_file_actions_addopen(&actions, 1, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    if (posix_spawn(&pid, PATROL_BIN, &actions, nullptr, argv.data(), envp.data()) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }
  // Waits (bounded) for the child; its exit status, or -1 when killed by a signal or timed out.
  // True while the child runs (an early exit ends the wait for its progress at once).
  static bool alive(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }

  static int wait_exit(pid_t pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(kGuard.count() * 1000));
      ::close(pidfd);
      if (ready <= 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return -1;
      }
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }
  int run(std::vector<std::string> args, const std::string& log) {
    pid_t pid = spawn(std::move(args), log);
    EXPECT_GT(pid, 0);
    return pid > 0 ? wait_exit(pid) : -1;
  }
  std::string output(const std::string& log) {
    std::ifstream in(dir_ / log, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string url() const { return listener_->base_url(); }

  Gate gate_;  // outlives the listener that calls it
  std::unique_ptr<server::ServerCore> core_;
  std::unique_ptr<server::Listener> listener_;
  fs::path dir_;
  std::map<std::string, std::map<std::string, Seen>> foreign_;
};

TEST(RunPrefix, IsRecognisedAndNothingElseIs) {
  for (std::uint64_t seed : {0ull, 1ull, 0xABCDEFull, 0xFFFFFFFFFFull}) {
    std::string prefix = make_run_prefix(seed);
    EXPECT_EQ(prefix.size(), 14u) << prefix;
    EXPECT_TRUE(is_patrol_label(prefix + "3")) << prefix;
    EXPECT_TRUE(is_patrol_label(prefix)) << prefix;
  }
  for (const char* other : {"patrol-", "patrol-notarun", "patrol-0A1B2C-x", "patrol-0a1b2-x",
                            "patrol-0a1b2cd", " patrol-0a1b2c-1", "ci-deploy", ""}) {
    EXPECT_FALSE(is_patrol_label(other)) << other;
  }
}

TEST_F(LiveTest, ForeignTokensComeOutUntouchedAndPatrolsAreGone) {
  populate();
  int rc = run({"check", "--target", url(), "--runs", "8", "--max-steps", "30", "--seed", "11",
                "--max-tokens", "6"},
               "check.log");
  EXPECT_EQ(rc, 0) << output("check.log");
  EXPECT_NE(output("check.log").find("deleted 2 leftover token(s)"), std::string::npos)
      << output("check.log");
  expect_only_foreign_tokens();
}

TEST_F(LiveTest, AKilledRunLeavesForeignTokensAloneAndSweepRemovesItsLeftovers) {
  populate();
  pid_t pid = spawn({"check", "--target", url(), "--runs", "100000", "--max-steps", "40", "--seed",
                     "12", "--max-tokens", "8"},
                    "check.log");
  ASSERT_GT(pid, 0);
  // Progress is observable on the server: the run creates tokens labelled with its own prefix.
  // Kill it while some of them exist.
  const bool mid_run = wait_for_run_tokens(pid);
  ASSERT_TRUE(mid_run) << output("check.log");
  // Catch the run's next request in the gate, kill the run while it waits for the answer, then
  // drop that request: nothing the run sent can reach the server after this point.
  gate_.hold_next();
  ASSERT_TRUE(gate_.wait_holding(kGuard)) << output("check.log");
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit(pid), -1) << "killed by the signal";
  gate_.drop_held();

  // Nothing the run did not create was touched.
  for (const auto& [user, before] : foreign_) {
    auto now = tokens(user);
    for (const auto& [uuid, t] : before) {
      ASSERT_TRUE(now.count(uuid)) << user << " lost " << t.label;
      EXPECT_EQ(now.at(uuid), t) << user << "'s " << t.label << " changed";
    }
  }

  // A dry run lists and deletes nothing.
  std::size_t left = patrol_tokens("alice") + patrol_tokens("bob");
  EXPECT_EQ(run({"sweep", "--target", url(), "--dry-run"}, "dry.log"), 0) << output("dry.log");
  EXPECT_EQ(patrol_tokens("alice") + patrol_tokens("bob"), left);
  EXPECT_NE(output("dry.log").find(std::to_string(left) + " token(s) would be deleted"),
            std::string::npos)
      << output("dry.log");
  // Tokens younger than an hour are not old enough for --older-than 3600.
  EXPECT_EQ(run({"sweep", "--target", url(), "--older-than", "3600"}, "old.log"), 0);
  EXPECT_EQ(patrol_tokens("alice") + patrol_tokens("bob"), left);

  EXPECT_EQ(run({"sweep", "--target", url()}, "sweep.log"), 0) << output("sweep.log");
  expect_only_foreign_tokens();
}

TEST_F(LiveTest, SigtermEndsTheRunWithItsTokensDeleted) {
  populate();
  pid_t pid = spawn({"check", "--target", url(), "--runs", "100000", "--max-steps", "40", "--seed",
                     "13", "--max-tokens", "8"},
                    "check.log");
  ASSERT_GT(pid, 0);
  const bool mid_run = wait_for_run_tokens(pid);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 0) << output("check.log");
  ASSERT_TRUE(mid_run) << output("check.log");
  EXPECT_NE(output("check.log").find("interrupted"), std::string::npos) << output("check.log");
  expect_only_foreign_tokens();
}

TEST_F(LiveTest, RecordThenReplayRoundTripsWithoutSecrets) {
  populate();
  const std::string har = (dir_ / "run.har").string();
  const std::string rec_json = (dir_ / "rec.json").string();
  const std::string rep_json = (dir_ / "rep.json").string();
  int rc = run({"check", "--target", url(), "--runs", "4", "--max-steps", "20", "--seed", "5",
                "--record", har, "--json", rec_json},
               "record.log");
  ASSERT_EQ(rc, 0) << output("record.log");
  expect_only_foreign_tokens();

  // Offline: the server is gone, the cassette answers.
  listener_.reset();
  rc = run({"check", "--replay", har, "--json", rep_json}, "replay.log");
  ASSERT_EQ(rc, 0) << output("replay.log");
  auto summary = [](const std::string& file) {
    std::ifstream in(file);
    return json::parse(in);
  };
  json a = summary(rec_json);
  json b = summary(rep_json);
  EXPECT_EQ(a.at("seed"), b.at("seed"));
  EXPECT_EQ(a.at("steps"), b.at("steps"));
  EXPECT_EQ(a.at("runs"), b.at("runs"));
  EXPECT_EQ(a.at("verdict"), b.at("verdict"));
  EXPECT_EQ(a.at("coverage").at("route_status"), b.at("coverage").at("route_status"));

  // No password, PAT secret or JWT signature in the cassette.
  std::string text = output("run.har");
  EXPECT_EQ(text.find("alice-password-1"), std::string::npos);
  EXPECT_EQ(text.find("bob-password-2"), std::string::npos);
  EXPECT_FALSE(std::regex_search(text, std::regex("dckr_pat_[A-Za-z0-9_-]{20,}")));
  EXPECT_FALSE(std::regex_search(
      text, std::regex("eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{20,}")));

  // A cassette that ends early: the sequence departs from it, a configuration error (2).
  json cassette = summary(har);
  auto& entries = cassette.at("log").at("entries");
  entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(entries.size() / 2), entries.end());
  std::ofstream(dir_ / "short.har") << cassette.dump();
  rc = run({"check", "--replay", (dir_ / "short.har").string()}, "short.log");
  EXPECT_EQ(rc, 2) << output("short.log");
  EXPECT_NE(output("short.log").find("departed from the cassette"), std::string::npos)
      << output("short.log");
}

}  // namespace
}  // namespace patrol::app
