#!/usr/bin/env bash
# Builds the Debian packages (debian/) from a temporary copy of the source tree, the way an operator
# would (dpkg-buildpackage -us -uc -b), and checks them without installing anything on this machine:
# lintian reports no error, each package holds what it must and nothing twice, the dependencies
# were computed, and the binaries, the library and the .pc file work from a `dpkg -x` extraction.
#
#   tests/package/build.sh SOURCE_DIR [REFERENCE_RUNTIME]
#
# REFERENCE_RUNTIME: a strongbox-runtime built the reproducible way (docs/reproducing.md); when
# given, the packaged runtime must have the same SHA-256 (the measurement parties accept).
# SB_PACKAGE_KEEP=1 keeps the work folder (its path is printed); SB_PACKAGE_REQUIRED=1 turns a
# missing tool into a failure instead of a skip.
set -euo pipefail
src=$(cd "$1" && pwd)
reference_runtime=${2:-}

fail() { echo "package: FAIL: $*" >&2; exit 1; }
# grep that reads all of its input: with pipefail, `producer | grep -q` fails at random when grep
# exits at the first match and the producer (readelf, printf, ...) then dies of SIGPIPE.
has() { grep "$@" >/dev/null; }
# Without the packaging tools the test is skipped (77), except where it must run (CI).
for tool in dpkg-buildpackage dh lintian dpkg-deb pkg-config readelf; do
  if ! command -v "$tool" >/dev/null; then
    msg="$tool is missing: run scripts/setup.sh --packaging (debhelper, lintian)"
    [ "${SB_PACKAGE_REQUIRED:-0}" = 1 ] && fail "$msg"
    echo "package: SKIPPED: $msg"
    exit 77
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-package.XXXXXX")
if [ "${SB_PACKAGE_KEEP:-0}" = 1 ]; then echo "package: work folder $work"
else trap 'rm -rf "$work"' EXIT; fi

# A copy of what a clean checkout holds (tracked files, plus new files not ignored, so that an
# uncommitted debian/ change is tested too): a package build writes into debian/ and obj-*/.
tree=$work/strongbox
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
     xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
  # Files deleted in the work tree but still tracked are simply absent from the copy.
else
  (cd "$src" && tar --exclude='./build*' --exclude='./obj-*' --exclude='./debian/.debhelper' \
     -cf - .) | tar -C "$tree" -xf -
fi
[ -f "$tree/debian/rules" ] || fail "no debian/rules in $src"

echo "package: dpkg-buildpackage -us -uc -b in $tree"
start=$(date +%s)
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b \
        >"$work/build.log" 2>&1); then
  tail -n 60 "$work/build.log" >&2
  fail "dpkg-buildpackage failed (log above)"
fi
echo "package: built in $(( $(date +%s) - start )) s"

version=$(cd "$tree" && dpkg-parsechangelog -S Version)
upstream=${version%%-*}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb() { echo "$work/${1}_${version}_${arch}.deb"; }
packages=(strongbox strongbox-host strongbox-attestd libstrongbox0 libstrongbox-dev)
for p in "${packages[@]}"; do [ -f "$(deb "$p")" ] || fail "no $(basename "$(deb "$p")")"; done

# lintian: no error (warnings and informational tags are printed for the reader).
changes="$work/strongbox_${version}_${arch}.changes"
lintian_out=$(lintian --tag-display-limit 0 "$changes" 2>&1) || true
[ -z "$lintian_out" ] || printf '%s\n' "$lintian_out"
if printf '%s\n' "$lintian_out" | has '^E: '; then fail "lintian reports errors (E: above)"; fi

# Contents: what each package must hold (dpkg-deb -c, paths and symlinks).
contents() { dpkg-deb -c "$(deb "$1")" | awk '{ $1=$2=$3=$4=$5=""; sub(/^ +/, ""); print }'; }
must_hold() {
  local pkg=$1; shift
  local list; list=$(contents "$pkg")
  for path in "$@"; do
    printf '%s\n' "$list" | has -E "^\./${path}( -> .*)?$" || fail "$pkg lacks /$path"
  done
}
lib=usr/lib/$multiarch
must_hold strongbox usr/bin/strongbox
must_hold strongbox-host usr/bin/strongbox-host usr/libexec/strongbox/strongbox-runtime
must_hold strongbox-attestd usr/bin/strongbox-attestd
must_hold libstrongbox0 "$lib/libstrongbox\.so\.0" "$lib/libstrongbox\.so\.${upstream//./\\.}"
must_hold libstrongbox-dev usr/include/strongbox\.h "$lib/libstrongbox\.a" "$lib/libstrongbox\.so" \
          "$lib/pkgconfig/strongbox\.pc"
# Every man page (man/) and systemd unit (dist/systemd/) of the tree is in its program's package.
owner_of() {
  case $1 in strongbox-host*) echo strongbox-host ;; strongbox-attestd*) echo strongbox-attestd ;;
             *) echo strongbox ;; esac
}
for page in "$tree"/man/*.[1-8]; do
  [ -e "$page" ] || continue
  name=$(basename "$page")
  must_hold "$(owner_of "$name")" "usr/share/man/man${name##*.}/${name//./\\.}\\.gz"
done
for unit in "$tree"/dist/systemd/*.service.in; do
  [ -e "$unit" ] || continue
  name=$(basename "$unit" .in)
  must_hold "$(owner_of "$name")" "(usr/)?lib/systemd/system/${name//./\\.}"
done
# The runtime is exec'd by the host, not a command: never on PATH.
contents strongbox-host | has '^\./usr/bin/strongbox-runtime' && fail "runtime on PATH"
# No file in two packages (apt would refuse to install them together).
dups=$(for p in "${packages[@]}"; do contents "$p" | grep -v '/$' | sed 's/ -> .*//'; done |
       sort | uniq -d)
[ -z "$dups" ] || fail "files in more than one package: $dups"

# Dependencies were computed (shlibs), and the -dev package pins its library's exact version.
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
field strongbox-host Depends | has 'libssl3' || fail "strongbox-host Depends lacks libssl3"
field strongbox Depends | has 'libc6' || fail "strongbox Depends lacks libc6"
field strongbox-attestd Depends | has 'libmicrohttpd' ||
  fail "strongbox-attestd Depends lacks libmicrohttpd"
field libstrongbox-dev Depends | has -F "libstrongbox0 (= $version)" ||
  fail "libstrongbox-dev does not depend on libstrongbox0 (= $version)"
dpkg-deb -I "$(deb libstrongbox0)" symbols | has 'strongbox_connect@STRONGBOX_0' ||
  fail "libstrongbox0 has no symbols file with strongbox_connect@STRONGBOX_0"

# Run what was packaged from an extraction (nothing is installed on this machine).
root=$work/root
for p in "${packages[@]}"; do dpkg -x "$(deb "$p")" "$root"; done
export LD_LIBRARY_PATH=$root/$lib
got=$("$root/usr/bin/strongbox" --version)
[ "$got" = "strongbox $upstream" ] ||
  fail "strongbox --version says '$got', debian/changelog says $upstream"
"$root/usr/bin/strongbox-host" --help | has '^usage: strongbox-host' ||
  fail "strongbox-host --help"
"$root/usr/bin/strongbox-attestd" --help >/dev/null || fail "strongbox-attestd --help"

# The runtime: static (no interpreter, no shared library), with its debug information (not
# stripped), and when a reproducible build is given, the very same measurement.
runtime=$root/usr/libexec/strongbox/strongbox-runtime
readelf -lW "$runtime" | has 'INTERP' && fail "packaged runtime has an interpreter"
readelf -dW "$runtime" | has 'NEEDED' && fail "packaged runtime needs shared libraries"
readelf -SW "$runtime" | has '\.debug_info' || fail "packaged runtime was stripped"
if [ -n "$reference_runtime" ]; then
  want=$(sha256sum <"$reference_runtime" | cut -d' ' -f1)
  have=$(sha256sum <"$runtime" | cut -d' ' -f1)
  [ "$want" = "$have" ] ||
    fail "packaged runtime measurement $have differs from the reproducible build's $want"
  echo "package: packaged runtime measurement = reproducible build's ($have)"
fi

# The library as a program using it builds it: pkg-config only, shared link, run against the
# extracted libstrongbox.so.0 (the .pc file is relocatable, so it works from the extraction).
export PKG_CONFIG_PATH=$root/$lib/pkgconfig
cat >"$work/uses_lib.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <strongbox.h>
int main(void)
{
    strongbox_options opts = {.policy_path = "/nonexistent/package-test.policy.json"};
    strongbox_error err = {0};
    char hash[65];
    /* A policy file that does not exist: the library's policy loader must refuse with the
     * local-error code and a message naming the file, before any network use. */
    int rc = strongbox_deploy(&opts, hash, &err);
    printf("%s\n", err.message);
    return rc != 0 && err.code == STRONGBOX_E_LOCAL &&
           strstr(err.message, "package-test.policy.json") ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -o "$work/uses_lib" "$work/uses_lib.c" $(pkg-config --cflags --libs strongbox) ||
  fail "a program using pkg-config strongbox does not build against the -dev package"
ldd "$work/uses_lib" | has "$root/$lib/libstrongbox.so.0" ||
  fail "the program does not load the packaged libstrongbox.so.0"
out=$("$work/uses_lib" 2>&1) || fail "the program linked with the packaged library failed: $out"

echo "package: OK (${packages[*]} $version)"
