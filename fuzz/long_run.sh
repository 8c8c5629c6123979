#!/usr/bin/env bash
# Long libFuzzer runs, one target after another, with a report line per target (issue 7's
# "done when": every target 10 minutes under ASan + UBSan with no finding).
#   long_run.sh <fuzz build dir> <work dir> <seconds per target> [target...]
# Each target runs through smoke.sh (scratch directory first, committed corpus second, the
# target's .dict and .options), so the committed corpus is never written. Afterwards:
#   <work dir>/<target>/log        libFuzzer's output
#   <work dir>/<target>/new/       inputs with new coverage (merge them with -merge=1 if wanted)
#   <work dir>/<target>/artifacts/ crashes, leaks, timeouts: a finding
#   <work dir>/report.tsv          target, seconds, execs, exec/s, cov, ft, corpus units, finding
# Exits non-zero when any target left an artifact or ended abnormally.
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 <fuzz build dir> <work dir> <seconds per target> [target...]" >&2
  exit 2
fi
build=$1 work=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
corpora=$(cd "$here/../corpora" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/*_fuzzer.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

mkdir -p "$work"
report=$work/report.tsv
[ -f "$report" ] || printf 'target\tseconds\texecs\texec_per_s\tcov\tft\tcorpus\tfinding\n' >"$report"
status=0
for t in "${targets[@]}"; do
  binary=$build/fuzz/$t
  if [ ! -x "$binary" ]; then
    echo "long_run: $binary is missing (build the fuzz preset first)" >&2
    status=1
    continue
  fi
  dir=$work/$t
  echo "long_run: $t for ${seconds}s ($(date -u +%H:%M:%S))"
  bash "$here/smoke.sh" "$binary" "$corpora/$t" "$dir" "$seconds" -1 >"$dir.log" 2>&1
  rc=$?
  mv "$dir.log" "$dir/log"
  log=$dir/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  finding=none
  if [ -n "$(ls -A "$dir/artifacts" 2>/dev/null)" ] || [ $rc -ne 0 ]; then
    finding="rc=$rc $(ls "$dir/artifacts" 2>/dev/null | tr '\n' ' ')"
    status=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$finding" >>"$report"
  tail -1 "$report"
done
exit $status
