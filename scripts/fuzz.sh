#!/usr/bin/env bash
#! Runs every fuzz target of the registry client and of the document parsers for a time budget
#! (seconds per target, default 20) and fails on any crash, printing the crashing input's path.
#! The machine has no nightly toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc take cargo-fuzz's
#! -Z flags (ASan's runtime ships with the stable std for x86_64 Linux). Each run starts from a
#! temporary copy of the committed seed corpus, so what the fuzzer adds is never committed by
#! accident.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
budget=${1:-20}
export RUSTC_BOOTSTRAP=1
# Each fuzz crate (its own workspace) and its targets: "crate dir: target…".
suites=(
  "crates/oci/fuzz: digest_reference manifest www_authenticate link retry_after"
  "crates/formats/fuzz: read_document unpack"
)
# The last "cov: N" / "corp: N" on a libFuzzer status line matching $2 (empty when none).
field() { grep -E "^#[0-9]+[[:space:]]+$2" "$1" | tail -n1 | sed -nE "s/.* $3: ([0-9]+).*/\1/p"; }
failed=0
for suite in "${suites[@]}"; do
  dir=${suite%%:*}
  read -r -a targets <<<"${suite#*:}"
  cd "$root/$dir"
  cargo fuzz build -O
  for target in "${targets[@]}"; do
    work=$(mktemp -d)
    log=$(mktemp)
    cp -r "corpus/$target/." "$work/"
    if cargo fuzz run -O "$target" "$work" -- -max_total_time="$budget" -rss_limit_mb=2048 -max_len=65536 \
      -timeout=5 -print_final_stats=1 >"$log" 2>&1; then
      runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)
      speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n1)
      cov0=$(field "$log" INITED cov)
      cov1=$(field "$log" '(DONE|pulse|NEW|REDUCE)' cov)
      corp0=$(field "$log" INITED corp)
      corp1=$(field "$log" '(DONE|pulse|NEW|REDUCE)' corp)
      cov1=${cov1:-$cov0}
      corp1=${corp1:-$corp0}
      echo "[fuzz] $target: ok, ${runs:-?} executions in ${budget}s (${speed:-?}/s)," \
        "coverage ${cov0:-?} -> ${cov1:-?} (+$(( ${cov1:-0} - ${cov0:-0} )))," \
        "corpus ${corp0:-?} -> ${corp1:-?} inputs"
    else
      failed=1
      echo "[fuzz] $target: CRASH"
      { grep -m1 -A1 "panicked at" "$log" || true; grep -E "ERROR: |SUMMARY: |Test unit written|Base64: " "$log" || true; } |
        head -n 20
      artifact=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)
      if [ -n "$artifact" ]; then
        echo "[fuzz] reproduce: (cd $dir && RUSTC_BOOTSTRAP=1 cargo fuzz run -O $target $artifact)"
      else
        tail -n 20 "$log"
      fi
    fi
    rm -rf "$work" "$log"
  done
done
exit "$failed"
