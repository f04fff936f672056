#!/usr/bin/env bash
# Installs every Debian package Strongbox needs to build, test and run. Safe to run again:
# it only calls apt-get when something is missing.
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
  debhelper dpkg-dev lintian fakeroot             # Debian packages (debian/, label package)
)

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
