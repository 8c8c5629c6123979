// `patrol replay-server`: serves a cassette's recorded responses until Ctrl-C or SIGTERM, then
// reports the interactions nobody asked for.
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "recorder/matcher.hpp"
#include "recorder/replay_server.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"listen", true, false, "address to serve on (default 127.0.0.1:0, a free port)", "ADDR"},
    {"match", true, false,
     "what identifies a request: method,path,query,body,header:NAME (default "
     "method,path,query,body)",
     "LIST"},
    {"fixture", true, false, "accounts whose passwords stand in for named placeholders", "FILE"},
    {"threads", true, false, "connections served at once (default 64)", "N"},
};

void usage(std::ostream& out) {
  out << "usage: patrol replay-server FILE.har [--listen ADDR] [--match LIST]\n\n"
         "Serves the recorded responses: identical requests get theirs in recorded order; a\n"
         "request nothing matches gets a 501 naming the nearest recorded request. Ctrl-C or\n"
         "SIGTERM stops it and lists the interactions never served. Exit status 1 when a request\n"
         "went unmatched.\n\n"
      << format_options(kOptions);
}

}  // namespace

int run_replay_server(int argc, char** argv) {
  auto invocation = parse_command_line("replay-server", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (args->positionals().size() != 1) {
    return usage_failure("replay-server", "expected exactly one cassette", usage);
  }
  const std::string& file = args->positionals()[0];
  recorder::ReplayServerOptions options;
  auto listen = recorder::parse_listen_address(args->value("listen").value_or("127.0.0.1:0"));
  auto match = args->value("match") ? recorder::MatchSpec::parse(*args->value("match"))
                                    : model::Result<recorder::MatchSpec>(recorder::MatchSpec{});
  auto fixture = load_fixture(args->value("fixture"));
  auto threads = args->integer("threads", 64);
  for (const model::Error* e :
       {listen.ok() ? nullptr : &listen.error(), match.ok() ? nullptr : &match.error(),
        fixture.ok() ? nullptr : &fixture.error(), threads.ok() ? nullptr : &threads.error()}) {
    if (e != nullptr) {
      std::cerr << "patrol replay-server: " << e->message << "\n";
      return kExitUsage;
    }
  }
  if (*threads < 1 || *threads > 4096) {
    std::cerr << "patrol replay-server: --threads must be 1..4096\n";
    return kExitUsage;
  }
  auto cassette = recorder::read_cassette(file);
  if (!cassette.ok()) {
    std::cerr << "patrol replay-server: " << cassette.error().message << "\n";
    return kExitUsage;
  }
  options.listen = *listen;
  options.match = *match;
  options.fixture = *fixture;
  options.threads = static_cast<std::size_t>(*threads);
  options.on_miss = [](const std::string& message) {
    std::cerr << "patrol replay-server: unmatched: " + message + "\n" << std::flush;
  };
  block_stop_signals();
  auto server = recorder::ReplayServer::start(*cassette, std::move(options));
  if (!server.ok()) {
    std::cerr << "patrol replay-server: " << server.error().message << "\n";
    return kExitUsage;
  }
  std::cout << "patrol replay-server: serving " << cassette->entries.size() << " interactions from "
            << file << " on " << (*server)->url() << std::endl;
  const char* sig = wait_for_stop_signal();
  (*server)->stop();
  auto unused = (*server)->unused();
  std::cout << "patrol replay-server: " << sig << ": " << (cassette->entries.size() - unused.size())
            << " of " << cassette->entries.size() << " interactions served, " << (*server)->misses()
            << " requests unmatched\n";
  if (!unused.empty()) {
    std::cout << "unused interactions:\n";
    for (std::size_t i : unused) {
      std::cout << "  entry " << i << ": " << recorder::safe_target(cassette->entries[i].request)
                << " -> " << cassette->entries[i].response.status << "\n";
    }
  }
  return (*server)->misses() > 0 ? kExitViolations : kExitOk;
}

}  // namespace patrol::app
