#!/usr/bin/env bash
# End-to-end tests through the real binaries on loopback: strongbox-attestd, strongbox-host (with
# strongbox-runtime in process isolates) and the strongbox CLI as three parties with their own keys
# (plus an outsider). Every check prints one line; the script fails if any check fails.
#
# usage: e2e.sh BUILD_DIR PROGRAM_DIR TOOL_DIR [--sanitizer-compat]
#   BUILD_DIR    the CMake build directory (binaries under src/...)
#   PROGRAM_DIR  where the test programs (*.wasm) were built
#   TOOL_DIR     where evil_proxy and memscan were built
set -u
B=$1 PROGS=$2 TOOLS=$3 SANITIZE=${4:-}
SB=$B/src/cli/strongbox
HOSTD=$B/src/host/strongbox-host
ATTESTD=$B/src/attestd/strongbox-attestd
RUNTIME=$B/src/runtime/strongbox-runtime
T=$(mktemp -d /tmp/sb-e2e-XXXXXX)
PIDS=()
FAILED=0
PASSED=0

cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$FAILED" -eq 0 ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && sed 's/^/       /' <<<"$2"; }

# run_sb DESC WANT_RC WANT_TEXT ARGS... : runs the CLI (bounded), checks the exit code and that the
# combined output contains WANT_TEXT (empty = anything). Output is left in $OUT.
run_sb() {
  local desc=$1 want_rc=$2 want=$3
  shift 3
  OUT=$(cd "$T" && timeout 60 env ${SB_ENV:-} "$SB" "$@" 2>&1)
  local rc=$?
  if [ "$rc" -eq "$want_rc" ] && { [ -z "$want" ] || grep -qF -- "$want" <<<"$OUT"; }; then
    pass "$desc"
    [ -n "${E2E_VERBOSE:-}" ] && sed 's/^/       | /' <<<"$OUT"
  else
    fail "$desc (exit $rc, wanted $want_rc and '$want')" "$OUT"
  fi
}

check() { if eval "$2"; then pass "$1"; else fail "$1" "${3:-}"; fi; }

wait_file() {
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "timed out waiting for $1" >&2
  return 1
}

# The hash in deploy's last line "computation HASH is running and attested" (after the transcript).
deployed_hash() { sed -n 's/^computation \([0-9a-f]\{64\}\) is running and attested$/\1/p' <<<"$OUT"; }
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- services
mkdir -p "$T/attestd"
"$ATTESTD" --state "$T/attestd" --port 0 --port-file "$T/attestd.port" >"$T/attestd.log" 2>&1 &
PIDS+=($!)
wait_file "$T/attestd.port" || exit 1
AP=$(cat "$T/attestd.port")
ADMIN=$(cat "$T/attestd/admin.token")

admin_post() { # PATH JSON
  curl -sS --max-time 10 -H "Authorization: Bearer $ADMIN" -X POST --data "$2" \
    "http://127.0.0.1:$AP/v1/admin$1"
}
"$HOSTD" --init-key "$T/host.key" >"$T/host.pub" || exit 1
admin_post /devices "{\"id\":\"host1\",\"platform\":\"process\",\"public_key\":\"$(pem_json "$T/host.pub")\"}" \
  >"$T/reg.out"
M=$(sha "$RUNTIME")
admin_post /measurements "{\"platform\":\"process\",\"measurement\":\"$M\"}" >>"$T/reg.out"
check "host key and runtime measurement registered with the attestation service" \
  "grep -q registered '$T/reg.out' && grep -q added '$T/reg.out'" "$(cat "$T/reg.out")"

start_host() { # NAME RUNTIME_BINARY
  "$HOSTD" --listen 127.0.0.1:0 --port-file "$T/$1.port" --runtime "$2" --attest-key "$T/host.key" \
    --log "$T/$1.log" --max-isolates 16 $SANITIZE &
  PIDS+=($!)
  eval "${1}_PID=$!"
  wait_file "$T/$1.port" || exit 1
}
start_host hostA "$RUNTIME"
HP=$(cat "$T/hostA.port")

for who in alice bob carol mallory; do
  (cd "$T" && "$SB" keygen --name "$who" --dir . >/dev/null) || { echo "keygen failed"; exit 1; }
done

# ---------------------------------------------------------------- policies
# The per-run time limit: 3 s, or 10 s under the sanitizers, where memory.grow's realloc copies the
# whole linear memory each time (ASan's realloc never grows in place) and membomb's 32 grows to the
# 32 MiB limit take about 4 s; it must be stopped by the memory limit, not by the clock.
RUN_SECONDS=3
[ -z "$SANITIZE" ] || RUN_SECONDS=10
# make_policy FILE NAME [EXPIRES] [FUEL]
make_policy() {
  local file=$1 name=$2 expires=${3:-} fuel=${4:-1000000000}
  [ -n "$expires" ] || expires=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
  cat >"$T/$file" <<EOF
{
  "version": 1,
  "name": "$name",
  "identities": [
    {"name": "alice", "certificate": "$(pem_json "$T/alice.crt")",
     "rights": {"/inputs/alice": "rw", "/results/alice": "r"}},
    {"name": "bob", "certificate": "$(pem_json "$T/bob.crt")",
     "rights": {"/inputs/bob": "rw", "/results/bob": "r"}},
    {"name": "carol", "certificate": "$(pem_json "$T/carol.crt")", "rights": {"/programs": "wx"}}
  ],
  "programs": [
    {"path": "/programs/sum.wasm", "sha256": "$(sha "$PROGS/sum.wasm")",
     "rights": {"/inputs": "r", "/results": "rw"}},
    {"path": "/programs/spin.wasm", "sha256": "$(sha "$PROGS/spin.wasm")", "rights": {}},
    {"path": "/programs/membomb.wasm", "sha256": "$(sha "$PROGS/membomb.wasm")", "rights": {}},
    {"path": "/programs/recurse.wasm", "sha256": "$(sha "$PROGS/recurse.wasm")", "rights": {}},
    {"path": "/programs/echo.wasm", "sha256": "$(sha "$PROGS/echo.wasm")", "rights": {}}
  ],
  "results": ["/results"],
  "runtimes": {"allow_debug": true, "platforms": {"process": ["$M"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(pem_json "$T/attestd/ca.pem")"},
  "host": "127.0.0.1:$HP",
  "limits": {"fuel": $fuel, "memory_bytes": 33554432, "run_seconds": $RUN_SECONDS,
             "fs_bytes": 67108864, "output_bytes": 65536},
  "clock": false,
  "expires": "$expires",
  "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}
}
EOF
}
make_policy job.json e2e-sum
cp "$PROGS"/*.wasm "$T/"
echo 1234 >"$T/alice.num"
echo 4321 >"$T/bob.num"

# ---------------------------------------------------------------- the computation
run_sb "deploy: the host launches and attests an isolate" 0 "is running and attested" deploy job.json
HASH=$(deployed_hash)
run_sb "deploy again: idempotent (same policy hash, same isolate)" 0 "is running and attested" deploy job.json
check "one isolate launched for the policy" "[ \$(grep -c 'launched: pid' '$T/hostA.log') -eq 1 ]"
run_sb "carol (program provider) uploads the program, after verifying the isolate" 0 \
  "verdict: ATTESTED" put job.json --as carol sum.wasm /programs/sum.wasm
for p in spin membomb recurse; do
  run_sb "carol uploads $p.wasm" 0 "" put job.json --as carol -q "$p.wasm" "/programs/$p.wasm"
done
run_sb "alice provisions her input" 0 "" put job.json --as alice -q alice.num /inputs/alice/number
run_sb "bob provisions his input" 0 "" put job.json --as bob -q bob.num /inputs/bob/number
run_sb "carol runs the program" 0 "exited with code 0" run job.json --as carol /programs/sum.wasm
run_sb "alice reads her result: the right answer" 0 "total=5555 alice=1234 share=22%" \
  get job.json --as alice -q /results/alice/answer -
run_sb "bob reads his result: the right answer" 0 "total=5555 bob=4321 share=77%" \
  get job.json --as bob -q /results/bob/answer -

# ---------------------------------------------------------------- refusals by the isolate
run_sb "refused: an identity not in the policy (mallory's own key and certificate)" 4 \
  "not the certificate of an identity" put job.json --key mallory.key --cert mallory.crt -q alice.num /inputs/alice/x
run_sb "refused locally: --as a name the policy does not have" 1 "'mallory' is not an identity" \
  put job.json --as mallory -q alice.num /inputs/alice/x
run_sb "refused: alice writing where she has no right (bob's input)" 4 "denied" \
  put job.json --as alice -q alice.num /inputs/bob/number
run_sb "refused: alice reading another party's input" 4 "denied" get job.json --as alice -q /inputs/bob/number -
run_sb "refused: alice reading bob's result" 4 "denied" get job.json --as alice -q /results/bob/answer -
run_sb "bob's input is unchanged after alice's refused write" 0 "4321" get job.json --as bob -q /inputs/bob/number -
run_sb "carol uploads other bytes under a program's path" 0 "" put job.json --as carol -q echo.wasm /programs/spin2.wasm
run_sb "carol replaces echo.wasm's bytes with spin's" 0 "" put job.json --as carol -q spin.wasm /programs/echo.wasm
run_sb "refused: running a program whose hash differs from the policy's" 4 "hash-mismatch" \
  run job.json --as carol -q /programs/echo.wasm
run_sb "refused: alice may not run programs" 4 "denied" run job.json --as alice -q /programs/sum.wasm

# ---------------------------------------------------------------- limits
run_sb "a program that loops forever is stopped by a limit" 6 "limit" run job.json --as carol -q /programs/spin.wasm
run_sb "a program that eats memory is stopped" 6 "" run job.json --as carol -q /programs/membomb.wasm
check "  ... by the memory limit (or the trap it causes)" "grep -qE 'memory limit|trapped' <<<\"\$OUT\"" "$OUT"
run_sb "a program that recurses without end traps" 6 "trapped" run job.json --as carol -q /programs/recurse.wasm
run_sb "others unaffected: bob still reads his result" 0 "total=5555 bob=4321" \
  get job.json --as bob -q /results/bob/answer -

# ---------------------------------------------------------------- attestation refusals
sed 's/"fuel": 1000000000/"fuel": 1000000001/' "$T/job.json" >"$T/onebyte.json"
check "the one-byte policy differs from the original" "! cmp -s '$T/job.json' '$T/onebyte.json'"
run_sb "a policy that differs by one byte of meaning names another computation: host has none" 1 \
  "no computation" status onebyte.json --as alice -q
"$TOOLS/evil_proxy" "$T/evil.port" "$HP" rewrite "$HASH" &
PIDS+=($!)
wait_file "$T/evil.port"
run_sb "refused: a host routing a one-byte-different policy to the real isolate (policy hash)" 3 \
  "policy" put onebyte.json --as alice --host "127.0.0.1:$(cat "$T/evil.port")" -q alice.num /inputs/alice/number
rm -f "$T/evil.port"
SB_ENV="STRONGBOX_VERIFY_AT=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)" \
  run_sb "refused: a stale attestation (isolate certificate past its validity)" 3 "validity" \
  get job.json --as alice -q /results/alice/answer -
"$TOOLS/evil_proxy" "$T/evil.port" "$HP" record "$T/flight.bin" &
PIDS+=($!)
wait_file "$T/evil.port"
run_sb "(recording a genuine session's server flight)" 0 "" \
  get job.json --as alice -q --host "127.0.0.1:$(cat "$T/evil.port")" /results/alice/answer -
rm -f "$T/evil.port"
"$TOOLS/evil_proxy" "$T/evil.port" 0 replay "$T/flight.bin" &
PIDS+=($!)
wait_file "$T/evil.port"
run_sb "refused: a replayed attestation (recorded certificate flight, no isolate key)" 4 \
  "TLS handshake with the isolate failed" \
  get job.json --as alice -q --host "127.0.0.1:$(cat "$T/evil.port")" /results/alice/answer -
rm -f "$T/evil.port"

# A modified runtime binary: another measurement.
cp "$RUNTIME" "$T/runtime-modified"
printf 'x' >>"$T/runtime-modified"
start_host hostB "$T/runtime-modified"
HB=127.0.0.1:$(cat "$T/hostB.port")
run_sb "refused: a modified runtime (the attestation service does not know its measurement)" 1 \
  "measurement" deploy job.json --host "$HB"
admin_post /measurements "{\"platform\":\"process\",\"measurement\":\"$(sha "$T/runtime-modified")\"}" >/dev/null
run_sb "the service accepts the modified runtime; deploy verifies it against the policy: refused" 3 \
  "measurement" deploy job.json --host "$HB"
run_sb "refused by the client: the modified runtime's measurement is not in the policy" 3 \
  "measurement" status job.json --as alice --host "$HB" -q

# Expired policies.
make_policy expired.json e2e-expired "2020-01-01T00:00:00Z"
run_sb "refused: an expired policy (client)" 1 "expire" deploy expired.json
exec 3<>"/dev/tcp/127.0.0.1/$HP"
printf 'STRONGBOX/1 DEPLOY %d\n' "$(stat -c %s "$T/expired.json")" >&3
cat "$T/expired.json" >&3
read -r -t 10 ANSWER <&3
exec 3<&-
check "refused: an expired policy (host, sent by hand)" "grep -q '^ERR deploy: policy refused: .*expire' <<<\"\$ANSWER\"" "$ANSWER"
make_policy soon.json e2e-soon "$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)"
run_sb "a policy that expires in 4 s is deployed" 0 "attested" deploy soon.json
SOON_HASH=$(deployed_hash)
sleep 6
run_sb "refused after expiry: the client will not use an expired policy" 1 "expire" \
  put soon.json --as alice -q alice.num /inputs/alice/number
OUT=$(printf 'STRONGBOX/1 STATUS %s\n' "$SOON_HASH" | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HP; cat >&3; cat <&3")
check "the expired computation's isolate is gone (host: ended)" "grep -q '\"state\":\"ended\"' <<<\"\$OUT\"" "$OUT"

# ---------------------------------------------------------------- an isolate killed mid-run
make_policy victim.json e2e-victim "" 50000000000 # fuel for a long run
run_sb "a second computation is deployed" 0 "attested" deploy victim.json
VHASH=$(deployed_hash)
run_sb "its program is uploaded" 0 "" put victim.json --as carol -q spin.wasm /programs/spin.wasm
(cd "$T" && timeout 60 "$SB" run victim.json --as carol -q /programs/spin.wasm >"$T/victim.out" 2>&1; echo $? >"$T/victim.rc") &
sleep 1
VPID=$(printf 'STRONGBOX/1 STATUS %s\n' "$VHASH" | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HP; cat >&3; cat <&3" |
  grep -o '"pid":[0-9]*' | cut -d: -f2)
check "the victim isolate's pid is known" "[ -n '$VPID' ] && [ '$VPID' -gt 0 ]"
kill -9 "$VPID" 2>/dev/null
for _ in $(seq 1 100); do [ -s "$T/victim.rc" ] && break; sleep 0.1; done
check "the party of the killed isolate gets a clear error" \
  "[ \"\$(cat '$T/victim.rc')\" = 5 ] && grep -q 'killed by signal 9' '$T/victim.out'" "$(cat "$T/victim.out")"
run_sb "the other computation continues" 0 "total=5555 alice=1234" get job.json --as alice -q /results/alice/answer -

# ---------------------------------------------------------------- the host never holds plaintext
SECRET="SBX-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-SECRET"
for _ in $(seq 1 20000); do echo "$SECRET"; done >"$T/secret.txt"
"$TOOLS/evil_proxy" "$T/evil.port" "$HP" capture "$T/capture.bin" &
PIDS+=($!)
wait_file "$T/evil.port"
run_sb "alice provisions a file full of a distinctive secret (traffic captured)" 0 "" \
  put job.json --as alice -q --host "127.0.0.1:$(cat "$T/evil.port")" secret.txt /inputs/alice/secret
rm -f "$T/evil.port"
run_sb "alice reads it back through the host (so it crossed twice)" 0 "$SECRET" \
  get job.json --as alice -q /inputs/alice/secret -
read -r SELF_HITS _ < <("$TOOLS/memscan" --self "$SECRET")
check "positive control: the scanner finds the secret where it is ($SELF_HITS hits)" "[ '$SELF_HITS' -gt 0 ]"
check "the capture of the relay traffic holds the traffic" "[ \$(stat -c %s '$T/capture.bin') -gt 500000 ]"
read -r HITS_MEM SKIPPED < <("$TOOLS/memscan" "$hostA_PID" "$SECRET")
check "no plaintext in the host's memory (/proc/PID/mem over its maps): $HITS_MEM hits" "[ '$HITS_MEM' = 0 ]"
if [ -z "$SANITIZE" ]; then
  check "  ... every mapping of the host was scanned ($SKIPPED skipped)" "[ '$SKIPPED' = 0 ]"
else # ASan reserves terabytes (shadow, allocator space): only the normal build scans them all
  echo "note - under sanitizers $SKIPPED mappings over 64 GiB were not scanned"
fi
HITS_LOG=$(cat "$T"/hostA.log | grep -caF "$SECRET")
check "no plaintext in the host's log: $HITS_LOG hits" "[ '$HITS_LOG' = 0 ]"
HITS_CAP=$(grep -caF "$SECRET" "$T/capture.bin")
check "no plaintext in the captured relay traffic: $HITS_CAP hits" "[ '$HITS_CAP' = 0 ]"

# ---------------------------------------------------------------- ending
run_sb "one party alone cannot end the computation" 0 "continues" end job.json --as alice -q
run_sb "  ... it still serves the others" 0 "total=5555 bob=4321" get job.json --as bob -q /results/bob/answer -
kill -TERM "$hostA_PID"
for _ in $(seq 1 150); do kill -0 "$hostA_PID" 2>/dev/null || break; sleep 0.1; done
wait "$hostA_PID"
RC=$?
check "graceful stop: SIGTERM ends the host cleanly (exit $RC)" "[ $RC -eq 0 ] && grep -q 'info: stopped' '$T/hostA.log'"

echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
