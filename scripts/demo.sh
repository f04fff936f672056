#!/usr/bin/env bash
# scripts/demo.sh - Strongbox in one command: joint model training (examples/regression) by three
# parties on this machine.
#
#   alice, bob   each hold labelled rows; each uploads them and reads the trained model
#   carol        wrote the training program; uploads it and runs it, and reads nothing
#
# It installs what is missing (scripts/setup.sh), builds the project (build/demo, Release), starts
# a private attestation service and host on free loopback ports, and plays the three parties with
# the strongbox CLI, each with its own key. For each party it prints what the party verified
# before sending anything (the client's transcript), what it sent (names, sizes and SHA-256 of its
# files, never their contents) and what it received. Everything it starts is stopped at the end;
# run it again as often as you like, from any directory.
#
#   scripts/demo.sh [--platform process|kvm] [--accel kvm|tcg]
# --platform kvm runs the runtime in a QEMU micro-VM (docs/host.md); its accelerator is kvm where
# /dev/kvm can boot the guest and tcg (QEMU's emulator, slower) elsewhere, unless --accel says.
set -euo pipefail
PLATFORM=process ACCEL=
while [ $# -gt 0 ]; do
  case "$1" in
    --platform) PLATFORM=${2:-}; shift 2 || exit 2 ;;
    --accel) ACCEL=${2:-}; shift 2 || exit 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$1' (--platform process|kvm, --accel kvm|tcg)" >&2; exit 2 ;;
  esac
done
case "$PLATFORM" in process|kvm) ;; *) echo "demo: --platform $PLATFORM: process or kvm" >&2; exit 2 ;; esac
case "$ACCEL" in ""|kvm|tcg) ;; *) echo "demo: --accel $ACCEL: kvm or tcg" >&2; exit 2 ;; esac
if [ "$PLATFORM" = kvm ] && [ -z "$ACCEL" ]; then
  # A paravirtual /dev/kvm (kvm_pvm, nested cloud VMs) cannot boot the guest's Debian kernel.
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && { [ ! -d /sys/module/kvm_pvm ] ||
       [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; else ACCEL=tcg; fi
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$ROOT/build/demo
EX=$ROOT/examples/regression

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
indent() { sed 's/^/    /'; }
step() { printf '  %-10s %s\n' "$1" "$2"; }

bold "== Strongbox demo: joint model training by alice, bob and carol"
if [ "$PLATFORM" = kvm ]; then
  echo "   the isolate: strongbox-runtime in a QEMU micro-VM (platform kvm, accelerator $ACCEL)"
fi
echo "   setting up (scripts/setup.sh) and building build/demo (a few minutes the first time)..."
"$ROOT/scripts/setup.sh"
mkdir -p "$B"
if ! { cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$B" -j"$(nproc)" --target strongbox strongbox-host strongbox-attestd \
         strongbox-runtime example-regression-wasm example-regression-gen \
         example-regression-reference numcmp $([ "$PLATFORM" = kvm ] && echo guest-image); } \
       >"$B/demo-build.log" 2>&1; then
  tail -30 "$B/demo-build.log"
  echo "demo: the build failed (full log: $B/demo-build.log)" >&2
  exit 1
fi

# Services and parties: the shared start-up of the example tests.
source "$ROOT/tests/examples-e2e/lib.sh"
set +e # lib.sh checks every step itself
SBX_PLATFORM=$PLATFORM SBX_ACCEL=${ACCEL:-tcg}
sbx_init "$B" sb-demo
sbx_start_services
sbx_keygen alice bob carol
# Each party works in its own directory with its own key; only certificates are shared.
cd "$T"
for who in alice bob carol; do mkdir "$who" && mv "$who.key" "$who/" && cp "$who.crt" "$who/"; done
cp "$EX/policy.template.json" carol/
if [ "$PLATFORM" = kvm ]; then # the policy names the VM's launch measurement instead of the binary's
  sed -i "s|\"process\": \[\"@strongbox-runtime\"\]|\"kvm\": [\"$MEASUREMENT\"]|" carol/policy.template.json
  grep -q "\"kvm\": \[\"$MEASUREMENT\"\]" carol/policy.template.json ||
    { sbx_fail "the template's runtimes could not be set to the kvm measurement"; sbx_summary demo; exit 1; }
fi
cp "$B/examples/regression/program.wasm" carol/regression.wasm
cp alice.crt bob.crt attest-root.pem carol/
ln -s "$RUNTIME" carol/strongbox-runtime
"$B/examples/regression/gen" 1 500 >alice/rows.csv
"$B/examples/regression/gen" 2 700 >bob/rows.csv
echo "   attestation service on 127.0.0.1:$AP, host on 127.0.0.1:$HP (logs in $T)"

# cli WHO ARGS: the strongbox CLI in WHO's directory; output in $OUT, exit code in $RC
cli() { local who=$1; shift; OUT=$(cd "$T/$who" && timeout 60 "$SB" "$@" 2>&1); RC=$?; }
must() { cli "$@"; [ "$RC" -eq 0 ] || { sbx_fail "$1: strongbox $2 (exit $RC)" "$OUT"; sbx_summary demo; exit 1; }; }
# prints the verification transcript of the last command and records whether it verified this policy
VERIFIED=""
transcript() {
  grep -E '^(verified isolate|\[|verdict)' <<<"$OUT" | indent
  grep -q "^verdict: ATTESTED" <<<"$OUT" && grep -q "^verified isolate of computation $HASH" <<<"$OUT" &&
    VERIFIED="$VERIFIED $1"
}
DENIED=""
denied() { [ "$RC" -eq 4 ] && grep -q denied <<<"$OUT" && DENIED="$DENIED $1"; }
fileinfo() { printf '%s  %d bytes, %d rows, sha256 %s' "$1" "$(stat -c %s "$1")" \
  "$(($(wc -l <"$1") - 1))" "$(sbx_sha "$1" | cut -c1-16)..."; }

echo
bold "== The contract"
must carol policy new --from policy.template.json --host "127.0.0.1:$HP" \
  --attestation-url "http://127.0.0.1:$AP" -o policy.json
cp carol/policy.json alice/ && cp carol/policy.json bob/
echo "   carol drafts policy.json from examples/regression/policy.template.json and the others'"
echo "   certificates; alice and bob read their copies (strongbox policy show) and each checks it:"
HASHES=""
for who in alice bob carol; do
  must "$who" policy check policy.json
  must "$who" policy hash policy.json
  step "$who" "policy hash $OUT"
  HASHES="$HASHES $OUT"
done
HASH=$OUT
"$SB" policy show carol/policy.json | sed -n '/^Parties/,/^Runtimes/p' | grep -v '^Runtimes' | indent
must alice deploy policy.json
echo "   deployed: the host launched an isolate and the attestation service certified it."

echo
bold "== carol (program provider, runner)"
must carol put policy.json --as carol regression.wasm /programs/regression.wasm
echo "  verified, before sending anything:"
transcript carol
echo "  sent:"
echo "    regression.wasm  $(stat -c %s carol/regression.wasm) bytes, sha256 $(sbx_sha carol/regression.wasm | cut -c1-16)... -> /programs/regression.wasm"
echo "    (the policy names this hash: the isolate runs no other bytes)"

for who in alice bob; do
  echo
  bold "== $who (data provider, result reader)"
  must "$who" put policy.json --as "$who" rows.csv "/inputs/$who/rows.csv"
  echo "  verified, before sending anything:"
  transcript "$who"
  echo "  sent:"
  echo "    $(cd "$who" && fileinfo rows.csv) -> /inputs/$who/rows.csv"
done

echo
bold "== carol runs the program"
must carol run policy.json --as carol -q --receipt run.receipt /programs/regression.wasm
echo "$OUT" | indent
echo "  the isolate signed a receipt of the run: carol/run.receipt ($(stat -c %s carol/run.receipt) bytes)"
for who in alice bob; do
  echo
  bold "== $who receives"
  must "$who" get policy.json --as "$who" /outputs/model.json model.json
  echo "  verified again (a new connection, the same checks):"
  echo "    $(grep '^verdict' <<<"$OUT") for computation $(cut -c1-16 <<<"$HASH")..."
  echo "  received /outputs/model.json (sha256 $(sbx_sha "$who/model.json" | cut -c1-16)...):"
  indent <"$who/model.json"
  other=$([ "$who" = alice ] && echo bob || echo alice)
  cli "$who" get policy.json --as "$who" -q "/inputs/$other/rows.csv" -
  denied "$who-reads-$other"
  echo "  could not:"
  echo "    read $other's rows: $(tail -1 <<<"$OUT" | sed 's/^strongbox get: //')"
done
echo
bold "== carol tries to read the model"
cli carol get policy.json --as carol -q /outputs/model.json -
denied carol-reads-model
step "refused" "$(tail -1 <<<"$OUT" | sed 's/^strongbox get: //')"

echo
bold "== Summary"
mkdir -p union/alice union/bob && cp alice/rows.csv union/alice/ && cp bob/rows.csv union/bob/
"$B/examples/regression/reference" union >reference-model.json
sbx_check "carol, alice and bob each verified the attested isolate of policy $(cut -c1-16 <<<"$HASH")... before sending" \
  "[ '$VERIFIED' = ' carol alice bob' ]" "verified:$VERIFIED"
sbx_check "the three parties' copies of the policy have one hash" \
  "[ '$HASHES' = ' $HASH $HASH $HASH' ]" "$HASHES"
sbx_check "alice and bob received the same model" "cmp -s alice/model.json bob/model.json"
sbx_check "the model is right: it matches an independent native fit on the union of the rows" \
  "'$B/examples/common/numcmp' alice/model.json reference-model.json 1e-6"
sbx_check "carol may not read the model; neither data provider may read the other's rows" \
  "[ '$DENIED' = ' alice-reads-bob bob-reads-alice carol-reads-model' ]" "denied:$DENIED"
cli alice end policy.json --as alice -q
cli bob end policy.json --as bob -q
for _ in $(seq 1 50); do
  cli alice status policy.json
  grep -q '"state":"ended"' <<<"$OUT" && break
  sleep 0.1
done
sbx_check "alice and bob voted to end: the isolate is gone, with everything it held" \
  "grep -q '\"state\":\"ended\"' <<<\"\$OUT\""

echo
bold "== Later: an auditor who was never a party"
echo "   gets the policy, carol's receipt and alice's model, and checks them offline"
mkdir auditor && cp carol/policy.json carol/run.receipt auditor/ && cp alice/model.json auditor/
cli auditor receipt verify --policy policy.json --output /outputs/model.json=model.json run.receipt
grep -E '^(receipt verified|signed at|step|  could read|  wrote|your file)' <<<"$OUT" | indent
if [ "$RC" -eq 0 ] && grep -q "^your file model.json is the output /outputs/model.json" <<<"$OUT"; then
  SBX_PASSED=$((SBX_PASSED + 1))
  echo "ok - an auditor verified the receipt offline"
else
  sbx_fail "an auditor verified the receipt offline (exit $RC)" "$OUT"
fi
sbx_summary "demo"
