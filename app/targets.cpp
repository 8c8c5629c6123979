#include "app/targets.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <mutex>

#include "recorder/transports.hpp"
#include "server/listener.hpp"

namespace patrol::app {

using model::ErrorKind;
using model::make_error;
using model::Result;

namespace {

// The embedded reference server. Each sequence gets a fresh core (empty store, new JWT key,
// manual clock), so sequences are independent and a shrunk sequence replays exactly.
class EmbeddedTarget final : public properties::Target {
 public:
  explicit EmbeddedTarget(EmbeddedOptions options) : options_(std::move(options)) {
    options_.server.manual_clock = true;
  }
  ~EmbeddedTarget() override {
    http_.reset();
    listener_.reset();
    if (pinned_) pthread_setaffinity_np(pinned_thread_, sizeof saved_, &saved_);
  }

  // Replaces the core; the listener (started once) always serves the current one.
  Result<model::Ok> fresh() {
    auto core = server::ServerCore::create(options_.server);
    if (!core.ok()) return core.error();
    {
      std::lock_guard lock(mu_);
      core_ = std::shared_ptr<server::ServerCore>(std::move(*core));
    }
    if (options_.in_process || listener_) return model::Ok{};
    server::ListenerOptions lo;
    if (options_.co_locate) {
      const int cpu = sched_getcpu();
      if (cpu >= 0 && pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) == 0 &&
          server::pin_this_thread(cpu)) {
        pinned_ = true;
        pinned_thread_ = pthread_self();
        lo.worker_cpu = cpu;
      }
    }
    auto listener = server::Listener::start(
        [this](const model::HttpRequest& r) { return current()->handle(r); },
        options_.server.profile, lo);
    if (!listener.ok()) return listener.error();
    listener_ = std::move(*listener);
    http::HttpTransportOptions http;
    http.base_url = listener_->base_url();
    http.user_agent = "patrol-check";
    auto t = http::HttpTransport::create(http);
    if (!t.ok()) return t.error();
    http_ = std::move(*t);
    return model::Ok{};
  }

  std::shared_ptr<server::ServerCore> current() {
    std::lock_guard lock(mu_);
    return core_;
  }

  http::Transport& transport() override {
    if (http_) return *http_;
    return in_process_;
  }
  // A parallel branch's own connection: a new keep-alive connection to the listener, or a direct
  // call into whichever core is current.
  Result<std::unique_ptr<http::Transport>> open_transport() override {
    if (!listener_) {
      return std::unique_ptr<http::Transport>(std::make_unique<http::FunctionTransport>(
          [this](const model::HttpRequest& r) { return current()->handle(r); }));
    }
    http::HttpTransportOptions http;
    http.base_url = listener_->base_url();
    http.user_agent = "patrol-check";
    auto t = http::HttpTransport::create(http);
    if (!t.ok()) return t.error();
    return std::unique_ptr<http::Transport>(std::move(*t));
  }
  model::Timestamp now() override { return core_->now(); }
  bool can_advance_clock() const override { return true; }
  model::Status advance_clock(std::chrono::seconds by) override {
    core_->advance(by);
    return model::Ok{};
  }
  model::Status begin_sequence() override { return fresh(); }
  const model::Fixture& fixture() const override { return options_.server.fixture; }
  std::string describe() const override {
    std::string faults;
    for (const auto& f : options_.server.faults) faults += (faults.empty() ? "" : ",") + f;
    return std::string("embedded reference server (") +
           (options_.in_process ? "in-process" : "loopback") +
           (faults.empty() ? "" : ", fault " + faults) + ")";
  }

 private:
  EmbeddedOptions options_;
  std::mutex mu_;
  std::shared_ptr<server::ServerCore> core_;
  std::unique_ptr<server::Listener> listener_;
  std::unique_ptr<http::HttpTransport> http_;  // destroyed before listener_: no idle keep-alive
  bool pinned_ = false;  // co_locate: the creating thread's CPUs before, in saved_
  cpu_set_t saved_{};
  pthread_t pinned_thread_{};
  http::FunctionTransport in_process_{
      [this](const model::HttpRequest& r) { return core_->handle(r); }};
};

// Sends R1 requests (path /token) to the registry transport and the rest to the API transport.
class SplitTransport final : public http::Transport {
 public:
  SplitTransport(http::Transport& api, http::Transport* registry)
      : api_(api), registry_(registry) {}
  Result<model::HttpResponse> send(const model::HttpRequest& r) override {
    if (registry_ != nullptr && r.path == "/token") return registry_->send(r);
    return api_.send(r);
  }

 private:
  http::Transport& api_;
  http::Transport* registry_;
};

// --record: records each exchange with the instants the run read since the previous one.
class NowRecordingTransport final : public http::Transport {
 public:
  NowRecordingTransport(http::Transport& inner, recorder::CassetteWriter& writer,
                        std::string origin)
      : inner_(inner), recording_(inner, writer, std::move(origin)) {}
  void note(model::Timestamp t) { pending_.push_back(t.micros); }
  void pause(bool paused) { paused_ = paused; }
  Result<model::HttpResponse> send(const model::HttpRequest& r) override {
    if (paused_) return inner_.send(r);
    auto res = recording_.send_annotated(r, model::Json{{kNowAnnotation, pending_}});
    if (res.ok()) pending_.clear();
    return res;
  }

 private:
  http::Transport& inner_;
  recorder::RecordingTransport recording_;
  std::vector<std::int64_t> pending_;
  bool paused_ = false;
};

// "scheme://host[:port]" of a base URL.
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

class RemoteTarget final : public properties::Target {
 public:
  RemoteTarget(RemoteOptions options, std::unique_ptr<http::HttpTransport> api,
               std::unique_ptr<http::HttpTransport> registry)
      : options_(std::move(options)),
        api_(std::move(api)),
        registry_(std::move(registry)),
        split_(*api_, registry_.get()),
        polite_(split_, options_.polite),
        recording_(options_.record == nullptr
                       ? nullptr
                       : std::make_unique<NowRecordingTransport>(
                             polite_, *options_.record, origin_of(options_.http.base_url))),
        guard_(recording_ ? static_cast<http::Transport&>(*recording_) : polite_,
               options_.label_prefix, options_.max_tokens) {}

  http::Transport& transport() override {
    if (options_.guarded) return guard_;
    if (recording_) return *recording_;
    return polite_;
  }
  model::Timestamp now() override {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    if (recording_) recording_->note(model::Timestamp{us});
    return model::Timestamp{us};
  }
  bool guarded() const override { return options_.guarded; }
  model::Baseline baseline() const override { return model::Baseline::kUnknown; }
  const model::Fixture& fixture() const override { return options_.fixture; }
  std::int64_t rate_limited() const override { return polite_.stats().rate_limited; }
  std::string describe() const override { return options_.http.base_url; }
  http::OwnershipGuard& guard() { return guard_; }
  http::Transport& polite() { return polite_; }
  void pause_recording(bool paused) {
    if (recording_) recording_->pause(paused);
  }
  const http::PoliteStats& stats() const { return polite_.stats(); }

 private:
  RemoteOptions options_;
  std::unique_ptr<http::HttpTransport> api_;
  std::unique_ptr<http::HttpTransport> registry_;
  SplitTransport split_;
  http::PoliteTransport polite_;
  std::unique_ptr<NowRecordingTransport> recording_;
  http::OwnershipGuard guard_;
};

class ReplayTarget final : public properties::Target {
 public:
  explicit ReplayTarget(ReplayOptions options)
      : options_(std::move(options)),
        replay_(options_.cassette, {}, options_.fixture),
        guard_(replay_, options_.label_prefix, options_.max_tokens) {
    for (const auto& e : options_.cassette.entries) {
      if (!e.annotations.is_object() || !e.annotations.contains(kNowAnnotation)) continue;
      for (const auto& t : e.annotations[kNowAnnotation]) {
        if (t.is_number_integer()) nows_.push_back(t.get<std::int64_t>());
      }
    }
    if (!options_.cassette.entries.empty()) last_ = options_.cassette.entries.front().started;
    options_.cassette.entries.clear();  // the replay transport holds its own copy
  }

  http::Transport& transport() override { return guard_; }
  // The instants the recorded run read, in order; after the last, the last one.
  model::Timestamp now() override {
    if (next_ < nows_.size()) last_ = model::Timestamp{nows_[next_++]};
    return last_;
  }
  bool guarded() const override { return true; }
  model::Baseline baseline() const override { return model::Baseline::kUnknown; }
  const model::Fixture& fixture() const override { return options_.fixture; }
  std::string describe() const override { return "cassette " + options_.name; }
  std::vector<std::size_t> unused() const { return replay_.unused(); }

 private:
  ReplayOptions options_;
  recorder::ReplayTransport replay_;
  http::OwnershipGuard guard_;
  std::vector<std::int64_t> nows_;
  std::size_t next_ = 0;
  model::Timestamp last_;
};

}  // namespace

Result<std::unique_ptr<properties::Target>> make_embedded_target(EmbeddedOptions options) {
  auto target = std::make_unique<EmbeddedTarget>(std::move(options));
  if (auto st = target->fresh(); !st.ok()) return st.error();
  return std::unique_ptr<properties::Target>(std::move(target));
}

Result<std::unique_ptr<properties::Target>> make_remote_target(RemoteOptions options) {
  auto api = http::HttpTransport::create(options.http);
  if (!api.ok()) return api.error();
  std::unique_ptr<http::HttpTransport> registry;
  if (options.registry_url) {
    http::HttpTransportOptions r = options.http;
    r.base_url = *options.registry_url;
    auto t = http::HttpTransport::create(r);
    if (!t.ok()) return make_error(t.error().kind, "--registry-auth: " + t.error().message);
    registry = std::move(*t);
  }
  return std::unique_ptr<properties::Target>(
      new RemoteTarget(std::move(options), std::move(*api), std::move(registry)));
}

std::optional<RemoteParts> remote_parts(properties::Target& target) {
  auto* remote = dynamic_cast<RemoteTarget*>(&target);
  if (remote == nullptr) return std::nullopt;
  return RemoteParts{remote->polite(), remote->guard(),
                     [remote](bool paused) { remote->pause_recording(paused); }};
}

std::unique_ptr<properties::Target> make_replay_target(ReplayOptions options) {
  return std::make_unique<ReplayTarget>(std::move(options));
}

std::optional<std::vector<std::size_t>> replay_unused(const properties::Target& target) {
  const auto* replay = dynamic_cast<const ReplayTarget*>(&target);
  if (replay == nullptr) return std::nullopt;
  return replay->unused();
}

Result<model::Fixture> fixture_from_environment() {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  model::Fixture f;
  const char* pairs[][2] = {{"PATROL_USERNAME", "PATROL_PASSWORD"},
                            {"PATROL_USERNAME_2", "PATROL_PASSWORD_2"}};
  for (const auto& p : pairs) {
    auto user = env(p[0]);
    auto pass = env(p[1]);
    if (!user && p[0] == pairs[1][0]) continue;  // the second account is optional
    if (!user) return make_error(ErrorKind::kMissing, std::string(p[0]) + " is not set");
    if (!pass) return make_error(ErrorKind::kMissing, std::string(p[1]) + " is not set");
    f.accounts.push_back({*user, *pass, std::nullopt});
  }
  if (auto repos = env("PATROL_REPOSITORIES")) {
    std::string_view rest = *repos;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      auto slash = item.find('/');
      auto colon = item.rfind(':');
      if (slash == std::string_view::npos || colon == std::string_view::npos || colon < slash) {
        return make_error(ErrorKind::kInvalid, "PATROL_REPOSITORIES: '" + std::string(item) +
                                                   "' is not owner/name:public|private");
      }
      std::string vis(item.substr(colon + 1));
      if (vis != "public" && vis != "private") {
        return make_error(ErrorKind::kInvalid, "PATROL_REPOSITORIES: '" + std::string(item) +
                                                   "' must end in :public or :private");
      }
      f.repositories.push_back({std::string(item.substr(0, slash)),
                                std::string(item.substr(slash + 1, colon - slash - 1)),
                                vis == "private"});
    }
  }
  return f;
}

}  // namespace patrol::app
