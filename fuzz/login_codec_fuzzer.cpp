// Fuzz target: the A2 login and 2FA codecs (contract 1 A2, 4). Input: any bytes, read as one JSON
// document and decoded as each type.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  fuzz::check_codec<model::LoginRequest>(doc, "LoginRequest");
  fuzz::check_codec<model::LoginSuccess>(doc, "LoginSuccess");
  fuzz::check_codec<model::LoginError>(doc, "LoginError");
  fuzz::check_codec<model::TwoFactorLoginRequest>(doc, "TwoFactorLoginRequest");
  return 0;
}
