// `patrol linearize HISTORY.json`: checks a concurrent history recorded elsewhere (or by
// `patrol check --parallel`) for linearizability against the contract model; see
// properties/linearizability.hpp for the file format.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/files.hpp"
#include "model/codec.hpp"
#include "properties/linearizability.hpp"

namespace patrol::app {
namespace {

// Exit code when a bound was reached before a verdict.
constexpr int kExitUnknown = 4;

const std::vector<OptionSpec> kOptions = {
    {"profile", true, false, "hub or spec (default: the history's, else hub)", "NAME"},
    {"profile-overrides", true, false, "JSON object of profile members to change", "FILE"},
    {"time-limit", true, false, "seconds before the verdict is unknown (default 10)", "SECONDS"},
    {"memory-limit", true, false, "MiB of working memory before unknown (default 1024)", "MIB"},
    {"no-split", false, false, "check the history as one part (no P-compositionality)"},
    {"html", true, false,
     "where to write the HTML timeline of a counterexample (default: beside the history)", "FILE"},
    {"json", true, false, "write the verdict as JSON", "FILE"},
};

constexpr const char* kUsage =
    "usage: patrol linearize HISTORY.json [options]\n\n"
    "Decides whether some order of the history's operations, consistent with real time,\n"
    "explains every response when the contract model judges them in that order. A failure\n"
    "prints the smallest unexplainable part as a timeline and writes it as an HTML page.\n"
    "History format: JSON \"patrol-history/1\" (README, properties/linearizability.hpp).\n\n"
    "exit codes: 0 linearizable, 1 not linearizable, 2 usage or bad input,\n"
    "            4 unknown (a time or memory limit was reached first)\n\noptions:\n";

int usage_error(const std::string& message) {
  std::cerr << "patrol linearize: " << message << "\n";
  return kExitUsage;
}

std::string html_path_for(const std::string& history) {
  std::string base = history;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) {
    base.resize(base.size() - 5);
  }
  return base + ".timeline.html";
}

}  // namespace

int run_linearize(int argc, char** argv) {
  auto parsed = Args::parse(kOptions, argc, argv);
  if (!parsed.ok()) return usage_error(parsed.error().message);
  const Args& args = *parsed;
  if (args.help()) {
    std::cout << kUsage << format_options(kOptions);
    return kExitOk;
  }
  if (args.positionals().size() != 1) {
    return usage_error("expected one HISTORY.json argument (see patrol linearize --help)");
  }
  const std::string file = args.positionals().front();
  auto text = read_file(file, std::size_t{1} << 30);
  if (!text.ok()) return usage_error(text.error().message);
  auto history = properties::parse_history(*text);
  if (!history.ok()) return usage_error(file + ": " + history.error().message);

  auto profile = model::profile_by_name(args.value("profile").value_or(history->profile));
  if (!profile.ok()) return usage_error(profile.error().message);
  if (auto overrides = args.value("profile-overrides")) {
    auto o = read_file(*overrides);
    if (!o.ok()) return usage_error(o.error().message);
    auto json = model::parse_json(*o);
    if (!json.ok()) return usage_error(*overrides + ": " + json.error().message);
    auto p = model::apply_profile_overrides(*profile, *json);
    if (!p.ok()) return usage_error(*overrides + ": " + p.error().message);
    profile = *p;
  }

  properties::CheckLimits limits;
  if (auto t = args.value("time-limit")) {
    char* end = nullptr;
    limits.time_limit_s = std::strtod(t->c_str(), &end);
    if (t->empty() || end != t->c_str() + t->size() || !(limits.time_limit_s >= 0)) {
      return usage_error("--time-limit '" + *t + "' is not a number of seconds");
    }
  }
  auto mib = args.integer("memory-limit", 1024);
  if (!mib.ok()) return usage_error(mib.error().message);
  if (*mib < 1) return usage_error("--memory-limit must be at least 1 MiB");
  limits.memory_limit_bytes = static_cast<std::size_t>(*mib) << 20;
  limits.split = !args.has("no-split");

  auto r = properties::check_linearizable(*history, *profile, limits);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s: %zu operations in %zu part(s) (%zu checked), %zu judgements, largest memo "
                "%zu, peak working memory %.1f MiB, %.3f s\n",
                std::string(properties::to_string(r.verdict)).c_str(), r.operations, r.parts,
                r.parts_checked, r.judgements, r.memo_entries,
                static_cast<double>(r.peak_bytes) / (1 << 20), r.seconds);
  std::cout << line;
  if (r.verdict == properties::Linearizable::kUnknown) std::cout << "  " << r.reason << "\n";

  std::optional<std::string> html_file;
  if (r.counterexample) {
    std::cout << "\n" << properties::render_timeline_text(*history, *r.counterexample);
    html_file = args.value("html").value_or(html_path_for(file));
    auto st = write_file_atomic(*html_file,
                                properties::render_timeline_html(*history, *r.counterexample));
    if (!st.ok()) {
      std::cerr << "patrol linearize: " << st.error().message << "\n";
      html_file.reset();
    } else {
      std::cout << "\nHTML timeline: " << *html_file << "\n";
    }
  }
  if (auto out = args.value("json")) {
    model::Json j = {{"verdict", std::string(properties::to_string(r.verdict))},
                     {"operations", r.operations},
                     {"parts", r.parts},
                     {"parts_checked", r.parts_checked},
                     {"judgements", r.judgements},
                     {"seconds", r.seconds}};
    if (!r.reason.empty()) j["reason"] = r.reason;
    if (r.counterexample) {
      model::Json why = model::Json::array();
      for (const auto& v : r.counterexample->why) {
        why.push_back({{"rule", v.rule}, {"message", v.message}});
      }
      j["counterexample"] = {{"part", r.counterexample->part},
                             {"operations", r.counterexample->operations},
                             {"stuck", r.counterexample->stuck},
                             {"explained", r.counterexample->explained},
                             {"why", why}};
      if (html_file) j["html"] = *html_file;
    }
    if (auto st = write_file_atomic(*out, j.dump(2) + "\n"); !st.ok()) {
      std::cerr << "patrol linearize: " << st.error().message << "\n";
      return kExitUsage;
    }
  }
  switch (r.verdict) {
    case properties::Linearizable::kYes:
      return kExitOk;
    case properties::Linearizable::kNo:
      return kExitViolations;
    case properties::Linearizable::kUnknown:
      return kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace patrol::app
