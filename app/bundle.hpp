// The repro bundle `patrol check` writes for a failing run: the shrunk sequence as a redacted HAR
// cassette with the fixture it ran against (credentials as placeholders), a generated GoogleTest
// file that replays the cassette offline against the model, and a curl script.
#pragma once

#include <string>
#include <vector>

#include "model/fixture.hpp"
#include "properties/report.hpp"
#include "properties/session.hpp"

namespace patrol::app {

// Writes cassette.har, fixture.json, repro_test.cpp, repro.sh and README.txt into `dir` (created
// if missing). Nothing written holds a credential: all of it goes through the recorder's redactor.
model::Status write_repro_bundle(const std::string& dir, const properties::RunSummary& summary,
                                 const std::vector<properties::Step>& steps,
                                 const model::Fixture& fixture);

// The fixture with every password and second-factor code replaced by the placeholder the
// recorder's redactor writes for it, so offline judging of a cassette sees consistent values.
model::Fixture placeholder_fixture(const model::Fixture& fixture);

}  // namespace patrol::app
