#!/usr/bin/env bash
#! Installs everything ocicat needs on a fresh machine of this kind (idempotent, as root):
#! Debian packages (registries, image tools, the wasm toolchain route, Chromium),
#! wasm-bindgen-cli at the exact Cargo.lock version, the end2end npm packages, and
#! sigstore-python (the peer of the bundle verification tests) in its own virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  # real registries and the tools that seed them
  docker-registry apache2-utils skopeo umoci buildah
  # the wasm frontend: Debian's rustc compiles std for wasm32 from source
  rustc-web cargo-web rust-web-src lld-19
  # the PostgreSQL session store is tested against a real server
  postgresql
  # the browser for end-to-end tests and screenshots
  chromium chromium-driver
  # small helpers used by the scripts
  curl jq ca-certificates python3-venv
  # `xtask bench` counts the server's instructions per search and per page with callgrind
  valgrind
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian registry package ships a unit but no running service here; make sure
# no packaged instance holds port 5000 (we start our own on free ports).
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi

# Two names for 127.0.0.1 that ocicat does not know as internal: the SSRF tests use them to
# play a "public" registry that redirects or resolves to loopback (crates/oci/tests/hostile).
if ! grep -qE '^127\.0\.0\.1[[:space:]].*ocicat-public-a\.test' /etc/hosts; then
  printf '127.0.0.1 ocicat-public-a.test ocicat-public-b.test\n' >> /etc/hosts
fi

# build-std looks for the std sources under the Debian compiler's sysroot.
debian_rustc_version=$(/usr/bin/rustc --version | awk '{print $2}' | sed 's/-.*//')
src_dir=$(ls -d /usr/src/rustc-"${debian_rustc_version}"* 2>/dev/null | head -n1 || true)
if [ -z "$src_dir" ]; then src_dir=$(ls -d /usr/src/rustc-* | sort -V | tail -n1); fi
mkdir -p /usr/lib/rustlib/src
ln -sfn "$src_dir" /usr/lib/rustlib/src/rust

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, "", $0); print; exit}' Cargo.lock)
if [ -z "$wb_version" ]; then log "cannot read the wasm-bindgen version from Cargo.lock"; exit 1; fi
if ! command -v wasm-bindgen >/dev/null 2>&1 || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version"
  cargo install -q wasm-bindgen-cli --version "$wb_version" --force
fi

# ferro-oci-server: the registry with the OCI 1.1 referrers API.
ferro_version=$(cat scripts/ferro-version)
if ! command -v ferro-oci-server >/dev/null 2>&1 || [ "$(cat "$HOME/.cargo/ferro-oci-server.version" 2>/dev/null)" != "$ferro_version" ]; then
  log "installing ferro-oci-server $ferro_version"
  cargo install -q ferro-oci-server --version "$ferro_version" --locked --force
  echo "$ferro_version" > "$HOME/.cargo/ferro-oci-server.version"
fi

# cargo-fuzz for the parser fuzz targets (scripts/fuzz.sh).
fuzz_version=0.13.2
if ! command -v cargo-fuzz >/dev/null 2>&1 || [ "$(cargo fuzz --version | awk '{print $2}')" != "$fuzz_version" ]; then
  log "installing cargo-fuzz $fuzz_version"
  cargo install -q cargo-fuzz --version "=$fuzz_version" --locked --force
fi

# sigstore-python, the peer the bundle verification is checked against
# (crates/trust/tests/peer.rs), in its own virtualenv, at the versions of the requirements file.
sigstore_python="$HOME/.cache/ocicat/sigstore-python-4.5.1"
if ! cmp -s scripts/sigstore-python-requirements.txt "$sigstore_python/requirements.txt"; then
  log "installing sigstore-python 4.5.1"
  rm -rf "$sigstore_python"
  python3 -m venv "$sigstore_python"
  "$sigstore_python/bin/pip" install -q --disable-pip-version-check -r scripts/sigstore-python-requirements.txt
  cp scripts/sigstore-python-requirements.txt "$sigstore_python/requirements.txt"
fi

# Playwright driver (no browser download: we use Debian's Chromium).
if [ ! -d end2end/node_modules/playwright-core ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi
log "setup complete"
