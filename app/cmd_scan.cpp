// `patrol scan`: a CI gate that fails when files hold unredacted secrets.
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "recorder/scan.hpp"

namespace patrol::app {

int run_scan(int argc, char** argv) {
  auto usage = [](std::ostream& out) {
    out << "usage: patrol scan PATH...\n\n"
           "Finds unredacted secret shapes (Docker PATs, signed JWTs, HTTP Basic and Bearer\n"
           "credentials) in files and directories (recursively, .git skipped; base64 bodies of\n"
           "HAR cassettes decoded). Exit status 1 when it finds one; secrets are never printed.\n";
  };
  auto invocation = parse_command_line("scan", {}, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (args->positionals().empty()) {
    return usage_failure("scan", "expected at least one path", usage);
  }
  auto findings = recorder::scan_paths(args->positionals());
  if (!findings.ok()) {
    std::cerr << "patrol scan: " << findings.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& f : *findings) {
    std::cout << f.path << ": " << f.location << ": unredacted " << recorder::to_string(f.shape)
              << " " << f.excerpt << "\n";
  }
  std::cout << "patrol scan: " << findings->size() << " unredacted secrets\n";
  return findings->empty() ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
