// `patrol verify`: judges a recorded session with the model's oracle, offline.
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "model/profile.hpp"
#include "recorder/verify.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"profile", true, false, "hub (default) or spec", "NAME"},
    {"fixture", true, false, "accounts and repositories of the recorded target", "FILE"},
};

void usage(std::ostream& out) {
  out << "usage: patrol verify FILE.har [--profile hub|spec] [--fixture FILE]\n\n"
         "Judges every recorded interaction against the contract, in order, and prints each\n"
         "violation with its entry index and rule. Exit status 1 when there is one.\n\n"
      << format_options(kOptions);
}

}  // namespace

int run_verify(int argc, char** argv) {
  auto invocation = parse_command_line("verify", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (args->positionals().size() != 1) {
    return usage_failure("verify", "expected exactly one cassette", usage);
  }
  const std::string& file = args->positionals()[0];
  auto profile = model::profile_by_name(args->value("profile").value_or("hub"));
  if (!profile.ok()) {
    std::cerr << "patrol verify: --profile: " << profile.error().message << "\n";
    return kExitUsage;
  }
  auto fixture = load_fixture(args->value("fixture"));
  if (!fixture.ok()) {
    std::cerr << "patrol verify: " << fixture.error().message << "\n";
    return kExitUsage;
  }
  auto cassette = recorder::read_cassette(file);
  if (!cassette.ok()) {
    std::cerr << "patrol verify: " << cassette.error().message << "\n";
    return kExitUsage;
  }
  auto report = recorder::verify_cassette(*cassette, *profile, *fixture);
  for (const auto& f : report.findings) {
    std::cout << "entry " << f.entry << " " << f.target << ": rule " << f.violation.rule << ": "
              << f.violation.message << "\n";
    if (!f.violation.excerpt.empty()) std::cout << "    " << f.violation.excerpt << "\n";
  }
  std::cout << "patrol verify: " << file << ": " << report.judged << " interactions judged ("
            << profile->name << " profile), " << report.findings.size() << " violations\n";
  return report.findings.empty() ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
