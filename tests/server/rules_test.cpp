// The server's own rule functions (server/rules.hpp) and its randomness and JWT signing
// (server/crypto.hpp).
#include "server/rules.hpp"

#include <gtest/gtest.h>

#include <set>

#include "model/jwt.hpp"
#include "server/crypto.hpp"

namespace patrol::server {
namespace {

TEST(ServerRules, LevelsReadTheFourScopesOnly) {
  EXPECT_EQ(level_from_name("repo:admin"), Level::kAdmin);
  EXPECT_EQ(level_from_name("repo:write"), Level::kWrite);
  EXPECT_EQ(level_from_name("repo:read"), Level::kRead);
  EXPECT_EQ(level_from_name("repo:public_read"), Level::kPublicRead);
  EXPECT_FALSE(level_from_name("repo:Admin"));
  EXPECT_FALSE(level_from_name("repo:admin "));
  EXPECT_FALSE(level_from_name(""));
  EXPECT_EQ(level_name(Level::kPublicRead), "repo:public_read");
  EXPECT_LT(Level::kPublicRead, Level::kRead);
  EXPECT_LT(Level::kWrite, Level::kAdmin);
}

TEST(ServerRules, Utf8LengthCountsCodePointsAndRejectsIllFormedText) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9"), 1u);
  EXPECT_EQ(utf8_length("\xe2\x82\xac"), 1u);
  EXPECT_EQ(utf8_length("\xf0\x9f\x90\xb3"), 1u);
  EXPECT_EQ(utf8_length("\xf4\x8f\xbf\xbf"), 1u);  // U+10FFFF
  EXPECT_FALSE(utf8_length("\xf4\x90\x80\x80"));   // above U+10FFFF
  EXPECT_FALSE(utf8_length("\xc0\xaf"));           // overlong '/'
  EXPECT_FALSE(utf8_length("\xe0\x80\xaf"));       // overlong, three bytes
  EXPECT_FALSE(utf8_length("\xed\xa0\x80"));       // surrogate U+D800
  EXPECT_FALSE(utf8_length("\x80"));               // lone continuation
  EXPECT_FALSE(utf8_length("\xe2\x82"));           // truncated
  EXPECT_FALSE(utf8_length("\xc3\x28"));           // bad continuation
  EXPECT_FALSE(utf8_length("\xff"));
}

TEST(ServerRules, LabelProblemsFollowTheRule) {
  EXPECT_FALSE(label_problem("ci"));
  EXPECT_TRUE(label_problem(""));
  EXPECT_FALSE(label_problem(std::string(100, 'a')));
  EXPECT_TRUE(label_problem(std::string(101, 'a')));
  std::string hundred_e_acute;
  for (int i = 0; i < 100; ++i) hundred_e_acute += "\xc3\xa9";
  EXPECT_FALSE(label_problem(hundred_e_acute));
  EXPECT_TRUE(label_problem(hundred_e_acute, LabelRule{.count_bytes = true}));
  EXPECT_TRUE(label_problem("\xff"));
  EXPECT_FALSE(label_problem("", LabelRule{.min_length = 0}));
}

TEST(ServerRules, PageParametersAreIntegersInJsonNumberSyntax) {
  auto value = [](std::string_view text) {
    auto p = parse_page_param(text);
    return p.ok ? std::optional<std::int64_t>(p.value) : std::nullopt;
  };
  EXPECT_EQ(value("2"), 2);
  EXPECT_EQ(value("2.0"), 2);
  EXPECT_EQ(value("2e0"), 2);
  EXPECT_EQ(value("20e-1"), 2);
  EXPECT_EQ(value("0.2E1"), 2);
  EXPECT_EQ(value("002"), 2);
  EXPECT_EQ(value("0"), 0);
  EXPECT_EQ(value("-0.0"), 0);
  EXPECT_EQ(value("-3"), -3);
  EXPECT_EQ(value("1e18"), 1'000'000'000'000'000'000LL);
  EXPECT_EQ(value("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(value("9223372036854775806"), std::numeric_limits<std::int64_t>::max() - 1);
  EXPECT_EQ(value("1e19"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(value("1e400"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(value("99999999999999999999"), std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"", "2.5", "2.", ".5", "abc", "2a", " 2", "+2", "0x10", "1e", "1e-1",
                          "--1", "1.5e0", "NaN", "inf"}) {
    auto p = parse_page_param(bad);
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_FALSE(p.problem.empty()) << bad;
  }
}

TEST(ServerRules, PageWindowsPartitionAndStopAtTheEnd) {
  for (std::size_t total : {0u, 1u, 9u, 10u, 11u, 25u}) {
    for (std::int64_t size : {1, 3, 10, 100}) {
      std::size_t covered = 0;
      std::int64_t page = 1;
      for (;; ++page) {
        auto w = page_window(page, size, total);
        if (!w) break;
        EXPECT_EQ(w->first, covered) << total << "/" << size << "/" << page;
        covered += w->size;
        EXPECT_EQ(w->has_previous, page > 1);
        EXPECT_EQ(w->has_next, covered < total);
      }
      EXPECT_EQ(covered, total);
      EXPECT_GE(page, 2);  // page 1 always exists
    }
  }
  EXPECT_FALSE(page_window(0, 10, 5));
  EXPECT_FALSE(page_window(1, 0, 5));
  EXPECT_FALSE(page_window(std::numeric_limits<std::int64_t>::max(), 100, 5));
  auto empty = page_window(1, 10, 0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size, 0u);
  EXPECT_FALSE(empty->has_next);
}

TEST(ServerRules, UuidsMustBeCanonical) {
  EXPECT_TRUE(is_uuid("b30bbf97-506c-4ecd-aabc-842f3cb484fb"));
  EXPECT_FALSE(is_uuid("B30BBF97-506C-4ECD-AABC-842F3CB484FB"));
  EXPECT_FALSE(is_uuid("b30bbf97506c4ecdaabc842f3cb484fb"));
  EXPECT_FALSE(is_uuid("{b30bbf97-506c-4ecd-aabc-842f3cb484fb}"));
  EXPECT_FALSE(is_uuid("b30bbf97-506c-4ecd-aabc-842f3cb484fg"));
  EXPECT_FALSE(is_uuid("b30bbf97-506c-4ecd-aabc_842f3cb484fb"));
  EXPECT_FALSE(is_uuid(""));
}

TEST(ServerRules, ActionsParseAndPrintInCanonicalOrder) {
  EXPECT_EQ(action_from_name("pull"), kPull);
  EXPECT_EQ(action_from_name("*"), kAllActions);
  EXPECT_EQ(action_from_name("PULL"), 0u);
  EXPECT_EQ(action_names(kDelete | kPull), (std::vector<std::string>{"pull", "delete"}));
  EXPECT_TRUE(action_names(0).empty());
}

TEST(ServerRules, GrantTableOfSectionFive) {
  using K = Grantee::Kind;
  auto allowed = [](K kind, Level level, const char* owner, bool priv) {
    return allowed_actions(Grantee{kind, kind == K::kAnonymous ? "" : "alice", level}, owner, priv);
  };
  EXPECT_EQ(allowed(K::kPassword, Level::kPublicRead, "alice", true), kAllActions);
  EXPECT_EQ(allowed(K::kPassword, Level::kPublicRead, "bob", false), kPull);
  EXPECT_EQ(allowed(K::kPassword, Level::kPublicRead, "bob", true), 0u);
  EXPECT_EQ(allowed(K::kPat, Level::kAdmin, "alice", true), kAllActions);
  EXPECT_EQ(allowed(K::kPat, Level::kWrite, "alice", true), kPull | kPush);
  EXPECT_EQ(allowed(K::kPat, Level::kRead, "alice", true), kPull);
  EXPECT_EQ(allowed(K::kPat, Level::kRead, "alice", false), kPull);
  EXPECT_EQ(allowed(K::kPat, Level::kPublicRead, "alice", false), kPull);
  EXPECT_EQ(allowed(K::kPat, Level::kPublicRead, "alice", true), 0u);
  EXPECT_EQ(allowed(K::kPat, Level::kAdmin, "bob", true), 0u);
  EXPECT_EQ(allowed(K::kPat, Level::kAdmin, "bob", false), kPull);
  EXPECT_EQ(allowed(K::kAnonymous, Level::kAdmin, "alice", false), kPull);
  EXPECT_EQ(allowed(K::kAnonymous, Level::kAdmin, "alice", true), 0u);
}

TEST(ServerCrypto, SecretsAndUuidsHaveTheirFormats) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto secret = random_pat_secret();
    ASSERT_EQ(secret.size(), 36u);
    EXPECT_EQ(secret.rfind("dckr_pat_", 0), 0u);
    for (char c : secret.substr(9)) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << secret;
    }
    auto uuid = random_uuid();
    EXPECT_TRUE(is_uuid(uuid)) << uuid;
    EXPECT_EQ(uuid[14], '4');
    EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos) << uuid;
    seen.insert(secret);
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_EQ(random_hex(16).size(), 32u);
}

TEST(ServerCrypto, JwtsVerifyOnlyUnderTheirSignerAndUntampered) {
  JwtSigner signer;
  model::JwtClaims claims;
  claims.iss = "patrol-reference";
  claims.username = "alice";
  claims.exp = 2'000'000'000;
  auto jwt = signer.sign(claims);
  EXPECT_TRUE(model::looks_like_jwt(jwt));
  auto decoded = model::decode_jwt(jwt);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header.alg, "HS256");
  auto verified = signer.verify(jwt);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(verified->username, "alice");

  EXPECT_FALSE(JwtSigner().verify(jwt).ok());  // another key
  // Claims swapped for others with the same signature.
  model::JwtClaims forged = claims;
  forged.username = "bob";
  auto forged_jwt = signer.sign(forged);
  std::string spliced =
      jwt.substr(0, jwt.find('.')) +
      forged_jwt.substr(forged_jwt.find('.'), forged_jwt.rfind('.') - forged_jwt.find('.')) +
      jwt.substr(jwt.rfind('.'));
  EXPECT_FALSE(signer.verify(spliced).ok());
  // alg "none" with the signature stripped.
  model::JwtHeader none;
  none.alg = "none";
  EXPECT_FALSE(signer.verify(model::jwt_signing_input(none, claims) + ".").ok());
  EXPECT_FALSE(signer.verify("garbage").ok());
  EXPECT_TRUE(JwtSigner::read_unverified(spliced).ok());
}

}  // namespace
}  // namespace patrol::server
