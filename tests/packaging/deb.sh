#!/usr/bin/env bash
# Builds the Debian packages from a copy of the source tree (dpkg-buildpackage -us -uc -b) and
# checks them: the five packages exist, each holds what it promises, and lintian reports no
# error. usage: deb.sh SOURCE_DIR
set -u
S=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/sb-deb-XXXXXX)
FAILED=0
trap '[ "$FAILED" -eq 0 ] && rm -rf "$T" || echo "kept $T"' EXIT
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; [ -z "${2:-}" ] || sed 's/^/       /' <<<"$2"; }
ok() { echo "ok   - $1"; }
mkdir "$T/strongbox"
# The files git knows (committed or not, ignored ones left out): what a clean clone holds.
(cd "$S" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$T/strongbox")
(cd "$T/strongbox" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b >"$T/build.log" 2>&1) ||
  { fail "dpkg-buildpackage -us -uc -b" "$(tail -40 "$T/build.log")"; exit 1; }
ok "dpkg-buildpackage -us -uc -b"
want() { # PACKAGE PATH...: the package exists and holds every PATH
  local pkg=$1 deb
  shift
  deb=$(ls "$T/${pkg}_"*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { fail "$pkg: no package built"; return; }
  local list missing=""
  list=$(dpkg-deb -c "$deb")
  for p in "$@"; do grep -q -- "\./$p\$\|\./$p -> " <<<"$list" || missing="$missing $p"; done
  [ -z "$missing" ] && ok "$pkg holds $*" || fail "$pkg lacks:$missing" "$list"
}
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
want strongbox usr/bin/strongbox usr/share/man/man1/strongbox.1.gz usr/share/man/man5/strongbox-policy.5.gz
want strongbox-host usr/bin/strongbox-host usr/libexec/strongbox/strongbox-runtime \
  lib/systemd/system/strongbox-host.service usr/share/man/man8/strongbox-host.8.gz
want strongbox-attestd usr/bin/strongbox-attestd lib/systemd/system/strongbox-attestd.service \
  usr/share/man/man8/strongbox-attestd.8.gz
want libstrongbox0 "usr/lib/$MA/libstrongbox.so.0" "usr/lib/$MA/libstrongbox.so.0.1.0"
want libstrongbox-dev usr/include/strongbox.h "usr/lib/$MA/libstrongbox.a" "usr/lib/$MA/libstrongbox.so" \
  "usr/lib/$MA/pkgconfig/strongbox.pc"
out=$(lintian --fail-on error "$T"/strongbox_*.changes 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "lintian: no errors ($(grep -c '^W:' <<<"$out") warnings)" || fail "lintian reports errors" "$out"
[ "$FAILED" -eq 0 ]
