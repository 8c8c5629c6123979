#include "server/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "model/jwt.hpp"

namespace patrol::server {
namespace {

constexpr std::string_view kUrlSafeAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void fill_random(unsigned char* out, std::size_t n) {
  // RAND_bytes fails only when the CSPRNG cannot be seeded; handing out predictable secrets
  // would be worse than stopping.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

}  // namespace

std::string random_pat_secret() {
  unsigned char bytes[27];
  fill_random(bytes, sizeof bytes);
  std::string out = "dckr_pat_";
  // 64 divides 256, so taking the low six bits keeps every character equally likely.
  for (unsigned char b : bytes) out.push_back(kUrlSafeAlphabet[b & 0x3Fu]);
  return out;
}

std::string random_uuid() {
  unsigned char b[16];
  fill_random(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0Fu) | 0x40u);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3Fu) | 0x80u);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0Fu]);
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string b(bytes, '\0');
  fill_random(reinterpret_cast<unsigned char*>(b.data()), b.size());
  return model::hex_encode(b);
}

// Tokens known to verify, with their claims. Cleared whole when full: a run presents a handful
// of session JWTs many times each, so the bound is rarely reached and refilling is cheap.
struct JwtSigner::Verified {
  static constexpr std::size_t kCapacity = 4096;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const model::JwtClaims>, Hash, std::equal_to<>>
      claims;

  void remember(std::string_view token, std::shared_ptr<const model::JwtClaims> c) {
    std::lock_guard<std::mutex> lock(mu);
    if (claims.size() >= kCapacity) claims.clear();
    claims.insert_or_assign(std::string(token), std::move(c));
  }
  std::shared_ptr<const model::JwtClaims> find(std::string_view token) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = claims.find(token);
    return it == claims.end() ? nullptr : it->second;
  }
};

JwtSigner::JwtSigner() : verified_(std::make_unique<Verified>()) {
  fill_random(key_.data(), key_.size());
}
JwtSigner::~JwtSigner() = default;
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;
JwtSigner& JwtSigner::operator=(JwtSigner&&) noexcept = default;

std::string JwtSigner::mac(std::string_view signing_input) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
           digest, &length) == nullptr) {
    std::abort();  // HMAC-SHA256 over memory cannot fail short of a broken libcrypto
  }
  return model::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string JwtSigner::sign(const model::JwtClaims& claims) const {
  model::JwtHeader header;
  header.alg = "HS256";
  header.typ = "JWT";
  std::string input = model::jwt_signing_input(header, claims);
  std::string signature = mac(input);
  return input + "." + signature;
}

model::Result<std::shared_ptr<const model::JwtClaims>> JwtSigner::verify_shared(
    std::string_view token) const {
  if (auto known = verified_->find(token)) return known;
  auto jwt = model::decode_jwt(token);
  if (!jwt.ok()) return jwt.error();
  if (jwt->header.alg != "HS256") {
    return model::make_error(model::ErrorKind::kInvalid,
                             "jwt: algorithm '" + jwt->header.alg + "' is not accepted");
  }
  std::string expected = mac(jwt->signing_input);
  if (expected.size() != jwt->signature.size() ||
      CRYPTO_memcmp(expected.data(), jwt->signature.data(), expected.size()) != 0) {
    return model::make_error(model::ErrorKind::kInvalid, "jwt: signature does not verify");
  }
  auto claims = std::make_shared<const model::JwtClaims>(std::move(jwt->claims));
  verified_->remember(token, claims);
  return claims;
}

model::Result<model::JwtClaims> JwtSigner::verify(std::string_view token) const {
  auto claims = verify_shared(token);
  if (!claims.ok()) return claims.error();
  return **claims;
}

model::Result<model::JwtClaims> JwtSigner::read_unverified(std::string_view token) {
  auto jwt = model::decode_jwt(token);
  if (!jwt.ok()) return jwt.error();
  return std::move(jwt->claims);
}

}  // namespace patrol::server
