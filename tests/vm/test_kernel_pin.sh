#!/usr/bin/env bash
# test_kernel_pin.sh SRC - scripts/guest-kernel.sh without network: the repository's two pins
# read back; every malformed pin refused, naming file, line and key; the kernel config check on
# the config lines of the pinned 6.12 kernel (passes for sev-snp and tdx) and of bookworm's 6.1
# (refused for tdx, naming each missing option), on zstd modules and on a missing file; the
# private apt source list (the host's is never named).
set -u
SRC=$1
# shellcheck source=../../scripts/guest-kernel.sh
. "$SRC/scripts/guest-kernel.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-kpin.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0
check() { # DESCRIPTION CONDITION
  n=$((n + 1))
  if eval "$2"; then echo "ok - $1"; else fails=$((fails + 1)); echo "FAIL: $1 (rc $RC): $OUT"; fi
}
run() { OUT=$("$@" 2>&1); RC=$?; }

# ---------------------------------------------------------------- the repository's pins
run sb_pin_read "$SRC/scripts/guest-kernel-cvm.pin"
sb_pin_read "$SRC/scripts/guest-kernel-cvm.pin" 2>/dev/null
check "guest-kernel-cvm.pin reads: a backports 6.12 kernel for sev-snp and tdx" \
  '[ $RC = 0 ] && [ "$SB_GUEST_KERNEL_TEES" = "sev-snp tdx" ] && [ "$SB_GUEST_KERNEL_SUITE" = bookworm-backports ] &&
   [[ $SB_GUEST_KERNEL_RELEASE == 6.12.* ]] && [ "$SB_GUEST_KERNEL_PACKAGE" = "linux-image-$SB_GUEST_KERNEL_RELEASE" ]'
run sb_pin_read "$SRC/scripts/guest-kernel.pin"
sb_pin_read "$SRC/scripts/guest-kernel.pin" 2>/dev/null
check "guest-kernel.pin reads: no TEEs, the host's sources" \
  '[ $RC = 0 ] && [ -z "$SB_GUEST_KERNEL_TEES" ] && [ -z "$SB_GUEST_KERNEL_SUITE" ]'

# ---------------------------------------------------------------- malformed pins
good=$T/good.pin
grep '^SB_' "$SRC/scripts/guest-kernel-cvm.pin" >"$good"
bad() { # NAME DESCRIPTION WANT SED-EXPRESSION | APPEND-LINE
  if [[ $4 == s* || $4 == /* ]]; then sed "$4" "$good" >"$T/$1.pin"; else { cat "$good"; echo "$4"; } >"$T/$1.pin"; fi
  run sb_pin_read "$T/$1.pin"
  WANT=$3
  check "refused: $2" '[ $RC != 0 ] && grep -qF -- "$WANT" <<<"$OUT"'
}
bad sha "a .deb SHA-256 that is not 64 hex digits" "$T/sha.pin:5: SB_GUEST_KERNEL_DEB_SHA256='abc': 64 lower-case hex digits" \
  's/^SB_GUEST_KERNEL_DEB_SHA256=.*/SB_GUEST_KERNEL_DEB_SHA256=abc/'
bad upper "an upper-case SHA-256" "VMLINUZ_SHA256='62A5" 's/^\(SB_GUEST_KERNEL_VMLINUZ_SHA256=\)62a5/\162A5/'
bad tee "an unknown TEE" "TEES='sev-snp sgx': one or both of sev-snp and tdx" 's/^SB_GUEST_KERNEL_TEES=.*/SB_GUEST_KERNEL_TEES=sev-snp sgx/'
bad twice "a TEE named twice" "TEES='tdx tdx'" 's/^SB_GUEST_KERNEL_TEES=.*/SB_GUEST_KERNEL_TEES=tdx tdx/'
bad missing "a missing VMLINUZ_SHA256" "SB_GUEST_KERNEL_VMLINUZ_SHA256 is missing" '/VMLINUZ_SHA256/d'
bad dup "a key given twice" ":8: SB_GUEST_KERNEL_SUITE given twice" "SB_GUEST_KERNEL_SUITE=bookworm"
bad unknown "an unknown key" "SB_GUEST_KERNEL_URL='http://x': not a key of a pin" "SB_GUEST_KERNEL_URL=http://x"
bad shell "a line that is shell, not KEY=VALUE (never executed)" ":8: want SB_GUEST_KERNEL_KEY=VALUE" 'touch /tmp/sb-pin-pwned'
check "the shell line did not run" '[ ! -e /tmp/sb-pin-pwned ]'
bad subst "a value with a command substitution" "VERSION='\$(id)-1'" 's/^SB_GUEST_KERNEL_VERSION=.*/SB_GUEST_KERNEL_VERSION=$(id)-1/'
bad suite "a suite with a space (a second apt source)" "SUITE='bookworm main'" 's/^SB_GUEST_KERNEL_SUITE=.*/SB_GUEST_KERNEL_SUITE=bookworm main/'
bad release "a package that is not the release's image package" \
  "package linux-image-6.12.95+deb12-amd64 is not the image package of release 6.12.94+deb12-amd64" \
  's/^SB_GUEST_KERNEL_RELEASE=.*/SB_GUEST_KERNEL_RELEASE=6.12.94+deb12-amd64/'
bad nopkg "a package that is no kernel image" "PACKAGE='xz-utils'" 's/^SB_GUEST_KERNEL_PACKAGE=.*/SB_GUEST_KERNEL_PACKAGE=xz-utils/'
run sb_pin_read "$T/absent.pin"
check "refused: a pin file that is not there" '[ $RC != 0 ] && grep -qF "absent.pin: cannot read" <<<"$OUT"'
sed 's/^SB_GUEST_KERNEL_PACKAGE=\(.*\)/SB_GUEST_KERNEL_PACKAGE=\1-unsigned/' "$good" >"$T/unsigned.pin"
run sb_pin_read "$T/unsigned.pin"
check "the -unsigned package of the same release is accepted" '[ $RC = 0 ]'

# ---------------------------------------------------------------- kernel config check
# The lines that matter, as the pinned 6.12 kernel's boot/config-6.12.95+deb12-amd64 has them.
cat >"$T/config-6.12" <<'EOF'
CONFIG_AMD_MEM_ENCRYPT=y
CONFIG_INTEL_TDX_GUEST=y
CONFIG_DEVTMPFS=y
CONFIG_CONFIGFS_FS=m
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_CONSOLE=y
CONFIG_TSM_REPORTS=m
CONFIG_SEV_GUEST=m
CONFIG_TDX_GUEST_DRIVER=m
CONFIG_MODULE_COMPRESS=y
# CONFIG_MODULE_COMPRESS_ZSTD is not set
CONFIG_MODULE_COMPRESS_XZ=y
CONFIG_MODULE_DECOMPRESS=y
EOF
# ... and as bookworm's 6.1 generic kernel (config-6.1.0-57-amd64) has them.
cat >"$T/config-6.1" <<'EOF'
CONFIG_AMD_MEM_ENCRYPT=y
# CONFIG_INTEL_TDX_GUEST is not set
CONFIG_DEVTMPFS=y
CONFIG_CONFIGFS_FS=m
CONFIG_VIRTIO_PCI=m
CONFIG_VIRTIO_CONSOLE=m
CONFIG_SEV_GUEST=m
EOF
run sb_kernel_config_check "$T/config-6.12" "sev-snp tdx"
check "the 6.12 config serves sev-snp and tdx" '[ $RC = 0 ] && [ -z "$OUT" ]'
run sb_kernel_config_check "$T/config-6.1" "sev-snp"
check "the 6.1 config serves sev-snp" '[ $RC = 0 ]'
run sb_kernel_config_check "$T/config-6.1" "sev-snp tdx"
check "the 6.1 config is refused for tdx, each missing option named" \
  '[ $RC = 1 ] && grep -qF "CONFIG_INTEL_TDX_GUEST is not set; the image needs y" <<<"$OUT" &&
   grep -qF "CONFIG_TDX_GUEST_DRIVER is not set; the image needs y or m" <<<"$OUT" &&
   grep -qF "CONFIG_TSM_REPORTS is not set" <<<"$OUT" && [ "$(grep -c . <<<"$OUT")" = 3 ]'
sed 's/^CONFIG_INTEL_TDX_GUEST=y/CONFIG_INTEL_TDX_GUEST=m/' "$T/config-6.12" >"$T/config-m"
run sb_kernel_config_check "$T/config-m" "tdx"
check "a guest option that must be built in (=m) is refused" '[ $RC = 1 ] && grep -qF "CONFIG_INTEL_TDX_GUEST is m; the image needs y" <<<"$OUT"'
sed 's/^CONFIG_MODULE_COMPRESS_XZ=y/CONFIG_MODULE_COMPRESS_ZSTD=y/' "$T/config-6.12" >"$T/config-zstd"
run sb_kernel_config_check "$T/config-zstd" "sev-snp tdx"
check "zstd-compressed modules are refused (sb-mkinitramfs reads plain or xz)" '[ $RC = 1 ] && grep -qF "modules are ZSTD-compressed" <<<"$OUT"'
run sb_kernel_config_check "$T/config-none" "tdx"
check "a missing config file is refused" '[ $RC = 1 ] && grep -qF "config-none: missing" <<<"$OUT"'
run sb_kernel_config_check "$T/config-6.12" "sgx"
check "an unknown TEE is refused" '[ $RC = 1 ] && grep -qF "unknown TEE" <<<"$OUT"'

# ---------------------------------------------------------------- the private apt source list
sb_apt_suite_opts "$T/apt" bookworm-backports
check "the apt options name only the private list, lists and cache" \
  'grep -qx "deb \[signed-by=.*\] http.* bookworm-backports main" "$T/apt/sources.list" &&
   [[ " ${SB_APT_OPTS[*]} " == *" Dir::Etc::SourceParts=- "* ]] && [[ " ${SB_APT_OPTS[*]} " == *"Dir::State::Lists=$T/apt/lists "* ]] &&
   [[ " ${SB_APT_OPTS[*]} " != *" /etc/apt"* ]] && [[ " ${SB_APT_OPTS[*]} " != *"/var/lib/apt"* ]]'
echo "test_kernel_pin: $n checks, $fails failures"
[ $fails -eq 0 ]
