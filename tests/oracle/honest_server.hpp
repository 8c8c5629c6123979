// A deliberately plain, in-memory implementation of the contract used only to feed the oracle's
// tests and benchmark with well-formed responses (it is not the reference server in server/).
// One behaviour per point: normalised scopes, "" on reads, 404 past the end, absolute links,
// second-factor passwords refused on /v2/auth/token and the registry.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/fixture.hpp"
#include "model/http_message.hpp"
#include "model/rfc3339.hpp"

namespace patrol::oracle_test {

using model::HttpRequest;
using model::HttpResponse;
using model::Timestamp;

class HonestServer {
 public:
  explicit HonestServer(model::Fixture fixture, bool spec_errors = false)
      : fixture_(std::move(fixture)), spec_errors_(spec_errors) {}

  // Switches error bodies between the hub and the spec shapes (contract 7).
  void set_spec_errors(bool on) { spec_errors_ = on; }

  // Answers one request at server time `now`.
  HttpResponse handle(const HttpRequest& request, Timestamp now);

 private:
  struct Token {
    std::string uuid;
    std::string secret;
    std::string owner;
    std::string label;
    std::string scope;  // normalised: the highest requested scope
    std::string ua;
    Timestamp created_at;
    std::optional<Timestamp> expires_at;
    std::optional<Timestamp> last_used;
    bool active = true;
    bool deleted = false;
  };
  struct Session {
    std::string account;
    std::optional<std::string> pat_uuid;
    std::int64_t exp = 0;  // seconds
  };

  HttpResponse error(int status, const std::string& message) const;
  HttpResponse reply(int status, const nlohmann::json& body) const;
  nlohmann::json token_json(const Token& t, bool with_secret) const;
  std::string issue_jwt(const std::string& account, const Token* pat, Timestamp now,
                        std::int64_t lifetime, nlohmann::json extra = nlohmann::json::object());
  std::string next_hex(std::size_t n);
  Token* find_token(const std::string& uuid);
  Token* find_secret(const std::string& secret);
  bool usable(const Token& t, Timestamp now) const;

  HttpResponse tokens(const HttpRequest& r, Timestamp now);
  HttpResponse auth_token(const HttpRequest& r, Timestamp now);
  HttpResponse login(const HttpRequest& r, Timestamp now);
  HttpResponse two_factor(const HttpRequest& r, Timestamp now);
  HttpResponse registry(const HttpRequest& r, Timestamp now);

  model::Fixture fixture_;
  bool spec_errors_;
  std::vector<Token> tokens_;
  std::map<std::string, std::size_t> by_uuid_;
  std::map<std::string, std::size_t> by_secret_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::string> two_factor_;
  std::uint64_t counter_ = 0;
};

}  // namespace patrol::oracle_test
