// Fuzz target: the token object codec (contract 2). Input: any bytes, read as one JSON document.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  if (auto token = fuzz::check_codec<model::AccessToken>(doc, "AccessToken")) {
    fuzz::check_tolerances(token->tolerated, "AccessToken");
    // contract 2: the checker requires a uuid on every token.
    PATROL_FUZZ_CHECK(doc.contains("uuid"), "AccessToken decoded without a uuid member");
  }
  return 0;
}
