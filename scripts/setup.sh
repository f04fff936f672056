#!/usr/bin/env bash
# Installs every Debian package Strongbox needs to build, test and run. Safe to run again:
# it only calls apt-get when something is missing.
#
#   scripts/setup.sh               what the build and the default test run need
#   scripts/setup.sh --packaging   that, plus the Debian packaging tools for debian/ and the opt-in
#                                  package test (`cmake --build BUILD --target check-package`)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git            # toolchain
  clang lld wasi-libc libclang-rt-14-dev-wasm32   # wasm32-wasi programs (and libFuzzer)
  libclang-rt-14-dev                              # clang sanitizer + fuzzer runtimes
  wabt                                            # wast2json for the spec tests
  libssl-dev openssl                              # TLS 1.3, X.509, ECDSA, hashes
  libcbor-dev                                     # CBOR
  libjansson-dev                                  # JSON
  libseccomp-dev                                  # the process platform's sandbox
  libsqlite3-dev                                  # attestation service store
  libmicrohttpd-dev                               # attestation service HTTP
  nodejs                                          # V8 reference in the engine benchmark
  curl                                            # talking to the attestation service in tests
  cppcheck clang-tidy                             # static analysis of the trusted folders
)

# Only for building the .deb packages: debhelper + lintian pull in ~140 packages (~120 of them
# Perl), which the default set-up does not need. dpkg-dev comes with build-essential; no fakeroot:
# debian/control says Rules-Requires-Root: no.
PACKAGING_PACKAGES=(
  debhelper                                       # dh, compat 13, cmake build system
  lintian                                         # the package test requires no lintian error
)

case "${1:-}" in
  "") ;;
  --packaging) PACKAGES+=("${PACKAGING_PACKAGES[@]}") ;;
  *) echo "usage: scripts/setup.sh [--packaging]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
