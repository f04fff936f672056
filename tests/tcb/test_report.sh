#!/usr/bin/env bash
# test_report.sh SRC BUILD - runs scripts/tcb-report.sh on this build (its output is the TCB report
# in the CI log) and checks that it fails when it must: a budget exceeded, an object from a
# non-trusted folder in the link map, a missing build.
set -uo pipefail
SRC=$1 BUILD=$2
report="$SRC/scripts/tcb-report.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcb-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The reports below read one unchanged tree: the preprocessor passes run once (the first report)
# and the seven doctored reports reuse their results (scripts/tcb-report.sh, TCB_CACHE).
mkdir "$tmp/cache"
export TCB_CACHE=$tmp/cache
status=0
check() { # check NAME EXPECTED_RC PATTERN CMD...: the command exits EXPECTED_RC and prints PATTERN
  local name=$1 want=$2 pattern=$3; shift 3
  "$@" > "$tmp/out" 2>&1; local rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -e "$pattern" "$tmp/out"; then
    echo "FAIL: $name: exit $rc (want $want), output:"; cat "$tmp/out"; status=1
  else
    echo "ok: $name"
  fi
}

"$report" "$BUILD" > "$tmp/report" 2>&1 || { echo "FAIL: the TCB report of this build fails"; status=1; }
cat "$tmp/report"
has() { # has NAME PATTERN: this build's report (above) prints PATTERN
  if grep -q -e "$2" "$tmp/report"; then echo "ok: $1"; else echo "FAIL: $1: no '$2' in the report"; status=1; fi
}

check "line budget" 1 "FAIL: project-written trusted lines .* exceed the budget 1000" \
  env TCB_MAX_LINES=1000 "$report" "$BUILD"
check "syscall budget" 1 "FAIL: allowed system calls .* exceed the budget 5" \
  env TCB_MAX_SYSCALLS=5 "$report" "$BUILD"
# A link map that pulls in an object from src/attest (outside the trusted folders).
map="$BUILD/src/runtime/strongbox-runtime.map"
awk '{ print } /^Archive member included/ && !done { print ""; print "../attest/libsb_attest.a(issue.c.o)"; done = 1 }' \
  "$map" > "$tmp/untrusted.map"
check "untrusted object" 1 "FAIL: non-trusted file compiled in: src/attest/issue.c" \
  env TCB_MAP="$tmp/untrusted.map" "$report" "$BUILD"
# A library outside the allowed set.
awk '{ print } /^Archive member included/ && !done { print ""; print "/usr/lib/x86_64-linux-gnu/libsqlite3.a(sqlite3.o)"; done = 1 }' \
  "$map" > "$tmp/lib.map"
check "foreign library" 1 "FAIL: library not allowed in the runtime: /usr/lib/x86_64-linux-gnu/libsqlite3.a" \
  env TCB_MAP="$tmp/lib.map" "$report" "$BUILD"
# Both runtimes' figures, and the W^X rule read back from the filter.
if grep -q '/wasm/jit/' "$map" || grep -q 'libsb_wasm.a(x64.c.o)' "$map"; then
  has "both runtimes" "interpreter-only (-DSB_COMPILED_TIER=OFF) *[0-9]* lines (budget 15000"
  has "compiled budget" "total *[0-9]* lines (budget 25000)"
  has "mprotect W^X rule listed" "mprotect  prot & PROT_WRITE|PROT_EXEC never both"
else
  has "interpreter-only budget" "total *[0-9]* lines (budget 15000)"
fi
has "W^X rule listed" "mmap      prot & PROT_WRITE|PROT_EXEC never both"
"$BUILD/tests/tcb/tcb-seccomp-dump" --compiled > "$tmp/good.pfc"
# mprotect allowed with PROT_READ|PROT_WRITE|PROT_EXEC (mask 7 == 7), and mprotect without any check
sed 's/& 0x00000006 == 4)/\& 0x00000007 == 7)/' "$tmp/good.pfc" > "$tmp/rwx.pfc"
check "W^X: RWX allowed" 1 "FAIL: this runtime's filter: mmap rule (prot & 0x00000007 == 7) may allow a writable and executable page" \
  env TCB_PFC="$tmp/rwx.pfc" "$report" "$BUILD"
sed 's/& 0x00000006 == 4)/\& 0x00000004 == 4)/' "$tmp/good.pfc" > "$tmp/exec-any.pfc"
check "W^X: exec without a write check" 1 "may allow a writable and executable page" \
  env TCB_PFC="$tmp/exec-any.pfc" "$report" "$BUILD"
awk '/filter for syscall "mprotect"/ { print; getline; print; print "    action ALLOW;"; skip = 1; next }
     skip && /filter for syscall|default action/ { skip = 0 } !skip { print }' "$tmp/good.pfc" > "$tmp/unchecked.pfc"
check "W^X: unchecked mprotect" 1 "FAIL: this runtime's filter: mprotect is allowed without a check of its prot argument" \
  env TCB_PFC="$tmp/unchecked.pfc" "$report" "$BUILD"
check "no build dir" 2 "is not a configured strongbox build directory" "$report" "$tmp"
check "usage" 2 "usage: tcb-report.sh BUILD_DIR" "$report"
exit $status
