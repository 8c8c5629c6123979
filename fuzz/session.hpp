// A scripted session against the in-process reference server, every exchange judged by the oracle:
// the engine of the session and oracle fuzz targets. Scripts are readable, one command a line, so
// seeds are hand-written and a finding reads like a curl session:
//
//   login alice                         A2 with the password (bob answers 401 + login_2fa_token)
//   login bob wrong                     ... with a wrong password
//   2fa [code]                          second step with the last login_2fa_token (default: the
//                                       fixture's code)
//   auth alice [wrong]                  A1 with the password; `auth-pat #1` with token 1's secret
//   bearer session alice | pat #1 | pat-jwt #1 | none | junk
//                                       what E1..E5 send as `Authorization` from now on (the
//                                       latest login/auth sets it too)
//   create label=ci scopes=repo:read,repo:admin expires=+700|-5|<RFC 3339>
//   create-raw {"token_label":"x","scopes":["repo:read"]}
//   list page=2 size=3 | list raw=<query>
//   get #1 | patch #1 active=false label=x | patch-raw #1 {"is_active":true} | delete #1
//   get <any path segment>              a literal uuid or junk (percent-decoded)
//   registry alice|#1|anon|wrong alice/private-app pull,push [bob/public-lib pull]
//   advance 700                         moves the manual clock (POST /_patrol/clock)
//
// Labels and raw values are percent-decoded (`label=ci%20deploy`). `#N` is the N-th token created
// in the session; a number past the end names a well-formed uuid nobody has. Unknown lines are
// ignored. Scripts are cut at kMaxCommands commands so that every input runs in bounded time.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/byte_reader.hpp"
#include "fuzz/fuzz_check.hpp"
#include "model/codec.hpp"
#include "model/http_message.hpp"
#include "model/jwt.hpp"
#include "model/oracle.hpp"
#include "model/profile.hpp"
#include "model/state.hpp"
#include "server/core.hpp"

namespace patrol::fuzz {

inline constexpr std::size_t kMaxCommands = 48;
inline constexpr std::int64_t kMaxAdvanceSeconds = 10'000'000;
// The uuid `#N` names when N is past the tokens created so far.
inline constexpr std::string_view kUnknownUuid = "00000000-0000-4000-8000-000000000000";

struct CreatedToken {
  std::string uuid;
  std::string secret;
  std::string owner;
};

class Session {
 public:
  // Starts the unfaulted hub-profile server under the manual clock and the model at its time.
  Session()
      : core_(make_core()),
        state_(core_->options().fixture, core_->now()),
        profile_(model::Profile::hub()) {}

  // Runs one script line; unknown or malformed lines do nothing.
  void run_line(std::string_view line) {
    std::vector<std::string_view> words;
    ByteReader in(line);
    while (!in.empty()) {
      std::string_view w = in.until(' ');
      if (!w.empty()) words.push_back(w);
    }
    if (words.empty()) return;
    const std::string_view cmd = words[0];
    if (cmd == "login" && words.size() >= 2) {
      login(words[1], words.size() >= 3 && words[2] == "wrong");
    } else if (cmd == "2fa") {
      two_factor(words.size() >= 2 ? std::optional<std::string_view>(words[1]) : std::nullopt);
    } else if (cmd == "auth" && words.size() >= 2) {
      auth(words[1], words.size() >= 3 && words[2] == "wrong");
    } else if (cmd == "auth-pat" && words.size() >= 2) {
      auth_pat(words[1]);
    } else if (cmd == "bearer" && words.size() >= 2) {
      choose_bearer(words[1], words.size() >= 3 ? words[2] : std::string_view());
    } else if (cmd == "create") {
      create(words);
    } else if (cmd == "create-raw") {
      send_json("POST", "/v2/access-tokens", std::string(after_words(line, 1)), true);
    } else if (cmd == "list") {
      list(words);
    } else if (cmd == "get" && words.size() >= 2) {
      send("GET", item_path(words[1]), "", "", true);
    } else if (cmd == "patch" && words.size() >= 2) {
      patch(words);
    } else if (cmd == "patch-raw" && words.size() >= 2) {
      send_json("PATCH", item_path(words[1]), std::string(after_words(line, 2)), true);
    } else if (cmd == "delete" && words.size() >= 2) {
      send("DELETE", item_path(words[1]), "", "", true);
    } else if (cmd == "registry" && words.size() >= 3) {
      registry(words);
    } else if (cmd == "advance" && words.size() >= 2) {
      advance(words[1]);
    }
  }

  // Runs a whole script (at most kMaxCommands non-empty lines).
  void run_script(std::string_view script) {
    ByteReader in(script);
    std::size_t commands = 0;
    while (!in.empty() && commands < kMaxCommands) {
      std::string_view line = in.line();
      if (line.empty()) continue;
      ++commands;
      run_line(line);
    }
  }

  // Sends one request to the server, judges the exchange and records it. Returns the response.
  model::HttpResponse exchange(model::HttpRequest request) {
    request.peer = "127.0.0.1";
    request.headers.add("User-Agent", "patrol-session-fuzzer");
    model::HttpResponse response = core_->handle(request);
    judge(request, response);
    return response;
  }

  // Judges an exchange the caller made up (the oracle target) or got, and records it.
  std::vector<model::Violation> judge(const model::HttpRequest& request,
                                      const model::HttpResponse& response) {
    auto violations = model::judge_in_place(state_, request, response, core_->now(), profile_);
    record(request, response, violations);
    return violations;
  }

  // Returns every violation judged so far.
  const std::vector<model::Violation>& violations() const { return violations_; }
  // Returns the model state after the exchanges so far.
  const model::ModelState& state() const { return state_; }
  // Returns the tokens created so far, `#1` first.
  const std::vector<CreatedToken>& created() const { return created_; }
  // Returns the Authorization value E1..E5 currently send ("" for none).
  const std::string& bearer() const { return bearer_; }

  // The exchanges so far as a curl-like transcript, every known secret and JWT redacted.
  const std::string& transcript() const { return transcript_; }

 private:
  static std::unique_ptr<server::ServerCore> make_core() {
    server::ServerOptions options;
    options.manual_clock = true;
    auto core = server::ServerCore::create(std::move(options));
    PATROL_FUZZ_CHECK(core.ok(), "ServerCore::create: " + core.error().message);
    return std::move(core).value();
  }

  static std::string decoded(std::string_view text) {
    auto d = model::percent_decode(text, false);
    return d ? *d : std::string(text);
  }

  // The text of `line` after its first `n` words.
  static std::string_view after_words(std::string_view line, std::size_t n) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < n; ++i) {
      while (at < line.size() && line[at] == ' ') ++at;
      while (at < line.size() && line[at] != ' ') ++at;
    }
    while (at < line.size() && line[at] == ' ') ++at;
    return line.substr(at);
  }

  // key=value words after the command, values percent-decoded.
  static std::map<std::string, std::string, std::less<>> options(
      const std::vector<std::string_view>& words) {
    std::map<std::string, std::string, std::less<>> out;
    for (std::size_t i = 1; i < words.size(); ++i) {
      auto [key, value] = split_once(words[i], '=');
      out[std::string(key)] = decoded(value);
    }
    return out;
  }

  static std::optional<std::int64_t> integer(std::string_view text) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
  }

  // A JSON string literal of raw bytes: quotes, backslashes and control characters escaped, every
  // other byte kept as is, so that a script can send invalid UTF-8 (contract 3.2).
  static std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[(c >> 4) & 0xF];
        out += kHex[c & 0xF];
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

  // {"key": value, ...} from already rendered JSON values.
  static std::string object(const std::vector<std::pair<std::string_view, std::string>>& members) {
    std::string out = "{";
    for (const auto& [key, value] : members) {
      if (out.size() > 1) out += ',';
      out += quote(key) + ":" + value;
    }
    return out + "}";
  }

  // `#N` as a created token (nullptr past the end), or nullptr for anything else.
  const CreatedToken* token_ref(std::string_view ref) const {
    if (ref.size() < 2 || ref[0] != '#') return nullptr;
    auto n = integer(ref.substr(1));
    if (!n || *n < 1 || static_cast<std::size_t>(*n) > created_.size()) return nullptr;
    return &created_[static_cast<std::size_t>(*n - 1)];
  }

  std::string item_path(std::string_view ref) const {
    if (!ref.empty() && ref[0] == '#') {
      const CreatedToken* t = token_ref(ref);
      return "/v2/access-tokens/" + (t ? t->uuid : std::string(kUnknownUuid));
    }
    return "/v2/access-tokens/" + decoded(ref);
  }

  const model::FixtureAccount* account(std::string_view user) const {
    return state_.fixture().find_account(user);
  }

  model::HttpResponse send(std::string method, std::string path, std::string query,
                           std::string body, bool with_bearer) {
    model::HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.query = std::move(query);
    request.body = std::move(body);
    if (!request.body.empty()) request.headers.add("Content-Type", "application/json");
    if (with_bearer && !bearer_.empty()) request.headers.add("Authorization", bearer_);
    return exchange(std::move(request));
  }

  model::HttpResponse send_json(std::string method, std::string path, std::string body,
                                bool with_bearer) {
    return send(std::move(method), std::move(path), "", std::move(body), with_bearer);
  }

  // Reads `field` of a JSON response body, or "".
  static std::string string_member(const model::HttpResponse& r, const char* field) {
    auto doc = model::parse_json(r.body);
    if (!doc.ok() || !doc->is_object()) return {};
    auto it = doc->find(field);
    return it != doc->end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  void login(std::string_view user, bool wrong) {
    const auto* a = account(user);
    const std::string password = a && !wrong ? a->password : "wrong-password";
    auto r = send_json("POST", "/v2/users/login",
                       object({{"username", quote(user)}, {"password", quote(password)}}), false);
    if (r.status == 200) set_session(user, string_member(r, "token"));
    if (r.status == 401) {
      if (auto handle = string_member(r, "login_2fa_token"); !handle.empty()) {
        two_factor_handle_ = handle;
        two_factor_user_ = std::string(user);
      }
    }
  }

  void two_factor(std::optional<std::string_view> code) {
    const auto* a = account(two_factor_user_);
    std::string c = code ? std::string(*code)
                         : (a && a->second_factor_code ? *a->second_factor_code : "000000");
    auto r = send_json("POST", "/v2/users/2fa-login",
                       object({{"login_2fa_token", quote(two_factor_handle_)}, {"code", quote(c)}}),
                       false);
    if (r.status == 200) set_session(two_factor_user_, string_member(r, "token"));
  }

  void auth(std::string_view user, bool wrong) {
    const auto* a = account(user);
    const std::string secret = a && !wrong ? a->password : "wrong-password";
    auto r = send_json("POST", "/v2/auth/token",
                       object({{"identifier", quote(user)}, {"secret", quote(secret)}}), false);
    if (r.status == 200) set_session(user, string_member(r, "access_token"));
  }

  void auth_pat(std::string_view ref) {
    const CreatedToken* t = token_ref(ref);
    if (t == nullptr) return;
    auto r =
        send_json("POST", "/v2/auth/token",
                  object({{"identifier", quote(t->owner)}, {"secret", quote(t->secret)}}), false);
    if (r.status == 200) {
      pat_jwts_[t->uuid] = string_member(r, "access_token");
      bearer_ = "Bearer " + pat_jwts_[t->uuid];
    }
  }

  void set_session(std::string_view user, std::string jwt) {
    sessions_[std::string(user)] = jwt;
    bearer_ = "Bearer " + jwt;
  }

  void choose_bearer(std::string_view kind, std::string_view arg) {
    if (kind == "none") {
      bearer_.clear();
    } else if (kind == "junk") {
      bearer_ = "Bearer not-a-jwt";
    } else if (kind == "session") {
      auto it = sessions_.find(std::string(arg));
      if (it != sessions_.end()) bearer_ = "Bearer " + it->second;
    } else if (kind == "pat") {
      if (const CreatedToken* t = token_ref(arg)) bearer_ = "Bearer " + t->secret;
    } else if (kind == "pat-jwt") {
      const CreatedToken* t = token_ref(arg);
      if (t && pat_jwts_.count(t->uuid) != 0) bearer_ = "Bearer " + pat_jwts_[t->uuid];
    }
  }

  void create(const std::vector<std::string_view>& words) {
    auto opts = options(words);
    std::vector<std::pair<std::string_view, std::string>> body;
    if (auto it = opts.find("label"); it != opts.end())
      body.emplace_back("token_label", quote(it->second));
    if (auto it = opts.find("scopes"); it != opts.end()) {
      std::string scopes = "[";
      ByteReader in(it->second);
      while (!in.empty()) scopes += (scopes.size() > 1 ? "," : "") + quote(in.until(','));
      body.emplace_back("scopes", scopes + "]");
    }
    if (auto it = opts.find("expires"); it != opts.end()) {
      const std::string& e = it->second;
      auto relative = integer(e.size() > 1 && e[0] == '+' ? std::string_view(e).substr(1) : e);
      if (relative && (e[0] == '+' || e[0] == '-') && *relative > -kMaxAdvanceSeconds &&
          *relative < kMaxAdvanceSeconds) {
        body.emplace_back("expires_at", quote(model::format_rfc3339(model::Timestamp{
                                            core_->now().micros + *relative * 1'000'000})));
      } else {
        body.emplace_back("expires_at", quote(e));
      }
    }
    remember_created(send_json("POST", "/v2/access-tokens", object(body), true));
  }

  void remember_created(const model::HttpResponse& r) {
    if (r.status != 201) return;
    auto doc = model::parse_json(r.body);
    if (!doc.ok() || !doc->is_object()) return;
    auto token = model::decode<model::AccessToken>(*doc);
    if (!token.ok() || !token->token) return;
    std::string owner;
    if (auto jwt = model::decode_jwt(bearer_.substr(bearer_.find(' ') + 1)); jwt.ok()) {
      owner = jwt->claims.username.value_or(jwt->claims.sub.value_or(""));
    }
    created_.push_back({token->uuid, *token->token, owner});
  }

  void list(const std::vector<std::string_view>& words) {
    auto opts = options(words);
    std::string query;
    if (auto it = opts.find("raw"); it != opts.end()) {
      query = it->second;
    } else {
      if (auto it = opts.find("page"); it != opts.end()) query += "page=" + it->second;
      if (auto it = opts.find("size"); it != opts.end()) {
        query += (query.empty() ? "" : "&") + std::string("page_size=") + it->second;
      }
    }
    send("GET", "/v2/access-tokens", std::move(query), "", true);
  }

  void patch(const std::vector<std::string_view>& words) {
    auto opts = options(words);
    std::vector<std::pair<std::string_view, std::string>> body;
    if (auto it = opts.find("label"); it != opts.end())
      body.emplace_back("token_label", quote(it->second));
    if (auto it = opts.find("active"); it != opts.end()) {
      body.emplace_back("is_active", it->second == "true" ? "true" : "false");
    }
    send_json("PATCH", item_path(words[1]), object(body), true);
  }

  // registry <who> <ns/name> <actions> [<ns/name> <actions>]...
  void registry(const std::vector<std::string_view>& words) {
    model::HttpRequest request;
    request.method = "GET";
    request.path = "/token";
    request.query = "service=registry.docker.io";
    for (std::size_t i = 2; i < words.size(); i += 2) {
      const std::string_view actions = i + 1 < words.size() ? words[i + 1] : "pull";
      request.query += "&scope=repository:" + std::string(words[i]) + ":" + std::string(actions);
    }
    const std::string_view who = words[1];
    std::string user, secret;
    if (const CreatedToken* t = token_ref(who)) {
      user = t->owner, secret = t->secret;
    } else if (who == "wrong") {
      user = "alice", secret = "wrong-password";
    } else if (const auto* a = account(who)) {
      user = a->username, secret = a->password;
    }
    if (!user.empty()) {
      request.headers.add("Authorization", "Basic " + model::base64_encode(user + ":" + secret));
    }
    exchange(std::move(request));
  }

  void advance(std::string_view seconds) {
    auto n = integer(seconds);
    if (!n || *n < 0 || *n > kMaxAdvanceSeconds) return;
    send_json("POST", std::string(server::kClockRoute),
              object({{"advance_seconds", std::to_string(*n)}}), false);
  }

  void record(const model::HttpRequest& request, const model::HttpResponse& response,
              const std::vector<model::Violation>& violations) {
    std::string line = "> " + request.target_line();
    if (auto auth = request.headers.get("Authorization")) {
      // Basic credentials are shown decoded so that the redaction below sees the secret.
      auto basic = auth->rfind("Basic ", 0) == 0 ? model::base64_decode(auth->substr(6))
                                                 : model::Result<std::string>(*auth);
      line += "  [Authorization: " + (basic.ok() ? *basic : *auth) + "]";
    }
    if (!request.body.empty()) line += "\n  " + request.body;
    line += "\n< " + std::to_string(response.status) + " " + response.body + "\n";
    for (const auto& v : violations) {
      line += "  VIOLATION " + v.rule + ": " + v.message + "\n";
      if (!v.excerpt.empty()) line += "    " + v.excerpt + "\n";
    }
    transcript_ += model::redact(line, state_);
    violations_.insert(violations_.end(), violations.begin(), violations.end());
  }

  std::unique_ptr<server::ServerCore> core_;
  model::ModelState state_;
  model::Profile profile_;
  std::string bearer_;
  std::map<std::string, std::string, std::less<>> sessions_;
  std::map<std::string, std::string> pat_jwts_;
  std::string two_factor_handle_ = "none";
  std::string two_factor_user_ = "bob";
  std::vector<CreatedToken> created_;
  std::vector<model::Violation> violations_;
  std::string transcript_;
};

}  // namespace patrol::fuzz
