// A small command-line parser shared by every subcommand: declared options only, "--name value"
// or "--name=value", repeatable options, positionals, and errors that name the offending word.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace patrol::app {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitViolations = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct OptionSpec {
  std::string name;  // without dashes, e.g. "listen"
  bool takes_value = true;
  bool repeatable = false;
  std::string help;  // one line, shown by --help
  std::string metavar = "VALUE";
};

class Args {
 public:
  // Parses argv after the subcommand name. "--help"/"-h" is always accepted.
  static model::Result<Args> parse(const std::vector<OptionSpec>& specs, int argc, char** argv);

  bool has(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;
  std::vector<std::string> values(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  bool help() const { return help_; }

  // Parses an integer option; returns an error naming the option on garbage.
  model::Result<long long> integer(std::string_view name, long long fallback) const;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

// Formats the option table for a subcommand's --help.
std::string format_options(const std::vector<OptionSpec>& specs);

// Writes a subcommand's usage text (and, usually, its option table).
using Usage = std::function<void(std::ostream&)>;

// A subcommand's command line: the parsed Args, or the exit status when there is nothing more to
// do. A bad word prints "patrol NAME: <why>" and the usage on stderr (kExitUsage); --help prints
// the usage on stdout (kExitOk).
struct Invocation {
  std::optional<Args> args;
  int exit_status = kExitOk;
};
Invocation parse_command_line(std::string_view name, const std::vector<OptionSpec>& specs,
                              const Usage& usage, int argc, char** argv);

// Prints "patrol NAME: <message>" and the usage on stderr; returns kExitUsage.
int usage_failure(std::string_view name, std::string_view message, const Usage& usage);

}  // namespace patrol::app
