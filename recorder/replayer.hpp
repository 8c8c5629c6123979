// Re-issuing a recorded session against a live target (`patrol replay`): requests in recorded
// order with placeholders and uuids substituted by what the target handed out, each response
// diffed against the recording after normalisation (diff.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "http/transport.hpp"
#include "model/fixture.hpp"
#include "recorder/cassette.hpp"
#include "recorder/diff.hpp"

namespace patrol::recorder {

struct ReplayedEntry {
  std::size_t entry = 0;
  std::string target;  // secrets masked
  std::vector<Difference> differences;
};

struct ReplayReport {
  std::size_t sent = 0;
  std::vector<ReplayedEntry> differing;         // only entries with differences
  std::optional<model::Error> transport_error;  // the run stops at the first one
  std::size_t failed_entry = 0;                 // entry of transport_error
};

// Re-issues every interaction through `transport`. Messages never show a secret: fixture
// passwords and learned values are mapped back to their placeholders.
ReplayReport replay_session(const Cassette& cassette, http::Transport& transport,
                            const model::Fixture& fixture);

}  // namespace patrol::recorder
