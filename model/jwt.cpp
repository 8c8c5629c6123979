// JWTs read without verification (contract 4) and the base64 codecs under them (RFC 4648).
// Decoding is strict: foreign characters, wrong padding and non-zero trailing bits are errors,
// so every accepted text is the one canonical encoding of its bytes.
#include "model/jwt.hpp"

#include <array>

#include "model/codec.hpp"

namespace patrol::model {

namespace {

constexpr std::string_view kStandard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlSafe =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode_with(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  std::size_t left = bytes.size() - i;
  if (left == 1) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (left == 2) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

std::array<std::int8_t, 256> reverse_table(std::string_view alphabet) {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}

enum class Padding : std::uint8_t { kOptional, kRequired };

Result<std::string> decode_with(std::string_view text, std::string_view alphabet, Padding padding,
                                std::string_view name) {
  static const auto kStandardTable = reverse_table(kStandard);
  static const auto kUrlSafeTable = reverse_table(kUrlSafe);
  const auto& table = alphabet == kStandard ? kStandardTable : kUrlSafeTable;
  auto fail = [&](std::string what) {
    return make_error(ErrorKind::kParse, std::string(name) + ": " + what);
  };

  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string_view body = text.substr(0, text.size() - pad);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (table[static_cast<unsigned char>(body[i])] < 0) {
      return fail("invalid character at offset " + std::to_string(i));
    }
  }
  if (pad > 0 && (pad > 2 || text.size() % 4 != 0)) {
    return fail("invalid padding at offset " + std::to_string(body.size()));
  }
  if (pad == 0 && padding == Padding::kRequired && body.size() % 4 != 0) {
    return fail("missing padding (length " + std::to_string(text.size()) + ")");
  }
  if (body.size() % 4 == 1) {
    return fail("invalid length " + std::to_string(body.size()) + " (a lone final character)");
  }

  std::string out;
  out.reserve(body.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    std::int8_t v = table[static_cast<unsigned char>(body[i])];
    acc = ((acc << 6) | static_cast<std::uint32_t>(v)) & 0xffffffu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return fail("non-zero trailing bits at offset " + std::to_string(body.size() - 1));
  }
  return out;
}

// Decodes one base64url part of a compact JWT into a JSON document; errors name the part.
Result<Json> decode_part(std::string_view part, std::string_view name) {
  if (part.empty()) return make_error(ErrorKind::kParse, std::string(name) + ": empty");
  if (part.find('=') != std::string_view::npos) {
    return make_error(ErrorKind::kParse, std::string(name) + ": padding is not allowed in a JWT");
  }
  auto bytes = decode_with(part, kUrlSafe, Padding::kOptional, "base64url");
  if (!bytes.ok()) {
    return make_error(bytes.error().kind, std::string(name) + ": " + bytes.error().message);
  }
  auto json = parse_json(*bytes);
  if (!json.ok()) {
    return make_error(json.error().kind, std::string(name) + ": " + json.error().message);
  }
  return json;
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string base64url_encode(std::string_view bytes) { return encode_with(bytes, kUrlSafe, false); }

Result<std::string> base64url_decode(std::string_view text) {
  return decode_with(text, kUrlSafe, Padding::kOptional, "base64url");
}

std::string base64_encode(std::string_view bytes) { return encode_with(bytes, kStandard, true); }

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0Fu]);
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  return decode_with(text, kStandard, Padding::kRequired, "base64");
}

Result<Jwt> decode_jwt(std::string_view token) {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    std::size_t dots = 0;
    for (char c : token) dots += c == '.' ? 1 : 0;
    return make_error(ErrorKind::kParse,
                      "jwt: expected three dot-separated parts, got " + std::to_string(dots + 1));
  }
  std::string_view header_text = token.substr(0, first);
  std::string_view claims_text = token.substr(first + 1, second - first - 1);
  std::string_view signature = token.substr(second + 1);

  auto header_json = decode_part(header_text, "header");
  if (!header_json.ok()) return header_json.error();
  auto header = Codec<JwtHeader>::decode(*header_json, "header");
  if (!header.ok()) return header.error();

  auto claims_json = decode_part(claims_text, "claims");
  if (!claims_json.ok()) return claims_json.error();
  auto claims = Codec<JwtClaims>::decode(*claims_json, "claims");
  if (!claims.ok()) return claims.error();

  if (signature.find('=') != std::string_view::npos) {
    return make_error(ErrorKind::kParse, "signature: padding is not allowed in a JWT");
  }
  if (auto sig = base64url_decode(signature); !sig.ok()) {
    return make_error(sig.error().kind, "signature: " + sig.error().message);
  }

  Jwt jwt;
  jwt.header = std::move(header).value();
  jwt.claims = std::move(claims).value();
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::string(signature);
  return jwt;
}

std::string jwt_signing_input(const JwtHeader& header, const JwtClaims& claims) {
  return base64url_encode(encode_text(header)) + "." + base64url_encode(encode_text(claims));
}

bool looks_like_jwt(std::string_view text) {
  std::size_t dots = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (!is_base64url_char(c)) {
      return false;
    }
  }
  if (dots != 2) return false;
  auto first = text.find('.');
  auto second = text.find('.', first + 1);
  if (first == 0 || second == first + 1) return false;
  auto header = decode_part(text.substr(0, first), "header");
  return header.ok() && header->is_object();
}

}  // namespace patrol::model
