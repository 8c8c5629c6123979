// Internals of the oracle shared by its translation units (oracle.cpp: dispatch, common checks
// and the token routes; oracle_auth.cpp: authentication and the registry). Not a public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/json_tape.hpp"
#include "model/oracle.hpp"

namespace patrol::model::detail {

// The interval of server instants an exchange may have been handled at: `now` widened by the
// clock skew (which also absorbs the request's latency). `earliest` also admits any instant since
// the previous exchange, for timestamps the server records (created_at).
struct Window {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  std::int64_t earliest = 0;
  Tri expired(std::int64_t at) const {
    if (at <= lo) return Tri::kYes;
    if (at > hi) return Tri::kNo;
    return Tri::kMaybe;
  }
};

inline constexpr std::string_view kTokensPath = "/v2/access-tokens";

// Parses RFC 3339; the common "YYYY-MM-DDTHH:MM:SS[.frac]Z" form without allocating.
std::optional<Timestamp> parse_time(std::string_view text);

// Returns the header's first value by case-insensitive name, without copying.
const std::string* find_header(const Headers& headers, std::string_view name);

// Claims of a JWT read without verification (contract 4), and its registry `access` entries.
struct AccessGrant {
  std::string type;
  std::string name;
  std::uint8_t actions = 0;  // bit 0 pull, 1 push, 2 delete
  bool bad = false;          // not an object {type, name, actions[]}
};

struct JwtInfo {
  bool ok = false;
  std::string error;
  bool unsigned_token = false;  // alg "none" or an empty signature
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> iat;
  std::string username;  // `username`, or the hub claim object's `username`
  std::string sub;
  bool has_scope = false;
  bool scope_is_string = false;
  std::string scope;
  bool has_access = false;
  bool access_malformed = false;
  std::vector<AccessGrant> access;
};

JwtInfo read_jwt(std::string_view token);

inline constexpr std::uint8_t kPull = 1;
inline constexpr std::uint8_t kPush = 2;
inline constexpr std::uint8_t kDeleteAction = 4;
inline constexpr std::uint8_t kAllActions = kPull | kPush | kDeleteAction;

// Who an E-route request authenticates as (contract 4).
struct Caller {
  enum class Kind : std::uint8_t {
    kReject,      // must get 401
    kUnknown,     // a JWT the model never saw issued naming no known account: 401 or 403
    kPatDerived,  // must get 403 (contract 4, A5)
    kAccount,     // a session: the route's own rules apply
  };
  Kind kind = Kind::kReject;
  std::uint16_t account = 0;
  bool may_401 = false;
  bool may_403 = false;
  bool learn = false;  // an unknown but well-formed JWT naming `account`, learnt on success
  std::optional<Timestamp> learn_exp;
  std::string_view bearer;
  const char* reason = "";
  const char* rule = "4";
};

// What an authentication attempt (A1, A2, R1) may answer (contract 3.8, 4, 5).
struct AuthExpect {
  bool may_200 = false;
  bool may_401 = false;
  bool need_2fa = false;  // A2: the 401 must carry login_2fa_token
  JwtKind kind = JwtKind::kSession;
  std::uint16_t account = 0;
  bool has_account = false;
  std::uint32_t pat = kNoIndex;
  const char* rule = "4";
  // The credential, for messages (built only when a violation needs the text).
  enum class Why : std::uint8_t {
    kUnknownAccount,
    kTwoFactorPassword,
    kPassword,
    kOtherPat,
    kDeletedPat,
    kInactivePat,
    kExpiredPat,
    kActivePat,
    kWrongSecret,
    kUnknownTwoFactor,
    kWrongCode,
    kFreshCode,
    kNoCredentials,
    kNonBasic,
    kMalformedBasic,
  };
  Why why = Why::kUnknownAccount;
};

// The token-object members the oracle reads (contract 2), as tape node indices.
struct TokenFields {
  std::uint32_t uuid = JsonTape::kNone;
  std::uint32_t is_active = JsonTape::kNone;
  std::uint32_t token = JsonTape::kNone;
  std::uint32_t token_label = JsonTape::kNone;
  std::uint32_t scopes = JsonTape::kNone;
  std::uint32_t created_at = JsonTape::kNone;
  std::uint32_t last_used = JsonTape::kNone;
  std::uint32_t expires_at = JsonTape::kNone;
  std::uint32_t info[4] = {JsonTape::kNone, JsonTape::kNone, JsonTape::kNone, JsonTape::kNone};
};

// The judgement of one exchange.
class Judge {
 public:
  Judge(ModelState& state, const HttpRequest& request, const HttpResponse& response, Timestamp now,
        const Profile& profile, std::vector<Violation>& out);
  void run();

  // --- shared by both translation units ---
  void violate(const char* rule, std::string message, std::string excerpt);
  void violate(const char* rule, std::string message);  // excerpt: status line and body
  std::string status_excerpt() const;
  std::string node_excerpt(std::uint32_t node) const;
  std::string what() const;  // "GET /v2/access-tokens/..." for messages
  std::string status_text() const { return std::to_string(rs_.status); }
  enum class ErrFlavor : std::uint8_t { kDefault, kLogin };
  void check_error_body(ErrFlavor flavor = ErrFlavor::kDefault);
  Tri token_expired(std::uint32_t token) const;
  bool pat_usable(std::uint32_t token, Tri* expiry) const;

  // oracle_auth.cpp
  void auth_token();
  void login();
  void two_factor_login();
  void registry();
  AuthExpect expect_auth(std::optional<std::uint16_t> account, std::string_view secret,
                         bool login_route) const;
  // Describes the credential of an expectation: "the password of alice", ...
  std::string why(const AuthExpect& e) const;
  void accept_jwt(std::string_view jwt, const AuthExpect& e, bool lifetime_limited);
  // Judges the status and body of A1, A2 or the 2FA step; returns true when it authenticated.
  bool judge_auth_outcome(const AuthExpect& e, bool body_ok, std::string_view body_problem,
                          std::string_view jwt_member);
  Caller authenticate() const;

 private:
  // oracle.cpp
  void scan_for_secrets();
  void token_route();
  void dispatch_token_route(std::uint16_t account);
  void create(std::uint16_t account);
  void list(std::uint16_t account);
  void get_item(std::uint16_t account);
  void patch_item(std::uint16_t account);
  void delete_item(std::uint16_t account);
  void wrong_method();

  struct Target {
    enum class Kind : std::uint8_t { kMalformed, kUnknown, kOwn, kOther, kDeleted };
    Kind kind = Kind::kMalformed;
    std::uint32_t token = kNoIndex;
    bool variant = false;  // a non-canonical spelling of a known uuid (A8)
  };
  Target resolve(std::uint16_t account) const;
  // Baseline::kUnknown: adds a token object the model never saw as an unseen token of `account`.
  std::optional<std::uint32_t> adopt(std::uint32_t obj, std::uint16_t account);
  // True when an unknown uuid may be an unseen token of the account.
  bool adoptable(std::uint16_t account) const;
  // For a successful E3..E5 on an unknown uuid that may be an unseen token: adopts it (E3, E4
  // continue as on an own token) or records its deletion (E5, returns true: judged).
  bool adopt_target(Target& t, std::uint16_t account);
  bool malformed_ok() const;
  // Judges E3..E5 on anything but the caller's live token; returns false for an own token.
  bool judge_non_own(const Target& t, bool may_400);
  void unexpected(const char* rule, std::string_view requirement);
  void unexpected_own(std::uint32_t token, std::string_view requirement);

  TokenFields collect(std::uint32_t obj) const;
  enum class Ctx : std::uint8_t { kRead, kPatched };
  struct PatchExpect {
    bool has_label = false;
    std::string label;
    std::optional<bool> active;
    bool extras = false;
  };
  void check_token(std::uint32_t obj, std::uint32_t token, Ctx ctx, int entry,
                   const PatchExpect* pe);
  void check_last_used(std::uint32_t node, std::uint32_t token, int entry);
  void check_read_token_member(std::uint32_t node, int entry);
  void check_info(const TokenFields& f, std::uint32_t token, int entry);
  void contradiction(std::uint32_t token, const char* rule, std::string message,
                     std::uint32_t node);
  std::string field(int entry, const char* name) const;
  void check_page(std::uint16_t account, std::int64_t page, std::int64_t size, bool clamped);

 public:
  ModelState& s_;
  const HttpRequest& rq_;
  const HttpResponse& rs_;
  const Profile& p_;
  std::vector<Violation>& out_;
  Timestamp now_;
  Window win_;
  Route route_ = Route::kOther;
  JsonTape& body_;
  JsonTape& req_;
  bool body_json_ = false;
  std::uint64_t memo_salt_ = 0;      // the profile members token-object checks depend on
  std::string_view credentials_[2];  // from the request, redacted from excerpts too
  std::string scratch_;
  std::string scratch2_;
};

// Thread-local tapes shared by the judgements of one thread.
struct Scratch {
  JsonTape body;
  JsonTape request;
  JsonTape jwt;
  std::string jwt_claims;
  std::string jwt_header;
  std::string pair_a;  // request members of A1/A2/2FA, reused across judgements
  std::string pair_b;
};
Scratch& scratch();

// Lower-cases ASCII letters.
std::string ascii_lower(std::string_view s);
// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);
// Trims spaces and tabs.
std::string_view trim(std::string_view s);

}  // namespace patrol::model::detail
