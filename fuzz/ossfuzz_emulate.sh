#!/usr/bin/env bash
# Emulates an OSS-Fuzz build of patrol on this machine: sets the variables OSS-Fuzz's base-builder
# sets (libFuzzer engine, one sanitizer), runs fuzz/ossfuzz.sh into a fresh $OUT, checks that every
# target left its binary, seed corpus, dictionary and options there, and runs each binary over its
# unpacked seed corpus the way ClusterFuzz would. Exits 77 (ctest: skipped) when clang or its
# libFuzzer runtime is missing.
#   ossfuzz_emulate.sh [--work DIR] [--sanitizer address|undefined]
# --work keeps the CMake build between runs (default: a temporary directory).
# Unlike OSS-Fuzz, CXXFLAGS carry no -stdlib=libc++: Debian's clang has no libc++ headers here.
set -euo pipefail

work= sanitizer=address
while [ $# -gt 0 ]; do
  case $1 in
    --work) work=$2; shift 2 ;;
    --sanitizer) sanitizer=$2; shift 2 ;;
    *) echo "usage: $0 [--work DIR] [--sanitizer address|undefined]" >&2; exit 2 ;;
  esac
done

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$fuzz_dir")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Can clang link a libFuzzer target at all?
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "ossfuzz_emulate: clang is not installed; skipped" >&2
  exit 77
fi
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  > "$tmp/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address "$tmp/probe.cpp" -o "$tmp/probe" 2>"$tmp/probe.log"; then
  echo "ossfuzz_emulate: clang cannot link libFuzzer; skipped" >&2
  cat "$tmp/probe.log" >&2
  exit 77
fi

case $sanitizer in
  address) sanitizer_flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
  undefined)
    sanitizer_flags="-fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
    ;;
  *) echo "ossfuzz_emulate: unknown sanitizer '$sanitizer'" >&2; exit 2 ;;
esac

# The variables OSS-Fuzz's base-builder sets for a libFuzzer build of a C++ project.
export SRC=$(dirname "$root") OUT="$tmp/out" WORK="${work:-$tmp/work}"
export CC=clang CXX=clang++ FUZZING_ENGINE=libfuzzer SANITIZER=$sanitizer ARCHITECTURE=x86_64
export FUZZING_LANGUAGE=c++ LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $sanitizer_flags -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
mkdir -p "$OUT" "$WORK"

if ! bash "$fuzz_dir/ossfuzz.sh"; then
  echo "ossfuzz_emulate: fuzz/ossfuzz.sh failed (its output is above)" >&2
  exit 1
fi

failures=0
fail() { echo "ossfuzz_emulate: $*" >&2; failures=$((failures + 1)); }

for source in "$fuzz_dir"/*_fuzzer.cpp; do
  target=$(basename "$source" .cpp)
  [ -x "$OUT/$target" ] || { fail "$target: no binary in \$OUT"; continue; }
  # ClusterFuzz runs the binary where no -dev package is installed: a library such as OpenSSL or
  # libhttp-parser must be linked statically. (libstdc++ only here: OSS-Fuzz links libc++ in.)
  shared=$(ldd "$OUT/$target" | awk '{print $1}' |
    grep -Ev '^(linux-vdso\.so|/lib64/ld-linux|ld-linux|libc\.so|libm\.so|libstdc\+\+\.so|libgcc_s\.so|libpthread\.so|libdl\.so|librt\.so)' || true)
  [ -z "$shared" ] || fail "$target: needs shared libraries a runner lacks:" $shared
  zip="$OUT/${target}_seed_corpus.zip"
  [ -s "$zip" ] || { fail "$target: no seed corpus in \$OUT"; continue; }
  for extra in dict options; do
    if [ -f "$fuzz_dir/$target.$extra" ] && ! cmp -s "$fuzz_dir/$target.$extra" "$OUT/$target.$extra"; then
      fail "$target: $target.$extra missing from \$OUT"
    fi
  done
  seeds="$tmp/seeds/$target"
  mkdir -p "$seeds" "$tmp/new/$target"
  unzip -q "$zip" -d "$seeds"
  expected=$(find "$root/corpora/$target" -type f | wc -l)
  actual=$(find "$seeds" -type f | wc -l)
  [ "$expected" -eq "$actual" ] || fail "$target: seed corpus holds $actual files, corpora/ has $expected"
  # -runs=0: execute the corpus once, no mutation. Flags as ClusterFuzz reads them.
  flags=($("$fuzz_dir/options_flags.sh" "$OUT/$target.options"))
  [ -f "$OUT/$target.dict" ] && flags+=("-dict=$OUT/$target.dict")
  if ! (cd "$tmp" && "$OUT/$target" "${flags[@]}" -runs=0 -artifact_prefix="$tmp/new/" \
        "$tmp/new/$target" "$seeds" >"$tmp/$target.log" 2>&1); then
    tail -n 30 "$tmp/$target.log" >&2
    fail "$target: failed on its seed corpus"
    continue
  fi
  echo "ossfuzz_emulate: $target ran its $actual seeds"
done

if [ "$failures" -ne 0 ]; then
  echo "ossfuzz_emulate: $failures problem(s)" >&2
  exit 1
fi
echo "ossfuzz_emulate: every target built, packaged and ran its seed corpus"
