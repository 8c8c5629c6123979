#include "app/args.hpp"

#include <charconv>
#include <iostream>
#include <sstream>

namespace patrol::app {

using model::ErrorKind;
using model::make_error;
using model::Result;

Result<Args> Args::parse(const std::vector<OptionSpec>& specs, int argc, char** argv) {
  Args out;
  bool only_positionals = false;
  for (int i = 0; i < argc; ++i) {
    std::string_view word = argv[i];
    if (only_positionals || word.size() < 2 || word.substr(0, 2) != "--") {
      if (word == "-h") {
        out.help_ = true;
        continue;
      }
      if (!only_positionals && word.size() > 1 && word[0] == '-') {
        return make_error(ErrorKind::kInvalid, "unknown option '" + std::string(word) + "'");
      }
      out.positionals_.emplace_back(word);
      continue;
    }
    if (word == "--") {
      only_positionals = true;
      continue;
    }
    std::string name(word.substr(2));
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "help") {
      out.help_ = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return make_error(ErrorKind::kInvalid, "unknown option '--" + name + "'");
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return make_error(ErrorKind::kInvalid, "option '--" + name + "' needs a value");
      }
    } else if (inline_value) {
      return make_error(ErrorKind::kInvalid, "option '--" + name + "' takes no value");
    }
    auto& slot = out.values_[name];
    if (!slot.empty() && !spec->repeatable) {
      return make_error(ErrorKind::kInvalid, "option '--" + name + "' given more than once");
    }
    slot.push_back(std::move(value));
  }
  return out;
}

bool Args::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::optional<std::string> Args::value(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::values(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<long long> Args::integer(std::string_view name, long long fallback) const {
  auto v = value(name);
  if (!v) return fallback;
  long long out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || ptr != v->data() + v->size()) {
    return make_error(ErrorKind::kInvalid,
                      "option '--" + std::string(name) + "': '" + *v + "' is not an integer");
  }
  return out;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::ostringstream out;
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.takes_value ? " " + s.metavar : "");
    out << left;
    if (left.size() < 28) {
      out << std::string(28 - left.size(), ' ');
    } else {
      out << "\n" << std::string(28, ' ');
    }
    out << s.help << (s.repeatable ? " (repeatable)" : "") << "\n";
  }
  return out.str();
}

Invocation parse_command_line(std::string_view name, const std::vector<OptionSpec>& specs,
                              const Usage& usage, int argc, char** argv) {
  auto args = Args::parse(specs, argc, argv);
  if (!args.ok()) return {std::nullopt, usage_failure(name, args.error().message, usage)};
  if (args->help()) {
    usage(std::cout);
    return {std::nullopt, kExitOk};
  }
  return {std::move(*args), kExitOk};
}

int usage_failure(std::string_view name, std::string_view message, const Usage& usage) {
  std::cerr << "patrol " << name << ": " << message << "\n";
  usage(std::cerr);
  return kExitUsage;
}

}  // namespace patrol::app
