// Reference server throughput over loopback keep-alive connections (issue 4's figure): GET of
// one token, create/delete pairs, and the same load against a trivial endpoint on the same
// listener settings as the limit; then GET of one token with cpp-httplib 0.11's stock settings
// for comparison, and the slowest first response of a burst of fresh connections. The load comes
// from bench/load.hpp (one epoll thread), so the figures are the server's. Prints figures only.
//
//   server_bench [--seconds S] [--connections C] [--only trivial|get|create-delete|stock|burst]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/load.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using patrol::bench::http_request;
using patrol::bench::LoadResult;
using patrol::bench::Response;
using patrol::bench::Script;
using patrol::server::ListenerOptions;

[[noreturn]] void die(const std::string& what) { patrol::bench::die("server_bench", what); }
using patrol::bench::cpu_seconds;

void report(const char* name, const LoadResult& r, double cpu) {
  std::printf("%-34s %8.0f req/s  p50 %7.1f us  p99 %8.1f us  cpu %5.2f s  failed %zu\n", name,
              r.rate(), r.percentile_us(0.5), r.percentile_us(0.99), cpu, r.failures);
}

// Logs `connections` sessions of alice in; each gets a JWT and a token of its own.
struct Session {
  std::string auth;  // "Authorization: Bearer ...\r\n"
  std::string item;  // "/v2/access-tokens/<uuid>"
};
std::vector<Session> sessions(int port, int connections) {
  std::vector<Session> out;
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10);
  for (int i = 0; i < connections; ++i) {
    auto login = c.Post("/v2/auth/token", R"({"identifier":"alice","secret":"alice-password-1"})",
                        "application/json");
    if (!login || login->status != 200) die("login failed");
    std::string jwt = nlohmann::json::parse(login->body)["access_token"];
    httplib::Headers auth = {{"Authorization", "Bearer " + jwt}};
    auto created =
        c.Post("/v2/access-tokens", auth,
               R"({"token_label":"bench-)" + std::to_string(i) + R"(","scopes":["repo:read"]})",
               "application/json");
    if (!created || created->status != 201) die("create failed");
    out.push_back(
        {"Authorization: Bearer " + jwt + "\r\n",
         "/v2/access-tokens/" + nlohmann::json::parse(created->body)["uuid"].get<std::string>()});
  }
  return out;
}

struct Server {
  std::unique_ptr<patrol::server::ServerCore> core;
  std::unique_ptr<patrol::server::Listener> listener;
};
Server reference(const ListenerOptions& o) {
  Server s;
  auto core = patrol::server::ServerCore::create({});
  if (!core.ok()) die(core.error().message);
  s.core = std::move(*core);
  auto listener = patrol::server::Listener::start(*s.core, o);
  if (!listener.ok()) die(listener.error().message);
  s.listener = std::move(*listener);
  return s;
}

LoadResult get_one_token(int port, int connections, double seconds) {
  auto ss = sessions(port, connections);
  return patrol::bench::run_load(port, connections, seconds, [&](int i) -> Script {
    std::string request = http_request("GET", ss[static_cast<std::size_t>(i)].item,
                                       ss[static_cast<std::size_t>(i)].auth);
    return [request](const Response*) { return request; };
  });
}

LoadResult create_delete(int port, int connections, double seconds) {
  auto ss = sessions(port, connections);
  return patrol::bench::run_load(port, connections, seconds, [&](int i) -> Script {
    const Session s = ss[static_cast<std::size_t>(i)];
    const std::string create = http_request(
        "POST", "/v2/access-tokens", s.auth,
        R"({"token_label":"bench-cd-)" + std::to_string(i) + R"(","scopes":["repo:read"]})");
    return [create, s](const Response* previous) -> std::string {
      if (previous == nullptr || previous->status != 201) return create;
      // The 201's uuid: delete what was just created.
      const std::size_t at = previous->body.find("\"uuid\":\"");
      if (at == std::string_view::npos) return create;
      const std::string uuid(previous->body.substr(at + 8, 36));
      return http_request("DELETE", "/v2/access-tokens/" + uuid, s.auth);
    };
  });
}

LoadResult trivial(const ListenerOptions& o, int connections, double seconds) {
  auto listener = patrol::server::Listener::start(
      [](const patrol::model::HttpRequest&) {
        patrol::model::HttpResponse r;
        r.status = 200;
        r.headers.add("Content-Type", "application/json");
        r.body = R"({"ok":true})";
        return r;
      },
      "hub", o);
  if (!listener.ok()) die(listener.error().message);
  const std::string request = http_request("GET", "/");
  return patrol::bench::run_load((*listener)->port(), connections, seconds, [&](int) -> Script {
    return [request](const Response*) { return request; };
  });
}

// Opens `n` fresh connections at once and reports the slowest first response (ms).
double connect_burst(const ListenerOptions& o, int n) {
  Server s = reference(o);
  const int port = s.listener->port();
  std::vector<double> ms(static_cast<std::size_t>(n), 1e9);
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
      if (r) {
        ms[static_cast<std::size_t>(i)] =
            std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
      }
    });
  }
  go.store(true);
  for (auto& t : threads) t.join();
  return *std::max_element(ms.begin(), ms.end());
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int connections = 16;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--connections") == 0) connections = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  auto wanted = [&](const char* name) { return only.empty() || only == name; };
  ListenerOptions patrol_settings;  // the defaults
  ListenerOptions stock;            // what Debian's cpp-httplib 0.11 compiles in
  stock.threads = 8;
  stock.keep_alive_max_requests = 5;
  stock.keep_alive_timeout = std::chrono::seconds(5);
  stock.tcp_nodelay = false;
  stock.listen_backlog = 5;

  std::printf("loopback, %d keep-alive connections, %.1f s each, %u hardware threads\n",
              connections, seconds, std::thread::hardware_concurrency());
  auto measure = [&](const char* name, auto&& run) {
    const double cpu = cpu_seconds();
    LoadResult r = run();
    report(name, r, cpu_seconds() - cpu);
  };
  if (wanted("trivial"))
    measure("trivial endpoint (the limit)",
            [&] { return trivial(patrol_settings, connections, seconds); });
  if (wanted("get")) {
    Server s = reference(patrol_settings);
    measure("GET one token",
            [&] { return get_one_token(s.listener->port(), connections, seconds); });
  }
  if (wanted("create-delete")) {
    Server s = reference(patrol_settings);
    measure("create/delete pairs",
            [&] { return create_delete(s.listener->port(), connections, seconds); });
  }
  if (wanted("stock")) {
    Server s = reference(stock);
    measure("GET one token, httplib 0.11 stock",
            [&] { return get_one_token(s.listener->port(), std::min(connections, 8), seconds); });
  }
  if (wanted("burst")) {
    std::printf("connect burst of 64 fresh connections, slowest first response: %.2f ms\n",
                connect_burst(patrol_settings, 64));
  }
  return 0;
}
