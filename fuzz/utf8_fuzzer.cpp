// Fuzz target: UTF-8 validation and label length in code points (contract 3.2, A25). Input: any
// bytes, taken whole as one label. The model is compared with an independent decoder written here
// from RFC 3629's table of well-formed sequences.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "model/utf8.hpp"

namespace patrol::fuzz {
namespace {

// Decodes strictly per RFC 3629 section 4; nullopt on any ill-formed sequence.
std::optional<std::vector<char32_t>> reference_decode(std::string_view s) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    char32_t cp = 0;
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0F;
      if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
      if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07;
      if (b0 == 0xF0) lo = 0x90;  // no overlong forms
      if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char b = byte(i + k);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto count = model::utf8_code_points(text);
  auto expected = fuzz::reference_decode(text);
  PATROL_FUZZ_CHECK(count.ok() == expected.has_value(),
                    count.ok()
                        ? std::string("utf8_code_points accepted ill-formed UTF-8")
                        : "utf8_code_points rejected well-formed UTF-8: " + count.error().message);
  if (!count.ok()) {
    PATROL_FUZZ_CHECK(
        count.error().kind == model::ErrorKind::kInvalid && !count.error().message.empty(),
        "utf8_code_points error: " + count.error().message);
  } else {
    PATROL_FUZZ_CHECK(*count == expected->size(), "utf8_code_points counted " +
                                                      std::to_string(*count) + ", reference " +
                                                      std::to_string(expected->size()));
    std::string reencoded;
    for (char32_t cp : *expected) model::append_utf8(reencoded, cp);
    PATROL_FUZZ_CHECK(reencoded == text, "append_utf8 does not re-encode the decoded code points");
  }
  // contract 3.2: 1..100 code points of valid UTF-8.
  const bool valid_label =
      expected && !expected->empty() && expected->size() <= model::kMaxLabelCodePoints;
  PATROL_FUZZ_CHECK(model::is_valid_label(text) == valid_label,
                    std::string("is_valid_label is ") + (valid_label ? "false" : "true") +
                        " for a label of " +
                        (expected ? std::to_string(expected->size()) + " code points"
                                  : std::string("ill-formed UTF-8")));
  return 0;
}
