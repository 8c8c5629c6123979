// Fuzz target: scope parsing and the scope lattice (contract 3.3, 5, A12). Input: text, one scope
// string per line; the lines are parsed one by one and then as one list.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/byte_reader.hpp"
#include "fuzz/fuzz_check.hpp"
#include "model/scope.hpp"

namespace patrol::fuzz {
namespace {

using model::Scope;

// The contract's four wire strings, weakest first, written out independently of scope.cpp.
constexpr std::array<std::string_view, 4> kWire = {"repo:public_read", "repo:read", "repo:write",
                                                   "repo:admin"};

std::optional<Scope> reference_parse(std::string_view text) {
  for (std::size_t i = 0; i < kWire.size(); ++i) {
    if (text == kWire[i]) return static_cast<Scope>(i);
  }
  return std::nullopt;
}

void check_one(std::string_view text) {
  auto parsed = model::parse_scope(text);
  auto expected = reference_parse(text);
  PATROL_FUZZ_CHECK(parsed.ok() == expected.has_value(),
                    "parse_scope('" + std::string(text) + "') " +
                        (parsed.ok() ? "accepted an unknown scope" : "rejected a contract scope"));
  if (!parsed.ok()) {
    PATROL_FUZZ_CHECK(
        parsed.error().kind == model::ErrorKind::kInvalid && !parsed.error().message.empty(),
        "parse_scope error: " + parsed.error().message);
    return;
  }
  PATROL_FUZZ_CHECK(*parsed == *expected, "parse_scope picked the wrong scope");
  PATROL_FUZZ_CHECK(model::to_string(*parsed) == text, "to_string(parse_scope(s)) != s");
}

void check_list(const std::vector<std::string>& texts) {
  auto parsed = model::parse_scopes(texts);
  bool all_known = !texts.empty();
  for (const auto& t : texts) all_known = all_known && reference_parse(t).has_value();
  PATROL_FUZZ_CHECK(parsed.ok() == all_known,
                    std::string("parse_scopes ") +
                        (parsed.ok() ? "accepted" : "rejected: " + parsed.error().message));
  if (!parsed.ok()) {
    PATROL_FUZZ_CHECK(parsed.error().kind == model::ErrorKind::kInvalid,
                      "parse_scopes error kind: " + parsed.error().message);
    return;
  }
  const std::vector<Scope>& scopes = *parsed;
  PATROL_FUZZ_CHECK(scopes.size() == texts.size(), "parse_scopes changed the list's length");
  for (std::size_t i = 0; i < texts.size(); ++i) {
    PATROL_FUZZ_CHECK(scopes[i] == *reference_parse(texts[i]),
                      "parse_scopes[" + std::to_string(i) + "] differs from parse_scope");
  }

  // contract 3.3: the effective scope is the highest member; normalising keeps only it.
  const Scope highest = *std::max_element(scopes.begin(), scopes.end());
  auto effective = model::effective_scope(scopes);
  PATROL_FUZZ_CHECK(effective && *effective == highest, "effective_scope is not the highest");
  const auto normal = model::normalise(scopes);
  PATROL_FUZZ_CHECK(normal == std::vector<Scope>{highest}, "normalise is not {highest}");
  PATROL_FUZZ_CHECK(model::normalise(normal) == normal, "normalise is not idempotent");

  // The lattice is a chain: holding a scope implies exactly the scopes at or below it.
  for (Scope held : scopes) {
    for (Scope wanted : model::kAllScopes) {
      PATROL_FUZZ_CHECK(model::implies(held, wanted) == (held >= wanted),
                        std::string("implies(") + std::string(model::to_string(held)) + ", " +
                            std::string(model::to_string(wanted)) + ") is wrong");
    }
  }
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patrol;
  fuzz::ByteReader in(data, size);
  std::vector<std::string> lines;
  while (!in.empty()) {
    std::string_view line = in.line();
    fuzz::check_one(line);
    lines.emplace_back(line);
  }
  fuzz::check_list(lines);
  PATROL_FUZZ_CHECK(!model::effective_scope({}).has_value(), "effective_scope({}) has a value");
  PATROL_FUZZ_CHECK(model::normalise({}).empty(), "normalise({}) is not empty");
  return 0;
}
