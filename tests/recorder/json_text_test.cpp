// The recorder's JSON text helpers: escaping, decoding, and finding string values by key.
#include "recorder/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace patrol::recorder::detail {
namespace {

TEST(JsonText, EscapesLikeJsonAndReplacesInvalidUtf8) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01\xc3\xa9"), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
  EXPECT_EQ(json_string("x\xff"
                        "y"),
            "\"x\xEF\xBF\xBDy\"");
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(nlohmann::json::parse(json_string("tab\there")).get<std::string>(), "tab\there");
}

TEST(JsonText, Utf8Validation) {
  EXPECT_TRUE(is_utf8("plain \xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8("\xe2\x82"));          // truncated
}

TEST(JsonText, DecodesStringLiterals) {
  EXPECT_EQ(decode_json_string("\"a\\u00e9\\ud83d\\ude00\\/\""),
            std::optional<std::string>("a\xc3\xa9\xf0\x9f\x98\x80/"));
  EXPECT_EQ(decode_json_string("\"\\ud83d\""), std::nullopt);  // lone surrogate
  EXPECT_EQ(decode_json_string("\"\\x\""), std::nullopt);
  EXPECT_EQ(decode_json_string("nope"), std::nullopt);
}

TEST(JsonText, FindsStringValuesByKeyAtAnyDepth) {
  std::string j = R"({"token" : "a", "x": {"to\u006ben":"b", "token": 5}, "s": "\"token\": \"c\"",)"
                  R"( "list":[{"token":"d"}]})";
  auto found = find_string_values(j, {"token"});
  std::vector<std::string> values;
  for (const auto& f : found)
    values.push_back(j.substr(f.value.begin, f.value.end - f.value.begin));
  EXPECT_EQ(values, (std::vector<std::string>{"\"a\"", "\"b\"", "\"d\""}));
  EXPECT_TRUE(find_string_values("{\"token\": \"unterminated", {"token"}).empty());
}

}  // namespace
}  // namespace patrol::recorder::detail
