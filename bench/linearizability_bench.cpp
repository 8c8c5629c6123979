// Times the linearizability checker (issue 8: 10k operations across 8 clients in <= 1 s and
// <= 1 GiB) on generated histories of 1k, 5k, 10k and 50k operations and prints a table.
// Histories are simulated in virtual time: 8 clients keep requests in flight against the
// in-process reference server; every request takes effect at a random instant inside its
// interval, so the history is linearizable by construction and as concurrent as 8 clients
// allow. Mixes: token operations only (create, read, PATCH, DELETE, PAT use: split per token),
// the same with listings (split per account only), the latter unsplit, and one history with a
// lost update planted near its end.
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "model/codec.hpp"
#include "properties/commands.hpp"
#include "properties/linearizability.hpp"
#include "server/core.hpp"

namespace {

using patrol::model::HttpRequest;
using patrol::model::Json;
using patrol::properties::History;
using patrol::properties::json_request;
using patrol::properties::Operation;

constexpr int kClients = 8;

struct Mix {
  const char* name;
  bool listings;
  bool split;
  bool plant_lost_update;
};

struct Client {
  std::string account;
  std::string jwt;
};

class Simulation {
 public:
  Simulation(std::size_t operations, const Mix& mix, std::uint64_t seed)
      : rng_(seed), mix_(mix), target_(operations) {
    patrol::server::ServerOptions o;
    o.manual_clock = true;
    core_ = std::move(patrol::server::ServerCore::create(o)).value();
    history.start = core_->now();
  }

  History run() {
    login();
    // Events: (time, kind 0 = linearize / 1 = respond, client).
    using Ev = std::tuple<std::int64_t, int, int>;
    std::priority_queue<Ev, std::vector<Ev>, std::greater<>> q;
    for (int c = 0; c < kClients; ++c) begin(c, now_ + uniform(0, 2000), q);
    while (!q.empty()) {
      auto [t, kind, c] = q.top();
      q.pop();
      Pending& p = pending_[c];
      if (kind == 0) {
        p.op.response = core_->handle(p.op.request);
        p.op.at = core_->now();
      } else {
        p.op.response_ns = t;
        learn(c, p.op);
        history.operations.push_back(std::move(p.op));
        p.op = Operation{};
        if (history.operations.size() + in_flight() < target_) {
          begin(c, t + uniform(0, 3000), q);
        }
      }
    }
    if (mix_.plant_lost_update) plant();
    return std::move(history);
  }

  History history;

 private:
  struct Pending {
    Operation op;
  };

  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }

  std::size_t in_flight() const {
    std::size_t n = 0;
    for (const auto& p : pending_) n += p.op.request.method.empty() ? 0 : 1;
    return n;
  }

  void record(int client, HttpRequest r) {
    Operation op;
    op.client = client;
    op.invoke_ns = now_;
    op.response = core_->handle(r);
    op.at = core_->now();
    now_ += 1000;
    op.response_ns = now_;
    now_ += 100;
    op.request = std::move(r);
    learn(client, op);
    history.operations.push_back(std::move(op));
  }

  void login() {
    pending_.resize(kClients);
    clients_.resize(kClients);
    for (int c = 0; c < kClients; ++c) {
      clients_[c].account = c < kClients / 2 ? "alice" : "bob";
      if (c < kClients / 2) {
        record(c,
               json_request("POST", "/v2/auth/token", "",
                            Json{{"identifier", "alice"}, {"secret", "alice-password-1"}}.dump()));
        clients_[c].jwt = Json::parse(history.operations.back().response.body)["access_token"];
      } else {
        record(c, json_request("POST", "/v2/users/login", "",
                               Json{{"username", "bob"}, {"password", "bob-password-2"}}.dump()));
        std::string handle =
            Json::parse(history.operations.back().response.body)["login_2fa_token"];
        record(c, json_request("POST", "/v2/users/2fa-login", "",
                               Json{{"login_2fa_token", handle}, {"code", "246810"}}.dump()));
        clients_[c].jwt = Json::parse(history.operations.back().response.body)["token"];
      }
    }
  }

  // Chooses the next request of a client from what the clients have learned so far.
  template <class Q>
  void begin(int c, std::int64_t at, Q& q) {
    const Client& cl = clients_[c];
    auto& live = live_[cl.account];
    const int roll = static_cast<int>(uniform(0, 99));
    HttpRequest r;
    if (live.size() < 4 || (roll < 18 && live.size() < 24)) {
      r = json_request(
          "POST", "/v2/access-tokens", cl.jwt,
          Json{{"token_label", "b" + std::to_string(uniform(0, 99))}, {"scopes", {"repo:read"}}}
              .dump());
    } else if (mix_.listings && roll < 24) {
      r = json_request("GET", "/v2/access-tokens", cl.jwt, "");
      r.query = "page_size=100";
    } else {
      const auto& [uuid, secret] = live[static_cast<std::size_t>(uniform(0, live.size() - 1))];
      if (roll < 50) {
        r = json_request("GET", "/v2/access-tokens/" + uuid, cl.jwt, "");
      } else if (roll < 80) {
        Json body = uniform(0, 1) ? Json{{"token_label", "r" + std::to_string(uniform(0, 99))}}
                                  : Json{{"is_active", uniform(0, 1) == 1}};
        r = json_request("PATCH", "/v2/access-tokens/" + uuid, cl.jwt, body.dump());
      } else if (roll < 90) {
        r = json_request("DELETE", "/v2/access-tokens/" + uuid, cl.jwt, "");
      } else {
        r = json_request("POST", "/v2/auth/token", "",
                         Json{{"identifier", cl.account}, {"secret", secret}}.dump());
      }
    }
    Pending& p = pending_[c];
    p.op = Operation{};
    p.op.client = c;
    p.op.invoke_ns = at;
    p.op.request = std::move(r);
    const std::int64_t duration = uniform(2000, 40000);
    q.push({at + uniform(0, duration), 0, c});
    q.push({at + duration, 1, c});
  }

  void learn(int c, const Operation& op) {
    const Client& cl = clients_[c];
    auto& live = live_[cl.account];
    if (op.request.method == "POST" && op.request.path == "/v2/access-tokens" &&
        op.response.status == 201) {
      Json b = Json::parse(op.response.body);
      live.emplace_back(b["uuid"].get<std::string>(), b["token"].get<std::string>());
    }
    if (op.request.method == "DELETE") {
      const std::string uuid = op.request.path.substr(std::string("/v2/access-tokens/").size());
      for (std::size_t i = 0; i < live.size(); ++i) {
        if (live[i].first == uuid) {
          live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
    }
  }

  // Makes the last successful PATCH of a label answer as if a concurrent write won (lost
  // update), and a read after it see the old label.
  void plant() {
    auto& ops = history.operations;
    for (std::size_t i = ops.size(); i-- > 0;) {
      if (ops[i].request.method != "PATCH" || ops[i].response.status != 200 ||
          ops[i].request.body.find("token_label") == std::string::npos) {
        continue;
      }
      Json b = Json::parse(ops[i].response.body);
      b["token_label"] = "lost-update";
      ops[i].response.body = b.dump();
      return;
    }
  }

  std::mt19937_64 rng_;
  Mix mix_;
  std::size_t target_;
  std::unique_ptr<patrol::server::ServerCore> core_;
  std::int64_t now_ = 0;
  std::vector<Client> clients_;
  std::vector<Pending> pending_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> live_;
};

// Resets the peak resident set size (Linux), so the next reading is this check's.
void reset_peak() {
  std::ofstream f("/proc/self/clear_refs");
  if (f) f << "5";
}

double peak_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {1000, 5000, 10000, 50000};
  if (argc > 1) sizes = {static_cast<std::size_t>(std::stoul(argv[1]))};
  const Mix mixes[] = {
      {"token operations", false, true, false},
      {"with listings", true, true, false},
      {"with listings, unsplit", true, false, false},
      {"lost update planted", true, true, true},
  };
  const auto profile = patrol::model::Profile::hub();
  std::printf(
      "linearizability checker: generated histories, %d clients, in-process reference server\n\n",
      kClients);
  std::printf("%-24s %7s %6s %10s %8s %8s %10s %11s %8s  %s\n", "history", "ops", "parts",
              "judgements", "wall s", "CPU s", "peak RSS", "working", "memo", "verdict");
  for (const Mix& mix : mixes) {
    for (std::size_t n : sizes) {
      if (!mix.split && n > 10000) continue;  // one part of 50k: see the 10k row
      Simulation sim(n, mix, 20250615 + n);
      History h = sim.run();
      patrol::properties::CheckLimits limits;
      limits.time_limit_s = 60;
      limits.split = mix.split;
      reset_peak();
      timespec c0{};
      timespec c1{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
      auto r = patrol::properties::check_linearizable(h, profile, limits);
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
      const double cpu = static_cast<double>(c1.tv_sec - c0.tv_sec) +
                         static_cast<double>(c1.tv_nsec - c0.tv_nsec) / 1e9;
      std::printf("%-24s %7zu %6zu %10zu %8.3f %8.3f %6.0f MiB %7.1f MiB %8zu  %s%s%s\n", mix.name,
                  h.operations.size(), r.parts, r.judgements, r.seconds, cpu, peak_mib(),
                  static_cast<double>(r.peak_bytes) / (1 << 20), r.memo_entries,
                  std::string(patrol::properties::to_string(r.verdict)).c_str(),
                  r.reason.empty() ? "" : ": ", r.reason.c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}
