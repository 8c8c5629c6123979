// The table of `patrol` subcommands. Each subcommand lives in its own cmd_<name>.cpp and exposes
// one entry function; main.cpp dispatches on the first argument.
#pragma once

#include <string_view>

namespace patrol::app {

struct Subcommand {
  std::string_view name;
  std::string_view summary;           // one line for `patrol --help`
  int (*run)(int argc, char** argv);  // argv after the subcommand name
};

// Entry points, one per cmd_<name>.cpp. Add the declaration here and a row in main.cpp.
int run_version(int argc, char** argv);
int run_serve(int argc, char** argv);
int run_check(int argc, char** argv);
int run_sweep(int argc, char** argv);
int run_mutants(int argc, char** argv);
int run_record(int argc, char** argv);
int run_replay_server(int argc, char** argv);
int run_replay(int argc, char** argv);
int run_verify(int argc, char** argv);
int run_scan(int argc, char** argv);
int run_linearize(int argc, char** argv);

}  // namespace patrol::app
