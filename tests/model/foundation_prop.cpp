// Properties of timestamps, the scope lattice, base64, JWTs, UTF-8 and the listing query.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <ctime>

#include "model/jwt.hpp"
#include "model/listing.hpp"
#include "tests/model/generators.hpp"

namespace patrol::model {
namespace {

namespace g = generators;

// --- RFC 3339 -------------------------------------------------------------------------------

RC_GTEST_PROP(Rfc3339Prop, FormatThenParseIsIdentity, ()) {
  Timestamp ts = *g::timestamp();
  std::string text = format_rfc3339(ts);
  RC_ASSERT(text.size() == 27u);
  auto back = parse_rfc3339(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == ts);
}

// Checks the calendar arithmetic against glibc's timegm, which shares no code with ours.
RC_GTEST_PROP(Rfc3339Prop, AgreesWithTimegmUnderAnyOffset, ()) {
  int year = *rc::gen::inRange(1, 10000);
  int month = *rc::gen::inRange(1, 13);
  int day = *rc::gen::inRange(1, 29);
  int hour = *rc::gen::inRange(0, 24);
  int minute = *rc::gen::inRange(0, 60);
  int second = *rc::gen::inRange(0, 60);
  int offset_minutes = *rc::gen::inRange(-(23 * 60 + 59), 23 * 60 + 60);
  std::string fraction = *rc::gen::container<std::string>(*rc::gen::inRange(0, 12),
                                                          rc::gen::inRange('0', char('9' + 1)));
  char zone[16] = "Z";
  if (offset_minutes != 0 || *rc::gen::arbitrary<bool>()) {
    int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
  }
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute,
                second);
  std::string full = text + (fraction.empty() ? "" : "." + fraction) + zone;

  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::int64_t expected_seconds = static_cast<std::int64_t>(timegm(&tm)) - offset_minutes * 60;
  std::int64_t expected_micros = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    expected_micros = expected_micros * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }

  auto parsed = parse_rfc3339(full);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->seconds() == expected_seconds);
  RC_ASSERT(parsed->micros - expected_seconds * 1000000 == expected_micros);
}

// --- Scopes ---------------------------------------------------------------------------------

RC_GTEST_PROP(ScopeProp, NormaliseIsIdempotentAndImpliesEveryInput, ()) {
  std::vector<Scope> input = *g::scopes();
  std::vector<Scope> n = normalise(input);
  RC_ASSERT(normalise(n) == n);
  RC_ASSERT(n.empty() == input.empty());
  RC_ASSERT(n.size() <= 1u);
  for (Scope s : n) RC_ASSERT(std::find(input.begin(), input.end(), s) != input.end());
  for (Scope wanted : input) {
    RC_ASSERT(std::any_of(n.begin(), n.end(), [&](Scope held) { return implies(held, wanted); }));
  }
  auto top = effective_scope(input);
  RC_ASSERT(top.has_value() == !input.empty());
  if (top) RC_ASSERT(n == std::vector<Scope>{*top});
}

RC_GTEST_PROP(ScopeProp, ParseScopesAcceptsExactlyTheWireStrings, ()) {
  std::vector<std::string> texts = *g::scope_list();
  auto parsed = parse_scopes(texts);
  bool all_known = !texts.empty();
  for (const auto& s : texts) all_known = all_known && parse_scope(s).ok();
  RC_ASSERT(parsed.ok() == all_known);
  if (parsed.ok()) {
    RC_ASSERT(parsed->size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) RC_ASSERT(to_string((*parsed)[i]) == texts[i]);
  }
}

// --- base64 and JWT ---------------------------------------------------------------------------

RC_GTEST_PROP(Base64Prop, RoundTripsArbitraryBytes, (const std::string& bytes)) {
  std::string url = base64url_encode(bytes);
  RC_ASSERT(url.find_first_of("+/=") == std::string::npos);
  RC_ASSERT(url.size() == (bytes.size() * 4 + 2) / 3);
  auto back = base64url_decode(url);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == bytes);

  std::string std64 = base64_encode(bytes);
  RC_ASSERT(std64.size() == (bytes.size() + 2) / 3 * 4);
  auto back64 = base64_decode(std64);
  RC_ASSERT(back64.ok());
  RC_ASSERT(*back64 == bytes);
}

// Strict decoding accepts only canonical text: whatever decodes re-encodes to the same text.
RC_GTEST_PROP(Base64Prop, AcceptedTextIsCanonical, ()) {
  std::string text = *rc::gen::container<std::string>(
      rc::gen::element('A', 'Q', 'g', 'w', 'z', '0', '9', '-', '_', 'B', 'h'));
  auto decoded = base64url_decode(text);
  if (decoded.ok()) RC_ASSERT(base64url_encode(*decoded) == text);
}

RC_GTEST_PROP(JwtProp, DecodesWhatWasSigned, ()) {
  JwtHeader header = *g::jwt_header();
  JwtClaims claims = *g::jwt_claims();
  std::string signature = base64url_encode(*rc::gen::arbitrary<std::string>());
  std::string token = jwt_signing_input(header, claims) + "." + signature;
  auto jwt = decode_jwt(token);
  RC_ASSERT(jwt.ok());
  RC_ASSERT(jwt->header == header);
  RC_ASSERT(jwt->claims == claims);
  RC_ASSERT(jwt->signature == signature);
  RC_ASSERT(jwt->signing_input == jwt_signing_input(header, claims));
  RC_ASSERT(looks_like_jwt(token));
}

// --- UTF-8 ----------------------------------------------------------------------------------

RC_GTEST_PROP(Utf8Prop, CountEqualsAppendedCodePoints, ()) {
  auto cps = *rc::gen::container<std::vector<char32_t>>(g::code_point());
  std::string s = g::to_utf8(cps);
  auto n = utf8_code_points(s);
  RC_ASSERT(n.ok());
  RC_ASSERT(*n == cps.size());
  RC_ASSERT(is_valid_label(s) == (!cps.empty() && cps.size() <= kMaxLabelCodePoints));
}

RC_GTEST_PROP(Utf8Prop, AnyCodePointAppendsValidUtf8, (const std::vector<char32_t>& cps)) {
  std::string s;
  for (char32_t cp : cps) append_utf8(s, cp);
  auto n = utf8_code_points(s);
  RC_ASSERT(n.ok());
  RC_ASSERT(*n == cps.size());
}

// --- Listing query --------------------------------------------------------------------------

RC_GTEST_PROP(ListQueryProp, EveryIntegerSpellingParses, (std::int64_t n, std::int64_t size)) {
  const std::string s = std::to_string(n);
  for (const std::string& spelling : {s, s + ".0", s + ".000", s + "e0", s + "0e-1", s + "E%2B0"}) {
    auto q = parse_list_query("page=" + spelling + "&page_size=" + std::to_string(size));
    RC_ASSERT(q.ok());
    RC_ASSERT(q->page == n);
    RC_ASSERT(q->page_size == size);
  }
  auto half = parse_list_query("page_size=" + s + ".5");
  RC_ASSERT(!half.ok());
  RC_ASSERT(half.error().message.rfind("page_size: ", 0) == 0);
}

}  // namespace
}  // namespace patrol::model
