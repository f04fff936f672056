#!/usr/bin/env bash
# Issue 14's availability attacks against the real binaries on loopback (strongbox-attestd,
# strongbox-host with strongbox-runtime isolates, the strongbox CLI as parties), each with a
# check that an innocent party is still served "within seconds" (a generous liveness bound: every
# innocent operation runs under `timeout 20`, the client's own deadline being 30 s):
#   (a) 256 idle CONNECT connections held from 8 addresses while alice puts and gets;
#   (a2) 64 TLS handshakes left hanging: the 65th connection gets "ERR busy", parties already in
#       are served, and 10 s later (the runtime's handshake deadline) newcomers are again;
#   (b) a party's 40 MiB get that it never reads, while others put, run and get;
#   (c) a session whose party reads nothing is closed after the host's --stall-timeout, with the
#       reason in the log, and nothing else is disturbed;
#   (d) refusals at the host's limits are "ERR busy" lines that the client shows to its user;
#   (e) 16 parties x 16 puts and gets of 4 MiB at once on one computation: none stalls (a lost
#       wake-up in the host's relay once left parties unread until their client gave up).
#
# usage: hostile.sh BUILD_DIR PROGRAM_DIR HOSTILE_TOOL [--sanitizer-compat]
set -u
B=$1 PROGS=$2 HOSTILE=$3 SANITIZE=${4:-}
SB=$B/src/cli/strongbox
HOSTD=$B/src/host/strongbox-host
ATTESTD=$B/src/attestd/strongbox-attestd
RUNTIME=$B/src/runtime/strongbox-runtime
[ -x "$HOSTILE" ] || { echo "no tool $HOSTILE"; exit 1; }
T=$(mktemp -d /tmp/sb-hostile-XXXXXX)
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
check() { if eval "$2"; then pass "$1"; else fail "$1" "${3:-}"; fi; }

# run_sb DESC WANT_RC WANT_TEXT ARGS...: the CLI under the 20 s liveness bound.
run_sb() {
  local desc=$1 want_rc=$2 want=$3
  shift 3
  OUT=$(cd "$T" && timeout 20 "$SB" "$@" 2>&1)
  local rc=$?
  if [ "$rc" -eq "$want_rc" ] && { [ -z "$want" ] || grep -qF -- "$want" <<<"$OUT"; }; then
    pass "$desc"
  else
    fail "$desc (exit $rc, wanted $want_rc and '$want')" "$OUT"
  fi
}

wait_file() { # FILE [TEXT]
  for _ in $(seq 1 600); do
    [ -s "$1" ] && { [ -z "${2:-}" ] || grep -qF -- "$2" "$1"; } && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1 ${2:-}" >&2
  return 1
}

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
admin_post /devices "{\"id\":\"host1\",\"platform\":\"process\",\"public_key\":\"$(pem_json "$T/host.pub")\"}" >/dev/null
M=$(sha "$RUNTIME")
admin_post /measurements "{\"platform\":\"process\",\"measurement\":\"$M\"}" >/dev/null

start_host() { # NAME OPTIONS...
  local name=$1
  shift
  "$HOSTD" --listen 127.0.0.1:0 --port-file "$T/$name.port" --runtime "$RUNTIME" \
    --attest-key "$T/host.key" --log "$T/$name.log" $SANITIZE "$@" &
  PIDS+=($!)
  wait_file "$T/$name.port" || exit 1
}
start_host hostA                       # the defaults
start_host hostB --stall-timeout 3 --max-connections 6 --max-unauth-per-source 3
HP=$(cat "$T/hostA.port")
HPB=$(cat "$T/hostB.port")

for who in alice bob carol; do
  (cd "$T" && "$SB" keygen --name "$who" --dir . >/dev/null) || { echo "keygen failed"; exit 1; }
done
# fs_bytes: (e) keeps 16 x 4 MiB files, the 40 MiB of (b) and up to 16 uploads of 4 MiB staged at
# once; staged uploads count against the limit, so 128 MiB would refuse some of them (rightly).
cat >"$T/job.json" <<EOF
{
  "version": 1,
  "name": "hostile",
  "identities": [
    {"name": "alice", "certificate": "$(pem_json "$T/alice.crt")",
     "rights": {"/inputs/alice": "rw", "/results/alice": "r"}},
    {"name": "bob", "certificate": "$(pem_json "$T/bob.crt")",
     "rights": {"/inputs/bob": "rw", "/results/bob": "r"}},
    {"name": "carol", "certificate": "$(pem_json "$T/carol.crt")", "rights": {"/programs": "wx"}}
  ],
  "programs": [{"path": "/programs/sum.wasm", "sha256": "$(sha "$PROGS/sum.wasm")",
                "rights": {"/inputs": "r", "/results": "rw"}}],
  "results": ["/results"],
  "runtimes": {"allow_debug": true, "platforms": {"process": ["$M"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(pem_json "$T/attestd/ca.pem")"},
  "host": "127.0.0.1:$HP",
  "limits": {"fuel": 1000000000, "memory_bytes": 33554432, "run_seconds": 10,
             "fs_bytes": 268435456, "output_bytes": 65536},
  "clock": false,
  "expires": "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)",
  "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}
}
EOF
cp "$PROGS/sum.wasm" "$T/"
echo 1234 >"$T/alice.num"
echo 4321 >"$T/bob.num"
head -c $((40 << 20)) /dev/urandom >"$T/big.bin"
head -c $((8 << 20)) /dev/urandom >"$T/eight.bin"
head -c $((4 << 20)) /dev/urandom >"$T/two.bin"

run_sb "deploy on host A" 0 "attested" deploy job.json
HASH=$(sed -n 's/^computation \([0-9a-f]\{64\}\) is running and attested$/\1/p' <<<"$OUT")
run_sb "deploy on host B (stall timeout 3 s, 6 connections, 3 unauthenticated per address)" 0 \
  "attested" deploy job.json --host "127.0.0.1:$HPB"
run_sb "carol uploads the program" 0 "" put job.json --as carol -q sum.wasm /programs/sum.wasm

# ---------------------------------------------------------------- (a) idle CONNECT flood
"$HOSTILE" idle "$HP" "$HASH" 256 2 8 >"$T/idle.out" &
IDLE=$!
PIDS+=($IDLE)
wait_file "$T/idle.out"
check "(a) 256 idle CONNECTs from 8 addresses are all accepted and held: $(cat "$T/idle.out")" \
  "grep -q '^ok 256 busy 0 closed 0 other 0' '$T/idle.out'"
run_sb "(a) meanwhile alice puts" 0 "" put job.json --as alice -q alice.num /inputs/alice/number
run_sb "(a) ... and gets it back" 0 "1234" get job.json --as alice -q /inputs/alice/number -
check "(a) the idle connections cost the isolate no session (none opened)" \
  "[ \$(grep -c 'session [0-9]* of computation' '$T/hostA.log') -le 4 ]"
for _ in $(seq 1 150); do
  [ "$(grep -c 'no TLS bytes within 10 s of its CONNECT' "$T/hostA.log")" -ge 256 ] && break
  sleep 0.1
done
check "(a) the host closes each of them 10 s after its CONNECT (no TLS bytes came)" \
  "[ \$(grep -c 'no TLS bytes within 10 s of its CONNECT' '$T/hostA.log') -eq 256 ]"
kill "$IDLE"

# ---------------------------------------------------------------- (a2) hanging handshakes
"$HOSTILE" hello "$HP" "$HASH" 64 2 8 >"$T/hello.out" &
HELLO=$!
PIDS+=($HELLO)
wait_file "$T/hello.out"
check "(a2) 64 connections from 8 addresses each send a ClientHello and stop: $(cat "$T/hello.out")" \
  "grep -q '^ok 64 busy 0 closed 0 other 0' '$T/hello.out'"
sleep 1
run_sb "(a2) the next party is told the computation is busy" 1 \
  "host refused: busy: computation ${HASH:0:16} has 64 connections in their TLS handshake" \
  get job.json --as alice -q /inputs/alice/number -
for _ in $(seq 1 150); do
  [ "$(grep -c 'timeout: TLS handshake not finished within 10 s' "$T/hostA.log")" -ge 64 ] && break
  sleep 0.1
done
check "(a2) the runtime ends each hanging handshake after 10 s, and the host logs why" \
  "[ \$(grep -c 'closed by the runtime: timeout: TLS handshake not finished within 10 s' '$T/hostA.log') -eq 64 ]"
run_sb "(a2) then alice is served again" 0 "1234" get job.json --as alice -q /inputs/alice/number -
kill "$HELLO"

# ---------------------------------------------------------------- (b) a party that never reads
OUT=$(cd "$T" && timeout 120 "$SB" put job.json --as alice -q big.bin /inputs/alice/big 2>&1)
check "(b) alice uploads 40 MiB" "[ $? -eq 0 ]" "$OUT"
"$HOSTILE" noread "$HP" "$HASH" "$T/alice.key" "$T/alice.crt" /inputs/alice/big 60 >"$T/noread.out" &
NOREAD=$!
PIDS+=($NOREAD)
wait_file "$T/noread.out" "get sent"
sleep 1
run_sb "(b) while alice reads nothing of her 40 MiB get, bob puts" 0 "" \
  put job.json --as bob -q bob.num /inputs/bob/number
run_sb "(b) ... carol runs the program" 0 "exited with code 0" run job.json --as carol /programs/sum.wasm
run_sb "(b) ... bob gets his result" 0 "total=5555 bob=4321" get job.json --as bob -q /results/bob/answer -
run_sb "(b) ... and alice herself, in another session, gets hers" 0 "total=5555 alice=1234" \
  get job.json --as alice -q /results/alice/answer -
kill "$NOREAD"

# ---------------------------------------------------------------- (e) many parties at once
run_sb "(e) alice uploads 4 MiB" 0 "" put job.json --as alice -q two.bin /inputs/alice/two
run_sb "(e) bob uploads 4 MiB" 0 "" put job.json --as bob -q two.bin /inputs/bob/two
worker() { # N WHO: 16 operations, alternately put and get, each under the liveness bound
  for i in $(seq 1 16); do
    local t0 rc op
    t0=$(date +%s%N)
    if [ $((i % 2)) = 0 ]; then
      op=get
      (cd "$T" && timeout 20 "$SB" get job.json --as "$2" -q "/inputs/$2/two" - | cmp -s - two.bin)
    else
      op=put
      (cd "$T" && timeout 20 "$SB" put job.json --as "$2" -q two.bin "/inputs/$2/w$1" >/dev/null 2>&1)
    fi
    rc=$?
    echo "$1 $i $op $rc $((($(date +%s%N) - t0) / 1000000))" >>"$T/ops"
  done
}
WORKERS=()
for n in $(seq 1 16); do
  if [ $((n % 2)) = 0 ]; then worker "$n" bob & else worker "$n" alice & fi
  WORKERS+=($!)
done
wait "${WORKERS[@]}"
SLOWEST=$(sort -k5 -n "$T/ops" | tail -1 | awk '{print $5}')
check "(e) 16 parties x 16 puts/gets of 4 MiB: all $(wc -l <"$T/ops") succeed (slowest $SLOWEST ms)" \
  "[ \$(wc -l <'$T/ops') -eq 256 ] && [ \$(awk '\$4 != 0' '$T/ops' | wc -l) -eq 0 ]" \
  "$(awk '$4 != 0' "$T/ops")"

# ---------------------------------------------------------------- (c) the stall timeout
OUT=$(cd "$T" && timeout 60 "$SB" put job.json --as alice -q --host "127.0.0.1:$HPB" eight.bin /inputs/alice/eight 2>&1)
check "(c) alice uploads 8 MiB to host B" "[ $? -eq 0 ]" "$OUT"
timeout 60 "$HOSTILE" noread "$HPB" "$HASH" "$T/alice.key" "$T/alice.crt" /inputs/alice/eight 8 \
  >"$T/stall.out" 2>&1
READ=$(awk '/^read/ {print $2}' "$T/stall.out")
check "(c) a party that read nothing for 8 s finds its session closed ($(tail -1 "$T/stall.out"))" \
  "grep -q 'then eof' '$T/stall.out' && [ '${READ:-0}' -lt $((8 << 20)) ]" "$(cat "$T/stall.out")"
check "(c) the host closed it after 3 s and says why" \
  "grep -q 'closed: the party read nothing for 3 s while [0-9]* bytes waited' '$T/hostB.log'"
run_sb "(c) other sessions are served" 0 "alice" status job.json --as alice --host "127.0.0.1:$HPB"

# ---------------------------------------------------------------- (d) refusals say why
"$HOSTILE" idle "$HPB" "$HASH" 3 1 1 >"$T/idle3.out" &
IDLE=$!
PIDS+=($IDLE)
wait_file "$T/idle3.out"
run_sb "(d) 3 unauthenticated connections from 127.0.0.1: the next is refused, the client says so" 1 \
  "host refused: busy: 3 connections from 127.0.0.1 are not yet authenticated" \
  status job.json --as alice --host "127.0.0.1:$HPB"
kill "$IDLE"
sleep 0.5
"$HOSTILE" idle "$HPB" "$HASH" 6 20 3 >"$T/idle6.out" &
IDLE=$!
PIDS+=($IDLE)
wait_file "$T/idle6.out"
run_sb "(d) the host at its connection cap (6): ERR busy, not a bare close" 1 \
  "host refused: busy: the host is at its connection limit (6)" \
  status job.json --as alice --host "127.0.0.1:$HPB"
kill "$IDLE"
sleep 0.5
run_sb "(d) once they are gone, alice is served again" 0 "alice" \
  status job.json --as alice --host "127.0.0.1:$HPB"

echo "hostile: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
