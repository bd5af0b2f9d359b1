#!/usr/bin/env bash
#! Builds the browser side into target/site: the hydrate crate for wasm32 (Debian's rustc-web
#! compiling std from source, or rustup's wasm32 target where it is installed), wasm-bindgen,
#! the stylesheet and the public assets. Always the same environment, so the cache stays valid.
set -euo pipefail
cd "$(dirname "$0")/.."
site=target/site
mkdir -p "$site/pkg"

if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --target-dir target/front
else
  env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    /usr/bin/cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --target-dir target/front
fi

wasm-bindgen --target web --no-typescript --remove-name-section \
  --out-dir "$site/pkg" --out-name ocicat target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
mv -f "$site/pkg/ocicat_bg.wasm" "$site/pkg/ocicat.wasm"
cat style/*.css > "$site/pkg/ocicat.css"
cp -r public/. "$site/"
printf '[build-front] wasm %s bytes (%s gzipped)\n' "$(stat -c %s "$site/pkg/ocicat.wasm")" "$(gzip -9c "$site/pkg/ocicat.wasm" | wc -c)" >&2
