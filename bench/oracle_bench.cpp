// Judges a long recorded-style session in-process and prints judgements per second (issue 3:
// the oracle must never be what limits a run; target >= 500k/s on 2 cores). The session is
// produced once by the honest test server (tests/oracle/honest_server.hpp): logins, creates,
// listings, reads, patches, deletes, PAT authentications and registry tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "model/json_tape.hpp"
#include "model/jwt.hpp"
#include "model/oracle.hpp"
#include "tests/oracle/honest_server.hpp"

namespace {

using patrol::model::Exchange;
using patrol::model::HttpRequest;
using patrol::model::HttpResponse;
using patrol::model::Timestamp;
using Json = nlohmann::json;

HttpRequest make(std::string method, std::string path, std::string query, std::string body,
                 const std::string& bearer) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.body = std::move(body);
  if (!bearer.empty()) r.headers.add("Authorization", "Bearer " + bearer);
  if (!r.body.empty()) r.headers.add("Content-Type", "application/json");
  r.headers.add("User-Agent", "patrol-bench/1");
  return r;
}

struct Generator {
  patrol::oracle_test::HonestServer server{patrol::model::default_fixture()};
  std::mt19937_64 rng{20250615};
  Timestamp now = Timestamp::from_seconds(1'750'000'000);
  std::vector<Exchange> out;
  std::map<std::string, std::string> jwt;  // account -> session JWT
  std::map<std::string, std::int64_t> jwt_at;
  struct Tok {
    std::string uuid;
    std::string secret;
    std::string owner;
  };
  std::vector<Tok> live;
  std::vector<std::string> deleted;

  HttpResponse send(const HttpRequest& r) {
    now.micros += 100'000;
    HttpResponse resp = server.handle(r, now);
    out.push_back({r, resp, now});
    return resp;
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  }

  const std::string& session(const std::string& account) {
    auto it = jwt.find(account);
    if (it == jwt.end() || now.seconds() - jwt_at[account] > 500) {
      if (account == "bob") {
        auto r = send(make("POST", "/v2/users/login", "",
                           Json{{"username", "bob"}, {"password", "bob-password-2"}}.dump(), ""));
        const std::string tf = Json::parse(r.body).at("login_2fa_token");
        auto r2 = send(make("POST", "/v2/users/2fa-login", "",
                            Json{{"login_2fa_token", tf}, {"code", "246810"}}.dump(), ""));
        jwt[account] = Json::parse(r2.body).at("token");
      } else {
        auto r =
            send(make("POST", "/v2/auth/token", "",
                      Json{{"identifier", account}, {"secret", "alice-password-1"}}.dump(), ""));
        jwt[account] = Json::parse(r.body).at("access_token");
      }
      jwt_at[account] = now.seconds();
    }
    return jwt[account];
  }

  void step() {
    const std::string account = pick(2) == 0 ? "alice" : "bob";
    const std::string& bearer = session(account);
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (live[i].owner == account) mine.push_back(i);
    }
    // A recorded session keeps its population bounded: patrol deletes the tokens it creates.
    std::size_t roll = pick(100);
    if (mine.size() > 60 && roll < 15) roll = 70;
    if (roll < 15 || mine.size() < 5) {
      static const char* kScopes[] = {"repo:public_read", "repo:read", "repo:write", "repo:admin"};
      Json body = {{"token_label", "bench-" + std::to_string(out.size())},
                   {"scopes", Json::array({kScopes[pick(4)]})}};
      if (pick(4) == 0)
        body["expires_at"] = patrol::model::format_rfc3339({now.micros + 86'400'000'000LL});
      auto r = send(make("POST", "/v2/access-tokens", "", body.dump(), bearer));
      if (r.status == 201) {
        Json j = Json::parse(r.body);
        live.push_back({j["uuid"], j["token"], account});
      }
      return;
    }
    const Tok& t = live[mine[pick(mine.size())]];
    if (roll < 30) {
      const std::size_t pages = (mine.size() + 9) / 10;
      send(make("GET", "/v2/access-tokens",
                "page=" + std::to_string(1 + pick(pages)) + "&page_size=10", "", bearer));
    } else if (roll < 55) {
      send(make("GET", "/v2/access-tokens/" + t.uuid, "", "", bearer));
    } else if (roll < 70) {
      Json body = pick(2) ? Json{{"is_active", pick(2) == 0}} : Json{{"token_label", "renamed"}};
      send(make("PATCH", "/v2/access-tokens/" + t.uuid, "", body.dump(), bearer));
    } else if (roll < 78) {
      const std::string uuid = t.uuid;
      send(make("DELETE", "/v2/access-tokens/" + uuid, "", "", bearer));
      deleted.push_back(uuid);
      live.erase(
          std::remove_if(live.begin(), live.end(), [&](const Tok& x) { return x.uuid == uuid; }),
          live.end());
    } else if (roll < 86) {
      send(make("POST", "/v2/auth/token", "",
                Json{{"identifier", account}, {"secret", t.secret}}.dump(), ""));
    } else if (roll < 92) {
      HttpRequest r =
          make("GET", "/token",
               "service=registry.docker.io&scope=repository:" + account + "/public-app:pull,push",
               "", "");
      r.headers.add("Authorization",
                    "Basic " + patrol::model::base64_encode(account + ":" + t.secret));
      send(r);
    } else if (!deleted.empty()) {
      send(make("GET", "/v2/access-tokens/" + deleted[pick(deleted.size())], "", "", bearer));
    } else {
      send(make("GET", "/v2/access-tokens/" + t.uuid, "", "", bearer));
    }
  }
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// CPU time of this thread: the machine is shared, so wall time overstates the oracle's cost.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200'000;
  const int passes = argc > 2 ? std::atoi(argv[2]) : 5;
  Generator g;
  while (g.out.size() < n) g.step();
  const patrol::model::Profile profile = patrol::model::Profile::hub();
  const patrol::model::ModelState initial(patrol::model::default_fixture());

  std::map<std::string, std::size_t> mix;
  std::size_t bytes = 0;
  for (const Exchange& e : g.out) {
    mix[std::string(patrol::model::route_id(patrol::model::classify(e.request)))]++;
    bytes += e.response.body.size();
  }
  std::printf("oracle_bench: %zu exchanges, %.0f response bytes on average\n  mix:", g.out.size(),
              static_cast<double>(bytes) / static_cast<double>(g.out.size()));
  for (const auto& [route, count] : mix) std::printf(" %s %zu", route.c_str(), count);
  std::printf("\n");

  // Sanity: the honest session has no violations.
  {
    patrol::model::ModelState s = initial;
    std::size_t violations = 0;
    for (const Exchange& e : g.out) {
      auto v = patrol::model::judge_in_place(s, e.request, e.response, e.now, profile);
      if (!v.empty() && violations < 3)
        std::printf("  unexpected: [%s] %s\n", v[0].rule.c_str(), v[0].message.c_str());
      violations += v.size();
    }
    std::printf(
        "  violations in the honest session: %zu; final state: %zu tokens, %zu secrets, %zu JWTs\n",
        violations, s.token_count(), s.secret_count(), s.jwt_count());
  }

  double best = 1e100;
  double best_cpu = 1e100;
  for (int p = 0; p < passes; ++p) {
    patrol::model::ModelState s = initial;
    const auto t = std::chrono::steady_clock::now();
    const double c = thread_cpu_seconds();
    std::size_t sink = 0;
    for (const Exchange& e : g.out) {
      sink += patrol::model::judge_in_place(s, e.request, e.response, e.now, profile).size();
    }
    best_cpu = std::min(best_cpu, thread_cpu_seconds() - c);
    best = std::min(best, seconds_since(t));
    if (sink != 0) std::printf("  (pass %d saw %zu violations)\n", p, sink);
  }
  const double n_d = static_cast<double>(g.out.size());
  std::printf(
      "judge_in_place: %.0f judgements/s of CPU time, %.0f judgements/s of wall time "
      "(best of %d passes of %zu; %.0f ns each)\n",
      n_d / best_cpu, n_d / best, passes, g.out.size(), best_cpu / n_d * 1e9);

  // Floor: only parsing the response bodies with the oracle's JSON reader.
  {
    patrol::model::JsonTape tape;
    double best_parse = 1e100;
    for (int p = 0; p < passes; ++p) {
      const double c = thread_cpu_seconds();
      std::size_t sink = 0;
      for (const Exchange& e : g.out) {
        if (!e.response.body.empty() && tape.parse(e.response.body)) sink += tape.size();
      }
      best_parse = std::min(best_parse, thread_cpu_seconds() - c);
      if (sink == 0) std::printf("  (nothing parsed)\n");
    }
    std::printf("  of which parsing bodies alone: %.0f ns per exchange\n", best_parse / n_d * 1e9);
  }

  // Per-route cost, for finding the slow path.
  std::map<std::string, std::pair<double, std::size_t>> cost;
  {
    patrol::model::ModelState s = initial;
    for (const Exchange& e : g.out) {
      const double t = thread_cpu_seconds();
      (void)patrol::model::judge_in_place(s, e.request, e.response, e.now, profile);
      auto& c = cost[std::string(patrol::model::route_id(patrol::model::classify(e.request)))];
      c.first += thread_cpu_seconds() - t;
      c.second++;
    }
  }
  std::printf("  per route (CPU ns/judgement, clock reads included):");
  for (const auto& [route, c] : cost)
    std::printf(" %s %.0f", route.c_str(), c.first / static_cast<double>(c.second) * 1e9);
  std::printf("\n");

  // judge() copies the state: its cost on a small state (what a linearizability checker copies).
  {
    patrol::model::ModelState small = initial;
    for (std::size_t i = 0; i < 40 && i < g.out.size(); ++i) {
      (void)patrol::model::judge_in_place(small, g.out[i].request, g.out[i].response, g.out[i].now,
                                          profile);
    }
    const std::size_t copies = 200'000;
    const double t = thread_cpu_seconds();
    std::size_t sink = 0;
    for (std::size_t i = 0; i < copies; ++i) {
      patrol::model::ModelState c = small;
      sink += c.token_count();
    }
    const double dt = thread_cpu_seconds() - t;
    std::printf(
        "state copy: %.0f ns per copy of a state with %zu tokens, %zu secrets, %zu JWTs (%zu)\n",
        dt / static_cast<double>(copies) * 1e9, small.token_count(), small.secret_count(),
        small.jwt_count(), sink % 2);
  }
  return 0;
}
