#!/bin/bash -eu
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite expect (their build.sh calls this):
# compilers, flags and engine come from $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE through the
# `ossfuzz` CMake preset; intermediates go to $WORK; $OUT receives each <target> binary with its
# <target>_seed_corpus.zip (seeds and regressions/), <target>.dict and <target>.options.
# Everything comes from the checkout and the image: no network.
# Options set here too: `bash ossfuzz.sh` ignores the ones on the #! line, and a failed build must
# fail the script rather than leave it copying whatever an earlier build left in $WORK.
set -euo pipefail
: "${OUT:?OUT must name the output directory}"
: "${WORK:?WORK must name a scratch directory}"
: "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}"
export CFLAGS="${CFLAGS:-}" CXXFLAGS="${CXXFLAGS:-}"

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$fuzz_dir")
build="$WORK/patrol-fuzz-build"

targets=()
for source in "$fuzz_dir"/*_fuzzer.cpp; do
  targets+=("$(basename "$source" .cpp)")
done

cmake --preset ossfuzz -S "$root" -B "$build"
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"

mkdir -p "$OUT"
for target in "${targets[@]}"; do
  cp "$build/fuzz/$target" "$OUT/"
  corpus="$root/corpora/$target"
  if [ ! -d "$corpus" ]; then echo "ossfuzz.sh: $corpus is missing" >&2; exit 1; fi
  rm -f "$OUT/${target}_seed_corpus.zip"
  # Flat archive: seeds and minimized regressions side by side (zip refuses duplicate names).
  find "$corpus" -type f -print0 | xargs -0 zip -q -j "$OUT/${target}_seed_corpus.zip"
  for extra in dict options; do
    if [ -f "$fuzz_dir/$target.$extra" ]; then cp "$fuzz_dir/$target.$extra" "$OUT/"; fi
  done
done
echo "ossfuzz.sh: ${#targets[@]} fuzz targets in $OUT"
