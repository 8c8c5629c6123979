// The yardstick for the codec fuzz targets' speed: a libFuzzer target that only parses its input
// with nlohmann::json (no exceptions) and does nothing else. Run it over a codec target's corpus
// with the same flags and time, and compare exec/s:
//
//   build/fuzz/bench/json_parse_baseline -max_total_time=20 -print_final_stats=1 \
//       "$(mktemp -d)" corpora/token_page_codec_fuzzer
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  return 0;
}
