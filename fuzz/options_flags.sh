#!/usr/bin/env bash
# Prints the [libfuzzer] section of a ClusterFuzz .options file as libFuzzer flags, one per line
# ("max_len = 65536" becomes "-max_len=65536"). Prints nothing when the file does not exist.
#   options_flags.sh <file.options>
set -euo pipefail
file=${1:?usage: options_flags.sh <file.options>}
[ -f "$file" ] || exit 0
section=
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  line=$(printf '%s' "$line" | tr -d '[:space:]')
  [ -n "$line" ] || continue
  case $line in
    \[*\]) section=${line:1:${#line}-2} ;;
    *=*) if [ "$section" = libfuzzer ]; then printf -- '-%s=%s\n' "${line%%=*}" "${line#*=}"; fi ;;
  esac
done < "$file"
