#!/usr/bin/env bash
# test_cli.sh STRONGBOX STRONGBOX_HOST - the kvm options of `strongbox measure` and of the host,
# without starting a VM: what is measured, and every usage error with its message.
set -u
SB=$1 HOSTD=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-vm-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; echo "$OUT" | sed 's/^/       /'; fails=$((fails + 1)); fi; }
run() { OUT=$("$@" 2>&1); RC=$?; }
printf 'kernel bytes' >"$T/k"
printf 'initrd bytes' >"$T/i"
printf 'initrd bytez' >"$T/i2"

run "$SB" measure --platform kvm --guest-kernel "$T/k" --guest-initrd "$T/i"
M_KVM=$OUT
check "measure --platform kvm prints 64 hex digits" "[ $RC = 0 ] && [[ '$OUT' =~ ^[0-9a-f]{64}$ ]]"
run "$SB" measure --platform kvm --accel kvm --guest-kernel "$T/k" --guest-initrd "$T/i"
check "  ... --accel kvm is the default" "[ '$OUT' = '$M_KVM' ]"
run "$SB" measure --platform kvm --accel tcg --guest-kernel "$T/k" --guest-initrd "$T/i"
check "  ... --accel tcg measures another command line" "[ $RC = 0 ] && [ '$OUT' != '$M_KVM' ]"
run "$SB" measure --platform kvm --guest-kernel "$T/k" --guest-initrd "$T/i2"
check "  ... one initrd byte changes it" "[ $RC = 0 ] && [ '$OUT' != '$M_KVM' ]"
run "$SB" measure --platform kvm --accel hvf --guest-kernel "$T/k" --guest-initrd "$T/i"
check "refused: --accel hvf (exit 2)" "[ $RC = 2 ] && grep -q 'want kvm or tcg' <<<\"\$OUT\""
run "$SB" measure --platform kvm --guest-kernel "$T/missing" --guest-initrd "$T/i"
check "refused: a missing kernel file, named (exit 1)" "[ $RC = 1 ] && grep -q 'guest kernel: cannot open' <<<\"\$OUT\""
run "$SB" measure --platform kvm "$T/k"
check "refused: a runtime binary with --platform kvm (exit 2)" "[ $RC = 2 ] && grep -q 'guest image' <<<\"\$OUT\""
run "$SB" measure --accel tcg "$T/k"
check "refused: --accel with --platform process (exit 2)" "[ $RC = 2 ]"
run "$SB" measure --platform nitro "$T/k"
check "refused: a platform without a measurement here (exit 2)" "[ $RC = 2 ] && grep -q 'known: process, kvm, sev-snp, tdx' <<<\"\$OUT\""
run "$SB" measure "$T/k"
check "measure --platform process is still the SHA-256" "[ '$OUT' = '$(sha256sum "$T/k" | cut -d' ' -f1)' ]"

run "$HOSTD" --platform kvm --runtime "$T/k" --guest-kernel "$T/k" --guest-initrd "$T/i"
check "host refused: --runtime with --platform kvm (exit 2)" "[ $RC = 2 ] && grep -q 'guest image' <<<\"\$OUT\""
run "$HOSTD" --runtime "$T/k" --accel tcg
check "host refused: --accel without --platform kvm (exit 2)" "[ $RC = 2 ] && grep -q 'apply to --platform kvm, sev-snp and tdx only' <<<\"\$OUT\""
run "$HOSTD" --platform kvm --accel tcg --guest-kernel "$T/k" --listen 127.0.0.1:0
check "host refused: no --guest-initrd (exit 1, named)" "[ $RC = 1 ] && grep -q 'guest-initrd' <<<\"\$OUT\""
run "$HOSTD" --platform kvm --accel tcg --qemu "$T/missing-qemu" --guest-kernel "$T/k" --guest-initrd "$T/i" --listen 127.0.0.1:0
check "host refused: a --qemu that is not there (exit 1, named)" "[ $RC = 1 ] && grep -q -- '--qemu $T/missing-qemu' <<<\"\$OUT\""
run "$HOSTD" --platform kvm --accel hvf --guest-kernel "$T/k" --guest-initrd "$T/i" --listen 127.0.0.1:0
check "host refused: --accel hvf (exit 1)" "[ $RC = 1 ] && grep -q -- '--accel hvf' <<<\"\$OUT\""
echo "vm cli: $fails failed"
[ $fails = 0 ]
