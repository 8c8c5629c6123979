// Fuzz target: the error body codecs of both profiles (contract 7, A3, A4). Input: any bytes, read
// as one JSON document and decoded as each type.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  model::Json doc;
  if (!fuzz::parse_fuzz_json({reinterpret_cast<const char*>(data), size}, doc)) return 0;
  if (auto hub = fuzz::check_codec<model::HubError>(doc, "HubError")) {
    fuzz::check_tolerances(hub->tolerated, "HubError");
    // contract 7: a hub error carries at least one of message, detail, text.
    PATROL_FUZZ_CHECK(hub->message || hub->detail || hub->text,
                      "HubError decoded without message, detail or text");
  }
  fuzz::check_codec<model::SpecValueError>(doc, "SpecValueError");
  fuzz::check_codec<model::SpecError>(doc, "SpecError");
  return 0;
}
