// UTF-8 validation and length in code points (contract 3.2: labels are 1..100 characters,
// invalid UTF-8 is a 400).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace patrol::model {

inline constexpr std::size_t kMaxLabelCodePoints = 100;

// Counts code points. Invalid UTF-8 (bad lead or continuation byte, overlong form, surrogate,
// value above U+10FFFF, truncated sequence) is kInvalid naming the byte offset.
Result<std::size_t> utf8_code_points(std::string_view text);

// True when the label is valid UTF-8 of 1..100 code points.
bool is_valid_label(std::string_view label);

// Appends the UTF-8 encoding of a code point (used by generators and tests). Surrogates and
// values above U+10FFFF, which have no encoding, append U+FFFD.
void append_utf8(std::string& out, char32_t code_point);

}  // namespace patrol::model
