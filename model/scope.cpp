// The scope lattice (contract 3.3, 5, A12, A13).
#include "model/scope.hpp"

#include <algorithm>

#include "model/json_read.hpp"

namespace patrol::model {

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::kPublicRead:
      return "repo:public_read";
    case Scope::kRead:
      return "repo:read";
    case Scope::kWrite:
      return "repo:write";
    case Scope::kAdmin:
      return "repo:admin";
  }
  return "repo:public_read";
}

Result<Scope> parse_scope(std::string_view text) {
  for (Scope s : kAllScopes) {
    if (to_string(s) == text) return s;
  }
  return make_error(ErrorKind::kInvalid, "unknown scope " + detail::quote_excerpt(text));
}

Result<std::vector<Scope>> parse_scopes(const std::vector<std::string>& texts) {
  if (texts.empty()) return make_error(ErrorKind::kInvalid, "scopes: empty list (contract A12)");
  std::vector<Scope> out;
  out.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto s = parse_scope(texts[i]);
    if (!s.ok()) {
      return make_error(ErrorKind::kInvalid,
                        detail::index_path("scopes", i) + ": " + s.error().message);
    }
    out.push_back(*s);
  }
  return out;
}

bool implies(Scope held, Scope wanted) { return held >= wanted; }

std::optional<Scope> effective_scope(const std::vector<Scope>& scopes) {
  if (scopes.empty()) return std::nullopt;
  return *std::max_element(scopes.begin(), scopes.end());
}

std::vector<Scope> normalise(const std::vector<Scope>& scopes) {
  auto top = effective_scope(scopes);
  if (!top) return {};
  return {*top};
}

}  // namespace patrol::model
