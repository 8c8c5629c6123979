// The choices a command generator makes, all the same way: a number in [0, n) drawn from the
// stream of the command's own seed, turned into the value. The runner shrinks a sequence by
// removing command seeds (runner.cpp), never by changing a choice inside a command, so a choice
// needs no RapidCheck record: a plain counter-based stream (splitmix64) gives the same command
// for the same seed in the same state, whatever the case's size, at a small fraction of the cost
// of a recorded rc::gen pick (which was a tenth of an in-process run's time).
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace patrol::properties::choose {

// Thrown by a pick that has nothing to pick from: no command of that kind applies now.
struct NothingToPick : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// splitmix64 (Steele, Lea, Flood 2014): every seed, including 0, gives a full-period stream.
class Stream {
 public:
  explicit Stream(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

namespace detail {
inline thread_local Stream* current = nullptr;
}

// While it lives, every choice on this thread comes from `seed`'s stream. Scopes nest.
class Scope {
 public:
  explicit Scope(std::uint64_t seed) : stream_(seed), outer_(detail::current) {
    detail::current = &stream_;
  }
  ~Scope() { detail::current = outer_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Stream stream_;
  Stream* outer_;
};

// A number in [0, n); n must be at least 1. Needs a Scope on this thread.
inline std::uint64_t below(std::uint64_t n) {
  if (detail::current == nullptr) throw std::logic_error("choose: a pick outside any Scope");
  // Every pick draws exactly one number, even with one option: when shrinking removes a token,
  // a pick among one token instead of two must not shift the choices after it, or the shrunk
  // command would differ in more than its target. The modulo bias is below n / 2^64.
  const std::uint64_t x = detail::current->next();
  return n <= 1 ? 0 : x % n;
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
  if (total == 0) throw NothingToPick("every option has weight 0");
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
  if (c.empty()) throw NothingToPick("nothing to pick from");
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
