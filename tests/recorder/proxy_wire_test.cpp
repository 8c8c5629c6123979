// The recording proxy's HTTP/1.1 framing, driven over raw loopback sockets: pipelining, chunked
// and 100-continue request bodies, malformed and oversized requests, HEAD, connection close, many
// idle connections, and upstreams that stall, truncate, close-delimit or chunk their responses.
// Each test checks what the client got, what reached the upstream and what the cassette recorded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "recorder/cassette.hpp"
#include "recorder/proxy.hpp"
#include "recorder/writer.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;
using testing::ScratchDir;

// Bounds every blocking socket read and write in these tests (SO_RCVTIMEO / SO_SNDTIMEO).
constexpr std::chrono::milliseconds kTimeout{10000};
constexpr std::size_t kMaxHead = 1u << 20;

void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable form of bytes for failure messages.
std::string printable(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// A string literal's bytes, NULs included.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// A decimal Content-Length, or false.
bool parse_length(const std::string& text, std::size_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
}

// One chunk of a chunked body: hex size, CRLF, data, CRLF.
std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

// One HTTP/1.1 message as read off the wire.
struct WireMessage {
  std::string head;  // start line and header lines exactly as received, through the blank line
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked when chunked
  bool chunked = false;
  bool close_delimited = false;

  std::string word(int n) const {
    std::size_t begin = 0;
    for (int i = 0; i < n; ++i) {
      begin = start_line.find(' ', begin);
      if (begin == std::string::npos) return "";
      ++begin;
    }
    return start_line.substr(begin, start_line.find(' ', begin) - begin);
  }
  std::string method() const { return word(0); }
  std::string target() const { return word(1); }
  int status() const {
    std::string s = word(1);
    int out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && ptr == s.data() + s.size() ? out : -1;
  }
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers) {
      if (iequal(k, name)) out.push_back(v);
    }
    return out;
  }
  bool has(std::string_view name) const { return !values(name).empty(); }
};

// Reads HTTP/1.1 messages from a blocking socket whose reads time out (SO_RCVTIMEO).
class WireReader {
 public:
  enum class Fill { kData, kClosed, kTimedOut, kFailed };

  explicit WireReader(int fd) : fd_(fd) {}

  // One request: the body framed by Content-Length or chunked, else empty.
  AssertionResult read_request(WireMessage& m) {
    std::string err;
    if (!read_head(m, err)) return AssertionFailure() << err;
    if (is_chunked(m)) {
      m.chunked = true;
      if (!read_chunked(m.body, err)) return AssertionFailure() << err;
    } else if (auto cl = m.values("Content-Length"); !cl.empty()) {
      std::size_t n = 0;
      if (!parse_length(cl[0], n)) return AssertionFailure() << "bad Content-Length " << cl[0];
      if (!read_exact(n, m.body, err)) return AssertionFailure() << err;
    }
    return AssertionSuccess();
  }

  // One response; `head_request`: the answer to a HEAD (no body whatever the headers say).
  AssertionResult read_response(WireMessage& m, bool head_request = false) {
    std::string err;
    if (!read_head(m, err)) return AssertionFailure() << err;
    int status = m.status();
    if (status < 100) return AssertionFailure() << "bad status line: " << printable(m.start_line);
    if (head_request || status < 200 || status == 204 || status == 304) return AssertionSuccess();
    if (is_chunked(m)) {
      m.chunked = true;
      if (!read_chunked(m.body, err)) return AssertionFailure() << err;
    } else if (auto cl = m.values("Content-Length"); !cl.empty()) {
      std::size_t n = 0;
      if (!parse_length(cl[0], n)) return AssertionFailure() << "bad Content-Length " << cl[0];
      if (!read_exact(n, m.body, err)) return AssertionFailure() << err;
    } else {
      m.close_delimited = true;
      for (;;) {
        m.body.append(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        Fill f = fill();
        if (f == Fill::kClosed) break;
        if (f != Fill::kData) {
          return AssertionFailure() << "close-delimited body: " << describe(f) << " after "
                                    << m.body.size() << " bytes";
        }
      }
    }
    return AssertionSuccess();
  }

  std::size_t buffered() const { return buf_.size() - pos_; }
  std::string_view pending() const { return std::string_view(buf_).substr(pos_); }

  // One recv into the buffer.
  Fill fill() {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<std::size_t>(n));
        return Fill::kData;
      }
      if (n == 0) return Fill::kClosed;
      if (errno == EINTR) continue;
      last_errno_ = errno;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Fill::kTimedOut;
      return Fill::kFailed;
    }
  }
  int last_errno() const { return last_errno_; }

  std::string describe(Fill f) const {
    switch (f) {
      case Fill::kData:
        return "data";
      case Fill::kClosed:
        return "connection closed by the peer";
      case Fill::kTimedOut:
        return "timed out after " + std::to_string(kTimeout.count()) + " ms";
      case Fill::kFailed:
        return std::string("recv failed: ") + std::strerror(last_errno_);
    }
    return "?";
  }

 private:
  static bool is_chunked(const WireMessage& m) {
    for (const auto& v : m.values("Transfer-Encoding")) {
      if (v.find("chunked") != std::string::npos) return true;
    }
    return false;
  }

  // A line through its LF; `raw` gets it as received, `line` without the CRLF.
  bool read_line(std::string& line, std::string* raw, std::string& err) {
    for (;;) {
      auto lf = buf_.find('\n', pos_);
      if (lf != std::string::npos) {
        if (raw != nullptr) raw->append(buf_, pos_, lf + 1 - pos_);
        line.assign(buf_, pos_, lf - pos_);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        pos_ = lf + 1;
        return true;
      }
      if (buffered() > kMaxHead) {
        err = "line longer than 1 MiB";
        return false;
      }
      Fill f = fill();
      if (f != Fill::kData) {
        err = "reading a line: " + describe(f) + " (unparsed: '" + printable(pending()) + "')";
        return false;
      }
    }
  }

  bool read_head(WireMessage& m, std::string& err) {
    if (!read_line(m.start_line, &m.head, err)) return false;
    for (;;) {
      std::string line;
      if (!read_line(line, &m.head, err)) {
        err = "in the head after '" + printable(m.head) + "': " + err;
        return false;
      }
      if (line.empty()) return true;
      if (m.head.size() > kMaxHead) {
        err = "head longer than 1 MiB";
        return false;
      }
      auto colon = line.find(':');
      if (colon == std::string::npos) {
        err = "header line without a colon: '" + printable(line) + "'";
        return false;
      }
      m.headers.emplace_back(line.substr(0, colon),
                             std::string(trim(std::string_view(line).substr(colon + 1))));
    }
  }

  bool read_exact(std::size_t n, std::string& out, std::string& err) {
    while (buffered() < n) {
      Fill f = fill();
      if (f != Fill::kData) {
        err = "body: " + describe(f) + " with " + std::to_string(buffered()) + " of " +
              std::to_string(n) + " bytes";
        return false;
      }
    }
    out.append(buf_, pos_, n);
    pos_ += n;
    return true;
  }

  bool read_chunked(std::string& out, std::string& err) {
    for (;;) {
      std::string line;
      if (!read_line(line, nullptr, err)) return false;
      std::string_view hex = trim(std::string_view(line).substr(0, line.find(';')));
      std::size_t size = 0;
      auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
      if (hex.empty() || ec != std::errc{} || ptr != hex.data() + hex.size()) {
        err = "bad chunk size line '" + printable(line) + "'";
        return false;
      }
      if (size == 0) {
        for (;;) {  // trailer fields, then the blank line
          if (!read_line(line, nullptr, err)) return false;
          if (line.empty()) return true;
        }
      }
      if (!read_exact(size, out, err)) return false;
      if (!read_line(line, nullptr, err)) return false;
      if (!line.empty()) {
        err = "chunk data not followed by CRLF: '" + printable(line) + "'";
        return false;
      }
    }
  }

  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
  int last_errno_ = 0;
};

// A client connection to 127.0.0.1:port; every read and write gives up after kTimeout.
class Conn {
 public:
  explicit Conn(int port) : reader_(-1) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error_ = std::string("socket: ") + std::strerror(errno);
      return;
    }
    set_timeouts(fd_, kTimeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error_ = "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      return;
    }
    reader_ = WireReader(fd_);
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  AssertionResult ok() const {
    if (fd_ < 0) return AssertionFailure() << error_;
    return AssertionSuccess();
  }
  AssertionResult send(std::string_view bytes) {
    if (fd_ < 0) return AssertionFailure() << "not connected: " << error_;
    if (!send_all(fd_, bytes)) {
      return AssertionFailure() << "send of " << bytes.size()
                                << " bytes failed: " << std::strerror(errno);
    }
    return AssertionSuccess();
  }
  AssertionResult read_response(WireMessage& m, bool head_request = false) {
    if (fd_ < 0) return AssertionFailure() << "not connected: " << error_;
    return reader_.read_response(m, head_request);
  }

  // Whether the peer has closed the connection: sends one more request (a peer that kept the
  // connection open would answer it) and expects end of stream or a reset, not a response.
  AssertionResult closed_by_peer() {
    if (reader_.buffered() > 0) {
      return AssertionFailure() << "unexpected bytes after the response: '"
                                << printable(reader_.pending()) << "'";
    }
    send_all(fd_, "GET /probe-after-close HTTP/1.1\r\nHost: proxy\r\n\r\n");
    switch (reader_.fill()) {
      case WireReader::Fill::kClosed:
        return AssertionSuccess();
      case WireReader::Fill::kFailed:
        if (reader_.last_errno() == ECONNRESET) return AssertionSuccess();
        return AssertionFailure() << reader_.describe(WireReader::Fill::kFailed);
      case WireReader::Fill::kTimedOut:
        return AssertionFailure() << "connection still open: nothing within " << kTimeout.count()
                                  << " ms of a further request";
      case WireReader::Fill::kData:
        break;
    }
    return AssertionFailure() << "connection still open: a further request was answered with '"
                              << printable(reader_.pending()) << "'";
  }

  // Whether the peer closes the connection without being sent anything more.
  AssertionResult closed_unprompted() {
    switch (reader_.fill()) {
      case WireReader::Fill::kClosed:
        return AssertionSuccess();
      case WireReader::Fill::kFailed:
        if (reader_.last_errno() == ECONNRESET) return AssertionSuccess();
        return AssertionFailure() << reader_.describe(WireReader::Fill::kFailed);
      case WireReader::Fill::kTimedOut:
        return AssertionFailure() << "connection still open after " << kTimeout.count() << " ms";
      case WireReader::Fill::kData:
        break;
    }
    return AssertionFailure() << "unexpected bytes: '" << printable(reader_.pending()) << "'";
  }

 private:
  int fd_ = -1;
  std::string error_;
  WireReader reader_;
};

// A scripted upstream on 127.0.0.1: accepts connections, reads requests off each and hands
// them to a script, which writes whatever bytes it likes. Remembers every request it read.
class RawUpstream {
 public:
  // Answers `request`, read from connection `fd`; returns false to close the connection.
  using Script = std::function<bool(RawUpstream&, int fd, const WireMessage& request)>;

  // The well-behaved upstream: 200, body "echo:" + target, Content-Length framed, keep-alive
  // (HEAD gets the same head and no body).
  static bool echo(RawUpstream&, int fd, const WireMessage& request) {
    std::string body = "echo:" + request.target();
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Upstream: yes\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (request.method() != "HEAD") out += body;
    return send_all(fd, out);
  }

  explicit RawUpstream(Script script = echo) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ||
        ::listen(listen_fd_, 256) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "RawUpstream: " << std::strerror(errno);
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RawUpstream() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes connection threads in recv
    }
    cv_.notify_all();
    if (acceptor_.joinable()) {
      [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
      acceptor_.join();
    }
    for (auto& t : workers_) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    for (int fd : wake_) {
      if (fd >= 0) ::close(fd);
    }
  }
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  int port() const { return port_; }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + authority(); }

  std::vector<WireMessage> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Waits (at most kTimeout) until `n` requests have been read.
  bool wait_for_requests(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kTimeout, [&] { return requests_.size() >= n; });
  }
  // For scripts: blocks until this upstream is being destroyed (at most 3 x kTimeout).
  void hold() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 3 * kTimeout, [&] { return stopping_; });
  }

 private:
  void accept_loop() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      int n = ::poll(fds, 2, -1);  // woken by the destructor through wake_
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || fds[1].revents != 0) return;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) {
          ::close(fd);
          return;
        }
        open_.insert(fd);
      }
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    set_timeouts(fd, kTimeout);
    WireReader reader(fd);
    for (;;) {
      WireMessage request;
      if (!reader.read_request(request)) break;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
      }
      cv_.notify_all();
      if (!script_(*this, fd, request)) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(fd);
    }
    ::close(fd);
  }

  Script script_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor only, until it is joined
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<int> open_;
  std::vector<WireMessage> requests_;
};

// A proxy recording into a fresh cassette, collecting what it reports through on_error.
class Recording {
 public:
  AssertionResult start(ProxyOptions po) {
    auto writer = CassetteWriter::open(dir_.file("wire.har"), WriterOptions{});
    if (!writer.ok()) return AssertionFailure() << "writer: " << writer.error().message;
    writer_ = std::move(*writer);
    po.on_error = [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(m);
    };
    auto proxy = RecordingProxy::start(std::move(po), *writer_);
    if (!proxy.ok()) return AssertionFailure() << "proxy: " << proxy.error().message;
    proxy_ = std::move(*proxy);
    return AssertionSuccess();
  }

  RecordingProxy& proxy() { return *proxy_; }
  int port() const { return proxy_->port(); }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

  // Stops the proxy, finishes the cassette and reads its entries back.
  AssertionResult finish(std::vector<Interaction>& entries) {
    proxy_->stop();
    if (auto s = writer_->finish(); !s.ok()) {
      return AssertionFailure() << "finish: " << s.error().message;
    }
    auto cassette = read_cassette(dir_.file("wire.har"));
    if (!cassette.ok()) return AssertionFailure() << "read_cassette: " << cassette.error().message;
    entries = std::move(cassette->entries);
    return AssertionSuccess();
  }

 private:
  ScratchDir dir_;
  std::unique_ptr<CassetteWriter> writer_;  // declared before proxy_: outlives it
  std::unique_ptr<RecordingProxy> proxy_;
  std::mutex mu_;
  std::vector<std::string> errors_;
};

ProxyOptions options_for(const RawUpstream& upstream) {
  ProxyOptions po;
  po.upstream.base_url = upstream.url();
  return po;
}

std::vector<std::string> targets(const std::vector<Interaction>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.request.path + (e.request.query.empty() ? "" : "?" + e.request.query));
  }
  return out;
}

TEST(ProxyWire, PipelinedRequestsAreAnsweredInOrder) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.send("GET /pipe/1 HTTP/1.1\r\nHost: proxy\r\n\r\nGET /pipe/2?x=y HTTP/1.1\r\nHost: "
               "proxy\r\n\r\n"));
    WireMessage first, second;
    ASSERT_TRUE(c.read_response(first));
    ASSERT_TRUE(c.read_response(second));
    EXPECT_EQ(first.status(), 200);
    EXPECT_EQ(first.body, "echo:/pipe/1");
    EXPECT_EQ(second.status(), 200);
    EXPECT_EQ(second.body, "echo:/pipe/2?x=y");
  }
  auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target(), "/pipe/1");
  EXPECT_EQ(seen[1].target(), "/pipe/2?x=y");

  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().forwarded(), 2u);
  auto recorded = targets(entries);
  std::sort(recorded.begin(), recorded.end());
  EXPECT_EQ(recorded, (std::vector<std::string>{"/pipe/1", "/pipe/2?x=y"}));
  for (const auto& e : entries) {
    EXPECT_EQ(e.response.body,
              "echo:" + e.request.path + (e.request.query.empty() ? "" : "?" + e.request.query));
  }
}

TEST(ProxyWire, ChunkedRequestBodyGoesUpstreamDechunked) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  const std::string parts[] = {"hello, ", bytes("chunked \x00\xff bytes in three parts"), "!"};
  const std::string body = parts[0] + parts[1] + parts[2];
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.send("POST /upload?kind=chunked HTTP/1.1\r\nHost: proxy\r\n"
               "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
               chunk(parts[0]) + chunk(parts[1]) + chunk(parts[2]) + "0\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "echo:/upload?kind=chunked");
  }
  auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, body);
  EXPECT_FALSE(seen[0].chunked);
  EXPECT_EQ(seen[0].values("Transfer-Encoding"), std::vector<std::string>{});
  EXPECT_EQ(seen[0].values("Content-Length"),
            std::vector<std::string>{std::to_string(body.size())});

  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].request.method, "POST");
  EXPECT_EQ(entries[0].request.body, body);
  EXPECT_FALSE(entries[0].request.headers.has("Transfer-Encoding"));
}

TEST(ProxyWire, ExpectContinueGetsA100BeforeTheBody) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  const std::string body = R"({"expect":"continue"})";
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.send("POST /expect HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n"));
    WireMessage interim;
    ASSERT_TRUE(c.read_response(interim));
    ASSERT_EQ(interim.head, "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(c.send(body));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "echo:/expect");
  }
  auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, body);
  EXPECT_EQ(seen[0].values("Expect"), std::vector<std::string>{});

  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].request.body, body);
  EXPECT_FALSE(entries[0].request.headers.has("Expect"));
}

// Sends `request` on a fresh connection and expects `status`, the connection closed, and nothing
// forwarded or recorded.
void expect_refused(const std::string& request, int status) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send(request));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), status);
    EXPECT_TRUE(c.closed_by_peer());
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().forwarded(), 0u);
  EXPECT_EQ(upstream.requests().size(), 0u);
  EXPECT_EQ(targets(entries), std::vector<std::string>{});
}

TEST(ProxyWire, GarbageRequestLineIsA400AndClosesTheConnection) {
  expect_refused("GARBAGE\r\n\r\n", 400);
}

TEST(ProxyWire, HeaderLineWithoutColonIsA400AndClosesTheConnection) {
  expect_refused("GET /no-colon HTTP/1.1\r\nHost: proxy\r\nNoColonHere\r\n\r\n", 400);
}

TEST(ProxyWire, DeclaredBodyOverTheLimitIsA413WithoutReadingIt) {
  // 100 MB declared (the limit is 64 MiB); no body byte is ever sent.
  expect_refused(
      "POST /big HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: 100000000\r\n\r\n",
      413);
}

TEST(ProxyWire, SilentUpstreamIsA504AfterTheReadTimeout) {
  RawUpstream upstream([](RawUpstream& self, int, const WireMessage&) {
    self.hold();  // never answers
    return false;
  });
  Recording rec;
  ProxyOptions po = options_for(upstream);
  po.upstream.read_timeout = std::chrono::milliseconds(300);
  ASSERT_TRUE(rec.start(po));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /silent HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 504);
    EXPECT_NE(res.body.find("upstream"), std::string::npos) << res.body;
  }
  EXPECT_TRUE(upstream.wait_for_requests(1));
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().failures(), 1u);
  EXPECT_EQ(rec.proxy().forwarded(), 0u);
  auto errors = rec.errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(upstream.authority()), std::string::npos) << errors[0];
  EXPECT_EQ(targets(entries), std::vector<std::string>{});
}

TEST(ProxyWire, TruncatedUpstreamResponseIsA502) {
  RawUpstream upstream([](RawUpstream&, int fd, const WireMessage&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    return false;  // closes with 95 bytes missing
  });
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /truncated HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 502);
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().failures(), 1u);
  EXPECT_EQ(rec.proxy().forwarded(), 0u);
  EXPECT_EQ(targets(entries), std::vector<std::string>{});
}

TEST(ProxyWire, CloseDelimitedUpstreamResponseIsForwardedAndRecorded) {
  RawUpstream upstream([](RawUpstream&, int fd, const WireMessage&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nhello");
    return false;  // the close ends the body
  });
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /close-delimited HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "hello");
    EXPECT_EQ(res.values("X-A"), std::vector<std::string>{"b"});
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().forwarded(), 1u);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].request.path, "/close-delimited");
  EXPECT_EQ(entries[0].response.status, 200);
  EXPECT_EQ(entries[0].response.body, "hello");
  EXPECT_EQ(entries[0].response.headers.get("X-A"), "b");
}

TEST(ProxyWire, ChunkedUpstreamResponseReachesTheClientDechunked) {
  const std::string parts[] = {"first chunk, ", "a second chunk longer than sixteen bytes"};
  const std::string body = parts[0] + parts[1];
  RawUpstream upstream([&](RawUpstream&, int fd, const WireMessage&) {
    return send_all(fd,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                    "X-A: c\r\n\r\n" +
                        chunk(parts[0]) + chunk(parts[1]) + "0\r\n\r\n");
  });
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /chunked HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, body);
    EXPECT_FALSE(res.chunked);
    EXPECT_EQ(res.values("Transfer-Encoding"), std::vector<std::string>{});
    EXPECT_EQ(res.values("Content-Length"), std::vector<std::string>{std::to_string(body.size())});
    EXPECT_EQ(res.values("X-A"), std::vector<std::string>{"c"});
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].response.body, body);
  EXPECT_FALSE(entries[0].response.headers.has("Transfer-Encoding"));
}

TEST(ProxyWire, IdleConnectionsBeyondThreadsDoNotBlockOthers) {
  constexpr int kIdle = 100;
  RawUpstream upstream;
  Recording rec;
  ProxyOptions po = options_for(upstream);
  po.threads = 2;
  ASSERT_TRUE(rec.start(po));
  std::vector<std::unique_ptr<Conn>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Conn>(rec.port()));
    ASSERT_TRUE(idle.back()->ok()) << "connection " << i;
  }
  {
    Conn extra(rec.port());
    ASSERT_TRUE(extra.ok());
    ASSERT_TRUE(extra.send("GET /extra HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(extra.read_response(res)) << "with " << kIdle << " idle connections open";
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "echo:/extra");
  }
  for (int i = 0; i < kIdle; ++i) {
    ASSERT_TRUE(
        idle[i]->send("GET /idle/" + std::to_string(i) + " HTTP/1.1\r\nHost: proxy\r\n\r\n"))
        << "connection " << i;
  }
  for (int i = 0; i < kIdle; ++i) {
    WireMessage res;
    ASSERT_TRUE(idle[i]->read_response(res)) << "connection " << i;
    EXPECT_EQ(res.status(), 200) << "connection " << i;
    EXPECT_EQ(res.body, "echo:/idle/" + std::to_string(i));
  }
  // stop() with all kIdle connections still open and idle (a hang is caught by the ctest
  // timeout).
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(entries.size(), static_cast<std::size_t>(kIdle + 1));
  EXPECT_EQ(rec.proxy().forwarded(), static_cast<std::size_t>(kIdle + 1));
}

TEST(ProxyWire, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\nHost: proxy\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "echo:/old");
    EXPECT_TRUE(c.closed_by_peer());
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(targets(entries), std::vector<std::string>{"/old"});
}

TEST(ProxyWire, ConnectionCloseIsAnsweredWithCloseAndHonoured) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /bye HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.body, "echo:/bye");
    auto connection = res.values("Connection");
    ASSERT_EQ(connection.size(), 1u);
    EXPECT_TRUE(iequal(connection[0], "close")) << connection[0];
    EXPECT_TRUE(c.closed_by_peer());
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(targets(entries), std::vector<std::string>{"/bye"});
  EXPECT_FALSE(entries[0].request.headers.has("Connection"));
}

TEST(ProxyWire, HeadResponseHasNoBodyBytes) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.send("HEAD /head HTTP/1.1\r\nHost: proxy\r\n\r\nGET /after-head HTTP/1.1\r\nHost: "
               "proxy\r\n\r\n"));
    WireMessage head, get;
    ASSERT_TRUE(c.read_response(head, /*head_request=*/true));
    EXPECT_EQ(head.status(), 200);
    // Any body byte after the HEAD response would be read as the start of the next response.
    ASSERT_TRUE(c.read_response(get));
    EXPECT_EQ(get.status(), 200);
    EXPECT_EQ(get.body, "echo:/after-head");
  }
  auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method(), "HEAD");

  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    if (e.request.method == "HEAD") {
      EXPECT_EQ(e.request.path, "/head");
      EXPECT_EQ(e.response.body, "");
    } else {
      EXPECT_EQ(e.request.path, "/after-head");
      EXPECT_EQ(e.response.body, "echo:/after-head");
    }
  }
}

TEST(ProxyWire, ObsTextHeaderValueIsForwardedUnchanged) {
  RawUpstream upstream;
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  std::string value = "a";
  for (int b = 0x80; b <= 0xff; ++b) value.push_back(static_cast<char>(b));
  value += "z";
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /bin HTTP/1.1\r\nHost: proxy\r\nX-Bin: " + value + "\r\n\r\n"));
    WireMessage res;
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
  }
  auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].values("X-Bin"), std::vector<std::string>{value});

  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  ASSERT_EQ(targets(entries), std::vector<std::string>{"/bin"});
  // HAR header values are JSON strings, so the cassette keeps the header but not its non-UTF-8
  // bytes verbatim.
  EXPECT_TRUE(entries[0].request.headers.has("X-Bin"));
}

// An upstream that answers its first request on a keep-alive connection, then reads the second
// and closes without answering (it gave up on the connection as the request arrived), then
// answers everything.
RawUpstream::Script closes_on_second_request() {
  auto seen = std::make_shared<std::atomic<int>>(0);
  return [seen](RawUpstream& u, int fd, const WireMessage& request) {
    if (seen->fetch_add(1) == 1) return false;
    return RawUpstream::echo(u, fd, request);
  };
}

// Sends GET /first, then `second`, on one connection; returns the second response.
WireMessage first_then(Recording& rec, const std::string& second) {
  Conn c(rec.port());
  WireMessage first, out;
  EXPECT_TRUE(c.ok());
  EXPECT_TRUE(c.send("GET /first HTTP/1.1\r\nHost: proxy\r\n\r\n"));
  EXPECT_TRUE(c.read_response(first));
  EXPECT_EQ(first.status(), 200);
  EXPECT_TRUE(c.send(second));
  EXPECT_TRUE(c.read_response(out));
  return out;
}

TEST(ProxyWire, IdempotentRequestOnAConnectionTheUpstreamDroppedIsSentAgain) {
  RawUpstream upstream(closes_on_second_request());
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  WireMessage second = first_then(rec, "GET /second HTTP/1.1\r\nHost: proxy\r\n\r\n");
  EXPECT_EQ(second.status(), 200);
  EXPECT_EQ(second.body, "echo:/second");
  // The second GET reached the upstream twice: on the pooled connection, then on a new one.
  EXPECT_EQ(upstream.requests().size(), 3u);
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().failures(), 0u);
  EXPECT_EQ(targets(entries), (std::vector<std::string>{"/first", "/second"}));
}

TEST(ProxyWire, NonIdempotentRequestOnAConnectionTheUpstreamDroppedIsNotSentAgain) {
  // RFC 9110 9.2.2: the upstream may have applied the POST before it closed; a proxy must not
  // apply it twice, so the client gets a 502 and decides.
  RawUpstream upstream(closes_on_second_request());
  Recording rec;
  ASSERT_TRUE(rec.start(options_for(upstream)));
  WireMessage second =
      first_then(rec, "POST /second HTTP/1.1\r\nHost: proxy\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(second.status(), 502);
  EXPECT_EQ(upstream.requests().size(), 2u);
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(rec.proxy().failures(), 1u);
  EXPECT_EQ(targets(entries), std::vector<std::string>{"/first"});
}

TEST(ProxyWire, StalledRequestIsDroppedAfterTheClientTimeout) {
  RawUpstream upstream;
  ProxyOptions po = options_for(upstream);
  po.client_timeout = std::chrono::milliseconds(300);
  Recording rec;
  ASSERT_TRUE(rec.start(po));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /stalled HTTP/1.1\r\nHost: proxy\r\n"));  // the head never ends
    EXPECT_TRUE(c.closed_unprompted());
  }
  EXPECT_TRUE(upstream.requests().empty());
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_TRUE(entries.empty());
}

TEST(ProxyWire, IdleKeepAliveConnectionIsClosedAfterTheClientTimeout) {
  RawUpstream upstream;
  ProxyOptions po = options_for(upstream);
  po.client_timeout = std::chrono::milliseconds(300);
  Recording rec;
  ASSERT_TRUE(rec.start(po));
  {
    Conn c(rec.port());
    ASSERT_TRUE(c.ok());
    WireMessage res;
    ASSERT_TRUE(c.send("GET /once HTTP/1.1\r\nHost: proxy\r\n\r\n"));
    ASSERT_TRUE(c.read_response(res));
    EXPECT_EQ(res.status(), 200);
    EXPECT_TRUE(c.closed_unprompted());
  }
  std::vector<Interaction> entries;
  ASSERT_TRUE(rec.finish(entries));
  EXPECT_EQ(targets(entries), std::vector<std::string>{"/once"});
}

}  // namespace
}  // namespace patrol::recorder
