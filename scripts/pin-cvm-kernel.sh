#!/usr/bin/env bash
# pin-cvm-kernel.sh [--write] [PACKAGE=VERSION] - re-pins the sev-snp/tdx image's kernel
# (scripts/guest-kernel-cvm.pin; docs/host.md, "Re-pinning the CVM kernel").
#
# Without PACKAGE=VERSION it takes what bookworm-backports' linux-image-amd64 depends on today (the
# newest generic, signed 6.x kernel). It downloads that .deb with a private source list (the
# host's apt configuration is not read or changed), unpacks it into a temporary folder, checks its
# config for everything the CVM image needs on sev-snp and tdx (scripts/guest-kernel.sh), and
# prints the new pin: package, version, release, .deb and vmlinuz SHA-256. --write replaces
# scripts/guest-kernel-cvm.pin with it. Then: scripts/setup.sh --cvm-kernel, rebuild; the CVM
# image's launch measurement changes, so the policies that name it must be updated.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=guest-kernel.sh
. "$here/guest-kernel.sh"
SUITE=bookworm-backports TEES="sev-snp tdx" write=0 want=
for arg in "$@"; do
  case $arg in
    --write) write=1 ;;
    linux-image-*=*) want=$arg ;;
    *) echo "usage: scripts/pin-cvm-kernel.sh [--write] [PACKAGE=VERSION]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-pin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" && { [ "$(id -u)" != 0 ] || chown _apt "$tmp" 2>/dev/null || true; } # apt downloads as _apt
sb_apt_suite_opts "$tmp/apt" "$SUITE"
apt-get "${SB_APT_OPTS[@]}" update -qq
if [ -z "$want" ]; then
  # "Depends: linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)"
  dep=$(apt-cache "${SB_APT_OPTS[@]}" show linux-image-amd64 | sed -n 's/^Depends: //p' | head -1)
  [[ $dep =~ ^(linux-image-[0-9a-z.+-]+)\ \(=\ ([^\)]+)\)$ ]] ||
    { echo "pin-cvm-kernel: cannot read linux-image-amd64's dependency ('$dep')" >&2; exit 1; }
  want="${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
fi
package=${want%%=*} version=${want#*=}
release=${package#linux-image-} release=${release%-unsigned}
echo "pin-cvm-kernel: $package $version from $SUITE" >&2
(cd "$tmp" && apt-get "${SB_APT_OPTS[@]}" download -qq "$want")
deb=$(ls "$tmp"/*.deb)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./boot
sb_kernel_config_check "$tmp/boot/config-$release" "$TEES" ||
  { echo "pin-cvm-kernel: $package cannot serve the CVM image (above)" >&2; exit 1; }
pin=$tmp/pin
{
  sed -n '1,/^# --- pinned ---$/p' "$here/guest-kernel-cvm.pin"
  echo "SB_GUEST_KERNEL_PACKAGE=$package"
  echo "SB_GUEST_KERNEL_VERSION=$version"
  echo "SB_GUEST_KERNEL_RELEASE=$release"
  echo "SB_GUEST_KERNEL_SUITE=$SUITE"
  echo "SB_GUEST_KERNEL_DEB_SHA256=$(sha256sum "$deb" | cut -d' ' -f1)"
  echo "SB_GUEST_KERNEL_VMLINUZ_SHA256=$(sha256sum "$tmp/boot/vmlinuz-$release" | cut -d' ' -f1)"
  echo "SB_GUEST_KERNEL_TEES=$TEES"
} >"$pin"
sb_pin_read "$pin" # the pin this writes must be one setup.sh and the build accept
if [ $write = 1 ]; then
  cp "$pin" "$here/guest-kernel-cvm.pin"
  echo "pin-cvm-kernel: wrote scripts/guest-kernel-cvm.pin; now scripts/setup.sh --cvm-kernel" >&2
else
  cat "$pin"
fi
