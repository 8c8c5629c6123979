// A lean closed-loop HTTP/1.1 load generator for the benchmarks, in the manner of wrk: one
// thread, epoll, N keep-alive connections to 127.0.0.1, each with one request in flight. A
// generator built from cpp-httplib clients (a thread and several syscalls per request) spends
// as much CPU as the server it measures and caps every figure on two cores; this one spends a
// send and a receive per request. Responses must carry Content-Length (no chunked bodies).
// Bench-only: no TLS, no redirects, no pipelining.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.hpp"

namespace patrol::bench {

struct Response {
  int status = 0;
  std::string_view head;  // status line and headers
  std::string_view body;
};

// A connection's script: the next raw request, given the previous response (nullptr before the
// first); an empty string ends the connection.
using Script = std::function<std::string(const Response* previous)>;

struct LoadResult {
  std::size_t requests = 0;
  std::size_t failures = 0;  // a status outside 2xx, or a broken connection
  double seconds = 0;
  double cpu_seconds = 0;  // this process's CPU during the load: with in-process servers, all of it
  long context_switches = 0;  // of all this process's threads during the load
  std::vector<double> latencies_us;
  double rate() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double cpu_us_per_request() const {
    return requests > 0 ? 1e6 * cpu_seconds / static_cast<double>(requests) : 0;
  }
  double switches_per_request() const {
    return requests > 0 ? static_cast<double>(context_switches) / static_cast<double>(requests) : 0;
  }
  double percentile_us(double p) const {
    if (latencies_us.empty()) return 0;
    std::vector<double> v = latencies_us;
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
  }
};

// "GET /path HTTP/1.1" with the headers every request carries.
inline std::string http_request(std::string_view method, std::string_view target,
                                std::string_view extra_headers = {}, std::string_view body = {}) {
  std::string r;
  r.reserve(128 + extra_headers.size() + body.size());
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  r.append(extra_headers);
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    r.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

namespace detail {

inline bool iequal_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Length of the complete response at the start of `in`, or 0 when more bytes are needed;
// -1 when the response cannot be framed (no Content-Length).
inline long complete_length(std::string_view in, Response& out) {
  const std::size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  std::string_view head = in.substr(0, end + 2);
  long length = -1;
  for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    std::string_view line = head.substr(at + 2);
    if (iequal_prefix(line, "content-length:")) {
      length = std::strtol(line.data() + 15, nullptr, 10);
      break;
    }
  }
  if (length < 0) return -1;
  const std::size_t total = end + 4 + static_cast<std::size_t>(length);
  if (in.size() < total) return 0;
  out.status = in.size() > 12 ? std::atoi(std::string(in.substr(9, 3)).c_str()) : 0;
  out.head = head;
  out.body = in.substr(end + 4, static_cast<std::size_t>(length));
  return static_cast<long>(total);
}

}  // namespace detail

// Runs one script per connection against 127.0.0.1:port until `seconds` pass, every script
// ends, or nothing moves for 10 s (counted as failures). Latency is per request, send to
// complete response.
inline LoadResult run_load(int port, int connections, double seconds,
                           const std::function<Script(int)>& make_script) {
  using Clock = std::chrono::steady_clock;
  struct Conn {
    int fd = -1;
    Script script;
    std::string out;
    std::size_t sent = 0;
    std::string in;
    Clock::time_point started;
    bool open = false;
  };
  LoadResult result;
  std::vector<Conn> conns(static_cast<std::size_t>(connections));
  const int ep = epoll_create1(0);
  if (ep < 0) {
    std::perror("epoll_create1");
    std::exit(1);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int open = 0;

  auto close_conn = [&](Conn& c, bool failed) {
    if (!c.open) return;
    if (failed) ++result.failures;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.open = false;
    --open;
  };
  // Sends what is left of c.out; arms EPOLLOUT only when the socket buffer is full.
  auto flush = [&](Conn& c) {
    while (c.sent < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = &c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        return;
      } else {
        close_conn(c, true);
        return;
      }
    }
  };
  auto start_request = [&](Conn& c, const Response* previous) {
    c.out = c.script(previous);
    c.sent = 0;
    if (c.out.empty()) {
      close_conn(c, false);
      return;
    }
    c.started = Clock::now();
    flush(c);
  };

  // Opens (or reopens, after the server closed a keep-alive connection) c's socket.
  auto connect_conn = [&](Conn& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.in.clear();
    c.open = true;
    ++open;
  };
  for (int i = 0; i < connections; ++i) {
    conns[static_cast<std::size_t>(i)].script = make_script(i);
    connect_conn(conns[static_cast<std::size_t>(i)]);
  }
  const auto begin = Clock::now();
  const double cpu_begin = bench::cpu_seconds();
  const long switches_begin = bench::context_switches();
  const auto deadline =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (auto& c : conns) start_request(c, nullptr);

  std::vector<epoll_event> events(static_cast<std::size_t>(connections));
  auto last_progress = Clock::now();
  char buf[65536];
  while (open > 0) {
    const int n = epoll_wait(ep, events.data(), connections, 100);
    const auto now = Clock::now();
    if (n <= 0) {
      if (now - last_progress > std::chrono::seconds(10)) {
        for (auto& c : conns) close_conn(c, true);
      }
      if (now >= deadline) break;
      continue;
    }
    for (int e = 0; e < n; ++e) {
      Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(e)].data.ptr);
      if (!c.open) continue;
      if (events[static_cast<std::size_t>(e)].events & EPOLLOUT) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        flush(c);
        if (!c.open) continue;
      }
      if (!(events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        continue;
      }
      ssize_t got = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        close_conn(c, true);
        continue;
      }
      c.in.append(buf, static_cast<std::size_t>(got));
      Response r;
      const long length = detail::complete_length(c.in, r);
      if (length < 0) {
        close_conn(c, true);
        continue;
      }
      if (length == 0) continue;
      const auto done = Clock::now();
      last_progress = done;
      ++result.requests;
      if (r.status < 200 || r.status > 299) ++result.failures;
      result.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(done - c.started).count());
      if (done >= deadline) {
        close_conn(c, false);
        continue;
      }
      // "Connection: close" (a server's keep-alive request cap): reconnect, as clients do.
      bool closing = false;
      for (std::size_t at = r.head.find("\r\n"); at != std::string_view::npos;
           at = r.head.find("\r\n", at + 2)) {
        std::string_view line = r.head.substr(at + 2);
        if (detail::iequal_prefix(line, "connection:") &&
            line.substr(0, line.find("\r\n")).find("close") != std::string_view::npos) {
          closing = true;
        }
      }
      if (closing) {
        std::string next = c.script(&r);
        close_conn(c, false);
        if (next.empty()) continue;
        connect_conn(c);
        c.out = std::move(next);
        c.sent = 0;
        c.started = Clock::now();
        flush(c);
        continue;
      }
      start_request(c, &r);
      c.in.erase(0, static_cast<std::size_t>(length));
    }
    if (now >= deadline) {
      for (auto& c : conns) close_conn(c, false);
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  result.cpu_seconds = bench::cpu_seconds() - cpu_begin;
  result.context_switches = bench::context_switches() - switches_begin;
  ::close(ep);
  return result;
}

}  // namespace patrol::bench
