#!/usr/bin/env bash
# Receipts end to end (docs/receipts.md): the regression example runs with `--receipt`; after the
# computation has ended and the host and attestation service are gone, an auditor holding only
# the policy, the receipt and the parties' files verifies it offline. Every modified byte of the
# receipt, another model or input file, a policy differing by one byte of meaning, a receipt or
# certificate chain of another computation, a chain from a foreign root and an expired chain are
# each refused with their reason.
#
# usage: receipts-e2e.sh BUILD_DIR SOURCE_DIR
set -u
B=$1 SRC=$2
. "$SRC/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-receipts
sbx_start_services
sbx_keygen alice bob carol
EXB=$B/examples/regression
cp "$EXB/program.wasm" "$T/regression.wasm"
"$EXB/gen" 1 500 >"$T/alice.csv"
"$EXB/gen" 2 700 >"$T/bob.csv"
ln -s "$RUNTIME" "$T/strongbox-runtime"
sed "s|\"name\": \"joint-regression\"|\"name\": \"joint-regression-2\"|" \
  "$SRC/examples/regression/policy.template.json" >"$T/other.template.json"
cp "$SRC/examples/regression/policy.template.json" "$T/"
X5=$SRC/tests/receipts/x5chain.py
verify() { sbx_sb "$@"; } # readability: every verification is a CLI call in $T

for p in policy other; do
  sbx_sb "policy $p.json" 0 "" policy new --from $p.template.json --host "127.0.0.1:$HP" \
    --attestation-url "http://127.0.0.1:$AP" -o $p.json
done
sed 's/"memory_bytes": *134217728/"memory_bytes": 134217729/' "$T/policy.json" >"$T/changed.json"
sbx_check "changed.json differs from policy.json by one limit" "! cmp -s '$T/policy.json' '$T/changed.json'"

sbx_sb "deploy" 0 "" deploy policy.json
sbx_sb "carol uploads the program" 0 "" put policy.json --as carol -q regression.wasm /programs/regression.wasm
sbx_sb "alice provides her rows" 0 "" put policy.json --as alice -q alice.csv /inputs/alice/rows.csv
sbx_sb "bob provides his rows" 0 "" put policy.json --as bob -q bob.csv /inputs/bob/rows.csv
sbx_sb "carol runs the program and asks for a receipt" 0 "receipt of the run, signed by the isolate" \
  run policy.json --as carol --receipt run.receipt /programs/regression.wasm
sbx_sb "alice fetches the model" 0 "" get policy.json --as alice -q /outputs/model.json model.json
sbx_sb "usage: --receipt without a file" 2 "needs a FILE" run policy.json --as carol /programs/regression.wasm --receipt

# A second computation (another policy, the same attestation root) with its own receipt.
sbx_sb "deploy another computation" 0 "" deploy other.json
sbx_sb "  ... its program" 0 "" put other.json --as carol -q regression.wasm /programs/regression.wasm
sbx_sb "  ... alice's rows" 0 "" put other.json --as alice -q alice.csv /inputs/alice/rows.csv
sbx_sb "  ... bob's rows" 0 "" put other.json --as bob -q bob.csv /inputs/bob/rows.csv
sbx_sb "  ... a run with a receipt" 0 "" run other.json --as carol -q --receipt other.receipt /programs/regression.wasm

# ---- the computation ends, the services go away
sbx_sb "alice votes to end" 0 "" end policy.json --as alice -q
sbx_sb "bob votes to end" 0 "" end policy.json --as bob -q
for _ in $(seq 1 50); do
  OUT=$(cd "$T" && "$SB" status policy.json 2>&1)
  grep -q '"state":"ended"' <<<"$OUT" && break
  sleep 0.1
done
sbx_check "the computation has ended" "grep -q '\"state\":\"ended\"' <<<\"\$OUT\"" "$OUT"
for p in "${SBX_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${SBX_PIDS[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
sbx_check "the host and the attestation service are gone" "! kill -0 ${SBX_PIDS[*]} 2>/dev/null"

# ---- the auditor: policy, receipt, the parties' files; no network
verify "the receipt verifies offline" 0 "receipt verified: run" receipt verify --policy policy.json run.receipt
sbx_check "  ... signed by an isolate attested for the policy" "grep -q 'by an isolate attested for this policy: platform process' <<<\"\$OUT\"" "$OUT"
sbx_check "  ... names the program, its inputs with their providers, and the model it wrote" \
  "grep -q 'step 1: /programs/regression.wasm' <<<\"\$OUT\" && grep -q 'could read /inputs/alice/rows.csv  sha256 $(sbx_sha "$T/alice.csv")  provided by alice' <<<\"\$OUT\" && grep -q 'could read /inputs/bob/rows.csv  sha256 $(sbx_sha "$T/bob.csv")  provided by bob' <<<\"\$OUT\" && grep -q 'wrote /outputs/model.json  sha256 $(sbx_sha "$T/model.json")' <<<\"\$OUT\"" "$OUT"
sbx_check "  ... how it ended and on which engine tier" "grep -q 'ended: exited, exit code 0; fuel used [1-9]' <<<\"\$OUT\" && grep -q 'on the ${SBX_TIER:?} tier' <<<\"\$OUT\"" "$OUT"
verify "alice's rows and the model are the ones the receipt names" 0 "is the output /outputs/model.json" \
  receipt verify --policy policy.json --input /inputs/alice/rows.csv=alice.csv \
  --output /outputs/model.json=model.json run.receipt
verify "--json" 0 '"verified":true' receipt verify --policy policy.json --json run.receipt
sbx_check "  ... one JSON object with the steps" \
  "python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); s=d[\"steps\"][0]; assert s[\"program\"]==\"/programs/regression.wasm\" and s[\"outcome\"]==\"exited\" and d[\"platform\"]==\"process\"' <<<\"\$OUT\"" "$OUT"

# ---- refusals, each with its reason
cp "$T/model.json" "$T/model2.json" && printf ' ' >>"$T/model2.json"
verify "refused: a different model file" 3 "not the file the computation wrote" \
  receipt verify --policy policy.json --output /outputs/model.json=model2.json run.receipt
verify "refused: bob's rows given as alice's" 3 "not the file the computation read" \
  receipt verify --policy policy.json --input /inputs/alice/rows.csv=bob.csv run.receipt
verify "refused: a file the receipt does not name" 3 "names no output /outputs/other.json" \
  receipt verify --policy policy.json --output /outputs/other.json=model.json run.receipt
verify "refused: a policy differing by one byte of meaning" 3 "the receipt is for computation" \
  receipt verify --policy changed.json run.receipt
verify "refused: the receipt of another computation" 3 "the receipt is for computation" \
  receipt verify --policy policy.json other.receipt
verify "the other computation's receipt verifies against its own policy" 0 "receipt verified" \
  receipt verify --policy other.json other.receipt
# another isolate's chain (same root, other policy) put into this receipt's unsigned header
python3 - "$T/other.receipt" "$T/other-chain.pem" <<'PY'
import base64, sys
b = open(sys.argv[1], "rb").read()
def head(i):
    m, a = b[i] >> 5, b[i] & 31
    if a < 24: return m, a, i + 1
    n = {24: 1, 25: 2, 26: 4, 27: 8}[a]
    return m, int.from_bytes(b[i + 1:i + 1 + n], "big"), i + 1 + n
_, _, i = head(0); _, _, i = head(i); _, v, i = head(i); i += v
_, _, i = head(i); _, _, i = head(i); _, n, i = head(i)
with open(sys.argv[2], "w") as f:
    for _ in range(n):
        _, v, i = head(i)
        d = base64.b64encode(b[i:i + v]).decode()
        f.write("-----BEGIN CERTIFICATE-----\n" + "\n".join(d[k:k + 64] for k in range(0, len(d), 64)) + "\n-----END CERTIFICATE-----\n")
        i += v
PY
python3 "$X5" "$T/run.receipt" "$T/swapped.receipt" "$T/other-chain.pem"
verify "refused: the certificate chain of another computation's isolate" 3 "policy" \
  receipt verify --policy policy.json swapped.receipt
sbx_check "  ... at the check of the policy hash in its token" "grep -q 'does not verify against the policy as of the receipt' <<<\"\$OUT\"" "$OUT"
# an expired chain: issued by the policy's own attestation root, but valid only in 2020
mkdir -p "$T/ca" && : >"$T/ca/index.txt" && echo 01 >"$T/ca/serial"
cat >"$T/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $T/ca/index.txt
serial = $T/ca/serial
new_certs_dir = $T/ca
default_md = sha256
unique_subject = no
policy = p
[p]
commonName = supplied
CNF
(cd "$T" && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout foreign.key \
   -out foreign.csr -subj /CN=isolate && openssl ca -batch -config ca.cnf -cert attest-root.pem -keyfile attestd/ca.key -in foreign.csr \
   -out old.pem -startdate 20200101000000Z -enddate 20200102000000Z -notext) >/dev/null 2>&1
python3 "$X5" "$T/run.receipt" "$T/expired.receipt" "$T/old.pem"
verify "refused: an isolate certificate that had expired at the receipt's time" 3 "certificate not valid at" \
  receipt verify --policy policy.json expired.receipt
# a foreign root: a CA and an isolate certificate that have nothing to do with the policy's service
(cd "$T" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout foreign-ca.key \
   -out foreign-ca.pem -subj /CN=foreign-root -days 30 &&
 openssl ca -batch -config ca.cnf -cert foreign-ca.pem -keyfile foreign-ca.key -in foreign.csr \
   -out foreign.pem -startdate 20200101000000Z -enddate 20990101000000Z -notext) >/dev/null 2>&1
python3 "$X5" "$T/run.receipt" "$T/foreign.receipt" "$T/foreign.pem"
verify "refused: an isolate certificate from a foreign root" 3 "does not chain to the policy's root" \
  receipt verify --policy policy.json foreign.receipt
cat "$T/foreign.pem" "$T/foreign-ca.pem" >"$T/foreign-chain.pem"
python3 "$X5" "$T/run.receipt" "$T/foreign2.receipt" "$T/foreign-chain.pem"
verify "refused: a chain ending in a foreign root" 3 "a root other than the policy's attestation root" \
  receipt verify --policy policy.json foreign2.receipt
python3 "$X5" "$T/run.receipt" "$T/reversed.receipt" "$T/foreign-ca.pem" "$T/foreign.pem"
verify "refused: a chain out of order" 3 "did not issue certificate 1" \
  receipt verify --policy policy.json reversed.receipt
python3 "$X5" "$T/run.receipt" "$T/empty.receipt"
verify "refused: a receipt without its certificate chain" 3 "x5chain has 0 certificates" \
  receipt verify --policy policy.json empty.receipt
verify "refused: a file that is not a receipt" 3 "not a receipt" receipt verify --policy policy.json alice.csv
head -c -1 "$T/run.receipt" >"$T/short.receipt"
verify "refused: a truncated receipt" 3 "not a receipt" receipt verify --policy policy.json short.receipt

# byte positions all through the receipt (about 64 evenly spaced: every part of it, header,
# chain, payload and signature; and the first and last 8): one bit changed, always refused
size=$(stat -c %s "$T/run.receipt")
tried=0 accepted="" stride=$((size / 64 + 1))
for off in $(seq 0 7) $(seq 8 $stride $((size - 9))) $(seq $((size - 8)) $((size - 1))); do
  cp "$T/run.receipt" "$T/bad.receipt"
  b=$(od -An -tu1 -j"$off" -N1 "$T/run.receipt" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$T/bad.receipt" bs=1 seek="$off" conv=notrunc 2>/dev/null
  (cd "$T" && "$SB" receipt verify --policy policy.json bad.receipt >/dev/null 2>&1)
  [ $? -eq 3 ] || accepted="$accepted $off"
  tried=$((tried + 1))
done
sbx_check "refused: one bit changed at any of $tried byte positions of the $size-byte receipt" \
  "[ -z '$accepted' ]" "not refused (exit 3) at offsets:$accepted"

verify "usage: no --policy" 2 "--policy POLICY is required" receipt verify run.receipt
verify "usage: a bad --input" 2 "expected NAME=FILE" receipt verify --policy policy.json --input x run.receipt
sbx_summary "receipts"
