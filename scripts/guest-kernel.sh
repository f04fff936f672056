# shellcheck shell=bash
# guest-kernel.sh - the guest kernels' pins (scripts/guest-kernel.pin, guest-kernel-cvm.pin):
# reading one strictly, checking an unpacked kernel's config against what the image needs, and
# fetching the pinned package without installing it and without touching the host's apt setup.
# Sourced (bash) by scripts/setup.sh and scripts/pin-cvm-kernel.sh; tested without network by
# tests/vm/test_kernel_pin.sh. Host-side tooling: untrusted, but it decides which kernel bytes
# the guest image measures, so every value is checked before use.

SB_DEBIAN_MIRROR=${SB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SB_DEBIAN_KEYRING=${SB_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

sb_pin_error() { echo "guest kernel pin: $*" >&2; return 1; }

# sb_pin_read FILE: sets SB_GUEST_KERNEL_{PACKAGE,VERSION,RELEASE,DEB_SHA256,VMLINUZ_SHA256} and
# the optional SB_GUEST_KERNEL_{TEES,SUITE} from FILE, which holds only comments, blank lines and
# KEY=VALUE lines (read, never executed). Refuses an unknown or repeated key, a missing one, and
# any value outside its pattern, naming the file and line.
sb_pin_read() {
  local file=$1 line key value n=0 seen=" "
  if [ ! -f "$file" ] || [ ! -r "$file" ]; then sb_pin_error "$file: cannot read"; return 1; fi
  SB_GUEST_KERNEL_PACKAGE='' SB_GUEST_KERNEL_VERSION='' SB_GUEST_KERNEL_RELEASE=''
  SB_GUEST_KERNEL_DEB_SHA256='' SB_GUEST_KERNEL_VMLINUZ_SHA256='' SB_GUEST_KERNEL_TEES=''
  SB_GUEST_KERNEL_SUITE=''
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case $line in '' | '#'*) continue ;; esac
    [[ $line =~ ^SB_GUEST_KERNEL_([A-Z0-9_]+)=(.*)$ ]] ||
      { sb_pin_error "$file:$n: want SB_GUEST_KERNEL_KEY=VALUE, a comment or a blank line"; return 1; }
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    case " $seen " in *" $key "*) sb_pin_error "$file:$n: SB_GUEST_KERNEL_$key given twice"; return 1 ;; esac
    seen+="$key "
    sb_pin_value "$key" "$value" || { sb_pin_error "$file:$n: SB_GUEST_KERNEL_$key='$value': $SB_PIN_WANT"; return 1; }
    printf -v "SB_GUEST_KERNEL_$key" '%s' "$value"
  done <"$file"
  for key in PACKAGE VERSION RELEASE DEB_SHA256 VMLINUZ_SHA256; do
    case "$seen" in *" $key "*) ;; *) sb_pin_error "$file: SB_GUEST_KERNEL_$key is missing"; return 1 ;; esac
  done
  # The package must be the signed or unsigned image package of that kernel release.
  case $SB_GUEST_KERNEL_PACKAGE in
    "linux-image-$SB_GUEST_KERNEL_RELEASE" | "linux-image-$SB_GUEST_KERNEL_RELEASE-unsigned") ;;
    *) sb_pin_error "$file: package $SB_GUEST_KERNEL_PACKAGE is not the image package of release" \
         "$SB_GUEST_KERNEL_RELEASE (linux-image-RELEASE[-unsigned])"; return 1 ;;
  esac
}

# sb_pin_value KEY VALUE: 0 when VALUE fits KEY, else 1 with SB_PIN_WANT saying what fits.
sb_pin_value() {
  local tee
  case $1 in
    PACKAGE) SB_PIN_WANT="a Debian kernel image package, linux-image-..."
             [[ $2 =~ ^linux-image-[0-9a-z][0-9a-z.+-]*$ ]] ;;
    VERSION) SB_PIN_WANT="a Debian version (digits first; letters, digits, . + ~ -)"
             [[ $2 =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] ;;
    RELEASE) SB_PIN_WANT="a kernel release such as 6.12.95+deb12-amd64"
             [[ $2 =~ ^[0-9]+\.[0-9]+[A-Za-z0-9.+_-]*$ ]] ;;
    DEB_SHA256 | VMLINUZ_SHA256) SB_PIN_WANT="64 lower-case hex digits"
             [[ $2 =~ ^[0-9a-f]{64}$ ]] ;;
    SUITE) SB_PIN_WANT="a Debian suite such as bookworm-backports"
           [[ $2 =~ ^[a-z]+(-[a-z]+)*$ ]] ;;
    TEES) SB_PIN_WANT="one or both of sev-snp and tdx, space-separated, each once"
          [[ $2 =~ ^[a-z-]+( [a-z-]+)*$ ]] || return 1
          for tee in $2; do
            case $tee in sev-snp | tdx) ;; *) return 1 ;; esac
            [ "$(grep -o -w -- "$tee" <<<"$2" | wc -l)" = 1 ] || return 1
          done ;;
    *) SB_PIN_WANT="not a key of a pin (PACKAGE VERSION RELEASE DEB_SHA256 VMLINUZ_SHA256 TEES SUITE)"
       return 1 ;;
  esac
}

# sb_kernel_config_check CONFIG "TEES": checks the kernel's config-RELEASE file for what the guest
# image needs: every image the console port, configfs (src/tsm's configfs-tsm), devtmpfs, and
# modules that are plain or xz-compressed (what sb-mkinitramfs reads); a CVM image (TEES not
# empty) virtio-pci (q35); sev-snp the SNP guest code and /dev/sev-guest; tdx the TDX guest code,
# /dev/tdx_guest and configfs-tsm (TSM_REPORTS: a TD's only route to a *quote*; the ioctl
# gives a TDREPORT, which no remote party can verify). Prints each missing option; 1 if any.
sb_kernel_config_check() {
  local config=$1 tees=$2 missing=0 want opt val want_val tee
  [ -f "$config" ] || { echo "kernel config $config: missing" >&2; return 1; }
  want="VIRTIO_CONSOLE:ym CONFIGFS_FS:ym DEVTMPFS:y"
  [ -n "$tees" ] && want+=" VIRTIO_PCI:ym"
  for tee in $tees; do
    case $tee in
      sev-snp) want+=" AMD_MEM_ENCRYPT:y SEV_GUEST:ym" ;;
      tdx) want+=" INTEL_TDX_GUEST:y TDX_GUEST_DRIVER:ym TSM_REPORTS:ym" ;;
      *) echo "kernel config: unknown TEE '$tee'" >&2; return 1 ;;
    esac
  done
  for opt in $want; do
    val=$(sed -n "s/^CONFIG_${opt%%:*}=\(.*\)$/\1/p" "$config" | tail -1) want_val=${opt#*:}
    if [ -z "$val" ] || [[ ${opt#*:} != *"$val"* ]] || [ ${#val} != 1 ]; then
      echo "kernel config $config: CONFIG_${opt%%:*} is ${val:-not set}; the image needs" \
           "${want_val/ym/y or m}" >&2
      missing=1
    fi
  done
  for opt in GZIP ZSTD; do
    if grep -qx "CONFIG_MODULE_COMPRESS_$opt=y" "$config"; then
      echo "kernel config $config: modules are $opt-compressed; sb-mkinitramfs reads plain or" \
           "xz-compressed modules only" >&2
      missing=1
    fi
  done
  return $missing
}

# sb_apt_suite_opts DIR SUITE: apt options (in SB_APT_OPTS) that make apt-get/apt-cache use
# only DIR's one-line source list for SUITE, with its own lists and cache: the host's apt
# configuration and package lists are neither read nor changed.
sb_apt_suite_opts() {
  local dir=$1 suite=$2
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" || return 1
  echo "deb [signed-by=$SB_DEBIAN_KEYRING] $SB_DEBIAN_MIRROR $suite main" >"$dir/sources.list"
  SB_APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=-"
               -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
               -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
}

# sb_kernel_download PIN_FILE TMPDIR: the pinned .deb into TMPDIR. With a SUITE in the pin, from
# that suite alone (sb_apt_suite_opts); without, from the host's sources (refreshed once when
# stale). A version the archive no longer has is reported as such, with how to re-pin.
sb_kernel_download() {
  local pin=$1 tmp=$2 want="$SB_GUEST_KERNEL_PACKAGE=$SB_GUEST_KERNEL_VERSION"
  if [ -z "$SB_GUEST_KERNEL_SUITE" ]; then
    (cd "$tmp" && apt-get download -qq "$want") 2>/dev/null && return 0
    ${SUDO:-} apt-get update -qq && (cd "$tmp" && apt-get download -qq "$want") && return 0
    echo "setup: apt-get download of $want failed; once the archive has superseded it, fetch" \
         "the pinned .deb from snapshot.debian.org ($pin)" >&2
    return 1
  fi
  sb_apt_suite_opts "$tmp/apt" "$SB_GUEST_KERNEL_SUITE" || return 1
  apt-get "${SB_APT_OPTS[@]}" update -qq >"$tmp/apt/update.log" 2>&1 ||
    { cat "$tmp/apt/update.log" >&2
      echo "setup: cannot read $SB_GUEST_KERNEL_SUITE's package index from $SB_DEBIAN_MIRROR" >&2
      return 1; }
  if ! apt-cache "${SB_APT_OPTS[@]}" show "$SB_GUEST_KERNEL_PACKAGE" 2>/dev/null |
       grep -qxF "Version: $SB_GUEST_KERNEL_VERSION"; then
    echo "setup: $pin pins $want, which $SB_GUEST_KERNEL_SUITE no longer carries (backports" \
         "keeps only recent kernels). Re-pin with scripts/pin-cvm-kernel.sh --write (docs/host.md," \
         "\"Re-pinning the CVM kernel\"): the new kernel changes the CVM image and its launch" \
         "measurement. The old .deb stays on snapshot.debian.org if this exact one is needed." >&2
    return 1
  fi
  (cd "$tmp" && apt-get "${SB_APT_OPTS[@]}" download -qq "$want") 2>"$tmp/apt/download.log" ||
    { cat "$tmp/apt/download.log" >&2; echo "setup: apt-get download of $want failed" >&2; return 1; }
}

# sb_kernel_fetch PIN_FILE: the pinned kernel, downloaded, checked (.deb and vmlinuz SHA-256, and
# for a CVM pin its config) and unpacked into the cache (SB_GUEST_CACHE, default
# ~/.cache/strongbox) as PACKAGE-VERSION/; never installed. Nothing to do when it is there.
sb_kernel_fetch() {
  local pin=$1 cache dir vmlinuz tmp deb
  sb_pin_read "$pin" || return 1
  cache=${SB_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strongbox}
  dir=$cache/$SB_GUEST_KERNEL_PACKAGE-$SB_GUEST_KERNEL_VERSION
  vmlinuz=$dir/boot/vmlinuz-$SB_GUEST_KERNEL_RELEASE
  if [ -f "$vmlinuz" ] && echo "$SB_GUEST_KERNEL_VMLINUZ_SHA256  $vmlinuz" | sha256sum -c --status; then
    return 0
  fi
  echo "setup: fetching the guest kernel $SB_GUEST_KERNEL_PACKAGE=$SB_GUEST_KERNEL_VERSION" \
       "${SB_GUEST_KERNEL_SUITE:+from $SB_GUEST_KERNEL_SUITE }into $dir"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-kernel.XXXXXX") || return 1
  chmod 755 "$tmp" && { [ "$(id -u)" != 0 ] || chown _apt "$tmp" 2>/dev/null || true; } # apt downloads as _apt
  if ! sb_kernel_download "$pin" "$tmp"; then rm -rf "$tmp"; return 1; fi
  deb=$(ls "$tmp"/*.deb)
  if ! echo "$SB_GUEST_KERNEL_DEB_SHA256  $deb" | sha256sum -c --status; then
    echo "setup: $deb does not have the pinned SHA-256 $SB_GUEST_KERNEL_DEB_SHA256 ($pin)" >&2
    rm -rf "$tmp"; return 1
  fi
  mkdir -p "$cache" && rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" && dpkg-deb -x "$deb" "$dir.tmp"
  rm -rf "$tmp"
  if ! echo "$SB_GUEST_KERNEL_VMLINUZ_SHA256  $dir.tmp/boot/vmlinuz-$SB_GUEST_KERNEL_RELEASE" |
       sha256sum -c --status; then
    echo "setup: the unpacked vmlinuz does not have the pinned SHA-256 ($pin)" >&2
    rm -rf "$dir.tmp"; return 1
  fi
  if ! sb_kernel_config_check "$dir.tmp/boot/config-$SB_GUEST_KERNEL_RELEASE" "$SB_GUEST_KERNEL_TEES"; then
    echo "setup: $SB_GUEST_KERNEL_PACKAGE cannot serve the guest image ($pin)" >&2
    rm -rf "$dir.tmp"; return 1
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
