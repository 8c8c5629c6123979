// Fuzz target: the R1 registry token response and its `access` entries (contract 5). Input: any
// bytes, read as one JSON document; a top-level `access` array is also decoded entry by entry.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  fuzz::check_codec<model::RegistryTokenResponse>(doc, "RegistryTokenResponse");
  fuzz::check_codec<model::AccessEntry>(doc, "AccessEntry");
  if (doc.is_object()) {
    auto access = doc.find("access");
    if (access != doc.end() && access->is_array()) {
      for (const auto& entry : *access) fuzz::check_codec<model::AccessEntry>(entry, "AccessEntry");
    }
  }
  return 0;
}
