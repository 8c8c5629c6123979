// Reads a fuzz input front to back: single bytes, lines and delimited fields.
// Ours rather than clang's FuzzedDataProvider (which reads integers from the end and exists only
// under clang), so one corpus file means the same thing in the gcc replay and under libFuzzer, and
// text seeds stay hand-writable. Reading past the end yields empty values, never an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace patrol::fuzz {

// A cursor over one fuzz input.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size)
      : text_(reinterpret_cast<const char*>(data), size) {}
  explicit ByteReader(std::string_view text) : text_(text) {}

  bool empty() const { return pos_ >= text_.size(); }

  // Returns the next byte and consumes it; 0 past the end.
  std::uint8_t byte() {
    if (pos_ >= text_.size()) return 0;
    return static_cast<std::uint8_t>(text_[pos_++]);
  }

  // Returns everything not read yet and consumes it.
  std::string_view rest() {
    std::string_view out = text_.substr(pos_);
    pos_ = text_.size();
    return out;
  }

  // Returns the text up to the next `delimiter` (not included) and consumes the delimiter too;
  // the rest of the input when there is none.
  std::string_view until(char delimiter) {
    std::string_view tail = text_.substr(pos_);
    std::size_t end = tail.find(delimiter);
    if (end == std::string_view::npos) {
      pos_ = text_.size();
      return tail;
    }
    pos_ += end + 1;
    return tail.substr(0, end);
  }

  // Returns the next line without its '\n' (and without a '\r' before it).
  std::string_view line() {
    std::string_view out = until('\n');
    if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
    return out;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Splits `text` at the first `delimiter`: {before, after}; {text, ""} when absent.
inline std::pair<std::string_view, std::string_view> split_once(std::string_view text,
                                                                char delimiter) {
  std::size_t at = text.find(delimiter);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + 1)};
}

}  // namespace patrol::fuzz
