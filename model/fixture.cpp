#include "model/fixture.hpp"

#include <set>

#include "model/codec.hpp"

namespace patrol::model {

const FixtureAccount* Fixture::find_account(std::string_view username) const {
  for (const auto& a : accounts) {
    if (a.username == username) return &a;
  }
  return nullptr;
}

const FixtureRepository* Fixture::find_repository(std::string_view full_name) const {
  for (const auto& r : repositories) {
    if (r.full_name() == full_name) return &r;
  }
  return nullptr;
}

Fixture default_fixture() {
  Fixture f;
  f.accounts = {{"alice", "alice-password-1", std::nullopt},
                {"bob", "bob-password-2", std::string("246810")}};
  f.repositories = {{"alice", "public-app", false},
                    {"alice", "private-app", true},
                    {"bob", "public-lib", false},
                    {"bob", "private-lib", true}};
  return f;
}

namespace {

Error err(const std::string& path, const std::string& reason) {
  return make_error(ErrorKind::kInvalid, path + ": " + reason);
}

Result<std::string> read_string(const Json& obj, const std::string& path, const char* key) {
  auto it = obj.find(key);
  std::string p = path + "." + key;
  if (it == obj.end()) return make_error(ErrorKind::kMissing, p + ": required");
  if (!it->is_string()) {
    return make_error(ErrorKind::kType,
                      p + ": expected string, got " + std::string(json_type_name(*it)));
  }
  return it->get<std::string>();
}

}  // namespace

Result<Fixture> decode_fixture(const Json& j) {
  if (!j.is_object()) return make_error(ErrorKind::kType, "$: expected object");
  Fixture f;
  auto accounts = j.find("accounts");
  if (accounts == j.end() || !accounts->is_array() || accounts->empty()) {
    return err("accounts", "expected a non-empty array");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < accounts->size(); ++i) {
    const Json& a = (*accounts)[i];
    std::string path = "accounts[" + std::to_string(i) + "]";
    if (!a.is_object()) return err(path, "expected object");
    auto user = read_string(a, path, "username");
    if (!user.ok()) return user.error();
    auto pass = read_string(a, path, "password");
    if (!pass.ok()) return pass.error();
    if (user->empty()) return err(path + ".username", "must not be empty");
    if (!names.insert(*user).second) return err(path + ".username", "duplicate '" + *user + "'");
    FixtureAccount acc{*user, *pass, std::nullopt};
    if (auto c = a.find("second_factor_code"); c != a.end() && !c->is_null()) {
      auto code = read_string(a, path, "second_factor_code");
      if (!code.ok()) return code.error();
      acc.second_factor_code = *code;
    }
    f.accounts.push_back(std::move(acc));
  }
  if (auto repos = j.find("repositories"); repos != j.end()) {
    if (!repos->is_array()) return err("repositories", "expected array");
    for (std::size_t i = 0; i < repos->size(); ++i) {
      const Json& r = (*repos)[i];
      std::string path = "repositories[" + std::to_string(i) + "]";
      if (!r.is_object()) return err(path, "expected object");
      auto owner = read_string(r, path, "owner");
      if (!owner.ok()) return owner.error();
      auto name = read_string(r, path, "name");
      if (!name.ok()) return name.error();
      if (!names.count(*owner)) return err(path + ".owner", "unknown account '" + *owner + "'");
      bool is_private = false;
      if (auto p = r.find("private"); p != r.end()) {
        if (!p->is_boolean()) return err(path + ".private", "expected boolean");
        is_private = p->get<bool>();
      }
      f.repositories.push_back({*owner, *name, is_private});
    }
  }
  return f;
}

Json encode_fixture(const Fixture& f) {
  Json out = {{"accounts", Json::array()}, {"repositories", Json::array()}};
  for (const auto& a : f.accounts) {
    Json acc = {{"username", a.username}, {"password", a.password}};
    if (a.second_factor_code) acc["second_factor_code"] = *a.second_factor_code;
    out["accounts"].push_back(std::move(acc));
  }
  for (const auto& r : f.repositories) {
    out["repositories"].push_back(
        {{"owner", r.owner}, {"name", r.name}, {"private", r.is_private}});
  }
  return out;
}

}  // namespace patrol::model
