// The recording reverse proxy behind `patrol record`: forwards method, request target, headers
// (minus hop-by-hop) and body byte-exact to one upstream, serves many clients at once, and
// appends every completed interaction to a CassetteWriter before the client sees the response,
// so whatever a client saw completed is in the journal.
//
// It is event-driven: a few epoll threads own every client connection and, for a plain-HTTP
// upstream, every upstream connection, framing HTTP/1.1 with recorder/wire.hpp. A request costs
// no thread hand-off, so the proxy adds little more than its two extra sockets' system calls.
// HTTPS upstream exchanges and fsync-each appends block, so they run on a pool of worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "model/result.hpp"
#include "recorder/net.hpp"
#include "recorder/writer.hpp"

namespace patrol::recorder {

struct ProxyOptions {
  UpstreamOptions upstream;
  ListenAddress listen;
  // Worker threads for what would block an event loop: exchanges with an HTTPS upstream (so
  // this many are forwarded at once) and appends under Durability::kSyncEach.
  std::size_t threads = 64;
  std::size_t event_threads = 0;  // epoll threads; 0: one per CPU, at most 4
  // A client's request must make progress, and its response be taken, within this; an idle
  // keep-alive connection is closed after it.
  std::chrono::milliseconds client_timeout{30000};
  // Called with a one-line, redacted description of each failure (upstream unreachable,
  // journal write failed); may be called from many threads.
  std::function<void(const std::string&)> on_error;
};

class RecordingProxy {
 public:
  // Binds the listening socket and starts serving; the writer must outlive the proxy.
  static model::Result<std::unique_ptr<RecordingProxy>> start(ProxyOptions options,
                                                              CassetteWriter& writer);
  ~RecordingProxy();

  int port() const { return port_; }
  // "http://HOST:PORT" of the proxy.
  std::string url() const;
  // Stops accepting, finishes the requests in flight and returns. Idempotent.
  void stop();

  // Interactions forwarded and recorded.
  std::size_t forwarded() const;
  // Requests answered with the proxy's own 502 or 504 (upstream or journal failed).
  std::size_t failures() const;

  struct Impl;

 private:
  RecordingProxy() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string host_;
};

}  // namespace patrol::recorder
