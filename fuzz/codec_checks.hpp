// Properties every strict codec keeps, shared by the codec fuzz targets: decoding never crashes
// and reports a typed, non-empty error, and whatever decodes re-encodes to a document that decodes
// to the same value and that compact JSON text carries unchanged.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "model/codec.hpp"
#include "model/utf8.hpp"

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

// True when the compact text of `j` parses back to `j`: every string and key is valid UTF-8
// (nlohmann's dump replaces invalid bytes) and every number is finite (NaN and infinities dump as
// null). nlohmann's serialiser and parser round-trip everything else exactly (shortest
// round-trip doubles, integers as integers), so this is what a text round trip can add to a
// round trip through the document, without a second parse per input.
inline bool survives_text(const model::Json& j) {
  switch (j.type()) {
    case model::Json::value_t::string:
      return model::utf8_code_points(j.get_ref<const std::string&>()).ok();
    case model::Json::value_t::number_float:
      return std::isfinite(j.get<double>());
    case model::Json::value_t::array:
      for (const auto& e : j) {
        if (!survives_text(e)) return false;
      }
      return true;
    case model::Json::value_t::object:
      for (const auto& [k, v] : j.items()) {
        if (!model::utf8_code_points(k).ok() || !survives_text(v)) return false;
      }
      return true;
    default:
      return true;
  }
}

// Checks the codec properties of T on one parsed document; returns the decoded value, if any.
// The round trip goes through the encoded document, and survives_text() stands for its text.
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
  const model::Json encoded = model::encode(*decoded);
  PATROL_FUZZ_CHECK(survives_text(encoded),
                    std::string(type_name) +
                        ": encodes to JSON its text cannot carry: " + model::encode_text(*decoded));
  auto again = model::decode<T>(encoded);
  PATROL_FUZZ_CHECK(again.ok(), std::string(type_name) + ": decode(encode(v)) failed: " +
                                    (again.ok() ? std::string() : again.error().message) +
                                    "\ntext: " + model::encode_text(*decoded));
  PATROL_FUZZ_CHECK(*again == *decoded,
                    std::string(type_name) + ": decode(encode(v)) != v\ninput: " +
                        doc.dump(-1, ' ', false, model::Json::error_handler_t::replace) +
                        "\ntext:  " + model::encode_text(*decoded));
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
