#!/usr/bin/env bash
# run.sh SRC OUTDIR - Frama-C/EVA proofs of absence of run-time errors (`cmake --build B --target
# frama`). Each driver includes the real source file and calls its functions on nondeterministic
# inputs; a driver passes when EVA reports 0 alarms and every property it reached is valid.
# Logs go to OUTDIR/<driver>.log. docs/tcb.md says what is proven and within which bounds.
set -uo pipefail
SRC=$1 OUT=$2
mkdir -p "$OUT"
status=0
# driver:precision (higher precision = more states kept apart; needed for the loops here)
for d in vfs_rights:5 wasm_reader:5; do
  name=${d%%:*} prec=${d##*:}
  log="$OUT/$name.log"
  frama-c -eva -eva-no-show-progress -eva-precision "$prec" \
    -cpp-extra-args="-I$SRC/src -D_GNU_SOURCE" "$SRC/tests/frama/$name.c" > "$log" 2>&1
  rc=$?
  alarms=$(sed -n 's/^ *\([0-9]*\) alarms\{0,1\} generated.*/\1/p; s/^ *No alarms generated.*/0/p' "$log" | head -1)
  [ -z "$alarms" ] && grep -q "0 alarms generated" "$log" && alarms=0
  props=$(grep -E '^ *(Assertions|Preconditions) ' "$log" | tr -s ' ' | sed 's/^ //' | paste -sd';' -)
  unknown=$(grep -E '^ *(Assertions|Preconditions) ' "$log" | awk '{ u += $4; i += $6 } END { print u + i }')
  if [ $rc -ne 0 ] || [ "${alarms:-x}" != 0 ] || [ "${unknown:-1}" != 0 ]; then
    echo "frama: $name: NOT PROVEN (exit $rc, alarms ${alarms:-?}; $props) - see $log"
    grep -A1 'eva:alarm' "$log" | head -20
    status=1
  else
    echo "frama: $name: 0 alarms, all reached properties valid ($props)"
  fi
done
exit $status
