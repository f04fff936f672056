#!/bin/sh
# cli_tdx.sh STRONGBOX TEST_MEASURE_TDX - `strongbox measure --platform tdx` end to end on the
# synthetic TDVF, PE kernel and initrd that test_measure_tdx writes: the registers, td-launch
# recomputed here with openssl from the printed registers, and every usage and input error.
SB=$1 GEN=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-measure-tdx-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
"$GEN" --write "$T" || { echo "FAIL: cannot write the synthetic inputs" >&2; exit 1; }
R0=$(printf '%096d' 0 | tr 0 a)

# expect RC PATTERN ARGS... : `strongbox measure ARGS` exits RC and prints PATTERN (stdout+stderr)
expect() {
    want=$1 pattern=$2
    shift 2
    "$SB" measure "$@" >"$T/out" 2>&1
    rc=$?
    if [ "$rc" != "$want" ] || ! grep -qF -- "$pattern" "$T/out"; then
        echo "FAIL: measure $* -> rc $rc (want $want, pattern '$pattern'), output:" >&2
        cat "$T/out" >&2
        fails=$((fails + 1))
    fi
}
reg() { awk -v r="$1" '$1 == r { print $2 }' "$T/out"; }

F="--platform tdx --firmware $T/tdvf.fd"
B="--kernel $T/kernel.efi --initrd $T/initrd --edk2 202508"
expect 0 'rtmr1      not computed: no --kernel' $F
expect 0 'td-launch  not computed: needs rtmr0' $F $B --append console=hvc0
expect 0 'machine    2 vCPUs, 2G memory (inputs of RTMR0 only)' $F $B --append console=hvc0 \
    --vcpus 2 --memory 2G --rtmr0 "$R0"
expect 0 '<- runtimes.platforms.tdx' $F $B --append console=hvc0 --rtmr0 "$R0"
# td-launch is SHA-384 over the four printed registers, concatenated
want=$( (for r in mrtd rtmr0 rtmr1 rtmr2; do reg $r; done) | tr -d '\n' | xxd -r -p |
        openssl dgst -sha384 -r | cut -d' ' -f1)
if [ "$(reg td-launch)" != "$want" ] || [ -z "$want" ]; then
    echo "FAIL: td-launch $(reg td-launch) is not SHA-384(mrtd||rtmr0||rtmr1||rtmr2) = $want" >&2
    fails=$((fails + 1))
fi
# --json: the same values as one object; null where not given or not computed
json="{\"platform\":\"tdx\",\"mrtd\":\"$(reg mrtd)\",\"rtmr0\":\"$(reg rtmr0)\",\"rtmr1\":\"$(reg rtmr1)\""
json="$json,\"rtmr2\":\"$(reg rtmr2)\",\"td_launch\":\"$want\"}"
firmware_only="{\"platform\":\"tdx\",\"mrtd\":\"$(reg mrtd)\",\"rtmr0\":null,\"rtmr1\":null,\"rtmr2\":null,\"td_launch\":null}"
expect 0 "$json" $F $B --append console=hvc0 --rtmr0 "$R0" --json
expect 0 "$firmware_only" $F --json
expect 0 'rtmr1      not computed' $F # (restores the table in $T/out for what follows)
expect 0 '<- runtimes.platforms.tdx' $F $B --append console=hvc0 --rtmr0 "$R0"
r2=$(reg rtmr2)
expect 0 'rtmr2' $F $B --append 'console=hvc0 quiet' --rtmr0 "$R0"
[ "$(reg rtmr2)" != "$r2" ] || { echo "FAIL: --append does not change rtmr2" >&2; fails=$((fails + 1)); }

# the edk2 version moves initrd=initrd, so it changes rtmr2 and not rtmr1
r1=$(reg rtmr1)
expect 0 'rtmr2' $F $B --append 'console=hvc0 quiet' --rtmr0 "$R0" --edk2 202505
[ "$(reg rtmr2)" != "$r2" ] && [ "$(reg rtmr1)" = "$r1" ] ||
    { echo "FAIL: --edk2 202505 vs 202508" >&2; fails=$((fails + 1)); }
expect 1 'setup header as QEMU patched' $F $B --edk2 202502
expect 1 '--edk2 2025: edk2 version 2025 is not YYYYMM' $F $B --edk2 2025
expect 1 '--edk2 x: not YYYYMM' $F $B --edk2 x

# usage errors: exit 2
expect 2 '--firmware TDVF is required' --platform tdx
expect 2 '--kernel and --initrd go together' $F --kernel "$T/kernel.efi"
expect 2 '--kernel needs --edk2 YYYYMM' $F --kernel "$T/kernel.efi" --initrd "$T/initrd"
expect 2 '--kernel needs --edk2 YYYYMM' $F --edk2 202508
expect 2 '--append needs --kernel and --initrd' $F --append x
expect 2 '--vcpus and --memory go together' $F --vcpus 2
expect 2 "--vcpus '0' is not a count" $F --vcpus 0 --memory 1G
expect 2 "--memory '2X' is not a size" $F --vcpus 1 --memory 2X
expect 2 '--rtmr0: want 96 hex digits' $F --rtmr0 abcd
expect 2 '--bogus: unknown option for tdx' $F --bogus 1
expect 2 '--kernel: needs a value' $F --kernel
# bad inputs: exit 1 with the reason
expect 1 'no OVMF table footer GUID' --platform tdx --firmware "$T/kernel.efi"
expect 1 'no MZ header' $F --kernel "$T/initrd" --initrd "$T/initrd" --edk2 202508
expect 1 'not printable ASCII' $F $B --append "$(printf 'a\tb')"
expect 1 '--firmware:' --platform tdx --firmware "$T/missing"
expect 1 '--initrd:' $F --kernel "$T/kernel.efi" --initrd "$T/missing" --edk2 202508

if [ "$fails" -ne 0 ]; then
    echo "measure_tdx_cli: $fails failures" >&2
    exit 1
fi
echo "measure_tdx_cli: all tests passed"
