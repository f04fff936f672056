#!/usr/bin/env bash
# test-example.sh MODE EXAMPLE_SRC_DIR EXAMPLE_BIN_DIR [STRONGBOX]
#   MODE native: the program built natively, checked against the independent reference;
#   MODE local:  the program built for wasm32-wasi, run by `strongbox run` exactly as a program
#                author would, checked against the reference.
set -euo pipefail
mode=$1 src=$2 bin=$3 strongbox=${4:-}
GEN=$bin/gen REF=$bin/reference NUMCMP=$bin/../common/numcmp
source "$src/example.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out"
make_inputs "$work/in"
reference "$work/in" > "$work/expected"
case $mode in
  native) "$bin/program-native" $PROGRAM_ARGS "$work/in" "$work/out" ;;
  local)  "$strongbox" run --dir "$work/in::/inputs:ro" --dir "$work/out::/outputs" \
            "$bin/program.wasm" -- $PROGRAM_ARGS ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
if [ "$TOL" = 0 ]; then
  cmp "$work/out/$RESULT" "$work/expected"
else
  "$NUMCMP" "$work/out/$RESULT" "$work/expected" "$TOL"
fi
echo "$(basename "$src") ($mode): result matches the reference"
