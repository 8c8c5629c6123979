// Strict UTF-8 (RFC 3629): the well-formed byte sequences of Unicode 15 table 3-7, nothing else.
#include "model/utf8.hpp"

namespace patrol::model {

namespace {

Error invalid(std::string_view what, std::size_t at) {
  return make_error(ErrorKind::kInvalid,
                    "utf8: " + std::string(what) + " at offset " + std::to_string(at));
}

}  // namespace

Result<std::size_t> utf8_code_points(std::string_view text) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    // Bounds of the second byte narrow per lead byte to exclude overlongs, surrogates and
    // values above U+10FFFF (table 3-7).
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (b0 < 0x80) {
      len = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      if (b0 == 0xe0) lo = 0xa0;  // overlong below U+0800
      if (b0 == 0xed) hi = 0x9f;  // surrogates U+D800..U+DFFF
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      if (b0 == 0xf0) lo = 0x90;  // overlong below U+10000
      if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else if (b0 == 0xc0 || b0 == 0xc1) {
      return invalid("overlong two-byte sequence", i);
    } else if (b0 >= 0x80 && b0 <= 0xbf) {
      return invalid("unexpected continuation byte", i);
    } else {
      return invalid("invalid lead byte", i);
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= text.size()) return invalid("truncated sequence", i);
      auto b = static_cast<unsigned char>(text[i + k]);
      unsigned char min = k == 1 ? lo : 0x80;
      unsigned char max = k == 1 ? hi : 0xbf;
      if (b < 0x80 || b > 0xbf) return invalid("expected a continuation byte", i + k);
      if (b < min) return invalid("overlong sequence", i);
      if (b > max) {
        return invalid(b0 == 0xed ? "surrogate code point" : "code point above U+10FFFF", i);
      }
    }
    i += len;
    ++count;
  }
  return count;
}

bool is_valid_label(std::string_view label) {
  auto n = utf8_code_points(label);
  return n.ok() && *n >= 1 && *n <= kMaxLabelCodePoints;
}

void append_utf8(std::string& out, char32_t cp) {
  // Surrogates and values above U+10FFFF have no UTF-8 form; U+FFFD stands in for them.
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) cp = 0xfffd;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace patrol::model
