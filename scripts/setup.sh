#!/usr/bin/env bash
# Installs every Debian package Strongbox needs to build, test and run. Safe to run again:
# it only calls apt-get when something is missing.
#
#   scripts/setup.sh               what the build and the default test run need (and the pinned
#                                  guest kernel, fetched and unpacked, never installed)
#   scripts/setup.sh --packaging   that, plus the Debian packaging tools for debian/ and the
#                                  package test (tests/package)
#   scripts/setup.sh --cvm-kernel  that, plus the sev-snp/tdx image's generic kernel
#                                  (scripts/guest-kernel-cvm.pin: 70 MB, opt-in; never installed)
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
  libsqlite3-dev                                  # attestation service store
  libmicrohttpd-dev                               # attestation service HTTP
  nodejs                                          # V8 reference in the engine benchmark
  curl                                            # talking to the attestation service in tests
  cppcheck clang-tidy                             # static analysis of the trusted folders
  qemu-system-x86                                 # the kvm platform's micro-VMs (docs/host.md)
)

# A guest kernel (fetch_guest_kernel PIN: scripts/guest-kernel.pin, or guest-kernel-cvm.pin):
# downloaded, checked and unpacked, never installed. SB_GUEST_CACHE overrides the folder
# (default ~/.cache/strongbox); the build looks there too.
fetch_guest_kernel() {
  # shellcheck source=guest-kernel.pin
  . "$(dirname "$0")/$1"
  local cache=${SB_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strongbox}
  local dir=$cache/$SB_GUEST_KERNEL_PACKAGE-$SB_GUEST_KERNEL_VERSION
  local vmlinuz=$dir/boot/vmlinuz-$SB_GUEST_KERNEL_RELEASE
  if [ -f "$vmlinuz" ] && echo "$SB_GUEST_KERNEL_VMLINUZ_SHA256  $vmlinuz" | sha256sum -c --status; then
    return 0
  fi
  echo "setup: fetching the guest kernel $SB_GUEST_KERNEL_PACKAGE=$SB_GUEST_KERNEL_VERSION into $dir"
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-kernel.XXXXXX")
  chmod 755 "$tmp" # apt's download user must be able to write there
  # A stale package index may not know the pinned version yet: update it once and retry.
  download() { (cd "$tmp" && apt-get download -qq "$SB_GUEST_KERNEL_PACKAGE=$SB_GUEST_KERNEL_VERSION"); }
  download 2>/dev/null || { ${SUDO:-} apt-get update -qq && download; } ||
    { echo "setup: apt-get download of $SB_GUEST_KERNEL_PACKAGE=$SB_GUEST_KERNEL_VERSION failed;" \
           "once the security archive has superseded it, fetch the pinned .deb from" \
           "snapshot.debian.org (scripts/$1)" >&2; rm -rf "$tmp"; return 1; }
  local deb
  deb=$(ls "$tmp"/*.deb)
  if ! echo "$SB_GUEST_KERNEL_DEB_SHA256  $deb" | sha256sum -c --status; then
    echo "setup: $deb does not have the pinned SHA-256 $SB_GUEST_KERNEL_DEB_SHA256" >&2
    rm -rf "$tmp"; return 1
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" && dpkg-deb -x "$deb" "$dir.tmp"
  rm -rf "$tmp"
  if ! echo "$SB_GUEST_KERNEL_VMLINUZ_SHA256  $dir.tmp/boot/vmlinuz-$SB_GUEST_KERNEL_RELEASE" |
       sha256sum -c --status; then
    echo "setup: the unpacked vmlinuz does not have the pinned SHA-256" >&2
    rm -rf "$dir.tmp"; return 1
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

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
