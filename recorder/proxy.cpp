#include "recorder/proxy.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "recorder/json_text.hpp"
#include "recorder/wire.hpp"

namespace patrol::recorder {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kHttplibUserAgent = "cpp-httplib/" CPPHTTPLIB_VERSION;
constexpr std::size_t kMaxRequestBody = 64u << 20;
constexpr std::size_t kMaxResponseBody = 1u << 30;
constexpr std::size_t kReadChunk = 64u << 10;
// A connection's buffers shrink back to nothing when a large message leaves them bigger.
constexpr std::size_t kKeptBuffer = 1u << 20;
constexpr int kBacklog = 1024;
constexpr int kMaxEvents = 64;
// How often deadlines are checked (and the longest an epoll wait lasts).
constexpr int kSweepMs = 100;

model::Timestamp wall_now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return model::Timestamp{us.count()};
}

bool is_framing(std::string_view name) {
  return model::header_name_equal(name, "Content-Length") ||
         model::header_name_equal(name, "Host") ||
         model::header_name_equal(name, "Accept-Encoding") ||
         model::header_name_equal(name, "Expect");
}

std::string errno_text(int err) { return std::strerror(err); }

// Every Connection field's options, comma-joined, for is_hop_by_hop.
std::string connection_options(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (model::header_name_equal(k, "Connection")) out.append(v).append(",");
  }
  return out;
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

std::string address_text(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf, sizeof buf);
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

void set_nodelay(int fd) {
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
}

struct Resolved {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
};

model::Result<std::vector<Resolved>> resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    return model::make_error(model::ErrorKind::kUnavailable,
                             "cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  std::vector<Resolved> out;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    Resolved r;
    std::memcpy(&r.addr, a->ai_addr, a->ai_addrlen);
    r.len = a->ai_addrlen;
    r.family = a->ai_family;
    out.push_back(r);
  }
  ::freeaddrinfo(list);
  return out;
}

// A fixed pool of threads running blocking jobs in the order given.
class Workers {
 public:
  explicit Workers(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

class Loop;

// What an epoll event points at.
struct Watched {
  enum class Kind { kListen, kWake, kClient, kUpstream } kind;
  bool closed = false;  // its socket is closed; events already fetched for it are dropped
  explicit Watched(Kind k) : kind(k) {}
};

struct Upstream;

struct Client : Watched {
  enum class Phase { kReading, kForwarding, kWriting };
  Client(int fd_, std::string peer_) : Watched(Kind::kClient), fd(fd_), peer(std::move(peer_)) {}

  int fd;
  std::string peer;
  std::string in;  // received, from in_pos on not yet parsed
  std::size_t in_pos = 0;
  bool readable = true;  // edge-triggered: more may be waiting in the socket
  bool hung_up = false;  // the client's FIN has arrived (no further edge will say so)
  wire::RequestReader reader{kMaxRequestBody};
  std::string out;  // to send, from out_pos on
  std::size_t out_pos = 0;
  Phase phase = Phase::kReading;
  bool close_after = false;  // close once `out` is sent
  bool continue_sent = false;
  bool interim = false;  // `out` holds "100 Continue", not the response
  Clock::time_point deadline;

  // The exchange in flight.
  Interaction it;
  Clock::time_point t0;
  std::string target;  // as the client sent it
  bool head = false;
  bool http10_keep_alive = false;
  bool retried = false;
};

struct Upstream : Watched {
  Upstream() : Watched(Kind::kUpstream) {}
  int fd = -1;
  Client* client = nullptr;  // nullptr while idle in the pool
  std::string out;
  std::size_t out_pos = 0;
  wire::ResponseReader reader{kMaxResponseBody};
  bool connecting = false;
  bool hung_up = false;  // the upstream's FIN has arrived (no further edge will say so)
  bool reused = false;
  std::size_t address = 0;  // index into the resolved upstream addresses
  Clock::time_point deadline;
};

}  // namespace

struct RecordingProxy::Impl {
  ProxyOptions options;
  CassetteWriter* writer = nullptr;
  std::unique_ptr<UpstreamPool> pool;  // the upstream's identity; HTTPS exchanges go through it
  std::vector<Resolved> upstream_addresses;  // plain HTTP: connected to from the event loops
  bool sync_appends = false;
  int listen_fd = -1;
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> threads;
  std::unique_ptr<Workers> workers;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> next_loop{0};
  std::atomic<std::size_t> forwarded{0};
  std::atomic<std::size_t> failures{0};
  std::mutex stop_mu;
  bool stopped = false;

  void report(const std::string& message) {
    if (options.on_error) options.on_error(writer->redactor().redact_text(message));
  }
};

namespace {

// One epoll thread: the clients it was given and the upstream connections they use.
class Loop {
 public:
  Loop(RecordingProxy::Impl& proxy, bool accepts)
      : proxy_(proxy), accepts_(accepts), client_timeout_(proxy.options.client_timeout) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    watch(wake_fd_, &wake_, EPOLLIN);
    if (accepts_) watch(proxy_.listen_fd, &listen_, EPOLLIN);
  }
  ~Loop() {
    for (auto& [p, u] : upstreams_) {
      if (u->fd >= 0) ::close(u->fd);
    }
    for (auto& [p, c] : clients_) ::close(c->fd);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epfd_ >= 0) ::close(epfd_);
  }
  bool ok() const { return epfd_ >= 0 && wake_fd_ >= 0; }

  // Runs a function on this loop's thread (from any thread).
  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_.push_back(std::move(fn));
    }
    wake();
  }
  // Hands an accepted connection to this loop (from the accepting loop's thread).
  void give(int fd, std::string peer) {
    post([this, fd, peer = std::move(peer)]() mutable { adopt(fd, std::move(peer)); });
  }
  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

  void run();

 private:
  void watch(int fd, Watched* w, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = w;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void on_wake();
  void on_accept();
  void adopt(int fd, std::string peer);
  void sweep(Clock::time_point now);

  // Clients.
  void on_client(Client& c, std::uint32_t events);
  // Parses, forwards and answers until the client must wait for something; may close it.
  void pump(Client& c);
  bool receive(Client& c);  // false: the client is gone (closed here)
  void start_exchange(Client& c);
  void answer_error(Client& c, int status, const std::string& message, bool close);
  void complete(Client& c, model::Result<wire::Response> response);
  void record_and_respond(Client& c, wire::Response&& response);
  void close_client(Client& c);

  // Upstreams (plain HTTP).
  void forward(Client& c);
  void connect_upstream(Upstream& u);
  void on_upstream(Upstream& u, std::uint32_t events);
  void flush_upstream(Upstream& u);
  void read_upstream(Upstream& u);
  void upstream_failed(Upstream& u, model::ErrorKind kind, const std::string& why);
  void close_upstream(Upstream* u);

  std::string describe(const Client& c) const {
    const auto& pool = *proxy_.pool;
    return c.it.request.method + " " + pool.origin() + pool.path_prefix() +
           c.target.substr(0, c.target.find('?'));
  }

  RecordingProxy::Impl& proxy_;
  bool accepts_;
  std::chrono::milliseconds client_timeout_;
  int epfd_ = -1;
  int wake_fd_ = -1;
  Watched wake_{Watched::Kind::kWake};
  Watched listen_{Watched::Kind::kListen};
  bool listening_ = true;
  std::mutex inbox_mu_;
  std::vector<std::function<void()>> inbox_;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients_;
  std::unordered_map<Upstream*, std::unique_ptr<Upstream>> upstreams_;
  std::vector<Upstream*> idle_;
  // Closed this round of events, freed after it: a later event of the round may point at them.
  std::vector<std::unique_ptr<Client>> closed_clients_;
  std::vector<std::unique_ptr<Upstream>> closed_upstreams_;
  bool draining_ = false;
  char buf_[kReadChunk];
};

void Loop::run() {
  epoll_event events[kMaxEvents];
  Clock::time_point next_sweep = Clock::now() + std::chrono::milliseconds(kSweepMs);
  for (;;) {
    if (draining_ && clients_.empty()) break;
    int n = ::epoll_wait(epfd_, events, kMaxEvents, kSweepMs);
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<Watched*>(events[i].data.ptr);
      if (w->closed) continue;
      switch (w->kind) {
        case Watched::Kind::kWake:
          on_wake();
          break;
        case Watched::Kind::kListen:
          on_accept();
          break;
        case Watched::Kind::kClient:
          on_client(*static_cast<Client*>(w), events[i].events);
          break;
        case Watched::Kind::kUpstream:
          on_upstream(*static_cast<Upstream*>(w), events[i].events);
          break;
      }
    }
    auto now = Clock::now();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + std::chrono::milliseconds(kSweepMs);
    }
    closed_clients_.clear();
    closed_upstreams_.clear();
  }
}

void Loop::on_wake() {
  std::uint64_t count;
  [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    work.swap(inbox_);
  }
  for (auto& fn : work) fn();
  if (proxy_.stopping.load() && !draining_) {
    // Stop: no new connections; idle clients go now, the others after their response.
    draining_ = true;
    if (accepts_ && listening_) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, proxy_.listen_fd, nullptr);
      listening_ = false;
    }
    std::vector<Client*> idle;
    for (auto& [p, c] : clients_) {
      if (c->phase == Client::Phase::kReading) idle.push_back(p);
    }
    for (auto* c : idle) close_client(*c);
  }
}

void Loop::on_accept() {
  for (int i = 0; i < 128; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = ::accept4(proxy_.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop accepting until the next sweep instead of spinning.
        proxy_.report("cannot accept a connection: " + errno_text(errno));
        epoll_event ev{};
        ev.data.ptr = &listen_;
        ::epoll_ctl(epfd_, EPOLL_CTL_MOD, proxy_.listen_fd, &ev);
        listening_ = false;
      }
      return;
    }
    set_nodelay(fd);
    std::size_t target = proxy_.next_loop.fetch_add(1) % proxy_.loops.size();
    Loop* loop = proxy_.loops[target].get();
    if (loop == this) {
      adopt(fd, address_text(addr));
    } else {
      loop->give(fd, address_text(addr));
    }
  }
}

void Loop::adopt(int fd, std::string peer) {
  if (draining_) {
    ::close(fd);
    return;
  }
  auto owned = std::make_unique<Client>(fd, std::move(peer));
  Client* c = owned.get();
  clients_.emplace(c, std::move(owned));
  c->deadline = Clock::now() + client_timeout_;
  watch(fd, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  pump(*c);
}

void Loop::sweep(Clock::time_point now) {
  if (accepts_ && !listening_ && !draining_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, proxy_.listen_fd, &ev);
    listening_ = true;
  }
  std::vector<Upstream*> late_upstreams;
  for (auto& [p, u] : upstreams_) {
    if (u->client != nullptr && now >= u->deadline) late_upstreams.push_back(p);
  }
  for (auto* u : late_upstreams) {
    upstream_failed(*u, model::ErrorKind::kTimeout,
                    u->connecting ? "connection timed out" : "timed out waiting for a response");
  }
  std::vector<Client*> late_clients;
  for (auto& [p, c] : clients_) {
    if (c->phase != Client::Phase::kForwarding && now >= c->deadline) late_clients.push_back(p);
  }
  for (auto* c : late_clients) close_client(*c);
}

void Loop::close_client(Client& c) {
  ::close(c.fd);  // also leaves the epoll set
  c.closed = true;
  auto it = clients_.find(&c);
  closed_clients_.push_back(std::move(it->second));
  clients_.erase(it);
}

void Loop::on_client(Client& c, std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.hung_up = true;
  // While forwarding, the next request waits in the socket; a client that went away shows when
  // its response is sent.
  if (c.phase == Client::Phase::kForwarding) return;
  pump(c);
}

bool Loop::receive(Client& c) {
  if (c.in_pos > 0 && c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
    if (c.in.capacity() > kKeptBuffer) std::string().swap(c.in);
  }
  for (;;) {
    ssize_t n = ::recv(c.fd, buf_, sizeof buf_, 0);
    if (n > 0) {
      c.in.append(buf_, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buf_) {
        // Drained: a later arrival is a new edge. A FIN already seen is not, so it is read
        // when the connection is next read.
        c.readable = c.hung_up;
        return true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.readable = false;
      return true;
    }
    // The client closed (or reset) the connection; a request it did not finish is dropped.
    close_client(c);
    return false;
  }
}

void Loop::pump(Client& c) {
  for (;;) {
    if (c.phase == Client::Phase::kForwarding) return;
    if (c.phase == Client::Phase::kWriting) {
      while (c.out_pos < c.out.size()) {
        ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
        if (n > 0) {
          c.out_pos += static_cast<std::size_t>(n);
          c.deadline = Clock::now() + client_timeout_;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
        close_client(c);
        return;
      }
      c.out.clear();
      c.out_pos = 0;
      if (c.interim) {
        // "100 Continue" is out: back to reading the body, the reader keeps its place.
        c.interim = false;
        c.phase = Client::Phase::kReading;
      } else {
        if (c.close_after || draining_) {
          close_client(c);
          return;
        }
        // An idle connection keeps no bodies: the exchange is recorded and answered.
        c.it = Interaction{};
        if (c.out.capacity() > kKeptBuffer) std::string().swap(c.out);
        c.phase = Client::Phase::kReading;
        c.reader.reset();
        c.continue_sent = false;
        c.deadline = Clock::now() + client_timeout_;
      }
    }
    // Reading: parse what is buffered, then what the socket has.
    c.in_pos += c.reader.feed(std::string_view(c.in).substr(c.in_pos));
    switch (c.reader.progress()) {
      case wire::Progress::kComplete:
        start_exchange(c);
        continue;
      case wire::Progress::kError:
        proxy_.report("client " + c.peer + ": " + c.reader.error());
        answer_error(c, c.reader.error_status(), c.reader.error(), true);
        continue;
      case wire::Progress::kNeedMore:
        break;
    }
    if (c.reader.head_complete() && c.reader.request().expects_continue && !c.continue_sent) {
      c.continue_sent = true;
      c.interim = true;
      c.out = "HTTP/1.1 100 Continue\r\n\r\n";
      c.phase = Client::Phase::kWriting;
      continue;
    }
    if (!c.readable) return;
    if (!receive(c)) return;
    if (c.in_pos == c.in.size()) return;  // nothing new after all
    c.deadline = Clock::now() + client_timeout_;
  }
}

void Loop::answer_error(Client& c, int status, const std::string& message, bool close) {
  std::string safe = proxy_.writer->redactor().redact_text(message);
  std::string body =
      "{\"message\":" + detail::json_string("patrol record: " + safe) + ",\"errinfo\":{}}";
  model::Headers headers;
  headers.add("Content-Type", "application/json");
  c.close_after = close || !c.reader.request().keep_alive;
  c.out.clear();
  c.out_pos = 0;
  wire::ResponseFraming framing;
  framing.close = c.close_after;
  framing.http10_keep_alive = !c.close_after && c.reader.request().http10;
  wire::write_response(c.out, status, {}, headers, body, framing);
  c.phase = Client::Phase::kWriting;
}

void Loop::start_exchange(Client& c) {
  wire::Request& req = c.reader.request();
  c.it = Interaction{};
  c.it.started = wall_now();
  c.t0 = Clock::now();
  c.it.origin = proxy_.pool->origin();
  c.target = req.target;
  c.head = req.method == "HEAD";
  c.http10_keep_alive = req.http10 && req.keep_alive;
  c.retried = false;
  model::HttpRequest& out = c.it.request;
  out.method = req.method;
  std::string_view raw_path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (raw_path.empty() || raw_path.front() != '/') {
    answer_error(c, 400, "request target '" + req.target + "' is not a path (origin-form)", true);
    return;
  }
  out.path = httplib::detail::decode_url(std::string(raw_path), false);
  if (auto q = req.target.find('?'); q != std::string::npos) out.query = req.target.substr(q + 1);
  out.peer = c.peer;
  out.body = std::move(req.body);
  // What goes upstream is exactly what is recorded: the client's end-to-end headers, the
  // upstream's Host, identity encoding, and the defaults an HTTPS upstream's client adds anyway.
  out.headers.add("Host", proxy_.pool->host_header());
  std::string connection = connection_options(req.headers);
  std::string coding;
  for (auto& [k, v] : req.headers) {
    if (is_hop_by_hop(k, connection) || is_framing(k)) continue;
    // A compressed body goes upstream (and into the cassette) decoded, so its coding must not
    // be claimed.
    if (model::header_name_equal(k, "Content-Encoding") && is_decodable_coding(v)) {
      coding = v;
      continue;
    }
    out.headers.add(std::move(k), std::move(v));
  }
  if (!coding.empty()) {
    auto decoded = decode_content(coding, out.body);
    if (!decoded) {
      answer_error(c, 400, "request body is not valid " + coding, true);
      return;
    }
    out.body = std::move(*decoded);
  }
  out.headers.add("Accept-Encoding", "identity");
  if (!out.headers.has("Accept")) out.headers.add("Accept", "*/*");
  if (!out.headers.has("User-Agent")) out.headers.add("User-Agent", kHttplibUserAgent);
  if (!out.body.empty() && !out.headers.has("Content-Type")) {
    out.headers.add("Content-Type", "text/plain");
  }
  c.phase = Client::Phase::kForwarding;
  if (!proxy_.pool->is_https()) {
    forward(c);
    return;
  }
  proxy_.workers->submit([this, &c] {
    const auto& r = c.it.request;
    auto res = proxy_.pool->send(r.method, c.target, r.headers, r.body);
    model::Result<wire::Response> out = model::make_error(model::ErrorKind::kIo, "");
    if (res.ok()) {
      wire::Response w;
      w.status = res->status;
      w.headers = std::move(res->headers);
      w.body = std::move(res->body);
      out = std::move(w);
    } else {
      out = res.error();
    }
    post([this, &c, out = std::move(out)]() mutable { complete(c, std::move(out)); });
  });
}

void Loop::complete(Client& c, model::Result<wire::Response> response) {
  if (!response.ok()) {
    proxy_.failures.fetch_add(1);
    proxy_.report("upstream failed: " + response.error().message);
    int status = response.error().kind == model::ErrorKind::kTimeout ? 504 : 502;
    answer_error(c, status, "upstream failed: " + response.error().message, false);
    pump(c);
    return;
  }
  record_and_respond(c, std::move(*response));
}

void Loop::record_and_respond(Client& c, wire::Response&& response) {
  model::HttpResponse& rec = c.it.response;
  rec.status = response.status;
  std::string connection = connection_options(response.headers.entries);
  std::string coding;
  std::string head_length;
  for (auto& [k, v] : response.headers.entries) {
    if (model::header_name_equal(k, "Content-Length")) {
      if (c.head) head_length = v;
      continue;
    }
    if (is_hop_by_hop(k, connection)) continue;
    if (model::header_name_equal(k, "Content-Encoding") && is_decodable_coding(v)) {
      coding = v;
      continue;
    }
    rec.headers.add(std::move(k), std::move(v));
  }
  rec.body = std::move(response.body);
  if (!coding.empty()) {
    // An upstream that ignored "Accept-Encoding: identity": recorded and served decoded.
    auto decoded = decode_content(coding, rec.body);
    if (!decoded) {
      complete(c, model::make_error(model::ErrorKind::kIo,
                                    describe(c) + ": response body is not valid " + coding));
      return;
    }
    rec.body = std::move(*decoded);
    head_length.clear();
  }
  c.it.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - c.t0).count();
  std::string reason = std::move(response.reason);
  auto finish = [this, &c, reason = std::move(reason),
                 head_length = std::move(head_length)](const model::Status& s) {
    // Journal first: a response the client saw is never missing from the cassette.
    if (!s.ok()) {
      proxy_.failures.fetch_add(1);
      proxy_.report("recording failed: " + s.error().message);
      answer_error(c, 502, "recording failed: " + s.error().message, false);
      pump(c);
      return;
    }
    proxy_.forwarded.fetch_add(1);
    c.close_after = !c.reader.request().keep_alive;
    c.out.clear();
    c.out_pos = 0;
    wire::ResponseFraming framing;
    framing.head = c.head;
    framing.head_length = head_length;
    framing.close = c.close_after;
    framing.http10_keep_alive = c.http10_keep_alive;
    const auto& r = c.it.response;
    wire::write_response(c.out, r.status, reason, r.headers, r.body, framing);
    c.phase = Client::Phase::kWriting;
    pump(c);
  };
  if (!proxy_.sync_appends) {
    finish(proxy_.writer->append(c.it));
    return;
  }
  proxy_.workers->submit([this, &c, finish = std::move(finish)]() mutable {
    model::Status s = proxy_.writer->append(c.it);
    post([s = std::move(s), finish = std::move(finish)]() mutable { finish(s); });
  });
}

// ---- plain-HTTP upstream connections ----

void Loop::forward(Client& c) {
  Upstream* u = nullptr;
  bool idempotent = is_idempotent(c.it.request.method);
  while (!idle_.empty() && !c.retried) {
    u = idle_.back();
    idle_.pop_back();
    // A request that may not be sent twice goes only on a connection the upstream has not
    // closed since (its FIN can be in this very round of events): one peek tells.
    char byte;
    if (!idempotent && ::recv(u->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0) {
      close_upstream(u);
      u = nullptr;
      continue;
    }
    u->reused = true;
    break;
  }
  if (u == nullptr) {
    auto owned = std::make_unique<Upstream>();
    u = owned.get();
    upstreams_.emplace(u, std::move(owned));
  }
  u->client = &c;
  const auto& r = c.it.request;
  u->out.clear();
  u->out_pos = 0;
  wire::write_request(u->out, r.method, proxy_.pool->path_prefix() + c.target, r.headers, r.body);
  u->reader.start(r.method);
  u->deadline = Clock::now() + proxy_.pool->options().read_timeout;
  if (u->fd < 0) {
    u->address = 0;
    connect_upstream(*u);
    return;
  }
  flush_upstream(*u);
}

void Loop::connect_upstream(Upstream& u) {
  const auto& addresses = proxy_.upstream_addresses;
  while (u.address < addresses.size()) {
    const Resolved& a = addresses[u.address];
    int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      upstream_failed(u, model::ErrorKind::kUnavailable, "socket: " + errno_text(errno));
      return;
    }
    set_nodelay(fd);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    if (rc == 0 || errno == EINPROGRESS) {
      u.fd = fd;
      u.reused = false;
      u.connecting = rc != 0;
      u.deadline = Clock::now() + (u.connecting ? proxy_.pool->options().connect_timeout
                                                : proxy_.pool->options().read_timeout);
      watch(fd, &u, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
      if (!u.connecting) flush_upstream(u);
      return;
    }
    int err = errno;
    ::close(fd);
    if (++u.address >= addresses.size()) {
      upstream_failed(u, model::ErrorKind::kUnavailable, "could not connect: " + errno_text(err));
      return;
    }
  }
}

void Loop::on_upstream(Upstream& u, std::uint32_t events) {
  if (u.client == nullptr) {
    // Idle in the pool: the upstream closed it (or sent something unasked). Either way, done.
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
    std::erase(idle_, &u);
    close_upstream(&u);
    return;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) u.hung_up = true;
  if (u.connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(u.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      ::close(u.fd);
      u.fd = -1;
      if (++u.address < proxy_.upstream_addresses.size()) {
        connect_upstream(u);
      } else {
        upstream_failed(u, model::ErrorKind::kUnavailable,
                        "could not connect: " + errno_text(err != 0 ? err : ECONNREFUSED));
      }
      return;
    }
    u.connecting = false;
    u.deadline = Clock::now() + proxy_.pool->options().read_timeout;
    flush_upstream(u);
    return;
  }
  if ((events & EPOLLOUT) && u.out_pos < u.out.size()) {
    flush_upstream(u);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_upstream(u);
}

void Loop::flush_upstream(Upstream& u) {
  while (u.out_pos < u.out.size()) {
    ssize_t n = ::send(u.fd, u.out.data() + u.out_pos, u.out.size() - u.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      u.out_pos += static_cast<std::size_t>(n);
      u.deadline = Clock::now() + proxy_.pool->options().write_timeout;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    upstream_failed(u, model::ErrorKind::kIo, "sending the request: " + errno_text(errno));
    return;
  }
  u.deadline = Clock::now() + proxy_.pool->options().read_timeout;
  // The response may have started while the request was still going out.
  read_upstream(u);
}

void Loop::read_upstream(Upstream& u) {
  bool eof = false;
  for (;;) {
    ssize_t n = ::recv(u.fd, buf_, sizeof buf_, 0);
    if (n > 0) {
      u.deadline = Clock::now() + proxy_.pool->options().read_timeout;
      std::size_t used = u.reader.feed(std::string_view(buf_, static_cast<std::size_t>(n)));
      if (u.reader.progress() == wire::Progress::kError) {
        upstream_failed(u, model::ErrorKind::kIo, u.reader.error());
        return;
      }
      if (u.reader.progress() == wire::Progress::kComplete) {
        // Bytes after the response mean the connection cannot be reused safely.
        if (used < static_cast<std::size_t>(n)) u.reader.response().keep_alive = false;
        break;
      }
      // Drained: wait for the next edge, unless the FIN already came (it makes no new one).
      if (static_cast<std::size_t>(n) < sizeof buf_ && !u.hung_up) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && !u.reader.started()) {
      upstream_failed(u, model::ErrorKind::kIo, "reading the response: " + errno_text(errno));
      return;
    }
    eof = true;
    u.reader.finish();
    if (u.reader.progress() != wire::Progress::kComplete) {
      upstream_failed(u, model::ErrorKind::kIo, u.reader.error());
      return;
    }
    break;
  }
  Client& c = *u.client;
  wire::Response response = std::move(u.reader.response());
  u.client = nullptr;
  if (eof || u.hung_up || !response.keep_alive || draining_) {
    close_upstream(&u);
  } else {
    idle_.push_back(&u);
  }
  record_and_respond(c, std::move(response));
}

void Loop::upstream_failed(Upstream& u, model::ErrorKind kind, const std::string& why) {
  Client& c = *u.client;
  // RFC 9110 9.2.2: only an idempotent request may be sent again without asking the client.
  bool may_retry = u.reused && !u.reader.started() && !c.retried &&
                   kind != model::ErrorKind::kTimeout && is_idempotent(c.it.request.method);
  u.client = nullptr;
  close_upstream(&u);
  if (may_retry) {
    // A pooled connection the upstream had closed before the request reached it: once more on
    // a new connection.
    c.retried = true;
    forward(c);
    return;
  }
  complete(c, model::make_error(kind, describe(c) + ": " + why));
}

void Loop::close_upstream(Upstream* u) {
  if (u->fd >= 0) ::close(u->fd);
  u->fd = -1;
  u->closed = true;
  auto it = upstreams_.find(u);
  closed_upstreams_.push_back(std::move(it->second));
  upstreams_.erase(it);
}

}  // namespace

// ---- RecordingProxy ----

model::Result<std::unique_ptr<RecordingProxy>> RecordingProxy::start(ProxyOptions options,
                                                                     CassetteWriter& writer) {
  auto pool = UpstreamPool::create(options.upstream);
  if (!pool.ok()) return pool.error();
  auto impl = std::make_unique<Impl>();
  impl->writer = &writer;
  impl->pool = std::move(*pool);
  impl->sync_appends = writer.durability() == Durability::kSyncEach;
  if (!impl->pool->is_https()) {
    auto addresses = resolve(impl->pool->host(), impl->pool->port(), false);
    if (!addresses.ok())
      return model::make_error(addresses.error().kind, "--upstream: " + addresses.error().message);
    impl->upstream_addresses = std::move(*addresses);
  }

  auto where = options.listen.host + ":" + std::to_string(options.listen.port);
  auto local = resolve(options.listen.host, options.listen.port, true);
  if (!local.ok()) {
    return model::make_error(model::ErrorKind::kUnavailable,
                             "cannot listen on " + where + ": " + local.error().message);
  }
  int fd = -1;
  int last_error = 0;
  for (const auto& a : *local) {
    fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0 &&
        ::listen(fd, kBacklog) == 0) {
      break;
    }
    last_error = errno;
    ::close(fd);
    fd = -1;
  }
  if (fd < 0) {
    return model::make_error(model::ErrorKind::kUnavailable,
                             "cannot listen on " + where + ": " + errno_text(last_error));
  }
  impl->listen_fd = fd;
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                               : reinterpret_cast<sockaddr_in&>(bound).sin_port);

  std::size_t loops = options.event_threads;
  if (loops == 0) loops = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  if (impl->pool->is_https() || impl->sync_appends) {
    impl->workers = std::make_unique<Workers>(std::max<std::size_t>(options.threads, 1));
  }
  impl->options = std::move(options);
  for (std::size_t i = 0; i < loops; ++i) {
    impl->loops.push_back(std::make_unique<Loop>(*impl, i == 0));
    if (!impl->loops.back()->ok()) {
      ::close(fd);
      return model::make_error(model::ErrorKind::kIo,
                               "cannot set up an event loop: " + errno_text(errno));
    }
  }
  for (auto& loop : impl->loops) {
    impl->threads.emplace_back([l = loop.get()] { l->run(); });
  }
  std::unique_ptr<RecordingProxy> proxy(new RecordingProxy());
  proxy->host_ = impl->options.listen.host;
  proxy->port_ = port;
  proxy->impl_ = std::move(impl);
  return proxy;
}

RecordingProxy::~RecordingProxy() { stop(); }

std::string RecordingProxy::url() const {
  bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

std::size_t RecordingProxy::forwarded() const { return impl_ ? impl_->forwarded.load() : 0; }
std::size_t RecordingProxy::failures() const { return impl_ ? impl_->failures.load() : 0; }

void RecordingProxy::stop() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);
  for (auto& loop : impl_->loops) loop->wake();
  for (auto& t : impl_->threads) t.join();
  impl_->workers.reset();
  impl_->loops.clear();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
}

}  // namespace patrol::recorder
