#include "recorder/matcher.hpp"

#include <algorithm>
#include <cctype>

#include "model/jwt.hpp"
#include "model/types.hpp"
#include "recorder/redactor.hpp"
#include "recorder/scan.hpp"
#include "recorder/substitution.hpp"

namespace patrol::recorder {
namespace {

constexpr std::string_view kSecret = "<secret>";

bool is_secret_key(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"secret",          "password",      "token",
                                               "access_token",    "refresh_token", "id_token",
                                               "login_2fa_token", "code"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// Replaces placeholders and secret shapes in a text by "<secret>".
std::string mask_secrets(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  struct Span {
    std::size_t begin, end;
  };
  std::vector<Span> spans;
  for (const auto& p : find_placeholders(text)) spans.push_back({p.begin, p.end});
  for (const auto& f : find_secret_shapes(text)) spans.push_back({f.offset, f.offset + f.length});
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (const auto& s : spans) {
    if (s.begin < copied) continue;
    out.append(text.data() + copied, s.begin - copied);
    out += kSecret;
    copied = s.end;
  }
  out.append(text.data() + copied, text.size() - copied);
  return out;
}

void canonical_json(model::Json& v, bool secret_member) {
  if (v.is_string()) {
    if (secret_member && !v.get_ref<const std::string&>().empty()) {
      v = kSecret;
    } else {
      v = mask_secrets(v.get_ref<const std::string&>());
    }
  } else if (v.is_array()) {
    for (auto& e : v) canonical_json(e, false);
  } else if (v.is_object()) {
    for (auto& [k, e] : v.items()) canonical_json(e, is_secret_key(k));
  }
}

std::string canonical_body(const std::string& body) {
  if (body.empty()) return body;
  if (looks_like_json(body)) {
    auto j = model::Json::parse(body, nullptr, false);
    if (!j.is_discarded()) {
      canonical_json(j, false);
      return j.dump(-1, ' ', false, model::Json::error_handler_t::replace);
    }
  }
  return mask_secrets(body);
}

std::string canonical_query(std::string_view query) {
  std::string out;
  for (const auto& [k, v] : model::parse_query(query)) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += is_secret_key(k) && !v.empty() ? std::string(kSecret) : mask_secrets(v);
  }
  return out;
}

std::string canonical_authorization(std::string_view value) {
  auto space = value.find(' ');
  if (space == std::string_view::npos) return std::string(kSecret);
  std::string scheme(value.substr(0, space));
  std::string out = scheme + " ";
  if (model::header_name_equal(scheme, "basic")) {
    auto decoded = model::base64_decode(value.substr(space + 1));
    if (decoded.ok() && decoded->find(':') != std::string::npos) {
      out += decoded->substr(0, decoded->find(':') + 1);
    }
  }
  return out + std::string(kSecret);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

model::Result<MatchSpec> MatchSpec::parse(std::string_view text) {
  MatchSpec spec;
  spec.method = spec.path = spec.query = spec.body = false;
  bool any = false;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
    if (item.empty()) continue;
    any = true;
    if (item == "method") {
      spec.method = true;
    } else if (item == "path") {
      spec.path = true;
    } else if (item == "query") {
      spec.query = true;
    } else if (item == "body") {
      spec.body = true;
    } else if (item.substr(0, 7) == "header:" && item.size() > 7) {
      spec.headers.emplace_back(item.substr(7));
    } else {
      return model::make_error(model::ErrorKind::kInvalid,
                               "--match: unknown component '" + std::string(item) +
                                   "' (use method, path, query, body, header:NAME)");
    }
  }
  if (!any) {
    return model::make_error(model::ErrorKind::kInvalid, "--match: names no component");
  }
  return spec;
}

std::string MatchSpec::describe() const {
  std::string out;
  auto add = [&](std::string_view s) {
    if (!out.empty()) out += ',';
    out += s;
  };
  if (method) add("method");
  if (path) add("path");
  if (query) add("query");
  if (body) add("body");
  for (const auto& h : headers) add("header:" + h);
  return out;
}

std::string safe_target(const model::HttpRequest& request) {
  std::string out = request.method + " " + mask_secrets(request.path);
  if (!request.query.empty()) {
    std::string q;
    std::string_view rest = request.query;
    while (true) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      if (!q.empty()) q += '&';
      auto name = model::percent_decode(pair.substr(0, eq), true);
      if (eq != std::string_view::npos && name && is_secret_key(*name)) {
        q += pair.substr(0, eq + 1);
        q += "***";
      } else {
        q += mask_secrets(pair);
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    out += "?" + q;
  }
  return out;
}

ReplayIndex::Parts ReplayIndex::parts_of(const model::HttpRequest& request) const {
  Parts p;
  if (spec_.method) p.method = upper(request.method);
  if (spec_.path) p.path = request.path;
  if (spec_.query) p.query = canonical_query(request.query);
  if (spec_.body) p.body = canonical_body(request.body);
  for (const auto& name : spec_.headers) {
    p.headers += name;
    p.headers += ':';
    for (const auto& [k, v] : request.headers.entries) {
      if (!model::header_name_equal(k, name)) continue;
      bool auth = model::header_name_equal(name, "Authorization") ||
                  model::header_name_equal(name, "Proxy-Authorization") ||
                  model::header_name_equal(name, "Cookie");
      p.headers += auth ? canonical_authorization(v) : mask_secrets(v);
      p.headers += '\x1f';
    }
    p.headers += '\n';
  }
  return p;
}

std::string ReplayIndex::key_of(const Parts& p) {
  std::string key;
  key.reserve(p.method.size() + p.path.size() + p.query.size() + p.body.size() + p.headers.size() +
              4);
  for (const auto* part : {&p.method, &p.path, &p.query, &p.body, &p.headers}) {
    key += *part;
    key += '\0';
  }
  return key;
}

ReplayIndex::ReplayIndex(const std::vector<Interaction>& entries, MatchSpec spec)
    : spec_(std::move(spec)) {
  parts_.reserve(entries.size());
  targets_.reserve(entries.size());
  used_.assign(entries.size(), false);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    parts_.push_back(parts_of(entries[i].request));
    targets_.push_back(safe_target(entries[i].request));
    std::string key = key_of(parts_.back());
    queues_[key].push_back(i);
    all_by_key_[key].push_back(i);
  }
}

std::variant<ReplayIndex::Hit, ReplayIndex::Miss> ReplayIndex::take(
    const model::HttpRequest& request) {
  Parts p = parts_of(request);
  std::string key = key_of(p);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = queues_.find(key); it != queues_.end() && !it->second.empty()) {
    std::size_t entry = it->second.front();
    it->second.pop_front();
    used_[entry] = true;
    return Hit{entry};
  }
  ++misses_;
  std::string target = safe_target(request);
  if (auto all = all_by_key_.find(key); all != all_by_key_.end()) {
    std::string list;
    for (std::size_t e : all->second) list += (list.empty() ? "" : ", ") + std::to_string(e);
    return Miss{"all " + std::to_string(all->second.size()) + " recorded responses to '" + target +
                    "' were already served (entries " + list + ")",
                all->second.back()};
  }
  // Nearest: fewest differing components, weighted by how much they identify a request.
  std::optional<std::size_t> best;
  int best_score = 0;
  std::string best_diff;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const Parts& r = parts_[i];
    int score = 0;
    std::string diff;
    auto differ = [&](bool d, int weight, const char* name) {
      if (!d) return;
      score += weight;
      diff += (diff.empty() ? "" : ", ") + std::string(name);
    };
    differ(r.method != p.method, 8, "method");
    differ(r.path != p.path, 4, "path");
    differ(r.query != p.query, 2, "query");
    differ(r.body != p.body, 2, "body");
    differ(r.headers != p.headers, 1, "headers");
    score = score * 2 + (used_[i] ? 1 : 0);
    if (!best || score < best_score) {
      best = i;
      best_score = score;
      best_diff = diff;
    }
  }
  std::string message =
      "no recorded interaction matches '" + target + "' (matching on " + spec_.describe() + ")";
  if (best) {
    message += "; nearest: entry " + std::to_string(*best) + " '" + targets_[*best] +
               "', which differs in " + best_diff;
    if (used_[*best]) message += " (already served)";
  }
  return Miss{message, best};
}

std::vector<std::size_t> ReplayIndex::unused() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < used_.size(); ++i) {
    if (!used_[i]) out.push_back(i);
  }
  return out;
}

std::size_t ReplayIndex::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace patrol::recorder
