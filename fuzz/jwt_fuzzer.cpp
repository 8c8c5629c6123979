// Fuzz target: compact JWTs read without verification, their header and claims codecs, and the
// base64 / base64url codecs (contract 4). Input: text; every line goes through every decoder, and
// its raw bytes through both encoders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/byte_reader.hpp"
#include "fuzz/codec_checks.hpp"
#include "fuzz/fuzz_check.hpp"
#include "model/jwt.hpp"

namespace patrol::fuzz {
namespace {

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Both encoders: output alphabet and length, and decoding gives the bytes back.
void check_encoders(std::string_view bytes) {
  const std::string url = model::base64url_encode(bytes);
  PATROL_FUZZ_CHECK(url.size() == (bytes.size() * 4 + 2) / 3, "base64url_encode length");
  for (char c : url)
    PATROL_FUZZ_CHECK(is_base64url_char(c), "base64url_encode wrote '" + url + "'");
  auto url_back = model::base64url_decode(url);
  PATROL_FUZZ_CHECK(url_back.ok() && *url_back == bytes,
                    "base64url round trip failed for '" + url + "'");

  const std::string std64 = model::base64_encode(bytes);
  PATROL_FUZZ_CHECK(std64.size() == (bytes.size() + 2) / 3 * 4, "base64_encode length");
  auto std_back = model::base64_decode(std64);
  PATROL_FUZZ_CHECK(std_back.ok() && *std_back == bytes,
                    "base64 round trip failed for '" + std64 + "'");
}

// Whatever either decoder accepts re-encodes to text that decodes to the same bytes.
void check_decoders(std::string_view text) {
  if (auto bytes = model::base64url_decode(text); bytes.ok()) {
    auto again = model::base64url_decode(model::base64url_encode(*bytes));
    PATROL_FUZZ_CHECK(again.ok() && *again == *bytes, "base64url decode/encode/decode differs");
  } else {
    PATROL_FUZZ_CHECK(!bytes.error().message.empty(), "base64url_decode error without message");
  }
  if (auto bytes = model::base64_decode(text); bytes.ok()) {
    auto again = model::base64_decode(model::base64_encode(*bytes));
    PATROL_FUZZ_CHECK(again.ok() && *again == *bytes, "base64 decode/encode/decode differs");
  } else {
    PATROL_FUZZ_CHECK(!bytes.error().message.empty(), "base64_decode error without message");
  }
}

// The header and claims codecs on the JSON inside the first two parts, whether or not the whole
// token decodes.
void check_part_codecs(std::string_view token) {
  auto [header_part, rest] = split_once(token, '.');
  auto [claims_part, signature] = split_once(rest, '.');
  model::Json doc;
  if (auto header = model::base64url_decode(header_part); header.ok()) {
    if (parse_fuzz_json(*header, doc)) check_codec<model::JwtHeader>(doc, "JwtHeader");
  }
  if (auto claims = model::base64url_decode(claims_part); claims.ok()) {
    if (parse_fuzz_json(*claims, doc)) check_codec<model::JwtClaims>(doc, "JwtClaims");
  }
}

void check_jwt(std::string_view token) {
  auto jwt = model::decode_jwt(token);
  const bool looks = model::looks_like_jwt(token);
  if (!jwt.ok()) {
    PATROL_FUZZ_CHECK(!jwt.error().message.empty(), "decode_jwt error without message");
    return;
  }
  PATROL_FUZZ_CHECK(looks,
                    "decode_jwt accepted what looks_like_jwt rejects: " + std::string(token));
  const std::size_t last_dot = token.rfind('.');
  PATROL_FUZZ_CHECK(last_dot != std::string_view::npos &&
                        jwt->signing_input == token.substr(0, last_dot) &&
                        jwt->signature == token.substr(last_dot + 1),
                    "signing_input/signature are not the token's parts");

  // Rebuilding from the decoded values gives a token that decodes to the same values, and the
  // rebuilt signing input is a fixed point.
  const std::string input = model::jwt_signing_input(jwt->header, jwt->claims);
  auto rebuilt = model::decode_jwt(input + "." + jwt->signature);
  PATROL_FUZZ_CHECK(rebuilt.ok(), "decode_jwt rejects jwt_signing_input's output: " +
                                      (rebuilt.ok() ? std::string() : rebuilt.error().message));
  PATROL_FUZZ_CHECK(rebuilt->header == jwt->header, "JWT header changed through re-encoding");
  PATROL_FUZZ_CHECK(rebuilt->claims == jwt->claims, "JWT claims changed through re-encoding");
  PATROL_FUZZ_CHECK(model::jwt_signing_input(rebuilt->header, rebuilt->claims) == input,
                    "jwt_signing_input is not a fixed point");
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  patrol::fuzz::ByteReader in(data, size);
  while (!in.empty()) {
    const std::string_view line = in.line();
    patrol::fuzz::check_encoders(line);
    patrol::fuzz::check_decoders(line);
    patrol::fuzz::check_part_codecs(line);
    patrol::fuzz::check_jwt(line);
  }
  return 0;
}
