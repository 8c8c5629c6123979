// The choices a command generator makes, all the same way: a number in [0, n) drawn at
// RapidCheck's nominal size, turned into the value. rc::gen::inRange and friends scale their
// range with the case's size; commands are picked from a per-step seed at a fixed size, and a
// deleted token must be as likely a target in the first sequence of a run as in the last.
// Shrinking moves each number towards 0: the first option, the lowest value.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace patrol::properties::choose {

// A number in [0, n); n must be at least 1.
inline std::uint64_t below(std::uint64_t n) {
  if (n <= 1) return 0;
  // At RapidCheck's nominal size the range is used whole, whatever size the case runs at.
  return *rc::gen::resize(100, rc::gen::inRange<std::uint64_t>(0, n)) % n;
}

// A value in [lo, hi).
template <class T>
T in_range(T lo, T hi) {
  return static_cast<T>(lo + static_cast<T>(below(static_cast<std::uint64_t>(hi - lo))));
}

inline bool coin() { return below(2) == 1; }

// One of the options, each with its weight; options of weight 0 are never picked. At least one
// weight must be positive. `options` is any range of (weight, value) pairs.
template <class Options>
auto weighted_of(const Options& options) {
  std::uint64_t total = 0;
  for (const auto& o : options) total += o.first;
  if (total == 0) throw rc::GenerationFailure("every option has weight 0");
  std::uint64_t roll = below(total);
  for (const auto& o : options) {
    if (roll < o.first) return o.second;
    roll -= o.first;
  }
  return options.begin()->second;  // unreachable
}

template <class T>
T weighted(std::initializer_list<std::pair<std::uint64_t, T>> options) {
  return weighted_of(options);
}

template <class T>
T weighted(const std::vector<std::pair<std::uint64_t, T>>& options) {
  return weighted_of(options);
}

// One element of a non-empty container.
template <class C>
typename C::value_type element_of(const C& c) {
  if (c.empty()) throw rc::GenerationFailure("nothing to pick from");
  auto it = c.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(below(c.size())));
  return *it;
}

// One of the arguments.
template <class T, class... Rest>
T element(T first, Rest... rest) {
  return element_of(std::vector<T>{first, static_cast<T>(rest)...});
}

}  // namespace patrol::properties::choose
