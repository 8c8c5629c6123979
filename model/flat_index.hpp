// Compact hashing for the model state: a 64-bit byte hash and an open-addressing multimap from
// 64-bit keys to 32-bit indices stored in one flat vector, so copying a model state is a handful
// of memcpys.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace patrol::model {

// Finalises a 64-bit value into a well-spread non-zero key.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x == 0 ? 1 : x;
}

// Fast non-cryptographic 64-bit hash of a byte string (never 0). Two independent lanes of 8
// bytes each halve the dependency chain on long inputs.
inline std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t a = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0xC2B2AE3D27D4EB4FULL);
  std::uint64_t b = 0xD6E8FEB86659FD93ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 16) {
    std::uint64_t w0;
    std::uint64_t w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    a = (a ^ w0) * 0x9FB21C651E98DF25ULL;
    b = (b ^ w1) * 0xC2B2AE3D27D4EB4FULL;
    a ^= a >> 29;
    b ^= b >> 31;
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    a = (a ^ w) * 0x9FB21C651E98DF25ULL;
    a ^= a >> 29;
    p += 8;
    n -= 8;
  }
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  a = (a ^ w ^ (static_cast<std::uint64_t>(n) << 59)) * 0x9FB21C651E98DF25ULL;
  return mix64(a ^ mix64(b));
}

// Open-addressing multimap from non-zero 64-bit keys to 32-bit values; duplicate keys are kept
// (lookups visit every entry with the key). Never shrinks; erase is for undoing inserts.
class FlatIndex {
 public:
  struct Entry {
    std::uint64_t key = 0;  // 0: empty slot
    std::uint32_t value = 0;
    bool operator==(const Entry&) const = default;
  };

  std::size_t size() const { return used_; }

  void insert(std::uint64_t key, std::uint32_t value) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    std::size_t i = slot_of(key, mask);
    while (slots_[i].key != 0) i = (i + 1) & mask;
    slots_[i] = Entry{key, value};
    ++used_;
  }

  // Removes one entry (key, value); returns whether there was one. Backward-shift deletion keeps
  // every other entry reachable from its home slot, so no tombstones are left.
  bool erase(std::uint64_t key, std::uint32_t value) {
    if (slots_.empty()) return false;
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = slot_of(key, mask);
    while (slots_[i].key != 0 && !(slots_[i].key == key && slots_[i].value == value)) {
      i = (i + 1) & mask;
    }
    if (slots_[i].key == 0) return false;
    for (std::size_t j = (i + 1) & mask; slots_[j].key != 0; j = (j + 1) & mask) {
      const std::size_t home = slot_of(slots_[j].key, mask);
      // Entry j stays when its home lies cyclically in (i, j]; otherwise it fills the hole.
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Entry{};
    --used_;
    return true;
  }

  // Calls f(value) for every entry with `key` until f returns true; returns whether it did.
  template <class F>
  bool find_if(std::uint64_t key, F&& f) const {
    if (slots_.empty()) return false;
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = slot_of(key, mask); slots_[i].key != 0; i = (i + 1) & mask) {
      if (slots_[i].key == key && f(slots_[i].value)) return true;
    }
    return false;
  }

  // Starts fetching the slot a lookup of `key` begins at, so several misses overlap.
  void prefetch(std::uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[slot_of(key, slots_.size() - 1)]);
  }

  bool operator==(const FlatIndex&) const = default;

 private:
  static std::size_t slot_of(std::uint64_t key, std::size_t mask) {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
  }

  void grow() {
    std::vector<Entry> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    used_ = 0;
    for (const Entry& e : old) {
      if (e.key != 0) insert(e.key, e.value);
    }
  }

  std::vector<Entry> slots_;
  std::size_t used_ = 0;
};

}  // namespace patrol::model
