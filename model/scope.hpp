// The scope lattice (contract 3.3, 5): repo:admin > repo:write > repo:read > repo:public_read.
// A list of scopes means its highest member; redundant members are legal.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace patrol::model {

// The `service` of the registry token service (R1), where scopes take effect (contract 5).
inline constexpr std::string_view kRegistryService = "registry.docker.io";

// Ordered from weakest to strongest so that comparison follows implication.
enum class Scope : std::uint8_t { kPublicRead = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

inline constexpr std::array<Scope, 4> kAllScopes = {Scope::kPublicRead, Scope::kRead, Scope::kWrite,
                                                    Scope::kAdmin};

// Returns the wire string: "repo:public_read", "repo:read", "repo:write", "repo:admin".
std::string_view to_string(Scope scope);

// Parses one wire string; an unknown string is a kInvalid error naming it (contract 3.3).
Result<Scope> parse_scope(std::string_view text);

// Parses a list; an unknown member names its index and text; an empty list is kInvalid (A12).
Result<std::vector<Scope>> parse_scopes(const std::vector<std::string>& texts);

// True when holding `held` grants everything `wanted` grants (admin implies write implies ...).
bool implies(Scope held, Scope wanted);

// The effective scope of a list: its highest member, or nullopt for an empty list.
std::optional<Scope> effective_scope(const std::vector<Scope>& scopes);

// Normalises a list to its highest member alone (the reference server's choice, contract 3.3).
// Idempotent; an empty list stays empty.
std::vector<Scope> normalise(const std::vector<Scope>& scopes);

}  // namespace patrol::model
