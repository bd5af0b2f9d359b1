#!/usr/bin/env bash
#! Fails when a server-only crate leaks into the browser bundle's dependency tree.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none | sed 's/ .*//' | sort -u)
if [ "$(echo "$tree" | wc -l)" -lt 20 ]; then echo "[check-wasm-tree] cargo tree printed too little to judge" >&2; exit 1; fi
leaked=$(echo "$tree" | grep -E '^(tantivy|reqwest|tokio|axum|tower|tower-http|tower-sessions|tracing-subscriber|mio|hyper|ocicat-oci|ocicat-catalog|ocicat-crawler|ocicat-access|ocicat-content|ocicat-formats|sqlx|utoipa|leptos_axum)$' || true)
if [ -n "$leaked" ]; then
  echo "[check-wasm-tree] server-only crates in the wasm tree: $leaked" >&2
  exit 1
fi
echo "[check-wasm-tree] ok: $(echo "$tree" | wc -l) crates, none server-only" >&2
