#!/usr/bin/env bash
# test-example.sh MODE EXAMPLE_SRC_DIR EXAMPLE_BIN_DIR [STRONGBOX]
#   MODE native: the program built natively, checked against the independent reference;
#   MODE local:  the program built for wasm32-wasi, run by `strongbox run` exactly as a program
#                author would, checked against the reference.
# Three parts: the generated inputs (result = reference); the same inputs made messy but valid
# (CRLF line ends, a UTF-8 byte order mark, blank lines, a party folder with nothing in it, as in
# the isolate where every granted folder exists): the same result; and each BAD_CASES entry of
# example.sh (bad_input CASE DIR spoils a copy of the inputs and prints the expected message): the
# program must fail with exit status 2 and that message, and write no result.
set -euo pipefail
mode=$1 src=$2 bin=$3 strongbox=${4:-}
GEN=$bin/gen REF=$bin/reference NUMCMP=$bin/../common/numcmp
BAD_CASES=""
source "$src/example.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=$(basename "$src")

run_program() { # IN OUT -> the program's exit status; its stderr in $work/stderr
  local rc=0
  case $mode in
    native) "$bin/program-native" ${CASE_ARGS-$PROGRAM_ARGS} "$1" "$2" 2>"$work/stderr" || rc=$? ;;
    local)  "$strongbox" run --dir "$1::/inputs:ro" --dir "$2::/outputs" \
              "$bin/program.wasm" -- ${CASE_ARGS-$PROGRAM_ARGS} 2>"$work/stderr" || rc=$? ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
  esac
  return $rc
}

same_result() { # RESULT EXPECTED
  if [ "$TOL" = 0 ]; then cmp "$1" "$2"; else "$NUMCMP" "$1" "$2" "$TOL"; fi
}

mkdir -p "$work/in" "$work/out"
make_inputs "$work/in"
reference "$work/in" > "$work/expected"
run_program "$work/in" "$work/out" || { cat "$work/stderr" >&2; exit 1; }
same_result "$work/out/$RESULT" "$work/expected"
echo "$name ($mode): result matches the reference"

cp -r "$work/in" "$work/messy"
mkdir -p "$work/messy/zz-sent-nothing" "$work/out-messy"
for f in "$work/messy"/*/*; do
  { printf '\357\273\277'; sed 's/$/\r/' "$f"; printf '\r\n\n'; } > "$f.tmp" && mv "$f.tmp" "$f"
done
run_program "$work/messy" "$work/out-messy" || { cat "$work/stderr" >&2; exit 1; }
same_result "$work/out-messy/$RESULT" "$work/expected"
echo "$name ($mode): CRLF, byte order marks, blank lines and an empty party folder: same result"

for c in $BAD_CASES; do
  rm -rf "$work/bad" "$work/out-bad"
  cp -r "$work/in" "$work/bad"
  mkdir -p "$work/out-bad"
  unset CASE_ARGS
  want=$(bad_input "$c" "$work/bad")
  [ "$c" != args ] || CASE_ARGS=$BAD_ARGS
  rc=0
  run_program "$work/bad" "$work/out-bad" || rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qF -- "$want" "$work/stderr" || [ -e "$work/out-bad/$RESULT" ]; then
    echo "$name ($mode): bad input '$c': exit $rc, wanted 2 with '$want' and no result; stderr:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  echo "$name ($mode): bad input '$c' refused: $(cat "$work/stderr")"
done
