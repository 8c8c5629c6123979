#include "server/listener.hpp"

#include <httplib.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "http/lean_socket.hpp"
#include "model/http_message.hpp"

namespace patrol::server {
namespace {

// Exposes the listening socket, which httplib keeps protected, so that the backlog can be raised
// above the compiled-in 5 (a burst of connects beyond it stalls in SYN retransmission).
template <class Base>
class TunedServer : public Base {
 public:
  using Base::Base;
  int listening_socket() const { return static_cast<int>(this->svr_sock_.load()); }
};

using PlainServer = TunedServer<http::LeanServer>;
using TlsServer = TunedServer<httplib::SSLServer>;

// httplib's pool with each task's thread pinned to one CPU first (ListenerOptions::worker_cpu).
class PinnedPool final : public httplib::TaskQueue {
 public:
  PinnedPool(std::size_t threads, int cpu) : pool_(threads), cpu_(cpu) {}
  void enqueue(std::function<void()> fn) override {
    pool_.enqueue([fn = std::move(fn), cpu = cpu_] {
      pin_this_thread(cpu);
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  int cpu_;
};

bool has_body_framing(const httplib::Request& req) {
  return req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
}

bool method_takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Explains the statuses httplib itself produces.
const char* reason(int status) {
  switch (status) {
    case 400:
      return "malformed HTTP request";
    case 404:
      return "no such route";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 414:
      return "request target too long";
    case 416:
      return "range not satisfiable";
    default:
      return status >= 500 ? "internal server error" : "request refused";
  }
}

std::string error_body(const std::string& profile, int status) {
  std::string message = "HTTP " + std::to_string(status) + ": " + reason(status);
  model::Json body = profile == "spec"
                         ? model::Json{{"detail", message}, {"message", message}}
                         : model::Json{{"message", message}, {"errinfo", model::Json::object()}};
  return body.dump();
}

}  // namespace

bool pin_this_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

struct Listener::Impl {
  Listener::Handler handler;
  std::string profile;
  ListenerOptions options;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;
  std::once_flag stopped;

  model::HttpRequest to_model(const httplib::Request& req, bool with_body) const {
    model::HttpRequest out;
    out.method = req.method;
    auto [raw_path, query] = model::split_target(req.target);
    out.path = model::percent_decode(raw_path, false).value_or(req.path);
    out.query = std::move(query);
    for (const auto& [name, value] : req.headers) {
      // httplib adds these for its own bookkeeping; they were not on the wire.
      if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
          name == "LOCAL_PORT") {
        continue;
      }
      out.headers.add(name, value);
    }
    if (with_body) out.body = req.body;
    out.peer = req.remote_addr;
    return out;
  }

  void answer(const httplib::Request& req, httplib::Response& res, bool with_body) {
    model::HttpResponse r = handler(to_model(req, with_body));
    res.status = r.status;
    std::string content_type = r.headers.get("Content-Type").value_or("application/json");
    for (const auto& [name, value] : r.headers.entries) {
      if (model::header_name_equal(name, "Content-Type") ||
          model::header_name_equal(name, "Content-Length")) {
        continue;
      }
      res.set_header(name, value);
    }
    if (!r.body.empty()) {
      res.set_content(std::move(r.body), content_type);
    } else if (r.headers.has("Content-Type")) {
      res.set_header("Content-Type", content_type);
    }
  }

  void configure(httplib::Server& s) {
    const std::size_t threads = options.threads == 0 ? 1 : options.threads;
    if (options.worker_cpu >= 0) {
      s.new_task_queue = [threads, cpu = options.worker_cpu] {
        return new PinnedPool(threads, cpu);
      };
    } else {
      s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    }
    s.set_tcp_nodelay(options.tcp_nodelay);
    // httplib's default also sets SO_REUSEPORT, which would let a second server bind the same
    // port and silently split the traffic; keep only SO_REUSEADDR (fast restart).
    s.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    s.set_keep_alive_max_count(options.keep_alive_max_requests);
    s.set_keep_alive_timeout(options.keep_alive_timeout.count());
    s.set_read_timeout(options.io_timeout.count(), 0);
    s.set_write_timeout(options.io_timeout.count(), 0);
    // httplib answers a larger body with 413 itself (the error handler makes it JSON).
    s.set_payload_max_length(kMaxRequestBodyBytes);

    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // No response compression: bodies are small, loopback is fast, and recordings stay
      // readable. httplib 0.11 would otherwise brotli/gzip JSON for any client sending
      // Accept-Encoding. The Request object is a non-const local of httplib's connection loop,
      // so dropping the header here is well-defined.
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      // A request with neither Content-Length nor Transfer-Encoding has an empty body
      // (RFC 9112 section 6.3). httplib 0.11 would instead read until the read timeout and answer
      // an empty 400; answer it here, before httplib tries to read a body.
      if (method_takes_body(req.method) && !has_body_framing(req)) {
        answer(req, res, /*with_body=*/false);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      answer(req, res, /*with_body=*/true);
    };
    s.Get(".*", handler);  // also HEAD
    s.Post(".*", handler);
    s.Put(".*", handler);
    s.Patch(".*", handler);
    s.Delete(".*", handler);
    s.Options(".*", handler);
    // Errors httplib produces itself (malformed request line, 413, 414, unknown method) get a
    // JSON body too; the core's own error responses already have one and pass unchanged.
    s.set_error_handler(httplib::Server::HandlerWithResponse(
        [profile = profile](const httplib::Request&, httplib::Response& res) {
          if (res.body.empty() && res.status >= 400) {
            res.set_content(error_body(profile, res.status), "application/json");
            return httplib::Server::HandlerResponse::Handled;
          }
          return httplib::Server::HandlerResponse::Unhandled;
        }));
    s.set_exception_handler(
        [profile = profile](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          res.status = 500;
          res.set_content(error_body(profile, 500), "application/json");
        });
  }
};

model::Result<std::unique_ptr<Listener>> Listener::start(ServerCore& core,
                                                         ListenerOptions options) {
  return start([&core](const model::HttpRequest& r) { return core.handle(r); },
               core.options().profile, std::move(options));
}

model::Result<std::unique_ptr<Listener>> Listener::start(Handler handler, std::string profile,
                                                         ListenerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->profile = std::move(profile);
  impl->options = std::move(options);
  const auto& o = impl->options;
  if (o.tls_cert_file.has_value() != o.tls_key_file.has_value()) {
    return model::make_error(model::ErrorKind::kInvalid,
                             "tls: both a certificate and a key file are needed");
  }
  int listening_socket = -1;
  if (o.tls_cert_file) {
    auto tls = std::make_unique<TlsServer>(o.tls_cert_file->c_str(), o.tls_key_file->c_str());
    if (!tls->is_valid()) {
      return model::make_error(model::ErrorKind::kInvalid, "tls: cannot load certificate '" +
                                                               *o.tls_cert_file + "' with key '" +
                                                               *o.tls_key_file + "'");
    }
    impl->server = std::move(tls);
  } else {
    impl->server = std::make_unique<PlainServer>();
  }
  impl->configure(*impl->server);

  httplib::Server& s = *impl->server;
  if (o.port == 0) {
    impl->port = s.bind_to_any_port(o.host);
    if (impl->port < 0) impl->port = 0;
  } else if (s.bind_to_port(o.host, o.port)) {
    impl->port = o.port;
  }
  if (impl->port <= 0) {
    return model::make_error(model::ErrorKind::kIo, "cannot listen on " + o.host + ":" +
                                                        std::to_string(o.port) +
                                                        " (address in use or not local?)");
  }
  if (o.tls_cert_file) {
    listening_socket = static_cast<TlsServer&>(s).listening_socket();
  } else {
    listening_socket = static_cast<PlainServer&>(s).listening_socket();
  }
  // Linux lets listen() on a listening socket resize its backlog.
  if (listening_socket >= 0 && o.listen_backlog > 0) ::listen(listening_socket, o.listen_backlog);

  // The socket is already listening: connections queue from here on. The accept loop starts on
  // the thread; wait (bounded) until it runs, so that stop() can always end it.
  auto finished = std::make_shared<std::atomic<bool>>(false);
  impl->thread = std::thread([server = impl->server.get(), finished] {
    server->listen_after_bind();
    finished->store(true);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!s.is_running() && !finished->load()) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (!s.is_running()) {
    // Not running yet (or already ended): nobody else touches the socket, so shutting it down
    // makes a late accept loop end at once instead of serving forever.
    if (listening_socket >= 0) ::shutdown(listening_socket, SHUT_RDWR);
    impl->thread.join();
    return model::make_error(
        model::ErrorKind::kIo,
        "the accept loop on " + o.host + ":" + std::to_string(impl->port) + " did not start");
  }
  return std::unique_ptr<Listener>(new Listener(std::move(impl)));
}

Listener::Listener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Listener::~Listener() { stop(); }

int Listener::port() const { return impl_->port; }

const std::string& Listener::host() const { return impl_->options.host; }

bool Listener::tls() const { return impl_->options.tls_cert_file.has_value(); }

std::string Listener::base_url() const {
  return std::string(tls() ? "https://" : "http://") + host() + ":" + std::to_string(port());
}

void Listener::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->server->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
  });
}

}  // namespace patrol::server
