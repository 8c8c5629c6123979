// Recorder figures on this machine: recording-proxy throughput against direct access under
// concurrent keep-alive clients (measured in one run), latency the proxy adds to sequential
// requests, replay-server throughput against the reference server's, and the time to load a
// 10k-entry cassette. Prints figures only.
//
//   recorder_bench [--clients C] [--requests N] [--rounds R] [--sequential N] [--entries N]
//                  [--appends N]
//                  [--only throughput|append|sequential|replay|load]
#include <httplib.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/load.hpp"
#include "model/fixture.hpp"
#include "recorder/har_format.hpp"
#include "recorder/matcher.hpp"
#include "recorder/net.hpp"
#include "recorder/proxy.hpp"
#include "recorder/replay_server.hpp"
#include "recorder/writer.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace patrol;

[[noreturn]] void die(const std::string& what) { bench::die("recorder_bench", what); }
using bench::cpu_seconds;

using Run = bench::LoadResult;

double percentile(const Run& r, double p) { return r.percentile_us(p); }

// The workload's cycle of 10 requests per connection: list, get, get, get, get, list, get, patch,
// get, get (70% E3, 20% E2, 10% E4).
enum class Step : std::uint8_t { kList, kGet, kPatch };
Step step_of(int n) {
  switch (n % 10) {
    case 0:
    case 5:
      return Step::kList;
    case 7:
      return Step::kPatch;
    default:
      return Step::kGet;
  }
}
constexpr const char* kListTarget = "/v2/access-tokens?page_size=10";
constexpr const char* kPatchBody = R"({"token_label":"bench-renamed"})";

// `clients` keep-alive connections each log in and create a token (through the port measured,
// so a proxy records those too), then send `per_client` requests (70% E3, 20% E2, 10% E4) from
// bench/load.hpp's generator, timed from the first to the last.
Run workload(int port, int clients, int per_client) {
  struct Setup {
    std::string auth;
    std::string item = "/v2/access-tokens/none";
  };
  std::vector<Setup> setups(static_cast<std::size_t>(clients));
  {
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(10, 0);
    for (auto& setup : setups) {
      auto login = c.Post("/v2/auth/token", R"({"identifier":"alice","secret":"alice-password-1"})",
                          "application/json");
      if (!login || login->status != 200) continue;
      std::string jwt = nlohmann::json::parse(login->body)["access_token"].get<std::string>();
      setup.auth = "Authorization: Bearer " + jwt + "\r\n";
      auto created =
          c.Post("/v2/access-tokens", {{"Authorization", "Bearer " + jwt}},
                 R"({"token_label":"bench","scopes":["repo:read"]})", "application/json");
      if (created && created->status == 201) {
        setup.item =
            "/v2/access-tokens/" + nlohmann::json::parse(created->body)["uuid"].get<std::string>();
      }
    }
  }
  return bench::run_load(port, clients, 600, [&](int i) -> bench::Script {
    const Setup& setup = setups[static_cast<std::size_t>(i)];
    const std::string list = bench::http_request("GET", kListTarget, setup.auth);
    const std::string patch = bench::http_request("PATCH", setup.item, setup.auth, kPatchBody);
    const std::string get = bench::http_request("GET", setup.item, setup.auth);
    return [list, patch, get, n = 0, per_client](const bench::Response*) mutable -> std::string {
      if (n >= per_client) return {};
      switch (step_of(n++)) {
        case Step::kList:
          return list;
        case Step::kPatch:
          return patch;
        case Step::kGet:
          break;
      }
      return get;
    };
  });
}

struct Target {
  std::unique_ptr<server::ServerCore> core;
  std::unique_ptr<server::Listener> listener;
};

Target reference_server() {
  Target t;
  auto core = server::ServerCore::create({});
  if (!core.ok()) die(core.error().message);
  t.core = std::move(*core);
  auto listener = server::Listener::start(*t.core);
  if (!listener.ok()) die(listener.error().message);
  t.listener = std::move(*listener);
  return t;
}

struct Recording {
  std::unique_ptr<recorder::CassetteWriter> writer;
  std::unique_ptr<recorder::RecordingProxy> proxy;
};

Recording recording_proxy(const std::string& upstream, const std::string& path,
                          recorder::Durability durability) {
  Recording r;
  recorder::WriterOptions wo;
  wo.declared = recorder::declared_from_fixture(model::default_fixture());
  wo.durability = durability;
  wo.overwrite = true;
  auto writer = recorder::CassetteWriter::open(path, wo);
  if (!writer.ok()) die(writer.error().message);
  r.writer = std::move(*writer);
  recorder::ProxyOptions po;
  po.upstream.base_url = upstream;
  auto proxy = recorder::RecordingProxy::start(po, *r.writer);
  if (!proxy.ok()) die(proxy.error().message);
  r.proxy = std::move(*proxy);
  return r;
}

// The interactions the workload makes, as the proxy would hand them to the writer: one login,
// 16 creates, then one cycle of step_of() with real JWTs, uuids and bodies.
std::vector<recorder::Interaction> sample_interactions(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  std::vector<recorder::Interaction> out;
  auto exchange = [&](const std::string& method, const std::string& target, const std::string& auth,
                      const std::string& body) {
    httplib::Request req;
    req.method = method;
    req.path = target;
    req.headers = {{"Accept", "*/*"}, {"User-Agent", "cpp-httplib/" CPPHTTPLIB_VERSION}};
    if (!auth.empty()) req.headers.emplace("Authorization", "Bearer " + auth);
    req.body = body;
    if (!body.empty()) req.headers.emplace("Content-Type", "application/json");
    auto res = c.send(req);
    if (!res) die("sample exchange failed: " + method + " " + target);
    recorder::Interaction it;
    it.origin = "http://127.0.0.1:" + std::to_string(port);
    it.started = model::Timestamp{1'764'000'000'000'000};
    it.duration_ms = 0.25;
    auto [path, query] = model::split_target(target);
    it.request.method = method;
    it.request.path = path;
    it.request.query = query;
    it.request.peer = "127.0.0.1";
    it.request.body = body;
    it.request.headers.add("Host", "127.0.0.1:" + std::to_string(port));
    for (const auto& [k, v] : req.headers) it.request.headers.add(k, v);
    it.request.headers.add("Accept-Encoding", "identity");
    it.response.status = res->status;
    const std::string connection = res->get_header_value("Connection");
    for (const auto& [k, v] : res->headers) {  // as the proxy keeps them
      if (!recorder::is_hop_by_hop(k, connection) &&
          !model::header_name_equal(k, "Content-Length")) {
        it.response.headers.add(k, v);
      }
    }
    it.response.body = res->body;
    out.push_back(it);
    return res->body;
  };
  auto login = exchange("POST", "/v2/auth/token", "",
                        R"({"identifier":"alice","secret":"alice-password-1"})");
  std::string jwt = nlohmann::json::parse(login)["access_token"].get<std::string>();
  std::string created;
  for (int i = 0; i < 16; ++i) {  // as many as the workload's clients make, for full list pages
    created = exchange("POST", "/v2/access-tokens", jwt,
                       R"({"token_label":"bench","scopes":["repo:read"]})");
  }
  std::string item =
      "/v2/access-tokens/" + nlohmann::json::parse(created)["uuid"].get<std::string>();
  for (int n = 0; n < 10; ++n) {
    switch (step_of(n)) {
      case Step::kList:
        exchange("GET", kListTarget, jwt, "");
        break;
      case Step::kPatch:
        exchange("PATCH", item, jwt, kPatchBody);
        break;
      case Step::kGet:
        exchange("GET", item, jwt, "");
        break;
    }
  }
  return out;
}

void line(const char* name, const Run& r) {
  std::printf(
      "  %-40s %8.0f req/s  p50 %7.1f us  p99 %8.1f us  cpu %5.1f us/req  %4.1f switches/req  "
      "failed %zu\n",
      name, r.rate(), percentile(r, 0.5), percentile(r, 0.99), r.cpu_us_per_request(),
      r.switches_per_request(), r.failures);
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 16;
  int requests = 3000;    // per client, concurrent runs
  int sequential = 5000;  // single-client runs
  int entries = 10000;    // cassette load
  int rounds = 5;         // measured direct/proxied rounds
  int appends = 100000;   // recording without the network
  std::string only;       // throughput | append | sequential | replay | load; empty: all
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--clients") == 0) clients = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--sequential") == 0) sequential = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--entries") == 0) entries = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--appends") == 0) appends = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  auto wanted = [&](const char* section) { return only.empty() || only == section; };
  std::string dir = (std::filesystem::temp_directory_path() / "patrol-recorder-bench").string();
  std::filesystem::create_directories(dir);
  std::printf(
      "recorder bench: %u hardware threads; workload 70%% E3 / 20%% E2 / 10%% E4 against "
      "the reference server\n\n",
      std::thread::hardware_concurrency());

  // 1. Throughput under concurrent keep-alive clients, direct and through the proxy, one run:
  //    one unmeasured round of each (connections, journal file, allocator warm up), then rounds
  //    alternating direct and proxied; the ratio is the median round's.
  if (wanted("throughput")) {
    Target target = reference_server();
    Recording rec = recording_proxy(target.listener->base_url(), dir + "/concurrent.har",
                                    recorder::Durability::kFlushBehind);
    Recording durable = recording_proxy(target.listener->base_url(), dir + "/durable.har",
                                        recorder::Durability::kSyncEach);
    std::printf("%d keep-alive clients x %d requests, %d rounds:\n", clients, requests, rounds);
    (void)workload(target.listener->port(), clients, requests);
    (void)workload(rec.proxy->port(), clients, requests);
    std::vector<double> ratios;
    for (int round = 1; round <= rounds; ++round) {
      Run direct = workload(target.listener->port(), clients, requests);
      Run proxied = workload(rec.proxy->port(), clients, requests);
      line(("direct, round " + std::to_string(round)).c_str(), direct);
      line(("recording proxy, round " + std::to_string(round)).c_str(), proxied);
      ratios.push_back(proxied.rate() / direct.rate());
    }
    Run synced = workload(durable.proxy->port(), clients, requests);
    line("recording proxy, --durable (fsync each)", synced);
    std::sort(ratios.begin(), ratios.end());
    std::printf(
        "  proxy/direct throughput: median %.0f%%, rounds %.0f%%..%.0f%% (target >= 50%%)\n\n",
        100 * ratios[ratios.size() / 2], 100 * ratios.front(), 100 * ratios.back());
    rec.proxy->stop();
    durable.proxy->stop();
    (void)rec.writer->finish();
    (void)durable.writer->finish();
  }

  // 2. What recording costs per interaction, without the network: redaction, entry encoding and
  //    the journal append, from one thread and from `clients` threads at once (the proxy's case).
  if (wanted("append")) {
    Target target = reference_server();
    std::vector<recorder::Interaction> sample = sample_interactions(target.listener->port());
    const auto n = static_cast<std::size_t>(appends);
    const std::size_t setup = sample.size() - 10;  // the login and the creates
    auto steady = [&](std::size_t i) -> const recorder::Interaction& {
      return sample[setup + i % 10];
    };
    std::printf("recording one interaction (the workload's mix), %zu times:\n", n);
    auto timed = [&](const char* name, auto&& body) {
      double c0 = cpu_seconds();
      auto t0 = Clock::now();
      body();
      double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf("  %-40s %6.2f us wall  %6.2f us cpu per interaction\n", name,
                  1e6 * wall / static_cast<double>(n),
                  1e6 * (cpu_seconds() - c0) / static_cast<double>(n));
    };
    recorder::Redactor redactor(recorder::declared_from_fixture(model::default_fixture()));
    for (const auto& it : sample) (void)redactor.redact(it);
    std::size_t bytes = 0;
    timed("redact", [&] {
      for (std::size_t i = 0; i < n; ++i)
        bytes += redactor.redact(steady(i)).get().request.body.size();
    });
    std::vector<recorder::Redacted> redacted;
    for (std::size_t i = 0; i < sample.size(); ++i) redacted.push_back(redactor.redact(sample[i]));
    timed("encode the HAR entry", [&] {
      for (std::size_t i = 0; i < n; ++i) {
        bytes += recorder::detail::encode_entry(redacted[setup + i % 10]).size();
      }
    });
    for (int threads : {1, clients}) {
      recorder::WriterOptions wo;
      wo.declared = recorder::declared_from_fixture(model::default_fixture());
      wo.overwrite = true;
      auto writer = recorder::CassetteWriter::open(dir + "/append.har", wo);
      if (!writer.ok()) die(writer.error().message);
      for (const auto& it : sample) (void)(*writer)->append(it);
      std::string name = "append (redact, encode, journal), " + std::to_string(threads) +
                         (threads == 1 ? " thread" : " threads");
      timed(name.c_str(), [&] {
        std::vector<std::thread> pool;
        std::atomic<std::size_t> next{0};
        for (int t = 0; t < threads; ++t) {
          pool.emplace_back([&] {
            for (std::size_t i; (i = next.fetch_add(1)) < n;) {
              if (auto s = (*writer)->append(steady(i)); !s.ok()) die(s.error().message);
            }
          });
        }
        for (auto& t : pool) t.join();
      });
      if (auto s = (*writer)->finish(); !s.ok()) die(s.error().message);
    }
    std::printf("  (%zu bytes touched)\n\n", bytes);
  }

  // 3. Latency added to sequential requests: as the machine schedules it, and with client, proxy
  //    and server sharing one CPU. On an idle VM each cross-CPU hand-off wakes a halted vCPU (tens
  //    of microseconds), and the proxy has twice the hand-offs of a direct request; on one CPU
  //    each hand-off is a context switch, so the second figure is the proxy's own cost.
  for (bool one_cpu : {false, true}) {
    if (!wanted("sequential")) break;
    cpu_set_t saved;
    if (one_cpu) {
      sched_getaffinity(0, sizeof saved, &saved);
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(sched_getcpu(), &one);
      sched_setaffinity(0, sizeof one, &one);  // threads made from here on inherit it
    }
    Target target = reference_server();
    Recording rec = recording_proxy(target.listener->base_url(), dir + "/sequential.har",
                                    recorder::Durability::kFlushBehind);
    Recording durable = recording_proxy(target.listener->base_url(), dir + "/sequential-d.har",
                                        recorder::Durability::kSyncEach);
    std::printf("1 client x %d sequential requests%s:\n", sequential,
                one_cpu ? ", client, proxy and server on one CPU" : "");
    Run direct = workload(target.listener->port(), 1, sequential);
    Run proxied = workload(rec.proxy->port(), 1, sequential);
    Run synced = workload(durable.proxy->port(), 1, sequential);
    line("direct", direct);
    line("recording proxy", proxied);
    line("recording proxy, --durable (fsync each)", synced);
    std::printf("  added at p50: %.1f us (target <= 100 us); --durable: %.1f us\n\n",
                percentile(proxied, 0.5) - percentile(direct, 0.5),
                percentile(synced, 0.5) - percentile(direct, 0.5));
    rec.proxy->stop();
    durable.proxy->stop();
    (void)rec.writer->finish();
    (void)durable.writer->finish();
    if (one_cpu) sched_setaffinity(0, sizeof saved, &saved);
  }

  // 4. Replay server against the reference server, same workload; the cassette is that
  //    workload recorded through the proxy.
  if (wanted("replay") || wanted("load")) {
    std::string path = dir + "/replay.har";
    {
      Target target = reference_server();
      Recording rec =
          recording_proxy(target.listener->base_url(), path, recorder::Durability::kFlushBehind);
      (void)workload(rec.proxy->port(), clients, requests);
      rec.proxy->stop();
      if (auto s = rec.writer->finish(); !s.ok()) die(s.error().message);
    }
    auto cassette = recorder::read_cassette(path);
    if (!cassette.ok()) die(cassette.error().message);
    Target target = reference_server();
    recorder::ReplayServerOptions ro;
    ro.fixture = model::default_fixture();
    auto t0 = Clock::now();
    auto replay = recorder::ReplayServer::start(*cassette, ro);
    double start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!replay.ok()) die(replay.error().message);
    std::printf(
        "%d keep-alive clients x %d requests, replay server holding %zu entries "
        "(started in %.0f ms):\n",
        clients, requests, cassette->entries.size(), start_ms);
    Run reference = workload(target.listener->port(), clients, requests);
    Run replayed = workload((*replay)->port(), clients, requests);
    line("reference server", reference);
    line("replay server", replayed);
    std::printf("  replay/reference throughput: %.0f%% (target >= 80%%); unmatched %zu\n\n",
                100 * replayed.rate() / reference.rate(), (*replay)->misses());
  }

  // 5. Loading a large cassette.
  if (wanted("load")) {
    std::string path = dir + "/large.har";
    recorder::Cassette big;
    auto sample = recorder::read_cassette(dir + "/replay.har");
    if (!sample.ok() || sample->entries.empty()) die("no sample cassette");
    for (int i = 0; i < entries; ++i) {
      big.entries.push_back(sample->entries[static_cast<std::size_t>(i) % sample->entries.size()]);
    }
    if (auto s = recorder::write_cassette(path, big); !s.ok()) die(s.error().message);
    double best = 1e9;
    double best_cpu = 1e9;
    double best_index = 1e9;
    for (int round = 0; round < 5; ++round) {
      auto t0 = Clock::now();
      double c0 = cpu_seconds();
      auto loaded = recorder::read_cassette(path);
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      best_cpu = std::min(best_cpu, cpu_seconds() - c0);
      if (!loaded.ok() || loaded->entries.size() != static_cast<std::size_t>(entries)) {
        die("cassette did not load");
      }
      best = std::min(best, s);
      auto t1 = Clock::now();
      recorder::ReplayIndex index(loaded->entries, recorder::MatchSpec{});
      best_index = std::min(best_index, std::chrono::duration<double>(Clock::now() - t1).count());
    }
    std::printf(
        "loading a %d-entry cassette (%.1f MB): %.3f s wall, %.3f s CPU (target <= "
        "0.3 s); building its replay index: %.3f s\n",
        entries, static_cast<double>(std::filesystem::file_size(path)) / 1e6, best, best_cpu,
        best_index);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
