// Properties every strict codec keeps, shared by the codec fuzz targets: decoding never crashes
// and reports a typed, non-empty error; whatever decodes re-encodes to a document that decodes to
// the same value, both as JSON and through the compact text; and encoding is a fixed point.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "model/codec.hpp"

namespace patrol::fuzz {

// True for the kinds a decoder may report; anything else (kIo, kInternal...) is a bug.
inline bool is_decode_error_kind(model::ErrorKind kind) {
  return kind == model::ErrorKind::kParse || kind == model::ErrorKind::kType ||
         kind == model::ErrorKind::kMissing || kind == model::ErrorKind::kInvalid;
}

// Parses fuzz bytes as JSON into `out`; false when they are not JSON, in which case the error must
// still be a well-formed error value.
inline bool parse_fuzz_json(std::string_view text, model::Json& out) {
  auto parsed = model::parse_json(text);
  if (!parsed.ok()) {
    PATROL_FUZZ_CHECK(is_decode_error_kind(parsed.error().kind) && !parsed.error().message.empty(),
                      "parse_json error: " + std::string(model::to_string(parsed.error().kind)) +
                          ": " + parsed.error().message);
    return false;
  }
  out = std::move(parsed).value();
  return true;
}

// Checks the codec properties of T on one parsed document; returns the decoded value, if any.
template <class T>
std::optional<T> check_codec(const model::Json& doc, std::string_view type_name) {
  const std::string name(type_name);
  auto decoded = model::decode<T>(doc);
  if (!decoded.ok()) {
    const model::Error& e = decoded.error();
    PATROL_FUZZ_CHECK(is_decode_error_kind(e.kind) && !e.message.empty(),
                      name + " decode error: " + model::to_string(e.kind) + ": " + e.message);
    return std::nullopt;
  }

  const model::Json encoded = model::encode(*decoded);
  auto again = model::decode<T>(encoded);
  PATROL_FUZZ_CHECK(again.ok(),
                    name + ": re-decoding its own encoding failed: " +
                        (again.ok() ? std::string() : again.error().message) + "\nencoded: " +
                        encoded.dump(-1, ' ', false, model::Json::error_handler_t::replace));
  PATROL_FUZZ_CHECK(
      *again == *decoded,
      name + ": decode(encode(v)) != v\ninput:   " +
          doc.dump(-1, ' ', false, model::Json::error_handler_t::replace) +
          "\nencoded: " + encoded.dump(-1, ' ', false, model::Json::error_handler_t::replace));

  const std::string text = model::encode_text(*decoded);
  auto from_text = model::decode_text<T>(text);
  PATROL_FUZZ_CHECK(from_text.ok(),
                    name + ": decode_text(encode_text(v)) failed: " +
                        (from_text.ok() ? std::string() : from_text.error().message) +
                        "\ntext: " + text);
  PATROL_FUZZ_CHECK(*from_text == *decoded,
                    name + ": decode_text(encode_text(v)) != v\ntext: " + text);
  PATROL_FUZZ_CHECK(model::encode_text(*from_text) == text,
                    name + ": encoding is not a fixed point\nfirst:  " + text +
                        "\nsecond: " + model::encode_text(*from_text));
  return std::move(decoded).value();
}

// Every hub-profile leniency a decoder applied names its contract point and what it did.
inline void check_tolerances(const std::vector<model::Tolerance>& tolerated,
                             std::string_view type_name) {
  for (const auto& t : tolerated) {
    PATROL_FUZZ_CHECK(!t.point.empty() && !t.note.empty(),
                      std::string(type_name) + ": tolerance without a contract point or note at '" +
                          t.path + "'");
  }
}

}  // namespace patrol::fuzz
