#include "server/core.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

#include "model/codec.hpp"
#include "model/jwt.hpp"
#include "server/crypto.hpp"
#include "server/rules.hpp"

namespace patrol::server {
namespace {

using model::HttpRequest;
using model::HttpResponse;
using model::Json;
using model::Timestamp;

enum class Profile : std::uint8_t { kHub, kSpec };

enum class Route : std::uint8_t {
  kTokens,     // E1, E2
  kToken,      // E3, E4, E5
  kAuthToken,  // A1
  kLogin,      // A2
  kLogin2fa,   // A2's second step
  kRegistry,   // R1
  kClock,      // manual clock control
  kNone,
};

constexpr std::int64_t kAuthTokenSeconds = 600;       // A1: "expires in 10 minutes"
constexpr std::int64_t kLongLivedSeconds = 86'400;    // fault auth-token-long-lived
constexpr std::int64_t kLoginSessionSeconds = 3'600;  // A2 and its second step
constexpr std::int64_t kRegistryTokenSeconds = 300;
constexpr std::int64_t kSecondFactorSeconds = 300;  // lifetime of a login_2fa_token
constexpr std::int64_t kMaxAdvanceSeconds = 100LL * 366 * 86'400;
constexpr std::string_view kPatUuidClaim = "patrol:pat_uuid";
constexpr std::string_view kTokensPath = "/v2/access-tokens";

struct TokenRecord {
  std::string uuid;
  std::string owner;
  std::string secret;
  std::string label;
  std::vector<std::string> scope_names;  // as the token object reports them
  Level level = Level::kPublicRead;      // effective scope
  std::string creator_ip;
  std::string creator_ua;
  Timestamp created_at;
  std::optional<Timestamp> last_used;
  std::optional<Timestamp> expires_at;
  bool active = true;
  bool deleted = false;   // soft delete, only under the faults that keep deleted tokens
  bool published = true;  // false only inside fault create-visible-before-readable's window
  std::uint64_t seq = 0;  // creation order

  bool expired(Timestamp now) const { return expires_at && now >= *expires_at; }
};

struct AccountState {
  const model::FixtureAccount* fixture = nullptr;
  std::map<std::uint64_t, std::string> order;  // seq -> uuid of the account's live tokens
  std::int64_t counter = 0;                    // fault count-drift's separately kept count
};

struct PendingSecondFactor {
  std::string username;
  Timestamp expires;
};

struct RateWindow {
  std::int64_t start = 0;  // unix seconds, a multiple of 60
  std::int64_t used = 0;
};

// A field-level validation problem of a 400.
struct FieldProblem {
  std::string field;
  std::string message;
};

bool iequals(std::string_view a, std::string_view b) {
  return model::header_name_equal(a, b);  // ASCII case-insensitive comparison
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

HttpResponse json_response(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = dump(body);
  return r;
}

// Splits "Scheme credentials".
std::pair<std::string_view, std::string_view> split_authorization(std::string_view value) {
  value = trim(value);
  auto space = value.find(' ');
  if (space == std::string_view::npos) return {value, {}};
  return {value.substr(0, space), trim(value.substr(space + 1))};
}

// True when `method` is one of the comma-separated methods of an Allow list.
bool method_allowed(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    auto comma = allow.find(',');
    if (trim(allow.substr(0, comma)) == method) return true;
    allow.remove_prefix(comma == std::string_view::npos ? allow.size() : comma + 1);
  }
  return false;
}

// Reads "+HH:MM" / "-HH:MM" off the end of an RFC 3339 text and replaces it with "Z": the
// defect of fault expiry-offset-ignored.
std::string drop_offset(std::string_view text) {
  if (text.size() > 6) {
    char sign = text[text.size() - 6];
    if ((sign == '+' || sign == '-') && text[text.size() - 3] == ':') {
      return std::string(text.substr(0, text.size() - 6)) + "Z";
    }
  }
  return std::string(text);
}

}  // namespace

struct ServerCore::Impl {
  ServerOptions options;
  FaultSet faults;
  Profile profile = Profile::kHub;
  JwtSigner signer;

  Timestamp clock_base;  // manual clock: the frozen instant time starts from
  std::atomic<std::int64_t> clock_offset_micros{0};

  std::mutex mu;                                        // guards everything below
  std::unordered_map<std::string, TokenRecord> tokens;  // by uuid
  std::unordered_map<std::string, std::string> by_secret;
  std::map<std::string, AccountState, std::less<>> accounts;
  std::uint64_t next_seq = 1;
  std::unordered_map<std::string, PendingSecondFactor> pending_second_factor;
  std::unordered_map<std::string, RateWindow> rate_windows;

  bool has(Fault f) const { return faults.has(f); }

  Timestamp now() const {
    Timestamp base = clock_base;
    if (!options.manual_clock) {
      auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
      base.micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
    }
    return Timestamp{base.micros + clock_offset_micros.load(std::memory_order_relaxed)};
  }

  // ---- responses ---------------------------------------------------------------------------

  HttpResponse error(int status, const std::string& message) const {
    if (profile == Profile::kSpec) {
      if (status == 400) return json_response(400, {{"fields", Json::object()}, {"text", message}});
      return json_response(status, {{"detail", message}, {"message", message}});
    }
    return json_response(status, {{"message", message}, {"errinfo", Json::object()}});
  }

  HttpResponse bad_request(const std::vector<FieldProblem>& problems) const {
    std::string text = problems.front().field + ": " + problems.front().message;
    if (profile == Profile::kSpec) {
      Json fields = Json::object();
      for (const auto& p : problems) fields[p.field].push_back(p.message);
      return json_response(400, {{"fields", fields}, {"text", text}});
    }
    return error(400, text);
  }

  // A2's 401 body: {detail, login_2fa_token?} (contract 1); the spec profile always carries the
  // nullable login_2fa_token member.
  HttpResponse login_error(const std::string& detail,
                           const std::optional<std::string>& second_factor_token) const {
    Json body = {{"detail", detail}};
    if (second_factor_token) {
      body["login_2fa_token"] = *second_factor_token;
    } else if (profile == Profile::kSpec) {
      body["login_2fa_token"] = nullptr;
    }
    return json_response(401, body);
  }

  model::AccessToken token_object(const TokenRecord& rec, bool with_secret) const {
    model::AccessToken t;
    t.uuid = rec.uuid;
    t.client_id = "HUB";
    t.creator_ip = rec.creator_ip;
    t.creator_ua = rec.creator_ua;
    t.created_at = model::format_rfc3339(rec.created_at);
    t.last_used = rec.last_used
                      ? model::Nullable<std::string>::of(model::format_rfc3339(*rec.last_used))
                      : model::Nullable<std::string>::null();
    t.generated_by = "manual";
    t.is_active = rec.active;
    // Contract 2 / A1: reads redact the secret; the hub profile writes "", spec the newer "***".
    t.token = with_secret ? rec.secret : (profile == Profile::kSpec ? "***" : "");
    t.token_label = rec.label;
    t.scopes = rec.scope_names;
    t.expires_at = rec.expires_at
                       ? model::Nullable<std::string>::of(model::format_rfc3339(*rec.expires_at))
                       : model::Nullable<std::string>::null();
    return t;
  }

  HttpResponse token_response(int status, const TokenRecord& rec, bool with_secret) const {
    return json_response(status, model::encode(token_object(rec, with_secret)));
  }

  // ---- clock and race windows --------------------------------------------------------------

  // Opens the unlocked window of a concurrency fault.
  void race_window(std::unique_lock<std::mutex>& lock, std::string_view name) {
    lock.unlock();
    if (options.race_window_hook) {
      options.race_window_hook(name);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    lock.lock();
  }

  // ---- credentials -------------------------------------------------------------------------

  // Returns the live token a secret names, if it may authenticate now (contract 3.8).
  TokenRecord* usable_pat(std::string_view secret, Timestamp t) {
    auto it = by_secret.find(std::string(secret));
    if (it == by_secret.end()) return nullptr;
    auto rec = tokens.find(it->second);
    if (rec == tokens.end()) return nullptr;
    TokenRecord& r = rec->second;
    if (!r.published) return nullptr;
    if (r.deleted && !has(Fault::kDeletedTokenAuthenticates)) return nullptr;
    if (!r.active && !has(Fault::kInactiveTokenAuthenticates)) return nullptr;
    if (r.expired(t) && !has(Fault::kExpiredTokenAuthenticates)) return nullptr;
    return &r;
  }

  // Records a successful use (contract 3.8: last_used set, never moving backwards).
  void mark_used(TokenRecord& rec, Timestamp t) {
    if (has(Fault::kLastUsedNotUpdated)) return;
    if (!rec.last_used || *rec.last_used < t) rec.last_used = t;
  }

  std::string session_jwt(const std::string& username, Timestamp t, std::int64_t lifetime) const {
    model::JwtClaims c;
    c.iss = std::string(kIssuer);
    c.sub = username;
    c.username = username;
    c.iat = t.seconds();
    c.exp = t.seconds() + lifetime;
    c.jti = random_hex(16);
    return signer.sign(c);
  }

  std::string pat_jwt(const TokenRecord& rec, const std::string& username, Timestamp t,
                      std::int64_t lifetime) const {
    model::JwtClaims c;
    c.iss = std::string(kIssuer);
    c.sub = username;
    c.username = username;
    c.iat = t.seconds();
    c.exp = t.seconds() + lifetime;
    c.jti = random_hex(16);
    if (!has(Fault::kPatJwtWithoutScope)) c.scope = std::string(level_name(rec.level));
    c.extra[std::string(kPatUuidClaim)] = rec.uuid;
    return signer.sign(c);
  }

  // Authenticates the bearer of an E-route (contract 4): the account, or the 401/403 to send.
  std::variant<std::string, HttpResponse> bearer_account(const HttpRequest& req, Timestamp t) {
    auto header = req.headers.get("Authorization");
    if (!header) return error(401, "authentication required");
    auto [scheme, credentials] = split_authorization(*header);
    if (!iequals(scheme, "Bearer") || credentials.empty()) {
      return error(401, "authentication required: expected a Bearer token");
    }
    if (has(Fault::kRawPatAsBearer)) {
      if (TokenRecord* rec = usable_pat(credentials, t)) return rec->owner;
    }
    // Captured by copy: clang 14 does not let a lambda capture a structured binding (P1091).
    auto read = [&, jwt = credentials]() -> model::Result<std::shared_ptr<const model::JwtClaims>> {
      if (!has(Fault::kJwtSignatureUnchecked)) return signer.verify_shared(jwt);
      auto unverified = JwtSigner::read_unverified(jwt);
      if (!unverified.ok()) return unverified.error();
      return std::make_shared<const model::JwtClaims>(std::move(*unverified));
    };
    const auto claims = read();
    if (!claims.ok()) return error(401, "unauthorized: bearer token is not valid");
    const model::JwtClaims& c = **claims;
    if (!c.iss || *c.iss != kIssuer || c.access) {
      return error(401, "unauthorized: bearer token was not issued for this API");
    }
    if (!c.exp || (t.seconds() >= *c.exp && !has(Fault::kExpiredSessionAccepted))) {
      return error(401, "unauthorized: bearer token has expired");
    }
    std::string username = c.username.value_or(c.sub.value_or(""));
    if (accounts.find(username) == accounts.end()) {
      return error(401, "unauthorized: unknown account");
    }
    if (c.extra.contains(std::string(kPatUuidClaim)) && !has(Fault::kPatJwtManagesTokens)) {
      return error(403, "token issued from personal access token is not allowed");
    }
    return username;
  }

  // ---- store helpers -----------------------------------------------------------------------

  // The caller's live tokens, newest first (or every account's under list-shows-all-accounts).
  std::vector<const TokenRecord*> listing_of(const std::string& account) const {
    std::vector<const TokenRecord*> out;
    auto add_account = [&](const AccountState& state) {
      for (const auto& [seq, uuid] : state.order) {
        auto it = tokens.find(uuid);
        if (it != tokens.end()) out.push_back(&it->second);
      }
    };
    if (has(Fault::kListShowsAllAccounts)) {
      for (const auto& [name, state] : accounts) add_account(state);
    } else if (auto it = accounts.find(account); it != accounts.end()) {
      add_account(it->second);
    }
    std::sort(out.begin(), out.end(),
              [](const TokenRecord* a, const TokenRecord* b) { return a->seq > b->seq; });
    return out;
  }

  // Removes a token for good (or hides it, under the faults that keep deleted tokens around).
  void remove_token(const std::string& uuid) {
    auto it = tokens.find(uuid);
    if (it == tokens.end()) return;
    auto& account = accounts[it->second.owner];
    account.order.erase(it->second.seq);
    account.counter -= 1;
    if (has(Fault::kDeletedTokenAuthenticates) || has(Fault::kDeletedTokenReadable)) {
      it->second.deleted = true;
      return;
    }
    by_secret.erase(it->second.secret);
    tokens.erase(it);
  }

  // Looks up the token an item route names, for the caller; nullopt plus the answer when it is
  // not the caller's to see (contract 3.6, 3.7, 4).
  std::variant<TokenRecord*, HttpResponse> find_item(const std::string& segment,
                                                     const std::string& account, bool allow_deleted,
                                                     bool allow_foreign) {
    if (!is_uuid(segment)) {
      if (has(Fault::kHtml500MalformedUuid)) {
        HttpResponse r;
        r.status = 500;
        r.headers.set("Content-Type", "text/html");
        r.body =
            "<html><head><title>500 Internal Server Error</title></head><body>"
            "<h1>Internal Server Error</h1><p>invalid input syntax for type uuid</p></body></html>";
        return r;
      }
      // Contract 3.7 / A8: a malformed uuid cannot name a token; the server answers 404.
      return error(404, "token not found");
    }
    auto it = tokens.find(segment);
    if (it == tokens.end() || !it->second.published || (it->second.deleted && !allow_deleted)) {
      return error(404, "token not found");
    }
    if (it->second.owner != account) {
      if (has(Fault::kForbiddenConfirmsExistence)) {
        return error(403, "this token belongs to another account");
      }
      if (!allow_foreign) return error(404, "token not found");
    }
    return &it->second;
  }

  // ---- routes ------------------------------------------------------------------------------

  HttpResponse create_token(const HttpRequest& req, Timestamp t,
                            std::unique_lock<std::mutex>& lock) {
    auto who = bearer_account(req, t);
    if (auto* resp = std::get_if<HttpResponse>(&who)) return std::move(*resp);
    const std::string account = std::get<std::string>(who);

    auto body = model::parse_json(req.body);
    if (!body.ok()) return bad_request({{"body", body.error().message}});
    if (!body->is_object()) return bad_request({{"body", "expected a JSON object"}});
    std::vector<FieldProblem> problems;

    std::string label;
    if (auto it = body->find("token_label"); it == body->end()) {
      problems.push_back({"token_label", "required"});
    } else if (!it->is_string()) {
      problems.push_back({"token_label", "expected a string"});
    } else {
      label = it->get<std::string>();
      if (auto p = label_problem(label, label_rule())) problems.push_back({"token_label", *p});
    }

    // Contract 3.3: every member a known scope, at least one; the token keeps the highest.
    std::vector<std::string> scope_names;
    std::optional<Level> effective;
    std::optional<Level> lowest;
    if (auto it = body->find("scopes"); it == body->end()) {
      problems.push_back({"scopes", "required"});
    } else if (!it->is_array()) {
      problems.push_back({"scopes", "expected an array of strings"});
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const Json& s = (*it)[i];
        std::string field = "scopes[" + std::to_string(i) + "]";
        if (!s.is_string()) {
          problems.push_back({field, "expected a string"});
          continue;
        }
        auto name = s.get<std::string>();
        auto level = level_from_name(name);
        if (!level) {
          if (!has(Fault::kUnknownScopeAccepted)) {
            problems.push_back({field, "unknown scope '" + name + "'"});
          }
        } else {
          effective = effective ? std::max(*effective, *level) : *level;
          lowest = lowest ? std::min(*lowest, *level) : *level;
        }
        scope_names.push_back(std::move(name));
      }
      if (it->empty() && !has(Fault::kEmptyScopesAccepted)) {
        problems.push_back({"scopes", "at least one scope is required"});
      }
    }

    std::optional<Timestamp> expires_at;
    if (auto it = body->find("expires_at"); it != body->end() && !it->is_null()) {
      if (!it->is_string()) {
        problems.push_back({"expires_at", "expected an RFC 3339 string or null"});
      } else {
        std::string text = it->get<std::string>();
        if (has(Fault::kExpiryOffsetIgnored)) text = drop_offset(text);
        auto parsed = model::parse_rfc3339(text);
        if (!parsed.ok()) {
          problems.push_back(
              {"expires_at", "not an RFC 3339 timestamp: " + parsed.error().message});
        } else if (*parsed <= t && !has(Fault::kPastExpiryAccepted)) {
          // Contract 3.4: a token must not be born expired.
          problems.push_back({"expires_at", "must be in the future"});
        } else {
          expires_at = *parsed;
        }
      }
    }
    if (!problems.empty()) return bad_request(problems);

    AccountState& state = accounts[account];
    if (state.order.size() >= options.max_tokens_per_account) {
      return bad_request(
          {{"token_label", "token limit of " + std::to_string(options.max_tokens_per_account) +
                               " per account reached"}});
    }

    TokenRecord rec;
    do {
      rec.uuid = random_uuid();
    } while (tokens.count(rec.uuid) != 0);
    do {
      rec.secret = random_pat_secret();
    } while (by_secret.count(rec.secret) != 0);
    rec.owner = account;
    rec.label = std::move(label);
    if (has(Fault::kUnknownScopeAccepted) || !effective) {
      rec.scope_names = std::move(scope_names);
      rec.level = effective.value_or(Level::kPublicRead);
    } else {
      // The server normalises redundant scopes to the highest (contract 3.3).
      Level stored = has(Fault::kScopeNormalisedToLowest) ? *lowest : *effective;
      rec.scope_names = {std::string(level_name(stored))};
      rec.level = stored;
    }
    rec.creator_ip = req.peer;
    rec.creator_ua = req.headers.get("User-Agent").value_or("");
    rec.created_at = t;
    rec.expires_at = expires_at;
    rec.active = !has(Fault::kCreatedInactive);
    rec.seq = next_seq++;
    rec.published = !has(Fault::kCreateVisibleBeforeReadable);
    const std::string uuid = rec.uuid;
    by_secret[rec.secret] = uuid;
    state.order[rec.seq] = uuid;
    auto& stored = tokens[uuid] = std::move(rec);

    if (!stored.published) {
      // Fault create-visible-before-readable: listed now, readable only after the window.
      race_window(lock, "create");
      if (auto it = tokens.find(uuid); it != tokens.end()) it->second.published = true;
    }
    if (has(Fault::kCountDrift)) {
      std::int64_t seen = accounts[account].counter;
      race_window(lock, "count");
      accounts[account].counter = seen + 1;
    } else {
      state.counter += 1;
    }
    auto it = tokens.find(uuid);
    if (it == tokens.end()) return error(404, "token not found");  // deleted inside a window
    return token_response(201, it->second, /*with_secret=*/true);
  }

  LabelRule label_rule() const {
    LabelRule rule;
    rule.count_bytes = has(Fault::kLabelLengthBytes);
    if (has(Fault::kLabelOffByOne)) rule.max_length = 101;
    if (has(Fault::kEmptyLabelAccepted)) rule.min_length = 0;
    return rule;
  }

  HttpResponse list_tokens(const HttpRequest& req, Timestamp t) {
    auto who = bearer_account(req, t);
    if (auto* resp = std::get_if<HttpResponse>(&who)) return std::move(*resp);
    const std::string account = std::get<std::string>(who);

    std::optional<std::string> page_text;
    std::optional<std::string> size_text;
    for (auto& [name, value] : model::parse_query(req.query)) {
      // A repeated parameter takes its last value (as Django's QueryDict does).
      if (name == "page") page_text = value;
      if (name == "page_size") size_text = value;
    }
    std::int64_t page = 1;
    std::int64_t page_size = 10;
    std::vector<FieldProblem> problems;
    if (page_text) {
      auto p = parse_page_param(*page_text);
      if (!p.ok) {
        problems.push_back({"page", p.problem});
      } else if (p.value < 1) {
        problems.push_back({"page", "must be at least 1"});
      } else {
        page = p.value;
      }
    }
    if (size_text) {
      auto p = parse_page_param(*size_text);
      if (!p.ok) {
        problems.push_back({"page_size", p.problem});
      } else if (p.value < 1 || (p.value > 100 && !has(Fault::kPageSizeUnbounded))) {
        // Contract 6 / A10: out of range is refused, not clamped.
        problems.push_back({"page_size", "must be between 1 and 100"});
      } else {
        page_size = p.value;
      }
    }
    if (!problems.empty()) return bad_request(problems);

    auto all = listing_of(account);
    auto window = page_window(page, page_size, all.size());
    if (!window)
      return error(404, "invalid page: page " + std::to_string(page) + " is past the end");
    if (has(Fault::kPageOverlap) && window->first > 0) window->first -= 1;
    if (has(Fault::kNextOnLastPage) && !window->has_next && !all.empty() &&
        all.size() % static_cast<std::uint64_t>(page_size) == 0) {
      window->has_next = true;
    }

    model::TokenPage out;
    std::int64_t count = 0;
    std::int64_t active = 0;
    for (const TokenRecord* rec : all) {
      bool is_active = rec->active && (!rec->expired(t) || has(Fault::kActiveCountIncludesExpired));
      active += is_active ? 1 : 0;
      count += (!has(Fault::kCountExcludesInactive) || rec->active) ? 1 : 0;
    }
    if (has(Fault::kCountDrift)) {
      if (auto it = accounts.find(account); it != accounts.end()) count = it->second.counter;
    }
    out.count = count;
    out.active_count = active;
    auto link = [&](std::int64_t p) {
      return model::Nullable<std::string>::of(std::string(kTokensPath) +
                                              "?page=" + std::to_string(p) +
                                              "&page_size=" + std::to_string(page_size));
    };
    out.next = window->has_next ? link(page + 1) : model::Nullable<std::string>::null();
    out.previous = window->has_previous ? link(page - 1) : model::Nullable<std::string>::null();
    for (std::size_t i = window->first; i < window->first + window->size && i < all.size(); ++i) {
      out.results.push_back(token_object(*all[i], has(Fault::kLeakSecretInList)));
    }
    return json_response(200, model::encode(out));
  }

  HttpResponse get_token(const HttpRequest& req, Timestamp t, const std::string& segment) {
    auto who = bearer_account(req, t);
    if (auto* resp = std::get_if<HttpResponse>(&who)) return std::move(*resp);
    auto found = find_item(segment, std::get<std::string>(who), has(Fault::kDeletedTokenReadable),
                           has(Fault::kCrossAccountRead));
    if (auto* resp = std::get_if<HttpResponse>(&found)) return std::move(*resp);
    const TokenRecord& rec = *std::get<TokenRecord*>(found);
    auto r = token_response(200, rec, has(Fault::kLeakSecretOnGet));
    if (has(Fault::kLeakSecretInHeader)) r.headers.set("X-Token-Debug", rec.secret);
    return r;
  }

  HttpResponse patch_token(const HttpRequest& req, Timestamp t, const std::string& segment,
                           std::unique_lock<std::mutex>& lock) {
    auto who = bearer_account(req, t);
    if (auto* resp = std::get_if<HttpResponse>(&who)) return std::move(*resp);
    const std::string account = std::get<std::string>(who);
    if (has(Fault::kPatchUnknownUuid500) && is_uuid(segment) && tokens.count(segment) == 0) {
      return json_response(500,
                           {{"message", "internal server error"}, {"errinfo", Json::object()}});
    }
    auto found = find_item(segment, account, false, false);
    if (auto* resp = std::get_if<HttpResponse>(&found)) return std::move(*resp);
    TokenRecord* rec = std::get<TokenRecord*>(found);

    auto reject = [&](std::vector<FieldProblem> problems) {
      if (has(Fault::kLeakSecretInError)) {
        problems.front().message +=
            " (stored token: " + dump(model::encode(token_object(*rec, true))) + ")";
      }
      return bad_request(problems);
    };

    auto body = model::parse_json(req.body);
    if (!body.ok()) return reject({{"body", body.error().message}});
    if (!body->is_object()) return reject({{"body", "expected a JSON object"}});
    std::vector<FieldProblem> problems;
    std::optional<std::string> label;
    std::optional<bool> active;
    std::optional<std::vector<std::string>> new_scopes;
    if (auto it = body->find("token_label"); it != body->end()) {
      if (!it->is_string()) {
        problems.push_back({"token_label", "expected a string"});
      } else {
        label = it->get<std::string>();
        if (auto p = label_problem(*label, label_rule())) problems.push_back({"token_label", *p});
      }
    }
    if (auto it = body->find("is_active"); it != body->end()) {
      if (!it->is_boolean()) {
        problems.push_back({"is_active", "expected a boolean"});
      } else {
        active = it->get<bool>();
      }
    }
    // Contract 3.5 / A15: `scopes` and `expires_at` are not editable and are ignored.
    if (has(Fault::kPatchAppliesScopes)) {
      if (auto it = body->find("scopes"); it != body->end() && it->is_array() && !it->empty()) {
        std::vector<std::string> names;
        for (const auto& s : *it) {
          if (s.is_string() && level_from_name(s.get<std::string>())) {
            names.push_back(s.get<std::string>());
          }
        }
        if (!names.empty()) new_scopes = std::move(names);
      }
    }
    if (!problems.empty()) return reject(problems);
    if (rec->expired(t) && !has(Fault::kPatchExpiredAllowed)) {
      // Contract 3.4: an expired token can only be deleted.
      return reject({{"token", "token has expired; it can only be deleted"}});
    }

    auto apply = [&](TokenRecord& target) {
      if (label) target.label = *label;
      if (active) target.active = *active;
      if (new_scopes) {
        Level best = Level::kPublicRead;
        for (const auto& n : *new_scopes) best = std::max(best, *level_from_name(n));
        target.level = best;
        target.scope_names = {std::string(level_name(best))};
      }
    };

    const std::string uuid = rec->uuid;
    if (has(Fault::kLostUpdatePatch)) {
      // Read-modify-write without holding the lock across: a concurrent PATCH is overwritten.
      TokenRecord copy = *rec;
      race_window(lock, "patch");
      apply(copy);
      auto it = tokens.find(uuid);
      if (it == tokens.end() || it->second.deleted) return error(404, "token not found");
      it->second = std::move(copy);
      rec = &it->second;
    } else {
      apply(*rec);
    }
    if (active && has(Fault::kDeactivateAffectsNeighbour)) {
      for (auto& [other_uuid, other] : tokens) {
        if (other.owner == account && other.label == rec->label && !other.deleted) {
          other.active = *active;
        }
      }
    }
    return token_response(200, *rec, has(Fault::kLeakSecretOnPatch));
  }

  HttpResponse delete_token(const HttpRequest& req, Timestamp t, const std::string& segment) {
    auto who = bearer_account(req, t);
    if (auto* resp = std::get_if<HttpResponse>(&who)) return std::move(*resp);
    const std::string account = std::get<std::string>(who);
    auto found = find_item(segment, account, false, false);
    if (auto* resp = std::get_if<HttpResponse>(&found)) return std::move(*resp);
    const TokenRecord* rec = std::get<TokenRecord*>(found);
    const std::string uuid = rec->uuid;
    const std::uint64_t seq = rec->seq;
    if (has(Fault::kDeleteAffectsNeighbour)) {
      const auto& order = accounts[account].order;
      auto it = order.find(seq);
      if (it != order.begin()) {
        std::string neighbour = std::prev(it)->second;
        remove_token(neighbour);
      }
    }
    remove_token(uuid);
    if (has(Fault::kDelete200WithBody)) return json_response(200, {{"detail", "token deleted"}});
    HttpResponse r;
    r.status = 204;
    return r;
  }

  // A1 and A2 with a secret: the account's password, or one of its PATs (contract 3.8, 4).
  struct SecretCheck {
    enum class Kind : std::uint8_t { kBad, kPassword, kPat } kind = Kind::kBad;
    TokenRecord* pat = nullptr;
  };

  SecretCheck check_secret(const std::string& username, const std::string& secret, Timestamp t,
                           bool any_owner) {
    SecretCheck out;
    auto account = accounts.find(username);
    if (account == accounts.end()) return out;
    if (secret == account->second.fixture->password) {
      out.kind = SecretCheck::Kind::kPassword;
      return out;
    }
    if (TokenRecord* rec = usable_pat(secret, t)) {
      if (rec->owner == username || any_owner) {
        out.kind = SecretCheck::Kind::kPat;
        out.pat = rec;
      }
    }
    return out;
  }

  // Reads two required string members of a small JSON request body.
  std::variant<std::pair<std::string, std::string>, HttpResponse> two_strings(
      const std::string& text, const char* first, const char* second) const {
    auto body = model::parse_json(text);
    if (!body.ok()) return bad_request({{"body", body.error().message}});
    if (!body->is_object()) return bad_request({{"body", "expected a JSON object"}});
    std::vector<FieldProblem> problems;
    std::pair<std::string, std::string> out;
    for (auto [name, slot] : {std::pair{first, &out.first}, std::pair{second, &out.second}}) {
      auto it = body->find(name);
      if (it == body->end()) {
        problems.push_back({name, "required"});
      } else if (!it->is_string()) {
        problems.push_back({name, "expected a string"});
      } else {
        *slot = it->get<std::string>();
      }
    }
    if (!problems.empty()) return bad_request(problems);
    return out;
  }

  HttpResponse auth_token(const HttpRequest& req, Timestamp t) {
    auto fields = two_strings(req.body, "identifier", "secret");
    if (auto* resp = std::get_if<HttpResponse>(&fields)) return std::move(*resp);
    const auto& [identifier, secret] = std::get<0>(fields);
    auto check = check_secret(identifier, secret, t, has(Fault::kAuthTokenIgnoresIdentifier));
    std::int64_t lifetime = has(Fault::kAuthTokenLongLived) ? kLongLivedSeconds : kAuthTokenSeconds;
    model::AuthTokenResponse out;
    if (check.kind == SecretCheck::Kind::kPassword) {
      // Contract A23 (settled by the server): an account with a second factor cannot trade its
      // password here; it uses /v2/users/login and the second step, or a PAT.
      if (accounts[identifier].fixture->second_factor_code) {
        return error(401,
                     "second factor required: sign in through /v2/users/login or use a "
                     "personal access token");
      }
      out.access_token = session_jwt(identifier, t, lifetime);
    } else if (check.kind == SecretCheck::Kind::kPat) {
      mark_used(*check.pat, t);
      out.access_token = pat_jwt(*check.pat, identifier, t, lifetime);
    } else {
      return error(401, "incorrect authentication credentials");
    }
    return json_response(200, model::encode(out));
  }

  HttpResponse login(const HttpRequest& req, Timestamp t) {
    auto fields = two_strings(req.body, "username", "password");
    if (auto* resp = std::get_if<HttpResponse>(&fields)) return std::move(*resp);
    const auto& [username, password] = std::get<0>(fields);
    auto check = check_secret(username, password, t, false);
    model::LoginSuccess out;
    if (check.kind == SecretCheck::Kind::kPassword) {
      if (accounts[username].fixture->second_factor_code && !has(Fault::kSecondFactorSkipped)) {
        if (pending_second_factor.size() > 1024) {
          std::erase_if(pending_second_factor,
                        [&](const auto& e) { return e.second.expires <= t; });
        }
        std::string handle = random_hex(24);
        pending_second_factor[handle] = {username,
                                         Timestamp{t.micros + kSecondFactorSeconds * 1'000'000}};
        return login_error("Require secondary authentication on MFA enabled account", handle);
      }
      out.token = session_jwt(username, t, kLoginSessionSeconds);
    } else if (check.kind == SecretCheck::Kind::kPat) {
      mark_used(*check.pat, t);
      out.token = pat_jwt(*check.pat, username, t, kLoginSessionSeconds);
    } else {
      return login_error("Incorrect authentication credentials", std::nullopt);
    }
    return json_response(200, model::encode(out));
  }

  HttpResponse second_factor_login(const HttpRequest& req, Timestamp t) {
    auto fields = two_strings(req.body, "login_2fa_token", "code");
    if (auto* resp = std::get_if<HttpResponse>(&fields)) return std::move(*resp);
    const auto& [handle, code] = std::get<0>(fields);
    auto it = pending_second_factor.find(handle);
    if (it == pending_second_factor.end() || it->second.expires <= t) {
      if (it != pending_second_factor.end()) pending_second_factor.erase(it);
      return json_response(401, {{"detail", "login_2fa_token is not valid or has expired"}});
    }
    const auto& expected = accounts[it->second.username].fixture->second_factor_code;
    if (!expected || code != *expected) {
      return json_response(401, {{"detail", "incorrect second factor code"}});
    }
    model::LoginSuccess out;
    out.token = session_jwt(it->second.username, t, kLoginSessionSeconds);
    pending_second_factor.erase(it);
    return json_response(200, model::encode(out));
  }

  HttpResponse registry_token(const HttpRequest& req, Timestamp t) {
    std::optional<std::string> service;
    std::vector<std::string> scopes;
    for (auto& [name, value] : model::parse_query(req.query)) {
      if (name == "service") service = value;
      if (name == "scope") {
        // One parameter may hold several space-separated scopes (registry token spec).
        std::size_t start = 0;
        while (start <= value.size()) {
          std::size_t end = value.find(' ', start);
          if (end == std::string::npos) end = value.size();
          if (end > start) scopes.push_back(value.substr(start, end - start));
          start = end + 1;
        }
      }
    }
    if (!service || *service != kRegistryService) {
      return bad_request({{"service", "expected service=" + std::string(kRegistryService)}});
    }

    Grantee who;
    TokenRecord* pat = nullptr;
    if (auto header = req.headers.get("Authorization")) {
      auto [scheme, credentials] = split_authorization(*header);
      if (!iequals(scheme, "Basic")) return error(401, "expected HTTP Basic credentials");
      auto decoded = model::base64_decode(credentials);
      if (!decoded.ok()) return error(401, "malformed HTTP Basic credentials");
      auto colon = decoded->find(':');
      if (colon == std::string::npos) return error(401, "malformed HTTP Basic credentials");
      std::string username = decoded->substr(0, colon);
      auto check = check_secret(username, decoded->substr(colon + 1), t, false);
      if (check.kind == SecretCheck::Kind::kPassword &&
          !accounts[username].fixture->second_factor_code) {
        who.kind = Grantee::Kind::kPassword;
      } else if (check.kind == SecretCheck::Kind::kPat) {
        who.kind = Grantee::Kind::kPat;
        who.level = check.pat->level;
        pat = check.pat;
      } else {
        // Wrong secret, or a password of an account with a second factor (A23: such accounts
        // sign in to the registry with a PAT).
        return error(401, "incorrect authentication credentials");
      }
      who.account = username;
    }

    struct Entry {
      std::string type;
      std::string name;
      unsigned actions = 0;
    };
    std::vector<Entry> entries;
    for (const auto& scope : scopes) {
      auto first = scope.find(':');
      auto last = scope.rfind(':');
      if (first == std::string::npos || first == last || first == 0 || last == first + 1) {
        return bad_request({{"scope", "malformed scope '" + scope + "'"}});
      }
      std::string type = scope.substr(0, first);
      std::string name = scope.substr(first + 1, last - first - 1);
      unsigned requested = 0;
      std::string_view actions(scope);
      actions.remove_prefix(last + 1);
      while (!actions.empty()) {
        auto comma = actions.find(',');
        requested |= action_from_name(actions.substr(0, comma));
        actions.remove_prefix(comma == std::string_view::npos ? actions.size() : comma + 1);
      }
      unsigned granted = 0;
      if (type == "repository") {
        if (const auto* repo = options.fixture.find_repository(name)) {
          granted =
              requested & allowed_actions(who, repo->owner, repo->is_private, grant_defects());
        }
      }
      auto same = std::find_if(entries.begin(), entries.end(),
                               [&](const Entry& e) { return e.type == type && e.name == name; });
      if (same == entries.end()) {
        entries.push_back({type, name, granted});
      } else {
        same->actions |= granted;
      }
    }
    if (pat) mark_used(*pat, t);

    model::JwtClaims c;
    c.iss = std::string(kIssuer);
    if (!who.account.empty()) {
      c.sub = who.account;
      c.username = who.account;
    }
    c.aud = std::vector<std::string>{std::string(kRegistryService)};
    c.iat = t.seconds();
    c.exp = t.seconds() + kRegistryTokenSeconds;
    c.jti = random_hex(16);
    c.access.emplace();
    for (const auto& e : entries) {
      model::AccessEntry a;
      a.type = e.type;
      a.name = e.name;
      a.actions = action_names(e.actions);
      c.access->push_back(std::move(a));
    }
    model::RegistryTokenResponse out;
    out.token = signer.sign(c);
    out.access_token = out.token;
    out.expires_in = kRegistryTokenSeconds;
    out.issued_at = model::format_rfc3339(t);
    return json_response(200, model::encode(out));
  }

  GrantDefects grant_defects() const {
    GrantDefects d;
    d.public_read_pulls_private = has(Fault::kPublicReadPullsPrivate);
    d.write_grants_delete = has(Fault::kWriteGrantsDelete);
    d.admin_lacks_delete = has(Fault::kAdminLacksDelete);
    d.other_private_pullable = has(Fault::kOtherPrivatePullable);
    d.anonymous_pulls_private = has(Fault::kAnonymousPullsPrivate);
    return d;
  }

  HttpResponse clock(const HttpRequest& req, const std::string& method) {
    if (method == "POST") {
      auto body = model::parse_json(req.body);
      if (!body.ok()) return bad_request({{"body", body.error().message}});
      auto it = body->is_object() ? body->find("advance_seconds") : body->end();
      if (!body->is_object() || it == body->end() || !it->is_number_integer() ||
          it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > kMaxAdvanceSeconds) {
        return bad_request({{"advance_seconds", "expected a non-negative integer of seconds"}});
      }
      clock_offset_micros.fetch_add(it->get<std::int64_t>() * 1'000'000);
    }
    return json_response(200, {{"now", model::format_rfc3339(now())}});
  }

  // ---- rate limiting -----------------------------------------------------------------------

  // Whose budget a request spends: the account it names or authenticates as, else its peer.
  std::string rate_key(const HttpRequest& req, Route route) {
    if (auto header = req.headers.get("Authorization")) {
      auto [scheme, credentials] = split_authorization(*header);
      if (iequals(scheme, "Bearer")) {
        if (auto claims = signer.verify_shared(credentials); claims.ok()) {
          if (auto name = (*claims)->username.value_or((*claims)->sub.value_or(""));
              accounts.count(name)) {
            return "account:" + name;
          }
        }
      } else if (iequals(scheme, "Basic")) {
        if (auto decoded = model::base64_decode(credentials); decoded.ok()) {
          std::string name = decoded->substr(0, decoded->find(':'));
          if (accounts.count(name)) return "account:" + name;
        }
      }
    }
    if (route == Route::kAuthToken || route == Route::kLogin || route == Route::kLogin2fa) {
      if (auto body = model::parse_json(req.body); body.ok() && body->is_object()) {
        for (const char* member : {"identifier", "username"}) {
          auto it = body->find(member);
          if (it != body->end() && it->is_string() && accounts.count(it->get<std::string>())) {
            return "account:" + it->get<std::string>();
          }
        }
        auto it = body->find("login_2fa_token");
        if (it != body->end() && it->is_string()) {
          auto pending = pending_second_factor.find(it->get<std::string>());
          if (pending != pending_second_factor.end()) return "account:" + pending->second.username;
        }
      }
    }
    return "peer:" + req.peer;
  }

  // Spends one request of the caller's budget (the clock route only reports it) and writes the
  // X-RateLimit-* headers; returns the 429 when the budget is exhausted.
  std::optional<HttpResponse> spend_rate(const HttpRequest& req, Route route, Timestamp t,
                                         model::Headers& headers) {
    std::int64_t seconds = t.seconds();
    std::int64_t window_start = seconds - (((seconds % 60) + 60) % 60);
    std::int64_t reset = window_start + 60;
    if (options.rate_limit_per_minute <= 0) {
      headers.set("X-RateLimit-Limit", std::to_string(kNominalRateLimit));
      headers.set("X-RateLimit-Remaining", std::to_string(kNominalRateLimit));
      headers.set("X-RateLimit-Reset", std::to_string(reset));
      return std::nullopt;
    }
    RateWindow& w = rate_windows[rate_key(req, route)];
    if (w.start != window_start) w = {window_start, 0};
    if (route == Route::kClock) {
      headers.set("X-RateLimit-Limit", std::to_string(options.rate_limit_per_minute));
      headers.set("X-RateLimit-Remaining", std::to_string(std::max<std::int64_t>(
                                               0, options.rate_limit_per_minute - w.used)));
      headers.set("X-RateLimit-Reset", std::to_string(reset));
      return std::nullopt;
    }
    w.used += 1;
    std::int64_t limit = options.rate_limit_per_minute;
    headers.set("X-RateLimit-Limit", std::to_string(limit));
    headers.set("X-RateLimit-Remaining", std::to_string(std::max<std::int64_t>(0, limit - w.used)));
    headers.set("X-RateLimit-Reset", std::to_string(reset));
    if (w.used <= limit) return std::nullopt;
    HttpResponse r =
        error(429, "rate limit exceeded: " + std::to_string(limit) + " requests per minute");
    if (!has(Fault::kRetryAfterMissing)) {
      r.headers.set("Retry-After", std::to_string(std::max<std::int64_t>(1, reset - seconds)));
    }
    return r;
  }

  // ---- dispatch ----------------------------------------------------------------------------

  HttpResponse dispatch(const HttpRequest& req) {
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    std::string path = req.path;
    if (path.size() > 1 && path.back() == '/') path.pop_back();  // A9: one trailing slash

    Route route = Route::kNone;
    std::string segment;
    std::string_view allow;
    if (path == kTokensPath) {
      route = Route::kTokens, allow = "GET, POST";
    } else if (path.size() > kTokensPath.size() + 1 && path.starts_with(kTokensPath) &&
               path[kTokensPath.size()] == '/' &&
               path.find('/', kTokensPath.size() + 1) == std::string::npos) {
      route = Route::kToken, allow = "GET, PATCH, DELETE";
      segment = path.substr(kTokensPath.size() + 1);
    } else if (path == "/v2/auth/token") {
      route = Route::kAuthToken, allow = "POST";
    } else if (path == "/v2/users/login") {
      route = Route::kLogin, allow = "POST";
    } else if (path == "/v2/users/2fa-login") {
      route = Route::kLogin2fa, allow = "POST";
    } else if (path == "/token") {
      route = Route::kRegistry, allow = "GET";
    } else if (path == kClockRoute && options.manual_clock) {
      route = Route::kClock, allow = "GET, POST";
    }

    const Timestamp t = now();
    std::unique_lock<std::mutex> lock(mu);
    model::Headers rate_headers;
    std::optional<HttpResponse> limited = spend_rate(req, route, t, rate_headers);

    HttpResponse r;
    if (limited) {
      r = std::move(*limited);
    } else if (route == Route::kNone) {
      r = error(404, "no such route: " + req.method + " " + req.path);
    } else if (!method_allowed(allow, method)) {
      r = error(405, "method " + req.method + " is not allowed here");
      r.headers.set("Allow", std::string(allow));
    } else if (req.body.size() > kMaxRequestBodyBytes) {
      r = error(413,
                "request body is larger than " + std::to_string(kMaxRequestBodyBytes) + " bytes");
    } else {
      switch (route) {
        case Route::kTokens:
          r = method == "POST" ? create_token(req, t, lock) : list_tokens(req, t);
          break;
        case Route::kToken:
          if (method == "GET") r = get_token(req, t, segment);
          if (method == "PATCH") r = patch_token(req, t, segment, lock);
          if (method == "DELETE") r = delete_token(req, t, segment);
          break;
        case Route::kAuthToken:
          r = auth_token(req, t);
          break;
        case Route::kLogin:
          r = login(req, t);
          break;
        case Route::kLogin2fa:
          r = second_factor_login(req, t);
          break;
        case Route::kRegistry:
          r = registry_token(req, t);
          break;
        case Route::kClock:
          r = clock(req, method);
          break;
        case Route::kNone:
          break;
      }
    }
    lock.unlock();

    if (r.status == 401 && has(Fault::kErrorBodyNotJson)) {
      r.headers.set("Content-Type", "text/plain");
      r.body = "Unauthorized";
    }
    if (r.status == 400 && has(Fault::kErrorWithoutMessage)) {
      r.body = dump({{"error", "bad request"}});
    }
    for (auto& [name, value] : rate_headers.entries) r.headers.set(name, value);
    if (req.method == "HEAD") r.body.clear();
    return r;
  }
};

model::Result<std::unique_ptr<ServerCore>> ServerCore::create(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  if (options.profile == "hub") {
    impl->profile = Profile::kHub;
  } else if (options.profile == "spec") {
    impl->profile = Profile::kSpec;
  } else {
    return model::make_error(model::ErrorKind::kInvalid,
                             "profile: expected 'hub' or 'spec', got '" + options.profile + "'");
  }
  auto faults = parse_faults(options.faults);
  if (!faults.ok()) return faults.error();
  impl->faults = *faults;
  if (options.rate_limit_per_minute < 0) {
    return model::make_error(model::ErrorKind::kInvalid,
                             "rate limit: expected a non-negative number of requests per minute");
  }
  if (options.fixture.accounts.empty()) {
    return model::make_error(model::ErrorKind::kInvalid, "fixture: no accounts");
  }
  for (const auto& repo : options.fixture.repositories) {
    if (options.fixture.find_account(repo.owner) == nullptr) {
      return model::make_error(model::ErrorKind::kInvalid,
                               "fixture: repository '" + repo.full_name() +
                                   "' is owned by unknown account '" + repo.owner + "'");
    }
  }
  impl->options = std::move(options);
  for (const auto& account : impl->options.fixture.accounts) {
    if (impl->accounts.count(account.username)) {
      return model::make_error(model::ErrorKind::kInvalid,
                               "fixture: duplicate account '" + account.username + "'");
    }
    impl->accounts[account.username].fixture = &account;
  }
  // The manual clock starts at the creation instant, on a whole second.
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  impl->clock_base = Timestamp::from_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  return std::unique_ptr<ServerCore>(new ServerCore(std::move(impl)));
}

ServerCore::ServerCore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerCore::~ServerCore() = default;

model::HttpResponse ServerCore::handle(const model::HttpRequest& request) {
  try {
    return impl_->dispatch(request);
  } catch (const std::exception&) {
    // Last resort (allocation failure): a JSON 500 rather than an exception across the API.
    return json_response(500, {{"message", "internal server error"}, {"errinfo", Json::object()}});
  }
}

model::Timestamp ServerCore::now() const { return impl_->now(); }

void ServerCore::advance(std::chrono::seconds by) {
  impl_->clock_offset_micros.fetch_add(
      std::chrono::duration_cast<std::chrono::microseconds>(by).count());
}

const ServerOptions& ServerCore::options() const { return impl_->options; }

const FaultSet& ServerCore::faults() const { return impl_->faults; }

}  // namespace patrol::server
