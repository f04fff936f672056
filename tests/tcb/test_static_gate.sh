#!/usr/bin/env bash
# test_static_gate.sh SRC BUILD - static.sh's gate itself, with stand-in tools: a reviewed finding
# (tests/tcb/static-reviewed.txt, matched on file, check and line text) passes, a new finding fails
# and is printed, and a missing tool skips (77) with a message.
set -uo pipefail
SRC=$1 BUILD=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcb-gate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/cppcheck"
# clang-tidy stand-in: reports the reviewed atoi finding in policy.c, plus $EXTRA if set.
cat > "$tmp/bin/clang-tidy" <<EOS
#!/bin/sh
line=\$(grep -n "atoi(colon + 1) > 65535" "$SRC/src/policy/policy.c" | cut -d: -f1)
case "\$*" in *src/policy/policy.c*)
  echo "$SRC/src/policy/policy.c:\$line:9: warning: 'atoi' used [cert-err34-c]"
  [ -n "\${EXTRA:-}" ] && echo "$SRC/src/policy/policy.c:1:1: warning: something new [bugprone-new-check]" ;;
esac
exit 0
EOS
chmod +x "$tmp/bin/"*
status=0
out=$(PATH="$tmp/bin:$PATH" "$SRC/tests/tcb/static.sh" "$SRC" "$BUILD" 2>&1); rc=$?
if [ $rc -ne 0 ] || ! grep -q "0 findings, 1 reviewed" <<<"$out"; then
  echo "FAIL: a reviewed finding is not accepted (exit $rc): $out"; status=1
else echo "ok: reviewed finding accepted"; fi
out=$(EXTRA=1 PATH="$tmp/bin:$PATH" "$SRC/tests/tcb/static.sh" "$SRC" "$BUILD" 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "src/policy/policy.c:1:1: warning: something new \[bugprone-new-check\]" <<<"$out" ||
   ! grep -q "1 findings, 1 reviewed" <<<"$out"; then
  echo "FAIL: a new finding does not fail the gate (exit $rc): $out"; status=1
else echo "ok: new finding fails the gate"; fi
# No clang-tidy on PATH: skipped with a clear message.
mkdir "$tmp/only"; ln -s "$(command -v bash)" "$tmp/only/bash"; cp "$tmp/bin/cppcheck" "$tmp/only/"
for t in sed grep mktemp rm dirname realpath sort xargs awk; do ln -sf "$(command -v $t)" "$tmp/only/$t"; done
out=$(PATH="$tmp/only" "$tmp/only/bash" "$SRC/tests/tcb/static.sh" "$SRC" "$BUILD" 2>&1); rc=$?
if [ $rc -ne 77 ] || ! grep -q "SKIP: clang-tidy is not installed" <<<"$out"; then
  echo "FAIL: a missing tool does not skip (exit $rc): $out"; status=1
else echo "ok: missing tool skips"; fi
exit $status
