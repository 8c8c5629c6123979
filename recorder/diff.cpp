#include "recorder/diff.hpp"

#include <algorithm>
#include <set>

#include "model/jwt.hpp"
#include "model/rfc3339.hpp"
#include "recorder/redactor.hpp"
#include "recorder/scan.hpp"
#include "recorder/substitution.hpp"

namespace patrol::recorder {
namespace {

using model::Json;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t k = 0; k < 36; ++k) {
    bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? s[k] != '-' : !is_hex(s[k])) return false;
  }
  return true;
}

bool is_secret_key(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"secret",         "password",      "token",
                                               "access_token",   "refresh_token", "id_token",
                                               "login_2fa_token"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

bool is_volatile_claim(std::string_view key) {
  return key == "iat" || key == "exp" || key == "nbf" || key == "jti";
}

Json normalise(const Json& v, std::string_view key, bool in_claims);

// The claims of a JWT-shaped string, or a discarded value.
Json jwt_claims(std::string_view s) {
  if (s.substr(0, 3) != "eyJ") return Json(Json::value_t::discarded);
  auto first = s.find('.');
  auto second = first == std::string_view::npos ? first : s.find('.', first + 1);
  if (second == std::string_view::npos) return Json(Json::value_t::discarded);
  auto bytes = model::base64url_decode(s.substr(first + 1, second - first - 1));
  if (!bytes.ok()) return Json(Json::value_t::discarded);
  return Json::parse(*bytes, nullptr, false);
}

Json normalise_string(const std::string& s, std::string_view key, bool in_claims) {
  if (key == "creator_ip") return "<address>";
  if (in_claims && is_volatile_claim(key)) return "<volatile>";
  if (Json claims = jwt_claims(s); !claims.is_discarded() && claims.is_object()) {
    return Json{{"jwt_claims", normalise(claims, "", true)}};
  }
  if (!find_placeholders(s).empty() || !find_secret_shapes(s).empty()) return "<secret>";
  if (is_secret_key(key) && !s.empty() && s.find("***") == std::string::npos) return "<secret>";
  if (is_uuid(s)) return "<uuid>";
  if (s.size() >= 20 && model::parse_rfc3339(s).ok()) return "<timestamp>";
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.rfind(scheme, 0) == 0) {
      auto slash = s.find_first_of("/?", scheme.size());
      return "<origin>" + (slash == std::string::npos ? std::string() : s.substr(slash));
    }
  }
  return s;
}

Json normalise(const Json& v, std::string_view key, bool in_claims) {
  if (v.is_string()) return normalise_string(v.get_ref<const std::string&>(), key, in_claims);
  if (in_claims && is_volatile_claim(key)) return "<volatile>";
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(normalise(e, "", in_claims));
    if (key == "results") {
      std::sort(out.begin(), out.end(),
                [](const Json& a, const Json& b) { return a.dump() < b.dump(); });
    }
    return out;
  }
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, e] : v.items()) out[k] = normalise(e, k, in_claims);
    return out;
  }
  return v;
}

std::string show(const Json& v) {
  std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  std::size_t copied = 0;
  for (const auto& f : find_secret_shapes(text)) {
    out.append(text, copied, f.offset - copied);
    out += masked_excerpt(std::string_view(text).substr(f.offset, f.length));
    copied = f.offset + f.length;
  }
  out.append(text, copied, std::string::npos);
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  return out;
}

void diff_json(const Json& a, const Json& b, const std::string& where, std::vector<Difference>& out,
               std::size_t limit) {
  if (out.size() >= limit || a == b) return;
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const auto& k : keys) {
      auto ia = a.find(k);
      auto ib = b.find(k);
      std::string at = where + "." + k;
      if (ia == a.end()) {
        out.push_back({at, "(absent)", show(*ib)});
      } else if (ib == b.end()) {
        out.push_back({at, show(*ia), "(absent)"});
      } else {
        diff_json(*ia, *ib, at, out, limit);
      }
      if (out.size() >= limit) return;
    }
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      diff_json(a[i], b[i], where + "[" + std::to_string(i) + "]", out, limit);
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    out.push_back(
        {where, std::to_string(a.size()) + " items", std::to_string(b.size()) + " items"});
    return;
  }
  out.push_back({where, show(a), show(b)});
}

std::string media_type(const model::HttpResponse& r) {
  std::string v = r.headers.get("Content-Type").value_or("");
  std::string out;
  for (char c : v.substr(0, v.find(';'))) {
    if (c != ' ') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

Json normalise_body(const Json& body) { return normalise(body, "", false); }

std::vector<Difference> diff_responses(const model::HttpResponse& recorded,
                                       const model::HttpResponse& live, std::size_t limit) {
  std::vector<Difference> out;
  if (recorded.status != live.status) {
    out.push_back({"status", std::to_string(recorded.status), std::to_string(live.status)});
  }
  if (media_type(recorded) != media_type(live)) {
    out.push_back({"header Content-Type", media_type(recorded), media_type(live)});
  }
  bool json = looks_like_json(recorded.body) || looks_like_json(live.body);
  if (json) {
    Json a = Json::parse(recorded.body, nullptr, false);
    Json b = Json::parse(live.body, nullptr, false);
    if (!a.is_discarded() && !b.is_discarded()) {
      diff_json(normalise_body(a), normalise_body(b), "body", out, limit);
      return out;
    }
  }
  if (recorded.body != live.body && out.size() < limit) {
    out.push_back({"body", std::to_string(recorded.body.size()) + " bytes",
                   std::to_string(live.body.size()) + " bytes (differs)"});
  }
  return out;
}

}  // namespace patrol::recorder
