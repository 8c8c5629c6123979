// Offline verification of a recorded session: every interaction is judged by the model's oracle
// (the same one live runs use), in recorded order, with time taken from the recording.
// Placeholders are substituted with stable stand-ins first (declared passwords and codes with the
// fixture's), so cross-references between entries are judged as they happened.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/fixture.hpp"
#include "model/oracle.hpp"
#include "model/profile.hpp"
#include "recorder/cassette.hpp"

namespace patrol::recorder {

struct VerifyFinding {
  std::size_t entry = 0;
  std::string target;  // "POST /v2/access-tokens", secrets masked
  model::Violation violation;
};

struct VerifyReport {
  std::size_t judged = 0;   // interactions given to the oracle
  std::size_t skipped = 0;  // patrol's own control routes (/_patrol/...)
  std::vector<VerifyFinding> findings;
};

// Judges a cassette. The instant of each exchange is its recorded start plus duration, shifted by
// the reference server's manual clock whenever a /_patrol/clock response reports it.
VerifyReport verify_cassette(const Cassette& cassette, const model::Profile& profile,
                             const model::Fixture& fixture);

}  // namespace patrol::recorder
