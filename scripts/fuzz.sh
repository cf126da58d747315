#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh BUILD_DIR SECONDS [TARGET...] -- run the libFuzzer targets of a build configured with
# EF_FUZZ=ON (make fuzz does that, in build-fuzz), each for SECONDS under ASan + UBSan.
#
# Each target starts from its seeds (tests/fuzz/corpus/<name> and the fixtures its CMake line
# names), copied into BUILD_DIR/fuzz/<name>/corpus, which keeps what libFuzzer finds from one
# run to the next. A crash, a leak, a timeout or a broken property stops the target: its input is
# saved as BUILD_DIR/fuzz/<name>/crash-* (or leak-*, timeout-*), the log is printed, and the
# script fails once every target has run. docs/fuzzing.md says how to turn one into a regression
# input.
set -uo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
list="$build/fuzz-targets.tsv"
[ -f "$list" ] || { echo "fuzz.sh: $list missing: configure $build with -DEF_FUZZ=ON" >&2; exit 2; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
while IFS=$'\t' read -r name exe maxlen dict seeds; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  work="$build/fuzz/$name"
  mkdir -p "$work/corpus"
  IFS=: read -ra paths <<<"$seeds"
  for p in "${paths[@]}"; do # seeds: every regular file of each directory, or the file itself
    if [ -d "$p" ]; then find "$p" -maxdepth 1 -type f ! -name '.*' -exec cp -f {} "$work/corpus/" \;
    elif [ -f "$p" ]; then cp -f "$p" "$work/corpus/"; fi
  done
  args=(-max_total_time="$seconds" -max_len="$maxlen" -timeout=25 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$work/")
  [ "$dict" != "-" ] && args+=(-dict="$dict")
  start=$(date +%s)
  "$exe" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
  files=$(find "$work/corpus" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    failed+=("$name")
    echo "=== fuzz_$name FAILED (exit $rc): log $work/log" >&2
    grep -v '^#[0-9]' "$work/log" | tail -60 >&2
    summary+=("$(printf '%-11s FAILED after %ss, %s runs, see %s' "$name" "$took" "${runs:-?}" "$work")")
  else
    summary+=("$(printf '%-11s ok %4ss %9s runs  %-9s corpus %s' "$name" "$took" "${runs:-?}" "${cov:-}" "$files")")
  fi
done <"$list"

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${failed[*]} failed" >&2
  exit 1
fi
