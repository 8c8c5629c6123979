// The oracle's authentication half: who an E-route request is (contract 4), /v2/auth/token (A1),
// /v2/users/login (A2) and its 2FA step, and the registry token service (R1, contract 5).
#include <algorithm>
#include <array>

#include "model/jwt.hpp"
#include "model/oracle_internal.hpp"
#include "model/scope.hpp"

namespace patrol::model::detail {

namespace {

constexpr std::uint32_t kNone = JsonTape::kNone;
constexpr std::uint8_t kOtherAction = 8;

std::optional<Scope> scope_named(std::string_view text) {
  for (const Scope s : kAllScopes) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::uint8_t action_bit(std::string_view a) {
  if (a == "pull") return kPull;
  if (a == "push") return kPush;
  if (a == "delete") return kDeleteAction;
  if (a == "*") return kAllActions;
  return kOtherAction;
}

std::string actions_text(std::uint8_t mask) {
  std::string out;
  auto add = [&](std::uint8_t bit, const char* name) {
    if (mask & bit) {
      if (!out.empty()) out += ",";
      out += name;
    }
  };
  add(kPull, "pull");
  add(kPush, "push");
  add(kDeleteAction, "delete");
  add(kOtherAction, "other");
  return out.empty() ? "nothing" : out;
}

// Decodes base64url (padding optional) into `out`, reusing its capacity; false on a character
// outside the alphabet or an impossible length.
bool base64url_into(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out.resize(in.size() * 3 / 4);
  char* w = out.data();
  std::uint32_t acc = 0;
  int bits = 0;
  static constexpr auto kValues = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int c = 'A'; c <= 'Z'; ++c)
      t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A');
    for (int c = 'a'; c <= 'z'; ++c)
      t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 26);
    for (int c = '0'; c <= '9'; ++c)
      t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0' + 52);
    t['-'] = 62;
    t['_'] = 63;
    return t;
  }();
  for (const char c : in) {
    const int v = kValues[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *w++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return true;
}

std::int64_t clamp_seconds(std::int64_t s) {
  return std::clamp<std::int64_t>(s, -9'000'000'000'000LL, 9'000'000'000'000LL);
}

}  // namespace

JwtInfo read_jwt(std::string_view token) {
  JwtInfo ji;
  const std::size_t d1 = token.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    ji.error = "not three dot-separated parts";
    return ji;
  }
  Scratch& sc = scratch();
  if (!base64url_into(token.substr(0, d1), sc.jwt_header) ||
      !base64url_into(token.substr(d1 + 1, d2 - d1 - 1), sc.jwt_claims)) {
    ji.error = "a part is not base64url";
    return ji;
  }
  ji.unsigned_token = d2 + 1 == token.size();
  JsonTape& tape = sc.jwt;
  std::string tmp;
  if (!tape.parse(sc.jwt_header) || !tape.is_object(0)) {
    ji.error = "the header is not a JSON object";
    return ji;
  }
  if (const std::uint32_t alg = tape.find(0, "alg"); alg != kNone && tape.is_string(alg)) {
    if (iequals(tape.str(alg, tmp), "none")) ji.unsigned_token = true;
  }
  if (!tape.parse(sc.jwt_claims) || !tape.is_object(0)) {
    ji.error = "the claims are not a JSON object";
    return ji;
  }
  auto integer_claim = [&](const char* name) -> std::optional<std::int64_t> {
    const std::uint32_t n = tape.find(0, name);
    if (n == kNone || tape.kind(n) != JsonKind::kNumber) return std::nullopt;
    if (auto v = tape.integer(n)) return v;
    const double d = tape.number(n);
    if (!(d > -9e12 && d < 9e12)) return std::nullopt;
    return static_cast<std::int64_t>(d);
  };
  ji.exp = integer_claim("exp");
  ji.iat = integer_claim("iat");
  if (const std::uint32_t n = tape.find(0, "username"); n != kNone && tape.is_string(n)) {
    ji.username = std::string(tape.str(n, tmp));
  } else if (const std::uint32_t h = tape.find(0, "https://hub.docker.com");
             h != kNone && tape.is_object(h)) {
    if (const std::uint32_t u = tape.find(h, "username"); u != kNone && tape.is_string(u)) {
      ji.username = std::string(tape.str(u, tmp));
    }
  }
  if (const std::uint32_t n = tape.find(0, "sub"); n != kNone && tape.is_string(n)) {
    ji.sub = std::string(tape.str(n, tmp));
  }
  if (const std::uint32_t n = tape.find(0, "scope"); n != kNone) {
    ji.has_scope = true;
    if (tape.is_string(n)) {
      ji.scope_is_string = true;
      ji.scope = std::string(tape.str(n, tmp));
    }
  }
  if (const std::uint32_t n = tape.find(0, "access"); n != kNone) {
    ji.has_access = true;
    if (tape.kind(n) == JsonKind::kNull) {
      // No grants.
    } else if (!tape.is_array(n)) {
      ji.access_malformed = true;
    } else {
      for (std::uint32_t e = n + 1; e < tape.node(n).end; e = tape.next_sibling(e)) {
        AccessGrant g;
        const std::uint32_t t = tape.is_object(e) ? tape.find(e, "type") : kNone;
        const std::uint32_t nm = tape.is_object(e) ? tape.find(e, "name") : kNone;
        const std::uint32_t ac = tape.is_object(e) ? tape.find(e, "actions") : kNone;
        if (t == kNone || nm == kNone || !tape.is_string(t) || !tape.is_string(nm) ||
            (ac != kNone && !tape.is_array(ac) && tape.kind(ac) != JsonKind::kNull)) {
          g.bad = true;
          ji.access_malformed = true;
        } else {
          g.type = std::string(tape.str(t, tmp));
          g.name = std::string(tape.str(nm, tmp));
          if (ac != kNone && tape.is_array(ac)) {
            for (std::uint32_t a = ac + 1; a < tape.node(ac).end; a = tape.next_sibling(a)) {
              if (!tape.is_string(a)) {
                g.bad = true;
                ji.access_malformed = true;
                continue;
              }
              g.actions |= action_bit(tape.str(a, tmp));
            }
          }
        }
        ji.access.push_back(std::move(g));
      }
    }
  }
  ji.ok = true;
  return ji;
}

Caller Judge::authenticate() const {
  Caller c;
  const std::string* auth = find_header(rq_.headers, "Authorization");
  if (auth == nullptr) {
    c.reason = "no Authorization header";
    return c;
  }
  const std::string_view v = trim(*auth);
  const std::size_t sp = v.find(' ');
  const std::string_view scheme = v.substr(0, sp);
  const std::string_view cred =
      sp == std::string_view::npos ? std::string_view() : trim(v.substr(sp + 1));
  const bool keyword = iequals(scheme, "JWT");
  if (!iequals(scheme, "Bearer") && !keyword) {
    c.reason = "an Authorization scheme other than Bearer";
    return c;
  }
  if (cred.empty()) {
    c.reason = "an empty bearer";
    return c;
  }
  c.bearer = cred;
  if (s_.is_secret(cred)) {
    c.reason = "a raw PAT as the bearer";
    return c;
  }
  if (keyword && !p_.jwt_keyword_may_authenticate) {
    c.reason = "the legacy JWT keyword";
    c.rule = "A22";
    return c;
  }
  if (const auto j = s_.find_jwt(cred)) {
    const JwtView jv = s_.jwt(*j);
    const Tri e = jv.expires_at ? win_.expired(jv.expires_at->micros) : Tri::kNo;
    if (e == Tri::kYes) {
      c.reason = "an expired JWT";
      return c;
    }
    if (jv.kind == JwtKind::kPatDerived) {
      c.kind = Caller::Kind::kPatDerived;
      c.may_401 = e == Tri::kMaybe || keyword || p_.pat_jwt_may_get_401 ||
                  (jv.pat != kNoIndex && !pat_usable(jv.pat, nullptr));
      return c;
    }
    c.kind = Caller::Kind::kAccount;
    c.account = jv.account_index;
    c.may_401 = e == Tri::kMaybe || keyword;
    return c;
  }
  // The same header and claims as a JWT the server issued, under another signature: a certain
  // forgery, whatever the claims say (contract 4).
  if (const std::size_t dot = cred.rfind('.'); dot != std::string_view::npos && dot > 0) {
    const std::string_view signed_part = cred.substr(0, dot + 1);
    for (std::uint32_t i = 0; i < s_.jwt_count(); ++i) {
      if (s_.jwt(i).text.starts_with(signed_part)) {
        c.reason = "a JWT whose signature is not the one issued";
        return c;
      }
    }
  }
  const JwtInfo ji = read_jwt(cred);
  if (!ji.ok) {
    c.reason = "a malformed JWT";
    return c;
  }
  if (ji.unsigned_token) {
    c.reason = "an unsigned JWT";
    return c;
  }
  if (ji.exp && win_.expired(clamp_seconds(*ji.exp) * 1'000'000) == Tri::kYes) {
    c.reason = "an expired JWT";
    return c;
  }
  auto acct = s_.account_index(ji.username);
  if (!acct) acct = s_.account_index(ji.sub);
  if (!acct) {
    c.kind = Caller::Kind::kUnknown;
    return c;
  }
  if (ji.has_scope && ji.scope_is_string && scope_named(ji.scope)) {
    c.kind = Caller::Kind::kPatDerived;
    c.may_401 = true;
    return c;
  }
  // A well-formed JWT the model never saw issued, naming a known account: the server may know
  // it (a session from before this run) or not. 401/403 are fine; a success teaches the model.
  c.kind = Caller::Kind::kAccount;
  c.account = *acct;
  c.may_401 = true;
  c.may_403 = true;
  c.learn = true;
  if (ji.exp) c.learn_exp = Timestamp::from_seconds(clamp_seconds(*ji.exp));
  return c;
}

AuthExpect Judge::expect_auth(std::optional<std::uint16_t> account, std::string_view secret,
                              bool login_route) const {
  AuthExpect e;
  if (!account) {
    e.may_401 = true;
    e.why = AuthExpect::Why::kUnknownAccount;
    return e;
  }
  e.account = *account;
  e.has_account = true;
  const FixtureAccount& fa = s_.fixture().accounts[*account];
  if (secret == fa.password) {
    e.kind = JwtKind::kSession;
    if (fa.second_factor_code) {
      e.why = AuthExpect::Why::kTwoFactorPassword;
      if (login_route) {
        e.may_401 = true;
        e.need_2fa = true;
      } else {
        e.rule = "A23";
        e.may_200 = p_.two_factor_password != TwoFactorPassword::kRefused;
        e.may_401 = p_.two_factor_password != TwoFactorPassword::kAccepted;
      }
    } else {
      e.may_200 = true;
      e.why = AuthExpect::Why::kPassword;
    }
    return e;
  }
  if (const auto t = s_.find_token_by_secret(secret)) {
    const auto& r = s_.rec(*t);
    e.kind = JwtKind::kPatDerived;
    e.pat = *t;
    if (r.account != *account) {
      e.may_401 = true;
      e.why = AuthExpect::Why::kOtherPat;
    } else if (r.flags & kDeleted) {
      e.may_401 = true;
      e.rule = "3.6";
      e.why = AuthExpect::Why::kDeletedPat;
    } else if (!(r.flags & kActive)) {
      e.may_401 = true;
      e.rule = "3.8";
      e.why = AuthExpect::Why::kInactivePat;
    } else {
      const Tri ex = token_expired(*t);
      if (ex == Tri::kYes) {
        e.may_401 = true;
        e.rule = "3.4";
        e.why = AuthExpect::Why::kExpiredPat;
      } else {
        e.may_200 = true;
        e.may_401 = ex == Tri::kMaybe;
        e.rule = "3.8";
        e.why = AuthExpect::Why::kActivePat;
      }
    }
    return e;
  }
  e.may_401 = true;
  e.why = AuthExpect::Why::kWrongSecret;
  return e;
}

std::string Judge::why(const AuthExpect& e) const {
  using W = AuthExpect::Why;
  const std::string name(e.has_account ? s_.account_name(e.account) : std::string_view());
  const std::string uuid(e.pat != kNoIndex ? s_.uuid(e.pat) : std::string_view());
  switch (e.why) {
    case W::kUnknownAccount:
      return "an unknown account";
    case W::kTwoFactorPassword:
      return "the password of second-factor account " + name;
    case W::kPassword:
      return "the password of " + name;
    case W::kOtherPat:
      return "the secret of token " + uuid + " of another account";
    case W::kDeletedPat:
      return "the secret of deleted token " + uuid;
    case W::kInactivePat:
      return "the secret of inactive token " + uuid;
    case W::kExpiredPat:
      return "the secret of expired token " + uuid;
    case W::kActivePat:
      return "the secret of active token " + uuid;
    case W::kWrongSecret:
      return "a wrong secret for " + name;
    case W::kUnknownTwoFactor:
      return "an unknown login_2fa_token";
    case W::kWrongCode:
      return "a wrong second-factor code";
    case W::kFreshCode:
      return "the correct code for a fresh login_2fa_token";
    case W::kNoCredentials:
      return "no credentials";
    case W::kNonBasic:
      return "a non-Basic Authorization header";
    case W::kMalformedBasic:
      return "malformed Basic credentials";
  }
  return "a credential";
}

void Judge::accept_jwt(std::string_view jwt, const AuthExpect& e, bool lifetime_limited) {
  const JwtInfo ji = read_jwt(jwt);
  if (!ji.ok) {
    violate("4", what() + " returned a token that is not a JWT (" + ji.error +
                     "); JWTs are three base64url parts (contract 4)");
    return;
  }
  std::optional<Timestamp> exp;
  const std::string name(s_.account_name(e.account));
  if (ji.exp) {
    exp = Timestamp::from_seconds(clamp_seconds(*ji.exp));
    if (exp->micros <= win_.lo) {
      violate("1", what() + " returned a JWT that had already expired (contract 1)");
    } else if (lifetime_limited && p_.auth_token_lifetime_s > 0 &&
               exp->micros >
                   now_.micros + (p_.auth_token_lifetime_s + p_.clock_skew_s) * 1'000'000) {
      violate("1", what() + " returned a JWT valid for more than " +
                       std::to_string(p_.auth_token_lifetime_s) +
                       " s; /v2/auth/token JWTs expire in 10 minutes (contract 1)");
    }
  } else if (lifetime_limited && p_.auth_token_lifetime_s > 0) {
    violate("1", what() +
                     " returned a JWT without exp; /v2/auth/token JWTs expire in 10 minutes "
                     "(contract 1)");
  }
  if (!ji.username.empty() && ji.username != name) {
    violate("4", what() + " returned a JWT naming " + ji.username.substr(0, 60) + " for " + name +
                     "; a JWT names the account that authenticated (contract 4)");
  }
  if (const auto other = s_.account_index(ji.sub); other && *other != e.account) {
    violate("4", what() + " returned a JWT whose sub names " + ji.sub + " for " + name +
                     "; a JWT names the account that authenticated (contract 4)");
  }
  if (e.kind == JwtKind::kPatDerived && e.pat != kNoIndex) {
    const std::string_view want = to_string(static_cast<Scope>(s_.rec(e.pat).scope));
    if (!ji.has_scope || !ji.scope_is_string) {
      violate("4", what() +
                       " returned a JWT obtained with a PAT without a scope claim; it "
                       "carries the PAT's effective scope (contract 4)");
    } else if (ji.scope != want) {
      violate("4", what() + " returned a JWT obtained with a PAT whose scope claim is " +
                       ji.scope.substr(0, 40) + " but the PAT's effective scope is " +
                       std::string(want) + " (contract 4)");
    }
  }
  s_.add_jwt(jwt, e.kind, e.account, exp, e.kind == JwtKind::kPatDerived ? e.pat : kNoIndex);
}

bool Judge::judge_auth_outcome(const AuthExpect& e, bool body_ok, std::string_view body_problem,
                               std::string_view jwt_member) {
  const int st = rs_.status;
  const ErrFlavor flavor = route_ == Route::kAuthToken ? ErrFlavor::kDefault : ErrFlavor::kLogin;
  if (!body_ok) {
    if (st == 400 || st == 401) {
      check_error_body(flavor);
    } else {
      violate("1", what() + " with " + std::string(body_problem) + " returned " + status_text() +
                       "; a malformed request gets 400 or 401 (contract 1)");
    }
    return false;
  }
  if (st == 200) {
    if (!e.may_200) {
      violate(e.rule, what() + " with " + why(e) +
                          " returned 200; it must not authenticate, the answer is 401 (contract " +
                          e.rule + ")");
      return false;
    }
    if (!body_json_ || !body_.is_object(0)) {
      violate("1", what() + " returned 200 without a JSON object (contract 1)");
      return false;
    }
    const std::uint32_t n = body_.find(0, jwt_member);
    if (n == kNone || !body_.is_string(n)) {
      violate("1", what() + " returned 200 without a string " + std::string(jwt_member) +
                       " (contract 1)");
      return false;
    }
    const std::string jwt(body_.str(n, scratch_));
    accept_jwt(jwt, e, route_ == Route::kAuthToken);
    if (e.kind == JwtKind::kPatDerived && e.pat != kNoIndex) s_.mark_used(e.pat);
    return true;
  }
  if (st == 401) {
    if (route_ == Route::kLogin && e.need_2fa && body_json_ && body_.is_object(0)) {
      // Learnt first, so the excerpts below redact it.
      const std::uint32_t n = body_.find(0, "login_2fa_token");
      if (n != kNone && body_.is_string(n) && body_.node(n).len > 0) {
        s_.add_two_factor(body_.str(n, scratch_), e.account, now_);
      }
    }
    if (!e.may_401) {
      violate(e.rule, what() + " with " + why(e) +
                          " returned 401; it must authenticate (contract " + e.rule + ")");
    }
    check_error_body(flavor);
    if (route_ == Route::kLogin && body_json_ && body_.is_object(0)) {
      const std::uint32_t n = body_.find(0, "login_2fa_token");
      const bool present = n != kNone && body_.kind(n) != JsonKind::kNull;
      if (e.need_2fa) {
        if (!present || !body_.is_string(n) || body_.node(n).len == 0) {
          violate("4", what() + " with " + why(e) +
                           " returned 401 without login_2fa_token; the second step needs it "
                           "(contract 4)");
        }
      } else if (present) {
        violate("4", what() + " with " + why(e) +
                         " returned 401 with a login_2fa_token; only the correct password of a "
                         "second-factor account gets one (contract 4)");
      }
    } else if (route_ == Route::kLogin && e.need_2fa) {
      violate("4", what() + " with " + why(e) +
                       " returned 401 without login_2fa_token; the second step needs it "
                       "(contract 4)");
    }
    return false;
  }
  if (st == 400) {
    violate("1", what() +
                     " with a well-formed body returned 400; it answers 200 or 401 "
                     "(contract 1)");
    check_error_body(flavor);
    return false;
  }
  violate(st == 403 ? "4" : "1", what() + " returned " + status_text() +
                                     "; it answers 200 or 401 (contract " +
                                     (st == 403 ? "4" : "1") + ")");
  return false;
}

namespace {

// Reads two required string members of a small JSON request body into `va` and `vb`.
bool read_pair(const std::string& body, JsonTape& tape, const char* a, const char* b,
               std::string& va, std::string& vb, std::string& problem) {
  if (!tape.parse(body) || !tape.is_object(0)) {
    problem = "a body that is not a JSON object";
    return false;
  }
  const std::uint32_t na = tape.find(0, a);
  const std::uint32_t nb = tape.find(0, b);
  if (na == kNone || nb == kNone || !tape.is_string(na) || !tape.is_string(nb)) {
    problem = std::string("a body without string ") + a + " and " + b;
    return false;
  }
  std::string tmp;  // used only for escaped values
  va.assign(tape.str(na, tmp));
  vb.assign(tape.str(nb, tmp));
  return true;
}

}  // namespace

void Judge::auth_token() {
  Scratch& sc = scratch();
  std::string problem;
  const bool ok = read_pair(rq_.body, req_, "identifier", "secret", sc.pair_a, sc.pair_b, problem);
  credentials_[0] = sc.pair_b;
  AuthExpect e;
  if (ok) e = expect_auth(s_.account_index(sc.pair_a), sc.pair_b, false);
  judge_auth_outcome(e, ok, problem, "access_token");
}

void Judge::login() {
  Scratch& sc = scratch();
  std::string problem;
  const bool ok = read_pair(rq_.body, req_, "username", "password", sc.pair_a, sc.pair_b, problem);
  credentials_[0] = sc.pair_b;
  AuthExpect e;
  if (ok) e = expect_auth(s_.account_index(sc.pair_a), sc.pair_b, true);
  judge_auth_outcome(e, ok, problem, "token");
}

void Judge::two_factor_login() {
  Scratch& sc = scratch();
  std::string problem;
  const bool ok =
      read_pair(rq_.body, req_, "login_2fa_token", "code", sc.pair_a, sc.pair_b, problem);
  const std::string_view token = sc.pair_a;
  const std::string_view code = sc.pair_b;
  credentials_[0] = token;
  credentials_[1] = code;
  AuthExpect e;
  std::optional<std::uint32_t> tf;
  if (ok) {
    tf = s_.find_two_factor(token);
    if (!tf) {
      e.may_401 = true;
      e.why = AuthExpect::Why::kUnknownTwoFactor;
    } else {
      const TwoFactorRec& r = s_.two_factor(*tf);
      e.account = r.account;
      e.has_account = true;
      const auto& want = s_.fixture().accounts[r.account].second_factor_code;
      if (!want || code != *want) {
        e.may_401 = true;
        e.why = AuthExpect::Why::kWrongCode;
      } else {
        const bool fresh =
            !r.redeemed && now_.micros - r.issued <= p_.two_factor_window_s * 1'000'000;
        e.may_200 = true;
        e.may_401 = !fresh;
        e.why = AuthExpect::Why::kFreshCode;
      }
    }
  }
  if (judge_auth_outcome(e, ok, problem, "token") && tf) s_.redeem_two_factor(*tf);
}

void Judge::registry() {
  const int st = rs_.status;
  // Only a request for the registry's own service must not get a 400: the contract names no other
  // service, so a 400 for another one (or none) is allowed, as is an answer.
  bool for_registry = false;
  bool malformed_scope = false;
  struct Wanted {
    std::string type;
    std::string name;
    std::uint8_t actions = 0;  // requested under every reading: a 200 must grant what is allowed
    std::uint8_t maybe = 0;    // requested under one reading only: a 200 may grant it, if allowed
  };
  std::vector<Wanted> wanted;
  // Adds "TYPE:NAME:ACTIONS" to `wanted`; false when it is not of that form.
  auto want = [&](std::string_view v, bool certain) {
    const std::size_t c1 = v.find(':');
    const std::size_t c2 = v.rfind(':');
    if (c1 == std::string_view::npos || c2 == c1 || c2 == c1 + 1) return false;
    Wanted w;
    w.type = std::string(v.substr(0, c1));
    w.name = std::string(v.substr(c1 + 1, c2 - c1 - 1));
    std::uint8_t bits = 0;
    std::string_view acts = v.substr(c2 + 1);
    while (!acts.empty()) {
      const std::size_t comma = acts.find(',');
      bits |= action_bit(acts.substr(0, comma));
      acts = comma == std::string_view::npos ? std::string_view() : acts.substr(comma + 1);
    }
    bits &= kAllActions;
    // Repeated scopes on one repository ask for the union of their actions.
    auto same = std::find_if(wanted.begin(), wanted.end(),
                             [&](const Wanted& o) { return o.type == w.type && o.name == w.name; });
    Wanted& into = same != wanted.end() ? *same : wanted.emplace_back(std::move(w));
    (certain ? into.actions : into.maybe) |= bits;
    return true;
  };
  for (const auto& [k, v] : parse_query(rq_.query)) {
    if (k == "service") {
      // The last value counts, as Django's QueryDict.get reads it: "service=registry.docker.io
      // &service" asks for the service "" (session_fuzzer).
      for_registry = v == kRegistryService;
    } else if (k == "scope") {
      // A value with a space is either one entry with odd actions or, as many token services
      // (and the reference server) read it, several space-separated entries. The contract does
      // not settle it, so both readings pass: a 400, or a 200 whose grants section 5 allows
      // under either reading (each space-separated entry may be granted, none must be).
      if (v.find(' ') != std::string::npos) {
        malformed_scope = true;
        std::string_view rest(v);
        while (!rest.empty()) {
          const std::size_t space = rest.find(' ');
          if (space != 0) want(rest.substr(0, space), false);
          rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        }
      } else if (!want(v, true)) {
        malformed_scope = true;
      }
    }
  }

  // The credential (contract 5): anonymous, a password, a PAT, or a bad one.
  enum class Cred : std::uint8_t { kAnonymous, kPassword, kPat };
  Cred cred = Cred::kAnonymous;
  bool may_200 = true;
  bool may_401 = false;
  bool malformed_auth = false;
  const char* rule = "5";
  AuthExpect described;
  described.why = AuthExpect::Why::kNoCredentials;
  std::string basic;  // the decoded Basic credentials, alive for the whole judgement
  std::uint16_t account = 0;
  Scope pat_scope = Scope::kPublicRead;
  std::uint32_t pat = kNoIndex;
  if (const std::string* auth = find_header(rq_.headers, "Authorization")) {
    const std::string_view v = trim(*auth);
    const std::size_t sp = v.find(' ');
    if (!iequals(v.substr(0, sp), "Basic")) {
      // Other schemes are outside the contract: refused, or ignored as anonymous.
      may_401 = true;
      described.why = AuthExpect::Why::kNonBasic;
    } else {
      auto decoded =
          base64_decode(sp == std::string_view::npos ? std::string_view() : trim(v.substr(sp + 1)));
      if (decoded.ok()) basic = std::move(*decoded);
      const std::size_t colon = decoded.ok() ? basic.find(':') : std::string::npos;
      if (colon == std::string::npos) {
        malformed_auth = true;
        may_200 = false;
        may_401 = true;
        described.why = AuthExpect::Why::kMalformedBasic;
      } else {
        const std::string_view user = std::string_view(basic).substr(0, colon);
        const std::string_view secret = std::string_view(basic).substr(colon + 1);
        credentials_[0] = secret;
        const AuthExpect e = expect_auth(s_.account_index(user), secret, false);
        may_200 = e.may_200;
        may_401 = e.may_401;
        described = e;
        rule = std::string_view(e.rule) == "4" ? "5" : e.rule;
        account = e.account;
        if (e.may_200) {
          if (e.kind == JwtKind::kPatDerived) {
            cred = Cred::kPat;
            pat = e.pat;
            pat_scope = static_cast<Scope>(s_.rec(e.pat).scope);
          } else {
            cred = Cred::kPassword;
          }
        }
      }
    }
  }

  if (st == 401) {
    if (!may_401) {
      violate(rule, what() + " with " + why(described) +
                        " returned 401; it must get a token (contract " + rule + ")");
    }
    return;
  }
  if (st == 400) {
    if (!malformed_auth && !malformed_scope && for_registry) {
      violate("1", what() +
                       " returned 400 to a well-formed request; R1 answers 200 or 401 "
                       "(contract 1)");
    }
    return;
  }
  if (st != 200) {
    violate("1", what() + " returned " + status_text() + "; R1 answers 200 or 401 (contract 1)");
    return;
  }
  if (!may_200) {
    violate(rule, what() + " with " + why(described) + " returned 200; it must get 401 (contract " +
                      rule + ")");
    return;
  }
  if (!body_json_ || !body_.is_object(0)) {
    violate("1", what() + " returned 200 without a JSON object (contract 1)");
    return;
  }
  const std::uint32_t nt = body_.find(0, "token");
  if (nt == kNone || !body_.is_string(nt)) {
    violate("1", what() + " returned 200 without a string token (contract 1)");
    return;
  }
  if (const std::uint32_t n = body_.find(0, "access_token"); n != kNone && !body_.is_string(n)) {
    violate("1", what() + " returned access_token that is not a string (contract 1)",
            node_excerpt(n));
  }
  if (const std::uint32_t n = body_.find(0, "expires_in");
      n != kNone && !body_.integer(n).has_value()) {
    violate("1", what() + " returned expires_in that is not an integer (contract 1)",
            node_excerpt(n));
  }
  if (const std::uint32_t n = body_.find(0, "issued_at"); n != kNone) {
    if (!body_.is_string(n) || !parse_time(body_.str(n, scratch2_))) {
      violate("A20",
              what() +
                  " returned issued_at that is not an RFC 3339 timestamp "
                  "(contract A20)",
              node_excerpt(n));
    }
  }
  const std::string token(body_.str(nt, scratch_));
  const JwtInfo ji = read_jwt(token);
  if (!ji.ok) {
    violate("1", what() + " returned a token that is not a JWT (" + ji.error + ") (contract 1)");
    return;
  }
  if (ji.access_malformed) {
    violate("5", what() +
                     " returned a JWT whose access claim is not a list of {type, name, "
                     "actions} (contract 5)");
  }
  if (cred == Cred::kPat) s_.mark_used(pat);

  // Grants (contract 5): requested actions intersected with what the credential allows.
  const std::string name =
      cred == Cred::kAnonymous ? std::string() : std::string(s_.account_name(account));
  auto row = [&](bool own, bool is_private) -> std::uint8_t {
    switch (cred) {
      case Cred::kAnonymous:
        return is_private ? 0 : kPull;
      case Cred::kPassword:
        return own ? kAllActions : (is_private ? 0 : kPull);
      case Cred::kPat:
        if (!own) return is_private ? 0 : kPull;
        switch (pat_scope) {
          case Scope::kAdmin:
            return kAllActions;
          case Scope::kWrite:
            return kPull | kPush;
          case Scope::kRead:
            return kPull;
          case Scope::kPublicRead:
            return is_private ? 0 : kPull;
        }
    }
    return 0;
  };
  auto who = [&] {
    return cred == Cred::kAnonymous ? std::string("an anonymous request") : why(described);
  };
  for (const Wanted& w : wanted) {
    std::uint8_t granted = 0;
    for (const AccessGrant& g : ji.access) {
      if (!g.bad && g.type == w.type && g.name == w.name) granted |= g.actions;
    }
    std::uint8_t upper = 0;
    std::uint8_t lower = 0;
    if (w.type == "repository") {
      if (const FixtureRepository* repo = s_.fixture().find_repository(w.name)) {
        const bool own = cred != Cred::kAnonymous && repo->owner == name;
        lower = row(own, repo->is_private) & w.actions;
        upper = row(own, repo->is_private) & (w.actions | w.maybe);
      } else {
        const std::string ns = w.name.substr(0, w.name.find('/'));
        const bool own = cred != Cred::kAnonymous && ns == name;
        upper =
            (own ? row(true, false) | row(true, true) : row(false, false)) & (w.actions | w.maybe);
      }
    }
    if (granted & ~upper) {
      violate("5", what() + " for " + who() + " granted " + actions_text(granted) + " on " +
                       w.name.substr(0, 80) + "; at most " + actions_text(upper) +
                       " is allowed (contract 5)");
    } else if (lower & ~granted) {
      violate("5", what() + " for " + who() + " granted " + actions_text(granted) + " on " +
                       w.name.substr(0, 80) + "; " + actions_text(lower) +
                       " is required (contract 5)");
    }
  }
  for (const AccessGrant& g : ji.access) {
    if (g.bad || g.actions == 0) continue;
    const bool requested = std::any_of(wanted.begin(), wanted.end(), [&](const Wanted& w) {
      return w.type == g.type && w.name == g.name;
    });
    if (!requested) {
      violate("5", what() + " granted " + actions_text(g.actions) + " on " + g.name.substr(0, 80) +
                       ", which was not requested (contract 5)");
    }
  }
}

}  // namespace patrol::model::detail
