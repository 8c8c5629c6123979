#include "properties/commands.hpp"

#include <algorithm>
#include <map>

#include "model/codec.hpp"
#include "model/jwt.hpp"
#include "model/listing.hpp"
#include "model/utf8.hpp"
#include "properties/choose.hpp"

namespace patrol::properties {

using model::HttpRequest;
using model::Json;
using model::Status;

namespace {

// ---- small helpers -------------------------------------------------------------------------

// A JSON string literal from raw bytes: valid UTF-8 goes through nlohmann; invalid bytes are
// written raw, so the server sees exactly the malformed label (contract 3.2).
std::string json_string_raw(std::string_view text) {
  if (model::utf8_code_points(text).ok()) return Json(std::string(text)).dump();
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string quoted_for_show(std::string_view text) {
  std::string shown = json_string_raw(text);
  return shown.size() > 40 ? shown.substr(0, 37) + "...\"" : shown;
}

std::string pick_account(const Session& s) {
  std::vector<std::string> names;
  for (const auto& a : s.state().fixture().accounts) names.push_back(a.username);
  return choose::element_of(names);
}

const model::FixtureAccount& account_of(const Session& s, const std::string& name) {
  return *s.state().fixture().find_account(name);
}

model::Timestamp plus_seconds(model::Timestamp t, std::int64_t s) {
  return model::Timestamp{t.micros + s * 1'000'000};
}

std::string make_label(const std::string& prefix, bool guarded) {
  enum Kind { kPlain, kMultibyte, kExactly100, kTooLong, kEmpty, kInvalidUtf8, kPadded };
  auto kind = choose::weighted<Kind>({{10, kPlain},
                                      {2, kMultibyte},
                                      {2, kExactly100},
                                      {2, kTooLong},
                                      {guarded ? 0u : 1u, kEmpty},
                                      {1, kInvalidUtf8},
                                      {1, kPadded}});
  // Few distinct labels, so that tokens share one now and then (labels need not be unique).
  std::string base = prefix + std::to_string(choose::in_range(0, 4));
  auto pad_to = [&](std::size_t code_points, char32_t cp) {
    std::string out = prefix;
    std::size_t have = *model::utf8_code_points(out);
    while (have < code_points) {
      model::append_utf8(out, cp);
      ++have;
    }
    return out;
  };
  switch (kind) {
    case kPlain:
      return base;
    case kMultibyte: {
      std::string out = base + " ";
      model::append_utf8(out, U'\u00e9');
      model::append_utf8(out, U'\u6f22');
      model::append_utf8(out, U'\U0001F433');
      return out;
    }
    case kExactly100:
      return pad_to(100, choose::element(U'x', U'\u00e9', U'\U0001F433'));
    case kTooLong:
      return pad_to(101, choose::element(U'x', U'\u00e9', U'\U0001F433'));
    case kEmpty:
      return "";
    case kInvalidUtf8:
      return base + "\xff\xfe";
    case kPadded:
      // A live run's labels must start with its prefix (the guard and the sweep rely on it).
      return guarded ? base + "  " : "  " + base + "  ";
  }
  return base;
}

// RFC 3339 with a numeric offset: the same instant written in another zone.
std::string format_with_offset(model::Timestamp t, int offset_minutes) {
  if (offset_minutes == 0) return model::format_rfc3339(t);
  std::string local = model::format_rfc3339(plus_seconds(t, offset_minutes * 60LL));
  local.pop_back();  // the 'Z'
  char zone[16];
  int m = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
  return local + zone;
}

// ---- token references ------------------------------------------------------------------------

struct UuidPick {
  std::string uuid;
  std::string situation;  // for the coverage table
};

std::string random_uuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<int> digits;
  for (int i = 0; i < 32; ++i) digits.push_back(choose::in_range(0, 16));
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += kHex[i == 12 ? 4 : (i == 16 ? 8 + (digits[i] & 3) : digits[i])];
  }
  return out;
}

// Picks the uuid a token route acts on: one of the account's tokens in each lifecycle state, the
// other account's, an unknown one or a malformed one.
UuidPick pick_uuid(const Session& s, const std::string& account, bool modifies, bool guarded) {
  const auto& st = s.state();
  const model::Timestamp now = st.last_seen();
  std::vector<UuidPick> known;
  for (std::uint32_t i = 0; i < st.token_count(); ++i) {
    model::TokenView t = st.token(i);
    // A live account's own tokens, adopted from a listing, are somebody's: read them, never
    // change them (the ownership guard would refuse anyway).
    if (t.adopted && modifies && guarded) continue;
    std::string situation;
    if (t.owner != account) {
      situation = "another account's token";
    } else if (t.deleted) {
      situation = "deleted token";
    } else if (t.expired_at(now)) {
      situation = "expired token";
    } else if (!t.is_active) {
      situation = "inactive token";
    } else {
      situation = "active token";
    }
    known.push_back({std::string(t.uuid), situation});
  }
  enum Kind { kKnown, kUnknown, kMalformed };
  bool foreign_ok = !(modifies && guarded);
  auto kind = choose::weighted<Kind>({{known.empty() ? 0u : 12u, kKnown},
                                      {foreign_ok ? 1u : 0u, kUnknown},
                                      {foreign_ok ? 1u : 0u, kMalformed}});
  if (kind == kKnown) {
    // Lifecycle situation first, then a token in it: a deleted or expired token is one among
    // many, and picking uniformly over tokens would almost never revisit it (contract 3.4, 3.6).
    // Tokens at the end of their life weigh more than the many active ones; another account's
    // token is the permission probe (contract 4).
    std::vector<std::pair<std::uint64_t, std::string>> situations;
    for (const auto& k : known) {
      auto same = [&](const auto& p) { return p.second == k.situation; };
      if (std::find_if(situations.begin(), situations.end(), same) != situations.end()) continue;
      const bool own_active = k.situation == "active token";
      situations.emplace_back(own_active ? (modifies ? 4 : 2) : (k.situation[0] == 'a' ? 2 : 3),
                              k.situation);
    }
    const std::string situation = choose::weighted(situations);
    std::vector<UuidPick> in_situation;
    for (const auto& k : known) {
      if (k.situation == situation) in_situation.push_back(k);
    }
    return choose::element_of(in_situation);
  }
  if (kind == kUnknown) return {random_uuid(), "unknown uuid"};
  std::string upper = known.empty() ? "" : known.front().uuid;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> malformed = {"not-a-uuid", "00000000-0000-0000-0000-00000000000g",
                                        "12345",      std::string(300, 'a'),
                                        "%zz",        "..",
                                        "a b"};
  if (!upper.empty()) malformed.push_back(upper);
  return {choose::element_of(malformed), "malformed uuid"};
}

bool has_token_route_credentials(const Session& s, const std::string& account) {
  return s.session_jwt(account, s.state().last_seen()).has_value();
}

// ---- commands --------------------------------------------------------------------------------

struct Login final : Command {
  std::string account;
  bool via_users_login = false;
  bool wrong_password = false;

  Status run(Session& s) const override {
    const auto& acc = account_of(s, account);
    std::string password = wrong_password ? acc.password + "-wrong" : acc.password;
    if (!via_users_login) {
      Json body = {{"identifier", account}, {"secret", password}};
      auto r =
          s.exchange(show(), json_request("POST", "/v2/auth/token", "", body.dump()), {"1", "4"});
      return r.ok() ? Status(model::Ok{}) : Status(r.error());
    }
    Json body = {{"username", account}, {"password", password}};
    auto r =
        s.exchange(show(), json_request("POST", "/v2/users/login", "", body.dump()), {"1", "4"});
    if (!r.ok()) return r.error();
    const Step* step = *r;
    if (step->response.status != 401 || !acc.second_factor_code || wrong_password) {
      return model::Ok{};
    }
    auto err = model::decode_text<model::LoginError>(step->response.body);
    if (!err.ok() || !err->login_2fa_token.has_value()) return model::Ok{};
    Json second = {{"login_2fa_token", err->login_2fa_token.value},
                   {"code", *acc.second_factor_code}};
    auto r2 = s.exchange(show(), json_request("POST", "/v2/users/2fa-login", "", second.dump()),
                         {"1", "4"});
    return r2.ok() ? Status(model::Ok{}) : Status(r2.error());
  }
  std::string show() const override {
    return std::string("login ") + account + (via_users_login ? " via /v2/users/login" : "") +
           (wrong_password ? " with a wrong password" : "");
  }
};

struct Create final : Command {
  std::string account;
  std::string label;
  std::vector<std::string> scopes;
  std::optional<std::int64_t> expires_in_s;
  int offset_minutes = 0;  // how expires_at is written: 0 = "Z", else a numeric offset

  bool check_preconditions(const Session& s) const override {
    return has_token_route_credentials(s, account);
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    std::string body =
        "{\"token_label\":" + json_string_raw(label) + ",\"scopes\":" + Json(scopes).dump();
    if (expires_in_s) {
      body += ",\"expires_at\":\"" +
              format_with_offset(plus_seconds(s.now(), *expires_in_s), offset_minutes) + "\"";
    }
    body += "}";
    auto r = s.exchange(show(), json_request("POST", "/v2/access-tokens", *bearer, body),
                        {"1", "2", "3.2", "3.3", "3.4"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    std::string out =
        "create " + account + " label=" + quoted_for_show(label) + " scopes=" + Json(scopes).dump();
    if (expires_in_s) out += " expires=" + std::to_string(*expires_in_s) + "s";
    return out;
  }
};

struct List final : Command {
  std::string account;
  std::optional<std::string> page;
  std::optional<std::string> page_size;

  bool check_preconditions(const Session& s) const override {
    return has_token_route_credentials(s, account);
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    HttpRequest req = json_request("GET", "/v2/access-tokens", *bearer, "");
    std::string q;
    if (page) q = "page=" + *page;
    if (page_size) q += (q.empty() ? "" : "&") + std::string("page_size=") + *page_size;
    req.query = q;
    auto r = s.exchange(show(), std::move(req), {"1", "6"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    return "list " + account + (page ? " page=" + *page : "") +
           (page_size ? " page_size=" + *page_size : "");
  }
};

struct Walk final : Command {
  std::string account;
  int page_size = 3;

  bool check_preconditions(const Session& s) const override {
    return has_token_route_credentials(s, account);
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    model::ListingWalk walk(s.profile());
    model::ListQuery q{1, page_size};
    for (int i = 0; i < 200; ++i) {
      HttpRequest req = json_request("GET", "/v2/access-tokens", *bearer, "");
      req.query = q.to_query();
      auto r = s.exchange(show(), std::move(req), {"1", "6"}, &walk);
      if (!r.ok()) return r.error();
      if ((*r)->response.status != 200) break;
      auto page = model::decode_text<model::TokenPage>((*r)->response.body);
      if (!page.ok() || !page->next.has_value()) break;
      auto next = model::parse_page_link(page->next.value);
      if (!next.ok() || next->page <= q.page) break;  // the oracle reports bad links
      q = *next;
    }
    s.finish_walk(walk);
    return model::Ok{};
  }
  std::string show() const override {
    return "walk every page of " + account + "'s tokens, page_size=" + std::to_string(page_size);
  }
};

struct TokenRoute final : Command {
  std::string method;  // GET, PATCH, DELETE
  std::string account;
  UuidPick target;
  std::string body;  // PATCH only

  bool check_preconditions(const Session& s) const override {
    return has_token_route_credentials(s, account);
  }
  Status run(Session& s) const override {
    auto bearer = s.session_jwt(account, s.now());
    if (!bearer) return model::Ok{};
    s.note_state(method + " on " + target.situation);
    std::vector<const char*> rules =
        method == "GET" ? std::vector<const char*>{"1", "2", "3.6", "3.7", "4"}
        : method == "PATCH"
            ? std::vector<const char*>{"1", "2", "3.2", "3.4", "3.5", "3.6", "3.7", "3.9", "4"}
            : std::vector<const char*>{"1", "3.6", "3.7", "3.9", "4"};
    auto r = s.exchange(
        show(), json_request(method, "/v2/access-tokens/" + target.uuid, *bearer, body), rules);
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    std::string shown = target.uuid.size() > 40 ? target.uuid.substr(0, 40) + "..." : target.uuid;
    return method + " " + account + "'s view of " + target.situation + " " + shown +
           (body.empty() ? "" : " " + body);
  }
};

struct UsePat final : Command {
  std::uint32_t token = 0;
  std::string identifier;
  bool via_users_login = false;

  Status run(Session& s) const override {
    std::string secret(s.state().token(token).secret);
    Json body = via_users_login ? Json{{"username", identifier}, {"password", secret}}
                                : Json{{"identifier", identifier}, {"secret", secret}};
    auto r = s.exchange(show(),
                        json_request("POST", via_users_login ? "/v2/users/login" : "/v2/auth/token",
                                     "", body.dump()),
                        {"1", "3.4", "3.6", "3.8", "4"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    return "authenticate as " + identifier + " with PAT #" + std::to_string(token + 1) +
           (via_users_login ? " via /v2/users/login" : "");
  }
};

struct ForeignBearer final : Command {
  enum Kind {
    kPatJwt,
    kRawPat,
    kNone,
    kGarbage,
    kMalformedJwt,
    kExpiredJwt,
    kJwtKeyword,
    kTampered
  };
  Kind kind = kNone;
  std::string credential;  // the JWT or secret used, when any
  std::string account;     // whose tokens the request names
  std::string method = "GET";
  std::string path = "/v2/access-tokens";
  std::string body;

  Status run(Session& s) const override {
    HttpRequest req = json_request(method, path, "", body);
    switch (kind) {
      case kPatJwt:
      case kRawPat:
      case kExpiredJwt:
      case kTampered:
        req.headers.set("Authorization", "Bearer " + credential);
        break;
      case kJwtKeyword:
        req.headers.set("Authorization", "JWT " + credential);
        break;
      case kGarbage:
        req.headers.set("Authorization", "Bearer not-a-token");
        break;
      case kMalformedJwt:
        req.headers.set("Authorization", "Bearer a.b.c");
        break;
      case kNone:
        break;
    }
    auto r = s.exchange(show(), std::move(req), {"1", "4"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    static const char* kNames[] = {"a PAT-derived JWT",
                                   "a raw PAT",
                                   "no bearer",
                                   "a garbage bearer",
                                   "a malformed JWT",
                                   "an expired JWT",
                                   "the legacy JWT keyword",
                                   "a JWT with a forged signature"};
    return method + " " + path + " with " + kNames[kind];
  }
};

struct Registry final : Command {
  enum Cred { kPassword, kPat, kAnonymous, kWrongPassword };
  Cred cred = kAnonymous;
  std::string account;      // for password credentials
  std::uint32_t token = 0;  // for PAT credentials
  std::string repository;
  std::string actions;

  Status run(Session& s) const override {
    HttpRequest req{"GET", "/token"};
    req.query = "service=registry.docker.io&scope=repository:" + repository + ":" + actions;
    std::string user;
    std::string secret;
    if (cred == kPassword || cred == kWrongPassword) {
      user = account;
      secret = account_of(s, account).password + (cred == kWrongPassword ? "-wrong" : "");
    } else if (cred == kPat) {
      model::TokenView t = s.state().token(token);
      user = std::string(t.owner);
      secret = std::string(t.secret);
    }
    if (!user.empty()) {
      req.headers.set("Authorization", "Basic " + model::base64_encode(user + ":" + secret));
    }
    req.headers.set("Accept", "application/json");
    auto r = s.exchange(show(), std::move(req), {"1", "3.8", "5"});
    return r.ok() ? Status(model::Ok{}) : Status(r.error());
  }
  std::string show() const override {
    static const char* kNames[] = {"password of ", "PAT #", "anonymous", "wrong password of "};
    std::string who =
        cred == kPat ? std::to_string(token + 1) : (cred == kAnonymous ? "" : account);
    return "registry " + repository + ":" + actions + " as " + kNames[cred] + who;
  }
};

struct AdvanceClock final : Command {
  std::int64_t seconds = 1;
  Status run(Session& s) const override {
    auto st = s.target().advance_clock(std::chrono::seconds(seconds));
    if (st.ok()) s.note_state("clock advanced");
    return st;
  }
  std::string show() const override { return "advance the clock " + std::to_string(seconds) + "s"; }
};

// ---- generators ------------------------------------------------------------------------------

std::vector<std::string> pick_scopes() {
  enum Kind { kOne, kSeveral, kUnknown, kEmpty };
  static const std::vector<std::string> kKnown = {"repo:public_read", "repo:read", "repo:write",
                                                  "repo:admin"};
  auto kind = choose::weighted<Kind>({{10, kOne}, {3, kSeveral}, {1, kUnknown}, {1, kEmpty}});
  switch (kind) {
    case kOne:
      return {choose::element_of(kKnown)};
    case kSeveral: {
      std::vector<std::string> several(choose::in_range<std::size_t>(2, 5));
      for (auto& scope : several) scope = choose::element_of(kKnown);
      return several;
    }
    case kUnknown: {
      auto known = choose::element_of(kKnown);
      return {known,
              choose::element<std::string>("repo:delete", "REPO:READ", "", "repo:*", "org:admin")};
    }
    case kEmpty:
      return {};
  }
  return {"repo:read"};
}

std::string pick_patch_body(const std::string& prefix, bool guarded) {
  enum Kind {
    kLabel,
    kDeactivate,
    kActivate,
    kBoth,
    kEmpty,
    kBadLabel,
    kLongLabel,
    kScopes,
    kExpiry,
    kWrongType
  };
  auto kind = choose::weighted<Kind>({{4, kLabel},
                                      {4, kDeactivate},
                                      {4, kActivate},
                                      {2, kBoth},
                                      {1, kEmpty},
                                      // "" would lose the run prefix on a server that wrongly
                                      // took it (live safety)
                                      {guarded ? 0u : 1u, kBadLabel},
                                      {1, kLongLabel},
                                      {1, kScopes},
                                      {1, kExpiry},
                                      {1, kWrongType}});
  std::string label = prefix + "renamed-" + std::to_string(choose::in_range(0, 100));
  switch (kind) {
    case kLabel:
      return Json{{"token_label", label}}.dump();
    case kDeactivate:
      return R"({"is_active":false})";
    case kActivate:
      return R"({"is_active":true})";
    case kBoth:
      return Json{{"token_label", label}, {"is_active", choose::coin()}}.dump();
    case kEmpty:
      return "{}";
    case kBadLabel:
      return R"({"token_label":""})";
    case kLongLabel:
      return Json{{"token_label", prefix + std::string(101, 'x')}}.dump();
    case kScopes:
      return R"({"scopes":["repo:admin"]})";
    case kExpiry:
      return R"({"expires_at":"2000-01-01T00:00:00Z"})";
    case kWrongType:
      return R"({"is_active":"yes"})";
  }
  return "{}";
}

std::string list_param(bool page) {
  enum Kind { kAbsent, kValid, kFloatInt, kZero, kNegative, kFraction, kWord, kTooBig };
  auto kind = choose::weighted<Kind>({{4, kAbsent},
                                      {8, kValid},
                                      {1, kFloatInt},
                                      {1, kZero},
                                      {1, kNegative},
                                      {1, kFraction},
                                      {1, kWord},
                                      {page ? 0u : 1u, kTooBig}});
  switch (kind) {
    case kAbsent:
      return "";
    case kValid:
      return std::to_string(choose::in_range(1, page ? 4 : 101));
    case kFloatInt:
      return "2.0";
    case kZero:
      return "0";
    case kNegative:
      return "-1";
    case kFraction:
      return "2.5";
    case kWord:
      return "ten";
    case kTooBig:
      return "101";
  }
  return "";
}

}  // namespace

HttpRequest json_request(std::string method, std::string path, const std::string& bearer,
                         std::string body) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.headers.set("Accept", "application/json");
  if (!bearer.empty()) req.headers.set("Authorization", "Bearer " + bearer);
  if (!body.empty()) req.headers.set("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

Status bootstrap(Session& session) {
  for (const auto& acc : session.state().fixture().accounts) {
    Login login;
    login.account = acc.username;
    login.via_users_login = acc.second_factor_code.has_value();
    if (auto st = login.run(session); !st.ok()) return st;
  }
  return model::Ok{};
}

void delete_created_tokens(Session& session) {
  const auto& st = session.state();
  auto& transport = session.target().transport();
  std::map<std::string, std::string> bearers;
  for (std::uint32_t i = 0; i < st.token_count(); ++i) {
    model::TokenView t = st.token(i);
    if (t.deleted || t.adopted) continue;
    std::string owner(t.owner);
    if (!bearers.count(owner)) {
      if (auto jwt = session.session_jwt(owner, session.now())) {
        bearers[owner] = *jwt;
      } else {
        const auto& acc = account_of(session, owner);
        Json body = {{"identifier", owner}, {"secret", acc.password}};
        auto r = transport.send(json_request("POST", "/v2/auth/token", "", body.dump()));
        if (!r.ok() || r->status != 200) continue;
        auto res = model::decode_text<model::AuthTokenResponse>(r->body);
        if (!res.ok()) continue;
        bearers[owner] = res->access_token;
      }
    }
    (void)transport.send(
        json_request("DELETE", "/v2/access-tokens/" + std::string(t.uuid), bearers[owner], ""));
  }
}

namespace {
enum Kind : std::uint32_t {
  kLogin,
  kCreate,
  kList,
  kWalk,
  kGet,
  kPatch,
  kDelete,
  kUsePat,
  kForeign,
  kRegistry,
  kClock
};
}  // namespace

GeneratorOptions pick_swarm(GeneratorOptions options, std::uint64_t seed) {
  choose::Stream random(seed);
  for (Kind k : {kList, kWalk, kGet, kPatch, kDelete, kUsePat, kForeign, kRegistry, kClock}) {
    if (random.next() % 3 == 0) options.left_out |= 1u << k;
  }
  return options;
}

CommandPtr pick_command_from_seed(std::uint64_t seed, const Session& s,
                                  const GeneratorOptions& options) {
  try {
    choose::Scope scope(seed);
    return pick_command(s, options);
  } catch (const choose::NothingToPick&) {
    return nullptr;  // nothing to pick from in this state
  }
}

CommandPtr pick_command(const Session& s, const GeneratorOptions& options) {
  const auto& st = s.state();
  const model::Timestamp now = st.last_seen();
  std::vector<std::uint32_t> with_secret;
  for (std::uint32_t i = 0; i < st.token_count(); ++i) {
    if (!st.token(i).secret.empty()) with_secret.push_back(i);
  }
  std::vector<std::uint32_t> pat_jwts;
  std::vector<std::uint32_t> expired_jwts;
  for (std::uint32_t i = 0; i < st.jwt_count(); ++i) {
    model::JwtView j = st.jwt(i);
    if (j.expires_at && *j.expires_at <= now) {
      expired_jwts.push_back(i);
    } else if (j.kind == model::JwtKind::kPatDerived) {
      pat_jwts.push_back(i);
    }
  }
  const std::string prefix = options.label_prefix;
  // The run's tokens alive now: at the --max-tokens cap a live run creates no more (the guard
  // would refuse the request and stop the run).
  std::size_t alive = 0;
  for (std::uint32_t i = 0; i < st.token_count(); ++i) {
    const model::TokenView t = st.token(i);
    if (!t.deleted && !t.adopted) ++alive;
  }
  const bool may_create = options.max_live_tokens == 0 || alive < options.max_live_tokens;
  auto w = [&](Kind k, unsigned weight) { return (options.left_out >> k) & 1u ? 0u : weight; };
  auto kind = choose::weighted<Kind>({
      {1, kLogin},
      {may_create ? 12u : 0u, kCreate},
      {w(kList, 3), kList},
      {w(kWalk, 2), kWalk},
      {w(kGet, 5), kGet},
      {w(kPatch, 6), kPatch},
      {w(kDelete, 4), kDelete},
      {with_secret.empty() ? 0u : w(kUsePat, 5), kUsePat},
      {w(kForeign, 3), kForeign},
      {options.registry ? w(kRegistry, 4) : 0u, kRegistry},
      {options.can_advance_clock ? w(kClock, 3) : 0u, kClock},
  });
  std::string account = pick_account(s);
  // Without a session, a token-route command for this account becomes a login.
  const bool needs_session = kind == kCreate || kind == kList || kind == kWalk || kind == kGet ||
                             kind == kPatch || kind == kDelete;
  if (needs_session && !s.session_jwt(account, now)) kind = kLogin;
  // A live run modifies only tokens it created; with none yet, a PATCH or DELETE has no target
  // (an unknown uuid is off limits too) and becomes a GET.
  if ((kind == kPatch || kind == kDelete) && options.guarded) {
    bool any = false;
    for (std::uint32_t i = 0; i < st.token_count() && !any; ++i) any = !st.token(i).adopted;
    if (!any) kind = kGet;
  }

  switch (kind) {
    case kLogin: {
      auto c = std::make_shared<Login>();
      c->account = account;
      c->via_users_login = choose::coin();
      c->wrong_password = choose::weighted<bool>({{6, false}, {1, true}});
      return c;
    }
    case kCreate: {
      auto c = std::make_shared<Create>();
      c->account = account;
      c->label = make_label(prefix, options.guarded);
      // Now and then the label of one of the account's live tokens: operations on one token
      // must leave a same-labelled neighbour alone (contract 3.9).
      std::vector<std::string> labels;
      for (std::uint32_t i = 0; i < st.token_count(); ++i) {
        const model::TokenView t = st.token(i);
        // Only the run's own labels: a live account's other tokens are not ours to imitate,
        // and every label a live run writes carries its prefix.
        if (t.owner == account && !t.deleted && !t.adopted && t.label.starts_with(prefix)) {
          labels.emplace_back(t.label);
        }
      }
      if (!labels.empty() && choose::weighted<bool>({{3, false}, {1, true}})) {
        c->label = choose::element_of(labels);
      }
      c->scopes = pick_scopes();
      enum Exp { kNever, kFuture, kSoon, kPast };
      auto e = choose::weighted<Exp>({{6, kNever}, {2, kFuture}, {3, kSoon}, {1, kPast}});
      if (e == kFuture) c->expires_in_s = choose::in_range<std::int64_t>(3600, 400 * 86400);
      if (e == kSoon) c->expires_in_s = choose::in_range<std::int64_t>(60, 900);
      // Offsets other than Z must mean the same instant (contract 2, RFC 3339).
      if (e != kNever) c->offset_minutes = choose::element(0, 0, 330, -480, 60);
      if (e == kPast) c->expires_in_s = -choose::in_range<std::int64_t>(60, 86400);
      return c;
    }
    case kList: {
      auto c = std::make_shared<List>();
      c->account = account;
      if (auto p = list_param(true); !p.empty()) c->page = p;
      if (auto p = list_param(false); !p.empty()) c->page_size = p;
      return c;
    }
    case kWalk: {
      auto c = std::make_shared<Walk>();
      c->account = account;
      c->page_size = choose::in_range(1, 6);
      return c;
    }
    case kGet:
    case kPatch:
    case kDelete: {
      auto c = std::make_shared<TokenRoute>();
      c->method = kind == kGet ? "GET" : (kind == kPatch ? "PATCH" : "DELETE");
      c->account = account;
      c->target = pick_uuid(s, account, kind != kGet, options.guarded);
      if (kind == kPatch) c->body = pick_patch_body(prefix, options.guarded);
      return c;
    }
    case kUsePat: {
      auto c = std::make_shared<UsePat>();
      c->token = choose::element_of(with_secret);
      c->identifier = std::string(st.token(c->token).owner);
      // Now and then the PAT is presented under another account's name: it must not
      // authenticate as either (contract 3.8, 4).
      if (choose::weighted<bool>({{6, false}, {1, true}})) {
        for (const auto& a : st.fixture().accounts) {
          if (a.username != c->identifier) {
            c->identifier = a.username;
            break;
          }
        }
      }
      c->via_users_login = choose::weighted<bool>({{4, false}, {1, true}});
      return c;
    }
    case kForeign: {
      auto c = std::make_shared<ForeignBearer>();
      using K = ForeignBearer::Kind;
      auto session = s.session_jwt(account, now);
      c->kind = choose::weighted<K>({
          {pat_jwts.empty() ? 0u : 6u, K::kPatJwt},
          {with_secret.empty() ? 0u : 3u, K::kRawPat},
          {1, K::kNone},
          {1, K::kGarbage},
          {1, K::kMalformedJwt},
          {expired_jwts.empty() ? 0u : 2u, K::kExpiredJwt},
          {session ? 1u : 0u, K::kJwtKeyword},
          {session ? 1u : 0u, K::kTampered},
      });
      c->account = account;
      switch (c->kind) {
        case K::kPatJwt: {
          model::JwtView j = st.jwt(choose::element_of(pat_jwts));
          c->credential = std::string(j.text);
          c->account = std::string(j.account);
          break;
        }
        case K::kRawPat:
          c->credential = std::string(st.token(choose::element_of(with_secret)).secret);
          break;
        case K::kExpiredJwt:
          c->credential = std::string(st.jwt(choose::element_of(expired_jwts)).text);
          break;
        case K::kJwtKeyword:
          c->credential = *session;
          break;
        case K::kTampered: {
          std::string jwt = *session;
          auto dot = jwt.rfind('.');
          c->credential = jwt.substr(0, dot + 1) + "AAAA" +
                          jwt.substr(dot + 1 + std::min<std::size_t>(4, jwt.size() - dot - 1));
          if (c->credential == jwt) c->credential += "A";
          break;
        }
        default:
          break;
      }
      // Which route the foreign bearer is tried on; a destructive route only at a token the
      // run may modify.
      enum R { kListRoute, kGetRoute, kCreateRoute, kPatchRoute, kDeleteRoute };
      bool can_name_token = false;
      bool can_modify_token = false;  // a live run never aims at an adopted token
      for (std::uint32_t i = 0; i < st.token_count(); ++i) {
        if (st.token(i).owner != c->account) continue;
        can_name_token = true;
        if (!(options.guarded && st.token(i).adopted)) can_modify_token = true;
      }
      auto r = choose::weighted<R>({{4, kListRoute},
                                    {can_name_token ? 2u : 0u, kGetRoute},
                                    {may_create ? 2u : 0u, kCreateRoute},
                                    {can_modify_token ? 1u : 0u, kPatchRoute},
                                    {can_modify_token ? 1u : 0u, kDeleteRoute}});
      if (r == kCreateRoute) {
        c->method = "POST";
        c->body = Json{{"token_label", prefix + "foreign"}, {"scopes", {"repo:read"}}}.dump();
      } else if (r != kListRoute) {
        std::vector<std::string> own;
        for (std::uint32_t i = 0; i < st.token_count(); ++i) {
          const model::TokenView t = st.token(i);
          if (t.owner != c->account) continue;
          if (r != kGetRoute && options.guarded && t.adopted) continue;
          own.emplace_back(t.uuid);
        }
        c->path = "/v2/access-tokens/" + choose::element_of(own);
        c->method = r == kGetRoute ? "GET" : (r == kPatchRoute ? "PATCH" : "DELETE");
        if (r == kPatchRoute) c->body = R"({"is_active":false})";
      }
      return c;
    }
    case kRegistry: {
      auto c = std::make_shared<Registry>();
      using C = Registry::Cred;
      c->cred = choose::weighted<C>({{3, C::kPassword},
                                     {with_secret.empty() ? 0u : 6u, C::kPat},
                                     {2, C::kAnonymous},
                                     {1, C::kWrongPassword}});
      c->account = account;
      if (c->cred == C::kPat) c->token = choose::element_of(with_secret);
      std::vector<std::string> repos;
      for (const auto& r : st.fixture().repositories) repos.push_back(r.full_name());
      if (repos.empty()) repos.push_back(account + "/unknown");
      c->repository = choose::element_of(repos);
      c->actions =
          choose::element<std::string>("pull", "push", "delete", "pull,push", "pull,push,delete");
      return c;
    }
    case kClock: {
      auto c = std::make_shared<AdvanceClock>();
      c->seconds = choose::element<std::int64_t>(61, 601, 1201, 3601, 2 * 86400LL);
      return c;
    }
  }
  return nullptr;
}

}  // namespace patrol::properties
