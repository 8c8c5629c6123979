// Puts a ServerCore on the network: a cpp-httplib server (plain or TLS) on 127.0.0.1 that turns
// each HTTP exchange into a call of ServerCore::handle. Used by `patrol serve`, by `patrol check`
// for its embedded target, and by the integration tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "model/result.hpp"
#include "server/core.hpp"

namespace patrol::server {

// Listener settings. The defaults replace Debian cpp-httplib 0.11's compiled-in ones (8 worker
// threads, 5 requests per keep-alive connection, TCP_NODELAY off, listen backlog 5), which cap a
// loopback client at a few hundred requests per second with 40 ms delayed-ACK stalls.
struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                              // 0 picks a free port; port() reports it
  std::optional<std::string> tls_cert_file;  // PEM; both set = HTTPS
  std::optional<std::string> tls_key_file;
  // Each open keep-alive connection occupies one worker while it lasts.
  std::size_t threads = 32;
  std::size_t keep_alive_max_requests = 100'000;
  // Also bounds how long stop() waits for an idle keep-alive connection to go away.
  std::chrono::seconds keep_alive_timeout{2};
  std::chrono::seconds io_timeout{5};  // read and write timeout per request
  bool tcp_nodelay = true;
  int listen_backlog = 128;
  // >= 0: the workers run on this CPU only. A sequential client that waits for every response
  // goes faster on the same CPU as the worker serving it: each request and response then costs
  // a context switch instead of a cross-CPU wake-up (an inter-processor interrupt and, on a
  // virtual machine, an exit from the idle vCPU). See app/targets.cpp, co_locate.
  int worker_cpu = -1;
};

// Restricts the calling thread to `cpu`; returns false when the system refuses.
bool pin_this_thread(int cpu);

class Listener {
 public:
  // Binds, starts serving on a background thread, and returns once connections are accepted.
  // The core must outlive the listener. Errors: kInvalid for unusable TLS files, kIo when the
  // address cannot be bound.
  static model::Result<std::unique_ptr<Listener>> start(ServerCore& core,
                                                        ListenerOptions options = {});

  // Serves any handler (e.g. one that swaps cores between sequences); `profile` ("hub" or
  // "spec") shapes the error bodies httplib produces itself.
  using Handler = std::function<model::HttpResponse(const model::HttpRequest&)>;
  static model::Result<std::unique_ptr<Listener>> start(Handler handler, std::string profile,
                                                        ListenerOptions options = {});

  // Stops (see stop()).
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Returns the bound port.
  int port() const;
  // Returns the bound host as given in the options.
  const std::string& host() const;
  // True when serving HTTPS.
  bool tls() const;
  // Returns "http://HOST:PORT" or "https://HOST:PORT".
  std::string base_url() const;

  // Stops accepting, lets in-flight requests finish, and joins the server thread. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit Listener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace patrol::server
