#!/usr/bin/env bash
# run-example.sh BUILD_DIR SOURCE_DIR NAME
#
# One worked example (examples/<name>/) end to end, through the real pieces on loopback: its own
# strongbox-attestd and strongbox-host (process isolates running strongbox-runtime), keys per
# party, the policy made from the example's template with `strongbox policy new --from`, and one
# CLI process per party and step: the program provider uploads the program, each data provider its
# generated inputs, the runner runs it, each result reader gets the result, which must match the
# independent native reference. Then the refusals the story promises: a party who is not a result
# reader cannot read the result, a data provider can neither read nor overwrite another's input,
# an outsider's key is refused. Finally the readers vote and the isolate ends by the policy's rule.
#
# The example's example.sh names the roles (PROVIDERS, READERS, RUNNER, NON_READER, PROGRAM) next
# to what the native tests already use (make_inputs, reference, RESULT, PROGRAM_ARGS, TOL).
set -u
B=$1 ROOT=$2 NAME=$3
SRC=$ROOT/examples/$NAME BIN=$B/examples/$NAME
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
GEN=$BIN/gen REF=$BIN/reference NUMCMP=$BIN/../common/numcmp
source "$SRC/example.sh"
for f in "$GEN" "$REF" "$NUMCMP" "$BIN/program.wasm"; do
  [ -e "$f" ] || { echo "missing $f (build the project first)" >&2; exit 2; }
done

sbx_init "$B" "sb-ex-$NAME"
sbx_start_services
IDENTITIES=$(grep -o '"name": *"[^"]*", *"certificate"' "$SRC/policy.template.json" | cut -d'"' -f4)
sbx_keygen $IDENTITIES mallory
cp "$SRC/policy.template.json" "$T/"
cp "$BIN/program.wasm" "$T/$(basename "$PROGRAM")"
ln -s "$RUNTIME" "$T/strongbox-runtime"

# ---------------------------------------------------------------- the contract
sbx_sb "policy made from the example's template" 0 "hash" policy new --from policy.template.json \
  --host "127.0.0.1:$HP" --attestation-url "http://127.0.0.1:$AP" -o policy.json
sbx_sb "every party checks the policy" 0 "valid policy" policy check policy.json
sbx_sb "deploy: the host launches and attests an isolate for it" 0 "is running and attested" \
  deploy policy.json

# ---------------------------------------------------------------- the computation
sbx_sb "$RUNNER uploads the program after verifying the isolate" 0 "verdict: ATTESTED" \
  put policy.json --as "$RUNNER" "$(basename "$PROGRAM")" "$PROGRAM"
mkdir -p "$T/data"
make_inputs "$T/data"
reference "$T/data" >"$T/expected" || { sbx_fail "the native reference ran"; exit 1; }
FIRST_INPUT=""
for p in $PROVIDERS; do
  for f in "$T/data/$p"/*; do
    sbx_sb "$p verifies the isolate, then uploads its $(basename "$f") ($(stat -c %s "$f") bytes)" \
      0 "verdict: ATTESTED" \
      put policy.json --as "$p" "data/$p/$(basename "$f")" "/inputs/$p/$(basename "$f")"
    [ -n "$FIRST_INPUT" ] || FIRST_INPUT="$p/$(basename "$f")"
  done
done

if [ -n "${FIXED_ARGS_DIFFERENT:-}" ]; then
  # The policy fixes the program's arguments. A runtime that enforces them refuses others; one that
  # does not yet (before src/runtime uses sb_policy_run_args, or a binary built before that source)
  # is reported and not counted.
  WIRED=$(grep -ls sb_policy_run_args "$ROOT"/src/runtime/*.c)
  for f in $WIRED; do [ "$RUNTIME" -nt "$f" ] || WIRED=""; done
  if [ -n "$WIRED" ]; then
    sbx_sb "refused: running with arguments other than the policy's ($FIXED_ARGS_DIFFERENT)" 4 \
      "fixes the arguments" run policy.json --as "$RUNNER" -q "$PROGRAM" -- $FIXED_ARGS_DIFFERENT
  else
    echo "note - this runtime build does not enforce a policy's fixed arguments yet: check not run"
  fi
fi
sbx_sb "$RUNNER runs the program" 0 "exited with code 0" run policy.json --as "$RUNNER" "$PROGRAM" \
  ${PROGRAM_ARGS:+-- $PROGRAM_ARGS}

for r in $READERS; do
  sbx_sb "$r (result reader) gets /outputs/$RESULT" 0 "" get policy.json --as "$r" -q \
    "/outputs/$RESULT" "$r.result"
  if [ "$TOL" = 0 ]; then
    sbx_check "  ... and it is exactly the native reference's answer" \
      "cmp -s '$T/$r.result' '$T/expected'" "$(diff "$T/$r.result" "$T/expected" 2>&1 | head -20)"
  else
    sbx_check "  ... and it matches the native reference's answer (relative tolerance $TOL)" \
      "'$NUMCMP' '$T/$r.result' '$T/expected' $TOL 2>'$T/numcmp.err'" "$(cat "$T/numcmp.err" 2>/dev/null)"
  fi
done

# ---------------------------------------------------------------- what parties cannot do
sbx_sb "refused: $NON_READER (not a result reader) reading the result" 4 "denied" \
  get policy.json --as "$NON_READER" -q "/outputs/$RESULT" -
set -- $PROVIDERS
if [ $# -ge 2 ]; then
  OTHER_INPUT=$2/$(basename "$(ls "$T/data/$2"/* | head -1)")
  sbx_sb "refused: data provider $1 reading $2's input" 4 "denied" \
    get policy.json --as "$1" -q "/inputs/$OTHER_INPUT" -
  sbx_sb "refused: data provider $1 overwriting $2's input" 4 "denied" \
    put policy.json --as "$1" -q "data/$FIRST_INPUT" "/inputs/$OTHER_INPUT"
  sbx_sb "  ... $2 still reads back its own input unchanged" 0 "" \
    get policy.json --as "$2" -q "/inputs/$OTHER_INPUT" "back.$2"
  sbx_check "  ... byte for byte" "cmp -s '$T/back.$2' '$T/data/$OTHER_INPUT'"
fi
sbx_sb "refused: a data provider replacing the program" 4 "denied" \
  put policy.json --as "$1" -q "data/$FIRST_INPUT" "$PROGRAM"
sbx_sb "refused: an outsider (a key and certificate not in the policy)" 4 \
  "not the certificate of an identity" get policy.json --key mallory.key --cert mallory.crt -q \
  "/outputs/$RESULT" -

# ---------------------------------------------------------------- the end
set -- $READERS
for r in "$@"; do
  sbx_sb "$r votes to end" 0 "vote recorded" end policy.json --as "$r" -q
done
for _ in $(seq 1 100); do # the isolate ends right after answering the last vote
  HOST_VIEW=$(cd "$T" && timeout 20 "$SB" status policy.json 2>&1)
  grep -q '"state":"ended"' <<<"$HOST_VIEW" && break
  sleep 0.1
done
sbx_check "the readers have read and voted: the policy's rule ended the isolate (host: ended)" \
  "grep -q '\"state\":\"ended\"' <<<\"\$HOST_VIEW\" &&
   grep -q 'shutdown rule met' <<<\"\$HOST_VIEW\"" "$HOST_VIEW"
sbx_sb "  ... and nothing can be read from it any more (exit 5: ended)" 5 "ended" get policy.json --as "$1" -q \
  "/outputs/$RESULT" -

sbx_summary "examples-e2e.$NAME"
