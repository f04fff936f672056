#!/usr/bin/env bash
# bench-vm: launch-to-ready and host memory per idle isolate, kvm platform next to process.
#
#   run.sh BUILD_DIR [RUNS]      (SB_BENCH_ACCEL=kvm|tcg; default: kvm where /dev/kvm can boot the
#                                 guest, else tcg)
# Starts one attestation service and two hosts (process, kvm) through tests/examples-e2e/lib.sh,
# deploys RUNS fresh computations on each, one at a time, and keeps them all idle. Per platform it
# prints the launch-to-ready time the host measured (launch of the isolate until it is attested,
# host STATUS ready_ms: for kvm QEMU start, boot, init, runtime start, attestation) and the host
# memory of each idle isolate (RSS and PSS of the isolate's process: the runtime for process,
# QEMU for kvm, from /proc/PID/smaps_rollup), min / median / max.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$1 RUNS=${2:-5}
source "$ROOT/tests/examples-e2e/lib.sh"
ACCEL=${SB_BENCH_ACCEL:-}
if [ -z "$ACCEL" ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && { [ ! -d /sys/module/kvm_pvm ] ||
       [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; else ACCEL=tcg; fi
fi
SBX_PLATFORM=process
SBX_HOST_FLAGS="--max-isolates $((RUNS + 4))" # (the later one wins)
sbx_init "$B" sb-bench-vm
sbx_start_services              # attestd + the process host ($HP)
PROC_HP=$HP PROC_M=$MEASUREMENT
# The kvm host: the same key, registered for kvm with the image's measurement.
KVM_M=$("$SB" measure --platform kvm --accel "$ACCEL" --guest-kernel "$GUEST_KERNEL" --guest-initrd "$GUEST_INITRD")
admin=$(cat "$T/attestd/admin.token")
for body in "{\"id\":\"host-kvm\",\"platform\":\"kvm\",\"public_key\":\"$(sbx_pem_json "$T/host.pub")\"}" \
            "{\"platform\":\"kvm\",\"measurement\":\"$KVM_M\"}"; do
  ep=devices; case "$body" in *measurement*) ep=measurements ;; esac
  curl -sS --max-time 10 -H "Authorization: Bearer $admin" -X POST --data "$body" \
    "http://127.0.0.1:$AP/v1/admin/$ep" >/dev/null || { echo "bench-vm: registering failed" >&2; exit 1; }
done
"$HOSTD" --listen 127.0.0.1:0 --port-file "$T/kvm.port" --platform kvm --accel "$ACCEL" \
  --guest-kernel "$GUEST_KERNEL" --guest-initrd "$GUEST_INITRD" --attest-key "$T/host.key" \
  --log "$T/kvm.log" --max-isolates $((RUNS + 4)) 2>"$T/kvm.console" &
SBX_PIDS+=($!)
sbx_wait_file "$T/kvm.port" || exit 1
KVM_HP=$(cat "$T/kvm.port")
sbx_keygen alice
cp "$B/tests/e2e/sum.wasm" "$T/"

policy() { # FILE NAME PLATFORM MEASUREMENT PORT
  cat >"$T/$1" <<JSON
{"version": 1, "name": "$2",
 "identities": [{"name": "alice", "certificate": "$(sbx_pem_json "$T/alice.crt")", "rights": {"/inputs": "rw", "/programs": "wx"}}],
 "programs": [{"path": "/programs/sum.wasm", "sha256": "$(sbx_sha "$T/sum.wasm")", "rights": {}}],
 "results": ["/inputs"],
 "runtimes": {"allow_debug": true, "platforms": {"$3": ["$4"]}},
 "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(sbx_pem_json "$T/attest-root.pem")"},
 "host": "127.0.0.1:$5",
 "limits": {"fuel": 1000000, "memory_bytes": 33554432, "run_seconds": 10, "fs_bytes": 16777216, "output_bytes": 65536},
 "clock": false, "expires": "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)",
 "shutdown": {"quorum": {"members": ["alice"], "count": 1}}}
JSON
}
status() { printf 'STRONGBOX/1 STATUS %s\n' "$1" | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2; cat >&3; cat <&3"; }
field() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -1 | cut -d: -f2; }
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$2/smaps_rollup" 2>/dev/null; }
stats() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR]; else printf "-" }'; }

measure_platform() { # LABEL PLATFORM MEASUREMENT PORT
  local i out hash st pid ready=() rss=() pss=()
  for i in $(seq 1 "$RUNS"); do
    policy "$2-$i.json" "bench-vm-$2-$i" "$2" "$3" "$4"
    out=$(cd "$T" && timeout 300 "$SB" deploy "$2-$i.json" 2>&1) || { echo "bench-vm: deploy on $2 failed: $out" >&2; exit 1; }
    hash=$(awk '{print $2}' <<<"$out")
    st=$(status "$hash" "$4")
    pid=$(field pid "$st")
    ready+=("$(field ready_ms "$st")")
    sleep 1 # idle: attested, no session
    rss+=("$(kib Rss "$pid")") pss+=("$(kib Pss "$pid")")
  done
  printf '%-22s ready ms (min/median/max) %s; idle RSS KiB %s; PSS KiB %s\n' "$1" \
    "$(printf '%s\n' "${ready[@]}" | stats)" "$(printf '%s\n' "${rss[@]}" | stats)" \
    "$(printf '%s\n' "${pss[@]}" | stats)"
}
echo "bench-vm: $RUNS fresh computations per platform, kept idle; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
measure_platform process process "$PROC_M" "$PROC_HP"
measure_platform "kvm (accel $ACCEL)" kvm "$KVM_M" "$KVM_HP"
echo "targets on a real KVM host: ready <= 300 ms, <= 48 MiB (49152 KiB) per idle micro-VM"
[ "$ACCEL" = tcg ] && echo "(accel tcg: QEMU emulates the guest CPU; times and memory are not KVM figures, docs/host.md)"
SBX_FAILED=0
