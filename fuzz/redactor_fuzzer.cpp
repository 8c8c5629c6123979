// Fuzz target: the recorder's redactor. Input: one interaction in the text form of
// interaction_text.hpp, with $PAT / $JWT / $PW planted anywhere. The harness first shows the
// redactor each secret where a credential belongs (Authorization: Bearer / Basic, the declared
// password), as a recording does; after that no planted secret (nor a JWT's signature) may survive
// anywhere, glued to other text or not, nothing the secret scan would flag may be left, and
// redaction is idempotent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/codec_checks.hpp"
#include "fuzz/fuzz_check.hpp"
#include "fuzz/interaction_text.hpp"
#include "model/codec.hpp"
#include "recorder/redactor.hpp"
#include "recorder/scan.hpp"

namespace patrol::fuzz {
namespace {

const PlantedSecrets& secrets() {
  static const PlantedSecrets s = PlantedSecrets::make();
  return s;
}

std::vector<recorder::DeclaredSecret> declared() {
  return {{secrets().password, "password:alice"}};
}

// Names the first planted secret or scan finding in `text`, or returns "".
std::string leak_in(std::string_view text) {
  for (std::string_view secret : secrets().all()) {
    if (text.find(secret) != std::string_view::npos) {
      return "planted secret " + recorder::masked_excerpt(secret);
    }
  }
  auto shapes = recorder::find_secret_shapes(text);
  if (!shapes.empty()) {
    return std::string(recorder::to_string(shapes.front().shape)) + " shape " +
           recorder::masked_excerpt(text.substr(shapes.front().offset, shapes.front().length));
  }
  return {};
}

void check_no_leak(std::string_view where, std::string_view text) {
  const std::string leak = leak_in(text);
  PATROL_FUZZ_CHECK(leak.empty(), std::string(where) + " still holds a " + leak);
}

void check_clean(const recorder::Interaction& r) {
  check_no_leak("method", r.request.method);
  check_no_leak("path", r.request.path);
  check_no_leak("query", r.request.query);
  check_no_leak("request body", r.request.body);
  check_no_leak("response body", r.response.body);
  check_no_leak("origin", r.origin);
  for (const auto& [name, value] : r.request.headers.entries) {
    check_no_leak("request header name", name);
    check_no_leak("request header " + name, value);
  }
  for (const auto& [name, value] : r.response.headers.entries) {
    check_no_leak("response header name", name);
    check_no_leak("response header " + name, value);
  }
  check_no_leak("annotations",
                r.annotations.dump(-1, ' ', false, model::Json::error_handler_t::replace));
}

// Shows where two redacted texts first differ, with some context on each side.
std::string text_difference(std::string_view a, std::string_view b) {
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  const std::size_t from = at < 40 ? 0 : at - 40;
  return "at byte " + std::to_string(at) + ": '" + std::string(a.substr(from, 120)) + "' then '" +
         std::string(b.substr(from, 120)) + "'";
}

// Names the first field where two interactions differ, showing both values (already redacted).
std::string first_difference(const recorder::Interaction& a, const recorder::Interaction& b) {
  auto show = [](std::string_view field, std::string_view x, std::string_view y) {
    return std::string(field) + ": '" + std::string(x) + "' then '" + std::string(y) + "'";
  };
  if (a.request.method != b.request.method)
    return show("method", a.request.method, b.request.method);
  if (a.request.path != b.request.path) return show("path", a.request.path, b.request.path);
  if (a.request.query != b.request.query) return show("query", a.request.query, b.request.query);
  if (a.request.body != b.request.body) return show("request body", a.request.body, b.request.body);
  if (a.response.body != b.response.body) {
    return show("response body", a.response.body, b.response.body);
  }
  for (const auto* pair : {&a.request.headers, &a.response.headers}) {
    const auto& other = pair == &a.request.headers ? b.request.headers : b.response.headers;
    for (std::size_t i = 0; i < pair->entries.size() && i < other.entries.size(); ++i) {
      if (pair->entries[i] != other.entries[i]) {
        return show("header", pair->entries[i].first + ": " + pair->entries[i].second,
                    other.entries[i].first + ": " + other.entries[i].second);
      }
    }
  }
  return "headers, origin or annotations";
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  const std::string text =
      fuzz::plant({reinterpret_cast<const char*>(data), size}, fuzz::secrets());

  recorder::Interaction interaction;
  interaction.request.headers.add("Authorization", "Bearer " + fuzz::secrets().jwt);
  interaction.request.headers.add("Authorization",
                                  "Basic " + model::base64_encode("alice:" + fuzz::secrets().pat));
  fuzz::read_interaction(text, interaction.request, interaction.response);
  interaction.origin = "http://127.0.0.1:8080";
  model::Json annotations;
  if (fuzz::parse_fuzz_json(interaction.response.body, annotations)) {
    interaction.annotations = annotations;
  }

  recorder::Redactor redactor(fuzz::declared());
  const recorder::Interaction once = redactor.redact(interaction).get();
  fuzz::check_clean(once);

  // Idempotent, with the same redactor and with a fresh one.
  const recorder::Interaction twice = redactor.redact(once).get();
  PATROL_FUZZ_CHECK(twice == once,
                    "redaction is not idempotent: " + fuzz::first_difference(once, twice));
  recorder::Redactor fresh(fuzz::declared());
  const recorder::Interaction by_fresh = fresh.redact(once).get();
  PATROL_FUZZ_CHECK(by_fresh == once, "a fresh redactor changes an already redacted interaction: " +
                                          fuzz::first_difference(once, by_fresh));

  // Free text and JSON values go through the same detectors.
  const std::string redacted_text = redactor.redact_text(text);
  fuzz::check_no_leak("redact_text", redacted_text);
  const std::string redacted_twice = redactor.redact_text(redacted_text);
  PATROL_FUZZ_CHECK(
      redacted_twice == redacted_text,
      "redact_text is not idempotent " + fuzz::text_difference(redacted_text, redacted_twice));
  if (!annotations.is_null()) {
    const model::Json redacted_json = redactor.redact_json(annotations);
    fuzz::check_no_leak("redact_json",
                        redacted_json.dump(-1, ' ', false, model::Json::error_handler_t::replace));
    PATROL_FUZZ_CHECK(redactor.redact_json(redacted_json) == redacted_json,
                      "redact_json is not idempotent");
  }
  return 0;
}
