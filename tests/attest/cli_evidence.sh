#!/bin/sh
# `strongbox evidence verify` on the shared samples: exit codes and messages.
# usage: cli_evidence.sh STRONGBOX SHARED_DIR
NAME=cli_evidence SB=$1 SHARED=$2
. "$(dirname "$0")/../common/evidence_cli.sh"

expect 0 '"profile": "tag:psacertified.org,2023:psa#tfm"' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$V/psa/rfc9783_psa-sign1.cbor"
expect 0 '"valid": true' --format psa --hmac-key "$V/psa/rfc9783_tfm-hs-iak.hmac-key.bin" "$V/psa/rfc9783_psa-mac0.cbor"
expect 0 '"certification_reference": "0604565272829-10010"' --format psa --key "$V/psa/veraison_tfm_iak.pub.pem" "$V/psa/veraison_tfm_psa-2_0_0_sign1.cbor"
expect 0 '"report_data": "0101010101010101010101010101010101010101010101010101010101010101"' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" --expect-report-data 0101010101010101010101010101010101010101010101010101010101010101 "$V/psa/rfc9783_psa-sign1.cbor"
expect 1 'report data does not match' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" --expect-report-data 02 "$V/psa/rfc9783_psa-sign1.cbor"
expect 1 'cose: signature does not verify' --format psa --key "$V/psa/veraison_tfm_iak.pub.pem" "$V/psa/rfc9783_psa-sign1.cbor"
expect 1 'MAC tag does not verify' --format psa --hmac-key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$V/psa/rfc9783_psa-mac0.cbor"
expect 1 'no attestation key' --format psa "$V/psa/rfc9783_psa-sign1.cbor"
# a corrupted copy: one byte of the payload changed
cp "$V/psa/rfc9783_psa-sign1.cbor" "$T/bad.cbor"
printf '\x07' | dd of="$T/bad.cbor" bs=1 seek=40 conv=notrunc 2>/dev/null
expect 1 'does not verify' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$T/bad.cbor"
# truncated
head -c 100 "$V/psa/rfc9783_psa-sign1.cbor" >"$T/short.cbor"
expect 1 'cbor' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$T/short.cbor"
expect 2 "unknown format 'bogus'" --format bogus "$V/psa/rfc9783_psa-sign1.cbor"
expect 2 'is not an RFC 3339 time' --format psa --at yesterday --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$V/psa/rfc9783_psa-sign1.cbor"
expect 2 '--format and FILE are required' --format psa
expect 1 'no PEM public key' --format psa --key "$V/psa/rfc9783_psa-sign1.cbor" "$V/psa/rfc9783_psa-sign1.cbor"
expect 1 'cannot' --format psa --key "$V/psa/rfc9783_tfm-es-iak.pub.pem" "$T/missing.cbor"
# hardware formats through the same command (verifiers from src/verifiers)
expect 0 '"platform": "nitro"' --format nitro --roots "$V/nitro/aws_nitro_enclaves_root_g1.pem" --at 2022-10-13T08:58:02Z "$V/nitro/evervault_nitro_attestation_doc.cose"
expect 1 'snp: guest policy 0xb0000 allows debugging (bit 19)' --format sev-snp --roots "$V/snp/amd_ask_ark_milan.pem" --roots "$V/snp/gosevguest_milan_vcek.der" --at 2024-01-01T00:00:00Z --expect-report-data 0102030405 "$V/snp/gosevguest_milan_report_v2.bin"
expect 1 'unable to get local issuer' --format sev-snp --roots "$V/snp/amd_ask_ark_genoa.pem" --roots "$V/snp/gosevguest_milan_vcek.der" --at 2024-01-01T00:00:00Z "$V/snp/gosevguest_milan_report_v2.bin"

finish
