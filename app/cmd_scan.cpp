// `patrol scan`: a CI gate that fails when files hold unredacted secrets.
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "recorder/scan.hpp"

namespace patrol::app {

int run_scan(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"allow", true, true,
       "known, deliberate findings (fake secrets in test data): one fingerprint per line, as "
       "printed after each finding",
       "FILE"},
  };
  auto usage = [&](std::ostream& out) {
    out << "usage: patrol scan [--allow FILE] PATH...\n\n"
           "Finds unredacted secret shapes (Docker PATs, signed JWTs, HTTP Basic and Bearer\n"
           "credentials) in files and directories (recursively, .git skipped; base64 bodies of\n"
           "HAR cassettes decoded). Exit status 1 when it finds one that is not allowed; secrets\n"
           "are never printed, only a masked excerpt and a fingerprint (path, shape, SHA-256\n"
           "prefix of the secret).\n\n"
        << format_options(specs);
  };
  auto invocation = parse_command_line("scan", specs, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (args->positionals().empty()) {
    return usage_failure("scan", "expected at least one path", usage);
  }
  std::set<std::string> allowed;
  for (const auto& file : args->values("allow")) {
    auto list = recorder::read_scan_allowlist(file);
    if (!list.ok()) {
      std::cerr << "patrol scan: --allow " << list.error().message << "\n";
      return kExitUsage;
    }
    allowed.merge(*list);
  }
  auto findings = recorder::scan_paths(args->positionals());
  if (!findings.ok()) {
    std::cerr << "patrol scan: " << findings.error().message << "\n";
    return kExitUsage;
  }
  std::size_t leaks = 0;
  std::set<std::string> used;
  for (const auto& f : *findings) {
    bool ok = allowed.count(f.fingerprint) != 0;
    if (ok) {
      used.insert(f.fingerprint);
    } else {
      ++leaks;
    }
    std::cout << f.path << ": " << f.location << ": " << (ok ? "allowed" : "unredacted") << " "
              << recorder::to_string(f.shape) << " " << f.excerpt << " [" << f.fingerprint << "]\n";
  }
  // A stale entry allows nothing, but says that the allowlist no longer describes the files.
  for (const auto& a : allowed) {
    if (used.count(a) == 0)
      std::cout << "patrol scan: allowlist entry matched nothing: " << a << "\n";
  }
  std::cout << "patrol scan: " << leaks << " unredacted secrets";
  if (findings->size() > leaks) std::cout << " (" << findings->size() - leaks << " allowed)";
  std::cout << "\n";
  return leaks == 0 ? kExitOk : kExitViolations;
}

}  // namespace patrol::app
