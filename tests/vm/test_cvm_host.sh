#!/usr/bin/env bash
# test_cvm_host.sh BUILD_DIR - the sev-snp and tdx platforms of strongbox-host without their
# hardware: a fake QEMU (a script that answers `-object help`, then records its argument vector
# and open descriptors and fails) stands in for QEMU >= 9.1/10.1, and --device-root a fake /dev and
# /sys. Shows: the exact command line (what src/platform/cvm.c builds and `strongbox measure`
# assumes: vCPUs, model, firmware, the guest image's memfds, the fixed command line), the
# descriptors QEMU gets, every refusal at start-up naming the missing piece (no --firmware, an
# unknown vCPU model, bookworm's real QEMU 7.2 without the object, no /dev/sev, no KVM TDX), and
# that an isolate that dies at once is reported to the deploying party.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/tests/examples-e2e/lib.sh"
sbx_init "$1" sb-cvm
run() { OUT=$("$@" 2>&1); RC=$?; }
printf 'kernel bytes' >"$T/k"
printf 'initrd bytes' >"$T/i"
printf 'firmware bytes' >"$T/fw"
chmod 0600 "$T/fw" # QEMU, as nobody, reads the host's sealed copy, not this file
mkdir -p "$T/snp/dev" "$T/snp/sys/module/kvm_amd/parameters" "$T/tdx/sys/module/kvm_intel/parameters" \
  "$T/none" "$T/rec"
touch "$T/snp/dev/sev"
echo Y >"$T/snp/sys/module/kvm_amd/parameters/sev_snp"
echo Y >"$T/tdx/sys/module/kvm_intel/parameters/tdx"
chmod 0755 "$T"; chmod 0777 "$T/rec" # QEMU runs as nobody when the host is root
# The fake QEMU: started with an empty environment, so every path is written into it.
cat >"$T/qemu" <<EOF
#!/bin/bash
if [ "\$*" = "-object help" ]; then
  printf 'List of user creatable objects:\n  authz-list\n  sev-guest\n  sev-snp-guest\n  tdx-guest\n'
  exit 0
fi
printf '%s\n' "\$0" "\$@" >"$T/rec/argv"
# ls runs in a child, no pipe: the shell's descriptors stay as QEMU's were (255: the script).
/bin/ls -l /proc/\$\$/fd >"$T/rec/fds.raw"
/bin/sed -n 's/.* \([0-9]*\) -> /\1 /p' "$T/rec/fds.raw" >"$T/rec/fds"
# The bytes QEMU would boot: the sealed kernel, initrd and firmware, opened as QEMU does.
/bin/cat /proc/\$\$/fd/4 >"$T/rec/kernel"; /bin/cat /proc/\$\$/fd/5 >"$T/rec/initrd"; /bin/cat /proc/\$\$/fd/7 >"$T/rec/fw"
echo "fake qemu: no SNP or TDX here" >&2
exit 1
EOF
chmod 0755 "$T/qemu"
COMMON=(--guest-kernel "$T/k" --guest-initrd "$T/i" --listen 127.0.0.1:0)
# Real inputs of `strongbox measure` for the launch agreement checks below: the regenerated
# AmdSev OVMF footer image (tests/measure) and the synthetic TDVF and PE kernel.
"$1/tests/measure/test_measure_snp" --emit-firmware "$T/ovmf.fd" || exit 1
mkdir -p "$T/gen" && "$1/tests/measure/test_measure_tdx" --write "$T/gen" >/dev/null || exit 1
mkdir -p "$T/img-sev-snp" "$T/img-tdx"
cp "$T/k" "$T/img-sev-snp/vmlinuz"; cp "$T/i" "$T/img-sev-snp/initrd.cpio"
cp "$T/gen/kernel.efi" "$T/img-tdx/vmlinuz"; cp "$T/gen/initrd" "$T/img-tdx/initrd.cpio"
chmod -R a+rX "$T/img-sev-snp" "$T/img-tdx" "$T/ovmf.fd" "$T/gen"

# ---------------------------------------------------------------- refusals at start-up
run "$HOSTD" --platform sev-snp --qemu "$T/qemu" --device-root "$T/snp" "${COMMON[@]}"
sbx_check "refused: sev-snp without --firmware (exit 1, named)" \
  "[ $RC = 1 ] && grep -q -- '--firmware is required' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform tdx --qemu "$T/qemu" --device-root "$T/tdx" "${COMMON[@]}"
sbx_check "refused: tdx without --firmware (exit 1, named)" \
  "[ $RC = 1 ] && grep -q -- '--firmware is required (TDVF' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform sev-snp --firmware "$T/fw" --vcpu-type EPYC-v9 --qemu "$T/qemu" \
  --device-root "$T/snp" "${COMMON[@]}"
sbx_check "refused: an unknown --vcpu-type, the known ones listed" \
  "[ $RC = 1 ] && grep -q -- '--vcpu-type EPYC-v9: not a model' <<<\"\$OUT\" && grep -q 'EPYC-Milan' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform tdx --firmware "$T/fw" --vcpu-type EPYC --qemu "$T/qemu" \
  --device-root "$T/tdx" "${COMMON[@]}"
sbx_check "refused: --vcpu-type on tdx (-cpu host)" "[ $RC = 1 ] && grep -q 'cpu host' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform sev-snp --firmware "$T/fw" --vcpus 0 --qemu "$T/qemu" "${COMMON[@]}"
sbx_check "refused: --vcpus 0 (exit 2)" "[ $RC = 2 ] && grep -q 'want 1-64' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform tdx --accel tcg --firmware "$T/fw" --qemu "$T/qemu" --device-root "$T/tdx" "${COMMON[@]}"
sbx_check "refused: --accel tcg on tdx (KVM only)" "[ $RC = 1 ] && grep -q 'runs on KVM only' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform kvm --firmware "$T/fw" "${COMMON[@]}"
sbx_check "refused: --firmware with --platform kvm (exit 2)" \
  "[ $RC = 2 ] && grep -q 'sev-snp and tdx only' <<<\"\$OUT\"" "$OUT"
if [ -x /usr/bin/qemu-system-x86_64 ] && ! /usr/bin/qemu-system-x86_64 -object help 2>/dev/null | grep -qx '  sev-snp-guest'; then
  run "$HOSTD" --platform sev-snp --firmware "$T/fw" --qemu /usr/bin/qemu-system-x86_64 \
    --device-root "$T/snp" "${COMMON[@]}"
  sbx_check "refused: the installed QEMU ($(/usr/bin/qemu-system-x86_64 --version | head -1)) has no sev-snp-guest" \
    "[ $RC = 1 ] && grep -q \"no 'sev-snp-guest' object\" <<<\"\$OUT\" && grep -q 'QEMU >= 9.1' <<<\"\$OUT\"" "$OUT"
  run "$HOSTD" --platform tdx --firmware "$T/fw" --qemu /usr/bin/qemu-system-x86_64 \
    --device-root "$T/tdx" "${COMMON[@]}"
  sbx_check "refused: the installed QEMU has no tdx-guest (QEMU >= 10.1 named)" \
    "[ $RC = 1 ] && grep -q \"no 'tdx-guest' object\" <<<\"\$OUT\" && grep -q 'QEMU >= 10.1' <<<\"\$OUT\"" "$OUT"
else
  echo "skip - no QEMU without sev-snp-guest installed in /usr/bin"
fi
run "$HOSTD" --platform sev-snp --firmware "$T/fw" --qemu "$T/qemu" --device-root "$T/none" "${COMMON[@]}"
sbx_check "refused: no /dev/sev (named)" "[ $RC = 1 ] && grep -q '/dev/sev: No such file' <<<\"\$OUT\"" "$OUT"
echo N >"$T/none/sev_snp"; mkdir -p "$T/nosnp/dev" "$T/nosnp/sys/module/kvm_amd/parameters"
touch "$T/nosnp/dev/sev"; echo N >"$T/nosnp/sys/module/kvm_amd/parameters/sev_snp"
run "$HOSTD" --platform sev-snp --firmware "$T/fw" --qemu "$T/qemu" --device-root "$T/nosnp" "${COMMON[@]}"
sbx_check "refused: /dev/sev but kvm_amd sev_snp=N (named)" "[ $RC = 1 ] && grep -q 'sev_snp is not Y' <<<\"\$OUT\"" "$OUT"
run "$HOSTD" --platform tdx --firmware "$T/fw" --qemu "$T/qemu" --device-root "$T/none" "${COMMON[@]}"
sbx_check "refused: no KVM TDX support (named)" "[ $RC = 1 ] && grep -q 'kvm_intel/parameters/tdx is not Y' <<<\"\$OUT\"" "$OUT"


# ---------------------------------------------------------------- a deploy on each platform
sbx_keygen alice
# The attestation service: the host asks it for a challenge before the isolate is ready.
mkdir -p "$T/attestd"
"$ATTESTD" --state "$T/attestd" --port 0 --port-file "$T/attestd.port" >"$T/attestd.log" 2>&1 &
SBX_PIDS+=($!)
sbx_wait_file "$T/attestd.port" || exit 1
AP=$(cat "$T/attestd.port")
M96=$(printf '0%.0s' $(seq 96)) M64=$(printf '0%.0s' $(seq 64))
# sev-snp-default, tdx-default: each platform with no --guest-kernel/--guest-initrd boots this
# build's CVM image (BUILD/guest-cvm: one image, its 6.12 kernel a guest of both TEEs), when
# scripts/setup.sh --cvm-kernel fetched its kernel.
runs="sev-snp tdx"
[ -f "$1/guest-cvm/initrd.cpio" ] && runs+=" sev-snp-default tdx-default" || echo "skip - no BUILD/guest-cvm: the default image is not checked"
for run in $runs; do
  plat=${run%-default} img=$T/img-$plat image=(--guest-kernel "$T/img-$plat/vmlinuz" --guest-initrd "$T/img-$plat/initrd.cpio")
  [ $run != $plat ] && img=$1/guest-cvm image=()
  rm -f "$T/rec/argv" "$T/rec/fds" "$T/rec/fds.raw" "$T/host.port"
  extra=(--vcpus 2); [ $plat = sev-snp ] && extra+=(--vcpu-type EPYC-Milan) && root=$T/snp || root=$T/tdx
  [ $plat = sev-snp ] && fw=$T/ovmf.fd || fw=$T/gen/tdvf.fd
  "$HOSTD" --platform $plat --firmware "$fw" --qemu "$T/qemu" --device-root "$root" "${extra[@]}" \
    "${image[@]}" --listen 127.0.0.1:0 --port-file "$T/host.port" --log "$T/host-$run.log" 2>"$T/host-$run.err" &
  SBX_PIDS+=($!)
  sbx_wait_file "$T/host.port" || { cat "$T/host-$run.err"; exit 1; }
  HP=$(cat "$T/host.port")
  cat >"$T/$plat.json" <<JSON
{
  "version": 1, "name": "cvm-$plat",
  "identities": [{"name": "alice", "certificate": "$(sbx_pem_json "$T/alice.crt")", "rights": {"/programs": "wx", "/results": "r"}}],
  "programs": [{"path": "/programs/p.wasm", "sha256": "$M64", "rights": {}}], "results": ["/results"],
  "runtimes": {"platforms": {"$plat": ["$M96"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(sbx_pem_json "$T/attestd/ca.pem")"},
  "host": "127.0.0.1:$HP",
  "limits": {"fuel": 1000000, "memory_bytes": 33554432, "run_seconds": 10, "fs_bytes": 1048576, "output_bytes": 4096},
  "clock": false, "expires": "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)",
  "shutdown": {"quorum": {"members": ["alice"], "count": 1}}
}
JSON
  sbx_sb "$run: a deploy whose isolate dies at once gets a clear error" 1 \
    "ended: isolate exited with status 1 unexpectedly" \
    deploy $plat.json
  sbx_wait_file "$T/rec/fds" || true
  # Guest RAM: the policy's 32 MiB plus the host's overheads (as for kvm), at least 256 MiB.
  MEM=$(grep -A1 -x -- -m "$T/rec/argv" | sed -n 's/^\([0-9]*\)M$/\1/p')
  sbx_check "$run: guest RAM ${MEM:-?} MiB covers the policy's 32 MiB and the 256 MiB minimum" \
    "[ \"\${MEM:-0}\" -ge 256 ]"
  FW=/proc/self/fd/7 CMDLINE=$(strings "$HOSTD" | grep -m1 -x "console=ttyS0 .* -- $plat")
  if [ $plat = sev-snp ]; then
    want="$T/qemu -accel kvm -M q35,confidential-guest-support=cvm0,memory-backend=ram0,vmport=off"
    want+=" -object sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1,policy=0x30000,kernel-hashes=on"
    want+=" -object memory-backend-memfd,id=ram0,size=${MEM}M,share=true -cpu EPYC-Milan"
  else
    want="$T/qemu -accel kvm -M q35,confidential-guest-support=cvm0,memory-backend=ram0,kernel-irqchip=split,hpet=off,smm=off,pic=off"
    want+=" -object tdx-guest,id=cvm0,quote-generation-socket.type=vsock,quote-generation-socket.cid=2,quote-generation-socket.port=4050 -object memory-backend-memfd,id=ram0,size=${MEM}M,share=true -cpu host"
  fi
  want+=" -smp 2 -m ${MEM}M -bios $FW -nodefaults -no-user-config -nographic -no-reboot"
  want+=" -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
  want+=" -kernel /proc/self/fd/4 -initrd /proc/self/fd/5 -append $CMDLINE"
  want+=" -chardev stdio,id=console,signal=off -serial chardev:console -chardev socket,id=channel,fd=3"
  want+=" -device virtio-serial-pci,disable-legacy=on,iommu_platform=true -device virtserialport,chardev=channel,name=sb.channel"
  got=$(tr '\n' ' ' <"$T/rec/argv" 2>/dev/null | sed 's/ $//')
  sbx_check "$run: QEMU's argument vector is exactly cvm.c's, with the measured shape" \
    "[ \"\$got\" = \"\$want\" ]" "got:  $got
want: $want"
  sbx_check "$run: the command line ends with '-- $plat' (strongbox-init's --platform)" \
    "[ -n \"\$CMDLINE\" ] && grep -qx -- '-append' '$T/rec/argv' && grep -qx -- '.* -- $plat' '$T/rec/argv'"
  fds=$(cat "$T/rec/fds" 2>/dev/null)
  sbx_check "$run: QEMU gets the channel socket (3), the sealed kernel (4), initrd (5) and firmware (7), nothing else" \
    "grep -q '^3 socket:' <<<\"\$fds\" && grep -q '^4 /memfd:guest kernel' <<<\"\$fds\" &&
     grep -q '^5 /memfd:guest initrd' <<<\"\$fds\" && grep -q '^7 /memfd:firmware' <<<\"\$fds\" &&
     [ \$(grep -vc '^[0-2] \|^255 ' <<<\"\$fds\") = 4 ]" "$fds"
  # Launch and measure agree: what QEMU got (kernel, initrd, firmware bytes and -append) measures
  # the same as `strongbox measure --guest-image` over the image the host was given.
  got_append=$(sed -n '/^-append$/{n;p;q}' "$T/rec/argv")
  if [ $plat = sev-snp ]; then
    m=(measure --platform sev-snp --vcpus 2 --vcpu-type EPYC-Milan --guest-features 0x1)
  else
    m=(measure --platform tdx --edk2 202508)
  fi
  "$SB" "${m[@]}" --firmware "$T/rec/fw" --kernel "$T/rec/kernel" --initrd "$T/rec/initrd" \
    --append "$got_append" >"$T/m-launch" 2>&1
  "$SB" "${m[@]}" --firmware "$fw" --guest-image "$img" >"$T/m-image" 2>&1
  sbx_check "$run: strongbox measure --guest-image equals the measurement of what QEMU was given (bytes and -append)" \
    "cmp -s '$T/rec/kernel' '$img/vmlinuz' && cmp -s '$T/rec/initrd' '$img/initrd.cpio' &&
     cmp -s '$T/rec/fw' '$fw' && grep -q '[0-9a-f]\{96\}' '$T/m-image' && cmp -s '$T/m-launch' '$T/m-image'" \
    "launch: $(cat "$T/m-launch"); image: $(cat "$T/m-image")"
  sbx_check "$run: the host logged the early exit and QEMU's message reached its stderr" \
    "grep -q 'isolate exited with status 1 unexpectedly' '$T/host-$run.log' && grep -q 'fake qemu: no SNP' '$T/host-$run.err'" \
    "$(cat "$T/host-$run.log" "$T/host-$run.err")"
done
sbx_summary "cvm host"
