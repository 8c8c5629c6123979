// Randomness and signatures of the reference server: PAT secrets, uuids and opaque handles from
// OpenSSL's CSPRNG, and HS256 JWTs signed and verified with a key drawn once per signer.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::server {

// Returns "dckr_pat_" followed by 27 characters of the url-safe base64 alphabet (contract 2).
std::string random_pat_secret();

// Returns a random version-4 uuid in canonical lower-case form.
std::string random_uuid();

// Returns `bytes` random bytes as lower-case hex.
std::string random_hex(std::size_t bytes);

// Signs and verifies HS256 JWTs with a random 256-bit key fixed at construction. Thread-safe.
// A token that verified once is remembered with its claims (a bounded set), so that the
// bearer JWT a client presents on every request is decoded and MACed once, not per request:
// the result for a given string and key never changes.
class JwtSigner {
 public:
  JwtSigner();
  ~JwtSigner();
  JwtSigner(JwtSigner&&) noexcept;
  JwtSigner& operator=(JwtSigner&&) noexcept;

  // Returns the compact JWT "<header>.<claims>.<signature>" for the claims.
  std::string sign(const model::JwtClaims& claims) const;

  // Checks the signature (and that the header names HS256) and returns the decoded claims. The
  // claims' times are not checked here.
  model::Result<model::JwtClaims> verify(std::string_view token) const;
  // verify() sharing the remembered claims instead of copying them.
  model::Result<std::shared_ptr<const model::JwtClaims>> verify_shared(
      std::string_view token) const;

  // Decodes the claims without checking the signature (used only by a fault).
  static model::Result<model::JwtClaims> read_unverified(std::string_view token);

 private:
  std::string mac(std::string_view signing_input) const;

  std::array<unsigned char, 32> key_{};
  struct Verified;
  std::unique_ptr<Verified> verified_;
};

}  // namespace patrol::server
