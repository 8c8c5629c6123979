// Fuzz target: the oracle on arbitrary exchanges. Input: a session script (session.hpp) that builds
// a realistic model state against the reference server, a line "---", then one made-up exchange in
// the text form of interaction_text.hpp, in which $SECRET, $UUID, $BEARER and $JWT stand for token
// #1's secret and uuid and the current Authorization value and its JWT. The oracle always returns a
// verdict (never an internal error), every violation names a rule and carries no secret, any 5xx
// is a violation, and a response repeating an earlier secret breaks contract 3.1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/byte_reader.hpp"
#include "fuzz/fuzz_check.hpp"
#include "fuzz/interaction_text.hpp"
#include "fuzz/session.hpp"

namespace patrol::fuzz {
namespace {

std::string substitute(std::string_view text, const Session& session) {
  const CreatedToken* first = session.created().empty() ? nullptr : &session.created().front();
  const std::string_view bearer = session.bearer();
  const std::size_t space = bearer.find(' ');
  return replace_markers(
      text, {{"$SECRET", first ? std::string_view(first->secret) : std::string_view()},
             {"$UUID", first ? std::string_view(first->uuid) : kUnknownUuid},
             {"$BEARER", bearer},
             {"$JWT", space == std::string_view::npos ? bearer : bearer.substr(space + 1)}});
}

bool holds_secret(const model::ModelState& state, std::string_view text) {
  bool found = false;
  state.scan_secrets(text, [&](std::uint32_t, std::size_t) { found = true; });
  return found;
}

bool response_holds_secret(const model::ModelState& state, const model::HttpResponse& r) {
  if (holds_secret(state, r.body)) return true;
  for (const auto& [name, value] : r.headers.entries) {
    if (holds_secret(state, name) || holds_secret(state, value)) return true;
  }
  return false;
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz::Session session;
  std::string_view exchange_text = input;
  if (input.substr(0, 4) == "---\n") {
    exchange_text = input.substr(4);
  } else if (const std::size_t split = input.find("\n---\n"); split != std::string_view::npos) {
    session.run_script(input.substr(0, split));
    exchange_text = input.substr(split + 5);
  }

  model::HttpRequest request;
  model::HttpResponse response;
  fuzz::read_interaction(fuzz::substitute(exchange_text, session), request, response);
  // Secrets issued before this exchange: repeating one is a violation whatever the route.
  const bool repeats_secret = fuzz::response_holds_secret(session.state(), response);

  const auto violations = session.judge(request, response);
  bool names_3_1 = false;
  for (const auto& v : violations) {
    PATROL_FUZZ_CHECK(v.rule != "internal", "the oracle failed: " + v.message);
    PATROL_FUZZ_CHECK(!v.rule.empty() && !v.message.empty(),
                      "a violation without a rule or message:\n" + session.transcript());
    PATROL_FUZZ_CHECK(!fuzz::holds_secret(session.state(), v.message) &&
                          !fuzz::holds_secret(session.state(), v.excerpt),
                      "a violation (rule " + v.rule +
                          ") carries a secret: " + model::redact(v.message, session.state()) +
                          "\n  excerpt: " + model::redact(v.excerpt, session.state()));
    names_3_1 = names_3_1 || v.rule == "3.1";
  }
  PATROL_FUZZ_CHECK(response.status < 500 || !violations.empty(),
                    "a 5xx passed the oracle:\n" + session.transcript());
  PATROL_FUZZ_CHECK(
      !repeats_secret || names_3_1,
      "a response repeating an earlier secret passed contract 3.1:\n" + session.transcript());
  return 0;
}
