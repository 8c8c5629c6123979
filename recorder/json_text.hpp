// Allocation-light JSON text helpers for the recorder's hot path: a string escaper for writing
// HAR entries without building a DOM, and a lexer that finds string values by key in raw JSON so
// redaction can replace secrets in place without re-serialising (and reformatting) a body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace patrol::recorder::detail {

// True when the bytes are well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_utf8(std::string_view bytes);

// Appends a JSON string literal (with quotes). Invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// Returns `text` as a JSON string literal.
std::string json_string(std::string_view text);

// One string literal found in raw JSON text: [begin, end) spans the quotes.
struct JsonStringToken {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool is_key = false;  // followed by ':'
};

// A string value whose key matched: the key's decoded text and the value's span.
struct KeyedString {
  std::string key;
  JsonStringToken value;
};

// Lists every string value that directly follows one of `keys` (at any depth). Tolerates invalid
// JSON: it only tokenises string literals, so a malformed body yields fewer matches, never a crash.
std::vector<KeyedString> find_string_values(std::string_view json,
                                            const std::vector<std::string_view>& keys);

// Lists every string literal that is a value (not a key), in order. Tolerates invalid JSON.
std::vector<JsonStringToken> find_string_tokens(std::string_view json);

// Decodes a JSON string literal including its quotes; nullopt when malformed.
std::optional<std::string> decode_json_string(std::string_view literal);

}  // namespace patrol::recorder::detail
