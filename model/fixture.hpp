// The world a run starts from: accounts and repositories (contract 5). The reference server
// serves it, and the model starts from it. Loaded from JSON (`--fixture`) or the default.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"
#include "model/types.hpp"

namespace patrol::model {

struct FixtureAccount {
  std::string username;
  std::string password;
  // When set, /v2/users/login answers 401 with login_2fa_token and /v2/users/2fa-login accepts
  // this code (a stand-in for TOTP, contract 4).
  std::optional<std::string> second_factor_code;

  bool operator==(const FixtureAccount&) const = default;
};

struct FixtureRepository {
  std::string owner;  // an account's username (the namespace)
  std::string name;
  bool is_private = false;

  std::string full_name() const { return owner + "/" + name; }
  bool operator==(const FixtureRepository&) const = default;
};

struct Fixture {
  std::vector<FixtureAccount> accounts;
  std::vector<FixtureRepository> repositories;

  const FixtureAccount* find_account(std::string_view username) const;
  const FixtureRepository* find_repository(std::string_view full_name) const;
  bool operator==(const Fixture&) const = default;
};

// Two accounts ("alice" without and "bob" with a second factor), each owning one public and one
// private repository.
Fixture default_fixture();

// Reads a fixture: {"accounts":[{"username","password","second_factor_code"?}],
// "repositories":[{"owner","name","private"}]}. Errors name the JSON path. Requires at least one
// account, unique usernames, and repositories owned by known accounts.
Result<Fixture> decode_fixture(const Json& j);
Json encode_fixture(const Fixture& f);

}  // namespace patrol::model
