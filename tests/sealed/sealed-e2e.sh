#!/usr/bin/env bash
# Results sealed to their readers, end to end: a result reader fetches its result sealed inside the
# isolate to the P-256 key of its certificate in the policy (`strongbox get --sealed`) and opens it
# offline (`strongbox unseal`). Only its key opens it; every modified byte, truncation or
# extension of the envelope is refused with a reason; the policy and path it names are checked;
# rights are those of a get (a non-reader is refused).
#
# usage: sealed-e2e.sh BUILD_DIR PROGRAM_DIR SOURCE_DIR   (PROGRAM_DIR: where sum.wasm was built)
set -u
B=$1 PROGS=$2 SRC=$3
. "$SRC/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-sealed
sbx_start_services
sbx_keygen alice bob carol mallory
# dave's certificate has a P-384 key: a valid identity, but nothing can be sealed to it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/dave.key" \
  -out "$T/dave.crt" -subj /CN=dave -days 30 2>/dev/null || { echo "openssl req failed" >&2; exit 1; }
cp "$PROGS/sum.wasm" "$T/"
echo 1234 >"$T/alice.num"
echo 4321 >"$T/bob.num"
cat >"$T/job.json" <<JSON
{
  "version": 1,
  "name": "sealed-results",
  "identities": [
    {"name": "alice", "certificate": "$(sbx_pem_json "$T/alice.crt")",
     "rights": {"/inputs/alice": "rw", "/results/alice": "r"}},
    {"name": "bob", "certificate": "$(sbx_pem_json "$T/bob.crt")",
     "rights": {"/inputs/bob": "rw", "/results/bob": "r"}},
    {"name": "carol", "certificate": "$(sbx_pem_json "$T/carol.crt")", "rights": {"/programs": "wx"}},
    {"name": "dave", "certificate": "$(sbx_pem_json "$T/dave.crt")", "rights": {"/results/bob": "r"}}
  ],
  "programs": [
    {"path": "/programs/sum.wasm", "sha256": "$(sbx_sha "$T/sum.wasm")",
     "rights": {"/inputs": "r", "/results": "rw"}}
  ],
  "results": ["/results"],
  "runtimes": {"allow_debug": true, "platforms": {"process": ["$(sbx_sha "$RUNTIME")"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(sbx_pem_json "$T/attest-root.pem")"},
  "host": "127.0.0.1:$HP",
  "limits": {"fuel": 1000000000, "memory_bytes": 33554432, "run_seconds": 10,
             "fs_bytes": 67108864, "output_bytes": 65536},
  "clock": false,
  "expires": "$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)",
  "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}
}
JSON
sed 's/"fuel": 1000000000/"fuel": 1000000001/' "$T/job.json" >"$T/other.json"

# flip FILE OFFSET OUT: OUT is FILE with one bit of the byte at OFFSET changed.
flip() {
  local b
  cp "$1" "$3"
  b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

sbx_sb "deploy" 0 "is running and attested" deploy job.json
sbx_sb "carol uploads the program" 0 "" put job.json --as carol -q sum.wasm /programs/sum.wasm
sbx_sb "alice provisions her input" 0 "" put job.json --as alice -q alice.num /inputs/alice/number
sbx_sb "bob provisions his input" 0 "" put job.json --as bob -q bob.num /inputs/bob/number
sbx_sb "carol runs the program" 0 "wrote two answers" run job.json --as carol -q /programs/sum.wasm

# ---- a reader fetches its sealed result (the other parties have disconnected: one-shot CLIs)
sbx_sb "alice fetches her result sealed to her key" 0 "sealed to your key" \
  get --sealed job.json --as alice /results/alice/answer alice.sealed
sbx_check "the envelope starts with its magic and version 1" \
  "[ \"\$(head -c 9 '$T/alice.sealed' | od -An -c | tr -d ' ')\" = 'SBSEALED001' ]" \
  "$(head -c 9 "$T/alice.sealed" | od -An -c)"
sbx_check "the envelope does not contain the result in clear" "! grep -q 'total=' '$T/alice.sealed'"
sbx_sb "alice unseals it offline with her key, origin checked against her policy" 0 \
  "origin: signed at" \
  unseal --key alice.key --policy job.json alice.sealed alice.out
sbx_check "  ... by an isolate attested for that policy" "grep -q 'by an isolate attested for this policy (platform process' <<<\"\$OUT\"" "$OUT"
sbx_check "  ... and gets her right answer" "grep -q 'total=5555 alice=1234 share=22%' '$T/alice.out'" \
  "$(cat "$T/alice.out" 2>/dev/null)"
sbx_sb "unseal to standard output, with the expected path" 0 "total=5555 alice=1234" \
  unseal --key alice.key --policy job.json --path /results/alice/answer alice.sealed
sbx_sb "a second sealed fetch" 0 "" get --sealed job.json --as alice -q /results/alice/answer alice2.sealed
sbx_check "  ... differs (a fresh ephemeral key each time) but opens the same" \
  "! cmp -s '$T/alice.sealed' '$T/alice2.sealed' && (cd '$T' && '$SB' unseal --key alice.key alice2.sealed | grep -q 'alice=1234')"
sbx_sb "bob fetches and opens his own sealed result" 0 "" \
  get --sealed job.json --as bob -q /results/bob/answer bob.sealed
sbx_sb "  ... with his key" 0 "total=5555 bob=4321" unseal --key bob.key --policy job.json bob.sealed -

# ---- only the reader's key opens it
sbx_sb "refused: bob's key does not open alice's envelope" 3 "does not open with this key" \
  unseal --key bob.key alice.sealed out.x
sbx_sb "refused: an outsider's key (mallory) does not open it" 3 "does not open with this key" \
  unseal --key mallory.key alice.sealed out.x
sbx_check "  ... and no output file is left behind" "[ ! -e '$T/out.x' ]"

# ---- a modified envelope is refused (layout: docs/sealed.md)
plen=$(printf %s /results/alice/answer | wc -c)
ct_at=$((122 + plen + 8))
ct_len=0
for b in $(od -An -tu1 -j$((122 + plen)) -N8 "$T/alice.sealed"); do ct_len=$((ct_len * 256 + b)); done
sig_at=$((ct_at + ct_len))   # signature length (2), signature, chain length (4), chain
sig_len=$(( $(od -An -tu1 -j$sig_at -N1 "$T/alice.sealed") * 256 + $(od -An -tu1 -j$((sig_at + 1)) -N1 "$T/alice.sealed") ))
chain_at=$((sig_at + 2 + sig_len + 4))
for spec in "0:magic:not a sealed result" "8:version:version" "10:suite:suite" \
            "20:encapsulated key:modified" "90:policy hash:does not open" "119:sealing time:does not open" \
            "$((122 + 3)):path:does not open" "$((122 + plen + 7)):ciphertext length:envelope is" \
            "$((ct_at + 3)):ciphertext:does not open" "$((sig_at - 1)):tag:does not open" \
            "$((sig_at + 1)):signature length:envelope is" "$((chain_at - 1)):chain length:envelope is"; do
  IFS=: read -r off what why <<<"$spec"
  flip "$T/alice.sealed" "$off" "$T/bad.sealed"
  sbx_sb "refused: one bit changed in the envelope's $what (byte $off)" 3 "$why" \
    unseal --key alice.key --policy job.json bad.sealed out.x
done
flip "$T/alice.sealed" $((sig_at + 2 + sig_len / 2)) "$T/badsig.sealed"
sbx_sb "refused with the policy: one bit changed in the isolate's signature" 3 "signature does not verify" \
  unseal --key alice.key --policy job.json badsig.sealed out.x
flip "$T/alice.sealed" $((chain_at + 200)) "$T/badchain.sealed"
sbx_sb "refused with the policy: one bit changed in the isolate's certificate chain" 3 "isolate certificate" \
  unseal --key alice.key --policy job.json badchain.sealed out.x
sbx_sb "without the policy the origin is not checked, and unseal says so" 0 "origin not checked" \
  unseal --key alice.key badsig.sealed out.y
head -c -1 "$T/alice.sealed" >"$T/short.sealed"
sbx_sb "refused: a truncated envelope" 3 "truncated" unseal --key alice.key short.sealed out.x
cp "$T/alice.sealed" "$T/long.sealed"; printf x >>"$T/long.sealed"
sbx_sb "refused: an envelope with a byte appended" 3 "extended" unseal --key alice.key long.sealed out.x
head -c 60 "$T/alice.sealed" >"$T/stub.sealed"
sbx_sb "refused: an envelope cut inside its header" 3 "truncated envelope" unseal --key alice.key stub.sealed out.x
sbx_sb "refused: a file that is not an envelope" 3 "not a sealed result" unseal --key alice.key alice.num out.x
sbx_check "  ... none of these left an output file" "[ ! -e '$T/out.x' ]"

# ---- what the envelope names is checked against the reader's own policy
sbx_sb "refused: the envelope names another computation than the given policy" 3 "sealed under policy" \
  unseal --key alice.key --policy other.json alice.sealed out.x
sbx_sb "refused: the envelope holds another path than the one expected" 3 "not /results/bob/answer" \
  unseal --key alice.key --path /results/bob/answer alice.sealed out.x

# ---- rights as for a get: sealing changes the transport, not who may read
sbx_sb "refused: alice asks for bob's result sealed (not a reader of it)" 4 "denied" \
  get --sealed job.json --as alice -q /results/bob/answer x.sealed
sbx_sb "refused: carol (no reader) asks for alice's result sealed" 4 "denied" \
  get --sealed job.json --as carol -q /results/alice/answer x.sealed
sbx_sb "refused: an identity not in the policy" 4 "not the certificate of an identity" \
  get --sealed job.json --key mallory.key --cert mallory.crt -q /results/alice/answer x.sealed
sbx_sb "refused: a file that does not exist" 4 "not-found" \
  get --sealed job.json --as alice -q /results/alice/nothing x.sealed
sbx_check "  ... no envelope was written for any refusal" "! ls '$T'/x.sealed* >/dev/null 2>&1"

sbx_sb "dave (a reader whose certificate key is P-384) may get the result in the clear" 0 "total=5555" \
  get job.json --as dave -q /results/bob/answer -
sbx_sb "refused: sealing to dave's P-384 certificate key, with the reason" 4 "not a P-256 key" \
  get --sealed job.json --as dave -q /results/bob/answer x.sealed
sbx_sb "unseal with a key that is not P-256" 1 "not a P-256 key" unseal --key dave.key bob.sealed out.x

# ---- usage
sbx_sb "usage: --sealed writes a file, not standard output" 2 "not standard output" \
  get --sealed job.json --as alice -q /results/alice/answer -
sbx_sb "usage: unseal without --key" 2 "--key KEY is required" unseal alice.sealed
sbx_sb "unseal with a key file that is not a key" 1 "not a readable PEM private key" \
  unseal --key alice.crt alice.sealed out.x

sbx_summary "sealed results"
