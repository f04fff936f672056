#!/usr/bin/env bash
# `cmake --install` as a user or a packager does it, then a program built through pkg-config only.
#   1. DESTDIR staging: every installed file lands under DESTDIR, none is missing.
#   2. An install into a temporary prefix; its strongbox-attestd and strongbox-host (running the
#      installed runtime from libexec) are started, its CLI makes keys and a policy, and an
#      external program is built twice from `pkg-config strongbox`: against the shared library
#      and, in a copy of the prefix without it, statically (`pkg-config --static`). Both connect,
#      verify the isolate, put and get.
# usage: install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -u
B=$(cd "$1" && pwd) S=$(cd "$2" && pwd) EXTRA=${3:-}
source "$S/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-install
D=$T/destdir P=$T/prefix

# ---------------------------------------------------------------- 1. DESTDIR
DESTDIR=$D cmake --install "$B" --prefix /usr >"$T/destdir.log" 2>&1
sbx_check "cmake --install with DESTDIR succeeds" '[ $? -eq 0 ]' "$(cat "$T/destdir.log")"
LIBDIR=$(sed -n 's/^libdir=\${prefix}\///p' "$D/usr/"lib*/pkgconfig/strongbox.pc 2>/dev/null | head -1)
[ -n "$LIBDIR" ] || LIBDIR=lib
missing=""
for f in bin/strongbox bin/strongbox-host bin/strongbox-attestd libexec/strongbox/strongbox-runtime \
         include/strongbox.h "$LIBDIR/libstrongbox.a" "$LIBDIR/libstrongbox.so" \
         "$LIBDIR/libstrongbox.so.0" "$LIBDIR/pkgconfig/strongbox.pc" share/man/man1/strongbox.1 \
         share/man/man5/strongbox-policy.5 share/man/man8/strongbox-host.8 \
         share/man/man8/strongbox-attestd.8 lib/systemd/system/strongbox-host.service \
         lib/systemd/system/strongbox-attestd.service; do
  [ -e "$D/usr/$f" ] || missing="$missing $f"
done
sbx_check "DESTDIR holds the CLI, both daemons, the runtime, header, libraries and .pc" \
  '[ -z "$missing" ]' "missing:$missing"
outside=$(cd "$D" && find . -type f | grep -v '^\./usr/' | head)
sbx_check "nothing installed outside the prefix" '[ -z "$outside" ]' "$outside"

# Man pages: strongbox(1) names every subcommand `strongbox help` lists; all render cleanly.
undocumented=$("$B/src/cli/strongbox" help | sed -n 's/^  \([a-z-]*\) .*/\1/p' | while read -r c; do
  grep -q "^\.B $c\b" "$D/usr/share/man/man1/strongbox.1" || echo "$c"; done)
sbx_check "strongbox(1) describes every subcommand" '[ -z "$undocumented" ]' "missing: $undocumented"
warnings=$(for m in "$D"/usr/share/man/man*/*; do groff -man -Tutf8 -ww -z "$m" 2>&1; done)
sbx_check "the man pages render without warnings" '[ -z "$warnings" ]' "$warnings"
# systemd units: hardened, state under StateDirectory, commands that the install holds.
for u in host attestd; do
  f=$D/usr/lib/systemd/system/strongbox-$u.service
  sbx_check "strongbox-$u.service: DynamicUser, ProtectSystem=strict, StateDirectory" \
    'grep -qx DynamicUser=yes "$f" && grep -qx ProtectSystem=strict "$f" &&
     grep -qx "StateDirectory=strongbox-$u" "$f" && grep -qx NoNewPrivileges=yes "$f"' "$(cat "$f")"
  absent=$(grep -o '/usr/[^ "]*strongbox[^ "]*' "$f" | sort -u | while read -r x; do
    [ -x "$D$x" ] || echo "$x"; done)
  sbx_check "strongbox-$u.service runs installed binaries" '[ -z "$absent" ]' "not installed: $absent"
done

noversion=$(for x in bin/strongbox bin/strongbox-host bin/strongbox-attestd \
                    libexec/strongbox/strongbox-runtime; do
  "$D/usr/$x" --version | grep -qx "$(basename "$x") [0-9.]*" || echo "$x"; done)
sbx_check "every installed binary answers --version" '[ -z "$noversion" ]' "no version: $noversion"

# ---------------------------------------------------------------- 2. prefix + pkg-config
cmake --install "$B" --prefix "$P" >"$T/install.log" 2>&1 ||
  { sbx_fail "cmake --install --prefix" "$(cat "$T/install.log")"; exit 1; }
LIB=$P/$LIBDIR
SB=$P/bin/strongbox HOSTD=$P/bin/strongbox-host ATTESTD=$P/bin/strongbox-attestd
RUNTIME=$P/libexec/strongbox/strongbox-runtime
sbx_start_services
sbx_keygen alice
ln -s "$RUNTIME" "$T/strongbox-runtime"
cat >"$T/template.json" <<'J'
{"name": "install-test", "expires": "+1h",
 "identities": [{"name": "alice", "certificate": "@alice.crt", "rights": {"/in": "rwx"}}],
 "programs": [{"path": "/in/p.wasm", "sha256": "abababababababababababababababababababababababababababababababab", "rights": {}}],
 "results": ["/in"],
 "runtimes": {"allow_debug": true, "platforms": {"process": ["@strongbox-runtime"]}},
 "attestation": {"url": "http://127.0.0.1:1", "root_certificate": "@attest-root.pem"},
 "limits": {"fs_bytes": 1048576}, "shutdown": {}}
J
sbx_sb "the installed CLI makes the policy" 0 "hash" policy new --from template.json \
  --host "127.0.0.1:$HP" --attestation-url "http://127.0.0.1:$AP" -o policy.json
sbx_sb "the installed host runs the installed runtime" 0 "is running and attested" deploy policy.json

export PKG_CONFIG_PATH=$LIB/pkgconfig
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Werror $EXTRA "$S/tests/client/install_example.c" -o "$T/shared-example" \
  $(pkg-config --cflags --libs strongbox) -Wl,-rpath,"$(pkg-config --variable=libdir strongbox)" \
  >"$T/cc-shared.log" 2>&1
sbx_check "an external program links with \`pkg-config --cflags --libs strongbox\` (shared)" \
  '[ $? -eq 0 ]' "$(cat "$T/cc-shared.log")"
out=$(cd "$T" && timeout 60 ./shared-example policy.json alice.key alice.crt /in/shared 2>&1)
sbx_check "... it connects, verifies, puts and gets" \
  'grep -q "verdict: ATTESTED" <<<"$out" && grep -q "put and got back" <<<"$out"' "$out"
used=$(ldd "$T/shared-example" | awk '$1 == "libstrongbox.so.0" {print $3}')
sbx_check "... through libstrongbox.so from the prefix" \
  '[ -n "$used" ] && [ "$(readlink -f "$used")" = "$(readlink -f "$LIB/libstrongbox.so.0")" ]' \
  "$(ldd "$T/shared-example")"

cp -a "$P" "$T/static-prefix"
rm -f "$T/static-prefix/$LIBDIR"/libstrongbox.so*
export PKG_CONFIG_PATH=$T/static-prefix/$LIBDIR/pkgconfig
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Werror $EXTRA "$S/tests/client/install_example.c" -o "$T/static-example" \
  $(pkg-config --static --cflags --libs strongbox) >"$T/cc-static.log" 2>&1
sbx_check "it links with \`pkg-config --static --cflags --libs strongbox\` (libstrongbox.a)" \
  '[ $? -eq 0 ]' "$(cat "$T/cc-static.log")"
out=$(cd "$T" && timeout 60 ./static-example policy.json alice.key alice.crt /in/static 2>&1)
sbx_check "... and that program connects, verifies, puts and gets too" \
  'grep -q "verdict: ATTESTED" <<<"$out" && grep -q "put and got back" <<<"$out"' "$out"
sbx_summary install
