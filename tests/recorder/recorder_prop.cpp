// Properties of the recorder: no random secret survives into any written byte (journal or
// cassette, raw or base64-decoded), cassettes without secrets round-trip exactly, redaction is
// idempotent, and the JSON text helpers agree with nlohmann/json on texts of any layout.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <nlohmann/json.hpp>

#include "model/jwt.hpp"
#include "recorder/json_text.hpp"
#include "recorder/redactor.hpp"
#include "recorder/scan.hpp"
#include "recorder/writer.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using testing::json_headers;
using testing::make_interaction;
using testing::read_all;
using testing::ScratchDir;

rc::Gen<std::string> gen_secret() {
  return rc::gen::container<std::string>(
      *rc::gen::inRange<std::size_t>(12, 40),
      rc::gen::elementOf(
          std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")));
}

// One interaction carrying `secret` in one of the positions redaction covers, or leaking an
// earlier secret somewhere unexpected. Returns the secrets it introduced (to check later).
struct Built {
  Interaction interaction;
  std::vector<std::string> secrets;
};

Built build(int kind, const std::string& s, const std::vector<std::string>& earlier, bool binary) {
  Built b;
  auto jwt_of = [&](const std::string& seed) {
    return model::base64url_encode(R"({"alg":"HS256"})") + "." +
           model::base64url_encode(R"({"sub":"alice"})") + "." + model::base64url_encode(seed);
  };
  std::string pat = std::string("dckr") + "_pat_" + s.substr(0, 12) + s.substr(0, 12) + "abc";
  switch (kind) {
    case 0: {
      model::Headers h = json_headers();
      h.add("Authorization", "Bearer " + s);
      b.interaction = make_interaction("GET", "/v2/access-tokens", "", h, "", 200, {}, "{}");
      b.secrets = {s};
      break;
    }
    case 1: {
      model::Headers h;
      h.add("Authorization", "Basic " + model::base64_encode("alice:" + s));
      b.interaction = make_interaction("GET", "/token", "service=x", h, "", 200, {}, "{}");
      b.secrets = {s};
      break;
    }
    case 2: {
      std::string jwt = jwt_of(s);
      b.interaction = make_interaction("POST", "/v2/auth/token", "", json_headers(),
                                       R"({"identifier":"alice","secret":")" + s + "\"}", 200,
                                       json_headers(), R"({"access_token":")" + jwt + "\"}");
      b.secrets = {s, jwt.substr(jwt.rfind('.') + 1)};
      break;
    }
    case 3: {
      b.interaction = make_interaction("POST", "/v2/access-tokens", "", json_headers(), "{}", 201,
                                       json_headers(), R"({"uuid":"u","token":")" + pat + "\"}");
      b.secrets = {pat};
      break;
    }
    case 4: {
      model::Headers rq;
      rq.add("Cookie", "sid=" + s);
      model::Headers rs;
      rs.add("Set-Cookie", "sid=" + s + "x; Path=/");
      b.interaction = make_interaction("GET", "/", "", rq, "", 200, rs, "");
      b.secrets = {s, s + "x"};
      break;
    }
    case 5: {
      b.interaction =
          make_interaction("POST", "/v2/users/login", "access_token=" + s, json_headers(),
                           R"({"username":"bob","password":")" + s + "\"}", 401, json_headers(),
                           R"({"detail":"2fa","login_2fa_token":")" + s + "2\"}");
      b.secrets = {s, s + "2"};
      break;
    }
    default: {
      // A leak of an earlier secret in places no rule names: a header, an error text, the path.
      std::string old =
          earlier.empty() ? pat : earlier[static_cast<std::size_t>(kind) % earlier.size()];
      model::Headers h;
      h.add("X-Debug", "was " + old);
      b.interaction = make_interaction("GET", "/leak/" + old, "", {}, "", 500, h,
                                       "{\"message\":\"failed for " + old + " here\"}");
      if (earlier.empty()) b.secrets = {pat};
      break;
    }
  }
  if (binary)
    b.interaction.response.body = std::string("\xff\x00", 2) + b.interaction.response.body;
  return b;
}

RC_GTEST_PROP(RecorderProp, RandomSecretsNeverReachAWrittenByte, ()) {
  auto count = *rc::gen::inRange(1, 12);
  ScratchDir dir;
  std::string path = dir.file("p.har");
  auto w = CassetteWriter::open(path, WriterOptions{});
  RC_ASSERT(w.ok());
  std::vector<std::string> secrets;
  for (int i = 0; i < count; ++i) {
    auto kind = *rc::gen::inRange(0, 8);
    auto s = *gen_secret();
    auto binary = *rc::gen::arbitrary<bool>();
    Built b = build(kind, s, secrets, binary);
    RC_ASSERT((*w)->append(b.interaction).ok());
    secrets.insert(secrets.end(), b.secrets.begin(), b.secrets.end());
  }
  std::string journal = read_all(journal_path_for(path));
  RC_ASSERT((*w)->finish().ok());
  std::string har = read_all(path);
  auto cassette = read_cassette(path);
  RC_ASSERT(cassette.ok());
  std::string decoded;
  for (const auto& e : cassette->entries) {
    decoded += e.request.path + e.request.query + e.request.body + e.response.body;
    for (const auto& [k, v] : e.request.headers.entries) {
      decoded += v;
      if (v.rfind("Basic ", 0) == 0) decoded += model::base64_decode(v.substr(6)).value();
    }
    for (const auto& [k, v] : e.response.headers.entries) decoded += v;
  }
  // Whatever `patrol scan` would flag never reaches a cassette either.
  RC_ASSERT(find_secret_shapes(journal).empty());
  RC_ASSERT(find_secret_shapes(har).empty());
  RC_ASSERT(find_secret_shapes(decoded).empty());
  for (const auto& s : secrets) {
    RC_ASSERT(journal.find(s) == std::string::npos);
    RC_ASSERT(har.find(s) == std::string::npos);
    RC_ASSERT(decoded.find(s) == std::string::npos);
  }
}

rc::Gen<std::string> gen_token(std::size_t max) {
  return rc::gen::container<std::string>(
      *rc::gen::inRange<std::size_t>(1, max),
      rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz-ABC0123456789")));
}

RC_GTEST_PROP(RecorderProp, CassettesWithoutSecretsRoundTrip, ()) {
  Cassette c;
  c.info.annotations = {{"seed", *rc::gen::inRange(0, 1000)}};
  auto count = *rc::gen::inRange(0, 6);
  for (int i = 0; i < count; ++i) {
    Interaction it;
    it.origin = "http://127.0.0.1:" + std::to_string(*rc::gen::inRange(1, 65535));
    it.started = model::Timestamp{*rc::gen::inRange<std::int64_t>(0, 4'000'000'000'000'000)};
    it.duration_ms = *rc::gen::inRange(0, 100000) / 1000.0;
    it.request.method =
        *rc::gen::elementOf(std::vector<std::string>{"GET", "POST", "PATCH", "DELETE"});
    it.request.path = "/" + *rc::gen::container<std::string>(rc::gen::inRange<char>(1, 127));
    it.request.query = *gen_token(20) + "=" + *gen_token(20);
    auto headers = *rc::gen::inRange(0, 4);
    for (int h = 0; h < headers; ++h) it.request.headers.add("X-" + *gen_token(10), *gen_token(30));
    it.request.body = *rc::gen::arbitrary<std::string>();
    it.response.status = *rc::gen::inRange(100, 600);
    it.response.headers.add("Content-Type", "application/json");
    it.response.body = *rc::gen::arbitrary<std::string>();
    if (*rc::gen::arbitrary<bool>()) it.annotations = {{"command", *gen_token(10)}};
    c.entries.push_back(std::move(it));
  }
  ScratchDir dir;
  RC_ASSERT(write_cassette(dir.file("r.har"), c).ok());
  auto back = read_cassette(dir.file("r.har"));
  RC_ASSERT(back.ok());
  // Timestamps keep microseconds; durations keep three decimals.
  RC_ASSERT(*back == c);
}

RC_GTEST_PROP(RecorderProp, RedactionIsIdempotent, ()) {
  auto kind = *rc::gen::inRange(0, 7);
  Built b = build(kind, *gen_secret(), {}, *rc::gen::arbitrary<bool>());
  Redactor first;
  Interaction once = first.redact(b.interaction).get();
  Redactor second;
  RC_ASSERT(second.redact(once).get() == once);
}

// Texts of plain ASCII with the bytes that need care (quotes, backslashes, controls, UTF-8
// sequences, well-formed or not) at any offset, so they fall inside and across the 8-byte words
// the helpers test at once.
rc::Gen<std::string> gen_text_with_specials() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::weightedOneOf<std::string>({
          {8, rc::gen::container<std::string>(rc::gen::inRange<char>(0x20, 0x7f))},
          {1, rc::gen::elementOf(std::vector<std::string>{
                  "\"", "\\", "\n", std::string(1, '\0'),
                  "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xff",
                  "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"})},
      })),
      [](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& p : parts) out += p;
        return out;
      });
}

RC_GTEST_PROP(RecorderProp, JsonStringsAreWhatNlohmannReadsBack, ()) {
  const std::string text = *gen_text_with_specials();
  bool nlohmann_valid = true;
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::type_error&) {
    nlohmann_valid = false;
  }
  RC_ASSERT(detail::is_utf8(text) == nlohmann_valid);
  const auto back = nlohmann::json::parse(detail::json_string(text)).get<std::string>();
  if (nlohmann_valid) {
    RC_ASSERT(back == text);
  } else {
    RC_ASSERT(detail::is_utf8(back));
    RC_ASSERT(back != text);
  }
}

RC_GTEST_PROP(RecorderProp, FindTextIsStringViewFind, ()) {
  const auto alphabet = rc::gen::elementOf(std::string("ab k_"));
  const auto text = *rc::gen::container<std::string>(alphabet);
  const auto needle = *rc::gen::nonEmpty(rc::gen::container<std::string>(alphabet));
  const auto from = *rc::gen::inRange<std::size_t>(0, text.size() + 2);
  const auto anchor = *rc::gen::inRange<std::size_t>(0, needle.size() + 1);  // past the end: last
  RC_ASSERT(find_text(text, needle, from, anchor) == std::string_view(text).find(needle, from));
}

}  // namespace
}  // namespace patrol::recorder
