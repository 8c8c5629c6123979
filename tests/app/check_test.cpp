// `patrol check`'s runner against the embedded reference server: the unfaulted server conforms
// (two independent implementations of the contract agree), a fault is caught with the rule it
// breaks, the counterexample is shrunk, and its reproduce token replays the same failure.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/bundle.hpp"
#include "app/targets.hpp"
#include "properties/runner.hpp"

namespace patrol::app {
namespace {

std::unique_ptr<properties::Target> embedded(std::vector<std::string> faults, bool in_process) {
  EmbeddedOptions eo;
  eo.server.faults = std::move(faults);
  eo.in_process = in_process;
  auto t = make_embedded_target(std::move(eo));
  EXPECT_TRUE(t.ok()) << t.error().message;
  return std::move(*t);
}

properties::CheckOptions options(std::uint64_t seed, int runs) {
  properties::CheckOptions o;
  o.seed = seed;
  o.runs = runs;
  o.max_steps = 30;
  return o;
}

std::string describe(const properties::RunSummary& s) {
  std::string out;
  for (const auto& line : s.transcript) out += line + "\n";
  for (const auto& v : s.violations) out += "[" + v.rule + "] " + v.message + "\n";
  return out;
}

TEST(Check, TheUnfaultedServerConformsInProcess) {
  auto target = embedded({}, true);
  auto result = properties::run_check(*target, options(1, 60));
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_FALSE(result.summary.failed) << describe(result.summary);
  EXPECT_EQ(result.summary.runs_passed, 60);
  // A run of this size reaches every rule of the contract.
  for (const auto& rule : properties::rule_catalogue()) {
    EXPECT_GT(result.summary.coverage.rules[rule.id], 0) << "rule " << rule.id;
  }
  EXPECT_GT(result.summary.coverage.route_status["E3 404"], 0);
  EXPECT_GT(result.summary.coverage.route_status["R1 200"], 0);
}

TEST(Check, TheUnfaultedServerConformsOverLoopback) {
  auto target = embedded({}, false);
  auto result = properties::run_check(*target, options(2, 15));
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_FALSE(result.summary.failed) << describe(result.summary);
}

TEST(Check, ACoLocatedLoopbackRunSharesOneCpuAndGivesTheRunnerItsCpusBack) {
  cpu_set_t before;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
  {
    EmbeddedOptions eo;
    eo.co_locate = true;
    auto target = make_embedded_target(std::move(eo));
    ASSERT_TRUE(target.ok()) << target.error().message;
    cpu_set_t during;
    ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof during, &during), 0);
    EXPECT_EQ(CPU_COUNT(&during), 1);
    auto result = properties::run_check(**target, options(4, 3));
    ASSERT_FALSE(result.error) << result.error->message;
    EXPECT_FALSE(result.summary.failed) << describe(result.summary);
  }
  cpu_set_t after;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&after, &before));
}

TEST(Check, AFaultIsCaughtShrunkAndReproduced) {
  auto target = embedded({"deleted-token-readable"}, true);
  auto result = properties::run_check(*target, options(3, 100));
  ASSERT_FALSE(result.error);
  ASSERT_TRUE(result.summary.failed);
  bool rule_36 = false;
  for (const auto& v : result.summary.violations) rule_36 |= v.rule == "3.6";
  EXPECT_TRUE(rule_36) << describe(result.summary);
  // Shrunk: the two logins, a create, a delete and the GET that exposes the fault, give or take
  // the login route the shrinker settles on.
  EXPECT_LE(result.counterexample.size(), 8u) << describe(result.summary);
  ASSERT_FALSE(result.summary.reproduce.empty());

  auto again = options(3, 100);
  again.reproduce = result.summary.reproduce;
  auto replayed = properties::run_check(*target, again);
  ASSERT_FALSE(replayed.error);
  ASSERT_TRUE(replayed.summary.failed);
  // The same exchanges (uuids and secrets are the server's, so compare shapes: route, status,
  // and the body's member names).
  auto shape = [](const std::vector<properties::Step>& steps) {
    std::vector<std::string> out;
    for (const auto& s : steps) {
      std::string members;
      auto body = nlohmann::json::parse(s.request.body, nullptr, false);
      if (body.is_object()) {
        for (const auto& [name, value] : body.items()) members += name + ",";
      }
      out.push_back(s.request.method + " " +
                    std::string(model::route_id(model::classify(s.request))) + " {" + members +
                    "} -> " + std::to_string(s.response.status));
    }
    return out;
  };
  EXPECT_EQ(shape(replayed.counterexample), shape(result.counterexample));
}

TEST(Check, TheReproBundleHoldsNoCredential) {
  auto target = embedded({"leak-secret-on-get"}, true);
  auto result = properties::run_check(*target, options(4, 100));
  ASSERT_TRUE(result.summary.failed);
  auto dir =
      std::filesystem::temp_directory_path() / ("patrol-bundle-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(
      write_repro_bundle(dir.string(), result.summary, result.counterexample, target->fixture())
          .ok());
  std::vector<std::string> secrets;
  for (const auto& step : result.counterexample) {
    auto body = nlohmann::json::parse(step.response.body, nullptr, false);
    if (step.response.status == 201 && body.is_object() && body.contains("token")) {
      secrets.push_back(body["token"].get<std::string>());
    }
  }
  ASSERT_FALSE(secrets.empty());
  for (const char* name :
       {"cassette.har", "repro.sh", "repro_test.cpp", "fixture.json", "README.txt"}) {
    std::ifstream in(dir / name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& s : secrets) EXPECT_EQ(text.find(s), std::string::npos) << name;
    for (const auto& a : target->fixture().accounts) {
      EXPECT_EQ(text.find(a.password), std::string::npos) << name;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Shard, ParsesKOfN) {
  auto s = properties::parse_shard("2/3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->first, 1);
  EXPECT_EQ(s->second, 3);
  EXPECT_FALSE(properties::parse_shard("0/3").ok());
  EXPECT_FALSE(properties::parse_shard("4/3").ok());
  EXPECT_FALSE(properties::parse_shard("x").ok());
}

}  // namespace
}  // namespace patrol::app
