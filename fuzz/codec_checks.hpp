// Properties every strict codec keeps, shared by the codec fuzz targets: decoding never crashes
// and reports a typed, non-empty error, and whatever decodes re-encodes to compact text that
// decodes to the same value.
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
  auto decoded = model::decode<T>(doc);
  if (!decoded.ok()) {
    const model::Error& e = decoded.error();
    PATROL_FUZZ_CHECK(
        is_decode_error_kind(e.kind) && !e.message.empty(),
        std::string(type_name) + " decode error: " + model::to_string(e.kind) + ": " + e.message);
    return std::nullopt;
  }
  const std::string text = model::encode_text(*decoded);
  auto again = model::decode_text<T>(text);
  PATROL_FUZZ_CHECK(again.ok(), std::string(type_name) + ": decode_text(encode_text(v)) failed: " +
                                    (again.ok() ? std::string() : again.error().message) +
                                    "\ntext: " + text);
  PATROL_FUZZ_CHECK(*again == *decoded,
                    std::string(type_name) + ": decode_text(encode_text(v)) != v\ninput: " +
                        doc.dump(-1, ' ', false, model::Json::error_handler_t::replace) +
                        "\ntext:  " + text);
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
