#include "http/lean_socket.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace patrol::http {
namespace {

using std::chrono::microseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 16 * 1024;
// Gathered output beyond this is sent at once (a large or streamed body).
constexpr std::size_t kMaxGathered = 64 * 1024;

void set_timeout(socket_t sock, int option, microseconds t) {
  if (t <= microseconds::zero()) t = microseconds(1);  // zero would mean "block forever"
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(t.count() % 1'000'000);
  ::setsockopt(sock, SOL_SOCKET, option, &tv, sizeof tv);
}

microseconds from_sec_usec(time_t sec, time_t usec) {
  return std::chrono::seconds(sec) + microseconds(usec);
}

void address_of(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST) == 0) {
    ip = host;
  }
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
}

}  // namespace

LeanSocketStream::LeanSocketStream(socket_t sock, microseconds read_timeout,
                                   microseconds write_timeout, std::function<bool()> stopping,
                                   bool timeouts_set, std::unique_ptr<char[]>* buffer)
    : sock_(sock),
      read_timeout_(read_timeout),
      write_timeout_(write_timeout),
      stopping_(std::move(stopping)),
      rcv_timeout_set_(timeouts_set ? read_timeout : microseconds(-1)),
      snd_timeout_set_(timeouts_set ? write_timeout : microseconds(-1)),
      in_(buffer ? buffer : &own_in_) {}

void LeanSocketStream::socket_timeout(int option, microseconds t) {
  microseconds& current = option == SO_RCVTIMEO ? rcv_timeout_set_ : snd_timeout_set_;
  if (current == t) return;  // one setsockopt per connection, not one per read
  set_timeout(sock_, option, t);
  current = t;
}

LeanSocketStream::Fill LeanSocketStream::fill_once() {
  if (!*in_) *in_ = std::make_unique<char[]>(kReadChunk);
  in_pos_ = in_end_ = 0;
  ssize_t n;
  do {
    n = ::recv(sock_, in_->get(), kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    in_end_ = static_cast<std::size_t>(n);
    return Fill::kData;
  }
  if (n == 0) return Fill::kClosed;
  return errno == EAGAIN || errno == EWOULDBLOCK ? Fill::kTimedOut : Fill::kFailed;
}

LeanSocketStream::Fill LeanSocketStream::fill(microseconds limit) {
  if (!flush()) return Fill::kFailed;  // a reply the peer waits for (e.g. 100 Continue) goes first
  const auto deadline = Clock::now() + limit;
  // Short waits when someone may ask us to stop, so that stop() is not held up by an idle client.
  socket_timeout(SO_RCVTIMEO, stopping_ ? std::min<microseconds>(limit, kStopCheck) : limit);
  while (true) {
    Fill f = fill_once();
    if (f != Fill::kTimedOut) return f;
    if ((stopping_ && stopping_()) || Clock::now() >= deadline) return Fill::kTimedOut;
  }
}

bool LeanSocketStream::await_input(microseconds idle) {
  if (in_pos_ < in_end_) return true;
  return !failed_ && fill(idle) == Fill::kData;
}

bool LeanSocketStream::flush() {
  if (failed_) return false;
  if (out_.empty()) return true;
  socket_timeout(SO_SNDTIMEO, write_timeout_);
  std::size_t sent = 0;
  while (sent < out_.size()) {
    ssize_t n = ::send(sock_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed_ = true;
      out_.clear();
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  out_.clear();
  return true;
}

bool LeanSocketStream::is_readable() const {
  if (in_pos_ < in_end_) return true;
  pollfd p{sock_, POLLIN, 0};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout_).count();
  return ::poll(&p, 1, static_cast<int>(ms)) > 0;
}

bool LeanSocketStream::is_writable() const { return !failed_; }

ssize_t LeanSocketStream::read(char* ptr, size_t size) {
  if (in_pos_ == in_end_) {
    if (failed_ || fill(read_timeout_) != Fill::kData) return -1;
  }
  std::size_t n = std::min(size, in_end_ - in_pos_);
  std::memcpy(ptr, in_->get() + in_pos_, n);
  in_pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t LeanSocketStream::write(const char* ptr, size_t size) {
  if (failed_) return -1;
  out_.append(ptr, size);
  if (out_.size() >= kMaxGathered && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

void LeanSocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  remote_.get(sock_, ::getpeername, ip, port);
}

void LeanSocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  local_.get(sock_, ::getsockname, ip, port);
}

void LeanSocketStream::CachedAddress::get(socket_t sock, int (*lookup)(int, sockaddr*, socklen_t*),
                                          std::string& ip_out, int& port_out) {
  if (!known) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (lookup(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, len, ip, port);
    known = true;
  }
  ip_out = ip;
  port_out = port;
}

// The keep-alive loop of cpp-httplib's process_server_socket_core, over LeanSocketStream.
bool LeanServer::process_and_close_socket(socket_t sock) {
  bool ok = false;
  {
    LeanSocketStream stream(sock, from_sec_usec(read_timeout_sec_, read_timeout_usec_),
                            from_sec_usec(write_timeout_sec_, write_timeout_usec_),
                            [this] { return svr_sock_ == INVALID_SOCKET; });
    const microseconds idle = std::chrono::seconds(keep_alive_timeout_sec_);
    std::size_t left = keep_alive_max_count_;
    while (left > 0 && svr_sock_ != INVALID_SOCKET && stream.await_input(idle)) {
      bool closed = false;
      ok = process_request(stream, /*close_connection=*/left == 1, closed, nullptr);
      ok = stream.flush() && ok;
      if (!ok || closed) break;
      --left;
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

bool LeanClient::create_and_connect_socket(Socket& socket, httplib::Error& error) {
  if (!httplib::ClientImpl::create_and_connect_socket(socket, error)) return false;
  set_timeout(socket.sock, SO_RCVTIMEO, from_sec_usec(read_timeout_sec_, read_timeout_usec_));
  set_timeout(socket.sock, SO_SNDTIMEO, from_sec_usec(write_timeout_sec_, write_timeout_usec_));
  return true;
}

bool LeanClient::process_socket(const Socket& socket,
                                std::function<bool(httplib::Stream&)> callback) {
  // create_and_connect_socket set both timeouts on this socket.
  LeanSocketStream stream(socket.sock, from_sec_usec(read_timeout_sec_, read_timeout_usec_),
                          from_sec_usec(write_timeout_sec_, write_timeout_usec_), {},
                          /*timeouts_set=*/true, &buffer_);
  bool ok = callback(stream);
  return stream.flush() && ok;
}

std::unique_ptr<httplib::ClientImpl> make_client(const std::string& scheme, const std::string& host,
                                                 int port) {
  std::string bare = host.size() > 1 && host.front() == '[' && host.back() == ']'
                         ? host.substr(1, host.size() - 2)
                         : host;
  if (scheme == "https") return std::make_unique<httplib::SSLClient>(bare, port);
  return std::make_unique<LeanClient>(bare, port);
}

}  // namespace patrol::http
