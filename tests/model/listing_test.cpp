// The E2 listing query (contract 6), page links (A11), uuids and token paths (contract 3.7, A9).
#include "model/listing.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace patrol::model {
namespace {

struct QueryCase {
  std::string query;
  std::optional<ListQuery> expected;  // nullopt: kInvalid
  std::string error_prefix;           // the parameter the error names
};

TEST(ListQuery, TableOfInputs) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  const QueryCase cases[] = {
      {"", ListQuery{1, 10}, ""},
      {"page=2", ListQuery{2, 10}, ""},
      {"page_size=50", ListQuery{1, 50}, ""},
      {"page=2&page_size=50", ListQuery{2, 50}, ""},
      {"page_size=100&page=3", ListQuery{3, 100}, ""},
      {"?page=4", ListQuery{1, 10}, ""},  // a parameter named "?page": not page
      {"?page=x&page=4", ListQuery{4, 10}, ""},
      {"page=2.0", ListQuery{2, 10}, ""},
      {"page=2e0", ListQuery{2, 10}, ""},
      {"page=2E%2B0", ListQuery{2, 10}, ""},
      {"page=20e-1", ListQuery{2, 10}, ""},
      {"page=0.2e1", ListQuery{2, 10}, ""},
      {"page=002", ListQuery{2, 10}, ""},
      {"page=%32", ListQuery{2, 10}, ""},
      {"page=%2B3", ListQuery{3, 10}, ""},
      {"page=-1", ListQuery{-1, 10}, ""},
      {"page=-0", ListQuery{0, 10}, ""},
      {"page=0", ListQuery{0, 10}, ""},
      {"page_size=1000", ListQuery{1, 1000}, ""},
      {"page=1e18", ListQuery{1000000000000000000, 10}, ""},
      {"page=9223372036854775807", ListQuery{kMax, 10}, ""},
      {"page=-9223372036854775808", ListQuery{kMin, 10}, ""},
      {"page=100000000000000000000e-20", ListQuery{1, 10}, ""},
      {"page=0e999999999999999999999999", ListQuery{0, 10}, ""},
      {"foo=bar&page=2&x", ListQuery{2, 10}, ""},
      {"page=2&page=3", ListQuery{3, 10}, ""},
      // Only the last value is read (corpora/session_fuzzer/regressions/repeated-page-size.txt).
      {"page=2.5&page=3", ListQuery{3, 10}, ""},
      {"page_size=page=2.0&page_size=2", ListQuery{1, 2}, ""},
      {"page=3&page=2.5", std::nullopt, "page: expected an integer"},
      {"page=2.5", std::nullopt, "page: expected an integer"},
      {"page_size=10.01", std::nullopt, "page_size: expected an integer"},
      {"page=1.000000000000000000001", std::nullopt, "page: expected an integer"},
      {"page=2e-1", std::nullopt, "page: expected an integer"},
      {"page=1e-99999999999999999999999", std::nullopt, "page: expected an integer"},
      {"page=", std::nullopt, "page: expected a number"},
      {"page", std::nullopt, "page: expected a number"},
      {"page_size=", std::nullopt, "page_size: expected a number"},
      {"page=abc", std::nullopt, "page: expected a number"},
      {"page=nan", std::nullopt, "page: expected a number"},
      {"page=inf", std::nullopt, "page: expected a number"},
      {"page=0x10", std::nullopt, "page: expected a number"},
      {"page=+3", std::nullopt, "page: expected a number"},  // '+' is a space in a query
      {"page=2.", std::nullopt, "page: expected a number"},
      {"page=.5", std::nullopt, "page: expected a number"},
      {"page=1e", std::nullopt, "page: expected a number"},
      {"page=1%20", std::nullopt, "page: expected a number"},
      {"page=1e400", std::nullopt, "page: out of range"},
      {"page=1e19", std::nullopt, "page: out of range"},
      {"page=9223372036854775808", std::nullopt, "page: out of range"},
      {"page=-9223372036854775809", std::nullopt, "page: out of range"},
      {"page_size=99999999999999999999999", std::nullopt, "page_size: out of range"},
      {"page=1" + std::string(5000, '0'), std::nullopt, "page: out of range"},
      {"page=1e99999999999999999999999999", std::nullopt, "page: out of range"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query.substr(0, 60));
    auto r = parse_list_query(c.query);
    if (c.expected) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(*r, *c.expected);
    } else {
      ASSERT_FALSE(r.ok()) << "parsed as " << r->page << "," << r->page_size;
      EXPECT_EQ(r.error().kind, ErrorKind::kInvalid);
      EXPECT_TRUE(r.error().message.starts_with(c.error_prefix)) << r.error().message;
    }
  }
}

TEST(ListQuery, ErrorQuotesTheValueBriefly) {
  auto r = parse_list_query("page=2.5");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "page: expected an integer, got \"2.5\"");
  auto long_value = parse_list_query("page_size=" + std::string(1000, 'x'));
  ASSERT_FALSE(long_value.ok());
  EXPECT_LT(long_value.error().message.size(), 100u);
}

TEST(ListQuery, InRangeFollowsContract6) {
  EXPECT_TRUE((ListQuery{1, 1}).in_range());
  EXPECT_TRUE((ListQuery{1, 100}).in_range());
  EXPECT_TRUE((ListQuery{999, 10}).in_range());
  EXPECT_FALSE((ListQuery{0, 10}).in_range());
  EXPECT_FALSE((ListQuery{-1, 10}).in_range());
  EXPECT_FALSE((ListQuery{1, 0}).in_range());
  EXPECT_FALSE((ListQuery{1, 101}).in_range());
  EXPECT_FALSE((ListQuery{1, -5}).in_range());
}

TEST(ListQuery, ToQueryParsesBack) {
  ListQuery q{7, 25};
  EXPECT_EQ(q.to_query(), "page=7&page_size=25");
  auto back = parse_list_query(q.to_query());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, q);
}

TEST(PageLink, AbsoluteAndRelativeLinks) {
  struct Case {
    std::string url;
    ListQuery expected;
  };
  const Case cases[] = {
      {"https://hub.docker.com/v2/access-tokens?page=2&page_size=10", {2, 10}},
      {"http://127.0.0.1:8080/v2/access-tokens?page=3&page_size=5#top", {3, 5}},
      {"/v2/access-tokens?page_size=20&page=4", {4, 20}},
      {"?page=5", {5, 10}},
      {"v2/access-tokens?page=6&page_size=1", {6, 1}},
      {"https://hub.docker.com/v2/access-tokens", {1, 10}},
      {"//hub.docker.com/v2/access-tokens?page=2", {2, 10}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto r = parse_page_link(c.url);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.expected);
  }
}

TEST(PageLink, RejectsWhatIsNotALink) {
  for (std::string_view bad : {"", "not a url", "mailto:someone", "https://", "http:///x?page=2",
                               "https://h/x?page=1\n", "ftp:x?page=2"}) {
    SCOPED_TRACE(bad);
    auto r = parse_page_link(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalid);
    EXPECT_TRUE(r.error().message.starts_with("page link: ")) << r.error().message;
  }
  auto bad_number = parse_page_link("https://hub.docker.com/v2/access-tokens?page=2.5");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error().message, "page link: page: expected an integer, got \"2.5\"");
}

TEST(Uuid, CanonicalFormOnly) {
  EXPECT_TRUE(is_canonical_uuid("b30bbf97-506c-4ecd-aabc-842f3cb484fb"));
  EXPECT_TRUE(is_canonical_uuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(is_canonical_uuid("B30BBF97-506C-4ECD-AABC-842F3CB484FB"));
  EXPECT_FALSE(is_canonical_uuid("b30bbf97-506c-4ecd-aabc-842f3cb484f"));
  EXPECT_FALSE(is_canonical_uuid("b30bbf97-506c-4ecd-aabc-842f3cb484fb0"));
  EXPECT_FALSE(is_canonical_uuid("b30bbf97506c4ecdaabc842f3cb484fb"));
  EXPECT_FALSE(is_canonical_uuid("b30bbf97-506c-4ecd-aabc_842f3cb484fb"));
  EXPECT_FALSE(is_canonical_uuid("b30bbf9-7506c-4ecd-aabc-842f3cb484fb"));
  EXPECT_FALSE(is_canonical_uuid("g30bbf97-506c-4ecd-aabc-842f3cb484fb"));
  EXPECT_FALSE(is_canonical_uuid("{30bbf97-506c-4ecd-aabc-842f3cb484f}"));
  EXPECT_FALSE(is_canonical_uuid(""));
  EXPECT_FALSE(is_canonical_uuid("not-a-uuid"));
}

TEST(TokenPath, Classification) {
  struct Case {
    std::string path;
    TokenRoute route;
    std::string uuid;
  };
  const Case cases[] = {
      {"/v2/access-tokens", TokenRoute::kCollection, ""},
      {"/v2/access-tokens/", TokenRoute::kCollection, ""},
      {"/v2/access-tokens/b30bbf97-506c-4ecd-aabc-842f3cb484fb", TokenRoute::kItem,
       "b30bbf97-506c-4ecd-aabc-842f3cb484fb"},
      {"/v2/access-tokens/not-a-uuid", TokenRoute::kItem, "not-a-uuid"},
      // The path is decoded already: a segment is never decoded twice.
      {"/v2/access-tokens/abc def", TokenRoute::kItem, "abc def"},
      {"/v2/access-tokens/abc%20def", TokenRoute::kItem, "abc%20def"},
      {"/v2/access-tokens/%2541", TokenRoute::kItem, "%2541"},
      {"/v2/access-tokens/a+b", TokenRoute::kItem, "a+b"},
      {"/v2/access-tokens/abc%2Fdef", TokenRoute::kItem, "abc%2Fdef"},
      {"/v2/access-tokens/%zz", TokenRoute::kItem, "%zz"},
      {"/v2/access-tokens/a/b", TokenRoute::kOther, ""},
      {"/v2/access-tokens/a/", TokenRoute::kOther, ""},
      {"/v2/access-tokens//", TokenRoute::kOther, ""},
      {"/v2/access-tokensX", TokenRoute::kOther, ""},
      {"/v2/access-token", TokenRoute::kOther, ""},
      {"/v2/api_tokens/abc", TokenRoute::kOther, ""},
      {"/V2/ACCESS-TOKENS", TokenRoute::kOther, ""},
      {"v2/access-tokens", TokenRoute::kOther, ""},
      {"", TokenRoute::kOther, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    TokenPath p = parse_token_path(c.path);
    EXPECT_EQ(p.route, c.route);
    EXPECT_EQ(p.uuid, c.uuid);
  }
}

TEST(PagePastInt64, IsAPositiveIntegerTooLargeForInt64WithAValidPageSize) {
  EXPECT_TRUE(page_past_int64("page=9223372036854775808"));
  EXPECT_TRUE(page_past_int64("page=44444444444444444444444444444441&page_size=2"));
  EXPECT_FALSE(page_past_int64("?page=44444444444444444444444444444441&page_size=2"));
  EXPECT_TRUE(page_past_int64("page=1e30&page_size=100"));
  EXPECT_FALSE(page_past_int64("page=9223372036854775807"));  // fits: an ordinary page
  EXPECT_FALSE(page_past_int64("page=-99999999999999999999"));
  EXPECT_FALSE(page_past_int64("page=99999999999999999999&page_size=0"));
  EXPECT_FALSE(page_past_int64("page=99999999999999999999&page_size=101"));
  EXPECT_FALSE(page_past_int64("page=abc"));
  EXPECT_FALSE(page_past_int64("page_size=5"));
}

}  // namespace
}  // namespace patrol::model
