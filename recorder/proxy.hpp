// The recording reverse proxy behind `patrol record`: forwards method, request target, headers
// (minus hop-by-hop) and body byte-exact to one upstream, serves many clients at once, and
// appends every completed interaction to a CassetteWriter before the client sees the response,
// so whatever a client saw completed is in the journal.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "model/result.hpp"
#include "recorder/net.hpp"
#include "recorder/writer.hpp"

namespace httplib {
class Server;
}

namespace patrol::recorder {

struct ProxyOptions {
  UpstreamOptions upstream;
  ListenAddress listen;
  std::size_t threads = 64;  // connections served at once
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

  std::size_t forwarded() const { return forwarded_.load(); }
  std::size_t failures() const { return failures_.load(); }

 private:
  RecordingProxy() = default;
  void handle(const httplib::Request& req, httplib::Response& res);
  void fail(httplib::Response& res, int status, const std::string& message);

  ProxyOptions options_;
  CassetteWriter* writer_ = nullptr;
  std::unique_ptr<UpstreamPool> upstream_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<std::size_t> forwarded_{0};
  std::atomic<std::size_t> failures_{0};
};

}  // namespace patrol::recorder
