#!/usr/bin/env bash
# tiers.sh STRONGBOX SRC BUILD - every WASI corpus program and every worked example, run by
# `strongbox run` under --engine interpreter and under --engine compiled on fresh copies of the
# same inputs: stdout, stderr, exit status and the files written must be identical, byte for
# byte (stricter than the examples' own tests, which compare with the reference within a
# tolerance). Examples also run their bad-input cases. Fails when the build has no compiled tier.
set -uo pipefail
SB=$1 SRC=$2 B=$3
t=$(mktemp -d "${TMPDIR:-/tmp}/sb-tiers.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
fails=0 runs=0

tree() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
    if [ -L "$p" ]; then echo "L $p -> $(readlink "$p")"
    elif [ -d "$p" ]; then echo "D $p"
    else echo "F $p $(md5sum <"$p" | cut -c1-32)"; fi
  done)
}

# same NAME SETUP-FN RUN-FN: SETUP-FN DIR prepares a fresh directory; RUN-FN ENGINE DIR runs.
same() {
  local name=$1 setup=$2 run=$3 e
  runs=$((runs + 1))
  for e in interpreter compiled; do
    rm -rf "$t/$e"; mkdir "$t/$e"
    $setup "$t/$e"
    $run $e "$t/$e" >"$t/$e.out" 2>"$t/$e.err" </dev/null
    echo $? >"$t/$e.status"
    tree "$t/$e" >"$t/$e.tree"
  done
  local ok=1 what
  for what in status out err tree; do
    if ! cmp -s "$t/interpreter.$what" "$t/compiled.$what"; then
      echo "FAIL: $name: $what differs between the tiers:"
      diff "$t/interpreter.$what" "$t/compiled.$what" | head -20
      ok=0
    fi
  done
  if [ $ok = 1 ]; then
    echo "ok: $name: exit $(cat "$t/compiled.status"), $(wc -c <"$t/compiled.out") bytes out, $(wc -c <"$t/compiled.err") bytes err, $(wc -l <"$t/compiled.tree") files"
  else
    fails=$((fails + 1))
  fi
}

if ! "$SB" run --engine compiled /dev/null >/dev/null 2>"$t/probe" && grep -q "no compiled tier" "$t/probe"; then
  echo "FAIL: this build has no compiled tier: there is nothing to compare"; exit 1
fi

# ---- the WASI corpus (tests/wasi/progs), as tests/wasi runs it
corpus_setup() { :; }
corpus_run() { "$SB" run --engine "$1" --dir "$2::/data" --env FOO=bar "$wasm" /data "${args[@]}"; }
for spec in "files" "dirs" "links" "misc one two" "misc big 42" "simd"; do
  read -r prog rest <<<"$spec"
  wasm=$B/tests/wasi/corpus_$prog.wasm
  read -r -a args <<<"${rest:-}"
  [ -f "$wasm" ] || { echo "FAIL: $wasm missing (build the tree first)"; fails=$((fails + 1)); continue; }
  same "wasi corpus $spec" corpus_setup corpus_run
done

# ---- every worked example: generated inputs, then each bad-input case
example_setup() { mkdir "$1/in" "$1/out"; cp -r "$t/inputs/." "$1/in/"; }
example_run() {
  "$SB" run --engine "$1" --dir "$2/in::/inputs:ro" --dir "$2/out::/outputs" "$bin/program.wasm" \
    -- ${CASE_ARGS-$PROGRAM_ARGS}
}
nex=0
for ex in "$SRC"/examples/*/example.sh; do
  src=$(dirname "$ex") name=$(basename "$src") bin=$B/examples/$name
  [ -f "$bin/program.wasm" ] || { echo "FAIL: $bin/program.wasm missing"; fails=$((fails + 1)); continue; }
  nex=$((nex + 1))
  (
    GEN=$bin/gen REF=$bin/reference BAD_CASES="" CASE_ARGS_SET=""
    # shellcheck source=/dev/null
    source "$ex"
    rm -rf "$t/inputs"; mkdir "$t/inputs"
    make_inputs "$t/inputs"
    same "example $name" example_setup example_run
    for c in $BAD_CASES; do
      rm -rf "$t/inputs"; mkdir "$t/inputs"
      make_inputs "$t/inputs"
      bad_input "$c" "$t/inputs" >/dev/null
      same "example $name, bad input '$c'" example_setup example_run
    done
    exit $fails
  ) || fails=$((fails + $?))
done
[ "$nex" -ge 6 ] || { echo "FAIL: only $nex examples found"; fails=$((fails + 1)); }

if [ $fails -ne 0 ]; then echo "FAIL: $fails comparisons differ"; exit 1; fi
echo "all corpus programs and $nex examples: identical under both tiers"
