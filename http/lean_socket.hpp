// cpp-httplib's server and plain-HTTP client with a leaner socket stream.
//
// cpp-httplib 0.11 polls before every read and every write, writes a response's headers and body
// in two sends, and asks the kernel for both socket addresses on every request. On loopback the
// syscalls are most of the cost of a request: a recording proxy made about 21 per forwarded
// request (strace), and its throughput stayed under half of direct access.
//
// LeanSocketStream keeps cpp-httplib's parsing, routing and response writing and changes only the
// socket I/O: blocking reads and writes bounded by SO_RCVTIMEO / SO_SNDTIMEO instead of a poll
// before each, a read buffer, writes gathered until the stream next reads or the exchange ends
// (one send per response or request), and the addresses looked up once per connection.
//
// LeanServer serves each connection with it (keep-alive loop of its own, which also notices
// stop() within kStopCheck instead of after the keep-alive timeout); LeanClient sends plain-HTTP
// requests with it. Everything else is the cpp-httplib class they derive from.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace patrol::http {

class LeanSocketStream final : public httplib::Stream {
 public:
  // `sock` stays owned by the caller. A blocked read gives up after `read_timeout`, a blocked
  // write after `write_timeout`; `stopping` (may be empty) is asked between waits so a server
  // can stop a connection that is waiting for its client.
  // `timeouts_set`: the socket already carries exactly these SO_RCVTIMEO / SO_SNDTIMEO values.
  // `buffer`, if given, is a read buffer that outlives the stream and is reused by the next one
  // (a client makes a stream per exchange); it must be empty of unread data between streams.
  LeanSocketStream(socket_t sock, std::chrono::microseconds read_timeout,
                   std::chrono::microseconds write_timeout, std::function<bool()> stopping = {},
                   bool timeouts_set = false, std::unique_ptr<char[]>* buffer = nullptr);
  ~LeanSocketStream() override = default;

  // Waits up to `idle` for the next request's first bytes (keep-alive). False when the peer
  // closed the connection, the wait timed out, `stopping` said so, or the socket failed.
  bool await_input(std::chrono::microseconds idle);
  // Sends whatever write() has gathered. False if the peer cannot take it within the timeout.
  bool flush();

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return sock_; }

  // The interval at which blocked reads look at `stopping`.
  static constexpr std::chrono::milliseconds kStopCheck{100};

 private:
  enum class Fill { kData, kClosed, kTimedOut, kFailed };
  // One recv into the read buffer, waiting at most one SO_RCVTIMEO interval.
  Fill fill_once();
  // recv until data arrives, waiting at most `limit` overall (and not past `stopping`).
  Fill fill(std::chrono::microseconds limit);
  void socket_timeout(int option, std::chrono::microseconds t);

  socket_t sock_;
  std::chrono::microseconds read_timeout_;
  std::chrono::microseconds write_timeout_;
  std::function<bool()> stopping_;
  std::chrono::microseconds rcv_timeout_set_;
  std::chrono::microseconds snd_timeout_set_;
  std::unique_ptr<char[]> own_in_;
  std::unique_ptr<char[]>* in_;  // one recv's worth, read from in_pos_ to in_end_
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  std::string out_;
  bool failed_ = false;
  // An address of the connection, asked of the kernel once (getpeername or getsockname).
  struct CachedAddress {
    bool known = false;
    std::string ip;
    int port = 0;
    void get(socket_t sock, int (*lookup)(int, sockaddr*, socklen_t*), std::string& ip_out,
             int& port_out);
  };
  mutable CachedAddress remote_;
  mutable CachedAddress local_;
};

// httplib::Server whose connections are served through LeanSocketStream. Configure it as any
// httplib::Server (handlers, timeouts, keep-alive count, task queue).
class LeanServer : public httplib::Server {
 private:
  bool process_and_close_socket(socket_t sock) override;
};

// httplib::ClientImpl (plain HTTP) whose exchanges go through LeanSocketStream; timeouts are set on
// each socket as it connects. For HTTPS use httplib::SSLClient, which this does not change.
class LeanClient : public httplib::ClientImpl {
 public:
  LeanClient(const std::string& host, int port) : httplib::ClientImpl(host, port) {}

 protected:
  bool create_and_connect_socket(Socket& socket, httplib::Error& error) override;
  bool process_socket(const Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override;

 private:
  std::unique_ptr<char[]> buffer_;  // the streams' read buffer, kept between exchanges
};

// A cpp-httplib client for `scheme` ("http" or "https") and host (brackets around an IPv6 literal
// are removed): LeanClient for plain HTTP, httplib::SSLClient for HTTPS.
std::unique_ptr<httplib::ClientImpl> make_client(const std::string& scheme, const std::string& host,
                                                 int port);

}  // namespace patrol::http
