// Fuzz target: the A1 request and response codecs (contract 1, A1). Input: any bytes, read as one
// JSON document and decoded as each type.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  fuzz::check_codec<model::AuthTokenRequest>(doc, "AuthTokenRequest");
  fuzz::check_codec<model::AuthTokenResponse>(doc, "AuthTokenResponse");
  return 0;
}
