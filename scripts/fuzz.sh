#!/usr/bin/env bash
#! Runs every fuzz target of the registry client for a time budget (seconds per target,
#! default 20) and fails on any crash, printing the crashing input's path. The machine has no
#! nightly toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc take cargo-fuzz's -Z flags (ASan's
#! runtime ships with the stable std for x86_64 Linux).
set -euo pipefail
cd "$(dirname "$0")/../crates/oci/fuzz"
budget=${1:-20}
export RUSTC_BOOTSTRAP=1
targets=(digest_reference manifest www_authenticate link retry_after)
cargo fuzz build -O
failed=0
for target in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "corpus/$target/." "$work/"
  log=$(mktemp)
  if cargo fuzz run -O "$target" "$work" -- -max_total_time="$budget" -rss_limit_mb=2048 -max_len=65536 -timeout=5 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse).*cov:' "$log" | tail -n1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    echo "[fuzz] $target: ok, ${runs:-?} executions in ${budget}s, coverage ${cov:-?}"
  else
    failed=1
    echo "[fuzz] $target: CRASH"
    grep -E 'panicked|ERROR|Test unit written|artifact_prefix' "$log" | head -n 20
  fi
  rm -rf "$work" "$log"
done
exit "$failed"
