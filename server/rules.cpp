#include "server/rules.hpp"

#include <array>
#include <limits>

namespace patrol::server {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"repo:public_read", "repo:read",
                                                         "repo:write", "repo:admin"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

}  // namespace

std::optional<Level> level_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  return std::nullopt;
}

std::string_view level_name(Level level) { return kLevelNames[static_cast<std::size_t>(level)]; }

std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1, cp = lead & 0x1Fu, min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2, cp = lead & 0x0Fu, min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3, cp = lead & 0x07u, min = 0x10000;
    } else {
      return std::nullopt;  // continuation byte as lead, C0/C1 overlong leads, F5..FF
    }
    if (text.size() - i <= extra) return std::nullopt;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0u) != 0x80u) return std::nullopt;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += extra + 1;
    ++count;
  }
  return count;
}

std::optional<std::string> label_problem(std::string_view label, const LabelRule& rule) {
  auto length = utf8_length(label);
  if (!length) return "token_label is not valid UTF-8";
  std::size_t measured = rule.count_bytes ? label.size() : *length;
  const char* unit = rule.count_bytes ? " bytes" : " characters";
  if (measured < rule.min_length) {
    return "token_label must not be empty";
  }
  if (measured > rule.max_length) {
    return "token_label is " + std::to_string(measured) + unit + " long; at most " +
           std::to_string(rule.max_length) + " are allowed";
  }
  return std::nullopt;
}

PageParam parse_page_param(std::string_view text) {
  PageParam out;
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') negative = true, ++i;
  std::string digits;  // integer and fraction digits together
  std::size_t int_start = i;
  while (i < text.size() && is_digit(text[i])) digits.push_back(text[i++]);
  if (i == int_start) {
    out.problem = "'" + std::string(text) + "' is not a number";
    return out;
  }
  long long exponent = 0;
  if (i < text.size() && text[i] == '.') {
    std::size_t frac_start = ++i;
    while (i < text.size() && is_digit(text[i])) digits.push_back(text[i++]);
    if (i == frac_start) {
      out.problem = "'" + std::string(text) + "' is not a number";
      return out;
    }
    exponent -= static_cast<long long>(i - frac_start);
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    std::size_t exp_start = i;
    long long e = 0;
    while (i < text.size() && is_digit(text[i])) {
      if (e < 1'000'000'000) e = e * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_start) {
      out.problem = "'" + std::string(text) + "' is not a number";
      return out;
    }
    exponent += exp_negative ? -e : e;
  }
  if (i != text.size()) {
    out.problem = "'" + std::string(text) + "' is not a number";
    return out;
  }
  std::size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    out.ok = true;  // zero, whatever its spelling
    return out;
  }
  digits.erase(0, lead);
  while (digits.back() == '0') digits.pop_back(), ++exponent;
  if (exponent < 0) {
    out.problem = "'" + std::string(text) + "' is not an integer";
    return out;
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t magnitude = kMax;
  if (static_cast<long long>(digits.size()) + exponent <= 19) {
    magnitude = 0;
    auto push = [&](int digit) {
      if (magnitude > (kMax - digit) / 10) return false;
      magnitude = magnitude * 10 + digit;
      return true;
    };
    bool fits = true;
    for (char c : digits) fits = fits && push(c - '0');
    for (long long k = 0; k < exponent; ++k) fits = fits && push(0);
    if (!fits) magnitude = kMax;
  }
  out.ok = true;
  out.value = negative ? -magnitude : magnitude;
  return out;
}

std::optional<PageWindow> page_window(std::int64_t page, std::int64_t page_size,
                                      std::size_t total) {
  if (page < 1 || page_size < 1) return std::nullopt;
  auto size = static_cast<std::uint64_t>(page_size);
  std::uint64_t pages = total == 0 ? 1 : (total + size - 1) / size;
  if (static_cast<std::uint64_t>(page) > pages) return std::nullopt;
  PageWindow w;
  w.first = static_cast<std::size_t>((static_cast<std::uint64_t>(page) - 1) * size);
  w.size = static_cast<std::size_t>(std::min<std::uint64_t>(size, total - w.first));
  w.has_next = static_cast<std::uint64_t>(page) < pages;
  w.has_previous = page > 1;
  return w;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !is_lower_hex(text[i])) return false;
  }
  return true;
}

unsigned action_from_name(std::string_view name) {
  if (name == "pull") return kPull;
  if (name == "push") return kPush;
  if (name == "delete") return kDelete;
  if (name == "*") return kAllActions;
  return 0;
}

std::vector<std::string> action_names(unsigned actions) {
  std::vector<std::string> out;
  if (actions & kPull) out.emplace_back("pull");
  if (actions & kPush) out.emplace_back("push");
  if (actions & kDelete) out.emplace_back("delete");
  return out;
}

unsigned allowed_actions(const Grantee& who, std::string_view repo_owner, bool repo_is_private,
                         const GrantDefects& defects) {
  // Contract 5: everyone may pull a public repository; a private one is reachable only by its
  // owner, and then as far as the credential's level allows.
  bool own = who.kind != Grantee::Kind::kAnonymous && who.account == repo_owner;
  if (!own) {
    if (!repo_is_private) return kPull;
    if (who.kind == Grantee::Kind::kAnonymous) return defects.anonymous_pulls_private ? kPull : 0;
    return defects.other_private_pullable ? kPull : 0;
  }
  if (who.kind == Grantee::Kind::kPassword) return kAllActions;
  switch (who.level) {
    case Level::kAdmin:
      return defects.admin_lacks_delete ? (kPull | kPush) : kAllActions;
    case Level::kWrite:
      return defects.write_grants_delete ? kAllActions : (kPull | kPush);
    case Level::kRead:
      return kPull;
    case Level::kPublicRead:
      return (!repo_is_private || defects.public_read_pulls_private) ? kPull : 0;
  }
  return 0;
}

}  // namespace patrol::server
