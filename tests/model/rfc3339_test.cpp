// RFC 3339 timestamps (contract A20): known instants, offsets, fractions and rejections.
#include "model/rfc3339.hpp"

#include <gtest/gtest.h>

namespace patrol::model {
namespace {

std::int64_t micros_of(std::string_view text) {
  auto r = parse_rfc3339(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->micros : -1;
}

constexpr std::int64_t kM = 1'000'000;

TEST(Rfc3339, KnownInstants) {
  EXPECT_EQ(micros_of("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(micros_of("2024-02-29T12:00:00Z"), 1709208000 * kM);
  EXPECT_EQ(micros_of("2000-02-29T00:00:00Z"), 951782400 * kM);
  EXPECT_EQ(micros_of("2021-10-12T14:37:15.697655Z"), 1634049435 * kM + 697655);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.000000Z"), 1626782400 * kM);
  EXPECT_EQ(micros_of("1969-12-31T23:59:59Z"), -1 * kM);
  EXPECT_EQ(micros_of("1969-12-31T23:59:59.5Z"), -kM / 2);
  EXPECT_EQ(micros_of("0001-01-01T00:00:00Z"), -62135596800 * kM);
  EXPECT_EQ(micros_of("0000-01-01T00:00:00Z"), -62167219200 * kM);
  EXPECT_EQ(micros_of("9999-12-31T23:59:59.999999Z"), 253402300799 * kM + 999999);
  // Century rules: 1900 and 2100 are not leap years, 1600 and 2400 are.
  EXPECT_EQ(micros_of("1900-03-01T00:00:00Z"), -2203891200 * kM);
  EXPECT_EQ(micros_of("2100-03-01T00:00:00Z"), 4107542400 * kM);
  EXPECT_EQ(micros_of("1600-02-29T00:00:00Z"), -11670998400 * kM);
  EXPECT_EQ(micros_of("2400-02-29T00:00:00Z"), 13574563200 * kM);
  EXPECT_EQ(micros_of("1969-07-20T00:00:00Z"), -14256000 * kM);
}

TEST(Rfc3339, OffsetsConvertToUtc) {
  const std::int64_t noon = 1626782400 * kM;  // 2021-07-20T12:00:00Z
  EXPECT_EQ(micros_of("2021-07-20T17:30:00+05:30"), noon);
  EXPECT_EQ(micros_of("2021-07-20T04:00:00-08:00"), noon);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00+00:00"), noon);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00-00:00"), noon);
  EXPECT_EQ(micros_of("2021-07-21T01:59:00+13:59"), noon);
  // Crossing a day and a year boundary.
  EXPECT_EQ(micros_of("2020-12-31T23:00:00-01:00"), micros_of("2021-01-01T00:00:00Z"));
}

TEST(Rfc3339, LowerCaseSeparatorsAreAccepted) {
  EXPECT_EQ(micros_of("2021-07-20t12:00:00z"), 1626782400 * kM);
}

TEST(Rfc3339, FractionsAreTruncatedToMicroseconds) {
  const std::int64_t base = 1626782400 * kM;
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.5Z"), base + 500000);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.123Z"), base + 123000);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.1234567Z"), base + 123456);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.999999999Z"), base + 999999);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00." + std::string(40, '9') + "Z"), base + 999999);
  EXPECT_EQ(micros_of("2021-07-20T12:00:00.000000Z"), base);
}

void expect_rejected(std::string_view text, ErrorKind kind, std::string_view message) {
  auto r = parse_rfc3339(text);
  ASSERT_FALSE(r.ok()) << text << " parsed as " << r->micros;
  EXPECT_EQ(r.error().kind, kind) << text;
  EXPECT_EQ(r.error().message, message) << text;
}

TEST(Rfc3339, RejectsImpossibleDatesAndTimes) {
  expect_rejected("2023-02-29T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: day 29 out of range 01..28 for 2023-02");
  expect_rejected("1900-02-29T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: day 29 out of range 01..28 for 1900-02");
  expect_rejected("2021-04-31T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: day 31 out of range 01..30 for 2021-04");
  expect_rejected("2021-01-00T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: day 0 out of range 01..31 for 2021-01");
  expect_rejected("2021-13-01T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: month 13 out of range 01..12");
  expect_rejected("2021-00-01T00:00:00Z", ErrorKind::kInvalid,
                  "timestamp: month 0 out of range 01..12");
  expect_rejected("2021-01-01T24:00:00Z", ErrorKind::kInvalid,
                  "timestamp: hour 24 out of range 00..23");
  expect_rejected("2021-01-01T00:60:00Z", ErrorKind::kInvalid,
                  "timestamp: minute 60 out of range 00..59");
  expect_rejected("2016-12-31T23:59:60Z", ErrorKind::kInvalid,
                  "timestamp: second 60 out of range 00..59 (leap seconds are not accepted)");
  expect_rejected("2021-01-01T00:00:00+24:00", ErrorKind::kInvalid,
                  "timestamp: offset hour 24 out of range 00..23");
  expect_rejected("2021-01-01T00:00:00+01:60", ErrorKind::kInvalid,
                  "timestamp: offset minute 60 out of range 00..59");
}

TEST(Rfc3339, RejectsGarbageNamingTheOffset) {
  expect_rejected("", ErrorKind::kParse, "timestamp: expected a digit at offset 0");
  expect_rejected("garbage", ErrorKind::kParse, "timestamp: expected a digit at offset 0");
  expect_rejected("2021-01-01 00:00:00Z", ErrorKind::kParse,
                  "timestamp: expected 'T' at offset 10");
  expect_rejected("2021-01-01", ErrorKind::kParse, "timestamp: expected 'T' at offset 10");
  expect_rejected("2021-1-01T00:00:00Z", ErrorKind::kParse,
                  "timestamp: expected a digit at offset 6");
  expect_rejected("2021/01/01T00:00:00Z", ErrorKind::kParse, "timestamp: expected '-' at offset 4");
  expect_rejected("2021-01-01T00:00:00Zjunk", ErrorKind::kParse,
                  "timestamp: expected end of text at offset 20");
  expect_rejected("2021-01-01T00:00:00", ErrorKind::kParse,
                  "timestamp: expected 'Z' or a numeric offset at offset 19");
  expect_rejected("2021-01-01T00:00:00.Z", ErrorKind::kParse,
                  "timestamp: expected a digit at offset 20");
  expect_rejected("2021-01-01T00:00:00+0530", ErrorKind::kParse,
                  "timestamp: expected ':' at offset 22");
  expect_rejected("2021-01-01T00:00:00+05:3", ErrorKind::kParse,
                  "timestamp: expected a digit at offset 24");
  expect_rejected("2021-01-01T00:00:00 Z", ErrorKind::kParse,
                  "timestamp: expected 'Z' or a numeric offset at offset 19");
  expect_rejected("+2021-01-01T00:00:00Z", ErrorKind::kParse,
                  "timestamp: expected a digit at offset 0");
}

TEST(Rfc3339, FormatsWithSixDigitsAndZ) {
  EXPECT_EQ(format_rfc3339(Timestamp{0}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(Timestamp{1634049435 * kM + 697655}), "2021-10-12T14:37:15.697655Z");
  EXPECT_EQ(format_rfc3339(Timestamp{-kM / 2}), "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(format_rfc3339(Timestamp{-1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(Timestamp{1709208000 * kM}), "2024-02-29T12:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(Timestamp{-62167219200 * kM}), "0000-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(Timestamp{4107542400 * kM - 1}), "2100-02-28T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(Timestamp{13574563200 * kM}), "2400-02-29T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(Timestamp{253402300799 * kM + 999999}), "9999-12-31T23:59:59.999999Z");
}

TEST(Rfc3339, SecondsFloorAndSameSecond) {
  EXPECT_EQ(Timestamp{-1}.seconds(), -1);
  EXPECT_EQ(Timestamp{-kM}.seconds(), -1);
  EXPECT_EQ(Timestamp{-kM - 1}.seconds(), -2);
  EXPECT_EQ(Timestamp{kM - 1}.seconds(), 0);
  EXPECT_TRUE(same_second(Timestamp{100 * kM + 1}, Timestamp{100 * kM + 999999}));
  EXPECT_FALSE(same_second(Timestamp{100 * kM - 1}, Timestamp{100 * kM}));
  EXPECT_TRUE(same_second(Timestamp{-kM / 2}, Timestamp{-1}));
  EXPECT_FALSE(same_second(Timestamp{-1}, Timestamp{0}));
}

}  // namespace
}  // namespace patrol::model
