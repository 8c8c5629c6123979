// Fuzz target: the E1 create and E4 patch request codecs (contract 3.2-3.5). Input: any bytes,
// read as one JSON document and decoded as each request type.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  fuzz::check_codec<model::CreateTokenRequest>(doc, "CreateTokenRequest");
  if (auto patch = fuzz::check_codec<model::PatchTokenRequest>(doc, "PatchTokenRequest")) {
    // contract 3.5 / A15: scopes and expires_at in a PATCH are kept aside, never lost.
    for (const char* key : {"scopes", "expires_at"}) {
      PATROL_FUZZ_CHECK(!doc.contains(key) || patch->extra.contains(key),
                        std::string("PatchTokenRequest dropped '") + key + "'");
    }
  }
  return 0;
}
