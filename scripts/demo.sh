#!/usr/bin/env bash
#! README command 1: sets everything up, starts a real registry (distribution 2.8.2) on loopback,
#! seeds it with the demo data set, and serves ocicat on it at http://127.0.0.1:3000 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-front.sh
cargo build -p ocicat -p xtask
exec target/debug/xtask demo "$@"
