#!/bin/sh
# `strongbox run` as a program author uses it: exit status, trap reports, limits, option errors.
# Usage: run_cli.sh STRONGBOX BEHAVE.wasm [compiled|interpreter] (the tiers the build has)
set -u
sb=$1 wasm=$2 tiers=${3:-interpreter}
t=$(mktemp -d "${TMPDIR:-/tmp}/sb-run-cli.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
mkdir "$t/rw" "$t/ro"
fails=0 n=0

# expect STATUS STDERR-SUBSTRING STDOUT-SUBSTRING -- command...
expect() {
    want=$1 err=$2 out=$3
    shift 4
    n=$((n + 1))
    "$@" >"$t/out" 2>"$t/err"
    got=$?
    if [ "$got" != "$want" ] || { [ -n "$err" ] && ! grep -qF -- "$err" "$t/err"; } ||
        { [ -n "$out" ] && ! grep -qF -- "$out" "$t/out"; }; then
        echo "FAIL: $* -> status $got (want $want)"
        echo "  stderr: $(cat "$t/err")"
        echo "  stdout: $(head -c 300 "$t/out")"
        fails=$((fails + 1))
    fi
}

expect 42 "" "" -- "$sb" run "$wasm" exit 42
expect 0 "" "" -- "$sb" run "$wasm" -- exit 0
expect 134 "trap: integer divide by zero in function" "" -- "$sb" run "$wasm" div
expect 134 "trap: unreachable" "" -- "$sb" run "$wasm" unreachable
expect 134 "trap: out of fuel" "" -- "$sb" run --fuel 100000 "$wasm" loop
expect 0 "" "virtual clock, slept 2 s" -- "$sb" run "$wasm" clock
expect 0 "" "real clock, slept" -- "$sb" run --clock "$wasm" clock
expect 0 "" "allocated" -- "$sb" run --max-memory 16 "$wasm" memory
expect 0 "" "touch /data/x: OK" -- "$sb" run --dir "$t/rw::/data" "$wasm" touch /data/x
test -f "$t/rw/x" || { echo "FAIL: /data/x not created on the host"; fails=$((fails + 1)); }
expect 1 "" "touch /data/x: EROFS" -- "$sb" run --dir "$t/ro::/data:ro" "$wasm" touch /data/x
expect 0 "" "touch /data/w: OK" -- "$sb" run "--dir=$t/rw::/data" --fuel=100000000 --max-memory=64 "$wasm" touch /data/w
expect 0 "" "touch $t/rw/y: OK" -- "$sb" run --dir "$t/rw" "$wasm" touch "$t/rw/y"
expect 0 "" "touch /z: OK" -- "$sb" run --dir "$t/rw::/" "$wasm" touch /z
expect 1 "" "touch /elsewhere/z: ENOTCAPABLE" -- "$sb" run --dir "$t/rw::/data" "$wasm" touch /elsewhere/z
# a closed stdout: the program sees EPIPE (and says so on stderr), the runner survives
n=$((n + 1))
"$sb" run "$wasm" flood 100000 2>"$t/err" | head -c 10 >/dev/null
grep -q "write [0-9]*: EPIPE" "$t/err" || { echo "FAIL: EPIPE not seen: $(cat "$t/err")"; fails=$((fails + 1)); }
printf 'garbage' >"$t/bad.wasm"
expect 125 "malformed" "" -- "$sb" run "$t/bad.wasm"
expect 125 "No such file" "" -- "$sb" run "$t/missing.wasm"
expect 125 "unknown option --bogus" "" -- "$sb" run --bogus "$wasm"
expect 125 "no module given" "" -- "$sb" run --clock
expect 125 "--fuel needs a value" "" -- "$sb" run --fuel
expect 125 "--fuel x1: expected a number" "" -- "$sb" run --fuel x1 "$wasm"
expect 125 "--max-memory 0: expected MiB" "" -- "$sb" run --max-memory 0 "$wasm"
expect 125 "--max-memory 5000: expected MiB" "" -- "$sb" run --max-memory 5000 "$wasm"
expect 125 "No such file or directory" "" -- "$sb" run --dir "$t/nonexistent::/d" "$wasm"
expect 125 "already mapped" "" -- "$sb" run --dir "$t/rw::/d" --dir "$t/ro::/d" "$wasm"
expect 125 "expected HOST[::GUEST][:ro]" "" -- "$sb" run --dir "::/d" "$wasm"
expect 125 "--env SB_SURELY_UNSET_VAR: not set" "" -- "$sb" run --env SB_SURELY_UNSET_VAR "$wasm"
expect 125 "--env =x: expected K=V" "" -- "$sb" run --env =x "$wasm"
expect 0 "" "usage: strongbox run" -- "$sb" run --help
# --engine: the tier, as a policy's limits.engine
expect 125 "--engine jit: expected interpreter or compiled" "" -- "$sb" run --engine jit "$wasm"
expect 125 "--engine needs a value" "" -- "$sb" run --engine
expect 125 "--engine : expected interpreter or compiled" "" -- "$sb" run --engine= "$wasm"
expect 42 "" "" -- "$sb" run --engine interpreter "$wasm" exit 42
expect 134 "trap: out of fuel" "" -- "$sb" run --engine=interpreter --fuel 100000 "$wasm" loop
if [ "$tiers" = compiled ]; then
  expect 42 "" "" -- "$sb" run --engine compiled "$wasm" exit 42
  expect 134 "trap: out of fuel" "" -- "$sb" run --engine=compiled --fuel 100000 "$wasm" loop
  expect 0 "" "virtual clock, slept 2 s" -- "$sb" run --engine compiled "$wasm" clock
  expect 0 "" "touch /data/c: OK" -- "$sb" run --engine compiled --dir "$t/rw::/data" "$wasm" touch /data/c
  # the same trap report (kind, function, offset) from both tiers
  for prog in div unreachable; do
    n=$((n + 1))
    "$sb" run --engine interpreter "$wasm" $prog 2>"$t/err.i"; si=$?
    "$sb" run --engine compiled "$wasm" $prog 2>"$t/err.c"; sc=$?
    if [ $si != 134 ] || [ $sc != 134 ] || ! cmp -s "$t/err.i" "$t/err.c"; then
      echo "FAIL: $prog: interpreter ($si) and compiled ($sc) differ:"; cat "$t/err.i" "$t/err.c"
      fails=$((fails + 1))
    fi
  done
else
  expect 125 "--engine compiled: this build has no compiled tier" "" -- "$sb" run --engine compiled "$wasm" exit 0
fi

echo "run_cli: $n cases, $fails failures"
[ "$fails" = 0 ]
