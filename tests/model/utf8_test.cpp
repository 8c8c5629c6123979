// Strict UTF-8 and label length in code points (contract 3.2, A25).
#include "model/utf8.hpp"

#include <gtest/gtest.h>

namespace patrol::model {
namespace {

std::size_t count(std::string_view s) {
  auto r = utf8_code_points(s);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : 0;
}

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(count(""), 0u);
  EXPECT_EQ(count("abc"), 3u);
  EXPECT_EQ(count("\xC3\xA9"), 1u);          // é
  EXPECT_EQ(count("\xE2\x82\xAC"), 1u);      // €
  EXPECT_EQ(count("\xF0\x9D\x84\x9E"), 1u);  // 𝄞
  EXPECT_EQ(count("a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E"), 4u);
  EXPECT_EQ(count(std::string("a\0b", 3)), 3u);  // NUL is a code point
}

TEST(Utf8, BoundariesOfEachLength) {
  for (std::string_view s :
       {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(count(s), 1u);
  }
}

void expect_invalid(std::string_view s, std::string_view message) {
  auto r = utf8_code_points(s);
  ASSERT_FALSE(r.ok()) << "accepted";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalid);
  EXPECT_EQ(r.error().message, message);
}

TEST(Utf8, EachInvalidClass) {
  expect_invalid("\x80", "utf8: unexpected continuation byte at offset 0");
  expect_invalid("ab\xBF", "utf8: unexpected continuation byte at offset 2");
  expect_invalid("\xC0\xAF", "utf8: overlong two-byte sequence at offset 0");
  expect_invalid("\xC1\xBF", "utf8: overlong two-byte sequence at offset 0");
  expect_invalid("\xE0\x80\xAF", "utf8: overlong sequence at offset 0");
  expect_invalid("\xE0\x9F\xBF", "utf8: overlong sequence at offset 0");
  expect_invalid("\xF0\x80\x80\xAF", "utf8: overlong sequence at offset 0");
  expect_invalid("\xF0\x8F\xBF\xBF", "utf8: overlong sequence at offset 0");
  expect_invalid("\xED\xA0\x80", "utf8: surrogate code point at offset 0");
  expect_invalid("x\xED\xBF\xBF", "utf8: surrogate code point at offset 1");
  expect_invalid("\xF4\x90\x80\x80", "utf8: code point above U+10FFFF at offset 0");
  expect_invalid("\xF5\x80\x80\x80", "utf8: invalid lead byte at offset 0");
  expect_invalid("\xF8\x88\x80\x80\x80", "utf8: invalid lead byte at offset 0");
  expect_invalid("\xFE", "utf8: invalid lead byte at offset 0");
  expect_invalid("\xFF", "utf8: invalid lead byte at offset 0");
  expect_invalid("ab\xC3", "utf8: truncated sequence at offset 2");
  expect_invalid("\xE2\x82", "utf8: truncated sequence at offset 0");
  expect_invalid("\xF0\x9D\x84", "utf8: truncated sequence at offset 0");
  expect_invalid("\xE2\x28\xA1", "utf8: expected a continuation byte at offset 1");
  expect_invalid("\xF0\x9D\x84z", "utf8: expected a continuation byte at offset 3");
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

TEST(Utf8, LabelLimitIsInCodePoints) {
  const std::string_view grin = "\xF0\x9F\x98\x80";  // U+1F600, four bytes
  EXPECT_EQ(count(repeat(grin, 100)), 100u);
  EXPECT_TRUE(is_valid_label(repeat(grin, 100)));  // 400 bytes, 100 characters
  EXPECT_FALSE(is_valid_label(repeat(grin, 101)));
  EXPECT_TRUE(is_valid_label(repeat("a", 100)));
  EXPECT_FALSE(is_valid_label(repeat("a", 101)));
  EXPECT_TRUE(is_valid_label("a"));
  EXPECT_FALSE(is_valid_label(""));
  EXPECT_FALSE(is_valid_label("label\xFF"));
}

TEST(Utf8, AppendEncodesEachLength) {
  std::string s;
  append_utf8(s, U'A');
  append_utf8(s, 0xE9);
  append_utf8(s, 0x20AC);
  append_utf8(s, 0x1D11E);
  append_utf8(s, 0x10FFFF);
  EXPECT_EQ(s, "A\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\xF4\x8F\xBF\xBF");
}

TEST(Utf8, AppendReplacesWhatHasNoEncoding) {
  std::string s;
  append_utf8(s, 0xD800);
  append_utf8(s, 0x110000);
  EXPECT_EQ(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(count(s), 2u);
}

}  // namespace
}  // namespace patrol::model
