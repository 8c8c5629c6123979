// `patrol`: the command line. Dispatches to one subcommand per file (see commands.hpp).
#include <cstdio>
#include <iostream>
#include <string_view>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/version.hpp"

namespace patrol::app {
namespace {

constexpr Subcommand kSubcommands[] = {
    {"serve", "run the reference server (optionally with --fault NAME mutants)", run_serve},
    {"check", "property-based conformance run (default: embedded reference server)", run_check},
    {"sweep", "delete the tokens crashed patrol runs left on live accounts (nothing else)",
     run_sweep},
    {"mutants", "run the checks against every catalogued fault; print the kill matrix",
     run_mutants},
    {"record", "recording reverse proxy: capture traffic as a redacted HAR cassette", run_record},
    {"replay-server", "serve a cassette's recorded responses", run_replay_server},
    {"replay", "re-issue a cassette against a live target and diff the responses", run_replay},
    {"verify", "judge a recorded session against the contract, offline", run_verify},
    {"scan", "find unredacted secrets in files (a CI gate)", run_scan},
    {"linearize", "check a concurrent history (JSON) for linearizability against the model",
     run_linearize},
    {"version", "print patrol's version", run_version},
};

void print_help(std::ostream& out) {
  out << "patrol " << kVersion
      << ": conformance testing and fuzzing for the Docker Hub personal-access-token API\n\n"
         "usage: patrol <command> [options]\n"
         "       patrol <command> --help\n\n"
         "commands:\n";
  for (const auto& s : kSubcommands) {
    std::string name(s.name);
    out << "  " << name << std::string(name.size() < 16 ? 16 - name.size() : 1, ' ') << s.summary
        << "\n";
  }
  out << "\nexit codes: 0 ok/conforms, 1 violations found, 2 usage or configuration error,\n"
         "            3 target unreachable\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help(std::cerr);
    return kExitUsage;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_help(std::cout);
    return kExitOk;
  }
  if (cmd == "--version") return run_version(0, nullptr);
  for (const auto& s : kSubcommands) {
    if (s.name == cmd) return s.run(argc - 2, argv + 2);
  }
  std::cerr << "patrol: unknown command '" << cmd << "' (see patrol --help)\n";
  return kExitUsage;
}

}  // namespace patrol::app

int main(int argc, char** argv) { return patrol::app::main(argc, argv); }
