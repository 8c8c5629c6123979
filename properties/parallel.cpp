#include "properties/parallel.hpp"

#include <latch>
#include <random>
#include <thread>

#include "model/codec.hpp"
#include "properties/choose.hpp"

namespace patrol::properties {

using model::HttpRequest;
using model::Json;
using model::Status;

// ---- RaceScheduler ----------------------------------------------------------------------------

void RaceScheduler::window(std::string_view /*name*/) {
  std::unique_lock lock(mu_);
  // Only the running request can be here: at most one runs at a time in a phase.
  if (!armed_ || bypass_ || running_ < 0) return;
  const int me = running_;
  states_[static_cast<std::size_t>(me)] = State::kParked;
  resume_[static_cast<std::size_t>(me)] = false;
  running_ = -1;
  const std::int64_t parked_at = grants_;
  schedule_locked();
  const bool resumed = wait_locked(lock, [&] { return !armed_ || bypass_ || running_ == me; });
  // Held when another branch ran while this one waited inside the window.
  if (resumed && running_ == me && grants_ > parked_at + 1) ++held_;
}

void RaceScheduler::arm(int clients) {
  std::lock_guard lock(mu_);
  armed_ = true;
  bypass_ = false;
  const auto n = static_cast<std::size_t>(std::max(0, clients));
  states_.assign(n, State::kBetween);
  resume_.assign(n, false);
  running_ = -1;
  last_turn_ = static_cast<int>(n) - 1;  // branch 0 goes first
  cv_.notify_all();
}

void RaceScheduler::begin_request(int client) {
  std::unique_lock lock(mu_);
  if (!armed_ || bypass_ || client < 0 || static_cast<std::size_t>(client) >= states_.size()) {
    return;
  }
  states_[static_cast<std::size_t>(client)] = State::kWaiting;
  schedule_locked();
  wait_locked(lock, [&] { return !armed_ || bypass_ || running_ == client; });
}

void RaceScheduler::end_request(int client) {
  std::lock_guard lock(mu_);
  if (!armed_ || client < 0 || static_cast<std::size_t>(client) >= states_.size()) return;
  if (running_ == client) running_ = -1;
  if (states_[static_cast<std::size_t>(client)] != State::kDone) {
    states_[static_cast<std::size_t>(client)] = State::kBetween;
  }
  schedule_locked();
}

void RaceScheduler::client_done(int client) {
  std::lock_guard lock(mu_);
  if (!armed_ || client < 0 || static_cast<std::size_t>(client) >= states_.size()) return;
  if (running_ == client) running_ = -1;
  states_[static_cast<std::size_t>(client)] = State::kDone;
  schedule_locked();
}

void RaceScheduler::disarm() {
  std::lock_guard lock(mu_);
  armed_ = false;
  running_ = -1;
  cv_.notify_all();
}

std::int64_t RaceScheduler::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

std::int64_t RaceScheduler::timeouts() const {
  std::lock_guard lock(mu_);
  return timeouts_;
}

void RaceScheduler::schedule_locked() {
  if (!armed_ || bypass_ || running_ >= 0) return;
  // Quiescent only: a branch between two requests is about to ask for a turn or to finish, and
  // deciding before it does would make the order depend on thread timing.
  for (State s : states_) {
    if (s == State::kBetween) return;
  }
  const int n = static_cast<int>(states_.size());
  auto grant = [&](int i) {
    states_[static_cast<std::size_t>(i)] = State::kRunning;
    resume_[static_cast<std::size_t>(i)] = false;
    running_ = i;
    ++grants_;
    cv_.notify_all();
  };
  // 1. A window closing for several branches: resume them one at a time, in branch order.
  for (int i = 0; i < n; ++i) {
    if (states_[static_cast<std::size_t>(i)] == State::kParked &&
        resume_[static_cast<std::size_t>(i)]) {
      grant(i);
      return;
    }
  }
  // 2. The next branch waiting for a turn, round robin.
  for (int k = 1; k <= n; ++k) {
    const int i = (last_turn_ + k) % n;
    if (states_[static_cast<std::size_t>(i)] == State::kWaiting) {
      last_turn_ = i;
      grant(i);
      return;
    }
  }
  // 3. Every branch is inside a window or finished: the windows close.
  int first = -1;
  for (int i = 0; i < n; ++i) {
    if (states_[static_cast<std::size_t>(i)] != State::kParked) continue;
    resume_[static_cast<std::size_t>(i)] = true;
    if (first < 0) first = i;
  }
  if (first >= 0) grant(first);
}

bool RaceScheduler::wait_locked(std::unique_lock<std::mutex>& lock,
                                const std::function<bool()>& until) {
  if (cv_.wait_for(lock, max_wait_, until)) return true;
  // A branch never came back (it should not happen): run the rest of the phase unscheduled
  // rather than hang.
  bypass_ = true;
  running_ = -1;
  ++timeouts_;
  cv_.notify_all();
  return false;
}

std::size_t ParallelProgram::size() const {
  std::size_t n = prefix.size();
  for (const auto& b : branches) n += b.size();
  return n;
}

namespace {

// Branch seeds carry this bit, so a command keeps its distribution when shrinking moves it into
// the prefix.
constexpr std::uint64_t kBranchBit = std::uint64_t{1} << 63;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string short_uuid(const std::string& uuid) {
  return uuid.size() > 13 ? uuid.substr(0, 8) + "..." : uuid;
}

// ---- commands that make branches meet on the same tokens -------------------------------------

// GET, PATCH or DELETE of one of the account's own tokens.
struct OwnToken final : Command {
  std::string method;
  std::string account;
  std::string uuid;
  std::string body;

  bool check_preconditions(const Session& s) const override {
    return s.session_jwt(account, s.state().last_seen()).has_value();
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    auto r = s.exchange(show(), json_request(method, "/v2/access-tokens/" + uuid, *bearer, body),
                        {"1", "3.5", "3.6", "3.9"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    return method + " " + account + "'s token " + short_uuid(uuid) +
           (body.empty() ? "" : " " + body);
  }
};

struct CreateOwn final : Command {
  std::string account;
  std::string label;

  bool check_preconditions(const Session& s) const override {
    return s.session_jwt(account, s.state().last_seen()).has_value();
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    Json body = {{"token_label", label}, {"scopes", {"repo:read"}}};
    auto r = s.exchange(show(), json_request("POST", "/v2/access-tokens", *bearer, body.dump()),
                        {"1", "2", "3.2"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    return "create " + account + " label=" + Json(label).dump() + " scopes=[\"repo:read\"]";
  }
};

// Lists the account's tokens, then reads back listed tokens this client has not seen created
// (another branch's, in flight): a token listed must be readable.
struct ListThenRead final : Command {
  std::string account;

  bool check_preconditions(const Session& s) const override {
    return s.session_jwt(account, s.state().last_seen()).has_value();
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    HttpRequest list = json_request("GET", "/v2/access-tokens", *bearer, "");
    list.query = "page_size=100";
    auto r = s.exchange(show(), std::move(list), {"1", "6"});
    if (!r.ok()) return r.error();
    if ((*r)->response.status != 200) return model::Ok{};
    auto body = Json::parse((*r)->response.body, nullptr, false);
    if (!body.is_object() || !body.contains("results") || !body["results"].is_array()) {
      return model::Ok{};
    }
    std::vector<std::string> unseen;
    std::string first;
    for (const auto& t : body["results"]) {
      if (!t.is_object() || !t.contains("uuid") || !t["uuid"].is_string()) continue;
      std::string uuid = t["uuid"].get<std::string>();
      if (first.empty()) first = uuid;
      if (!s.state().find_token(uuid) && unseen.size() < 2) unseen.push_back(uuid);
    }
    if (unseen.empty() && !first.empty()) unseen.push_back(first);
    for (const auto& uuid : unseen) {
      auto g = s.exchange(show(), json_request("GET", "/v2/access-tokens/" + uuid, *bearer, ""),
                          {"1", "3.6"});
      if (!g.ok()) return g.error();
    }
    return model::Ok{};
  }
  std::string show() const override {
    return "list " + account + "'s tokens, then read back the ones created meanwhile";
  }
};

// A1 with one of the account's PAT secrets.
struct UseOwnPat final : Command {
  std::uint32_t token = 0;
  Status run(Session& s) const override {
    model::TokenView t = s.state().token(token);
    Json body = {{"identifier", std::string(t.owner)}, {"secret", std::string(t.secret)}};
    auto r =
        s.exchange(show(), json_request("POST", "/v2/auth/token", "", body.dump()), {"1", "3.8"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    return "authenticate with PAT #" + std::to_string(token + 1);
  }
};

std::string patch_body(const std::string& prefix) {
  enum Kind { kRename, kDeactivate, kActivate, kBoth };
  auto kind = choose::weighted<Kind>({{3, kRename}, {3, kDeactivate}, {2, kActivate}, {1, kBoth}});
  std::string label = prefix + "r" + std::to_string(choose::in_range(0, 1000));
  switch (kind) {
    case kRename:
      return Json{{"token_label", label}}.dump();
    case kDeactivate:
      return R"({"is_active":false})";
    case kActivate:
      return R"({"is_active":true})";
    case kBoth:
      return Json{{"token_label", label}, {"is_active", false}}.dump();
  }
  return "{}";
}

// Picks a command: in branches mostly ones that meet other branches on the same tokens, plus
// the sequential runner's whole repertoire; in the prefix mostly creates.
CommandPtr pick_parallel(const Session& s, const GeneratorOptions& g, bool branch) {
  const auto& st = s.state();
  std::vector<std::string> accounts;
  for (const auto& a : st.fixture().accounts) {
    if (s.session_jwt(a.username, st.last_seen())) accounts.push_back(a.username);
  }
  if (accounts.empty()) return pick_command(s, g);
  const std::string account = choose::element_of(accounts);
  std::vector<std::uint32_t> own;
  std::vector<std::uint32_t> own_secret;
  for (std::uint32_t i = 0; i < st.token_count(); ++i) {
    model::TokenView t = st.token(i);
    if (t.owner != account || t.deleted) continue;
    own.push_back(i);
    if (!t.secret.empty()) own_secret.push_back(i);
  }
  enum Kind { kGeneral, kCreate, kPatch, kGet, kDelete, kListRead, kUsePat };
  const unsigned has = own.empty() ? 0u : 1u;
  const unsigned b = branch ? 1u : 0u;
  auto kind = choose::weighted<Kind>({{branch ? 3u : 1u, kGeneral},
                                      {branch ? 2u : 4u, kCreate},
                                      {5 * has * b, kPatch},
                                      {2 * has * b, kGet},
                                      {1 * has * b, kDelete},
                                      {3 * b, kListRead},
                                      {own_secret.empty() ? 0u : b, kUsePat}});
  switch (kind) {
    case kGeneral:
      return pick_command(s, g);
    case kCreate: {
      auto c = std::make_shared<CreateOwn>();
      c->account = account;
      c->label = g.label_prefix + "p" + std::to_string(choose::in_range(0, 1000));
      return c;
    }
    case kPatch:
    case kGet:
    case kDelete: {
      auto c = std::make_shared<OwnToken>();
      c->method = kind == kPatch ? "PATCH" : (kind == kGet ? "GET" : "DELETE");
      c->account = account;
      c->uuid = std::string(st.token(choose::element_of(own)).uuid);
      if (kind == kPatch) c->body = patch_body(g.label_prefix);
      return c;
    }
    case kListRead: {
      auto c = std::make_shared<ListThenRead>();
      c->account = account;
      return c;
    }
    case kUsePat: {
      auto c = std::make_shared<UseOwnPat>();
      c->token = choose::element_of(own_secret);
      return c;
    }
  }
  return nullptr;
}

// The command a seed stands for in this state; null when none applies.
CommandPtr command_from_seed(std::uint64_t seed, const Session& s, const GeneratorOptions& g) {
  const bool branch = (seed & kBranchBit) != 0;
  try {
    choose::Scope scope(seed & ~kBranchBit);
    CommandPtr c = pick_parallel(s, g, branch);
    if (c && !c->check_preconditions(s)) return nullptr;
    return c;
  } catch (const choose::NothingToPick&) {
    return nullptr;  // the generator found nothing to pick from
  }
}

// Records every exchange of one client with its interval.
class RecordingTransport final : public http::Transport {
 public:
  // With a scheduler, each exchange waits for the branch's turn (branch = client - 1), and its
  // interval starts once the turn is granted: the wait is not part of the operation.
  RecordingTransport(http::Transport& inner, Target& clock, int client,
                     std::chrono::steady_clock::time_point epoch, std::vector<Operation>& out,
                     RaceScheduler* scheduler = nullptr)
      : inner_(inner),
        clock_(clock),
        client_(client),
        epoch_(epoch),
        out_(out),
        scheduler_(scheduler) {}

  model::Result<model::HttpResponse> send(const HttpRequest& request) override {
    struct Turn {
      RaceScheduler* s;
      int branch;
      Turn(RaceScheduler* scheduler, int b) : s(scheduler), branch(b) {
        if (s != nullptr) s->begin_request(branch);
      }
      ~Turn() {
        if (s != nullptr) s->end_request(branch);
      }
      Turn(const Turn&) = delete;
      Turn& operator=(const Turn&) = delete;
    };
    std::int64_t invoke = 0;
    std::int64_t response = 0;
    model::Result<model::HttpResponse> r = model::HttpResponse{};
    {
      Turn turn(scheduler_, client_ - 1);
      invoke = since_epoch();
      r = inner_.send(request);
      response = since_epoch();
    }
    if (!r.ok()) return r;
    Operation op;
    op.client = client_;
    op.invoke_ns = invoke;
    op.response_ns = response;
    op.at = clock_.now();
    op.command = command;
    op.request = request;
    op.response = *r;
    out_.push_back(std::move(op));
    return r;
  }

  std::string command;  // what the next exchanges belong to

 private:
  std::int64_t since_epoch() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                epoch_)
        .count();
  }
  http::Transport& inner_;
  Target& clock_;
  int client_;
  std::chrono::steady_clock::time_point epoch_;
  std::vector<Operation>& out_;
  RaceScheduler* scheduler_;
};

// One client's view of the target: its own transport, the target's clock and fixture.
class ClientTarget final : public Target {
 public:
  ClientTarget(Target& main, http::Transport& transport) : main_(main), transport_(transport) {}
  http::Transport& transport() override { return transport_; }
  model::Timestamp now() override { return main_.now(); }
  const model::Fixture& fixture() const override { return main_.fixture(); }
  bool guarded() const override { return main_.guarded(); }
  std::string describe() const override { return main_.describe(); }

 private:
  Target& main_;
  http::Transport& transport_;
};

// Runs programs against one target through connections opened once.
class Runner {
 public:
  Runner(Target& target, const ParallelOptions& options) : target_(target), options_(options) {
    gen_ = options.generator;
    gen_.can_advance_clock = false;  // every branch judges at the same clock
    gen_.guarded = target.guarded();
  }

  model::Status open(std::size_t clients) {
    while (transports_.size() < clients) {
      auto t = target_.open_transport();
      if (!t.ok()) return t.error();
      transports_.push_back(std::move(*t));
    }
    return model::Ok{};
  }

  model::Result<Execution> execute(const ParallelProgram& program) {
    const std::size_t n = program.branches.size();
    if (auto st = open(n); !st.ok()) return st.error();
    if (auto st = target_.begin_sequence(); !st.ok()) return st.error();
    const auto epoch = std::chrono::steady_clock::now();
    Execution ex;
    ex.history.fixture = target_.fixture();
    ex.history.profile = options_.profile.name;
    ex.history.start = target_.now();

    std::vector<Operation> prefix_ops;
    RecordingTransport prefix_rec(target_.transport(), target_, 0, epoch, prefix_ops);
    ClientTarget prefix_target(target_, prefix_rec);
    Session prefix(prefix_target, options_.profile);
    prefix_rec.command = "log every account in";
    if (auto st = bootstrap(prefix); !st.ok()) return st.error();
    for (std::uint64_t seed : program.prefix) {
      CommandPtr cmd = command_from_seed(seed, prefix, gen_);
      if (!cmd) continue;
      prefix_rec.command = cmd->show();
      ex.prefix_shown.push_back(prefix_rec.command);
      if (auto st = cmd->run(prefix); !st.ok()) return st.error();
    }

    // Every branch is generated from the state the prefix left.
    std::vector<std::vector<CommandPtr>> commands(n);
    ex.branches_shown.resize(n);
    for (std::size_t b = 0; b < n; ++b) {
      for (std::uint64_t seed : program.branches[b]) {
        CommandPtr cmd = command_from_seed(seed, prefix, gen_);
        if (!cmd) continue;
        ex.branches_shown[b].push_back(cmd->show());
        commands[b].push_back(std::move(cmd));
      }
    }

    std::vector<std::vector<Operation>> branch_ops(n);
    std::vector<std::unique_ptr<RecordingTransport>> recs;
    std::vector<std::unique_ptr<ClientTarget>> targets;
    std::vector<std::optional<Session>> sessions(n);
    for (std::size_t b = 0; b < n; ++b) {
      recs.push_back(std::make_unique<RecordingTransport>(*transports_[b], target_,
                                                          static_cast<int>(b + 1), epoch,
                                                          branch_ops[b], options_.scheduler));
      targets.push_back(std::make_unique<ClientTarget>(target_, *recs[b]));
      sessions[b].emplace(*targets[b], options_.profile, prefix.state());
    }
    std::vector<std::optional<model::Error>> errors(n);
    if (options_.scheduler != nullptr) options_.scheduler->arm(static_cast<int>(n));
    {
      std::latch start(static_cast<std::ptrdiff_t>(n));
      std::vector<std::thread> threads;
      threads.reserve(n);
      for (std::size_t b = 0; b < n; ++b) {
        threads.emplace_back([&, b] {
          start.arrive_and_wait();
          for (const CommandPtr& cmd : commands[b]) {
            recs[b]->command = cmd->show();
            if (auto st = cmd->run(*sessions[b]); !st.ok()) {
              errors[b] = st.error();
              break;
            }
          }
          if (options_.scheduler != nullptr) options_.scheduler->client_done(static_cast<int>(b));
        });
      }
      for (auto& t : threads) t.join();
    }
    if (options_.scheduler != nullptr) options_.scheduler->disarm();
    for (auto& e : errors) {
      if (e) return *e;
    }

    ex.history.operations = std::move(prefix_ops);
    for (auto& ops : branch_ops) {
      for (auto& op : ops) ex.history.operations.push_back(std::move(op));
    }
    ex.verdict = check_linearizable(ex.history, options_.profile, options_.limits);
    return ex;
  }

 private:
  Target& target_;
  const ParallelOptions& options_;
  GeneratorOptions gen_;
  std::vector<std::unique_ptr<http::Transport>> transports_;
};

struct Trial {
  int failures = 0;
  int attempts = 0;
  std::optional<Execution> failing;
};

}  // namespace

ParallelProgram generate_program(std::uint64_t seed, const ParallelOptions& options) {
  std::mt19937_64 rng(mix(seed));
  auto upto = [&](int n) {
    return n <= 0 ? 0 : static_cast<int>(rng() % static_cast<std::uint64_t>(n + 1));
  };
  ParallelProgram p;
  const int prefix = upto(options.prefix_steps);
  for (int i = 0; i < prefix; ++i) p.prefix.push_back(rng() & ~kBranchBit);
  p.branches.resize(static_cast<std::size_t>(std::max(1, options.branches)));
  for (auto& b : p.branches) {
    const int steps = 1 + upto(std::max(0, options.branch_steps - 1));
    for (int i = 0; i < steps; ++i) b.push_back(rng() | kBranchBit);
  }
  return p;
}

model::Result<Execution> execute_program(Target& target, const ParallelProgram& program,
                                         const ParallelOptions& options) {
  Runner runner(target, options);
  return runner.execute(program);
}

ParallelResult run_parallel(Target& target, const ParallelOptions& options) {
  ParallelResult out;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto stop = [&] {
    return (options.interrupted != nullptr && options.interrupted->load()) ||
           (options.time_budget_s && elapsed() >= *options.time_budget_s);
  };
  if (target.guarded()) {
    out.error = model::make_error(
        model::ErrorKind::kInvalid,
        "--parallel is not available against a guarded live target: its ownership guard serves "
        "one client at a time");
    return out;
  }
  Runner runner(target, options);

  // Runs a program up to `times` times; stops once it failed `need` times or no longer can
  // (need 0: every time).
  auto trial = [&](const ParallelProgram& p, int times, int need) -> model::Result<Trial> {
    Trial t;
    for (int i = 0; i < times; ++i) {
      if (need > 0 && (t.failures >= need || t.failures + (times - i) < need)) break;
      auto ex = runner.execute(p);
      if (!ex.ok()) return ex.error();
      ++out.executions;
      ++t.attempts;
      out.operations += static_cast<std::int64_t>(ex->history.operations.size());
      if (ex->verdict.verdict == Linearizable::kUnknown) ++out.unknown;
      if (ex->verdict.verdict == Linearizable::kNo) {
        ++t.failures;
        if (!t.failing) t.failing = std::move(*ex);
      }
    }
    return t;
  };

  std::optional<ParallelProgram> failing;
  std::optional<Execution> failing_execution;
  for (int i = 0; i < options.runs && !stop(); ++i) {
    ParallelProgram p =
        generate_program(options.seed ^ mix(static_cast<std::uint64_t>(i) + 1), options);
    auto t = trial(p, std::max(1, options.repeats), 1);
    if (!t.ok()) {
      out.error = t.error();
      break;
    }
    ++out.programs;
    if (options.progress) options.progress(out.programs, options.runs, t->failures > 0);
    if (t->failures > 0) {
      failing = std::move(p);
      failing_execution = std::move(t->failing);
      break;
    }
  }
  if (out.error || !failing) {
    out.seconds = elapsed();
    return out;
  }

  // Shrink: drop a branch, drop a command, move a branch's first command into the prefix.
  ParallelProgram best = *failing;
  auto candidates = [](const ParallelProgram& p) {
    std::vector<ParallelProgram> c;
    if (p.branches.size() > 1) {
      for (std::size_t b = 0; b < p.branches.size(); ++b) {
        ParallelProgram q = p;
        q.branches.erase(q.branches.begin() + static_cast<std::ptrdiff_t>(b));
        c.push_back(std::move(q));
      }
    }
    for (std::size_t b = 0; b < p.branches.size(); ++b) {
      for (std::size_t j = 0; j < p.branches[b].size(); ++j) {
        if (p.branches[b].size() == 1) continue;  // dropping the branch covers it
        ParallelProgram q = p;
        q.branches[b].erase(q.branches[b].begin() + static_cast<std::ptrdiff_t>(j));
        c.push_back(std::move(q));
      }
    }
    for (std::size_t j = 0; j < p.prefix.size(); ++j) {
      ParallelProgram q = p;
      q.prefix.erase(q.prefix.begin() + static_cast<std::ptrdiff_t>(j));
      c.push_back(std::move(q));
    }
    for (std::size_t b = 0; b < p.branches.size(); ++b) {
      if (p.branches[b].size() < 2) continue;
      ParallelProgram q = p;
      q.prefix.push_back(q.branches[b].front());
      q.branches[b].erase(q.branches[b].begin());
      c.push_back(std::move(q));
    }
    return c;
  };
  // A candidate must fail at least half as often as the program found: a shrunk program that
  // fails by luck alone would not reproduce.
  const int repeats = std::max(1, options.shrink_repeats);
  int need = 1;
  if (options.shrink) {
    auto base = trial(best, repeats, 0);
    if (!base.ok()) {
      out.error = base.error();
    } else {
      need = std::max(1, (base->failures + 1) / 2);
      if (base->failing) failing_execution = std::move(base->failing);
    }
  }
  if (options.shrink && !out.error) {
    for (bool progress = true; progress && !stop();) {
      progress = false;
      for (const ParallelProgram& candidate : candidates(best)) {
        if (stop()) break;
        auto t = trial(candidate, repeats, need);
        if (!t.ok()) {
          out.error = t.error();
          break;
        }
        if (t->failures >= need) {
          best = candidate;
          failing_execution = std::move(t->failing);
          ++out.shrink_steps;
          progress = true;
          break;
        }
      }
      if (out.error) break;
    }
  }
  out.failed = true;
  out.program = best;
  if (!out.error) {
    auto t = trial(best, std::max(1, options.confirm_repeats), 0);
    if (t.ok()) {
      out.failures = t->failures;
      out.attempts = t->attempts;
      if (t->failing) failing_execution = std::move(t->failing);
    } else {
      out.error = t.error();
    }
  }
  out.failure = std::move(failing_execution);
  out.seconds = elapsed();
  return out;
}

std::string render_parallel_text(const ParallelResult& r, const ParallelOptions& options) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "parallel runs: %d program(s) of %d branches, %d execution(s), %lld operations "
                "checked, %d unknown, %.1f s\n",
                r.programs, options.branches, r.executions, static_cast<long long>(r.operations),
                r.unknown, r.seconds);
  out += line;
  if (!r.failed) {
    out += r.unknown > 0 ? "no history was found unexplainable; some were left unknown (bounds)\n"
                         : "every history was linearizable\n";
    return out;
  }
  out += "FAILED: a history no sequential order explains\n\n";
  std::snprintf(line, sizeof line,
                "shrunk program (%d shrink step(s)); it failed %d of %d re-runs%s\n",
                r.shrink_steps, r.failures, r.attempts,
                r.failures == 0 ? " (a rare race: the shrunk run above failed once)" : "");
  out += line;
  if (r.failure) {
    out += "  prefix (client 0, after logging every account in):\n";
    for (const auto& s : r.failure->prefix_shown) out += "    " + s + "\n";
    for (std::size_t b = 0; b < r.failure->branches_shown.size(); ++b) {
      out += "  branch " + std::to_string(b + 1) + " (client " + std::to_string(b + 1) + "):\n";
      for (const auto& s : r.failure->branches_shown[b]) out += "    " + s + "\n";
    }
    if (r.failure->verdict.counterexample) {
      out += "\n" + render_timeline_text(r.failure->history, *r.failure->verdict.counterexample);
    }
  }
  return out;
}

}  // namespace patrol::properties
