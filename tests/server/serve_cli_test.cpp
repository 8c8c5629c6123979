// `patrol serve` as a process: it prints where it listens, serves, lists and validates faults,
// and stops with status 0 on SIGTERM or SIGINT.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "server/faults.hpp"

extern char** environ;

namespace patrol::server {
namespace {

constexpr int kGuardMs = 10'000;  // bound on every wait; never reached when correct

// A child process with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    args.insert(args.begin(), PATROL_BIN);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, PATROL_BIN, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }
  bool started() const { return pid_ > 0; }

  // Reads stdout up to the first newline (bounded wait).
  std::string read_line() {
    std::string line;
    char c;
    while (::poll(std::vector<pollfd>{{out_, POLLIN, 0}}.data(), 1, kGuardMs) > 0 &&
           ::read(out_, &c, 1) == 1) {
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  // Waits (bounded) for the child to exit; returns its exit status, or -1 on a timeout/signal.
  int wait_exit() {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      int ready = ::poll(&p, 1, kGuardMs);
      ::close(pidfd);
      if (ready <= 0) return -1;
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Reads the rest of a stream after the child exited.
  static std::string drain(int fd) {
    std::string all;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
    return all;
  }
  std::string rest_of_stdout() { return drain(out_); }
  std::string rest_of_stderr() { return drain(err_); }
  void signal(int sig) { ::kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool reaped_ = false;
};

TEST(ServeCommand, PrintsItsAddressServesAndStopsCleanlyOnSignals) {
  for (int sig : {SIGTERM, SIGINT}) {
    Child child({"serve", "--listen", "127.0.0.1:0", "--clock", "manual", "--fault", "page-overlap",
                 "--rate-limit", "100"});
    ASSERT_TRUE(child.started());
    std::string line = child.read_line();
    const std::string prefix = "listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << line << " / stderr: " << child.rest_of_stderr();
    int port = std::stoi(line.substr(prefix.size()));
    ASSERT_GT(port, 0);

    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(10);
    c.set_read_timeout(10);
    auto r = c.Get("/_patrol/clock");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("X-RateLimit-Limit"), "100");
    c.stop();

    child.signal(sig);
    EXPECT_EQ(child.wait_exit(), 0) << "signal " << sig;
    std::string err = child.rest_of_stderr();
    EXPECT_NE(err.find("faults page-overlap"), std::string::npos) << err;
    EXPECT_NE(err.find("stopped"), std::string::npos) << err;
    EXPECT_EQ(err.find("password"), std::string::npos) << err;
  }
}

TEST(ServeCommand, ListsEveryFaultOnItsOwnLine) {
  Child child({"serve", "--list-faults"});
  ASSERT_TRUE(child.started());
  ASSERT_EQ(child.wait_exit(), 0);
  std::istringstream out(child.rest_of_stdout());
  std::string line;
  std::size_t i = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, fault_catalogue().size()) << line;
    const auto& f = fault_catalogue()[i++];
    EXPECT_EQ(line.rfind(std::string(f.name) + " ", 0), 0u) << line;
    EXPECT_NE(line.find(std::string(f.description)), std::string::npos) << line;
  }
  EXPECT_EQ(i, fault_catalogue().size());
}

TEST(ServeCommand, UsageErrorsNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{"serve", "--fault", "leak-secret-on-gett"}, "did you mean 'leak-secret-on-get'"},
      {{"serve", "--listen", "localhost"}, "--listen 'localhost'"},
      {{"serve", "--listen", "127.0.0.1:70000"}, "0..65535"},
      {{"serve", "--profile", "strict"}, "'strict'"},
      {{"serve", "--clock", "sundial"}, "'sundial'"},
      {{"serve", "--rate-limit", "many"}, "'many' is not an integer"},
      {{"serve", "--tls-cert", "x.pem"}, "--tls-key"},
      {{"serve", "--fixture", "/nonexistent/fixture.json"}, "/nonexistent/fixture.json"},
      {{"serve", "--bogus"}, "'--bogus'"},
  };
  for (const auto& c : cases) {
    Child child(c.args);
    ASSERT_TRUE(child.started());
    EXPECT_EQ(child.wait_exit(), 2) << c.args.back();
    std::string err = child.rest_of_stderr();
    EXPECT_NE(err.find(c.expected), std::string::npos) << c.args.back() << ": " << err;
  }
}

}  // namespace
}  // namespace patrol::server
