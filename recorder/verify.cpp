#include "recorder/verify.hpp"

#include <cmath>

#include "model/rfc3339.hpp"
#include "model/state.hpp"
#include "recorder/matcher.hpp"
#include "recorder/substitution.hpp"

namespace patrol::recorder {

namespace {

constexpr std::string_view kControlPrefix = "/_patrol/";

// The server time a /_patrol/clock response reports, if it is one.
std::optional<model::Timestamp> reported_clock(const Interaction& e) {
  if (e.request.path.rfind("/_patrol/clock", 0) != 0 || e.response.status != 200) {
    return std::nullopt;
  }
  auto body = model::Json::parse(e.response.body, nullptr, false);
  if (!body.is_object() || !body.contains("now") || !body["now"].is_string()) return std::nullopt;
  auto ts = model::parse_rfc3339(body["now"].get<std::string>());
  if (!ts.ok()) return std::nullopt;
  return *ts;
}

model::Timestamp arrival(const Interaction& e) {
  double ms = std::isfinite(e.duration_ms) && e.duration_ms > 0 ? e.duration_ms : 0;
  return model::Timestamp{e.started.micros + static_cast<std::int64_t>(ms * 1000)};
}

}  // namespace

VerifyReport verify_cassette(const Cassette& cassette, const model::Profile& profile,
                             const model::Fixture& fixture) {
  VerifyReport report;
  Substituter substituter(fixture);
  model::Timestamp start =
      cassette.entries.empty() ? model::Timestamp{} : cassette.entries.front().started;
  std::int64_t offset = 0;  // server clock minus recorded clock
  if (!cassette.entries.empty()) {
    // A manual clock reported later was frozen since the start: the first report sets the offset
    // for the entries before it too.
    for (const auto& e : cassette.entries) {
      if (auto clock = reported_clock(e)) {
        offset = clock->micros - arrival(e).micros;
        break;
      }
    }
  }
  model::ModelState state(fixture, model::Timestamp{start.micros + offset - 1'000'000});
  for (std::size_t i = 0; i < cassette.entries.size(); ++i) {
    const Interaction& e = cassette.entries[i];
    if (auto clock = reported_clock(e)) offset = clock->micros - arrival(e).micros;
    if (e.request.path.rfind(kControlPrefix, 0) == 0) {
      ++report.skipped;
      continue;
    }
    model::HttpRequest request = substituter.apply(e.request);
    model::HttpResponse response = substituter.apply(e.response);
    model::Timestamp now{arrival(e).micros + offset};
    auto violations = model::judge_in_place(state, request, response, now, profile);
    ++report.judged;
    for (auto& v : violations) {
      v.message = substituter.unapply(v.message);
      v.excerpt = substituter.unapply(v.excerpt);
      report.findings.push_back({i, safe_target(e.request), std::move(v)});
    }
  }
  return report;
}

}  // namespace patrol::recorder
