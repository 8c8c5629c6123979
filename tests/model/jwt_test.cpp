// JWTs read without verification (contract 4) and the base64 codecs (RFC 4648).
#include "model/jwt.hpp"

#include <gtest/gtest.h>

#include "model/codec.hpp"

namespace patrol::model {
namespace {

TEST(Base64, Rfc4648TestVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(base64_encode(plain), encoded);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, plain);

    std::string unpadded = encoded.substr(0, encoded.find('='));
    EXPECT_EQ(base64url_encode(plain), unpadded);
    auto url_unpadded = base64url_decode(unpadded);
    ASSERT_TRUE(url_unpadded.ok()) << url_unpadded.error().message;
    EXPECT_EQ(*url_unpadded, plain);
    auto url_padded = base64url_decode(encoded);
    ASSERT_TRUE(url_padded.ok()) << url_padded.error().message;
    EXPECT_EQ(*url_padded, plain);
  }
}

TEST(Hex, LowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(hex_encode(std::string("\x00\xff\x1a\xa0", 4)), "00ff1aa0");
  EXPECT_EQ(hex_encode(""), "");
}

TEST(Base64, AlphabetsDiffer) {
  const std::string bytes = "\xfb\xff\xbf";
  EXPECT_EQ(base64_encode(bytes), "+/+/");
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_EQ(*base64url_decode("-_-_"), bytes);
  EXPECT_EQ(*base64_decode("+/+/"), bytes);
  EXPECT_FALSE(base64url_decode("+/+/").ok());
  EXPECT_FALSE(base64_decode("-_-_").ok());
}

TEST(Base64, StrictRejections) {
  struct Case {
    bool url;
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {true, "Zm9v+", "base64url: invalid character at offset 4"},
      {true, "Zm9v\n", "base64url: invalid character at offset 4"},
      {true, "Zm 9v", "base64url: invalid character at offset 2"},
      {true, "Zg=", "base64url: invalid padding at offset 2"},
      {true, "Zg===", "base64url: invalid padding at offset 2"},
      {true, "Zm9v====", "base64url: invalid padding at offset 4"},
      {true, "=", "base64url: invalid padding at offset 0"},
      {true, "Zm=v", "base64url: invalid character at offset 2"},
      {true, "Z", "base64url: invalid length 1 (a lone final character)"},
      {true, "Zm9vY", "base64url: invalid length 5 (a lone final character)"},
      {true, "Zh", "base64url: non-zero trailing bits at offset 1"},
      {true, "Zm9", "base64url: non-zero trailing bits at offset 2"},
      {false, "Zg", "base64: missing padding (length 2)"},
      {false, "Zm9vYmE", "base64: missing padding (length 7)"},
      {false, "Zh==", "base64: non-zero trailing bits at offset 1"},
      {false, "Zm9-", "base64: invalid character at offset 3"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = c.url ? base64url_decode(c.text) : base64_decode(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kParse);
    EXPECT_EQ(r.error().message, c.message);
  }
}

// Builds a JWT at run time (the repository holds no complete JWT-shaped string).
struct Built {
  JwtHeader header;
  JwtClaims claims;
  std::string token;
};

Built build_token() {
  Built b;
  b.header.alg = "HS256";
  b.header.typ = "JWT";
  b.claims.iss = "patrol-reference";
  b.claims.sub = "alice";
  b.claims.username = "alice";
  b.claims.aud = std::vector<std::string>{"patrol", "hub"};
  b.claims.aud_is_array = true;
  b.claims.iat = 1700000000;
  b.claims.exp = 1700000600;
  b.claims.jti = "jti-1";
  b.claims.scope = "repo:write";
  b.claims.extra = {{"patrol:pat_uuid", "b30bbf97-506c-4ecd-aabc-842f3cb484fb"}};
  AccessEntry entry;
  entry.type = "repository";
  entry.name = "alice/public";
  entry.actions = {"pull", "push"};
  b.claims.access = std::vector<AccessEntry>{entry};
  b.token = jwt_signing_input(b.header, b.claims) + "." + base64url_encode("signature bytes");
  return b;
}

std::string part(const Json& j) { return base64url_encode(j.dump()); }

TEST(Jwt, DecodesATokenBuiltInTheTest) {
  Built b = build_token();
  auto r = decode_jwt(b.token);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->header, b.header);
  EXPECT_EQ(r->claims, b.claims);
  EXPECT_EQ(r->signing_input, jwt_signing_input(b.header, b.claims));
  EXPECT_EQ(r->signature, base64url_encode("signature bytes"));
  EXPECT_EQ(r->claims.extra["patrol:pat_uuid"], "b30bbf97-506c-4ecd-aabc-842f3cb484fb");
  EXPECT_TRUE(looks_like_jwt(b.token));
}

TEST(Jwt, DecodesTheOpenapiExampleWithItsShortenedSignature) {
  std::string token = part({{"alg", "HS256"}, {"typ", "JWT"}}) + "." +
                      part({{"sub", "1234567890"}, {"name", "John Doe"}, {"iat", 1516239022}}) +
                      ".sig";
  auto r = decode_jwt(token);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->claims.sub, "1234567890");
  EXPECT_EQ(r->claims.iat, 1516239022);
  EXPECT_EQ(r->claims.extra["name"], "John Doe");
  EXPECT_EQ(r->signature, "sig");
}

TEST(Jwt, EmptySignatureIsAccepted) {
  std::string token = part({{"alg", "none"}}) + "." + part(Json::object()) + ".";
  auto r = decode_jwt(token);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->signature, "");
  EXPECT_EQ(r->header.alg, "none");
}

void expect_broken(const std::string& token, const std::string& message) {
  auto r = decode_jwt(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, message);
}

TEST(Jwt, EachBrokenPartIsNamed) {
  const std::string h = part({{"alg", "HS256"}});
  const std::string c = part({{"sub", "alice"}});
  expect_broken("abc", "jwt: expected three dot-separated parts, got 1");
  expect_broken("", "jwt: expected three dot-separated parts, got 1");
  expect_broken(h + "." + c, "jwt: expected three dot-separated parts, got 2");
  expect_broken(h + "." + c + ".s.t", "jwt: expected three dot-separated parts, got 4");
  expect_broken("." + c + ".sig", "header: empty");
  expect_broken("e@" + h + "." + c + ".sig", "header: base64url: invalid character at offset 1");
  expect_broken(h + "=." + c + ".sig", "header: padding is not allowed in a JWT");
  expect_broken(base64url_encode("not json") + "." + c + ".sig",
                "header: invalid JSON at offset 1 (line 1, column 2): syntax error while parsing "
                "value - invalid literal");
  expect_broken(part(Json::array()) + "." + c + ".sig", "header: expected object, got array");
  expect_broken(part({{"typ", "JWT"}}) + "." + c + ".sig", "header.alg: required");
  expect_broken(h + ".." + "sig", "claims: empty");
  std::string bad_claims = c;
  bad_claims[4] = '!';
  expect_broken(h + "." + bad_claims + ".sig", "claims: base64url: invalid character at offset 4");
  expect_broken(h + "." + part({{"exp", 1.5}}) + ".sig", "claims.exp: expected integer, got 1.5");
  expect_broken(h + "." + part({{"aud", 3}}) + ".sig",
                "claims.aud: expected string or array, got number");
  expect_broken(h + "." + part("claims") + ".sig", "claims: expected object, got string");
  expect_broken(h + "." + c + ".si!g", "signature: base64url: invalid character at offset 2");
  expect_broken(h + "." + c + ".s",
                "signature: base64url: invalid length 1 (a lone final character)");
  expect_broken(h + "." + c + ".sg==", "signature: padding is not allowed in a JWT");
}

TEST(Jwt, ErrorsNeverEchoTheToken) {
  Built b = build_token();
  std::string broken = b.token;
  broken.insert(broken.find('.') + 5, "*");
  auto r = decode_jwt(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("claims: ")) << r.error().message;
  std::string claims_part = b.token.substr(b.token.find('.') + 1, 12);
  EXPECT_EQ(r.error().message.find(claims_part), std::string::npos);
}

TEST(Jwt, LooksLikeJwt) {
  EXPECT_TRUE(looks_like_jwt(build_token().token));
  EXPECT_TRUE(looks_like_jwt(part({{"alg", "HS256"}}) + "." + part({{"a", 1}}) + ".sig"));
  EXPECT_TRUE(looks_like_jwt(part({{"alg", "none"}}) + "." + part({{"a", 1}}) + "."));
  EXPECT_FALSE(looks_like_jwt(""));
  EXPECT_FALSE(looks_like_jwt("a.b.c"));
  EXPECT_FALSE(looks_like_jwt("dckr_pat_" + std::string(27, 'x')));
  EXPECT_FALSE(looks_like_jwt(part({{"alg", "HS256"}}) + "." + part({{"a", 1}})));
  EXPECT_FALSE(looks_like_jwt(part(Json::array({1})) + "." + part({{"a", 1}}) + ".sig"));
  EXPECT_FALSE(looks_like_jwt(part({{"alg", "HS256"}}) + ".." + "sig"));
  EXPECT_FALSE(looks_like_jwt("Bearer " + build_token().token));
  EXPECT_FALSE(looks_like_jwt("b30bbf97-506c-4ecd-aabc-842f3cb484fb"));
}

TEST(Jwt, SigningInputIsTheTwoEncodedParts) {
  JwtHeader h;
  h.alg = "HS256";
  JwtClaims c;
  c.sub = "x";
  EXPECT_EQ(jwt_signing_input(h, c),
            base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode(R"({"sub":"x"})"));
}

}  // namespace
}  // namespace patrol::model
