// The contract's message bodies as C++ types (CONTRACT.md section 1). Plain values: the codecs
// that read and write them are in codec.hpp. Unknown JSON members are kept in `extra` so a
// growing API loses nothing, and every hub-profile tolerance the decoder applied is listed in
// `tolerated` rather than happening silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace patrol::model {

using Json = nlohmann::json;

// A JSON member that may be absent, null, or hold a value (three states, unlike std::optional).
template <class T>
struct Nullable {
  enum class State : std::uint8_t { kAbsent, kNull, kValue };
  State state = State::kAbsent;
  T value{};

  static Nullable absent() { return {}; }
  static Nullable null() { return {State::kNull, T{}}; }
  static Nullable of(T v) { return {State::kValue, std::move(v)}; }
  bool is_absent() const { return state == State::kAbsent; }
  bool is_null() const { return state == State::kNull; }
  bool has_value() const { return state == State::kValue; }
  // Returns the value, or nullopt when absent or null.
  std::optional<T> get() const { return has_value() ? std::optional<T>(value) : std::nullopt; }

  bool operator==(const Nullable& o) const {
    return state == o.state && (state != State::kValue || value == o.value);
  }
};

// A hub-profile leniency the decoder applied, named by its contract point (e.g. A14).
struct Tolerance {
  std::string path;   // JSON path of the member, e.g. "results[2].scopes"
  std::string point;  // contract point, e.g. "A14"
  std::string note;   // one line, e.g. "scopes absent (legacy token)"

  bool operator==(const Tolerance&) const = default;
};

// E1 request body: POST /v2/access-tokens.
struct CreateTokenRequest {
  std::string token_label;
  std::vector<std::string> scopes;         // raw strings; scope.hpp parses them
  std::optional<std::string> expires_at;   // RFC 3339 as sent
  Json extra = Json::object();

  bool operator==(const CreateTokenRequest&) const = default;
};

// E4 request body: PATCH /v2/access-tokens/{uuid}. Both members optional ({} is legal, A16).
// `scopes` / `expires_at` sent in a PATCH are kept in `extra` (contract 3.5, A15).
struct PatchTokenRequest {
  std::optional<std::string> token_label;
  std::optional<bool> is_active;
  Json extra = Json::object();

  bool operator==(const PatchTokenRequest&) const = default;
};

// The token object returned by E1..E4 (contract 2). Required by the checker: uuid, is_active,
// token_label, created_at. Timestamps stay strings here; rfc3339.hpp parses them.
struct AccessToken {
  std::string uuid;
  std::optional<std::string> client_id;
  std::optional<std::string> creator_ip;
  std::optional<std::string> creator_ua;
  std::string created_at;
  Nullable<std::string> last_used;                // null until first use
  std::optional<std::string> generated_by;
  bool is_active = false;
  std::optional<std::string> token;               // secret on E1; absent/""/redaction later (A1)
  std::string token_label;
  std::optional<std::vector<std::string>> scopes; // absent on legacy tokens (A14)
  Nullable<std::string> expires_at;               // absent or null when none was set (A2)
  Json extra = Json::object();
  std::vector<Tolerance> tolerated;

  bool operator==(const AccessToken& o) const;  // ignores `tolerated`
};

// E2 response body.
struct TokenPage {
  std::int64_t count = 0;
  Nullable<std::string> next;      // URL or null (A11)
  Nullable<std::string> previous;  // URL or null (A11)
  std::int64_t active_count = 0;
  std::vector<AccessToken> results;
  Json extra = Json::object();
  std::vector<Tolerance> tolerated;  // includes those of every result, with full paths

  bool operator==(const TokenPage& o) const;  // ignores `tolerated`
};

// A1 request body: POST /v2/auth/token.
struct AuthTokenRequest {
  std::string identifier;
  std::string secret;
  Json extra = Json::object();

  bool operator==(const AuthTokenRequest&) const = default;
};

// A1 success body.
struct AuthTokenResponse {
  std::string access_token;
  Json extra = Json::object();

  bool operator==(const AuthTokenResponse&) const = default;
};

// A2 request body: POST /v2/users/login (deprecated route).
struct LoginRequest {
  std::string username;
  std::string password;
  Json extra = Json::object();

  bool operator==(const LoginRequest&) const = default;
};

// A2 success body (also /v2/users/2fa-login).
struct LoginSuccess {
  std::string token;
  std::optional<std::string> refresh_token;
  Json extra = Json::object();

  bool operator==(const LoginSuccess&) const = default;
};

// A2 401 body: `detail` required; `login_2fa_token` present (non-null) when a second factor is due.
struct LoginError {
  std::string detail;
  Nullable<std::string> login_2fa_token;
  Json extra = Json::object();

  bool operator==(const LoginError&) const = default;
};

// POST /v2/users/2fa-login request body.
struct TwoFactorLoginRequest {
  std::string login_2fa_token;
  std::string code;
  Json extra = Json::object();

  bool operator==(const TwoFactorLoginRequest&) const = default;
};

// R1 success body: registry token service.
struct RegistryTokenResponse {
  std::string token;
  std::optional<std::string> access_token;
  std::optional<std::int64_t> expires_in;
  std::optional<std::string> issued_at;
  Json extra = Json::object();

  bool operator==(const RegistryTokenResponse&) const = default;
};

// One entry of a registry JWT's `access` claim.
struct AccessEntry {
  std::string type;  // "repository"
  std::string name;  // "namespace/name"
  std::vector<std::string> actions;
  Json extra = Json::object();

  bool operator==(const AccessEntry&) const = default;
};

struct JwtHeader {
  std::string alg;
  std::optional<std::string> typ;
  std::optional<std::string> kid;
  Json extra = Json::object();

  bool operator==(const JwtHeader&) const = default;
};

// Claims patrol reads. `aud` may be a string or an array in JWTs; both are kept as a list.
struct JwtClaims {
  std::optional<std::string> iss;
  std::optional<std::string> sub;
  std::optional<std::vector<std::string>> aud;
  bool aud_is_array = false;                 // encoding fidelity for `aud`
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> iat;
  std::optional<std::int64_t> nbf;
  std::optional<std::string> jti;
  std::optional<std::string> scope;          // PAT-derived JWTs: the PAT's effective scope (4)
  std::optional<std::vector<AccessEntry>> access;  // registry JWTs (5)
  std::optional<std::string> username;       // patrol's reference server puts the account here
  Json extra = Json::object();

  bool operator==(const JwtClaims&) const = default;
};

// hub error body (contract 7): any object with at least one of message/detail/text;
// errinfo absent, null or an object.
struct HubError {
  std::optional<std::string> message;
  std::optional<std::string> detail;
  std::optional<std::string> text;
  Nullable<Json> errinfo;
  Json extra = Json::object();
  std::vector<Tolerance> tolerated;

  bool operator==(const HubError& o) const;  // ignores `tolerated`
};

// spec 400 body: ValueError {fields, text}.
struct SpecValueError {
  Json fields = Json::object();
  std::string text;
  Json extra = Json::object();

  bool operator==(const SpecValueError&) const = default;
};

// spec 401/404 body: Error {detail, message}.
struct SpecError {
  std::string detail;
  std::string message;
  Json extra = Json::object();

  bool operator==(const SpecError&) const = default;
};

}  // namespace patrol::model
