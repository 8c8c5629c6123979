// Fuzz target: the HAR cassette reader. Input: any bytes, read as a cassette. Decoding never
// crashes and reports a typed error without secrets in it; a cassette that decodes, written back
// the way the cassette writer lays it out (redacting every entry), decodes to exactly the redacted
// entries and holds nothing the secret scan would flag.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/codec_checks.hpp"
#include "fuzz/fuzz_check.hpp"
#include "recorder/cassette.hpp"
#include "recorder/har_format.hpp"
#include "recorder/redactor.hpp"
#include "recorder/scan.hpp"

namespace patrol::fuzz {
namespace {

// Replaces each finding with its masked excerpt, so a failure report never prints a secret.
std::string mask_findings(std::string_view text,
                          const std::vector<recorder::SecretFinding>& found) {
  std::string out;
  std::size_t at = 0;
  for (const auto& f : found) {
    out.append(text.substr(at, f.offset - at));
    out += recorder::masked_excerpt(text.substr(f.offset, f.length));
    at = f.offset + f.length;
  }
  out.append(text.substr(at));
  return out;
}

// The writer's layout (write_cassette in writer.cpp): log head, entries one per line separated by
// ",\n", log tail. The redacted entries are returned in `redacted`.
std::string encode_cassette(const recorder::Cassette& cassette,
                            std::vector<recorder::Interaction>& redacted,
                            recorder::CassetteInfo& info) {
  recorder::Redactor redactor;
  info = cassette.info;
  if (!info.annotations.is_null()) info.annotations = redactor.redact_json(info.annotations);
  std::string text = recorder::detail::encode_log_head(info);
  for (std::size_t i = 0; i < cassette.entries.size(); ++i) {
    if (i > 0) text += ",\n";
    recorder::Redacted entry = redactor.redact(cassette.entries[i]);
    text += recorder::detail::encode_entry(entry);
    redacted.push_back(entry.get());
  }
  if (!cassette.entries.empty()) text += '\n';
  text += recorder::detail::kLogTail;
  return text;
}

// Entries are equal but for what the writer normalises: `time` is kept in milliseconds with three
// decimals (a negative or non-finite duration is written as 0), and a raw query has the characters
// a URL cannot hold percent-encoded.
bool same_entry(recorder::Interaction a, const recorder::Interaction& b) {
  const double expected = std::isfinite(a.duration_ms) && a.duration_ms > 0 ? a.duration_ms : 0;
  if (std::fabs(expected - b.duration_ms) > 0.0005 + 1e-12 * expected) return false;
  a.duration_ms = b.duration_ms;
  if (auto url = recorder::split_url(recorder::entry_url(a)); url.ok()) {
    a.request.query = url->query;
  }
  return a == b;
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cassette = recorder::decode_har(text);
  if (!cassette.ok()) {
    const model::Error& e = cassette.error();
    PATROL_FUZZ_CHECK(
        fuzz::is_decode_error_kind(e.kind) && !e.message.empty(),
        "decode_har error: " + std::string(model::to_string(e.kind)) + ": " + e.message);
    const auto leaks = recorder::find_secret_shapes(e.message);
    PATROL_FUZZ_CHECK(leaks.empty(),
                      "decode_har error message holds a " +
                          std::string(leaks.empty() ? "" : recorder::to_string(leaks[0].shape)) +
                          " shape: " + fuzz::mask_findings(e.message, leaks));
    return 0;
  }

  std::vector<recorder::Interaction> redacted;
  recorder::CassetteInfo info;
  const std::string written = fuzz::encode_cassette(*cassette, redacted, info);
  const auto shapes = recorder::find_secret_shapes(written);
  PATROL_FUZZ_CHECK(shapes.empty(),
                    "a written cassette holds a " +
                        std::string(shapes.empty() ? "" : recorder::to_string(shapes[0].shape)) +
                        " shape:\n" + fuzz::mask_findings(written, shapes));

  auto again = recorder::decode_har(written);
  PATROL_FUZZ_CHECK(again.ok(), "decode_har rejects a cassette laid out by the writer: " +
                                    (again.ok() ? std::string() : again.error().message));
  PATROL_FUZZ_CHECK(again->info == info, "cassette info changed through writing");
  PATROL_FUZZ_CHECK(again->entries.size() == redacted.size(),
                    "entry count changed through writing");
  for (std::size_t i = 0; i < redacted.size(); ++i) {
    PATROL_FUZZ_CHECK(fuzz::same_entry(redacted[i], again->entries[i]),
                      "entry " + std::to_string(i) +
                          " changed through writing: " + again->entries[i].request.target_line());
  }
  return 0;
}
