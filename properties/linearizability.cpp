#include "properties/linearizability.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "model/jwt.hpp"
#include "model/listing.hpp"
#include "model/utf8.hpp"
#include "properties/report.hpp"

namespace patrol::properties {

using model::ErrorKind;
using model::HttpRequest;
using model::HttpResponse;
using model::Json;
using model::make_error;
using model::Result;
using model::Route;

namespace {

// ---- small helpers --------------------------------------------------------------------------

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<Json> json_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<std::string> string_member(const std::optional<Json>& j, const char* key) {
  if (!j || !j->is_object()) return std::nullopt;
  auto it = j->find(key);
  if (it == j->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The credential of "Authorization: Bearer X" (or the legacy "JWT X").
std::optional<std::string> bearer_of(const HttpRequest& r) {
  auto auth = r.headers.get("Authorization");
  if (!auth) return std::nullopt;
  std::string_view v = trim(*auth);
  auto sp = v.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view scheme = v.substr(0, sp);
  if (!iequals(scheme, "Bearer") && !iequals(scheme, "JWT")) return std::nullopt;
  std::string_view cred = trim(v.substr(sp + 1));
  if (cred.empty()) return std::nullopt;
  return std::string(cred);
}

// The (username, secret) of "Authorization: Basic base64(username:secret)".
std::optional<std::pair<std::string, std::string>> basic_of(const HttpRequest& r) {
  auto auth = r.headers.get("Authorization");
  if (!auth) return std::nullopt;
  std::string_view v = trim(*auth);
  if (v.size() < 6 || !iequals(v.substr(0, 6), "Basic ")) return std::nullopt;
  auto decoded = model::base64_decode(trim(v.substr(6)));
  if (!decoded.ok()) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

// The {uuid} segment of an item route, decoded and lower-cased as the oracle resolves it.
std::string item_key(const HttpRequest& r) {
  constexpr std::string_view kPrefix = "/v2/access-tokens/";
  std::string_view seg = r.path;
  if (seg.size() >= kPrefix.size()) seg.remove_prefix(kPrefix.size());
  std::string decoded(seg);
  if (decoded.find('%') != std::string::npos) {
    if (auto d = model::percent_decode(decoded, false)) decoded = *d;
  }
  return lower(decoded);
}

bool is_login_route(Route r) {
  return r == Route::kAuthToken || r == Route::kLogin || r == Route::kTwoFactorLogin;
}

std::string short_key(const std::string& key) {
  return key.size() > 13 ? key.substr(0, 8) + "..." : key;
}

// ---- JSON codec -----------------------------------------------------------------------------

Json text_json(const std::string& s) {
  if (model::utf8_code_points(s).ok()) return s;
  return Json{{"base64", model::base64_encode(s)}};
}

// A redacted JWT signature ("<<patrol:jwt:N>>") reads back as a stable base64url stand-in, so
// the model sees a well-formed JWT with the same identity wherever it appears.
std::string restore_jwt_placeholders(std::string text) {
  constexpr std::string_view kOpen = "<<patrol:jwt:";
  for (std::size_t p = text.find(kOpen); p != std::string::npos; p = text.find(kOpen, p + 1)) {
    std::size_t e = p + kOpen.size();
    while (e < text.size() && text[e] >= '0' && text[e] <= '9') ++e;
    if (e == p + kOpen.size() || text.compare(e, 2, ">>") != 0) continue;
    const std::string n = text.substr(p + kOpen.size(), e - p - kOpen.size());
    text.replace(p, e + 2 - p, model::base64url_encode("patrol redacted jwt " + n));
  }
  return text;
}

Result<std::string> text_from(const Json& j, const std::string& path) {
  if (j.is_string()) return restore_jwt_placeholders(j.get<std::string>());
  if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
    auto d = model::base64_decode(j["base64"].get<std::string>());
    if (!d.ok()) return make_error(ErrorKind::kParse, path + ".base64: " + d.error().message);
    return *d;
  }
  return make_error(ErrorKind::kType, path + ": expected a string or {\"base64\": string}");
}

Json headers_json(const model::Headers& h) {
  Json out = Json::array();
  for (const auto& [k, v] : h.entries) out.push_back(Json::array({text_json(k), text_json(v)}));
  return out;
}

Result<model::Headers> headers_from(const Json& j, const std::string& path) {
  model::Headers h;
  if (!j.is_array()) return make_error(ErrorKind::kType, path + ": expected an array of pairs");
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!j[i].is_array() || j[i].size() != 2) {
      return make_error(ErrorKind::kType, p + ": expected [name, value]");
    }
    auto k = text_from(j[i][0], p + "[0]");
    if (!k.ok()) return k.error();
    auto v = text_from(j[i][1], p + "[1]");
    if (!v.ok()) return v.error();
    h.entries.emplace_back(std::move(*k), std::move(*v));
  }
  return h;
}

Result<std::int64_t> int_member(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) return make_error(ErrorKind::kMissing, path + "." + key + ": required");
  if (!it->is_number_integer()) {
    return make_error(ErrorKind::kType, path + "." + key + ": expected an integer");
  }
  return it->get<std::int64_t>();
}

Result<std::string> text_member(const Json& obj, const char* key, const std::string& path,
                                bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return make_error(ErrorKind::kMissing, path + "." + key + ": required");
    return std::string();
  }
  return text_from(*it, path + "." + key);
}

Result<Operation> operation_from(const Json& j, const std::string& path) {
  if (!j.is_object()) return make_error(ErrorKind::kType, path + ": expected an object");
  Operation op;
  auto client = int_member(j, "client", path);
  if (!client.ok()) return client.error();
  if (*client < 0 || *client > 1'000'000) {
    return make_error(ErrorKind::kInvalid, path + ".client: expected 0..1000000");
  }
  op.client = static_cast<int>(*client);
  auto inv = int_member(j, "invoke_ns", path);
  if (!inv.ok()) return inv.error();
  auto resp = int_member(j, "response_ns", path);
  if (!resp.ok()) return resp.error();
  if (*resp < *inv) {
    return make_error(ErrorKind::kInvalid, path + ": response_ns " + std::to_string(*resp) +
                                               " is before invoke_ns " + std::to_string(*inv));
  }
  op.invoke_ns = *inv;
  op.response_ns = *resp;
  auto at_it = j.find("at");
  if (at_it == j.end()) return make_error(ErrorKind::kMissing, path + ".at: required");
  if (!at_it->is_string()) return make_error(ErrorKind::kType, path + ".at: expected a string");
  auto at = model::parse_rfc3339(at_it->get<std::string>());
  if (!at.ok()) return make_error(at.error().kind, path + ".at: " + at.error().message);
  op.at = *at;
  auto command = text_member(j, "command", path, false);
  if (!command.ok()) return command.error();
  op.command = std::move(*command);

  auto rq = j.find("request");
  if (rq == j.end()) return make_error(ErrorKind::kMissing, path + ".request: required");
  if (!rq->is_object()) return make_error(ErrorKind::kType, path + ".request: expected an object");
  const std::string rqp = path + ".request";
  auto method = text_member(*rq, "method", rqp, true);
  if (!method.ok()) return method.error();
  auto rpath = text_member(*rq, "path", rqp, true);
  if (!rpath.ok()) return rpath.error();
  auto query = text_member(*rq, "query", rqp, false);
  if (!query.ok()) return query.error();
  auto body = text_member(*rq, "body", rqp, false);
  if (!body.ok()) return body.error();
  op.request.method = std::move(*method);
  op.request.path = std::move(*rpath);
  op.request.query = std::move(*query);
  op.request.body = std::move(*body);
  if (auto h = rq->find("headers"); h != rq->end()) {
    auto headers = headers_from(*h, rqp + ".headers");
    if (!headers.ok()) return headers.error();
    op.request.headers = std::move(*headers);
  }

  auto rs = j.find("response");
  if (rs == j.end()) return make_error(ErrorKind::kMissing, path + ".response: required");
  if (!rs->is_object()) {
    return make_error(ErrorKind::kType, path + ".response: expected an object");
  }
  const std::string rsp = path + ".response";
  auto status = int_member(*rs, "status", rsp);
  if (!status.ok()) return status.error();
  if (*status < 0 || *status > 999) {
    return make_error(ErrorKind::kInvalid, rsp + ".status: expected 0..999");
  }
  op.response.status = static_cast<int>(*status);
  auto rbody = text_member(*rs, "body", rsp, false);
  if (!rbody.ok()) return rbody.error();
  op.response.body = std::move(*rbody);
  if (auto h = rs->find("headers"); h != rs->end()) {
    auto headers = headers_from(*h, rsp + ".headers");
    if (!headers.ok()) return headers.error();
    op.response.headers = std::move(*headers);
  }
  return op;
}

// ---- redaction ------------------------------------------------------------------------------

bool jwt_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Learns every credential of a history and replaces each with the same placeholder everywhere.
class HistoryRedactor {
 public:
  explicit HistoryRedactor(const History& h) {
    for (const auto& a : h.fixture.accounts) {
      if (!a.password.empty() && a.password.find("<<patrol:") == std::string::npos) {
        passwords_.emplace_back(a.password, "<<patrol:password:" + a.username + ">>");
      }
      if (a.second_factor_code && !a.second_factor_code->empty() &&
          a.second_factor_code->find("<<patrol:") == std::string::npos) {
        codes_.emplace_back(*a.second_factor_code, "<<patrol:code:" + a.username + ">>");
      }
    }
    // Longer passwords first, so one that contains another is replaced whole.
    auto by_length = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
    std::sort(passwords_.begin(), passwords_.end(), by_length);
    std::sort(codes_.begin(), codes_.end(), by_length);

    for (const auto& op : h.operations) {
      const Route route = model::classify(op.request);
      auto body = json_of(op.response.body);
      if (route == Route::kCreate && op.response.status == 201) {
        if (auto secret = string_member(body, "token"); secret && !secret->empty()) {
          add_long(*secret, "secret");
        }
      }
      if (route == Route::kLogin) {
        if (auto t = string_member(body, "login_2fa_token"); t && !t->empty()) add_long(*t, "2fa");
      }
      for (const auto& [k, v] : op.request.headers.entries) learn_jwts(v);
      for (const auto& [k, v] : op.response.headers.entries) learn_jwts(v);
      learn_jwts(op.request.body);
      learn_jwts(op.response.body);
      learn_jwts(op.request.query);
    }
    std::sort(long_.begin(), long_.end(), by_length);
  }

  // Replaces every learned secret, JWT and login_2fa_token in a text.
  std::string text(std::string_view in) const {
    std::string out(in);
    for (const auto& [from, to] : long_) replace_all(out, from, to);
    return out;
  }

  History apply(const History& h) const {
    History out = h;
    for (auto& a : out.fixture.accounts) {
      a.password = password_text(a.password);
      if (a.second_factor_code) {
        for (const auto& [from, to] : codes_) {
          if (*a.second_factor_code == from) a.second_factor_code = to;
        }
      }
    }
    for (auto& op : out.operations) {
      op.command = text(op.command);
      redact_request(op.request);
      op.response.body = text(op.response.body);
      for (auto& [k, v] : op.response.headers.entries) v = text(v);
    }
    return out;
  }

 private:
  static void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
      s.replace(p, from.size(), to);
    }
  }

  std::string password_text(std::string_view in) const {
    std::string out(in);
    for (const auto& [from, to] : passwords_) replace_all(out, from, to);
    return out;
  }

  void add_long(const std::string& value, const char* kind) {
    if (value.find("<<patrol:") != std::string::npos || seen_.count(value)) return;
    seen_.insert(value);
    std::string label = "<<patrol:" + std::string(kind) + ":" + std::to_string(++count_) + ">>";
    if (std::string_view(kind) == "secret" && value.rfind("dckr_pat_", 0) == 0) {
      label = "dckr_pat_" + label;
    }
    long_.emplace_back(value, std::move(label));
  }

  void learn_jwts(std::string_view text) {
    for (std::size_t p = text.find("eyJ"); p != std::string_view::npos; p = text.find("eyJ", p)) {
      std::size_t e = p;
      while (e < text.size() && jwt_char(text[e])) ++e;
      std::string_view run = text.substr(p, e - p);
      if (model::looks_like_jwt(run) && !seen_.count(std::string(run))) {
        const std::size_t second = run.rfind('.');
        // Header and claims stay readable; the signature becomes the recorder's placeholder.
        seen_.insert(std::string(run));
        long_.emplace_back(std::string(run), std::string(run.substr(0, second + 1)) +
                                                 "<<patrol:jwt:" + std::to_string(++count_) + ">>");
      }
      p = e;
    }
  }

  // Passwords and codes only where credentials travel: Basic credentials and the credential
  // members of JSON bodies (a short code could otherwise match inside a uuid).
  void redact_request(HttpRequest& r) const {
    for (auto& [k, v] : r.headers.entries) {
      if (iequals(k, "Authorization")) {
        std::string_view t = trim(v);
        if (t.size() > 6 && iequals(t.substr(0, 6), "Basic ")) {
          auto decoded = model::base64_decode(trim(t.substr(6)));
          if (decoded.ok()) {
            auto colon = decoded->find(':');
            if (colon != std::string::npos) {
              std::string secret = text(password_text(decoded->substr(colon + 1)));
              v = "Basic " + model::base64_encode(decoded->substr(0, colon + 1) + secret);
              continue;
            }
          }
        }
      }
      v = text(v);
    }
    r.path = text(r.path);
    r.query = text(r.query);
    auto body = json_of(r.body);
    bool changed = false;
    if (body && body->is_object()) {
      for (const char* key : {"password", "secret", "code"}) {
        auto it = body->find(key);
        if (it == body->end() || !it->is_string()) continue;
        std::string value = it->get<std::string>();
        std::string redacted = password_text(value);
        if (std::string_view(key) == "code") {
          for (const auto& [from, to] : codes_) {
            if (value == from) redacted = to;
          }
        }
        if (redacted != value) {
          *it = redacted;
          changed = true;
        }
      }
    }
    if (changed) {
      r.body = body->dump();
    } else if (!body) {
      // Not JSON: passwords may still sit in it; replace them textually.
      r.body = password_text(r.body);
    }
    r.body = text(r.body);
  }

  std::vector<std::pair<std::string, std::string>> passwords_;
  std::vector<std::pair<std::string, std::string>> codes_;
  std::vector<std::pair<std::string, std::string>> long_;
  std::unordered_set<std::string> seen_;
  int count_ = 0;
};

// ---- analysis: which part an operation belongs to -------------------------------------------

enum class OpKind : std::uint8_t {
  kNone,         // the account's operations that touch no token (failed creates, R1 passwords)
  kToken,        // touches one token only
  kAccountWide,  // reads every token of the account (E2)
  kLogin,        // issues a session JWT or a login_2fa_token; depends on no token
};

struct OpInfo {
  Route route = Route::kOther;
  OpKind kind = OpKind::kNone;
  std::string account;
  std::string token;
  std::optional<std::size_t> jwt_issuer;  // the operation that issued the bearer JWT
  std::string used_2fa;                   // login_2fa_token redeemed (2FA login)
  std::vector<std::string> issued;        // JWTs and login_2fa_tokens from the response
};

class Analysis {
 public:
  explicit Analysis(const History& h) : h_(h), info_(h.operations.size()) {
    const auto& ops = h.operations;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      OpInfo& in = info_[i];
      in.route = model::classify(ops[i].request);
      const auto& rs = ops[i].response;
      const bool ok = rs.status >= 200 && rs.status < 300;
      // Only creates and logins issue anything: other bodies (pages above all) are not parsed.
      const bool issues = (in.route == Route::kCreate && rs.status == 201) ||
                          (is_login_route(in.route) && ok) ||
                          (in.route == Route::kLogin && rs.status == 401);
      if (!issues) continue;
      auto body = json_of(rs.body);
      if (in.route == Route::kCreate && rs.status == 201) {
        auto secret = string_member(body, "token");
        auto uuid = string_member(body, "uuid");
        if (secret && uuid && !secret->empty()) secret_token_.emplace(*secret, lower(*uuid));
      }
      if (is_login_route(in.route) && ok) {
        for (const char* key : {"access_token", "token"}) {
          if (auto jwt = string_member(body, key); jwt && !jwt->empty()) {
            jwt_issuer_.emplace(*jwt, i);
            in.issued.push_back(*jwt);
          }
        }
      }
      if (in.route == Route::kLogin && rs.status == 401) {
        if (auto t = string_member(body, "login_2fa_token"); t && !t->empty()) {
          twofa_issuer_.emplace(*t, i);
          in.issued.push_back(*t);
        }
      }
    }
    state_.assign(ops.size(), 0);
    for (std::size_t i = 0; i < ops.size(); ++i) resolve(i);
  }

  const OpInfo& info(std::size_t i) const { return info_[i]; }
  std::size_t size() const { return info_.size(); }

  // The parts, smallest first; `split` false gives the whole history as one part.
  std::vector<HistoryPart> parts(bool split) const {
    std::vector<HistoryPart> out;
    const auto& ops = h_.operations;
    auto by_invoke = [&](std::vector<std::size_t>& v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      std::stable_sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) {
        return ops[a].invoke_ns < ops[b].invoke_ns;
      });
    };
    if (!split) {
      HistoryPart p{"whole history", {}};
      for (std::size_t i = 0; i < ops.size(); ++i) p.operations.push_back(i);
      by_invoke(p.operations);
      if (!p.operations.empty()) out.push_back(std::move(p));
      return out;
    }
    struct AccountOps {
      bool wide = false;
      std::vector<std::size_t> all;
      std::vector<std::size_t> none;
      std::vector<std::size_t> logins;
      std::map<std::string, std::vector<std::size_t>> tokens;
    };
    std::map<std::string, AccountOps> accounts;
    for (std::size_t i = 0; i < info_.size(); ++i) {
      const OpInfo& in = info_[i];
      AccountOps& a = accounts[in.account];
      a.all.push_back(i);
      switch (in.kind) {
        case OpKind::kAccountWide:
          a.wide = true;
          break;
        case OpKind::kToken:
          a.tokens[in.token].push_back(i);
          break;
        case OpKind::kLogin:
          a.logins.push_back(i);
          break;
        case OpKind::kNone:
          a.none.push_back(i);
          break;
      }
    }
    for (auto& [name, a] : accounts) {
      const std::string label = name.empty() ? "no account" : "account " + name;
      if (a.wide || a.tokens.empty()) {
        HistoryPart p{label, a.all};
        by_invoke(p.operations);
        out.push_back(std::move(p));
        continue;
      }
      for (auto& [token, list] : a.tokens) {
        HistoryPart p{label + ", token " + short_key(token), list};
        add_needed_logins(p.operations);
        by_invoke(p.operations);
        out.push_back(std::move(p));
      }
      HistoryPart rest{label + ", logins and operations on no token", a.none};
      rest.operations.insert(rest.operations.end(), a.logins.begin(), a.logins.end());
      if (!rest.operations.empty()) {
        by_invoke(rest.operations);
        out.push_back(std::move(rest));
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const HistoryPart& a, const HistoryPart& b) {
      return a.operations.size() < b.operations.size();
    });
    return out;
  }

  // Adds the login operations that `ops` depend on: issuers of the bearer JWTs they use, and for
  // a second-factor login the A2 that issued its login_2fa_token and every other redemption of it.
  void add_needed_logins(std::vector<std::size_t>& ops) const {
    std::set<std::size_t> have(ops.begin(), ops.end());
    std::vector<std::size_t> todo(ops.begin(), ops.end());
    while (!todo.empty()) {
      const std::size_t i = todo.back();
      todo.pop_back();
      const OpInfo& in = info_[i];
      auto add = [&](std::size_t j) {
        if (info_[j].kind == OpKind::kLogin && have.insert(j).second) {
          ops.push_back(j);
          todo.push_back(j);
        }
      };
      if (in.jwt_issuer) add(*in.jwt_issuer);
      if (!in.used_2fa.empty()) {
        if (auto it = twofa_issuer_.find(in.used_2fa); it != twofa_issuer_.end()) add(it->second);
        for (std::size_t j = 0; j < info_.size(); ++j) {
          if (info_[j].used_2fa == in.used_2fa) add(j);
        }
      }
    }
  }

  // True when no other operation in `ops` uses what operation `i` issued.
  bool issues_nothing_used(std::size_t i, const std::vector<std::size_t>& ops) const {
    for (std::size_t j : ops) {
      if (j == i) continue;
      if (info_[j].jwt_issuer && *info_[j].jwt_issuer == i) return false;
      if (!info_[j].used_2fa.empty()) {
        for (const auto& v : info_[i].issued) {
          if (v == info_[j].used_2fa) return false;
        }
      }
    }
    return true;
  }

 private:
  void resolve(std::size_t i) {
    if (state_[i] == 2) return;
    if (state_[i] == 1) return;  // a cycle of issuers: leave the account as found so far
    state_[i] = 1;
    OpInfo& in = info_[i];
    const HttpRequest& rq = h_.operations[i].request;
    const HttpResponse& rs = h_.operations[i].response;
    // Only the login routes read their request body.
    auto body = is_login_route(in.route) ? json_of(rq.body) : std::nullopt;
    std::optional<std::string> pat_token;  // token whose PAT issued the bearer JWT

    if (auto bearer = bearer_of(rq)) {
      if (auto it = jwt_issuer_.find(*bearer); it != jwt_issuer_.end() && it->second != i) {
        resolve(it->second);
        in.jwt_issuer = it->second;
        const OpInfo& issuer = info_[it->second];
        in.account = issuer.account;
        if (issuer.kind == OpKind::kToken) pat_token = issuer.token;
      } else if (auto jwt = model::decode_jwt(*bearer); jwt.ok()) {
        if (jwt->claims.username) {
          in.account = *jwt->claims.username;
        } else if (jwt->claims.sub) {
          in.account = *jwt->claims.sub;
        }
      }
    } else if (auto basic = basic_of(rq)) {
      in.account = basic->first;
    }

    std::optional<std::string> credential;
    switch (in.route) {
      case Route::kAuthToken:
        if (auto id = string_member(body, "identifier")) in.account = *id;
        credential = string_member(body, "secret");
        break;
      case Route::kLogin:
        if (auto user = string_member(body, "username")) in.account = *user;
        credential = string_member(body, "password");
        break;
      case Route::kTwoFactorLogin:
        if (auto t = string_member(body, "login_2fa_token")) {
          in.used_2fa = *t;
          if (auto it = twofa_issuer_.find(*t); it != twofa_issuer_.end() && it->second != i) {
            resolve(it->second);
            in.account = info_[it->second].account;
          }
        }
        break;
      case Route::kRegistry:
        if (auto basic = basic_of(rq)) credential = basic->second;
        break;
      default:
        break;
    }

    if (pat_token) {
      in.kind = OpKind::kToken;
      in.token = *pat_token;
    } else {
      switch (in.route) {
        case Route::kList:
          in.kind = OpKind::kAccountWide;
          break;
        case Route::kCreate: {
          auto uuid = rs.status == 201 ? string_member(json_of(rs.body), "uuid") : std::nullopt;
          if (uuid && !uuid->empty()) {
            in.kind = OpKind::kToken;
            in.token = lower(*uuid);
          }
          break;
        }
        case Route::kGet:
        case Route::kPatch:
        case Route::kDelete:
          in.kind = OpKind::kToken;
          in.token = item_key(rq);
          break;
        case Route::kAuthToken:
        case Route::kLogin:
          if (credential && secret_token_.count(*credential)) {
            in.kind = OpKind::kToken;
            in.token = secret_token_.at(*credential);
          } else {
            in.kind = OpKind::kLogin;
          }
          break;
        case Route::kTwoFactorLogin:
          in.kind = OpKind::kLogin;
          break;
        case Route::kRegistry:
          if (credential && secret_token_.count(*credential)) {
            in.kind = OpKind::kToken;
            in.token = secret_token_.at(*credential);
          }
          break;
        default:
          break;
      }
    }
    state_[i] = 2;
  }

  const History& h_;
  std::vector<OpInfo> info_;
  std::vector<std::uint8_t> state_;
  std::unordered_map<std::string, std::string> secret_token_;
  std::unordered_map<std::string, std::size_t> jwt_issuer_;
  std::unordered_map<std::string, std::size_t> twofa_issuer_;
};

// ---- the search -----------------------------------------------------------------------------

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Resident memory of the process in bytes (0 where /proc is unavailable).
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// An estimate of what one copy of a state occupies, from its counts alone (cheap enough to
// take at every snapshot; calibrated against the resident size in bench/).
std::size_t state_bytes(const model::ModelState& s) {
  return 4096 + s.token_count() * 448 + s.secret_count() * 160 + s.jwt_count() * 800 +
         s.two_factor_count() * 192;
}

std::uint64_t text_hash(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
  return splitmix(h ^ s.size());
}

std::uint64_t time_hash(const std::optional<model::Timestamp>& t) {
  return t ? static_cast<std::uint64_t>(t->micros) : 0x8000000000000001ULL;
}

// The logical state, compared up to the order in which the model learned tokens, secrets and
// JWTs: two concurrent creates linearized either way leave states that judge every later
// exchange alike, and must meet in the memo. The fingerprint is a sum of one hash per token,
// secret, JWT and login_2fa_token, so it is maintained incrementally.
struct Canon {
  static std::uint64_t token(const model::TokenView& t, const model::detail::TokenRec& rec) {
    std::uint64_t h = text_hash(t.uuid);
    h = splitmix(h ^ text_hash(t.label));
    h = splitmix(h ^ text_hash(t.secret));
    h = splitmix(h ^ text_hash(t.owner));
    h = splitmix(h ^ static_cast<std::uint64_t>(t.created_at.micros));
    h = splitmix(h ^ time_hash(t.expires_at));
    h = splitmix(h ^ time_hash(t.last_used));
    h = splitmix(h ^ (std::uint64_t{t.is_active} | std::uint64_t{t.deleted} << 1 |
                      std::uint64_t{t.used} << 2 | std::uint64_t{t.scopes_absent} << 3 |
                      static_cast<std::uint64_t>(t.scope) << 8));
    const auto& info = rec.info;
    h = splitmix(h ^ (std::uint64_t{info[0]} << 32 | info[1]));
    return splitmix(h ^ (std::uint64_t{info[2]} << 32 | info[3]));
  }
  static std::uint64_t secret(const model::ModelState& s, std::uint32_t i) {
    return splitmix(text_hash(s.secret_text(i)) ^ 0x5EC);
  }
  static std::uint64_t jwt(const model::ModelState& s, std::uint32_t i) {
    const model::JwtView j = s.jwt(i);
    std::uint64_t h = text_hash(j.text);
    h = splitmix(h ^ time_hash(j.expires_at));
    h = splitmix(h ^ static_cast<std::uint64_t>(j.kind) ^ (std::uint64_t{j.account_index} << 8));
    if (j.pat != model::kNoIndex) h = splitmix(h ^ text_hash(s.token(j.pat).uuid));
    return h;
  }
  static std::uint64_t two_factor(const model::ModelState& s, std::uint32_t i, bool redeemed) {
    return splitmix(text_hash(s.two_factor_text(i)) ^ (redeemed ? 3 : 2) ^
                    (std::uint64_t{s.two_factor(i).account} << 8) ^
                    (static_cast<std::uint64_t>(s.two_factor(i).issued) << 16));
  }
  static std::uint64_t clock(model::Timestamp last_seen) {
    return splitmix(static_cast<std::uint64_t>(last_seen.micros) ^ 0xC10C);
  }

  static std::uint64_t full(const model::ModelState& s) {
    std::uint64_t sum = clock(s.last_seen());
    for (std::uint32_t i = 0; i < s.token_count(); ++i) sum += token(s.token(i), s.rec(i));
    for (std::uint32_t i = 0; i < s.secret_count(); ++i) sum += secret(s, i);
    for (std::uint32_t i = 0; i < s.jwt_count(); ++i) sum += jwt(s, i);
    for (std::uint32_t i = 0; i < s.two_factor_count(); ++i) {
      sum += two_factor(s, i, s.two_factor(i).redeemed);
    }
    return sum;
  }

  // Equality up to learning order: same tokens (by uuid, every field), secrets, JWTs,
  // login_2fa_tokens and clock.
  static bool equal(const model::ModelState& a, const model::ModelState& b) {
    if (a.last_seen() != b.last_seen() || a.token_count() != b.token_count() ||
        a.secret_count() != b.secret_count() || a.jwt_count() != b.jwt_count() ||
        a.two_factor_count() != b.two_factor_count() || !(a.fixture() == b.fixture())) {
      return false;
    }
    for (std::uint32_t i = 0; i < a.token_count(); ++i) {
      const model::TokenView x = a.token(i);
      auto j = b.find_token(x.uuid);
      if (!j) return false;
      const model::TokenView y = b.token(*j);
      if (x.label != y.label || x.secret != y.secret || x.owner != y.owner ||
          x.created_at != y.created_at || x.expires_at != y.expires_at ||
          x.last_used != y.last_used || x.is_active != y.is_active || x.deleted != y.deleted ||
          x.used != y.used || x.scopes_absent != y.scopes_absent || x.scope != y.scope ||
          !std::equal(std::begin(a.rec(i).info), std::end(a.rec(i).info),
                      std::begin(b.rec(*j).info))) {
        return false;
      }
    }
    for (std::uint32_t i = 0; i < a.secret_count(); ++i) {
      if (!b.is_secret(a.secret_text(i))) return false;
    }
    for (std::uint32_t i = 0; i < a.jwt_count(); ++i) {
      const model::JwtView x = a.jwt(i);
      auto j = b.find_jwt(x.text);
      if (!j) return false;
      const model::JwtView y = b.jwt(*j);
      if (x.kind != y.kind || x.account_index != y.account_index || x.expires_at != y.expires_at ||
          (x.pat == model::kNoIndex) != (y.pat == model::kNoIndex) ||
          (x.pat != model::kNoIndex && a.token(x.pat).uuid != b.token(y.pat).uuid)) {
        return false;
      }
    }
    for (std::uint32_t i = 0; i < a.two_factor_count(); ++i) {
      auto j = b.find_two_factor(a.two_factor_text(i));
      if (!j) return false;
      const auto& x = a.two_factor(i);
      const auto& y = b.two_factor(*j);
      if (x.redeemed != y.redeemed || x.account != y.account || x.issued != y.issued) {
        return false;
      }
    }
    return true;
  }
};

// Time and memory shared by every search of one check.
struct Budget {
  std::chrono::steady_clock::time_point deadline;
  std::size_t memory_limit = 0;
  std::size_t rss_start = 0;
  std::string reason;

  bool out_of_time() {
    if (std::chrono::steady_clock::now() < deadline) return false;
    if (reason.empty()) reason = "the time limit was reached";
    return true;
  }
  bool out_of_memory(std::size_t working) {
    if (working > memory_limit) {
      if (reason.empty()) reason = "the memory limit was reached";
      return true;
    }
    return false;
  }
  bool rss_exceeded() {
    const std::size_t rss = resident_bytes();
    if (rss != 0 && rss > rss_start && rss - rss_start > memory_limit) {
      if (reason.empty()) reason = "the memory limit was reached";
      return true;
    }
    return false;
  }
};

// A hash set of 128-bit keys (state fingerprint, linearized-set hash) with open addressing.
class KeySet {
 public:
  KeySet() : slots_(1024, Slot{0, 0}) {}
  // Returns false when the key was present.
  bool insert(std::uint64_t a, std::uint64_t b) {
    if (a == 0 && b == 0) b = 1;  // (0, 0) marks an empty slot
    if ((count_ + 1) * 2 > slots_.size()) grow();
    return place(a, b);
  }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    std::uint64_t a;
    std::uint64_t b;
  };
  bool place(std::uint64_t a, std::uint64_t b) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = splitmix(a ^ (b * 0x9E3779B97F4A7C15ULL)) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.a == 0 && s.b == 0) {
        s = Slot{a, b};
        ++count_;
        return true;
      }
      if (s.a == a && s.b == b) return false;
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{0, 0});
    old.swap(slots_);
    count_ = 0;
    for (const Slot& s : old) {
      if (s.a != 0 || s.b != 0) place(s.a, s.b);
    }
  }
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

// Lowe's just-in-time linearization over one part of a history. Configurations (linearized
// set, state) already explored are memoised: the fast mode by 128-bit keys (state fingerprint,
// set hash), the exact mode also by the set itself and the state (Canon::equal), so a "no" from
// it cannot come from a hash collision.
class Search {
 public:
  // `diagnose` records the furthest explanation and the oracle's reason where it got stuck.
  Search(const History& h, std::vector<std::size_t> ops, const model::ModelState& initial,
         std::uint64_t initial_fp, const model::Profile& profile, Budget& budget, bool exact,
         bool diagnose)
      : h_(h),
        ops_(std::move(ops)),
        initial_fp_(initial_fp),
        profile_(profile),
        budget_(budget),
        exact_(exact),
        diagnose_(diagnose || exact),
        cur_(initial) {
    cur_.start_journal();
    const std::size_t n = ops_.size();
    // Events: calls before returns at equal times (such operations count as concurrent).
    struct Ev {
      std::int64_t t;
      int ret;
      std::uint32_t k;
    };
    std::vector<Ev> ev;
    ev.reserve(2 * n);
    for (std::uint32_t k = 0; k < n; ++k) {
      ev.push_back({h.operations[ops_[k]].invoke_ns, 0, k});
      ev.push_back({h.operations[ops_[k]].response_ns, 1, k});
    }
    std::sort(ev.begin(), ev.end(), [](const Ev& a, const Ev& b) {
      if (a.t != b.t) return a.t < b.t;
      if (a.ret != b.ret) return a.ret < b.ret;
      return a.k < b.k;
    });
    const std::size_t m = 2 * n;
    op_.resize(m);
    call_.resize(m);
    match_.assign(m, kNil);
    next_.resize(m + 1);
    prev_.resize(m + 1);
    call_pos_.resize(n);
    std::vector<std::uint32_t> ret_pos(n);
    for (std::uint32_t e = 0; e < m; ++e) {
      op_[e] = ev[e].k;
      call_[e] = ev[e].ret == 0;
      if (call_[e]) {
        call_pos_[ev[e].k] = e;
      } else {
        ret_pos[ev[e].k] = e;
      }
    }
    for (std::uint32_t k = 0; k < n; ++k) match_[call_pos_[k]] = ret_pos[k];
    // A doubly linked list of the events behind a sentinel head (index m).
    head_ = static_cast<std::uint32_t>(m);
    for (std::uint32_t e = 0; e < m; ++e) {
      next_[e] = e + 1 < m ? e + 1 : kNil;
      prev_[e] = e == 0 ? head_ : e - 1;
    }
    next_[head_] = m == 0 ? kNil : 0;
    prev_[head_] = kNil;
    zobrist_.resize(n);
    for (std::uint32_t k = 0; k < n; ++k) zobrist_[k] = splitmix(0xC0FFEEULL + ops_[k] * 31 + k);
    bits_.assign((n + 63) / 64, 0);
  }

  Linearizable run() {
    if (ops_.empty()) return Linearizable::kYes;
    cur_fp_ = initial_fp_;
    std::uint32_t entry = next_[head_];
    while (next_[head_] != kNil) {
      if ((judgements_ & 63) == 0) {
        if (budget_.out_of_time() || budget_.out_of_memory(working_bytes())) {
          return Linearizable::kUnknown;
        }
        if ((judgements_ & 1023) == 0 && budget_.rss_exceeded()) return Linearizable::kUnknown;
      }
      if (call_[entry]) {
        // Try op k next: judge it in place and take it back unless it leads somewhere new.
        const std::uint32_t k = op_[entry];
        const Operation& op = h_.operations[ops_[k]];
        const model::ModelState::Mark m = cur_.mark();
        ++judgements_;
        auto v = model::judge_in_place(cur_, op.request, op.response, op.at, profile_);
        if (v.empty()) {
          const std::uint64_t fp = fingerprint_since(m);
          if (remember(k, fp)) {
            push(entry, k, fp, m);
            entry = next_[head_];
            continue;
          }
        }
        cur_.rollback(m);
        entry = next_[entry];
      } else {
        note_stuck(entry);
        if (frames_.empty()) return Linearizable::kNo;
        const Frame f = frames_.back();
        frames_.pop_back();
        const std::uint32_t k = op_[f.entry];
        bits_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
        zob_ ^= zobrist_[k];
        unlift(f.entry);
        cur_.rollback(f.mark);
        cur_fp_ = frames_.empty() ? initial_fp_ : frames_.back().fp;
        entry = next_[f.entry];
      }
    }
    return Linearizable::kYes;
  }

  // History indices of the operations invoked before the furthest point any explanation got
  // stuck at: a part that is itself unexplainable (the search on it retraces the same steps).
  std::vector<std::size_t> before_stuck() const {
    std::vector<std::size_t> out;
    for (std::uint32_t k = 0; k < ops_.size(); ++k) {
      if (call_pos_[k] < stuck_event_) out.push_back(ops_[k]);
    }
    return out;
  }
  std::size_t stuck_op() const { return ops_[op_[stuck_event_]]; }
  const std::vector<std::size_t>& explained() const { return explained_; }
  const std::vector<model::Violation>& why() const { return why_; }
  std::size_t judgements() const { return judgements_; }
  std::size_t memo_entries() const { return exact_ ? exact_entries_.size() : memo_.size(); }
  std::size_t peak_bytes() const { return peak_bytes_; }
  std::size_t size() const { return ops_.size(); }
  // Estimated size of the largest state the search held.
  std::size_t state_peak() const { return state_peak_; }

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  // One linearized operation: the state before it is cur_ rolled back to `mark`.
  struct Frame {
    std::uint32_t entry;
    std::uint64_t fp;  // fingerprint after this operation
    model::ModelState::Mark mark;
  };
  struct ExactEntry {
    std::vector<std::uint64_t> bits;
    model::ModelState state;
  };

  std::size_t working_bytes() {
    state_peak_ = std::max(state_peak_, state_bytes(cur_));
    std::size_t w = memo_.bytes() + exact_bytes_ + frames_.capacity() * sizeof(Frame) +
                    op_.size() * 16 + state_peak_ + cur_.journal_bytes();
    peak_bytes_ = std::max(peak_bytes_, w);
    return w;
  }

  // The fingerprint of cur_ from cur_fp_, its fingerprint at m: only what the journal says
  // changed since is hashed again (records are only ever appended or changed in place).
  std::uint64_t fingerprint_since(const model::ModelState::Mark& m) {
    std::uint64_t fp = cur_fp_ + Canon::clock(cur_.last_seen()) - Canon::clock(m.last_seen);
    if (++stamp_gen_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      stamp_gen_ = 1;
    }
    cur_.changes_since(
        m,
        [&](std::uint32_t i, const model::detail::TokenRec& was) {
          if (i >= stamp_.size()) stamp_.resize(std::max<std::size_t>(64, 2 * (i + 1)), 0);
          if (stamp_[i] == stamp_gen_) return;  // the first report holds the record at m
          stamp_[i] = stamp_gen_;
          const model::detail::TokenRec& now = cur_.rec(i);
          if (std::memcmp(&was, &now, sizeof was) == 0) return;
          fp += Canon::token(cur_.token(i), now) - Canon::token(cur_.token_of(i, was), was);
        },
        [&](std::uint32_t i) {
          fp += Canon::two_factor(cur_, i, true) - Canon::two_factor(cur_, i, false);
        });
    for (auto i = static_cast<std::uint32_t>(m.tokens); i < cur_.token_count(); ++i) {
      fp += Canon::token(cur_.token(i), cur_.rec(i));
    }
    for (auto i = static_cast<std::uint32_t>(m.secrets); i < cur_.secret_count(); ++i) {
      fp += Canon::secret(cur_, i);
    }
    for (auto i = static_cast<std::uint32_t>(m.jwts); i < cur_.jwt_count(); ++i) {
      fp += Canon::jwt(cur_, i);
    }
    for (auto i = static_cast<std::uint32_t>(m.two_factor); i < cur_.two_factor_count(); ++i) {
      fp += Canon::two_factor(cur_, i, cur_.two_factor(i).redeemed);
    }
    return fp;
  }

  // Records the configuration reached by linearizing op k into cur_; false if seen before.
  bool remember(std::uint32_t k, std::uint64_t fp) {
    const std::uint64_t zob = zob_ ^ zobrist_[k];
    if (!exact_) return memo_.insert(fp, zob);
    bits_[k / 64] |= std::uint64_t{1} << (k % 64);
    auto& bucket = exact_index_[fp ^ splitmix(zob)];
    bool fresh = true;
    for (std::uint32_t idx : bucket) {
      const ExactEntry& e = exact_entries_[idx];
      if (e.bits == bits_ && Canon::equal(e.state, cur_)) {
        fresh = false;
        break;
      }
    }
    if (fresh) {
      bucket.push_back(static_cast<std::uint32_t>(exact_entries_.size()));
      exact_entries_.push_back({bits_, cur_});  // the copy leaves the journal behind
      exact_bytes_ += bits_.size() * 8 + state_bytes(cur_) + 96;
    }
    bits_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
    return fresh;
  }

  // Linearizes op k, judged into cur_ since mark m.
  void push(std::uint32_t entry, std::uint32_t k, std::uint64_t fp,
            const model::ModelState::Mark& m) {
    cur_fp_ = fp;
    frames_.push_back({entry, fp, m});
    bits_[k / 64] |= std::uint64_t{1} << (k % 64);
    zob_ ^= zobrist_[k];
    lift(entry);
  }

  void lift(std::uint32_t e) {
    next_[prev_[e]] = next_[e];
    if (next_[e] != kNil) prev_[next_[e]] = prev_[e];
    const std::uint32_t r = match_[e];
    next_[prev_[r]] = next_[r];
    if (next_[r] != kNil) prev_[next_[r]] = prev_[r];
  }

  void unlift(std::uint32_t e) {
    const std::uint32_t r = match_[e];
    next_[prev_[r]] = r;
    if (next_[r] != kNil) prev_[next_[r]] = r;
    next_[prev_[e]] = e;
    if (next_[e] != kNil) prev_[next_[e]] = e;
  }

  void note_stuck(std::uint32_t entry) {
    if (have_stuck_ && entry <= stuck_event_) return;
    have_stuck_ = true;
    stuck_event_ = entry;
    if (!diagnose_) return;
    explained_.clear();
    for (const Frame& f : frames_) explained_.push_back(ops_[op_[f.entry]]);
    const Operation& op = h_.operations[ops_[op_[entry]]];
    const model::ModelState::Mark m = cur_.mark();
    why_ = model::judge_in_place(cur_, op.request, op.response, op.at, profile_);
    cur_.rollback(m);
  }

  const History& h_;
  std::vector<std::size_t> ops_;
  std::uint64_t initial_fp_;
  const model::Profile& profile_;
  Budget& budget_;
  bool exact_;
  bool diagnose_;

  std::vector<std::uint32_t> op_;
  std::vector<bool> call_;
  std::vector<std::uint32_t> match_, next_, prev_, call_pos_;
  std::uint32_t head_ = 0;
  std::vector<std::uint64_t> zobrist_;
  std::vector<std::uint64_t> bits_;
  std::uint64_t zob_ = 0;

  model::ModelState cur_;  // journaled: backtracking rolls it back
  std::uint64_t cur_fp_ = 0;
  std::vector<Frame> frames_;
  std::vector<std::uint32_t> stamp_;
  std::uint32_t stamp_gen_ = 0;

  KeySet memo_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> exact_index_;
  std::vector<ExactEntry> exact_entries_;
  std::size_t exact_bytes_ = 0;

  std::size_t judgements_ = 0;
  std::size_t peak_bytes_ = 0;
  std::size_t state_peak_ = 0;
  bool have_stuck_ = false;
  std::uint32_t stuck_event_ = 0;
  std::vector<std::size_t> explained_;
  std::vector<model::Violation> why_;
};

}  // namespace

// ---- public: codec, redaction, split ----------------------------------------------------------

Result<History> decode_history(const Json& j) {
  if (!j.is_object()) return make_error(ErrorKind::kType, "history: expected a JSON object");
  History h;
  if (auto it = j.find("format"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>() != kHistoryFormat) {
      return make_error(ErrorKind::kInvalid,
                        "format: expected \"" + std::string(kHistoryFormat) + "\"");
    }
  }
  if (auto it = j.find("profile"); it != j.end()) {
    if (!it->is_string()) return make_error(ErrorKind::kType, "profile: expected a string");
    h.profile = it->get<std::string>();
  }
  if (auto it = j.find("fixture"); it != j.end()) {
    auto f = model::decode_fixture(*it);
    if (!f.ok()) return make_error(f.error().kind, "fixture: " + f.error().message);
    h.fixture = std::move(*f);
  }
  if (auto it = j.find("start"); it != j.end()) {
    if (!it->is_string()) return make_error(ErrorKind::kType, "start: expected a string");
    auto t = model::parse_rfc3339(it->get<std::string>());
    if (!t.ok()) return make_error(t.error().kind, "start: " + t.error().message);
    h.start = *t;
  }
  auto ops = j.find("operations");
  if (ops == j.end()) return make_error(ErrorKind::kMissing, "operations: required");
  if (!ops->is_array()) return make_error(ErrorKind::kType, "operations: expected an array");
  h.operations.reserve(ops->size());
  for (std::size_t i = 0; i < ops->size(); ++i) {
    auto op = operation_from((*ops)[i], "operations[" + std::to_string(i) + "]");
    if (!op.ok()) return op.error();
    h.operations.push_back(std::move(*op));
  }
  // One client issues one request at a time.
  std::map<int, std::vector<std::size_t>> by_client;
  for (std::size_t i = 0; i < h.operations.size(); ++i) {
    by_client[h.operations[i].client].push_back(i);
  }
  for (auto& [client, list] : by_client) {
    std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
      return h.operations[a].invoke_ns < h.operations[b].invoke_ns;
    });
    for (std::size_t k = 1; k < list.size(); ++k) {
      const auto& prev = h.operations[list[k - 1]];
      const auto& next = h.operations[list[k]];
      if (next.invoke_ns < prev.response_ns) {
        return make_error(ErrorKind::kInvalid,
                          "operations[" + std::to_string(list[k]) + "] starts before operations[" +
                              std::to_string(list[k - 1]) + "] of the same client " +
                              std::to_string(client) +
                              " has its response; one client's operations are sequential");
      }
    }
  }
  return h;
}

Result<History> parse_history(std::string_view text) {
  auto j = model::parse_json(text);
  if (!j.ok()) return j.error();
  return decode_history(*j);
}

Json encode_history(const History& h) {
  Json ops = Json::array();
  for (const auto& op : h.operations) {
    Json rq = {{"method", text_json(op.request.method)},
               {"path", text_json(op.request.path)},
               {"query", text_json(op.request.query)},
               {"headers", headers_json(op.request.headers)},
               {"body", text_json(op.request.body)}};
    Json rs = {{"status", op.response.status},
               {"headers", headers_json(op.response.headers)},
               {"body", text_json(op.response.body)}};
    Json o = {{"client", op.client},           {"invoke_ns", op.invoke_ns},
              {"response_ns", op.response_ns}, {"at", model::format_rfc3339(op.at)},
              {"request", std::move(rq)},      {"response", std::move(rs)}};
    if (!op.command.empty()) o["command"] = text_json(op.command);
    ops.push_back(std::move(o));
  }
  Json out = {{"format", std::string(kHistoryFormat)},
              {"profile", text_json(h.profile)},
              {"fixture", model::encode_fixture(h.fixture)},
              {"operations", std::move(ops)}};
  if (h.start) out["start"] = model::format_rfc3339(*h.start);
  return out;
}

History redact_history(const History& history) { return HistoryRedactor(history).apply(history); }

std::vector<HistoryPart> split_history(const History& history) {
  return Analysis(history).parts(true);
}

std::string_view to_string(Linearizable verdict) {
  switch (verdict) {
    case Linearizable::kYes:
      return "linearizable";
    case Linearizable::kNo:
      return "not linearizable";
    case Linearizable::kUnknown:
      return "unknown";
  }
  return "unknown";
}

// ---- public: the check ------------------------------------------------------------------------

namespace {

// True when dropping operation i from an unexplainable part cannot make the rest harder to
// explain: a read, a request outside the contract, or a login none of the rest depends on.
bool removable(const Analysis& a, std::size_t i, const std::vector<std::size_t>& part) {
  const OpInfo& in = a.info(i);
  switch (in.route) {
    case Route::kGet:
    case Route::kList:
    case Route::kWrongMethod:
    case Route::kOther:
      return true;
    case Route::kRegistry:
      return in.kind != OpKind::kToken;  // with a PAT it records last_used
    case Route::kAuthToken:
    case Route::kLogin:
    case Route::kTwoFactorLogin:
      return in.kind == OpKind::kLogin && a.issues_nothing_used(i, part);
    default:
      return false;
  }
}

struct Stats {
  LinearizabilityResult& out;
  void add(const Search& s) {
    out.judgements += s.judgements();
    out.memo_entries = std::max(out.memo_entries, s.memo_entries());
    out.peak_bytes = std::max(out.peak_bytes, s.peak_bytes());
  }
};

struct Confirmed {
  Linearizable verdict = Linearizable::kUnknown;
  std::optional<Counterexample> counterexample;
};

// Parts up to this size are minimised (each removal tried costs an exact search).
constexpr std::size_t kMinimiseAtMost = 200;

// A fast search said "no". The part cut at its furthest stuck point is searched again exactly
// (no hash keys); a part too large for that keeps the fast verdict, whose 128-bit keys collide
// with odds below 2^-100. Then drops what the unexplainable part does not need.
Confirmed confirm(const History& h, const Analysis& a, const HistoryPart& part, const Search& fast,
                  const model::ModelState& initial, std::uint64_t initial_fp,
                  const model::Profile& profile, Budget& budget, const CheckLimits& limits,
                  Stats& stats) {
  Budget sub = budget;  // the exact search keeps states: half the memory, then give way
  sub.reason.clear();
  sub.memory_limit = budget.memory_limit / 2;
  // It keeps one state per configuration the fast search memoised (about): skip it when that
  // cannot fit.
  const bool affordable =
      fast.memo_entries() < sub.memory_limit / std::max<std::size_t>(1, fast.state_peak());
  std::unique_ptr<Search> owned;
  const Search* best = nullptr;
  Linearizable r = Linearizable::kUnknown;
  if (affordable) {
    owned = std::make_unique<Search>(h, fast.before_stuck(), initial, initial_fp, profile, sub,
                                     /*exact=*/true, true);
    r = owned->run();
    stats.add(*owned);
    best = owned.get();
  }
  bool exact = true;
  if (r == Linearizable::kYes) {
    // The fast search's memo collided; only the exact search on the whole part may say "no".
    owned = std::make_unique<Search>(h, part.operations, initial, initial_fp, profile, budget, true,
                                     true);
    r = owned->run();
    stats.add(*owned);
    best = owned.get();
    if (r != Linearizable::kNo) return {r, std::nullopt};
  } else if (r == Linearizable::kUnknown) {
    if (budget.out_of_time()) return {Linearizable::kUnknown, std::nullopt};
    // Too large to keep every state: the fast search's own diagnosis stands (a search on the
    // operations before its stuck point would retrace the same steps to the same place).
    exact = false;
    best = &fast;
  }
  std::vector<std::size_t> ops = best->before_stuck();

  if (limits.minimise && exact && ops.size() <= kMinimiseAtMost) {
    Budget trial_budget = budget;  // minimising may give up; the verdict stands either way
    trial_budget.reason.clear();
    for (std::size_t idx = ops.size(); idx-- > 0;) {
      if (idx >= ops.size()) continue;
      const std::size_t candidate = ops[idx];
      if (candidate == best->stuck_op() || !removable(a, candidate, ops)) continue;
      std::vector<std::size_t> fewer;
      fewer.reserve(ops.size());
      for (std::size_t o : ops) {
        if (o != candidate) fewer.push_back(o);
      }
      auto trial = std::make_unique<Search>(h, std::move(fewer), initial, initial_fp, profile,
                                            trial_budget, true, true);
      const Linearizable tr = trial->run();
      stats.add(*trial);
      if (tr == Linearizable::kNo) {
        owned = std::move(trial);
        best = owned.get();
        ops = best->before_stuck();
      } else if (tr == Linearizable::kUnknown) {
        break;
      }
    }
  }
  Counterexample ce;
  ce.part = part.name;
  ce.operations = std::move(ops);
  ce.stuck = best->stuck_op();
  ce.explained = best->explained();
  ce.why = best->why();
  ce.exact = exact;
  return {Linearizable::kNo, std::move(ce)};
}

}  // namespace

LinearizabilityResult check_linearizable(const History& history, const model::Profile& profile,
                                         const CheckLimits& limits) {
  const auto t0 = std::chrono::steady_clock::now();
  LinearizabilityResult out;
  out.operations = history.operations.size();
  Budget budget;
  budget.deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(std::max(0.0, limits.time_limit_s)));
  budget.memory_limit = limits.memory_limit_bytes;
  budget.rss_start = resident_bytes();

  model::Timestamp start;
  if (history.start) {
    start = *history.start;
  } else if (!history.operations.empty()) {
    start = history.operations.front().at;
    for (const auto& op : history.operations) start = std::min(start, op.at);
  }
  const model::ModelState initial(history.fixture, start);
  const std::uint64_t initial_fp = Canon::full(initial);
  const Analysis analysis(history);
  const std::vector<HistoryPart> parts = analysis.parts(limits.split);
  out.parts = parts.size();
  Stats stats{out};

  bool unknown = false;
  for (const HistoryPart& part : parts) {
    // It diagnoses as it goes (cheap: a judgement and a copy of the path each time it gets stuck
    // further than before), so a part too large to confirm exactly needs no second search.
    Search fast(history, part.operations, initial, initial_fp, profile, budget, false, true);
    const Linearizable r = fast.run();
    stats.add(fast);
    if (r == Linearizable::kYes) {
      ++out.parts_checked;
      continue;
    }
    if (r == Linearizable::kNo) {
      Confirmed c = confirm(history, analysis, part, fast, initial, initial_fp, profile, budget,
                            limits, stats);
      if (c.verdict == Linearizable::kNo) {
        ++out.parts_checked;
        out.counterexample = std::move(c.counterexample);
        break;
      }
      if (c.verdict == Linearizable::kYes) {
        ++out.parts_checked;
        continue;
      }
    }
    unknown = true;
    out.reason = (budget.reason.empty() ? std::string("a bound was reached") : budget.reason) +
                 " while checking " + part.name + " (" + std::to_string(part.operations.size()) +
                 " operations)";
    break;
  }
  out.verdict = out.counterexample ? Linearizable::kNo
                : unknown          ? Linearizable::kUnknown
                                   : Linearizable::kYes;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

// ---- public: rendering ------------------------------------------------------------------------

namespace {

std::string one_line(std::string s, std::size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string request_text(const Operation& op, std::size_t max_body) {
  std::string s = op.request.method + " " + op.request.path;
  if (!op.request.query.empty()) s += "?" + op.request.query;
  if (!op.request.body.empty()) s += " " + one_line(op.request.body, max_body);
  return s;
}

std::string response_text(const Operation& op, std::size_t max_body) {
  std::string s = std::to_string(op.response.status);
  if (!op.response.body.empty()) s += " " + one_line(op.response.body, max_body);
  return s;
}

// A short reading of a response: the token fields a timeline reader compares, or the count and
// labels of a page, or the error message.
std::string response_digest(const Operation& op) {
  std::string s = std::to_string(op.response.status);
  auto body = json_of(op.response.body);
  if (!body || !body->is_object()) {
    if (!op.response.body.empty()) s += " " + one_line(op.response.body, 100);
    return s;
  }
  auto token_fields = [](const Json& t) {
    std::string out;
    if (auto it = t.find("token_label"); it != t.end() && it->is_string()) {
      out += "token_label=" + it->dump();
    }
    if (auto it = t.find("is_active"); it != t.end()) out += " is_active=" + it->dump();
    if (auto it = t.find("last_used"); it != t.end() && !it->is_null()) {
      out += " last_used=" + it->dump();
    }
    return out;
  };
  if (auto it = body->find("results"); it != body->end() && it->is_array()) {
    s += " count=" + body->value("count", Json()).dump() +
         " active_count=" + body->value("active_count", Json()).dump() + " [";
    std::size_t k = 0;
    for (const auto& t : *it) {
      if (k++ == 6) {
        s += ", ...";
        break;
      }
      s += (k > 1 ? ", " : "") + short_key(t.value("uuid", std::string("?"))) + " " +
           token_fields(t);
    }
    return s + "]";
  }
  if (body->contains("token_label") || body->contains("uuid")) {
    s += " {" + token_fields(*body);
    if (op.response.status == 201) s += ", secret issued";
    return s + "}";
  }
  for (const char* key : {"access_token", "token"}) {
    if (auto v = string_member(body, key); v && model::looks_like_jwt(*v)) {
      return s + " {" + key + ": a JWT}";
    }
  }
  for (const char* key : {"message", "detail", "text"}) {
    if (auto v = string_member(body, key)) return s + " " + key + ": " + one_line(*v, 100);
  }
  return s + " " + one_line(op.response.body, 100);
}

std::string millis(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e6);
  return buf;
}

// What both renderings share: the redacted operations, numbered in invocation order.
struct View {
  History h;                          // redacted
  std::vector<std::size_t> ops;       // shown: a window around the stuck operation
  std::size_t total = 0;              // operations in the counterexample
  std::map<std::size_t, int> number;  // history index -> #n
  std::vector<int> clients;
  std::int64_t t0 = 0;
  std::int64_t t1 = 0;
  std::set<std::size_t> explained;
  std::vector<std::string> why;

  // Shows at most `window` operations: those invoked just before and after the stuck one.
  View(const History& history, const Counterexample& ce, std::size_t window) {
    HistoryRedactor red(history);
    h = red.apply(history);
    ops = ce.operations;
    std::stable_sort(ops.begin(), ops.end(), [&](std::size_t a, std::size_t b) {
      return h.operations[a].invoke_ns < h.operations[b].invoke_ns;
    });
    total = ops.size();
    std::size_t at = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      number[ops[i]] = static_cast<int>(i + 1);
      if (ops[i] == ce.stuck) at = i;
    }
    if (ops.size() > window) {
      const std::size_t after = window / 4;
      std::size_t first = at + after + 1 > window ? at + after + 1 - window : 0;
      first = std::min(first, ops.size() - window);
      ops = std::vector<std::size_t>(ops.begin() + static_cast<std::ptrdiff_t>(first),
                                     ops.begin() + static_cast<std::ptrdiff_t>(first + window));
    }
    std::set<int> cs;
    for (std::size_t i : ops) cs.insert(h.operations[i].client);
    clients.assign(cs.begin(), cs.end());
    if (!ops.empty()) {
      t0 = h.operations[ops.front()].invoke_ns;
      t1 = t0;
      for (std::size_t i : ops) t1 = std::max(t1, h.operations[i].response_ns);
    }
    explained.insert(ce.explained.begin(), ce.explained.end());
    for (const auto& v : ce.why) {
      why.push_back("contract " + v.rule + ": " + red.text(v.message) +
                    (v.excerpt.empty() ? "" : "\n      " + red.text(v.excerpt)));
    }
  }
  std::string num(std::size_t i) const {
    auto it = number.find(i);
    return it == number.end() ? "?" : "#" + std::to_string(it->second);
  }
  // "showing #a..#b of N" when the window hides some.
  std::string shown() const {
    if (ops.size() == total || ops.empty()) return "";
    return "showing " + num(ops.front()) + ".." + num(ops.back()) + " of " + std::to_string(total) +
           " operations, around the one no explanation places";
  }
  // The explanation's last operations (a long one is cut at the front).
  std::string explanation(const Counterexample& ce) const {
    if (ce.explained.empty()) return "(none: the first operations already fail)";
    std::string out;
    std::size_t from = ce.explained.size() > 12 ? ce.explained.size() - 12 : 0;
    if (from > 0) out = "(" + std::to_string(from) + " earlier operations), ";
    for (std::size_t k = from; k < ce.explained.size(); ++k) {
      out += (k > from ? ", " : "") + num(ce.explained[k]);
    }
    return out;
  }
};

constexpr std::size_t kTextWindow = 40;
constexpr std::size_t kHtmlWindow = 300;

}  // namespace

std::string render_timeline_text(const History& history, const Counterexample& ce) {
  const View v(history, ce, kTextWindow);
  std::string out = "not linearizable: " + ce.part + "\n";
  out += "no order of these " + std::to_string(v.total) +
         " operations consistent with real time explains every response\n";
  if (!ce.exact) {
    out += "(too large to confirm by comparing states: the verdict rests on 128-bit memo keys)\n";
  }
  if (!v.shown().empty()) out += "(" + v.shown() + ")\n";
  out += "\n";

  // Lane chart in event order: every call and every response gets its own column.
  struct Ev {
    std::int64_t t;
    int ret;
    std::size_t op;
  };
  std::vector<Ev> ev;
  for (std::size_t i : v.ops) {
    ev.push_back({v.h.operations[i].invoke_ns, 0, i});
    ev.push_back({v.h.operations[i].response_ns, 1, i});
  }
  std::stable_sort(ev.begin(), ev.end(),
                   [](const Ev& a, const Ev& b) { return a.t != b.t ? a.t < b.t : a.ret < b.ret; });
  std::map<std::pair<std::size_t, int>, std::size_t> rank;
  for (std::size_t r = 0; r < ev.size(); ++r) rank[{ev[r].op, ev[r].ret}] = r;
  const std::size_t width = ev.size() * 3 + 2;
  for (int c : v.clients) {
    std::string row(width, ' ');
    for (std::size_t i : v.ops) {
      if (v.h.operations[i].client != c) continue;
      const std::size_t a = rank[{i, 0}] * 3;
      const std::size_t b = rank[{i, 1}] * 3 + 1;
      const char fill = i == ce.stuck ? '!' : '=';
      for (std::size_t x = a; x <= b; ++x) row[x] = fill;
      row[a] = '[';
      row[b] = ']';
      const std::string label = v.num(i);
      if (b - a - 1 >= label.size()) {
        const std::size_t at = a + 1 + (b - a - 1 - label.size()) / 2;
        row.replace(at, label.size(), label);
      }
    }
    while (!row.empty() && row.back() == ' ') row.pop_back();
    char name[32];
    std::snprintf(name, sizeof name, "  client %-3d |", c);
    out += name + row + "\n";
  }
  out += "\n";
  for (std::size_t i : v.ops) {
    const Operation& op = v.h.operations[i];
    char head[96];
    std::snprintf(head, sizeof head, "  %-4s client %-3d %9s..%-9s ms  ", v.num(i).c_str(),
                  op.client, millis(op.invoke_ns - v.t0).c_str(),
                  millis(op.response_ns - v.t0).c_str());
    out += head + request_text(op, 80) + " -> " + response_digest(op);
    if (i == ce.stuck) out += "   <- no explanation places this";
    out += "\n";
  }
  out += "\nthe furthest explanation: " + v.explanation(ce);
  out += "; then " + v.num(ce.stuck) + " cannot follow";
  if (v.why.empty()) {
    out += " (every order from there on was already explored)\n";
  } else {
    out += ":\n";
    for (const auto& w : v.why) out += "    " + w + "\n";
  }
  return out;
}

std::string render_timeline_html(const History& history, const Counterexample& ce) {
  const View v(history, ce, kHtmlWindow);
  const double span = static_cast<double>(std::max<std::int64_t>(1, v.t1 - v.t0));
  std::map<std::size_t, std::size_t> order;
  for (std::size_t k = 0; k < ce.explained.size(); ++k) order[ce.explained[k]] = k + 1;

  std::string out =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>patrol: not linearizable</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}\n"
      ".timeline{margin:1.5em 0 0 110px;position:relative}\n"
      ".lane{position:relative;height:34px;border-bottom:1px solid #ddd}\n"
      ".lane .name{position:absolute;left:-110px;top:9px;font-size:13px;color:#555}\n"
      ".op{position:absolute;top:5px;height:22px;min-width:18px;border-radius:4px;"
      "font-size:11px;line-height:22px;overflow:hidden;white-space:nowrap;padding:0 3px;"
      "box-sizing:border-box;color:#fff;background:#8a8f98;cursor:default}\n"
      ".op.explained{background:#2e7d32}.op.stuck{background:#c62828}\n"
      ".legend span{display:inline-block;padding:2px 8px;margin-right:8px;border-radius:4px;"
      "color:#fff;font-size:12px}\n"
      "table{border-collapse:collapse;margin-top:1.5em;font-size:13px}\n"
      "td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}\n"
      "tr.stuck td{background:#fdecea}\n"
      "pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:12px}\n"
      "</style></head><body>\n";
  out += "<h1>Not linearizable</h1>\n<p>Part: <b>" + xml_escape(ce.part) +
         "</b>. No order of these " + std::to_string(v.total) +
         " operations consistent with real time explains every response" +
         (v.shown().empty() ? "" : " (" + xml_escape(v.shown()) + ")") + ".</p>\n";
  out +=
      "<p class=\"legend\"><span style=\"background:#2e7d32\">in the furthest explanation "
      "(its order)</span><span style=\"background:#c62828\">cannot be placed</span>"
      "<span style=\"background:#8a8f98\">not reached</span> Time runs left to right; hover a "
      "bar for its exchange.</p>\n<div class=\"timeline\">\n";
  for (int c : v.clients) {
    out += "<div class=\"lane\"><span class=\"name\">client " + std::to_string(c) + "</span>\n";
    for (std::size_t i : v.ops) {
      const Operation& op = v.h.operations[i];
      if (op.client != c) continue;
      const double left = 100.0 * static_cast<double>(op.invoke_ns - v.t0) / span;
      const double w =
          std::max(0.8, 100.0 * static_cast<double>(op.response_ns - op.invoke_ns) / span);
      char style[96];
      std::snprintf(style, sizeof style, "left:%.3f%%;width:%.3f%%", left,
                    std::min(w, 100.0 - left + 0.8));
      const std::string cls = i == ce.stuck         ? "op stuck"
                              : order.count(i) != 0 ? "op explained"
                                                    : "op";
      std::string label = v.num(i) + " " + op.request.method;
      if (order.count(i)) label += " (" + std::to_string(order[i]) + ")";
      const std::string title =
          v.num(i) + "  " + request_text(op, 400) + "\n-> " + response_text(op, 600);
      out += "<div class=\"" + cls + "\" style=\"" + style + "\" title=\"" + xml_escape(title) +
             "\">" + xml_escape(label) + "</div>\n";
    }
    out += "</div>\n";
  }
  out += "</div>\n<h2>Why</h2>\n<p>The furthest explanation linearizes " +
         xml_escape(v.explanation(ce));
  out += "; then " + xml_escape(v.num(ce.stuck)) + " cannot follow";
  if (v.why.empty()) {
    out += " (every order from there on was already explored).</p>\n";
  } else {
    out += ":</p>\n<ul>\n";
    for (const auto& w : v.why) out += "<li><pre>" + xml_escape(w) + "</pre></li>\n";
    out += "</ul>\n";
  }
  out +=
      "<h2>Operations</h2>\n<table><tr><th>#</th><th>client</th><th>ms</th><th>command</th>"
      "<th>request</th><th>response</th></tr>\n";
  for (std::size_t i : v.ops) {
    const Operation& op = v.h.operations[i];
    out += std::string("<tr") + (i == ce.stuck ? " class=\"stuck\"" : "") + "><td>" + v.num(i) +
           "</td><td>" + std::to_string(op.client) + "</td><td>" + millis(op.invoke_ns - v.t0) +
           "&ndash;" + millis(op.response_ns - v.t0) + "</td><td>" +
           xml_escape(one_line(op.command, 200)) + "</td><td><pre>" +
           xml_escape(request_text(op, 2000)) + "</pre></td><td><pre>" +
           xml_escape(response_text(op, 4000)) + "</pre></td></tr>\n";
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace patrol::properties
