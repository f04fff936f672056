#!/bin/sh
# `strongbox evidence verify` end to end on every hardware sample: valid at the README's time, and
# refused (exit 1, reason printed) for a flipped byte, a wrong root, a time outside validity, a
# wrong expected report data.  usage: cli_hw_evidence.sh STRONGBOX SHARED_DIR
NAME=cli_hw_evidence SB=$1 SHARED=$2
. "$(dirname "$0")/../common/evidence_cli.sh"

# flip FILE OFFSET OUT: copy with the byte at OFFSET xor 0x01
flip() {
    cp "$1" "$3"
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

SNP="$V/snp/gosevguest_milan_report_v2.bin"
SNPR="--roots $V/snp/amd_ask_ark_milan.pem --roots $V/snp/gosevguest_milan_vcek.der"
# The SNP sample verifies to the vendor's checks but was launched with debugging allowed, which an
# isolate must not be: the verdict names that rule (reached only after signature and chain pass).
expect 1 'snp: guest policy 0xb0000 allows debugging (bit 19)' --format sev-snp $SNPR --at 2024-01-01T00:00:00Z "$SNP"
expect 1 'not yet valid' --format sev-snp $SNPR --at 2022-01-01T00:00:00Z "$SNP"
expect 1 'allows debugging' --format sev-snp $SNPR --at 2024-01-01T00:00:00Z --expect-report-data 0102030405 "$SNP"
flip "$SNP" 144 "$T/snp.bin" # measurement
expect 1 'snp: report signature: signature does not verify' --format sev-snp $SNPR --at 2024-01-01T00:00:00Z "$T/snp.bin"
head -c 1000 "$SNP" >"$T/snp-short.bin"
expect 1 'need 1184' --format sev-snp $SNPR --at 2024-01-01T00:00:00Z "$T/snp-short.bin"

TDX="$V/tdx/gotdxguest_quote_v4_spr_e4.dat"
expect 0 '"name": "rtmr3"' --format tdx --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2023-07-01T00:00:00Z "$TDX"
# the policy's tdx measurement first: SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2) (docs/policy.md)
expect 0 '"value": "e06d46e886a64f27baac339a9066b03d89e4fe1f8ff72b2199f54d89336bc0e9c3be264a52cf206a1f40db5b68d50a00"' --format tdx --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2023-07-01T00:00:00Z "$TDX"
expect 0 '"chain": "Intel SGX PCK Certificate -> Intel SGX PCK Platform CA -> Intel SGX Root CA"' --format tdx --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2023-07-01T00:00:00Z "$TDX"
# --json is accepted (the output is always JSON)
expect 0 '"name": "rtmr3"' --format tdx --json --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2023-07-01T00:00:00Z "$TDX"
expect 1 'PCK: certificate chain' --format tdx --roots "$V/nitro/aws_nitro_enclaves_root_g1.pem" --at 2023-07-01T00:00:00Z "$TDX"
expect 1 'certificate has expired' --format tdx --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2050-01-01T00:00:00Z "$TDX"
flip "$TDX" 200 "$T/tdx.dat" # TD report body
expect 1 'quote signature by the attestation key' --format tdx --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2023-07-01T00:00:00Z "$T/tdx.dat"

CCA="$V/cca/veraison_tfrmm_cca_token_tag399.cbor"
expect 0 '"name": "rim"' --format cca --key "$V/cca/tfrmm_cpak.pub.pem" "$CCA"
expect 0 '"report_data": "abababab' --format cca --key "$V/cca/tfrmm_cpak.pub.pem" "$CCA"
expect 1 'cca: platform token: signature does not verify' --format cca --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$CCA"
flip "$CCA" 100 "$T/cca.cbor"
expect 1 'cca: platform token' --format cca --key "$V/cca/tfrmm_cpak.pub.pem" "$T/cca.cbor"

# --roots takes what the issue says: certificates and public keys, PEM or DER, several per file,
# in any order; `snp` is accepted for sev-snp.
expect 0 '"name": "rim"' --format cca --roots "$V/cca/tfrmm_cpak.pub.pem" "$CCA"
cat "$V/snp/amd_ask_ark_milan.pem" "$V/cca/tfrmm_cpak.pub.pem" >"$T/mixed.pem"
expect 0 '"name": "rim"' --format cca --roots "$T/mixed.pem" "$CCA"
expect 1 'allows debugging (bit 19)' --format snp --roots "$V/snp/gosevguest_milan_vcek.der" --roots "$T/mixed.pem" --at 2024-01-01T00:00:00Z "$SNP"
expect 1 'no SEV-VCEK certificate' --format snp --roots "$T/mixed.pem" --at 2024-01-01T00:00:00Z "$SNP"
openssl pkey -pubin -in "$V/cca/tfrmm_cpak.pub.pem" -outform DER -out "$T/cpak.der" 2>/dev/null
expect 0 '"name": "rim"' --format cca --roots "$T/cpak.der" "$CCA"
printf 'not a key\n' >"$T/junk.pem"
expect 1 'no certificate or public key' --format cca --roots "$T/junk.pem" "$CCA"
printf -- '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' >"$T/priv.pem"
expect 1 'is not a certificate or public key' --format cca --roots "$T/priv.pem" "$CCA"

NIT="$V/nitro/evervault_nitro_attestation_doc.cose"
NITR="--roots $V/nitro/aws_nitro_enclaves_root_g1.pem"
expect 0 '"issued_at": "2022-10-13T08:58:02Z"' --format nitro $NITR --at 2022-10-13T08:58:02Z "$NIT"
expect 1 'is after the verification time' --format nitro $NITR --at 2022-10-12T00:00:00Z "$NIT"
expect 1 'certificate chain' --format nitro --roots "$V/tdx/intel_sgx_root_ca.pem" --at 2022-10-13T08:58:02Z "$NIT"
flip "$NIT" 4600 "$T/nitro.cose" # signature
expect 1 'signature by the enclave certificate' --format nitro $NITR --at 2022-10-13T08:58:02Z "$T/nitro.cose"

finish
