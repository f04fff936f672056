#!/usr/bin/env bash
# Installs every Debian package Strongbox needs to build, test and run. Safe to run again:
# it only calls apt-get when something is missing.
#
#   scripts/setup.sh               what the build and the default test run need (and the pinned
#                                  guest kernel, fetched and unpacked, never installed)
#   scripts/setup.sh --packaging   that, plus the Debian packaging tools for debian/ and the
#                                  package test (tests/package)
#   scripts/setup.sh --cvm-kernel  that, plus the sev-snp/tdx image's generic kernel from
#                                  bookworm-backports (scripts/guest-kernel-cvm.pin: 106 MB,
#                                  opt-in; never installed, the host's apt sources untouched)
# The two options may be given together.
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
  liblzma-dev xz-utils                            # sb-mkinitramfs: the CVM kernel's .ko.xz modules
  libsqlite3-dev                                  # attestation service store
  libmicrohttpd-dev                               # attestation service HTTP
  nodejs                                          # V8 reference in the engine benchmark
  curl                                            # talking to the attestation service in tests
  cppcheck clang-tidy                             # static analysis of the trusted folders
  qemu-system-x86                                 # the kvm platform's micro-VMs (docs/host.md)
)

# The guest kernels (scripts/guest-kernel.pin, guest-kernel-cvm.pin): downloaded, checked and
# unpacked by scripts/guest-kernel.sh, never installed. SB_GUEST_CACHE overrides the folder
# (default ~/.cache/strongbox); the build looks there too.
# shellcheck source=guest-kernel.sh
. "$(dirname "$0")/guest-kernel.sh"
fetch_guest_kernel() { sb_kernel_fetch "$(dirname "$0")/$1"; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# Only for building the .deb packages: debhelper + lintian pull in ~140 packages (~120 of them
# Perl), which the default set-up does not need. dpkg-dev comes with build-essential; no fakeroot:
# debian/control says Rules-Requires-Root: no.
PACKAGING_PACKAGES=(
  debhelper                                       # dh, compat 13, cmake build system
  lintian                                         # the package test requires no lintian error
)

CVM_KERNEL=0
for arg in "$@"; do
  case "$arg" in
    --packaging) PACKAGES+=("${PACKAGING_PACKAGES[@]}") ;;
    --cvm-kernel) CVM_KERNEL=1 ;;
    *) echo "usage: scripts/setup.sh [--packaging] [--cvm-kernel]" >&2; exit 2 ;;
  esac
done
fetch_guest_kernels() {
  fetch_guest_kernel guest-kernel.pin
  if [ "$CVM_KERNEL" = 1 ]; then fetch_guest_kernel guest-kernel-cvm.pin; fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  fetch_guest_kernels
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
fetch_guest_kernels
