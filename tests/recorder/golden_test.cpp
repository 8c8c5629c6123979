// Regression tests over the golden cassettes in corpora/cassettes/ (recorded from the reference
// server by scripts/record-golden): each must stay valid and clean of secrets, pass offline
// verification, replay against a fresh reference server without differences, and be served back
// by the replay server to the same scripted client. A behaviour change of the server or the model
// shows up here as a failing test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "http/http_transport.hpp"
#include "recorder/replay_server.hpp"
#include "recorder/replayer.hpp"
#include "recorder/scan.hpp"
#include "recorder/verify.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"
#include "tests/recorder/har_validator.hpp"
#include "tests/recorder/sessions.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(PATROL_CASSETTE_DIR, ec)) {
    if (e.path().extension() == ".har") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

TEST(GoldenCassettes, EverySessionHasOne) {
  auto files = golden_files();
  for (const auto& s : testing::golden_sessions()) {
    EXPECT_NE(std::find_if(files.begin(), files.end(),
                           [&](const std::string& f) { return stem(f) == s.name; }),
              files.end())
        << s.name << ".har is missing from " << PATROL_CASSETTE_DIR
        << " (run scripts/record-golden)";
  }
}

class Golden : public ::testing::TestWithParam<std::string> {
 protected:
  Cassette load() {
    auto c = read_cassette(GetParam());
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : Cassette{};
  }
};

TEST_P(Golden, IsValidHarWithoutSecrets) {
  auto doc = nlohmann::json::parse(testing::read_all(GetParam()));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  auto found = scan_paths({GetParam()});
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty()) << (*found)[0].location;
}

TEST_P(Golden, VerifiesWithoutViolations) {
  Cassette c = load();
  ASSERT_FALSE(c.entries.empty());
  auto report = verify_cassette(c, model::Profile::hub(), model::default_fixture());
  EXPECT_GT(report.judged, 0u);
  for (const auto& f : report.findings) {
    ADD_FAILURE() << "entry " << f.entry << " " << f.target << ": rule " << f.violation.rule << ": "
                  << f.violation.message;
  }
}

TEST_P(Golden, ReplaysAgainstTheReferenceServerWithoutDifferences) {
  Cassette c = load();
  server::ServerOptions so;
  so.manual_clock = true;
  auto core = server::ServerCore::create(so);
  ASSERT_TRUE(core.ok());
  auto listener = server::Listener::start(**core);
  ASSERT_TRUE(listener.ok());
  http::HttpTransportOptions to;
  to.base_url = (*listener)->base_url();
  auto transport = http::HttpTransport::create(to);
  ASSERT_TRUE(transport.ok());
  auto report = replay_session(c, **transport, model::default_fixture());
  EXPECT_EQ(report.sent, c.entries.size());
  EXPECT_FALSE(report.transport_error.has_value());
  for (const auto& d : report.differing) {
    for (const auto& x : d.differences) {
      ADD_FAILURE() << "entry " << d.entry << " " << d.target << ": " << x.where << ": recorded "
                    << x.recorded << ", live " << x.live;
    }
  }
}

TEST_P(Golden, ReplayServerAnswersTheRecordedClientInOrder) {
  Cassette c = load();
  auto session = std::find_if(testing::golden_sessions().begin(), testing::golden_sessions().end(),
                              [&](const auto& s) { return stem(GetParam()) == s.name; });
  if (session == testing::golden_sessions().end()) GTEST_SKIP() << "no script for this cassette";
  ReplayServerOptions ro;
  ro.fixture = model::default_fixture();
  auto server = ReplayServer::start(c, ro);
  ASSERT_TRUE(server.ok());
  {
    http::HttpTransportOptions to;
    to.base_url = (*server)->url();
    auto transport = http::HttpTransport::create(to);
    ASSERT_TRUE(transport.ok());
    testing::SessionDriver driver(**transport, model::default_fixture());
    session->run(driver);
    EXPECT_TRUE(driver.errors().empty());
  }
  EXPECT_EQ((*server)->misses(), 0u);
  EXPECT_EQ((*server)->unused(), std::vector<std::size_t>{});
}

INSTANTIATE_TEST_SUITE_P(Cassettes, Golden, ::testing::ValuesIn(golden_files()),
                         [](const auto& info) { return stem(info.param); });

}  // namespace
}  // namespace patrol::recorder
