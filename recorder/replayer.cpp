#include "recorder/replayer.hpp"

#include "recorder/matcher.hpp"
#include "recorder/substitution.hpp"

namespace patrol::recorder {

namespace {

// Headers of the recorded connection, not of the request being re-issued.
bool is_connection_header(std::string_view name) {
  for (std::string_view n : {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                             "Keep-Alive", "Accept-Encoding", "Expect"}) {
    if (model::header_name_equal(name, n)) return true;
  }
  return false;
}

}  // namespace

ReplayReport replay_session(const Cassette& cassette, http::Transport& transport,
                            const model::Fixture& fixture) {
  ReplayReport report;
  Substituter substituter(fixture);
  for (std::size_t i = 0; i < cassette.entries.size(); ++i) {
    const auto& e = cassette.entries[i];
    model::HttpRequest request = substituter.apply(e.request);
    std::erase_if(request.headers.entries,
                  [](const auto& h) { return is_connection_header(h.first); });
    request.peer.clear();
    auto live = transport.send(request);
    ++report.sent;
    if (!live.ok()) {
      model::Error err = live.error();
      err.message = substituter.unapply(err.message);
      report.transport_error = err;
      report.failed_entry = i;
      return report;
    }
    substituter.learn(e.response, *live);
    auto differences = diff_responses(substituter.apply(e.response), *live);
    if (differences.empty()) continue;
    for (auto& d : differences) {
      d.recorded = substituter.unapply(d.recorded);
      d.live = substituter.unapply(d.live);
    }
    report.differing.push_back({i, safe_target(e.request), std::move(differences)});
  }
  return report;
}

}  // namespace patrol::recorder
