#!/usr/bin/env bash
# Bounded libFuzzer run of one target (ctest label fuzz-smoke, clang builds):
#   smoke.sh <fuzzer binary> <corpus dir> <scratch dir> <seconds> <max runs>
# The scratch directory is emptied and passed first, so new inputs land there and never in the
# committed corpus, which is read (with its regressions/) as the second directory. The target's
# fuzz/<name>.dict and the [libfuzzer] section of fuzz/<name>.options apply, as under OSS-Fuzz.
set -euo pipefail

if [ $# -ne 5 ]; then
  echo "usage: $0 <fuzzer binary> <corpus dir> <scratch dir> <seconds> <max runs>" >&2
  exit 2
fi
binary=$1 corpus=$2 scratch=$3 seconds=$4 runs=$5
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$binary")

[ -d "$corpus" ] || { echo "smoke: corpus directory $corpus is missing" >&2; exit 2; }
rm -rf "$scratch"
mkdir -p "$scratch/new" "$scratch/artifacts"

flags=()
[ -f "$here/$name.dict" ] && flags+=("-dict=$here/$name.dict")
flags+=($("$here/options_flags.sh" "$here/$name.options"))

exec "$binary" "${flags[@]}" -max_total_time="$seconds" -runs="$runs" \
  -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 "$scratch/new" "$corpus"
