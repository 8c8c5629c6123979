// The fuzz targets' assertion: a failed check prints what broke and where, then aborts, so
// libFuzzer and the replay main both report it as a crash. Unlike assert() it survives NDEBUG,
// which every optimised build defines.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace patrol::fuzz {

// Prints the failed condition with its detail to stderr and aborts the process.
[[noreturn]] inline void fail_check(const char* file, int line, const char* condition,
                                    std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
  if (!detail.empty()) {
    std::fwrite(detail.data(), 1, detail.size(), stderr);  // the detail may hold NUL bytes
    std::fputc('\n', stderr);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace patrol::fuzz

// PATROL_FUZZ_CHECK(cond, detail): `detail` (anything convertible to std::string_view) is
// evaluated only when `cond` is false, so it may be costly to build.
#define PATROL_FUZZ_CHECK(cond, detail)                                           \
  do {                                                                            \
    if (!(cond)) {                                                                \
      const std::string patrol_fuzz_detail_(detail);                              \
      ::patrol::fuzz::fail_check(__FILE__, __LINE__, #cond, patrol_fuzz_detail_); \
    }                                                                             \
  } while (false)
