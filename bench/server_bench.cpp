// Throughput and latency of the reference server's listener over loopback keep-alive
// connections, with patrol's listener settings and with cpp-httplib 0.11's stock ones for
// comparison. Prints figures only.
//
//   server_bench [--seconds S] [--clients C]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server/core.hpp"
#include "server/listener.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using patrol::server::ListenerOptions;

struct Figures {
  std::size_t requests = 0;
  std::size_t failures = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

Figures run(const ListenerOptions& listener_options, int clients, double seconds) {
  Figures out;
  auto core = patrol::server::ServerCore::create({});
  if (!core.ok()) {
    std::fprintf(stderr, "core: %s\n", core.error().message.c_str());
    std::exit(1);
  }
  auto listener = patrol::server::Listener::start(**core, listener_options);
  if (!listener.ok()) {
    std::fprintf(stderr, "listener: %s\n", listener.error().message.c_str());
    std::exit(1);
  }
  const int port = (*listener)->port();

  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::vector<Figures> per(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      Figures& f = per[static_cast<std::size_t>(t)];
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(10);
      auto login = c.Post("/v2/auth/token", R"({"identifier":"alice","secret":"alice-password-1"})",
                          "application/json");
      if (!login || login->status != 200) {
        ++f.failures;
        return;
      }
      std::string jwt = nlohmann::json::parse(login->body)["access_token"];
      httplib::Headers auth = {{"Authorization", "Bearer " + jwt}};
      auto created =
          c.Post("/v2/access-tokens", auth, R"({"token_label":"bench","scopes":["repo:read"]})",
                 "application/json");
      if (!created || created->status != 201) {
        ++f.failures;
        return;
      }
      std::string item =
          "/v2/access-tokens/" + nlohmann::json::parse(created->body)["uuid"].get<std::string>();
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = 0; !stop.load(); ++i) {
        auto begin = Clock::now();
        auto send = [&]() -> httplib::Result {
          switch (i % 10) {  // 70% reads, 20% lists, 10% label updates
            case 0:
            case 5:
              return c.Get("/v2/access-tokens?page_size=10", auth);
            case 7:
              return c.Patch(item.c_str(), auth, R"({"token_label":"bench-renamed"})",
                             "application/json");
            default:
              return c.Get(item.c_str(), auth);
          }
        };
        auto r = send();
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
        ++f.requests;
        f.latencies_ms.push_back(ms);
        if (!r || r->status != 200) ++f.failures;
      }
    });
  }
  auto begin = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& th : threads) th.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  for (auto& f : per) {
    out.requests += f.requests;
    out.failures += f.failures;
    out.latencies_ms.insert(out.latencies_ms.end(), f.latencies_ms.begin(), f.latencies_ms.end());
  }
  (*listener)->stop();
  return out;
}

// Opens `n` fresh connections at once and reports the slowest first response.
double connect_burst(const ListenerOptions& listener_options, int n) {
  auto core = patrol::server::ServerCore::create({});
  auto listener = patrol::server::Listener::start(**core, listener_options);
  if (!core.ok() || !listener.ok()) std::exit(1);
  const int port = (*listener)->port();
  std::vector<double> ms(static_cast<std::size_t>(n));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(10);
      c.set_keep_alive(false);
      while (!go.load()) std::this_thread::yield();
      auto begin = Clock::now();
      auto r = c.Get("/token?service=registry.docker.io");
      ms[static_cast<std::size_t>(i)] =
          r ? std::chrono::duration<double, std::milli>(Clock::now() - begin).count() : 1e9;
    });
  }
  go.store(true);
  for (auto& t : threads) t.join();
  (*listener)->stop();
  return *std::max_element(ms.begin(), ms.end());
}

void report(const char* name, Figures f) {
  std::size_t stalls = static_cast<std::size_t>(
      std::count_if(f.latencies_ms.begin(), f.latencies_ms.end(), [](double v) { return v > 30; }));
  double p50 = percentile(f.latencies_ms, 0.50);
  double p99 = percentile(f.latencies_ms, 0.99);
  double max =
      f.latencies_ms.empty() ? 0 : *std::max_element(f.latencies_ms.begin(), f.latencies_ms.end());
  std::printf(
      "%-26s %9.0f req/s  p50 %6.3f ms  p99 %7.3f ms  max %7.2f ms  >30ms %zu  failed %zu\n", name,
      static_cast<double>(f.requests) / f.seconds, p50, p99, max, stalls, f.failures);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int clients = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--clients") == 0) clients = std::atoi(argv[i + 1]);
  }
  ListenerOptions patrol_settings;  // the defaults
  ListenerOptions stock;            // what Debian's cpp-httplib 0.11 compiles in
  stock.threads = 8;
  stock.keep_alive_max_requests = 5;
  stock.keep_alive_timeout = std::chrono::seconds(5);
  stock.tcp_nodelay = false;
  stock.listen_backlog = 5;

  std::printf(
      "reference server over loopback keep-alive: %d clients, %.1f s each, mix 70%% E3 / "
      "20%% E2 / 10%% E4, %u hardware threads\n",
      clients, seconds, std::thread::hardware_concurrency());
  report("patrol listener settings", run(patrol_settings, clients, seconds));
  report("httplib 0.11 stock", run(stock, clients, seconds));
  std::printf(
      "connect burst of 64 fresh connections, slowest first response: patrol %.2f ms, "
      "stock %.2f ms\n",
      connect_burst(patrol_settings, 64), connect_burst(stock, 64));
  return 0;
}
