// `patrol replay`: re-issues a recorded session against a live target, substituting the uuids
// and secrets the target hands out, and diffs each response against the recording.
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "http/http_transport.hpp"
#include "recorder/cassette.hpp"
#include "recorder/diff.hpp"
#include "recorder/matcher.hpp"
#include "recorder/substitution.hpp"

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

// Headers that belong to the recorded connection, not to the request being re-issued.
bool is_connection_header(std::string_view name) {
  for (std::string_view n : {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                             "Keep-Alive", "Accept-Encoding", "Expect"}) {
    if (model::header_name_equal(name, n)) return true;
  }
  return false;
}

}  // namespace

int run_replay(int argc, char** argv) {
  auto args = Args::parse(kOptions, argc, argv);
  if (!args.ok()) {
    std::cerr << "patrol replay: " << args.error().message << "\n";
    usage(std::cerr);
    return kExitUsage;
  }
  if (args->help()) {
    usage(std::cout);
    return kExitOk;
  }
  auto target = args->value("target");
  if (args->positionals().size() != 1 || !target) {
    std::cerr << "patrol replay: expected one cassette and --target URL\n";
    usage(std::cerr);
    return kExitUsage;
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
  recorder::Substituter substituter(*fixture);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < cassette->entries.size(); ++i) {
    const auto& e = cassette->entries[i];
    model::HttpRequest request = substituter.apply(e.request);
    std::erase_if(request.headers.entries,
                  [](const auto& h) { return is_connection_header(h.first); });
    request.peer.clear();
    auto live = (*transport)->send(request);
    std::string where = "entry " + std::to_string(i) + " " + recorder::safe_target(e.request);
    if (!live.ok()) {
      std::cerr << "patrol replay: " << where << ": " << substituter.unapply(live.error().message)
                << "\n";
      return kExitUnreachable;
    }
    substituter.learn(e.response, *live);
    auto differences = recorder::diff_responses(substituter.apply(e.response), *live);
    if (differences.empty()) continue;
    ++differing;
    std::cout << where << ":\n";
    for (const auto& d : differences) {
      std::cout << "    " << d.where << ": recorded " << substituter.unapply(d.recorded)
                << ", live " << substituter.unapply(d.live) << "\n";
    }
  }
  std::cout << "patrol replay: " << cassette->entries.size() << " interactions re-issued to "
            << *target << ", " << differing << " differ\n";
  return differing == 0 ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
