// Strict JSON codecs for the contract types. Decoding never throws: it returns a Result whose
// error names the JSON path and the reason ("results[3].scopes[0]: expected string, got number").
// Encoding writes every member the value holds, then its `extra` members.
#pragma once

#include <string>
#include <string_view>

#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::model {

// Codec<T>::decode(json, path) and Codec<T>::encode(value) for every contract type.
template <class T>
struct Codec;

#define PATROL_DECLARE_CODEC(T)                                      \
  template <>                                                        \
  struct Codec<T> {                                                  \
    static Result<T> decode(const Json& j, const std::string& path); \
    static Json encode(const T& value);                              \
  };                                                                 \
  inline void to_json(Json& j, const T& v) { j = Codec<T>::encode(v); }

PATROL_DECLARE_CODEC(CreateTokenRequest)
PATROL_DECLARE_CODEC(PatchTokenRequest)
PATROL_DECLARE_CODEC(AccessToken)
PATROL_DECLARE_CODEC(TokenPage)
PATROL_DECLARE_CODEC(AuthTokenRequest)
PATROL_DECLARE_CODEC(AuthTokenResponse)
PATROL_DECLARE_CODEC(LoginRequest)
PATROL_DECLARE_CODEC(LoginSuccess)
PATROL_DECLARE_CODEC(LoginError)
PATROL_DECLARE_CODEC(TwoFactorLoginRequest)
PATROL_DECLARE_CODEC(RegistryTokenResponse)
PATROL_DECLARE_CODEC(AccessEntry)
PATROL_DECLARE_CODEC(JwtHeader)
PATROL_DECLARE_CODEC(JwtClaims)
PATROL_DECLARE_CODEC(HubError)
PATROL_DECLARE_CODEC(SpecValueError)
PATROL_DECLARE_CODEC(SpecError)

#undef PATROL_DECLARE_CODEC

// Parses JSON text without throwing. The error names the byte offset and what was expected.
// Texts larger than kMaxBodyBytes are refused (kInvalid) before parsing.
// Texts nested deeper than kMaxJsonDepth arrays/objects are refused (kInvalid), so that the
// recursive parts of nlohmann (copy, compare, dump) stay within the stack.
inline constexpr std::size_t kMaxBodyBytes = 8u << 20;
inline constexpr std::size_t kMaxJsonDepth = 256;
Result<Json> parse_json(std::string_view text);

// Decodes a value from a parsed JSON document; the root path is "" (errors read "token_label: ...",
// or "$: expected object, got array" for the root itself).
template <class T>
Result<T> decode(const Json& j) {
  return Codec<T>::decode(j, "");
}

// Parses JSON text and decodes a T from it.
template <class T>
Result<T> decode_text(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed.ok()) return parsed.error();
  return Codec<T>::decode(*parsed, "");
}

template <class T>
Json encode(const T& value) {
  return Codec<T>::encode(value);
}

// Serialises compactly (as the Hub does). Invalid UTF-8 in strings is replaced, never thrown.
template <class T>
std::string encode_text(const T& value) {
  return Codec<T>::encode(value).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Returns the JSON type name used in decode errors: "object", "array", "string", "number",
// "boolean", "null".
const char* json_type_name(const Json& j);

}  // namespace patrol::model
