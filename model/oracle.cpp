#include "model/oracle.hpp"

#include <algorithm>
#include <cstring>

#include "model/listing.hpp"
#include "model/oracle_internal.hpp"
#include "model/scope.hpp"
#include "model/utf8.hpp"

namespace patrol::model {

namespace detail {

namespace {

constexpr std::uint32_t kNone = JsonTape::kNone;
constexpr std::size_t kExcerptMax = 200;
constexpr char kJson[] = "json";
constexpr int kMaxLeakReports = 4;

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[at + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::optional<Scope> scope_of(std::string_view text) {
  for (const Scope s : kAllScopes) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string truncate(std::string s, std::size_t max = kExcerptMax) {
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}

}  // namespace

std::optional<Timestamp> parse_time(std::string_view s) {
  if (s.size() >= 20 && s.size() <= 30 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
      s[13] == ':' && s[16] == ':' && s.back() == 'Z') {
    int y, mo, d, h, mi, se;
    if (digits(s, 0, 4, y) && digits(s, 5, 2, mo) && digits(s, 8, 2, d) && digits(s, 11, 2, h) &&
        digits(s, 14, 2, mi) && digits(s, 17, 2, se) && mo >= 1 && mo <= 12 && d >= 1 && h < 24 &&
        mi < 60 && se < 60) {
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      const int dim = kDays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0);
      std::int64_t micros = 0;
      bool ok = d <= dim;
      if (ok && s.size() > 20) {
        // ".f{1,9}Z"
        if (s[19] != '.' || s.size() < 22) {
          ok = false;
        } else {
          int scale = 100000;
          for (std::size_t i = 20; i + 1 < s.size(); ++i) {
            const char c = s[i];
            if (c < '0' || c > '9') {
              ok = false;
              break;
            }
            micros += (c - '0') * scale;
            scale /= 10;
          }
        }
      }
      if (ok) {
        const std::int64_t days =
            days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
        return Timestamp{((days * 24 + h) * 60 + mi) * 60'000'000LL + se * 1'000'000LL + micros};
      }
    }
  }
  auto r = parse_rfc3339(s);
  if (!r.ok()) return std::nullopt;
  return *r;
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers.entries) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Judge: common parts

Judge::Judge(ModelState& state, const HttpRequest& request, const HttpResponse& response,
             Timestamp now, const Profile& profile, std::vector<Violation>& out)
    : s_(state),
      rq_(request),
      rs_(response),
      p_(profile),
      out_(out),
      body_(scratch().body),
      req_(scratch().request) {
  const Timestamp prev = s_.last_seen().micros == 0 ? now : s_.last_seen();
  now_ = std::max(now, s_.last_seen());
  const std::int64_t skew = p_.clock_skew_s * 1'000'000;
  memo_salt_ = mix64(static_cast<std::uint64_t>(p_.read_token) |
                     static_cast<std::uint64_t>(p_.read_token_may_be_absent) << 2 |
                     static_cast<std::uint64_t>(p_.unset_expiry) << 3 |
                     static_cast<std::uint64_t>(p_.scopes_may_be_absent) << 5 |
                     static_cast<std::uint64_t>(p_.last_used_null_until_use) << 6 |
                     static_cast<std::uint64_t>(p_.last_used_set_by_use) << 7 |
                     static_cast<std::uint64_t>(p_.info_fields_may_be_null) << 8 |
                     static_cast<std::uint64_t>(p_.label_may_be_trimmed) << 9 |
                     static_cast<std::uint64_t>(p_.clock_skew_s) << 16);
  win_ = Window{now_.micros - skew, now_.micros + skew, std::min(prev.micros, now_.micros) - skew};
}

void Judge::violate(const char* rule, std::string message, std::string excerpt) {
  // The message quotes the request line too, which may carry a secret (a path, a query).
  auto scrub = [&](std::string_view text) {
    std::string out = redact(text, s_);
    for (const std::string_view c : credentials_) {
      if (c.empty()) continue;
      for (std::size_t p = out.find(c); p != std::string::npos; p = out.find(c, p)) {
        out.replace(p, c.size(), "<redacted credential>");
      }
    }
    return out;
  };
  out_.push_back(Violation{rule, scrub(message), truncate(scrub(excerpt))});
}

void Judge::violate(const char* rule, std::string message) {
  violate(rule, std::move(message), status_excerpt());
}

std::string Judge::status_excerpt() const {
  // Longer than what is shown: redaction must see whole secrets and JWTs before truncation.
  std::string e = "HTTP " + std::to_string(rs_.status);
  if (!rs_.body.empty()) {
    e += ' ';
    e += rs_.body.substr(0, 8 * kExcerptMax);
  }
  return e;
}

std::string Judge::node_excerpt(std::uint32_t node) const {
  if (!body_json_ || node >= body_.size()) return status_excerpt();
  std::string e = body_.path_of(node);
  e += ": ";
  const JsonNode& n = body_.node(node);
  if (n.kind == JsonKind::kObject || n.kind == JsonKind::kArray) {
    e += n.kind == JsonKind::kObject ? "{...}" : "[...]";
  } else {
    e += body_.scalar_text(node);
  }
  return e;
}

std::string Judge::what() const {
  std::string path = rq_.path.size() > 80 ? rq_.path.substr(0, 80) + "..." : rq_.path;
  std::string w = rq_.method + " " + path;
  if (route_ == Route::kList && !rq_.query.empty()) w += "?" + rq_.query.substr(0, 60);
  return w;
}

Tri Judge::token_expired(std::uint32_t token) const {
  const auto& r = s_.rec(token);
  if (r.expires_at == kNoTime) return Tri::kNo;
  return win_.expired(r.expires_at);
}

bool Judge::pat_usable(std::uint32_t token, Tri* expiry) const {
  const auto& r = s_.rec(token);
  const Tri e = token_expired(token);
  if (expiry) *expiry = e;
  return !(r.flags & kDeleted) && (r.flags & kActive) && e != Tri::kYes;
}

void Judge::check_error_body(ErrFlavor flavor) {
  if (route_ == Route::kRegistry) return;  // registry errors follow the registry spec
  const int st = rs_.status;
  const std::string where = what() + " returned " + status_text();
  if (rs_.body.empty()) {
    violate("7", where +
                     " with an empty body; an error body is a JSON object with message, detail or "
                     "text (contract 7)");
    return;
  }
  if (!body_json_ || !body_.is_object(0)) {
    violate("7", where +
                     " with a body that is not a JSON object; error bodies are JSON objects, never "
                     "HTML or stack traces (contract 7)");
    return;
  }
  if (const std::string* ct = find_header(rs_.headers, "Content-Type")) {
    const auto json_at = std::search(ct->begin(), ct->end(), std::begin(kJson), std::end(kJson) - 1,
                                     [](char a, char b) { return (a | 0x20) == b; });
    if (json_at == ct->end()) {
      violate("7", where + " with Content-Type " + truncate(*ct, 60) +
                       "; an error body is declared as JSON (contract 7)");
    }
  }
  auto is_str = [&](const char* key) {
    const std::uint32_t n = body_.find(0, key);
    return n != kNone && body_.is_string(n);
  };
  if (p_.error_bodies == ErrorBodies::kHub) {
    if (!is_str("message") && !is_str("detail") && !is_str("text")) {
      violate("7",
              where + " with an error body lacking a string message, detail or text (contract 7)");
    }
    const std::uint32_t ei = body_.find(0, "errinfo");
    if (ei != kNone && !body_.is_object(ei) && body_.kind(ei) != JsonKind::kNull) {
      violate("7", where + " with errinfo that is neither an object nor null (contract 7)",
              node_excerpt(ei));
    }
    return;
  }
  if (flavor == ErrFlavor::kLogin) {
    if (!is_str("detail")) {
      violate("A3", where +
                        " without a string detail; the login error body is {detail, "
                        "login_2fa_token} (contract A3)");
    }
  } else if (st == 400) {
    const std::uint32_t fields = body_.find(0, "fields");
    if (fields == kNone || !body_.is_object(fields) || !is_str("text")) {
      violate("A4", where +
                        " without ValueError {fields: object, text: string}; the spec profile "
                        "requires it for 400 (contract A4)");
    }
  } else if (!is_str("detail") || !is_str("message")) {
    violate("A3", where +
                      " without Error {detail, message} strings; the spec profile requires it "
                      "for 401/403/404 (contract A3)");
  }
}

void Judge::scan_for_secrets() {
  const std::size_t min_len = s_.min_secret_length();
  if (s_.secret_count() == 0) return;
  int reported = 0;
  auto report = [&](std::uint32_t si, const std::string& where, std::string_view context) {
    if (reported++ >= kMaxLeakReports) return;
    const std::uint32_t tok = s_.secret_token(si);
    std::string whose = tok == kNoIndex ? std::string("a secret issued earlier")
                                        : "the secret of token " + std::string(s_.uuid(tok));
    violate("3.1",
            what() + " returned " + status_text() + " repeating " + whose + " in " + where +
                "; a secret is returned once, by the E1 that created it (contract 3.1)",
            where + ": " + std::string(context.substr(0, kExcerptMax)));
  };
  for (const auto& header : rs_.headers.entries) {
    // Named references rather than a structured binding: clang before 16 cannot capture one.
    const std::string& name = header.first;
    const std::string& value = header.second;
    if (name.size() >= min_len) {
      s_.scan_secrets(name,
                      [&](std::uint32_t si, std::size_t) { report(si, "a header name", name); });
    }
    if (value.size() >= min_len) {
      s_.scan_secrets(value, [&](std::uint32_t si, std::size_t) {
        report(si, "header " + truncate(name, 40), value);
      });
    }
  }
  if (rs_.body.size() < min_len) return;
  if (!body_json_) {
    s_.scan_secrets(rs_.body, [&](std::uint32_t si, std::size_t pos) {
      const std::size_t from = pos > 40 ? pos - 40 : 0;
      report(si, "the body", std::string_view(rs_.body).substr(from, 120));
    });
    return;
  }
  const auto& nodes = body_.nodes();
  for (std::uint32_t i = 0; i < nodes.size(); ++i) {
    const JsonNode& n = nodes[i];
    if (n.len < min_len) continue;
    if (n.kind == JsonKind::kString) {
      const std::string_view text = body_.str(i, scratch_);
      if (text.size() < min_len) continue;
      s_.scan_secrets(text, [&](std::uint32_t si, std::size_t) {
        report(si, body_.path_of(i), body_.scalar_text(i));
      });
    } else if (n.kind == JsonKind::kNumber) {
      s_.scan_secrets(body_.raw(i), [&](std::uint32_t si, std::size_t) {
        report(si, body_.path_of(i), body_.raw(i));
      });
    }
  }
}

void Judge::run() {
  // Bodies replayed from a recording are cold: fetch every line at once, not one per parse step.
  for (std::size_t at = 0; at < rs_.body.size(); at += 64) __builtin_prefetch(rs_.body.data() + at);
  route_ = classify(rq_);
  const int st = rs_.status;
  body_json_ = !rs_.body.empty() && body_.parse(rs_.body);
  scan_for_secrets();
  if (st == 429) {
    // A5/A21: a rate limit is never a violation and changes nothing.
    if (p_.require_retry_after && !find_header(rs_.headers, "Retry-After") &&
        !find_header(rs_.headers, "X-Retry-After")) {
      violate("A21", what() +
                         " returned 429 without Retry-After or X-Retry-After; the profile requires "
                         "one (contract A21)");
    }
  } else if (st >= 500 && st <= 599) {
    violate("8", what() + " returned " + status_text() +
                     "; a server error is never an acceptable answer (contract 8)");
  } else if (st < 100 || st > 599) {
    violate("1", what() + " returned status " + status_text() +
                     ", which is not an HTTP status (contract 1)");
  } else {
    switch (route_) {
      case Route::kCreate:
      case Route::kList:
      case Route::kGet:
      case Route::kPatch:
      case Route::kDelete:
        token_route();
        break;
      case Route::kAuthToken:
        auth_token();
        break;
      case Route::kLogin:
        login();
        break;
      case Route::kTwoFactorLogin:
        two_factor_login();
        break;
      case Route::kRegistry:
        registry();
        break;
      case Route::kWrongMethod:
        wrong_method();
        break;
      case Route::kOther:
        break;
    }
  }
  s_.advance(now_);
}

void Judge::wrong_method() {
  const int st = rs_.status;
  if (st >= 400 && st < 500) return;
  violate("1", what() + " returned " + status_text() +
                   "; the contract defines no such method on this path, so it must be refused "
                   "with a 4xx (contract 1)");
}

void Judge::unexpected(const char* rule, std::string_view requirement) {
  const int st = rs_.status;
  if (st == 401 || st == 403) {
    violate("4", what() + " with a valid session JWT returned " + status_text() +
                     "; a session JWT may call E1..E5 (contract 4)");
    return;
  }
  violate(rule, what() + " returned " + status_text() + "; " + std::string(requirement) +
                    " (contract " + rule + ")");
}

void Judge::unexpected_own(std::uint32_t token, std::string_view requirement) {
  const int st = rs_.status;
  if (st == 404) {
    const std::string uuid(s_.uuid(token));
    if (auto other = s_.mutated_since_observed(token)) {
      violate("3.9", what() + " returned 404 for live token " + uuid +
                         " after an operation on token " + std::string(s_.uuid(*other)) +
                         "; an operation on one token never affects another (contract 3.9)");
    } else {
      violate("1", what() + " returned 404 for live token " + uuid + "; " +
                       std::string(requirement) + " (contract 1)");
    }
    s_.mark_deleted(token, false);  // resync: follow what the server says
    return;
  }
  unexpected("1", requirement);
}

// ---------------------------------------------------------------------------------------------
// E-routes

void Judge::token_route() {
  if (rq_.path.size() > 1 && rq_.path.back() == '/' &&
      (route_ == Route::kCreate || route_ == Route::kList)) {
    const int st = rs_.status;
    // A9: the trailing-slash alias is informational: not served (404, redirect) or an alias.
    if (st == 301 || st == 302 || st == 307 || st == 308) return;
    if (st == 404) {
      if (p_.trailing_slash_may_be_404) return;
      violate("A9", what() +
                        " returned 404; the profile requires the trailing-slash path to be "
                        "an alias of the collection (contract A9)");
      return;
    }
  }
  const Caller c = authenticate();
  const int st = rs_.status;
  switch (c.kind) {
    case Caller::Kind::kReject:
      if (st == 401) {
        check_error_body();
        return;
      }
      violate(c.rule, what() + " with " + c.reason + " returned " + status_text() + "; " +
                          c.reason + " must get 401 (contract " + c.rule + ")");
      return;
    case Caller::Kind::kUnknown:
      if (st == 401 || st == 403) {
        check_error_body();
        return;
      }
      violate("4", what() +
                       " with a JWT the model never saw issued, naming no known account, "
                       "returned " +
                       status_text() + "; only a session JWT may call E1..E5 (contract 4)");
      return;
    case Caller::Kind::kPatDerived:
      if (st == 403 || (st == 401 && c.may_401)) {
        check_error_body();
        return;
      }
      if (st == 401) {
        violate("A5", what() +
                          " with a JWT obtained from a PAT returned 401; it must get 403 "
                          "(contract A5)");
      } else {
        violate("4", what() + " with a JWT obtained from a PAT returned " + status_text() +
                         "; a PAT-derived JWT must get 403 on E1..E5 (contract 4)");
      }
      return;
    case Caller::Kind::kAccount:
      if ((st == 401 && c.may_401) || (st == 403 && c.may_403)) {
        check_error_body();
        return;
      }
      dispatch_token_route(c.account);
      if (c.learn && st >= 200 && st < 300) {
        s_.add_jwt(c.bearer, JwtKind::kSession, c.account, c.learn_exp, kNoIndex);
      }
      return;
  }
}

void Judge::dispatch_token_route(std::uint16_t account) {
  switch (route_) {
    case Route::kCreate:
      create(account);
      break;
    case Route::kList:
      list(account);
      break;
    case Route::kGet:
      get_item(account);
      break;
    case Route::kPatch:
      patch_item(account);
      break;
    case Route::kDelete:
      delete_item(account);
      break;
    default:
      break;
  }
}

TokenFields Judge::collect(std::uint32_t obj) const {
  TokenFields f;
  const JsonNode& o = body_.node(obj);
  std::string tmp;
  for (std::uint32_t k = obj + 1; k < o.end; k = body_.node(k + 1).end) {
    const std::string_view key = body_.node(k).escaped ? body_.str(k, tmp) : body_.raw(k);
    const std::uint32_t v = k + 1;
    switch (key.size()) {
      case 4:
        if (key == "uuid") f.uuid = v;
        break;
      case 5:
        if (key == "token") f.token = v;
        break;
      case 6:
        if (key == "scopes") f.scopes = v;
        break;
      case 9:
        if (key == "is_active") {
          f.is_active = v;
        } else if (key == "last_used") {
          f.last_used = v;
        } else if (key == "client_id") {
          f.info[0] = v;
        }
        break;
      case 10:
        if (key == "created_at") {
          f.created_at = v;
        } else if (key == "creator_ip") {
          f.info[1] = v;
        } else if (key == "creator_ua") {
          f.info[2] = v;
        } else if (key == "expires_at") {
          f.expires_at = v;
        }
        break;
      case 11:
        if (key == "token_label") f.token_label = v;
        break;
      case 12:
        if (key == "generated_by") f.info[3] = v;
        break;
      default:
        break;
    }
  }
  return f;
}

std::string Judge::field(int entry, const char* name) const {
  if (entry < 0) return name;
  return "results[" + std::to_string(entry) + "]." + name;
}

void Judge::contradiction(std::uint32_t token, const char* rule, std::string message,
                          std::uint32_t node) {
  if (std::strcmp(rule, "2") == 0) {
    if (auto other = s_.mutated_since_observed(token)) {
      violate("3.9",
              message + ", after an operation on token " + std::string(s_.uuid(*other)) +
                  "; an operation on one token never affects another (contract 3.9)",
              node_excerpt(node));
      return;
    }
    violate("2", message + "; a token's fields follow its own history (contract 2)",
            node_excerpt(node));
    return;
  }
  violate(
      rule,
      message + "; E4 applies exactly the requested change (contract " + std::string(rule) + ")",
      node_excerpt(node));
}

void Judge::check_read_token_member(std::uint32_t node, int entry) {
  if (node == kNone) {
    if (!p_.read_token_may_be_absent) {
      violate("A1", what() + " returned a token object without " + field(entry, "token") +
                        "; the profile requires \"\" or \"***\" on reads (contract A1)");
    }
    return;
  }
  if (!body_.is_string(node)) {
    violate("A1",
            what() + " returned " + field(entry, "token") +
                " that is not a string; reads carry an absent, empty or redacted token "
                "(contract A1)",
            node_excerpt(node));
    return;
  }
  const std::string_view v = body_.str(node, scratch2_);
  if (v.empty() || s_.is_secret(v)) return;  // a secret is reported by the 3.1 scan
  if (p_.read_token == ReadToken::kEmptyOrStars && v != "***") {
    violate("A1",
            what() + " returned " + field(entry, "token") +
                " that is neither \"\" nor \"***\"; the profile requires one of them on "
                "reads (contract A1)",
            node_excerpt(node));
  }
}

void Judge::check_last_used(std::uint32_t node, std::uint32_t token, int entry) {
  const auto& r = s_.rec(token);
  const bool used = (r.flags & kUsed) != 0;
  const bool adopted = (r.flags & kAdopted) != 0;  // its use before the first exchange is unknown
  if (node == kNone || body_.kind(node) == JsonKind::kNull) {
    if (used && p_.last_used_set_by_use && !adopted) {
      violate("3.8",
              what() + " shows " + field(entry, "last_used") + " null for token " +
                  std::string(s_.uuid(token)) +
                  " after it authenticated; a successful authentication sets last_used "
                  "(contract 3.8)",
              node == kNone ? status_excerpt() : node_excerpt(node));
    }
    return;
  }
  if (!body_.is_string(node)) {
    violate("2",
            what() + " returned " + field(entry, "last_used") +
                " that is neither null nor a timestamp string (contract 2)",
            node_excerpt(node));
    return;
  }
  const auto t = parse_time(body_.str(node, scratch2_));
  if (!t) {
    violate("A20",
            what() + " returned " + field(entry, "last_used") +
                " that is not an RFC 3339 timestamp (contract A20)",
            node_excerpt(node));
    return;
  }
  const std::string_view uuid = s_.uuid(token);
  if (!used && !adopted && p_.last_used_null_until_use) {
    violate("3.8",
            what() + " shows " + field(entry, "last_used") + " set for token " + std::string(uuid) +
                ", which never authenticated; last_used is null until first use "
                "(contract 3.8)",
            node_excerpt(node));
  }
  if (t->seconds() < Timestamp{r.created_at}.seconds()) {
    violate("3.8",
            what() + " shows " + field(entry, "last_used") + " before created_at for token " +
                std::string(uuid) + "; last_used is never earlier than created_at (contract 3.8)",
            node_excerpt(node));
  }
  if (t->micros > win_.hi) {
    violate("3.8",
            what() + " shows " + field(entry, "last_used") + " in the future for token " +
                std::string(uuid) + "; last_used records a use that happened (contract 3.8)",
            node_excerpt(node));
  }
  if (r.last_used != kNoTime && t->seconds() < Timestamp{r.last_used}.seconds()) {
    violate("3.8",
            what() + " shows " + field(entry, "last_used") + " earlier than before for token " +
                std::string(uuid) + "; last_used never moves backwards (contract 3.8)",
            node_excerpt(node));
  }
  s_.observe_last_used(token, *t);
}

void Judge::check_info(const TokenFields& f, std::uint32_t token, int entry) {
  static constexpr const char* kNames[] = {"client_id", "creator_ip", "creator_ua", "generated_by"};
  for (int k = 0; k < 4; ++k) {
    const std::uint32_t n = f.info[k];
    if (n == kNone) continue;
    const JsonKind kind = body_.kind(n);
    if (kind == JsonKind::kNull) {
      if (!p_.info_fields_may_be_null) {
        violate("2",
                what() + " returned " + field(entry, kNames[k]) +
                    " null; the profile requires a string (contract 2)",
                node_excerpt(n));
      }
      continue;
    }
    if (kind != JsonKind::kString) {
      violate(
          "2",
          what() + " returned " + field(entry, kNames[k]) + " that is not a string (contract 2)",
          node_excerpt(n));
      continue;
    }
    if (token != kNoIndex && !s_.check_info(token, k, body_.str(n, scratch2_))) {
      violate("2",
              what() + " returned " + field(entry, kNames[k]) +
                  " different from what the token showed before; it records the creating "
                  "request and never changes (contract 2)",
              node_excerpt(n));
    }
  }
}

void Judge::check_token(std::uint32_t obj, std::uint32_t token, Ctx ctx, int entry,
                        const PatchExpect* pe) {
  // A read that shows exactly the bytes judged clean before, against an unchanged record and the
  // same profile, has the same verdict and teaches nothing new.
  const std::uint64_t bytes_key = ctx == Ctx::kRead ? hash_bytes(body_.container_text(obj)) : 0;
  auto memo_of = [&] {
    return mix64(bytes_key ^ memo_salt_ ^ (std::uint64_t{s_.rec(token).version} << 32));
  };
  if (ctx == Ctx::kRead && s_.rec(token).memo == memo_of()) {
    s_.observe(token);
    return;
  }
  const std::size_t violations_before = out_.size();
  const TokenFields f = collect(obj);
  const auto& r = s_.rec(token);
  const std::string_view uuid = s_.uuid(token);
  const char* change_rule = ctx == Ctx::kPatched ? "3.5" : "2";

  if (f.uuid == kNone || !body_.is_string(f.uuid)) {
    violate("2",
            what() + " returned a token object without a string " + field(entry, "uuid") +
                " (contract 2)",
            f.uuid == kNone ? status_excerpt() : node_excerpt(f.uuid));
  } else if (entry < 0 && body_.str(f.uuid, scratch2_) != uuid) {
    violate("2",
            what() + " returned token " + std::string(body_.str(f.uuid, scratch2_)) +
                " instead of " + std::string(uuid) + " (contract 2)",
            node_excerpt(f.uuid));
  }

  // is_active
  if (f.is_active == kNone || !body_.is_bool(f.is_active)) {
    violate("2",
            what() + " returned a token object without a boolean " + field(entry, "is_active") +
                " (contract 2)",
            f.is_active == kNone ? status_excerpt() : node_excerpt(f.is_active));
  } else {
    const bool got = body_.kind(f.is_active) == JsonKind::kTrue;
    const bool model = (r.flags & kActive) != 0;
    const bool want = pe && pe->active ? *pe->active : model;
    if (got != want) {
      contradiction(token, change_rule,
                    what() + " shows " + field(entry, "is_active") + " " +
                        (got ? "true" : "false") + " for token " + std::string(uuid) +
                        ", expected " + (want ? "true" : "false"),
                    f.is_active);
    }
    if (got != model) s_.set_active(token, got, ctx == Ctx::kPatched);
  }

  // token_label
  if (f.token_label == kNone || !body_.is_string(f.token_label)) {
    violate("2",
            what() + " returned a token object without a string " + field(entry, "token_label") +
                " (contract 2)",
            f.token_label == kNone ? status_excerpt() : node_excerpt(f.token_label));
  } else {
    const std::string_view got = body_.str(f.token_label, scratch_);
    const bool same_as_model = s_.label_is(token, got);
    const bool ok = pe && pe->has_label
                        ? got == pe->label || (p_.label_may_be_trimmed && got == trim(pe->label))
                        : same_as_model;
    if (!ok) {
      contradiction(token, change_rule,
                    what() + " shows " + field(entry, "token_label") + " different from " +
                        (pe && pe->has_label ? "the requested label" : "the token's label") +
                        " for token " + std::string(uuid),
                    f.token_label);
    }
    if (!same_as_model) s_.set_label(token, std::string(got));
  }

  // created_at
  if (f.created_at == kNone || !body_.is_string(f.created_at)) {
    violate("2",
            what() + " returned a token object without a string " + field(entry, "created_at") +
                " (contract 2)",
            f.created_at == kNone ? status_excerpt() : node_excerpt(f.created_at));
  } else if (auto t = parse_time(body_.str(f.created_at, scratch2_)); !t) {
    violate("A20",
            what() + " returned " + field(entry, "created_at") +
                " that is not an RFC 3339 timestamp (contract A20)",
            node_excerpt(f.created_at));
  } else if (!same_second(*t, Timestamp{r.created_at})) {
    contradiction(token, "2",
                  what() + " shows " + field(entry, "created_at") +
                      " different from the 201 for token " + std::string(uuid),
                  f.created_at);
  }

  // scopes (A14, contract 3.3)
  if (f.scopes == kNone) {
    if (!p_.scopes_may_be_absent) {
      violate("A14", what() + " returned a token object without " + field(entry, "scopes") +
                         "; the profile requires scopes (contract A14)");
    }
  } else if (!body_.is_array(f.scopes)) {
    violate("2",
            what() + " returned " + field(entry, "scopes") + " that is not an array (contract 2)",
            node_excerpt(f.scopes));
  } else {
    std::optional<Scope> eff;
    bool bad = false;
    const JsonNode& a = body_.node(f.scopes);
    for (std::uint32_t e = f.scopes + 1; e < a.end; e = body_.next_sibling(e)) {
      const auto sc = body_.is_string(e) ? scope_of(body_.str(e, scratch2_)) : std::nullopt;
      if (!sc) {
        bad = true;
      } else if (!eff || *sc > *eff) {
        eff = sc;
      }
    }
    if (bad || !eff) {
      violate("3.3",
              what() + " returned " + field(entry, "scopes") +
                  " with a member outside repo:admin, repo:write, repo:read, "
                  "repo:public_read, or empty (contract 3.3)",
              node_excerpt(f.scopes));
    } else if (!(r.flags & kScopesAbsent) && static_cast<std::uint8_t>(*eff) != r.scope) {
      contradiction(token, change_rule,
                    what() + " shows " + field(entry, "scopes") + " with effective scope " +
                        std::string(to_string(*eff)) + " for token " + std::string(uuid) +
                        ", created with " + std::string(to_string(static_cast<Scope>(r.scope))),
                    f.scopes);
    }
  }

  // expires_at (A2)
  if (r.expires_at == kNoTime) {
    const bool absent = f.expires_at == kNone;
    const bool null = !absent && body_.kind(f.expires_at) == JsonKind::kNull;
    const bool ok = (absent && p_.unset_expiry != UnsetExpiry::kNullOnly) ||
                    (null && p_.unset_expiry != UnsetExpiry::kAbsentOnly);
    if (!ok) {
      violate(ctx == Ctx::kPatched && pe && pe->extras ? "3.5" : "A2",
              what() + " shows " + field(entry, "expires_at") + " " +
                  (absent ? "absent"
                   : null ? "null"
                          : "set") +
                  " for token " + std::string(uuid) +
                  ", created without expires_at; the profile accepts " +
                  (p_.unset_expiry == UnsetExpiry::kNullOnly     ? "null"
                   : p_.unset_expiry == UnsetExpiry::kAbsentOnly ? "absent"
                                                                 : "absent or null") +
                  " (contract A2)",
              absent ? status_excerpt() : node_excerpt(f.expires_at));
    }
  } else {
    std::optional<Timestamp> t;
    if (f.expires_at != kNone && body_.is_string(f.expires_at)) {
      t = parse_time(body_.str(f.expires_at, scratch2_));
    }
    if (!t || !same_second(*t, Timestamp{r.expires_at})) {
      violate(ctx == Ctx::kPatched && pe && pe->extras ? "3.5" : "A2",
              what() + " shows " + field(entry, "expires_at") + " for token " + std::string(uuid) +
                  " that is not the instant it was created with; expires_at echoes the request "
                  "to the second (contract A2)",
              f.expires_at == kNone ? status_excerpt() : node_excerpt(f.expires_at));
    }
  }

  check_last_used(f.last_used, token, entry);
  check_read_token_member(f.token, entry);
  check_info(f, token, entry);
  s_.observe(token);
  if (ctx == Ctx::kRead && out_.size() == violations_before) s_.set_memo(token, memo_of());
}

// E1 ------------------------------------------------------------------------------------------

namespace {

struct CreateReq {
  bool valid = false;      // definitely acceptable (expiry aside)
  const char* rule = "1";  // rule of the first definite problem
  std::string why;         // describes it
  std::string label;
  std::vector<std::string> scopes;
  Scope effective = Scope::kPublicRead;
  enum class Exp : std::uint8_t { kAbsent, kNull, kValue } exp = Exp::kAbsent;
  Timestamp expires_at;
  bool unknown_members = false;
  bool long_in_bytes = false;  // > 100 bytes but <= 100 code points (A25)
};

// Why a request body is not a JSON object, with the rule that says so; nullopt when it is one
// (then parsed into `tape`).
struct BodyProblem {
  const char* rule;
  const char* why;
};
std::optional<BodyProblem> body_object_problem(const std::string& body, JsonTape& tape) {
  if (!tape.parse(body)) {
    const std::string& e = tape.error();
    if (e.find("UTF-8") != std::string::npos || e.find("surrogate") != std::string::npos) {
      return BodyProblem{"3.2", "a body with invalid UTF-8"};
    }
    return BodyProblem{"1", "a body that is not JSON"};
  }
  if (!tape.is_object(0)) return BodyProblem{"1", "a body that is not a JSON object"};
  return std::nullopt;
}

CreateReq parse_create(const std::string& body, JsonTape& tape) {
  CreateReq c;
  auto fail = [&](const char* rule, std::string why) {
    if (c.why.empty()) {
      c.rule = rule;
      c.why = std::move(why);
    }
  };
  if (auto problem = body_object_problem(body, tape)) {
    fail(problem->rule, problem->why);
    return c;
  }
  std::string tmp;
  bool has_label = false;
  bool has_scopes = false;
  const JsonNode& o = tape.node(0);
  for (std::uint32_t k = 1; k < o.end; k = tape.node(k + 1).end) {
    const std::string key(tape.str(k, tmp));
    const std::uint32_t v = k + 1;
    if (key == "token_label") {
      has_label = true;
      if (!tape.is_string(v)) {
        fail("1", "a token_label that is not a string");
        continue;
      }
      c.label = std::string(tape.str(v, tmp));
      const std::size_t cps = code_points(c.label);
      if (cps == 0) {
        fail("3.2", "an empty token_label");
      } else if (cps > kMaxLabelCodePoints) {
        fail("3.2", "a token_label of " + std::to_string(cps) + " characters");
      }
      c.long_in_bytes = cps <= kMaxLabelCodePoints && c.label.size() > kMaxLabelCodePoints;
    } else if (key == "scopes") {
      has_scopes = true;
      if (!tape.is_array(v)) {
        fail("1", "scopes that is not an array");
        continue;
      }
      std::optional<Scope> eff;
      c.scopes.clear();
      for (std::uint32_t e = v + 1; e < tape.node(v).end; e = tape.next_sibling(e)) {
        if (!tape.is_string(e)) {
          fail("1", "a scope that is not a string");
          continue;
        }
        c.scopes.emplace_back(tape.str(e, tmp));
        const auto sc = scope_of(c.scopes.back());
        if (!sc) {
          fail("3.3", "an unknown scope");
        } else if (!eff || *sc > *eff) {
          eff = sc;
        }
      }
      if (tape.node(v).len == 0) fail("3.3", "empty scopes");
      if (eff) c.effective = *eff;
    } else if (key == "expires_at") {
      if (tape.kind(v) == JsonKind::kNull) {
        c.exp = CreateReq::Exp::kNull;
      } else if (!tape.is_string(v)) {
        fail("1", "expires_at that is not a string");
      } else if (auto t = parse_time(tape.str(v, tmp))) {
        c.exp = CreateReq::Exp::kValue;
        c.expires_at = *t;
      } else {
        fail("A20", "expires_at that is not an RFC 3339 timestamp");
      }
    } else {
      c.unknown_members = true;
    }
  }
  if (!has_label) fail("1", "no token_label");
  if (!has_scopes) fail("1", "no scopes");
  c.valid = c.why.empty();
  return c;
}

const char* requirement_of(const char* rule) {
  if (std::strcmp(rule, "3.2") == 0) {
    return "a label is 1..100 characters of valid UTF-8, else 400";
  }
  if (std::strcmp(rule, "3.3") == 0) return "scopes must be known and non-empty, else 400";
  if (std::strcmp(rule, "3.4") == 0) return "an expires_at in the past is a 400";
  if (std::strcmp(rule, "A20") == 0) return "expires_at must be RFC 3339, else 400";
  return "an invalid create is a 400";
}

}  // namespace

void Judge::create(std::uint16_t account) {
  const int st = rs_.status;
  CreateReq cr = parse_create(rq_.body, req_);
  std::uint32_t si = kNoIndex;
  Tri past = Tri::kNo;
  if (cr.exp == CreateReq::Exp::kValue) past = win_.expired(cr.expires_at.micros);
  const bool must_reject = !cr.valid || past == Tri::kYes;
  const bool may_reject = must_reject || past == Tri::kMaybe || cr.exp == CreateReq::Exp::kNull ||
                          (cr.unknown_members && p_.unknown_request_members_may_be_400);
  if (st == 201) {
    auto judge_request = [&] {
      if (!cr.valid) {
        violate(cr.rule, what() + " with " + cr.why + " returned 201; " + requirement_of(cr.rule) +
                             " (contract " + cr.rule + ")");
      } else if (past == Tri::kYes) {
        violate("3.4", what() + " with expires_at in the past returned 201; " +
                           requirement_of("3.4") + " (contract 3.4)");
      }
    };
    // Learn from the 201 whatever happened, so later exchanges are judged against the server.
    const bool valid = cr.valid;
    if (!body_json_ || !body_.is_object(0)) {
      judge_request();
      violate("1", what() +
                       " returned 201 without a JSON token object; E1 returns the created "
                       "token (contract 1)");
      return;
    }
    const TokenFields f = collect(0);
    if (f.token != kNone && body_.is_string(f.token) && body_.node(f.token).len > 0) {
      // Known from here on, so every excerpt below redacts it.
      si = s_.add_secret(body_.str(f.token, scratch2_), kNoIndex);
    }
    judge_request();

    // The secret (contract 3.1, A19).
    std::string secret;
    if (f.token == kNone) {
      violate("3.1", what() +
                         " returned 201 without token; E1 returns the secret exactly once, "
                         "in its 201 (contract 3.1)");
    } else if (!body_.is_string(f.token)) {
      violate("2", what() + " returned 201 with a token that is not a string (contract 2)",
              node_excerpt(f.token));
    } else {
      secret = std::string(body_.str(f.token, scratch2_));
      if (secret.empty()) {
        violate("A19",
                what() +
                    " returned 201 with an empty token; a secret is a non-empty "
                    "string (contract A19)",
                node_excerpt(f.token));
      } else if (!p_.secret_prefix.empty() && secret.rfind(p_.secret_prefix, 0) != 0) {
        violate("A19",
                what() + " returned 201 with a secret lacking the prefix " + p_.secret_prefix +
                    " the profile requires (contract A19)",
                node_excerpt(f.token));
      }
    }

    // uuid (contract 2).
    std::string uuid;
    if (f.uuid == kNone || !body_.is_string(f.uuid)) {
      violate("2", what() + " returned 201 without a string uuid (contract 2)",
              f.uuid == kNone ? status_excerpt() : node_excerpt(f.uuid));
    } else {
      uuid = std::string(body_.str(f.uuid, scratch2_));
      if (s_.find_token(uuid)) {
        violate("2",
                what() + " returned 201 with uuid " + truncate(uuid, 60) +
                    ", which an earlier token already had; uuids are unique (contract 2)",
                node_excerpt(f.uuid));
        uuid.clear();
      } else if (!is_canonical_uuid(uuid)) {
        violate("2",
                what() + " returned 201 with uuid " + truncate(uuid, 60) +
                    ", which is not a canonical lower-case uuid (contract 2)",
                node_excerpt(f.uuid));
      }
    }

    // is_active (contract 3.1: E1 creates an active token).
    bool active = true;
    if (f.is_active == kNone || !body_.is_bool(f.is_active)) {
      violate("2", what() + " returned 201 without a boolean is_active (contract 2)",
              f.is_active == kNone ? status_excerpt() : node_excerpt(f.is_active));
    } else if (body_.kind(f.is_active) == JsonKind::kFalse) {
      active = false;
      violate("3.1",
              what() +
                  " returned 201 with is_active false; E1 creates an active token "
                  "(contract 3.1)",
              node_excerpt(f.is_active));
    }

    // token_label (contract 2, A25).
    std::string label = cr.label;
    if (f.token_label == kNone || !body_.is_string(f.token_label)) {
      violate("2", what() + " returned 201 without a string token_label (contract 2)",
              f.token_label == kNone ? status_excerpt() : node_excerpt(f.token_label));
    } else {
      const std::string_view got = body_.str(f.token_label, scratch2_);
      if (valid && got != cr.label && !(p_.label_may_be_trimmed && got == trim(cr.label))) {
        violate("2",
                what() +
                    " returned 201 with a token_label different from the requested one "
                    "(contract 2)",
                node_excerpt(f.token_label));
      }
      label = std::string(got);
    }

    // scopes (contract 3.3, A12, A14).
    Scope effective = cr.effective;
    bool scopes_absent = false;
    if (f.scopes == kNone) {
      scopes_absent = true;
      if (!p_.scopes_may_be_absent) {
        violate("A14", what() +
                           " returned 201 without scopes; the profile requires them "
                           "(contract A14)");
      }
    } else if (!body_.is_array(f.scopes)) {
      violate("2", what() + " returned 201 with scopes that is not an array (contract 2)",
              node_excerpt(f.scopes));
    } else {
      std::optional<Scope> eff;
      bool bad = false;
      std::vector<std::string_view> got;
      std::string tmp;
      for (std::uint32_t e = f.scopes + 1; e < body_.node(f.scopes).end;
           e = body_.next_sibling(e)) {
        const auto sc = body_.is_string(e) ? scope_of(body_.str(e, tmp)) : std::nullopt;
        if (!sc) {
          bad = true;
          continue;
        }
        got.push_back(to_string(*sc));
        if (!eff || *sc > *eff) eff = sc;
      }
      if (bad || !eff) {
        violate("3.3",
                what() +
                    " returned 201 with scopes outside the four known ones, or "
                    "empty (contract 3.3)",
                node_excerpt(f.scopes));
      } else {
        if (valid && *eff != cr.effective) {
          violate("3.3",
                  what() + " returned 201 with effective scope " + std::string(to_string(*eff)) +
                      " for a request whose highest scope is " +
                      std::string(to_string(cr.effective)) + " (contract 3.3)",
                  node_excerpt(f.scopes));
        } else if (valid) {
          const bool echo = got.size() == cr.scopes.size() &&
                            std::equal(got.begin(), got.end(), cr.scopes.begin());
          const bool normalised = got.size() == 1 && got[0] == to_string(cr.effective);
          const bool ok = (echo && p_.scope_echo != ScopeEcho::kNormalisedOnly) ||
                          (normalised && p_.scope_echo != ScopeEcho::kEchoOnly);
          if (!ok) {
            violate("A12",
                    what() + " returned 201 with scopes that are neither " +
                        (p_.scope_echo == ScopeEcho::kNormalisedOnly ? std::string("")
                                                                     : "the requested list") +
                        (p_.scope_echo == ScopeEcho::kEchoOrNormalised ? " nor " : "") +
                        (p_.scope_echo == ScopeEcho::kEchoOnly ? std::string("")
                                                               : "its highest member alone") +
                        " (contract A12)",
                    node_excerpt(f.scopes));
          }
        }
        effective = *eff;
      }
    }

    // expires_at (contract 2, A2).
    std::optional<Timestamp> expires;
    if (cr.exp == CreateReq::Exp::kValue) expires = cr.expires_at;
    if (f.expires_at != kNone && body_.is_string(f.expires_at)) {
      const auto t = parse_time(body_.str(f.expires_at, scratch2_));
      if (!t) {
        violate("A20", what() + " returned 201 with expires_at that is not RFC 3339 (contract A20)",
                node_excerpt(f.expires_at));
      } else {
        if (valid && (!expires || !same_second(*t, *expires))) {
          violate("A2",
                  what() + " returned 201 with expires_at " +
                      std::string(expires ? "different from the requested instant"
                                          : "set although none was requested") +
                      "; it echoes the request to the second (contract A2)",
                  node_excerpt(f.expires_at));
        }
        expires = t;
      }
    } else if (expires) {
      violate("A2",
              what() +
                  " returned 201 without the requested expires_at; it echoes the "
                  "request to the second (contract A2)",
              f.expires_at == kNone ? status_excerpt() : node_excerpt(f.expires_at));
    } else {
      const bool absent = f.expires_at == kNone;
      const bool null = !absent && body_.kind(f.expires_at) == JsonKind::kNull;
      const bool ok = (absent && p_.unset_expiry != UnsetExpiry::kNullOnly) ||
                      (null && p_.unset_expiry != UnsetExpiry::kAbsentOnly);
      if (!ok) {
        violate("A2",
                what() + " returned 201 with expires_at " +
                    (absent ? "absent"
                     : null ? "null"
                            : "of the wrong type") +
                    " for a token created without one (contract A2)",
                absent ? status_excerpt() : node_excerpt(f.expires_at));
      }
    }

    // created_at (contract 2, A20).
    Timestamp created = now_;
    if (f.created_at == kNone || !body_.is_string(f.created_at)) {
      violate("2", what() + " returned 201 without a string created_at (contract 2)",
              f.created_at == kNone ? status_excerpt() : node_excerpt(f.created_at));
    } else if (auto t = parse_time(body_.str(f.created_at, scratch2_)); !t) {
      violate("A20", what() + " returned 201 with created_at that is not RFC 3339 (contract A20)",
              node_excerpt(f.created_at));
    } else {
      if (t->micros < win_.earliest || t->micros > win_.hi) {
        violate("2",
                what() + " returned 201 with created_at " + format_rfc3339(*t) +
                    ", outside the time of the request (clock skew " +
                    std::to_string(p_.clock_skew_s) + " s) (contract 2)",
                node_excerpt(f.created_at));
      }
      created = *t;
    }

    // last_used (contract 3.8: null until first use).
    if (f.last_used != kNone && body_.kind(f.last_used) != JsonKind::kNull &&
        p_.last_used_null_until_use) {
      violate("3.8",
              what() +
                  " returned 201 with last_used set; it is null until first use "
                  "(contract 3.8)",
              node_excerpt(f.last_used));
    }

    if (!uuid.empty()) {
      ModelState::NewToken nt;
      nt.uuid = uuid;
      nt.label = label;
      nt.secret = si;
      nt.account = account;
      nt.scope = effective;
      nt.scopes_absent = scopes_absent;
      nt.is_active = active;
      nt.created_at = created;
      nt.expires_at = expires;
      const std::uint32_t tok = s_.add_token(nt);
      check_info(f, tok, -1);
    } else {
      check_info(f, kNoIndex, -1);
    }

    // The new secret appears exactly once: in this body's token member (contract 3.1).
    if (!secret.empty()) {
      const std::size_t first = rs_.body.find(secret);
      if (first != std::string::npos && rs_.body.find(secret, first + 1) != std::string::npos) {
        violate("3.1", what() +
                           " returned 201 with the new secret more than once in its body; "
                           "it is returned exactly once (contract 3.1)");
      }
      for (const auto& [name, value] : rs_.headers.entries) {
        if (value.find(secret) != std::string::npos || name.find(secret) != std::string::npos) {
          violate("3.1",
                  what() + " returned 201 with the new secret in header " + truncate(name, 40) +
                      "; it is returned only in the body (contract 3.1)",
                  name + ": " + value);
        }
      }
    }
    return;
  }
  if (st == 400) {
    if (!may_reject) {
      const char* rule = cr.long_in_bytes ? "A25" : "1";
      violate(rule,
              what() + " with a valid body returned 400; " +
                  (cr.long_in_bytes ? std::string("labels are counted in characters, not bytes")
                                    : std::string("a valid create is a 201")) +
                  " (contract " + rule + ")");
    }
    check_error_body();
    return;
  }
  if (st == 403 && p_.create_may_be_plan_gated) {
    check_error_body();
    return;
  }
  unexpected("1", "E1 answers 201 or 400");
}

// E2 ------------------------------------------------------------------------------------------

namespace {

// parse_list_query (listing.hpp) for the common query of plain decimal page/page_size values,
// without allocating; nullopt sends anything else (escapes, "2.0", signs) to parse_list_query.
std::optional<ListQuery> plain_list_query(std::string_view q) {
  ListQuery out;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.find_first_of("%+") != std::string_view::npos) return std::nullopt;
    const std::size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    if (name != "page" && name != "page_size") continue;
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (value.empty() || value.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    (name == "page" ? out.page : out.page_size) = v;
  }
  return out;
}

// parse_page_link (listing.hpp) for absolute http(s) or relative links whose query is plain;
// nullopt sends anything else to parse_page_link.
std::optional<ListQuery> plain_page_link(std::string_view url) {
  if (url.empty() || url.find('#') != std::string_view::npos) return std::nullopt;
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  bool ok = url.front() == '/' || url.front() == '?';
  for (const std::string_view scheme :
       {std::string_view("http://"), std::string_view("https://")}) {
    if (!ok && url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) {
      const char first = url[scheme.size()];
      ok = first != '/' && first != '?';
    }
  }
  if (!ok) return std::nullopt;
  const std::size_t q = url.find('?');
  return plain_list_query(q == std::string_view::npos ? std::string_view() : url.substr(q + 1));
}

}  // namespace

void Judge::list(std::uint16_t account) {
  const int st = rs_.status;
  const auto plain = plain_list_query(rq_.query);
  const Result<ListQuery> q = plain ? Result<ListQuery>(*plain) : parse_list_query(rq_.query);
  const bool in_range = q.ok() && q->in_range();
  const std::uint32_t live = s_.live_count(account);
  if (st == 200) {
    if (!q.ok()) {
      violate("6", what() +
                       " returned 200; page and page_size must be integers, anything else is "
                       "a 400 (contract 6)");
      return;
    }
    if (!in_range && !p_.out_of_range_page_may_clamp) {
      violate("A10", what() +
                         " with page or page_size out of range returned 200; the profile "
                         "requires 400 (contract A10)");
      return;
    }
    check_page(account, q->page, q->page_size, !in_range);
    return;
  }
  if (st == 400) {
    if (in_range) {
      violate("6", what() +
                       " returned 400; page >= 1 and 1 <= page_size <= 100 are valid "
                       "(contract 6)");
    }
    check_error_body();
    return;
  }
  if (st == 404) {
    // (page - 1) * page_size >= live, without the product (page may be near 2^63).
    const bool past_end =
        (in_range && q->page > 1 &&
         q->page - 1 >= (static_cast<std::int64_t>(live) + q->page_size - 1) / q->page_size) ||
        (!q.ok() && page_past_int64(rq_.query));
    if (past_end && p_.page_past_end_may_be_404) {
      check_error_body();
      return;
    }
    violate("6", what() + " returned 404; only a page past the end may be 404 (contract 6)");
    return;
  }
  unexpected("1", "E2 answers 200 or 400");
}

std::optional<std::uint32_t> Judge::adopt(std::uint32_t obj, std::uint16_t account) {
  const TokenFields f = collect(obj);
  if (f.uuid == kNone || !body_.is_string(f.uuid)) return std::nullopt;
  const std::string uuid(body_.str(f.uuid, scratch2_));
  if (uuid.empty() || s_.find_token(uuid)) return std::nullopt;
  ModelState::NewToken nt;
  nt.uuid = uuid;
  std::string label;
  if (f.token_label != kNone && body_.is_string(f.token_label)) {
    label = std::string(body_.str(f.token_label, scratch2_));
  }
  nt.label = label;
  nt.account = account;
  nt.adopted = true;
  nt.is_active = f.is_active == kNone || body_.kind(f.is_active) != JsonKind::kFalse;
  nt.created_at = now_;
  if (f.created_at != kNone && body_.is_string(f.created_at)) {
    if (auto t = parse_time(body_.str(f.created_at, scratch2_))) nt.created_at = *t;
  }
  if (f.expires_at != kNone && body_.is_string(f.expires_at)) {
    nt.expires_at = parse_time(body_.str(f.expires_at, scratch2_));
  }
  nt.scopes_absent = true;
  if (f.scopes != kNone && body_.is_array(f.scopes)) {
    for (std::uint32_t e = f.scopes + 1; e < body_.node(f.scopes).end; e = body_.next_sibling(e)) {
      const auto sc = body_.is_string(e) ? scope_of(body_.str(e, scratch2_)) : std::nullopt;
      if (sc && (nt.scopes_absent || *sc > nt.scope)) nt.scope = *sc;
      if (sc) nt.scopes_absent = false;
    }
  }
  return s_.add_token(nt);
}

bool Judge::adoptable(std::uint16_t account) const {
  return s_.baseline() == Baseline::kUnknown && s_.unseen(account).value_or(1) > 0;
}

void Judge::check_page(std::uint16_t account, std::int64_t page, std::int64_t size, bool clamped) {
  if (!body_json_ || !body_.is_object(0)) {
    violate("1", what() +
                     " returned 200 without a JSON object; E2 returns {count, next, "
                     "previous, active_count, results} (contract 1)");
    return;
  }
  const std::uint32_t n_count = body_.find(0, "count");
  const std::uint32_t n_active = body_.find(0, "active_count");
  const std::uint32_t n_results = body_.find(0, "results");
  const std::uint32_t n_next = body_.find(0, "next");
  const std::uint32_t n_prev = body_.find(0, "previous");
  std::optional<std::int64_t> count;
  if (n_count != kNone) count = body_.integer(n_count);
  // Baseline::kUnknown: the first count tells how many tokens the model has not seen.
  const auto known = static_cast<std::int64_t>(s_.live_count(account));
  if (!s_.unseen(account) && count && *count >= known) {
    s_.set_unseen(account, static_cast<std::uint32_t>(*count - known));
  }
  const std::int64_t unseen = s_.unseen(account).value_or(0);
  const std::int64_t live = known + unseen;  // the account's tokens, seen or not
  if (!count || *count < 0) {
    violate("1", what() + " returned 200 without a non-negative integer count (contract 1)",
            n_count == kNone ? status_excerpt() : node_excerpt(n_count));
  } else if (*count != live) {
    violate("6",
            what() + " returned count " + std::to_string(*count) + " but the account has " +
                std::to_string(live) + " tokens; count is all the caller's tokens (contract 6)",
            node_excerpt(n_count));
  }
  std::optional<std::int64_t> active;
  if (n_active != kNone) active = body_.integer(n_active);
  if (!active) {
    violate("1", what() + " returned 200 without an integer active_count (contract 1)",
            n_active == kNone ? status_excerpt() : node_excerpt(n_active));
  } else if (*active < 0 || (count && *active > *count)) {
    violate("6",
            what() + " returned active_count " + std::to_string(*active) +
                ", outside 0..count; active_count <= count (contract 6)",
            node_excerpt(n_active));
  } else if (p_.active_count_exact) {
    const auto [lo, known_hi] =
        s_.active_count_bounds(account, [&](Timestamp t) { return win_.expired(t.micros); });
    const std::int64_t hi = known_hi + unseen;  // unseen tokens may be active or not
    if (*active < lo || *active > hi) {
      violate("A18",
              what() + " returned active_count " + std::to_string(*active) + " but " +
                  std::to_string(lo) + (lo == hi ? "" : ".." + std::to_string(hi)) +
                  " tokens are active and unexpired; contract 6 defines it exactly "
                  "(contract A18)",
              node_excerpt(n_active));
    }
  }
  if (n_results == kNone || !body_.is_array(n_results)) {
    violate("1", what() + " returned 200 without a results array (contract 1)",
            n_results == kNone ? status_excerpt() : node_excerpt(n_results));
    return;
  }
  const auto n = static_cast<std::int64_t>(body_.node(n_results).len);

  // Page geometry: which (page, page_size) explains the number of results.
  auto expected_len = [&](std::int64_t pg, std::int64_t ps) -> std::int64_t {
    if (pg < 1 || ps < 1) return -1;
    // (pg - 1) * ps >= live, without the product (pg may be near 2^63).
    if (pg - 1 >= (live + ps - 1) / ps) return pg == 1 || p_.page_past_end_may_be_empty ? 0 : -1;
    const std::int64_t start = (pg - 1) * ps;  // below live: no overflow
    return std::min(ps, live - start);
  };
  std::int64_t pg = page;
  std::int64_t ps = size;
  bool explained = expected_len(pg, ps) == n;
  if (clamped) {
    const std::int64_t cand_pg = std::max<std::int64_t>(page, 1);
    const std::int64_t cands[] = {std::clamp<std::int64_t>(size, 1, kMaxPageSize),
                                  kDefaultPageSize};
    explained = false;
    for (const std::int64_t c : cands) {
      if (expected_len(cand_pg, c) == n) {
        pg = cand_pg;
        ps = c;
        explained = true;
        break;
      }
    }
  }
  if (!explained) {
    const std::int64_t want = clamped ? -1 : expected_len(pg, ps);
    std::string msg = what() + " returned " + std::to_string(n) + " results";
    if (want >= 0) {
      msg += " but page " + std::to_string(pg) + " of " + std::to_string(live) +
             " tokens with page_size " + std::to_string(ps) + " has " + std::to_string(want);
    } else if (clamped) {
      msg += ", which no clamped page size explains";
    } else {
      msg += " for a page past the end; the profile requires 404";
    }
    violate(clamped ? "A10" : "6", msg + " (contract " + (clamped ? "A10" : "6") + ")",
            node_excerpt(n_results));
  }

  // Entries: the caller's live tokens, once each (contract 4, 3.6, 6). Their lookups are started
  // together so the cache misses overlap.
  std::vector<std::uint32_t> uuid_nodes;
  uuid_nodes.reserve(static_cast<std::size_t>(n));
  for (std::uint32_t e = n_results + 1; e < body_.node(n_results).end; e = body_.next_sibling(e)) {
    const std::uint32_t nu = body_.is_object(e) ? body_.find(e, "uuid") : kNone;
    if (nu != kNone && body_.is_string(nu) && !body_.node(nu).escaped) {
      s_.prefetch_token(body_.raw(nu));
    }
    uuid_nodes.push_back(nu);
  }
  std::vector<std::uint32_t> seen;
  seen.reserve(static_cast<std::size_t>(n));
  int index = 0;
  for (std::uint32_t e = n_results + 1; e < body_.node(n_results).end;
       e = body_.next_sibling(e), ++index) {
    if (!body_.is_object(e)) {
      violate("1",
              what() + " returned results[" + std::to_string(index) +
                  "] that is not a token object (contract 1)",
              node_excerpt(e));
      continue;
    }
    const std::uint32_t nu = uuid_nodes[static_cast<std::size_t>(index)];
    if (nu == kNone || !body_.is_string(nu)) {
      violate("2",
              what() + " returned results[" + std::to_string(index) +
                  "] without a string uuid (contract 2)",
              nu == kNone ? node_excerpt(e) : node_excerpt(nu));
      continue;
    }
    const std::string_view uuid = body_.str(nu, scratch2_);
    auto tok = s_.find_token(uuid);
    if (!tok && s_.unseen(account).value_or(0) > 0) tok = adopt(e, account);
    if (!tok) {
      violate("6",
              what() + " lists token " + truncate(std::string(uuid), 60) +
                  ", which the caller never created; results are the caller's tokens "
                  "(contract 6)",
              node_excerpt(nu));
      continue;
    }
    if (s_.token_account(*tok) != account) {
      violate("4",
              what() + " by " + std::string(s_.account_name(account)) + " lists token " +
                  std::string(uuid) + " of " +
                  std::string(s_.account_name(s_.token_account(*tok))) +
                  "; each account sees only its own tokens (contract 4)",
              node_excerpt(nu));
      continue;
    }
    if (s_.rec(*tok).flags & kDeleted) {
      violate("3.6",
              what() + " lists token " + std::string(uuid) +
                  " after its DELETE; a deleted token is gone for good (contract 3.6)",
              node_excerpt(nu));
      continue;
    }
    if (std::find(seen.begin(), seen.end(), *tok) != seen.end()) {
      violate("6",
              what() + " lists token " + std::string(uuid) +
                  " twice on one page; pages partition the tokens (contract 6)",
              node_excerpt(nu));
      continue;
    }
    seen.push_back(*tok);
    check_token(e, *tok, Ctx::kRead, index, nullptr);
  }

  // next / previous (A11).
  if (!explained) return;
  const bool past_end = pg > 1 && (pg - 1) * ps >= live;
  if (past_end) return;
  const bool last = (pg - 1) * ps + n >= live;
  auto check_link = [&](std::uint32_t node, const char* name, bool must_be_null,
                        std::int64_t want_page) {
    if (node == kNone) {
      violate("A11", what() + " returned without " + std::string(name) +
                         "; it is a link, or null on the " + (must_be_null ? "" : "other ") +
                         "boundary page (contract A11)");
      return;
    }
    const bool null = body_.kind(node) == JsonKind::kNull;
    if (must_be_null) {
      if (!null) {
        violate("A11",
                what() + " returned " + name + " that is not null on the " +
                    (std::strcmp(name, "next") == 0 ? "last" : "first") + " page (contract A11)",
                node_excerpt(node));
      }
      return;
    }
    if (!body_.is_string(node)) {
      violate("A11",
              what() + " returned " + name + " that is not a link although page " +
                  std::to_string(want_page) + " exists (contract A11)",
              node_excerpt(node));
      return;
    }
    const std::string_view link = body_.str(node, scratch2_);
    const auto plain = plain_page_link(link);
    const Result<ListQuery> lq = plain ? Result<ListQuery>(*plain) : parse_page_link(link);
    if (!lq.ok() || lq->page != want_page || lq->page_size != ps) {
      violate("A11",
              what() + " returned " + name +
                  " that does not carry page=" + std::to_string(want_page) +
                  " and page_size=" + std::to_string(ps) + " (contract A11)",
              node_excerpt(node));
      return;
    }
    const bool absolute = link.rfind("http://", 0) == 0 || link.rfind("https://", 0) == 0;
    if (!absolute && !p_.page_links_may_be_relative) {
      violate("A11",
              what() + " returned a relative " + std::string(name) +
                  " link; the profile requires absolute URLs (contract A11)",
              node_excerpt(node));
    }
  };
  check_link(n_next, "next", last, pg + 1);
  check_link(n_prev, "previous", pg == 1, pg - 1);
}

// E3..E5 --------------------------------------------------------------------------------------

Judge::Target Judge::resolve(std::uint16_t account) const {
  Target t;
  // The {uuid} segment, as it stands: HttpRequest::path is decoded already.
  const std::string_view segment = std::string_view(rq_.path).substr(kTokensPath.size() + 1);
  std::optional<std::uint32_t> tok;
  if (is_canonical_uuid(segment)) {
    tok = s_.find_token(segment);
    if (!tok) {
      t.kind = Target::Kind::kUnknown;
      return t;
    }
  } else {
    const std::string lower = ascii_lower(segment);
    if (is_canonical_uuid(lower)) tok = s_.find_token(lower);
    if (!tok) {
      t.kind = Target::Kind::kMalformed;
      return t;
    }
    t.variant = true;
  }
  t.token = *tok;
  const auto& r = s_.rec(*tok);
  if (r.flags & kDeleted) {
    t.kind = Target::Kind::kDeleted;
  } else if (r.account != account) {
    t.kind = Target::Kind::kOther;
  } else {
    t.kind = Target::Kind::kOwn;
  }
  return t;
}

bool Judge::malformed_ok() const {
  const int st = rs_.status;
  return (st == 400 && p_.malformed_uuid_may_be_400) || (st == 404 && p_.malformed_uuid_may_be_404);
}

bool Judge::judge_non_own(const Target& t, bool may_400) {
  const int st = rs_.status;
  if (t.variant && malformed_ok()) {
    check_error_body();
    return true;
  }
  if (t.kind == Target::Kind::kOwn) return false;
  if (st == 400 && may_400) {
    check_error_body();
    return true;
  }
  switch (t.kind) {
    case Target::Kind::kMalformed:
      if (malformed_ok()) {
        check_error_body();
      } else if (st == 401 || st == 403) {
        unexpected("A8", "");
      } else {
        violate("A8",
                what() + " with a malformed uuid returned " + status_text() +
                    "; the profile accepts " +
                    (p_.malformed_uuid_may_be_400 && p_.malformed_uuid_may_be_404 ? "400 or 404"
                     : p_.malformed_uuid_may_be_400                               ? "400"
                                                                                  : "404") +
                    " (contract A8)");
      }
      return true;
    case Target::Kind::kUnknown:
      if (st == 404) {
        check_error_body();
      } else if (st == 400 && route_ == Route::kPatch) {
        if (p_.patch_unknown_may_be_400) {
          check_error_body();
        } else {
          violate("A6", what() +
                            " on an unknown uuid returned 400; it must be 404 as on GET and "
                            "DELETE (contract A6)");
        }
      } else {
        unexpected("3.7", std::string(rq_.method) + " of an unknown uuid must be 404");
      }
      return true;
    case Target::Kind::kOther:
      if (st == 404) {
        check_error_body();
      } else {
        unexpected("4", "another account's uuid must be 404, never confirming it exists");
      }
      return true;
    case Target::Kind::kDeleted:
      if (st == 404) {
        check_error_body();
      } else if (st == 401 || st == 403) {
        unexpected("3.6", "");
      } else {
        violate("3.6", rq_.method + " after DELETE returned " + status_text() +
                           "; a deleted token must be 404 (contract 3.6)");
      }
      return true;
    case Target::Kind::kOwn:
      break;
  }
  return false;
}

bool Judge::adopt_target(Target& t, std::uint16_t account) {
  const int st = rs_.status;
  if (t.kind != Target::Kind::kUnknown || !adoptable(account) || st < 200 || st > 299) {
    return false;
  }
  if (route_ == Route::kDelete) {
    // An unseen token of the caller, deleted: one fewer unseen.
    if (const auto u = s_.unseen(account); u && *u > 0) s_.set_unseen(account, *u - 1);
    if (st != 204 && !p_.delete_any_2xx) {
      violate("A7",
              what() + " returned " + status_text() + "; a successful DELETE is 204 (contract A7)");
    }
    return true;
  }
  if (!body_json_ || !body_.is_object(0)) return false;
  const auto tok = adopt(0, account);
  if (!tok) return false;
  t.kind = Target::Kind::kOwn;
  t.token = *tok;
  return false;
}

void Judge::get_item(std::uint16_t account) {
  Target t = resolve(account);
  if (adopt_target(t, account)) return;
  if (judge_non_own(t, false)) return;
  if (rs_.status == 200) {
    if (!body_json_ || !body_.is_object(0)) {
      violate("1", what() + " returned 200 without a JSON token object (contract 1)");
      return;
    }
    check_token(0, t.token, Ctx::kRead, -1, nullptr);
    return;
  }
  unexpected_own(t.token, "E3 returns the caller's live token with 200");
}

namespace {

struct PatchReq {
  bool valid = true;
  const char* rule = "1";
  std::string why;
  bool has_label = false;
  std::string label;
  std::optional<bool> active;
  bool extras = false;           // scopes / expires_at (A15)
  bool unknown_members = false;  // anything else
  bool empty = false;            // {} (A16)
  bool long_in_bytes = false;
};

PatchReq parse_patch(const std::string& body, JsonTape& tape) {
  PatchReq pr;
  auto fail = [&](const char* rule, std::string why) {
    if (pr.valid) {
      pr.valid = false;
      pr.rule = rule;
      pr.why = std::move(why);
    }
  };
  if (auto problem = body_object_problem(body, tape)) {
    fail(problem->rule, problem->why);
    return pr;
  }
  pr.empty = tape.node(0).len == 0;
  std::string tmp;
  const JsonNode& o = tape.node(0);
  for (std::uint32_t k = 1; k < o.end; k = tape.node(k + 1).end) {
    const std::string key(tape.str(k, tmp));
    const std::uint32_t v = k + 1;
    if (key == "token_label") {
      if (!tape.is_string(v)) {
        fail("3.2", "a token_label that is not a string");
        continue;
      }
      pr.has_label = true;
      pr.label = std::string(tape.str(v, tmp));
      const std::size_t cps = code_points(pr.label);
      if (cps == 0) {
        fail("3.2", "an empty token_label");
      } else if (cps > kMaxLabelCodePoints) {
        fail("3.2", "a token_label of " + std::to_string(cps) + " characters");
      }
      pr.long_in_bytes = cps <= kMaxLabelCodePoints && pr.label.size() > kMaxLabelCodePoints;
    } else if (key == "is_active") {
      if (!tape.is_bool(v)) {
        fail("1", "is_active that is not a boolean");
        continue;
      }
      pr.active = tape.kind(v) == JsonKind::kTrue;
    } else if (key == "scopes" || key == "expires_at") {
      pr.extras = true;
    } else {
      pr.unknown_members = true;
    }
  }
  return pr;
}

}  // namespace

void Judge::patch_item(std::uint16_t account) {
  const int st = rs_.status;
  const PatchReq pr = parse_patch(rq_.body, req_);
  const bool extras_may_400 = pr.extras && p_.patch_extras != PatchExtras::kIgnoredOnly;
  const bool may_400 = !pr.valid || extras_may_400 ||
                       (pr.unknown_members && p_.unknown_request_members_may_be_400) ||
                       (pr.empty && p_.empty_patch_may_be_400);
  Target t = resolve(account);
  if (adopt_target(t, account)) return;
  if (judge_non_own(t, !pr.valid)) return;
  const Tri expired = token_expired(t.token);
  if (st == 200) {
    if (!pr.valid) {
      violate(pr.rule, what() + " with " + pr.why + " returned 200; an invalid PATCH is a 400 " +
                           "(contract " + pr.rule + ")");
    } else if (expired == Tri::kYes) {
      violate("3.4", what() +
                         " on an expired token returned 200; an expired token can only be "
                         "deleted (contract 3.4)");
    } else if (pr.extras && p_.patch_extras == PatchExtras::k400Only) {
      violate("A15", what() +
                         " with scopes or expires_at returned 200; the profile requires 400 "
                         "(contract A15)");
    }
    if (!body_json_ || !body_.is_object(0)) {
      violate("1", what() + " returned 200 without a JSON token object (contract 1)");
      return;
    }
    PatchExpect pe;
    pe.has_label = pr.valid && pr.has_label;
    pe.label = pr.label;
    if (pr.valid) pe.active = pr.active;
    pe.extras = pr.extras;
    check_token(0, t.token, Ctx::kPatched, -1, &pe);
    return;
  }
  if (st >= 400 && st < 500 && st != 401) {
    if (st == 400 && may_400) {
      check_error_body();
      return;
    }
    if (expired != Tri::kNo) {
      // Contract 3.4: any 4xx refuses a PATCH of an expired token.
      check_error_body();
      return;
    }
    if (st == 400) {
      if (pr.empty) {
        violate("A16", what() +
                           " with {} returned 400; an empty PATCH is a 200 no-op "
                           "(contract A16)");
      } else if (pr.extras) {
        violate("A15", what() +
                           " with scopes or expires_at returned 400; the profile requires "
                           "them ignored (contract A15)");
      } else if (pr.long_in_bytes) {
        violate("A25", what() +
                           " with a label of at most 100 characters (over 100 bytes) "
                           "answered 400; labels are counted in characters (contract A25)");
      } else {
        violate("3.5", what() +
                           " with a valid body returned 400; E4 changes the label and/or "
                           "is_active of a live token (contract 3.5)");
      }
      check_error_body();
      return;
    }
  }
  unexpected_own(t.token, "E4 on the caller's live token answers 200");
}

void Judge::delete_item(std::uint16_t account) {
  const int st = rs_.status;
  Target t = resolve(account);
  if (adopt_target(t, account)) return;
  if (judge_non_own(t, false)) return;
  if (st == 204 || (st >= 200 && st < 300)) {
    if (st != 204 && !p_.delete_any_2xx) {
      violate("A7",
              what() + " returned " + status_text() + "; a successful DELETE is 204 (contract A7)");
    }
    if (st == 204 && !rs_.body.empty()) {
      violate("1", what() +
                       " returned 204 with a body; E5 answers 204 with an empty body "
                       "(contract 1)");
    }
    s_.mark_deleted(t.token);
    return;
  }
  unexpected_own(t.token, "E5 on the caller's token answers 204");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public API

Route classify(const HttpRequest& r) {
  const std::string_view path = r.path;
  const std::string_view m = r.method;
  if (path.rfind(detail::kTokensPath, 0) == 0) {
    // The shapes of parse_token_path (listing.hpp) without decoding the segment.
    const std::string_view rest = path.substr(detail::kTokensPath.size());
    if (rest.empty() || rest == "/") {
      if (m == "POST") return Route::kCreate;
      if (m == "GET") return Route::kList;
      return Route::kWrongMethod;
    }
    if (rest.front() == '/' && rest.find('/', 1) == std::string_view::npos) {
      if (m == "GET") return Route::kGet;
      if (m == "PATCH") return Route::kPatch;
      if (m == "DELETE") return Route::kDelete;
      return Route::kWrongMethod;
    }
    return Route::kOther;
  }
  if (path == "/v2/auth/token") return m == "POST" ? Route::kAuthToken : Route::kWrongMethod;
  if (path == "/v2/users/login") return m == "POST" ? Route::kLogin : Route::kWrongMethod;
  if (path == "/v2/users/2fa-login") {
    return m == "POST" ? Route::kTwoFactorLogin : Route::kWrongMethod;
  }
  if (path == "/token") return m == "GET" ? Route::kRegistry : Route::kWrongMethod;
  return Route::kOther;
}

std::string_view route_id(Route route) {
  switch (route) {
    case Route::kCreate:
      return "E1";
    case Route::kList:
      return "E2";
    case Route::kGet:
      return "E3";
    case Route::kPatch:
      return "E4";
    case Route::kDelete:
      return "E5";
    case Route::kAuthToken:
      return "A1";
    case Route::kLogin:
      return "A2";
    case Route::kTwoFactorLogin:
      return "2FA";
    case Route::kRegistry:
      return "R1";
    case Route::kWrongMethod:
      return "wrong-method";
    case Route::kOther:
      return "other";
  }
  return "other";
}

std::vector<Violation> judge_in_place(ModelState& state, const HttpRequest& request,
                                      const HttpResponse& response, Timestamp now,
                                      const Profile& profile) {
  std::vector<Violation> out;
  try {
    detail::Judge j(state, request, response, now, profile, out);
    j.run();
  } catch (const std::exception& e) {
    out.push_back(Violation{"internal",
                            std::string("patrol failed to judge this exchange (") + e.what() +
                                "); this is a patrol bug",
                            ""});
  }
  return out;
}

Verdict judge(const ModelState& state, const HttpRequest& request, const HttpResponse& response,
              Timestamp now, const Profile& profile) {
  Verdict v{{}, state};
  v.violations = judge_in_place(v.next, request, response, now, profile);
  return v;
}

std::string redact(std::string_view text, const ModelState& state) {
  std::string out(text);
  // Known secrets (exact occurrences).
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  state.scan_secrets(out, [&](std::uint32_t si, std::size_t pos) {
    spans.emplace_back(pos, state.secret_text(si).size());
  });
  std::sort(spans.begin(), spans.end());
  if (!spans.empty()) {
    std::string r;
    std::size_t at = 0;
    for (const auto& [pos, len] : spans) {
      if (pos < at) continue;
      r.append(out, at, pos - at);
      r += "<redacted secret>";
      at = pos + len;
    }
    r.append(out, at, std::string::npos);
    out = std::move(r);
  }
  auto replace_all = [&](std::string_view needle, std::string_view with) {
    if (needle.empty()) return;
    for (std::size_t p = out.find(needle); p != std::string::npos; p = out.find(needle, p)) {
      out.replace(p, needle.size(), with);
      p += with.size();
    }
  };
  for (const auto& a : state.fixture().accounts) {
    replace_all(a.password, "<redacted password>");
  }
  for (std::uint32_t i = 0; i < state.two_factor_count(); ++i) {
    replace_all(state.two_factor_text(i), "<redacted login_2fa_token>");
  }
  // JWT-looking runs: "eyJ" followed by base64url characters and two dots.
  auto b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '=';
  };
  for (std::size_t p = out.find("eyJ"); p != std::string::npos; p = out.find("eyJ", p)) {
    std::size_t e = p;
    int dots = 0;
    while (e < out.size() && b64(out[e])) dots += out[e++] == '.';
    if (dots >= 2 || e - p >= 16) {
      out.replace(p, e - p, "<redacted JWT>");
      p += 14;
    } else {
      p = e;
    }
  }
  return out;
}

}  // namespace patrol::model
