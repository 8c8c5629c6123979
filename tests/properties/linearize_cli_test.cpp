// `patrol check --parallel` and `patrol linearize` as processes: exit codes, the redacted
// history and timelines a failing parallel run leaves, and the standalone check of that file.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "history_builder.hpp"
#include "properties/linearizability.hpp"

namespace patrol::properties {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/patrol-linearize-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome patrol(const std::string& args) {
    const fs::path out = dir_ / "stdout";
    const fs::path err = dir_ / "stderr";
    const std::string cmd = "cd " + dir_.string() + " && " + PATROL_BIN + " " + args + " > " +
                            out.string() + " 2> " + err.string();
    Outcome r;
    const int raw = std::system(cmd.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path dir_;
};

TEST_F(Cli, AFailingParallelRunLeavesARedactedHistoryThatLinearizeRejects) {
  Outcome check =
      patrol("check --parallel 3 --fault lost-update-patch --seed 7 --runs 40 --bundle b");
  ASSERT_EQ(check.status, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("FAILED"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("reproduce"), std::string::npos) << check.out;
  const std::string history = slurp(dir_ / "b" / "history.json");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.find(testing::kAlicePassword), std::string::npos);
  EXPECT_EQ(history.find(testing::kBobPassword), std::string::npos);
  for (std::size_t p = history.find("dckr_pat_"); p != std::string::npos;
       p = history.find("dckr_pat_", p + 1)) {
    EXPECT_EQ(history.compare(p + 9, 16, "<<patrol:secret:"), 0) << history.substr(p, 40);
  }
  EXPECT_NE(slurp(dir_ / "b" / "timeline.html").find("class=\"op stuck\""), std::string::npos);
  // The project's secret scan finds nothing in what the run wrote.
  Outcome scan = patrol("scan b");
  EXPECT_EQ(scan.status, 0) << scan.out << scan.err;
  EXPECT_NE(slurp(dir_ / "b" / "timeline.txt").find("no explanation places this"),
            std::string::npos);

  Outcome lin = patrol("linearize b/history.json --html t.html --json v.json");
  ASSERT_EQ(lin.status, 1) << lin.out << lin.err;
  EXPECT_EQ(lin.out.rfind("not linearizable: ", 0), 0u) << lin.out;
  EXPECT_NE(slurp(dir_ / "t.html").find("<div class=\"lane\">"), std::string::npos);
  auto verdict = model::Json::parse(slurp(dir_ / "v.json"), nullptr, false);
  ASSERT_TRUE(verdict.is_object());
  EXPECT_EQ(verdict.value("verdict", ""), "not linearizable");
  EXPECT_TRUE(verdict["counterexample"].is_object());

  Outcome bounded = patrol("linearize b/history.json --time-limit 0");
  EXPECT_EQ(bounded.status, 4) << bounded.out << bounded.err;
  EXPECT_EQ(bounded.out.rfind("unknown: ", 0), 0u) << bounded.out;
}

TEST_F(Cli, TheUnfaultedServerPassesParallelRuns) {
  Outcome check = patrol("check --parallel 2 --runs 10 --seed 3");
  ASSERT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("every history was linearizable"), std::string::npos) << check.out;
}

TEST_F(Cli, LinearizeAcceptsALinearizableHistoryAndNamesBadInput) {
  testing::HistoryBuilder b;
  auto jwt = b.login_alice(0, 0, 10);
  auto [uuid, secret] = b.create(0, 20, 30, jwt);
  b.patch(1, 40, 60, jwt, uuid, {{"token_label", "a"}});
  b.get(2, 50, 70, jwt, uuid);
  {
    std::ofstream f(dir_ / "ok.json");
    f << encode_history(redact_history(b.history)).dump(2);
  }
  Outcome ok = patrol("linearize ok.json");
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out.rfind("linearizable: 4 operations", 0), 0u) << ok.out;

  Outcome missing = patrol("linearize nothing-here.json");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("nothing-here.json"), std::string::npos) << missing.err;

  {
    std::ofstream f(dir_ / "bad.json");
    f << R"({"format":"patrol-history/1","operations":[{"client":0}]})";
  }
  Outcome bad = patrol("linearize bad.json");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("bad.json: operations[0].invoke_ns: required"), std::string::npos)
      << bad.err;

  Outcome usage = patrol("linearize");
  EXPECT_EQ(usage.status, 2);
  Outcome limit = patrol("linearize ok.json --time-limit soon");
  EXPECT_EQ(limit.status, 2);
  EXPECT_NE(limit.err.find("--time-limit 'soon'"), std::string::npos) << limit.err;
}

}  // namespace
}  // namespace patrol::properties
