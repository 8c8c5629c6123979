#include "recorder/substitution.hpp"

#include "model/jwt.hpp"
#include "model/rfc3339.hpp"
#include "model/types.hpp"
#include "recorder/json_text.hpp"
#include "recorder/redactor.hpp"

namespace patrol::recorder {
namespace {

constexpr std::size_t kUuidLength = 36;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_uuid_at(std::string_view s, std::size_t i) {
  if (i + kUuidLength > s.size()) return false;
  for (std::size_t k = 0; k < kUuidLength; ++k) {
    char c = s[i + k];
    bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? c != '-' : !is_hex(c)) return false;
  }
  return true;
}

bool is_jwt_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string escape_json_content(std::string_view value) {
  std::string lit = detail::json_string(value);
  return lit.substr(1, lit.size() - 2);
}

std::string percent_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A recorded string worth binding: a whole placeholder, one behind a token-like prefix (a JWT's
// header and claims, a PAT's "dckr_pat_"), or a uuid.
bool is_bindable(std::string_view s) {
  auto spans = find_placeholders(s);
  if (spans.size() == 1 && spans[0].end == s.size()) {
    for (std::size_t i = 0; i < spans[0].begin; ++i) {
      if (!is_jwt_char(s[i])) return false;
    }
    return true;
  }
  return s.size() == kUuidLength && is_uuid_at(s, 0);
}

void learn_json(Substituter& sub, const model::Json& recorded, const model::Json& live) {
  if (recorded.is_string() && live.is_string()) {
    const auto& r = recorded.get_ref<const std::string&>();
    const auto& l = live.get_ref<const std::string&>();
    if (r != l && is_bindable(r)) sub.bind(r, l);
    return;
  }
  if (recorded.is_object() && live.is_object()) {
    for (const auto& [k, v] : recorded.items()) {
      auto it = live.find(k);
      if (it != live.end()) learn_json(sub, v, *it);
    }
  }
  // Arrays are not aligned: list order is unspecified (contract 6).
}

}  // namespace

bool looks_like_json(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

Substituter::Substituter(model::Fixture fixture) : fixture_(std::move(fixture)) {}

std::string Substituter::value_for(std::string_view label) const {
  std::string placeholder = make_placeholder(label);
  if (auto it = bound_.find(placeholder); it != bound_.end()) return it->second;
  auto colon = label.find(':');
  std::string_view kind = label.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? "" : label.substr(colon + 1);
  if (kind == "password" || kind == "code") {
    if (const auto* account = fixture_.find_account(rest)) {
      if (kind == "password") return account->password;
      if (account->second_factor_code) return *account->second_factor_code;
    }
  }
  if (kind == "jwt") {
    // 32 bytes, base64url-encoded like an HS256 signature.
    std::string n(rest);
    if (n.size() < 8) n.insert(0, 8 - n.size(), '0');
    return model::base64url_encode("patrol-replay-signature-" + n.substr(n.size() - 8));
  }
  // '.' keeps synthetic values out of every secret pattern (a PAT's tail is [A-Za-z0-9_-]).
  std::string out = "patrol.replay.";
  for (char c : label) out.push_back(c == ':' ? '.' : c);
  return out;
}

void Substituter::bind(const std::string& recorded, const std::string& live) {
  if (recorded.size() == kUuidLength && is_uuid_at(recorded, 0)) {
    uuids_.insert_or_assign(recorded, live);
  } else {
    bound_.insert_or_assign(recorded, live);
  }
}

void Substituter::learn(const model::HttpResponse& recorded, const model::HttpResponse& live) {
  if (!looks_like_json(recorded.body) || !looks_like_json(live.body)) return;
  auto r = model::Json::parse(recorded.body, nullptr, false);
  auto l = model::Json::parse(live.body, nullptr, false);
  if (r.is_discarded() || l.is_discarded()) return;
  learn_json(*this, r, l);
  if (r.is_object() && l.is_object() && r.contains("now") && l.contains("now") &&
      r["now"].is_string() && l["now"].is_string()) {
    auto then = model::parse_rfc3339(r["now"].get<std::string>());
    auto now = model::parse_rfc3339(l["now"].get<std::string>());
    if (then.ok() && now.ok()) clock_shift_micros_ = now->micros - then->micros;
  }
}

std::string Substituter::apply(std::string_view text, bool json_strings) const {
  auto escape = [&](const std::string& v) { return json_strings ? escape_json_content(v) : v; };
  std::string out;
  std::size_t copied = 0;
  auto spans = find_placeholders(text);
  for (const auto& span : spans) {
    std::size_t begin = span.begin;
    std::string value;
    bool encoded = text[span.begin] == '%';
    // A whole token bound from a live response (JWT header and claims, PAT prefix included)
    // wins over the placeholder alone.
    std::size_t start = begin;
    while (start > copied && is_jwt_char(text[start - 1])) --start;
    auto whole = bound_.end();
    if (start < begin) whole = bound_.find(text.substr(start, span.end - start));
    if (whole != bound_.end()) {
      begin = start;
      value = whole->second;
    } else {
      value = value_for(span.label);
    }
    out.append(text.data() + copied, begin - copied);
    out += encoded ? percent_encode(value) : escape(value);
    copied = span.end;
  }
  out.append(text.data() + copied, text.size() - copied);
  if (uuids_.empty()) return out;
  std::string result;
  copied = 0;
  for (std::size_t i = 0; i + kUuidLength <= out.size();) {
    if (is_uuid_at(out, i)) {
      if (auto it = uuids_.find(std::string_view(out).substr(i, kUuidLength)); it != uuids_.end()) {
        result.append(out, copied, i - copied);
        result += it->second;
        copied = i + kUuidLength;
      }
      i += kUuidLength;
    } else {
      ++i;
    }
  }
  if (copied == 0) return out;
  result.append(out, copied, std::string::npos);
  return result;
}

model::HttpRequest Substituter::apply(const model::HttpRequest& request) const {
  model::HttpRequest out = request;
  out.path = apply(request.path);
  out.query = apply(request.query);
  for (auto& [name, value] : out.headers.entries) {
    if (model::header_name_equal(name, "Authorization") && value.size() > 6 &&
        model::header_name_equal(value.substr(0, 6), "Basic ")) {
      auto decoded = model::base64_decode(value.substr(6));
      if (decoded.ok()) {
        value = value.substr(0, 6) + model::base64_encode(apply(*decoded));
        continue;
      }
    }
    value = apply(value);
  }
  out.body = apply(request.body, looks_like_json(request.body));
  if (clock_shift_micros_ != 0 && looks_like_json(out.body)) {
    std::string shifted;
    std::size_t copied = 0;
    for (const auto& t : detail::find_string_tokens(out.body)) {
      if (t.end - t.begin < 22 || t.end - t.begin > 40) continue;
      auto text =
          detail::decode_json_string(std::string_view(out.body).substr(t.begin, t.end - t.begin));
      if (!text) continue;
      auto ts = model::parse_rfc3339(*text);
      if (!ts.ok()) continue;
      shifted.append(out.body, copied, t.begin - copied);
      detail::append_json_string(
          shifted, model::format_rfc3339(model::Timestamp{ts->micros + clock_shift_micros_}));
      copied = t.end;
    }
    if (copied > 0) {
      shifted.append(out.body, copied, std::string::npos);
      out.body = std::move(shifted);
    }
  }
  return out;
}

model::HttpResponse Substituter::apply(const model::HttpResponse& response) const {
  model::HttpResponse out = response;
  for (auto& [name, value] : out.headers.entries) value = apply(value);
  out.body = apply(response.body, looks_like_json(response.body));
  return out;
}

std::string Substituter::unapply(std::string_view text) const {
  std::string out(text);
  auto replace_all = [&](const std::string& needle, const std::string& with) {
    if (needle.empty()) return;
    for (std::size_t i = out.find(needle); i != std::string::npos;
         i = out.find(needle, i + with.size())) {
      out.replace(i, needle.size(), with);
    }
  };
  for (const auto& [recorded, live] : bound_) replace_all(live, recorded);
  for (const auto& a : fixture_.accounts) {
    replace_all(a.password, make_placeholder("password:" + a.username));
    if (a.second_factor_code) {
      replace_all(*a.second_factor_code, make_placeholder("code:" + a.username));
    }
  }
  return out;
}

}  // namespace patrol::recorder
