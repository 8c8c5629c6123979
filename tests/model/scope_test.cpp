// The scope lattice of contract 3.3 and 5.
#include "model/scope.hpp"

#include <gtest/gtest.h>

namespace patrol::model {
namespace {

TEST(Scope, WireStringsRoundTrip) {
  EXPECT_EQ(to_string(Scope::kPublicRead), "repo:public_read");
  EXPECT_EQ(to_string(Scope::kRead), "repo:read");
  EXPECT_EQ(to_string(Scope::kWrite), "repo:write");
  EXPECT_EQ(to_string(Scope::kAdmin), "repo:admin");
  for (Scope s : kAllScopes) {
    auto parsed = parse_scope(to_string(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
}

TEST(Scope, UnknownStringsAreNamed) {
  for (std::string_view bad : {"repo:delete", "REPO:READ", "repo:read ", "", "admin", "repo:"}) {
    SCOPED_TRACE(bad);
    auto r = parse_scope(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalid);
  }
  EXPECT_EQ(parse_scope("repo:delete").error().message, "unknown scope \"repo:delete\"");
}

TEST(Scope, ImplicationTableFromTheContract) {
  // Rows: held; columns: wanted, in the order public_read, read, write, admin.
  // admin > write > read > public_read (contract 3.3; REFERENCE-NOTES section 5).
  const Scope order[4] = {Scope::kPublicRead, Scope::kRead, Scope::kWrite, Scope::kAdmin};
  const bool expected[4][4] = {
      /* public_read */ {true, false, false, false},
      /* read        */ {true, true, false, false},
      /* write       */ {true, true, true, false},
      /* admin       */ {true, true, true, true},
  };
  for (int held = 0; held < 4; ++held) {
    for (int wanted = 0; wanted < 4; ++wanted) {
      EXPECT_EQ(implies(order[held], order[wanted]), expected[held][wanted])
          << to_string(order[held]) << " implies " << to_string(order[wanted]);
    }
  }
}

TEST(Scope, ParseScopesNamesTheIndexAndRejectsEmpty) {
  auto empty = parse_scopes({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::kInvalid);
  EXPECT_EQ(empty.error().message, "scopes: empty list (contract A12)");

  auto bad = parse_scopes({"repo:read", "repo:write", "repo:bogus"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "scopes[2]: unknown scope \"repo:bogus\"");

  auto ok = parse_scopes({"repo:write", "repo:read", "repo:write"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<Scope>{Scope::kWrite, Scope::kRead, Scope::kWrite}));
}

TEST(Scope, EffectiveScopeIsTheHighest) {
  EXPECT_EQ(effective_scope({}), std::nullopt);
  EXPECT_EQ(effective_scope({Scope::kPublicRead}), Scope::kPublicRead);
  EXPECT_EQ(effective_scope({Scope::kRead, Scope::kAdmin, Scope::kWrite}), Scope::kAdmin);
  EXPECT_EQ(effective_scope({Scope::kRead, Scope::kPublicRead, Scope::kRead}), Scope::kRead);
}

TEST(Scope, NormaliseKeepsOnlyTheHighest) {
  EXPECT_EQ(normalise({}), std::vector<Scope>{});
  EXPECT_EQ(normalise({Scope::kWrite, Scope::kRead}), std::vector<Scope>{Scope::kWrite});
  EXPECT_EQ(normalise({Scope::kPublicRead, Scope::kAdmin, Scope::kPublicRead}),
            std::vector<Scope>{Scope::kAdmin});
  EXPECT_EQ(normalise({Scope::kRead, Scope::kRead}), std::vector<Scope>{Scope::kRead});
  EXPECT_EQ(normalise(normalise({Scope::kRead, Scope::kWrite})), std::vector<Scope>{Scope::kWrite});
}

}  // namespace
}  // namespace patrol::model
