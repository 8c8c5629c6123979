// Rate-limit policy, request budget and the live ownership guard, over a fake transport.
#include <gtest/gtest.h>

#include <deque>

#include "http/ownership_guard.hpp"
#include "http/polite_transport.hpp"

namespace patrol::http {
namespace {

using model::HttpRequest;
using model::HttpResponse;

HttpResponse status(int code, std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string body = "{}") {
  HttpResponse r;
  r.status = code;
  for (auto& [k, v] : headers) r.headers.add(k, v);
  r.body = std::move(body);
  return r;
}

TEST(RetryDelay, ReadsRetryAfterSecondsAndXRetryAfterUnixTime) {
  EXPECT_EQ(retry_delay(status(429, {{"Retry-After", "7"}}), 1000), std::chrono::seconds(7));
  EXPECT_EQ(retry_delay(status(429, {{"x-retry-after", "1012"}}), 1000), std::chrono::seconds(12));
  EXPECT_EQ(retry_delay(status(429, {{"X-Retry-After", "900"}}), 1000), std::chrono::seconds(0));
  EXPECT_FALSE(retry_delay(status(429, {{"Retry-After", "soon"}}), 1000).has_value());
  EXPECT_FALSE(retry_delay(status(429), 1000).has_value());
}

TEST(PoliteTransport, WaitsAsToldThenReturnsTheSuccess) {
  std::deque<HttpResponse> script = {status(429, {{"Retry-After", "3"}}),
                                     status(429, {{"Retry-After", "500"}}), status(200)};
  FunctionTransport inner([&](const HttpRequest&) {
    auto r = script.front();
    script.pop_front();
    return r;
  });
  std::vector<std::chrono::milliseconds> waits;
  PolitePolicy policy;
  policy.max_wait = std::chrono::seconds(60);
  policy.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
  policy.unix_now = [] { return std::int64_t{0}; };
  PoliteTransport polite(inner, policy);
  auto res = polite.send(HttpRequest{"GET", "/v2/access-tokens"});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0], std::chrono::seconds(3));
  EXPECT_EQ(waits[1], std::chrono::seconds(60)) << "a wait is capped at max_wait";
  EXPECT_EQ(polite.stats().rate_limited, 2);
  EXPECT_EQ(polite.stats().requests, 3);
}

TEST(PoliteTransport, GivesUpAfterMaxRetriesAndReturnsThe429) {
  FunctionTransport inner([](const HttpRequest&) { return status(429, {{"Retry-After", "1"}}); });
  PolitePolicy policy;
  policy.max_retries = 2;
  policy.sleep = [](std::chrono::milliseconds) {};
  PoliteTransport polite(inner, policy);
  auto res = polite.send(HttpRequest{"GET", "/"});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(polite.stats().requests, 3);
}

TEST(PoliteTransport, RefusesPastTheBudget) {
  int sent = 0;
  FunctionTransport inner([&](const HttpRequest&) {
    ++sent;
    return status(200);
  });
  PolitePolicy policy;
  policy.max_requests = 2;
  PoliteTransport polite(inner, policy);
  EXPECT_TRUE(polite.send(HttpRequest{"GET", "/"}).ok());
  EXPECT_TRUE(polite.send(HttpRequest{"GET", "/"}).ok());
  auto third = polite.send(HttpRequest{"GET", "/"});
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().message.find("budget"), std::string::npos);
  EXPECT_EQ(sent, 2);
}

class GuardTest : public ::testing::Test {
 protected:
  int next_id = 0;
  std::vector<std::string> seen;
  FunctionTransport inner{[this](const HttpRequest& r) {
    seen.push_back(r.method + " " + r.path);
    if (r.method == "POST") {
      return status(
          201, {},
          R"({"uuid":"00000000-0000-4000-8000-00000000000)" + std::to_string(next_id++) + R"("})");
    }
    if (r.method == "DELETE") return status(204, {}, "");
    return status(200);
  }};
  OwnershipGuard guard{inner, "patrol-run1-", 2};

  HttpRequest create(const std::string& label) {
    return HttpRequest{"POST",
                       "/v2/access-tokens",
                       "",
                       {},
                       R"({"token_label":")" + label + R"(","scopes":["repo:read"]})"};
  }
};

TEST_F(GuardTest, RefusesALabelWithoutTheRunPrefix) {
  auto res = guard.send(create("my token"));
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("patrol-run1-"), std::string::npos);
  EXPECT_TRUE(seen.empty()) << "nothing may reach the target";
}

TEST_F(GuardTest, ModifiesOnlyTokensTheRunCreated) {
  ASSERT_TRUE(guard.send(create("patrol-run1-a")).ok());
  const std::string mine = "00000000-0000-4000-8000-000000000000";
  const std::string foreign = "11111111-1111-4111-8111-111111111111";
  EXPECT_TRUE(guard.send(HttpRequest{"PATCH", "/v2/access-tokens/" + mine}).ok());
  auto refused = guard.send(HttpRequest{"DELETE", "/v2/access-tokens/" + foreign});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find(foreign), std::string::npos);
  EXPECT_TRUE(guard.send(HttpRequest{"GET", "/v2/access-tokens/" + foreign}).ok())
      << "reads are harmless";
  EXPECT_EQ(guard.live_tokens(), std::vector<std::string>{mine});
  EXPECT_TRUE(guard.send(HttpRequest{"DELETE", "/v2/access-tokens/" + mine}).ok());
  EXPECT_TRUE(guard.live_tokens().empty());
}

TEST_F(GuardTest, CapsTokensAliveAtOnceAndAdoptsLeftovers) {
  ASSERT_TRUE(guard.send(create("patrol-run1-a")).ok());
  ASSERT_TRUE(guard.send(create("patrol-run1-b")).ok());
  EXPECT_FALSE(guard.send(create("patrol-run1-c")).ok());
  const std::string leftover = "22222222-2222-4222-8222-222222222222";
  EXPECT_FALSE(guard.send(HttpRequest{"DELETE", "/v2/access-tokens/" + leftover}).ok());
  guard.adopt(leftover);
  EXPECT_TRUE(guard.send(HttpRequest{"DELETE", "/v2/access-tokens/" + leftover}).ok());
}

TEST_F(GuardTest, ReadsThePrefixOfAnInvalidUtf8Label) {
  // The server must refuse such a label (contract 3.2), but the guard lets the probe through only
  // when its bytes start with the run prefix.
  EXPECT_TRUE(guard.send(create("patrol-run1-a\xff\xfe")).ok());
  EXPECT_FALSE(guard.send(create("\xffpatrol-run1-a")).ok());
  EXPECT_FALSE(guard
                   .send(create("patrol-run\xff"
                                "1-a"))
                   .ok());
}

TEST_F(GuardTest, ARenameKeepsTheRunPrefix) {
  ASSERT_TRUE(guard.send(create("patrol-run1-a")).ok());
  const std::string mine = "/v2/access-tokens/00000000-0000-4000-8000-000000000000";
  EXPECT_TRUE(
      guard.send(HttpRequest{"PATCH", mine, "", {}, R"({"token_label":"patrol-run1-b"})"}).ok());
  EXPECT_TRUE(guard.send(HttpRequest{"PATCH", mine, "", {}, R"({"is_active":false})"}).ok());
  auto refused = guard.send(HttpRequest{"PATCH", mine, "", {}, R"({"token_label":"mine now"})"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("patrol-run1-"), std::string::npos);
}

}  // namespace
}  // namespace patrol::http
