#!/usr/bin/env bash
#! README command 2: sets everything up and runs every test — unit and integration tests
#! against real registries (cargo nextest), then the end-to-end suite in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n[test] %s (%ss)\n' "$*" "$(( $(date +%s) - started ))" >&2; }
# Runs a build command, then fails if the compiler warned (cargo replays cached warnings, so a
# warning cannot hide behind an earlier build).
warnings=$(mktemp)
no_warnings() {
  "$@" 2> >(tee -a "$warnings" >&2)
  wait
  if grep -q '^warning' "$warnings"; then
    echo "[test] the build printed warnings (CI denies them):" >&2
    grep -A6 '^warning' "$warnings" >&2
    exit 1
  fi
}

step "setup"
./scripts/setup.sh
step "format check"
cargo fmt --all --check
step "wasm dependency tree"
./scripts/check-wasm-tree.sh
step "build the browser bundle"
no_warnings ./scripts/build-front.sh
step "build the server and automation"
no_warnings cargo build -p ocicat -p xtask
step "unit and integration tests"
no_warnings cargo nextest run --no-run
cargo nextest run --no-fail-fast
step "fuzz the registry client's parsers (15 s per target)"
./scripts/fuzz.sh 15
step "end-to-end tests in Chromium"
cargo run -q -p xtask -- e2e
step "all tests passed"
