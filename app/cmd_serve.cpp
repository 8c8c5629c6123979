// `patrol serve`: the reference server on the network, optionally with faults (mutants) switched
// on. Prints the address it listens on as its one stdout line; Ctrl-C or SIGTERM stops it
// gracefully (in-flight requests finish) with exit status 0.
#include <charconv>
#include <iomanip>
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "server/core.hpp"
#include "server/faults.hpp"
#include "server/listener.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"listen", true, false, "address to serve on (default 127.0.0.1:8080; port 0 picks one)",
     "ADDR:PORT"},
    {"tls-cert", true, false, "serve HTTPS with this PEM certificate (needs --tls-key)", "FILE"},
    {"tls-key", true, false, "PEM private key of --tls-cert", "FILE"},
    {"fixture", true, false, "accounts and repositories as JSON (default: alice and bob)", "FILE"},
    {"profile", true, false, "response shapes: hub (default) or spec", "NAME"},
    {"fault", true, true, "switch on a defect from the catalogue", "NAME"},
    {"list-faults", false, false, "print the fault catalogue and exit"},
    {"rate-limit", true, false, "requests per minute per account, then 429 (default: off)", "N"},
    {"clock", true, false,
     "system (default) or manual: time moves only by POST /_patrol/clock {\"advance_seconds\":N}",
     "KIND"},
    {"threads", true, false, "connections served at once (default 32)", "N"},
};

void usage(std::ostream& out) {
  out << "usage: patrol serve [--listen ADDR:PORT] [--fault NAME]... [options]\n"
         "       patrol serve --list-faults\n\n"
         "Runs the reference implementation of the Docker Hub PAT contract: /v2/access-tokens,\n"
         "/v2/auth/token, /v2/users/login, /v2/users/2fa-login and the registry token service\n"
         "/token. Prints \"listening on URL\" once ready; Ctrl-C or SIGTERM stops it.\n\n"
      << format_options(kOptions);
}

void list_faults(std::ostream& out) {
  std::size_t width = 0;
  for (const auto& f : server::fault_catalogue()) width = std::max(width, f.name.size());
  for (const auto& f : server::fault_catalogue()) {
    out << std::left << std::setw(static_cast<int>(width + 2)) << f.name << std::setw(8)
        << ("[" + std::string(f.section) + "]") << f.description << "\n";
  }
}

struct ListenAddress {
  std::string host;
  int port = 0;
};

model::Result<ListenAddress> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return model::make_error(model::ErrorKind::kInvalid,
                             "--listen '" + text + "': " + why + " (expected ADDR:PORT)");
  };
  if (colon == std::string::npos) return bad("no port");
  ListenAddress out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return bad("no address");
  std::string port = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return bad("port must be 0..65535");
  }
  return out;
}

}  // namespace

int run_serve(int argc, char** argv) {
  auto invocation = parse_command_line("serve", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (!args->positionals().empty()) {
    std::cerr << "patrol serve: unexpected argument '" << args->positionals()[0] << "'\n";
    return kExitUsage;
  }
  if (args->has("list-faults")) {
    list_faults(std::cout);
    return kExitOk;
  }

  auto fail = [](const std::string& message) {
    std::cerr << "patrol serve: " << message << "\n";
    return kExitUsage;
  };
  auto listen = parse_listen(args->value("listen").value_or("127.0.0.1:8080"));
  if (!listen.ok()) return fail(listen.error().message);
  auto fixture = load_fixture(args->value("fixture"));
  if (!fixture.ok()) return fail("--fixture " + fixture.error().message);
  auto rate = args->integer("rate-limit", 0);
  if (!rate.ok()) return fail(rate.error().message);
  if (*rate < 0 || *rate > 1'000'000) return fail("--rate-limit must be 0..1000000");
  auto threads = args->integer("threads", 32);
  if (!threads.ok()) return fail(threads.error().message);
  if (*threads < 1 || *threads > 4096) return fail("--threads must be 1..4096");
  std::string clock = args->value("clock").value_or("system");
  if (clock != "system" && clock != "manual") {
    return fail("--clock: expected 'system' or 'manual', got '" + clock + "'");
  }
  if (args->has("tls-cert") != args->has("tls-key")) {
    return fail("--tls-cert and --tls-key go together");
  }

  server::ServerOptions options;
  options.fixture = std::move(fixture).value();
  options.profile = args->value("profile").value_or("hub");
  options.faults = args->values("fault");
  options.rate_limit_per_minute = static_cast<int>(*rate);
  options.manual_clock = clock == "manual";
  auto core = server::ServerCore::create(std::move(options));
  if (!core.ok()) return fail(core.error().message);

  server::ListenerOptions lo;
  lo.host = listen->host;
  lo.port = listen->port;
  lo.tls_cert_file = args->value("tls-cert");
  lo.tls_key_file = args->value("tls-key");
  lo.threads = static_cast<std::size_t>(*threads);

  // Signals are blocked before the listener starts its threads, so only sigwait sees them.
  block_stop_signals();
  auto listener = server::Listener::start(**core, std::move(lo));
  if (!listener.ok()) return fail(listener.error().message);

  const auto& o = (*core)->options();
  std::string faults;
  for (const auto& name : (*core)->faults().names()) faults += (faults.empty() ? "" : ", ") + name;
  std::string accounts;
  for (const auto& a : o.fixture.accounts) accounts += (accounts.empty() ? "" : ", ") + a.username;
  std::cerr << "patrol serve: profile " << o.profile << "; clock " << clock << "; rate limit "
            << (o.rate_limit_per_minute > 0 ? std::to_string(o.rate_limit_per_minute) + "/min"
                                            : std::string("off"))
            << "; accounts " << accounts << "; faults " << (faults.empty() ? "none" : faults)
            << "\n";
  std::cout << "listening on " << (*listener)->base_url() << std::endl;

  const char* sig = wait_for_stop_signal();
  (*listener)->stop();
  std::cerr << "patrol serve: " << sig << ": stopped\n";
  return kExitOk;
}

}  // namespace patrol::app
