// Helpers shared by the recorder subcommands (record, replay-server, replay, verify): loading a
// fixture file, and waiting for Ctrl-C / SIGTERM without a signal handler.
#pragma once

#include <optional>
#include <string>

#include "model/fixture.hpp"
#include "model/result.hpp"

namespace patrol::app {

// Reads a fixture file, or returns the default fixture when no path is given. Errors name the
// file and the JSON path.
model::Result<model::Fixture> load_fixture(const std::optional<std::string>& path);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards; call
// before starting servers, then wait_for_stop_signal().
void block_stop_signals();

// Waits for SIGINT or SIGTERM (blocked by block_stop_signals) and returns its name.
const char* wait_for_stop_signal();

}  // namespace patrol::app
