// Fuzz target: the E2 listing page codec (contract 6), including every token in `results`.
// Input: any bytes, read as one JSON document.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  if (auto page = fuzz::check_codec<model::TokenPage>(doc, "TokenPage")) {
    fuzz::check_tolerances(page->tolerated, "TokenPage");
    std::size_t from_results = 0;
    for (const auto& token : page->results) from_results += token.tolerated.size();
    PATROL_FUZZ_CHECK(page->tolerated.size() >= from_results,
                      "TokenPage.tolerated misses tolerances of its results");
  }
  return 0;
}
