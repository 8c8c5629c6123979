// JSON Web Tokens read without verification (contract 4): three base64url parts, header and
// claims decoded strictly. Also base64/base64url codecs used by JWTs and HTTP Basic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::model {

// base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view bytes);
// Accepts base64url with or without padding; rejects other characters.
Result<std::string> base64url_decode(std::string_view text);
// Standard base64 with padding (HTTP Basic).
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);
// Lower-case hex, two digits a byte.
std::string hex_encode(std::string_view bytes);

struct Jwt {
  JwtHeader header;
  JwtClaims claims;
  std::string signing_input;  // "<header b64>.<claims b64>", what the signature covers
  std::string signature;      // the third part as sent (base64url text, may be empty)
};

// Splits and decodes a compact JWT. Errors name the part ("header", "claims", "signature") and
// the reason. The signature is not verified.
Result<Jwt> decode_jwt(std::string_view token);

// Builds "<header b64>.<claims b64>" for a signer to append ".<signature>".
std::string jwt_signing_input(const JwtHeader& header, const JwtClaims& claims);

// True if the text looks like a compact JWT (three base64url parts, the first decoding to a JSON
// object). Cheap enough for scanning.
bool looks_like_jwt(std::string_view text);

}  // namespace patrol::model
