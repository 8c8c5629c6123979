// A child process for the CLI tests: stdout through a pipe read with deadlines (never a sleep),
// stderr inherited, signals, and waiting for its exit status.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace patrol::recorder::testing {

class ChildProcess {
 public:
  // Starts argv[0] with the arguments; nullptr when it cannot be started.
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return nullptr;
    }
    return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0]));
  }

  ~ChildProcess() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      (void)wait();
    }
    ::close(out_);
  }

  // Reads one line of stdout; nullopt at end of file or when the deadline passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // Reads stdout until end of file (or the deadline, then kills the child).
  std::string read_all(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    if (!eof_) ::kill(pid_, SIGKILL);
    std::string out = std::move(buffer_);
    buffer_.clear();
    return out;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the child; returns its exit code, or 128 + signal when a signal ended it.
  int wait() {
    if (reaped_) return status_;
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, int out) : pid_(pid), out_(out) {}

  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) return n < 0 && errno == EINTR;
    char buf[4096];
    ssize_t got = ::read(out_, buf, sizeof buf);
    if (got <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(got));
    return true;
  }

  pid_t pid_;
  int out_;
  std::string buffer_;
  bool eof_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs a command to completion; returns (exit code, stdout).
inline std::pair<int, std::string> run_command(
    const std::vector<std::string>& args,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto child = ChildProcess::spawn(args);
  if (!child) return {-1, ""};
  std::string out = child->read_all(timeout);
  return {child->wait(), out};
}

}  // namespace patrol::recorder::testing
