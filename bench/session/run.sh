#!/usr/bin/env bash
# bench-session: sets up attestd + host + parties on loopback (as tests/e2e does), then runs
# bench_session for latency, 1 GiB provisioning throughput and idle isolates per host.
# usage: run.sh BUILD_DIR BENCH_BIN_DIR [IDLE_COUNT] [LATENCY_RUNS]
set -eu
B=$1 BIN=$2 IDLE=${3:-500} RUNS=${4:-20}
SB=$B/src/cli/strongbox
HOSTD=$B/src/host/strongbox-host
ATTESTD=$B/src/attestd/strongbox-attestd
RUNTIME=$B/src/runtime/strongbox-runtime
PHASES=${PHASES:-latency throughput idle} # e.g. PHASES=idle to run one part
has() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
T=$(mktemp -d /tmp/sb-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
  [ -n "${SHM:-}" ] && rm -f "$SHM"
}
trap cleanup EXIT
wait_file() { for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$T/attestd"
"$ATTESTD" --state "$T/attestd" --port 0 --port-file "$T/attestd.port" --threads 2 >"$T/attestd.log" 2>&1 &
PIDS+=($!)
wait_file "$T/attestd.port"
AP=$(cat "$T/attestd.port")
ADMIN=$(cat "$T/attestd/admin.token")
post() { curl -sS --max-time 10 -H "Authorization: Bearer $ADMIN" -X POST --data "$2" "http://127.0.0.1:$AP/v1/admin$1" >/dev/null; }
"$HOSTD" --init-key "$T/host.key" >"$T/host.pub"
post /devices "{\"id\":\"bench\",\"platform\":\"process\",\"public_key\":\"$(pem_json "$T/host.pub")\"}"
M=$(sha "$RUNTIME")
post /measurements "{\"platform\":\"process\",\"measurement\":\"$M\"}"
"$HOSTD" --listen 127.0.0.1:0 --port-file "$T/host.port" --runtime "$RUNTIME" --attest-key "$T/host.key" \
  --log "$T/host.log" --max-isolates $((IDLE + 64)) --max-memory 1000000000 &
PIDS+=($!)
wait_file "$T/host.port"
HP=127.0.0.1:$(cat "$T/host.port")
for who in alice bob carol; do (cd "$T" && "$SB" keygen --name "$who" --dir . >/dev/null); done
cp "$BIN/sum.wasm" "$T/"
A=$(pem_json "$T/alice.crt") Bc=$(pem_json "$T/bob.crt") C=$(pem_json "$T/carol.crt") R=$(pem_json "$T/attestd/ca.pem")
S=$(sha "$T/sum.wasm") EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
policy() { # FILE NAME FS_BYTES
  cat >"$T/$1" <<P
{"version": 1, "name": "$2",
 "identities": [
  {"name": "alice", "certificate": "$A", "rights": {"/inputs/alice": "rw", "/results/alice": "r"}},
  {"name": "bob", "certificate": "$Bc", "rights": {"/inputs/bob": "rw", "/results/bob": "r"}},
  {"name": "carol", "certificate": "$C", "rights": {"/programs": "wx"}}],
 "programs": [{"path": "/programs/sum.wasm", "sha256": "$S", "rights": {"/inputs": "r", "/results": "rw"}}],
 "results": ["/results"],
 "runtimes": {"allow_debug": true, "platforms": {"process": ["$M"]}},
 "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$R"},
 "host": "$HP",
 "limits": {"fuel": 1000000000, "memory_bytes": 33554432, "run_seconds": 10, "fs_bytes": $3, "output_bytes": 65536},
 "clock": false, "expires": "$EXP",
 "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}}
P
}
for i in $(seq 0 $((RUNS - 1))); do policy "lat-$i.json" "bench-latency-$i" 67108864; done
policy tput.json bench-throughput 1200000000
for i in $(seq 0 $((IDLE - 1))); do policy "idle-$i.json" "bench-idle-$i" 1048576; done
# In tmpfs, filled: reading it is a memory copy (a sparse file on disk would make the client's
# kernel zero-fill pages and dominate the client's CPU time).
SHM=$(mktemp /dev/shm/sb-bench-XXXXXX)
if has throughput; then head -c "${BIG_SIZE:-1073741824}" /dev/zero >"$SHM"; fi
ln -s "$SHM" "$T/big.bin"

if has latency; then "$BIN/bench_session" latency "$T" "$HP" "$RUNS"; fi
if has throughput; then "$BIN/bench_session" throughput "$T" "$HP" "${PIDS[1]}"; fi
has throughput && echo "  host RSS after the 1 GiB transfer: $(awk '/VmRSS/ {print $2, $3}' /proc/${PIDS[1]}/status)"
if has idle; then "$BIN/bench_session" idle "$T" "$HP" "$IDLE"; fi
has idle && echo "  host RSS with them: $(awk '/VmRSS/ {print $2, $3}' /proc/${PIDS[1]}/status)"
