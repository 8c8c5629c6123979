// What a conformance run found, and its renderings: the terminal verdict table, contract coverage,
// JUnit XML (one test case per rule) and a JSON summary for CI.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace patrol::properties {

// Every rule id a run can report, in contract order, with a short title.
struct RuleInfo {
  const char* id;
  const char* title;
};
const std::vector<RuleInfo>& rule_catalogue();

// Contract coverage: rules exercised, route x status pairs seen, model states visited.
struct Coverage {
  std::map<std::string, std::int64_t> rules;         // rule id -> exchanges that exercised it
  std::map<std::string, std::int64_t> route_status;  // "E3 404" -> count
  std::map<std::string, std::int64_t> states;        // "E4 on expired token" -> count

  void merge(const Coverage& other);
  // Fraction of catalogued rules exercised at least once, 0..1.
  double rule_fraction() const;
};

struct ViolationReport {
  std::string rule;
  std::string message;
  std::string excerpt;
};

struct RunSummary {
  std::string target;  // "embedded (in-process)", "http://...", ...
  std::string profile;
  std::uint64_t seed = 0;
  int runs_requested = 0;
  int runs_passed = 0;
  std::int64_t steps = 0;
  std::int64_t rate_limited = 0;
  double seconds = 0;
  bool failed = false;
  std::vector<ViolationReport> violations;  // of the shrunk counterexample
  std::vector<std::string> transcript;      // shrunk counterexample, one line per exchange
  std::string reproduce;                    // one command line
  std::string bundle_dir;                   // repro bundle, when written
  Coverage coverage;
};

// Human-readable verdict per rule, the counterexample, the reproduce line and coverage.
std::string render_text(const RunSummary& s, bool color);
std::string render_coverage(const Coverage& c);
// JUnit XML: one <testcase> per catalogued rule; a violated rule is a <failure>; a rule not
// exercised is <skipped>.
std::string render_junit(const RunSummary& s);
nlohmann::json render_json(const RunSummary& s);

// Escapes text for XML attribute and element content.
std::string xml_escape(const std::string& text);

}  // namespace patrol::properties
