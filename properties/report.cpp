#include "properties/report.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace patrol::properties {

const std::vector<RuleInfo>& rule_catalogue() {
  static const std::vector<RuleInfo> kRules = {
      {"1", "routes answer with documented statuses"},
      {"2", "token object fields"},
      {"3.1", "secret returned once, never again"},
      {"3.2", "label is 1..100 characters"},
      {"3.3", "scopes are known and non-empty"},
      {"3.4", "expiry: past rejected, expired token inert"},
      {"3.5", "PATCH changes only label and is_active"},
      {"3.6", "DELETE is permanent"},
      {"3.7", "unknown uuid 404, malformed never 5xx"},
      {"3.8", "a token authenticates iff active and unexpired"},
      {"3.9", "operations never affect another token"},
      {"4", "who may call what"},
      {"5", "registry grants follow the scope table"},
      {"6", "listing pages partition the tokens"},
      {"7", "error bodies"},
      {"8", "no 5xx, JSON where declared"},
  };
  return kRules;
}

void Coverage::merge(const Coverage& other) {
  for (const auto& [k, v] : other.rules) rules[k] += v;
  for (const auto& [k, v] : other.route_status) route_status[k] += v;
  for (const auto& [k, v] : other.states) states[k] += v;
}

double Coverage::rule_fraction() const {
  const auto& cat = rule_catalogue();
  auto hit = std::count_if(cat.begin(), cat.end(), [&](const RuleInfo& r) {
    auto it = rules.find(r.id);
    return it != rules.end() && it->second > 0;
  });
  return cat.empty() ? 0.0 : static_cast<double>(hit) / static_cast<double>(cat.size());
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

namespace {

std::string paint(const std::string& text, const char* code, bool color) {
  return color ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

const ViolationReport* first_violation_of(const RunSummary& s, const std::string& rule) {
  for (const auto& v : s.violations) {
    if (v.rule == rule) return &v;
  }
  return nullptr;
}

// Violations may name A-points ("A12") as their rule; they count against no numbered rule row
// but are listed with the counterexample.
std::int64_t exercised(const Coverage& c, const std::string& rule) {
  auto it = c.rules.find(rule);
  return it == c.rules.end() ? 0 : it->second;
}

}  // namespace

std::string render_coverage(const Coverage& c) {
  std::ostringstream out;
  out << "contract coverage: " << static_cast<int>(c.rule_fraction() * 100 + 0.5)
      << "% of rules exercised\n";
  out << "  routes x statuses:";
  int col = 0;
  for (const auto& [k, v] : c.route_status) {
    out << (col++ % 6 == 0 ? "\n    " : "  ") << k << " x" << v;
  }
  out << "\n  model states:";
  col = 0;
  for (const auto& [k, v] : c.states) {
    out << (col++ % 3 == 0 ? "\n    " : "  ") << k << " x" << v;
  }
  out << "\n";
  return out.str();
}

std::string render_text(const RunSummary& s, bool color) {
  std::ostringstream out;
  out << "\nverdict per rule (target " << s.target << ", profile " << s.profile << "):\n";
  for (const auto& r : rule_catalogue()) {
    std::int64_t n = exercised(s.coverage, r.id);
    const ViolationReport* v = first_violation_of(s, r.id);
    std::string mark = v ? paint("FAIL", "31;1", color)
                         : (n > 0 ? paint("ok  ", "32", color) : paint("--  ", "33", color));
    char line[256];
    std::snprintf(line, sizeof line, "  %s  %-4s %-45s %8lld exchanges\n", mark.c_str(), r.id,
                  r.title, static_cast<long long>(n));
    out << line;
  }
  if (s.failed) {
    out << "\n" << paint("counterexample (shrunk):", "1", color) << "\n";
    for (const auto& line : s.transcript) out << "  " << line << "\n";
    out << "\nviolations:\n";
    for (const auto& v : s.violations) {
      out << "  [contract " << v.rule << "] " << v.message << "\n";
      if (!v.excerpt.empty()) out << "      excerpt: " << v.excerpt << "\n";
    }
    out << "\nseed: " << s.seed << "\nreproduce: " << s.reproduce << "\n";
    if (!s.bundle_dir.empty()) out << "repro bundle: " << s.bundle_dir << "\n";
  }
  out << "\n" << render_coverage(s.coverage);
  char tail[256];
  std::snprintf(tail, sizeof tail,
                "\n%d/%d runs passed, %lld steps in %.2f s (%.0f steps/s), %lld rate-limited\n",
                s.runs_passed, s.runs_requested, static_cast<long long>(s.steps), s.seconds,
                s.seconds > 0 ? static_cast<double>(s.steps) / s.seconds : 0.0,
                static_cast<long long>(s.rate_limited));
  out << tail;
  out << (s.failed ? paint("NONCONFORMING", "31;1", color) : paint("CONFORMS", "32;1", color))
      << "\n";
  return out.str();
}

std::string render_junit(const RunSummary& s) {
  std::ostringstream out;
  const auto& cat = rule_catalogue();
  int failures = 0;
  int skipped = 0;
  for (const auto& r : cat) {
    if (first_violation_of(s, r.id)) {
      ++failures;
    } else if (exercised(s.coverage, r.id) == 0) {
      ++skipped;
    }
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites>\n<testsuite name=\"patrol contract\" tests=\"" << cat.size()
      << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\" time=\"" << s.seconds
      << "\">\n";
  out << "  <properties>\n    <property name=\"target\" value=\"" << xml_escape(s.target)
      << "\"/>\n    <property name=\"profile\" value=\"" << xml_escape(s.profile)
      << "\"/>\n    <property name=\"seed\" value=\"" << s.seed << "\"/>\n  </properties>\n";
  for (const auto& r : cat) {
    out << "  <testcase classname=\"contract\" name=\""
        << xml_escape(std::string(r.id) + " " + r.title) << "\">\n";
    if (const ViolationReport* v = first_violation_of(s, r.id)) {
      out << "    <failure message=\"" << xml_escape(v->message) << "\">";
      std::string body;
      for (const auto& line : s.transcript) body += line + "\n";
      body += "\nexcerpt: " + v->excerpt + "\nreproduce: " + s.reproduce + "\n";
      out << xml_escape(body) << "</failure>\n";
    } else if (exercised(s.coverage, r.id) == 0) {
      out << "    <skipped message=\"not exercised by this run\"/>\n";
    }
    out << "  </testcase>\n";
  }
  out << "</testsuite>\n</testsuites>\n";
  return out.str();
}

nlohmann::json render_json(const RunSummary& s) {
  nlohmann::json j;
  j["target"] = s.target;
  j["profile"] = s.profile;
  j["seed"] = s.seed;
  j["verdict"] = s.failed ? "violations" : "conforms";
  j["runs"] = {{"requested", s.runs_requested}, {"passed", s.runs_passed}};
  j["steps"] = s.steps;
  j["rate_limited"] = s.rate_limited;
  j["seconds"] = s.seconds;
  j["violations"] = nlohmann::json::array();
  for (const auto& v : s.violations) {
    j["violations"].push_back({{"rule", v.rule}, {"message", v.message}, {"excerpt", v.excerpt}});
  }
  j["counterexample"] = s.transcript;
  j["reproduce"] = s.reproduce;
  if (!s.bundle_dir.empty()) j["bundle"] = s.bundle_dir;
  j["coverage"] = {{"rule_fraction", s.coverage.rule_fraction()},
                   {"rules", s.coverage.rules},
                   {"route_status", s.coverage.route_status},
                   {"states", s.coverage.states}};
  return j;
}

}  // namespace patrol::properties
