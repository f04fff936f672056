#!/bin/sh
# test_snp_cli.sh STRONGBOX TEST_MEASURE_SNP - `strongbox measure --platform sev-snp`: a published
# digest (sev-snp-measure tests/test_guest.py test_snp_default) from the regenerated AmdSev footer
# image and the published OVMF page digest, then every refusal with its message.
set -u
SB=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-measure-snp.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
fails=0
bad() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect() { # expect STATUS SUBSTRING ARGS... (of strongbox measure --platform sev-snp)
    want_rc=$1 want_text=$2
    shift 2
    n=$((n + 1))
    out=$("$SB" measure --platform sev-snp "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        bad "$* -> exit $rc, want $want_rc; output: $out"
    elif ! printf '%s' "$out" | grep -qF -- "$want_text"; then
        bad "$* -> output lacks '$want_text': $out"
    fi
}
"$2" --emit-firmware "$T/ovmf.fd" || { echo "cannot write the firmware" >&2; exit 1; }
: >"$T/empty"
OVMF_PAGES=086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
FW="--firmware $T/ovmf.fd --firmware-digest $OVMF_PAGES"
M="--vcpus 1 --vcpu-type EPYC-v4"

# published: test_snp_default (0x21, console=ttyS0 loglevel=7) and test_snp_without_kernel_default
expect 0 803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
    $FW --kernel "$T/empty" --initrd "$T/empty" --append "console=ttyS0 loglevel=7" $M --guest-features 0x21
expect 0 e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
    $FW $M --guest-features 21
# --json: the same digest as one object
expect 0 '{"platform":"sev-snp","measurement":"e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"}' \
    $FW $M --guest-features 21 --json
# without --firmware-digest the (regenerated) image's own page is measured: 96 hex digits
out=$("$SB" measure --platform sev-snp --firmware "$T/ovmf.fd" $M --guest-features 0x1)
n=$((n + 1))
printf '%s' "$out" | grep -qxE '[0-9a-f]{96}' || bad "no 96-digit digest: $out"

# bad options
expect 2 "--firmware is required" $M --guest-features 1
expect 2 "--vcpus is required" $FW --vcpu-type EPYC --guest-features 1
expect 2 "--vcpu-type is required" $FW --vcpus 1 --guest-features 1
expect 2 "--guest-features is required" $FW $M
expect 2 "--vcpus: want a number 1..512" $FW --vcpus 0 --vcpu-type EPYC --guest-features 1
expect 2 "--vcpus: want a number 1..512" $FW --vcpus 2x --vcpu-type EPYC --guest-features 1
expect 2 "--vcpus: want a number 1..512" $FW --vcpus "" --vcpu-type EPYC --guest-features 1
expect 2 "--guest-features: want a hexadecimal number" $FW $M --guest-features 0xzz
expect 2 "--guest-features: want a hexadecimal number" $FW $M --guest-features ""
expect 2 "--guest-features: want a hexadecimal number" $FW $M --guest-features -1
expect 2 "--guest-features: want a hexadecimal number" $FW $M --guest-features 0x10000000000000000
expect 2 "--vcpu-type: unknown model; known: EPYC, EPYC-v1..v4" $FW --vcpus 1 --vcpu-type EPYC-Milan-v9 --guest-features 1
expect 2 "--firmware-digest: want 96 hex digits" --firmware "$T/ovmf.fd" --firmware-digest abcd $M --guest-features 1
expect 2 "--firmware-digest: want 96 hex digits" --firmware "$T/ovmf.fd" --firmware-digest "$(printf '%096d' 0 | tr 0 g)" $M --guest-features 1
expect 2 "--initrd and --append need --kernel" $FW --initrd "$T/empty" $M --guest-features 1
expect 2 "unexpected argument '--bogus'" $FW $M --guest-features 1 --bogus x
expect 2 "unexpected argument '--vcpus'" $FW --vcpu-type EPYC --guest-features 1 --vcpus
expect 2 "repeated argument '--kernel'" $FW --kernel "$T/empty" --kernel "$T/empty" $M --guest-features 1
expect 0 "usage: strongbox measure" --help
# bad files
expect 1 "$T/none: " --firmware "$T/none" $M --guest-features 1
expect 1 "/nonexistent/vmlinuz: cannot open" $FW --kernel /nonexistent/vmlinuz $M --guest-features 1
head -c 4000 "$T/ovmf.fd" >"$T/short.fd"
expect 1 "firmware: image is 4000 bytes: need a non-zero multiple of 4096" --firmware "$T/short.fd" $M --guest-features 1
head -c 4096 /dev/zero >"$T/zero.fd"
expect 1 "no OVMF footer table" --firmware "$T/zero.fd" $M --guest-features 1
expect 1 "lack bit 0 (SNPActive)" $FW $M --guest-features 0x20
echo "measure snp cli: $n checks, $fails failures"
[ "$fails" -eq 0 ]
