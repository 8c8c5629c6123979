// `patrol replay`: re-issues a recorded session against a live target, substituting the uuids
// and secrets the target hands out, and diffs each response against the recording.
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "http/http_transport.hpp"
#include "recorder/cassette.hpp"
#include "recorder/replayer.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"target", true, false, "where to re-issue the requests (http:// or https:// URL)", "URL"},
    {"fixture", true, false, "accounts whose passwords/codes replace named placeholders", "FILE"},
    {"ca-file", true, false, "PEM bundle to verify an https target", "FILE"},
};

void usage(std::ostream& out) {
  out << "usage: patrol replay FILE.har --target URL [--fixture FILE]\n\n"
         "Re-issues the recorded requests in order, substituting uuids and secrets learned from\n"
         "the new responses, and compares each response with the recording after normalising\n"
         "uuids, timestamps, secrets and the client address. Exit status 1 on any difference.\n\n"
      << format_options(kOptions);
}

}  // namespace

int run_replay(int argc, char** argv) {
  auto invocation = parse_command_line("replay", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  auto target = args->value("target");
  if (args->positionals().size() != 1 || !target) {
    return usage_failure("replay", "expected one cassette and --target URL", usage);
  }
  const std::string& file = args->positionals()[0];
  auto fixture = load_fixture(args->value("fixture"));
  if (!fixture.ok()) {
    std::cerr << "patrol replay: " << fixture.error().message << "\n";
    return kExitUsage;
  }
  auto cassette = recorder::read_cassette(file);
  if (!cassette.ok()) {
    std::cerr << "patrol replay: " << cassette.error().message << "\n";
    return kExitUsage;
  }
  http::HttpTransportOptions to;
  to.base_url = *target;
  to.ca_file = args->value("ca-file");
  auto transport = http::HttpTransport::create(to);
  if (!transport.ok()) {
    std::cerr << "patrol replay: --target: " << transport.error().message << "\n";
    return kExitUsage;
  }
  auto report = recorder::replay_session(*cassette, **transport, *fixture);
  for (const auto& d : report.differing) {
    std::cout << "entry " << d.entry << " " << d.target << ":\n";
    for (const auto& x : d.differences) {
      std::cout << "    " << x.where << ": recorded " << x.recorded << ", live " << x.live << "\n";
    }
  }
  if (report.transport_error) {
    std::cerr << "patrol replay: entry " << report.failed_entry << ": "
              << report.transport_error->message << "\n";
    return kExitUnreachable;
  }
  std::cout << "patrol replay: " << report.sent << " interactions re-issued to " << *target << ", "
            << report.differing.size() << " differ\n";
  return report.differing.empty() ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
