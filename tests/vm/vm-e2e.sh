#!/usr/bin/env bash
# vm-e2e.sh BUILD_DIR - the kvm platform end to end: strongbox-attestd, a
# strongbox-host whose isolates are QEMU micro-VMs booting the guest image (BUILD/guest) under
# SBX_ACCEL (default tcg, which works everywhere; each boot costs a few seconds), and the CLI as
# three parties. Shows: a computation with two data providers in a VM; the memory limit enforced
# inside the VM; a VM killed mid-run gives its party a clear error while the host serves others;
# no plaintext in the host daemon's memory (QEMU's guest memory does hold it: why kvm stays
# insecure); a modified initrd and a modified kernel command line are refused (measurement).
# It reuses the e2e test programs and memscan (BUILD/tests/e2e) and sb-mkinitramfs.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROGS=$1/tests/e2e
MEMSCAN=$1/tests/e2e/memscan
MKINITRAMFS=$1/src/guestimage/sb-mkinitramfs
source "$ROOT/tests/examples-e2e/lib.sh"
SBX_PLATFORM=kvm
sbx_init "$1" sb-vm
sbx_start_services
sbx_keygen alice bob carol
cp "$PROGS"/{sum,spin,membomb}.wasm "$T/"
echo 1234 >"$T/alice.num"
echo 4321 >"$T/bob.num"

# make_policy FILE NAME MEASUREMENT [HOST_PORT]
make_policy() {
  cat >"$T/$1" <<JSON
{
  "version": 1,
  "name": "$2",
  "identities": [
    {"name": "alice", "certificate": "$(sbx_pem_json "$T/alice.crt")",
     "rights": {"/inputs/alice": "rw", "/results/alice": "r"}},
    {"name": "bob", "certificate": "$(sbx_pem_json "$T/bob.crt")",
     "rights": {"/inputs/bob": "rw", "/results/bob": "r"}},
    {"name": "carol", "certificate": "$(sbx_pem_json "$T/carol.crt")", "rights": {"/programs": "wx"}}
  ],
  "programs": [
    {"path": "/programs/sum.wasm", "sha256": "$(sbx_sha "$T/sum.wasm")",
     "rights": {"/inputs": "r", "/results": "rw"}},
    {"path": "/programs/spin.wasm", "sha256": "$(sbx_sha "$T/spin.wasm")", "rights": {}},
    {"path": "/programs/membomb.wasm", "sha256": "$(sbx_sha "$T/membomb.wasm")", "rights": {}}
  ],
  "results": ["/results"],
  "runtimes": {"allow_debug": true, "platforms": {"kvm": ["$3"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(sbx_pem_json "$T/attest-root.pem")"},
  "host": "127.0.0.1:${4:-$HP}",
  "limits": {"fuel": 50000000000, "memory_bytes": 33554432, "run_seconds": 60,
             "fs_bytes": 67108864, "output_bytes": 65536},
  "clock": false,
  "expires": "$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)",
  "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}
}
JSON
}
host_status() { # HASH [PORT]: the host's status line for a computation
  printf 'STRONGBOX/1 STATUS %s\n' "$1" |
    timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/${2:-$HP}; cat >&3; cat <&3"
}

# ---------------------------------------------------------------- two data providers in a VM
make_policy job.json vm-sum "$MEASUREMENT"
sbx_sb "deploy: the host boots a micro-VM ($SBX_ACCEL) and the isolate is attested" 0 \
  "is running and attested" deploy job.json
HASH=$(sed -n 's/^computation \([0-9a-f]\{64\}\) is running and attested$/\1/p' <<<"$OUT")
sbx_check "the host launched QEMU for it" "grep -q 'launched: pid' '$T/host.log'" "$(cat "$T/host.log")"
STATUS=$(host_status "$HASH")
sbx_check "the host reports platform kvm and the launch measurement" \
  "grep -q '\"platform\":\"kvm\"' <<<'$STATUS' && grep -q '$MEASUREMENT' <<<'$STATUS'" "$STATUS"
sbx_sb "carol verifies the kvm isolate (host-signed launch measurement) and uploads" 0 \
  "verdict: ATTESTED" put job.json --as carol sum.wasm /programs/sum.wasm
sbx_sb "carol uploads the memory eater" 0 "" put job.json --as carol -q membomb.wasm /programs/membomb.wasm
sbx_sb "alice provisions her input" 0 "" put job.json --as alice -q alice.num /inputs/alice/number
sbx_sb "bob provisions his input" 0 "" put job.json --as bob -q bob.num /inputs/bob/number
sbx_sb "carol runs the program in the VM" 0 "exited with code 0" run job.json --as carol /programs/sum.wasm
sbx_sb "alice reads her result" 0 "total=5555 alice=1234 share=22%" \
  get job.json --as alice -q /results/alice/answer -
sbx_sb "bob reads his result" 0 "total=5555 bob=4321 share=77%" get job.json --as bob -q /results/bob/answer -

# ---------------------------------------------------------------- the policy's memory limit
sbx_sb "a program that eats memory is stopped inside the VM" 6 "" \
  run job.json --as carol -q /programs/membomb.wasm
sbx_check "  ... by the policy's memory limit (or the trap it causes)" \
  "grep -qE 'memory limit|trapped' <<<\"\$OUT\"" "$OUT"
sbx_sb "the VM's runtime goes on: bob still reads his result" 0 "total=5555 bob=4321" \
  get job.json --as bob -q /results/bob/answer -

# ---------------------------------------------------------------- no plaintext in the host daemon
SECRET="SBX-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-SECRET"
for _ in $(seq 1 2000); do echo "$SECRET"; done >"$T/secret.txt"
sbx_sb "alice provisions a file full of a distinctive secret" 0 "" \
  put job.json --as alice -q secret.txt /inputs/alice/secret
read -r SELF_HITS _ < <("$MEMSCAN" --self "$SECRET")
sbx_check "positive control: the scanner finds the secret where it is ($SELF_HITS hits)" "[ '$SELF_HITS' -gt 0 ]"
read -r HITS _ < <("$MEMSCAN" "$SBX_HOST_PID" "$SECRET")
sbx_check "no plaintext in the host daemon's memory: $HITS hits" "[ '$HITS' = 0 ]"
QPID=$(host_status "$HASH" | grep -o '"pid":[0-9]*' | cut -d: -f2)
read -r QHITS _ < <("$MEMSCAN" "${QPID:-0}" "$SECRET" 2>/dev/null)
sbx_check "but QEMU's guest memory holds it ($QHITS hits): the host can read a kvm guest (insecure)" \
  "[ '${QHITS:-0}' -gt 0 ]"

# ---------------------------------------------------------------- a VM killed mid-run
make_policy victim.json vm-victim "$MEASUREMENT"
sbx_sb "a second computation is deployed (another VM)" 0 "attested" deploy victim.json
VHASH=$(sed -n 's/^computation \([0-9a-f]\{64\}\) is running and attested$/\1/p' <<<"$OUT")
sbx_sb "its program is uploaded" 0 "" put victim.json --as carol -q spin.wasm /programs/spin.wasm
(cd "$T" && timeout 120 "$SB" run victim.json --as carol -q /programs/spin.wasm >"$T/victim.out" 2>&1
 echo $? >"$T/victim.rc") &
sleep 3
VPID=$(host_status "$VHASH" | grep -o '"pid":[0-9]*' | cut -d: -f2)
sbx_check "the victim VM's QEMU pid is known ($VPID)" \
  "[ '${VPID:-0}' -gt 0 ] && grep -q qemu /proc/$VPID/cmdline"
[ "${VPID:-0}" -gt 0 ] && kill -9 "$VPID" 2>/dev/null # never "kill -9 0": that is our group
for _ in $(seq 1 200); do [ -s "$T/victim.rc" ] && break; sleep 0.1; done
sbx_check "the party of the killed VM gets a clear error" \
  "[ \"\$(cat '$T/victim.rc')\" = 5 ] && grep -q 'killed by signal 9' '$T/victim.out'" "$(cat "$T/victim.out")"
sbx_sb "the host keeps serving the other VM" 0 "total=5555 alice=1234" \
  get job.json --as alice -q /results/alice/answer -

# ---------------------------------------------------------------- modified images are refused
# A second host boots an initrd with one more (harmless) cpio member appended: the kernel unpacks
# concatenated archives, so it boots, but its launch measurement differs.
"$MKINITRAMFS" "$T/extra.cpio" dir:extra:755 || exit 1
cat "$GUEST_INITRD" "$T/extra.cpio" >"$T/initrd-modified.cpio"
"$HOSTD" --listen 127.0.0.1:0 --port-file "$T/hostB.port" --platform kvm --accel "$SBX_ACCEL" \
  --guest-kernel "$GUEST_KERNEL" --guest-initrd "$T/initrd-modified.cpio" \
  --attest-key "$T/host.key" --log "$T/hostB.log" &
SBX_PIDS+=($!)
sbx_wait_file "$T/hostB.port" || exit 1
HB=$(cat "$T/hostB.port")
make_policy modified.json vm-modified "$MEASUREMENT" "$HB"
sbx_sb "refused: a modified initrd (the attestation service does not know its measurement)" 1 \
  "measurement" deploy modified.json
MOD=$("$SB" measure --platform kvm --accel "$SBX_ACCEL" --guest-kernel "$GUEST_KERNEL" \
  --guest-initrd "$T/initrd-modified.cpio")
curl -sS --max-time 10 -H "Authorization: Bearer $(cat "$T/attestd/admin.token")" -X POST \
  --data "{\"platform\":\"kvm\",\"measurement\":\"$MOD\"}" "http://127.0.0.1:$AP/v1/admin/measurements" >/dev/null
# deploy verifies the isolate like every command: the service now certifies it, the policy does not
# name its measurement, so deploy itself refuses it (exit 3) and so does every later command.
sbx_sb "the service accepts the modified initrd: deploy launches it, then refuses it (the policy does not name it)" 3 \
  "is not accepted for platform kvm" deploy modified.json
sbx_sb "refused by the client: the service accepts the modified initrd, the policy does not" 3 \
  "measurement" status modified.json --as alice -q
# The command line is fixed per accelerator: a policy made for the other one names another line.
OTHER=$([ "$SBX_ACCEL" = tcg ] && echo kvm || echo tcg)
OTHER_M=$("$SB" measure --platform kvm --accel "$OTHER")
make_policy cmdline.json vm-cmdline "$OTHER_M"
sbx_sb "a policy naming the --accel $OTHER launch, deployed on the $SBX_ACCEL host: refused by deploy" 3 \
  "is not accepted for platform kvm" deploy cmdline.json
sbx_sb "refused by the client: the VM's kernel command line is not the policy's" 3 "measurement" \
  status cmdline.json --as alice -q
sbx_summary vm-e2e
