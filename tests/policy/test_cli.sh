#!/bin/sh
# test_cli.sh STRONGBOX - keygen and policy new/check/hash/show end to end, including every
# refusal with its message. Needs sha256sum; uses node (if present) to re-indent and reorder.
set -u
SB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the test cds away
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-policy-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
n=0
fails=0
ok() { n=$((n + 1)); }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }

# expect STATUS SUBSTRING CMD... : exit status and a substring of stdout+stderr
expect() {
    want_rc=$1 want_text=$2
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        bad "$* -> exit $rc, want $want_rc; output: $out"
    elif ! printf '%s' "$out" | grep -qF -- "$want_text"; then
        bad "$* -> output lacks '$want_text': $out"
    else
        ok
    fi
}

# ---- keygen ----
for who in alice bob carol; do
    expect 0 "certificate CN=$who" "$SB" keygen --name $who
done
expect 0 "valid 3650 days" "$SB" keygen --name root --days 3650
[ "$(stat -c %a alice.key)" = 600 ] && ok || bad "alice.key mode is $(stat -c %a alice.key)"
grep -q "BEGIN PRIVATE KEY" alice.key && ok || bad "alice.key is not a PEM private key"
openssl x509 -in alice.crt -noout -subject 2>/dev/null | grep -q "CN *= *alice" && ok || bad "alice.crt subject"
openssl x509 -in alice.crt -noout -text 2>/dev/null | grep -q "prime256v1\|P-256" && ok || bad "alice.crt key type"
# the key and certificate belong together
[ "$(openssl pkey -in alice.key -pubout 2>/dev/null)" = "$(openssl x509 -in alice.crt -noout -pubkey 2>/dev/null)" ] && ok || bad "alice key/cert mismatch"
cp alice.key alice.key.orig
expect 1 "alice.key already exists; not overwriting it" "$SB" keygen --name alice
cmp -s alice.key alice.key.orig && ok || bad "keygen touched an existing key"
expect 2 "bad name 'bad name'" "$SB" keygen --name "bad name"
expect 2 "--days must be a number from 1 to 36500" "$SB" keygen --name dave --days 0
expect 2 "usage: strongbox keygen" "$SB" keygen
mkdir keys
expect 0 "wrote keys/erin.key" "$SB" keygen --name erin --dir keys --days 1
[ -f keys/erin.crt ] && ok || bad "keygen --dir"

# ---- policy new from flags ----
printf '\0asm\1\0\0\0' > train.wasm
printf 'pretend runtime' > runtime.bin
WASM_SHA=$(sha256sum train.wasm | cut -d' ' -f1)
RT_SHA=$(sha256sum runtime.bin | cut -d' ' -f1)
new_policy() {
    "$SB" policy new --name joint-regression \
        --identity alice=alice.crt:rw=/inputs/alice,r=/outputs \
        --identity bob=bob.crt:rw=/inputs/bob,r=/outputs \
        --identity carol=carol.crt:wx=/programs \
        --program /programs/train.wasm=train.wasm:r=/inputs,rw=/outputs \
        --platform process:@runtime.bin --allow-debug \
        --attestation-url http://127.0.0.1:7443 --attestation-root root.crt \
        --host 127.0.0.1:7000 --expires-in 48h --fuel 5000000 --memory 64M --quorum 2 "$@"
}
expect 0 "policy \"joint-regression\", hash" new_policy -o policy.json
expect 0 "valid policy \"joint-regression\"" "$SB" policy check policy.json
grep -q "\"sha256\": \"$WASM_SHA\"" policy.json && ok || bad "program hash not the file's SHA-256"
grep -q "\"$RT_SHA\"" policy.json && ok || bad "process measurement not the runtime's SHA-256"
grep -q '"memory_bytes": 67108864' policy.json && ok || bad "--memory 64M"
grep -q '"fuel": 5000000' policy.json && ok || bad "--fuel"
grep -q '"engine": "compiled"' policy.json && ok || bad "policy new writes the default engine tier"
expect 0 "Engine       the compiled tier" "$SB" policy show policy.json
expect 0 "hash" new_policy --engine interpreter -o interp.json
grep -q '"engine": "interpreter"' interp.json && ok || bad "--engine interpreter"
expect 0 "Engine       the interpreter tier" "$SB" policy show interp.json
[ "$("$SB" policy hash interp.json)" != "$("$SB" policy hash policy.json)" ] && ok || bad "the engine tier is not in the hash"
# an Arm platform (the compiled tier is x86-64): the interpreter by default, compiled only if asked
ARM=cca:$(printf '%064d' 0)
expect 0 "hash" new_policy --platform "$ARM" -o arm.json
grep -q '"engine": "interpreter"' arm.json && ok || bad "policy new: a cca platform should default to the interpreter"
expect 0 "hash" new_policy --platform "$ARM" --engine compiled -o arm-compiled.json
grep -q '"engine": "compiled"' arm-compiled.json && ok || bad "--engine compiled with a cca platform"
# a policy without the field: the default tier, shown as not named
drop_engine() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["limits"]["engine"]; json.dump(d,open(sys.argv[2],"w"))' "$@"; }
drop_engine policy.json no-engine.json
expect 0 "Engine       the compiled tier where the runtime has it, else the interpreter (not named)" "$SB" policy show no-engine.json
expect 1 "new: --engine jit: expected interpreter or compiled" new_policy --engine jit -o x.json
[ ! -e x.json ] && ok || bad "a policy with a bad engine was written"
sed 's/"engine": "compiled"/"engine": "turbo"/' policy.json > bad-engine.json
expect 1 'policy.limits.engine: expected "interpreter" or "compiled", not "turbo"' "$SB" policy check bad-engine.json
HASH=$("$SB" policy hash policy.json)
[ ${#HASH} -eq 64 ] && ok || bad "hash length"
[ "$("$SB" policy hash policy.json --canonical | sha256sum | cut -d' ' -f1)" = "$HASH" ] && ok || bad "hash is not SHA-256 of the canonical form"
# stdout form: the same document
new_policy > stdout.json 2>/dev/null && ok || bad "policy new to stdout"
expect 1 "policy.json exists; use --force to replace it" new_policy -o policy.json
expect 0 "hash" new_policy -o policy.json --force

# ---- the hash ignores formatting and member order, not meaning ----
HASH=$("$SB" policy hash policy.json)
if command -v node >/dev/null 2>&1; then
    node -e '
      const fs = require("fs");
      const p = JSON.parse(fs.readFileSync("policy.json", "utf8"));
      const rev = (v) => Array.isArray(v) ? v.map(rev) : (v && typeof v === "object")
          ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, rev(x)])) : v;
      fs.writeFileSync("reordered.json", JSON.stringify(rev(p), null, 7));
      p.limits.fuel += 1;
      fs.writeFileSync("changed.json", JSON.stringify(p));' && ok || bad "node rewrite"
    [ "$("$SB" policy hash reordered.json)" = "$HASH" ] && ok || bad "reordering changed the hash"
    [ "$("$SB" policy hash changed.json)" != "$HASH" ] && ok || bad "a changed limit kept the hash"
fi
sed 's/"r"/"rw"/' policy.json > widened.json
[ "$("$SB" policy hash widened.json)" != "$HASH" ] && ok || bad "widened rights kept the hash"

# ---- show ----
expect 0 "alice  (result reader)" "$SB" policy show policy.json
expect 0 "-wx /programs                uploads program /programs/train.wasm; runs /programs/train.wasm" "$SB" policy show policy.json
expect 0 "rw- /inputs/alice            provides data" "$SB" policy show policy.json
expect 0 "or when 2 of alice, bob and carol vote to end" "$SB" policy show policy.json
expect 0 "when alice and bob have each read their results and voted to end" "$SB" policy show policy.json
expect 0 "process (insecure: the host is trusted)" "$SB" policy show policy.json
expect 0 "Policy hash  $HASH" "$SB" policy show policy.json

# ---- check: time, damage ----
expect 1 "policy.expires: the policy expired at" "$SB" policy check policy.json --at "$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)"
expect 1 "policy.identities[0].certificate: certificate expired at" "$SB" policy check policy.json --at 2100-01-01T00:00:00Z
expect 0 "valid policy" "$SB" policy check policy.json --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect 2 "--at yesterday: expected an RFC 3339 time" "$SB" policy check policy.json --at yesterday
expect 1 "cannot open missing.json" "$SB" policy check missing.json
sed 's/"fuel": 5000000/"fuel": 0/' policy.json > zero-fuel.json
expect 1 "policy.limits.fuel: 0 is out of range" "$SB" policy check zero-fuel.json
expect 1 "policy.limits.fuel: 0 is out of range" "$SB" policy hash zero-fuel.json
printf '{"version": 1,' > truncated.json
expect 1 "policy: invalid JSON at line 1" "$SB" policy check truncated.json
expect 2 "usage: strongbox policy check FILE" "$SB" policy check
expect 2 "unknown subcommand 'frobnicate'" "$SB" policy frobnicate
# show still describes an expired policy, and says so
sed 's/"expires": "[^"]*"/"expires": "2020-01-01T00:00:00Z"/' policy.json > old.json
expect 0 "Status       NOT VALID NOW: policy.expires: the policy expired at 2020-01-01T00:00:00Z" "$SB" policy show old.json
expect 0 "$("$SB" policy hash old.json)" "$SB" policy hash old.json

# ---- policy new refusals ----
expect 1 "alice.key holds a private key; give the certificate (NAME.crt), never the key" \
    new_policy --identity dave=alice.key -o x.json
expect 1 "policy.runtimes.platforms.process: the process platform is insecure" \
    "$SB" policy new --name n --identity alice=alice.crt:rw=/inputs,r=/outputs,wx=/programs \
    --program /programs/p.wasm=train.wasm:r=/inputs --platform process:@runtime.bin \
    --attestation-url http://a:1 --attestation-root root.crt --host h:1 -o x.json
[ ! -e x.json ] && ok || bad "an invalid policy was written"
expect 1 "policy.identities[3].name: duplicate identity name \"alice\" (also identities[0])" \
    new_policy --identity alice=bob.crt -o x.json
expect 1 "policy.identities[3].certificate: same certificate as identities[0] (\"alice\")" \
    new_policy --identity dave=alice.crt -o x.json
expect 1 "--identity dave: expected NAME=CERT[:RIGHTS=PATH,...]" new_policy --identity dave -o x.json
expect 1 "--identity: 'r/outputs' is not RIGHTS=PATH" new_policy --identity dave=keys/erin.crt:r/outputs -o x.json
expect 1 "--identity: path /outputs given twice" new_policy --identity dave=keys/erin.crt:r=/outputs,w=/outputs -o x.json
expect 1 "cannot open nothere.wasm" new_policy --program /programs/q.wasm=nothere.wasm -o x.json
expect 1 "policy.programs[1].path: duplicate program path" new_policy --program /programs/train.wasm=sha256:$WASM_SHA -o x.json
expect 1 "--expires-in 0h: expected a duration" new_policy --expires-in 0h -o x.json
expect 1 "bad value '12Q' for the memory_bytes limit" new_policy --memory 12Q -o x.json
expect 1 "policy.limits.memory_bytes: 1024 is out of range" new_policy --memory 1K -o x.json
expect 1 "--quorum x: expected N[:NAME,...]" new_policy --quorum x -o x.json
expect 1 "policy.shutdown.quorum.members[1]: expected the name of an identity" new_policy --quorum 2:alice,zed -o x.json
expect 1 "policy.results: no identity may read the results" new_policy --results /elsewhere -o x.json
# --keep-sealed: shutdown.keep_sealed, validated like the rest, named by show
expect 0 "policy \"joint-regression\", hash" new_policy --keep-sealed /outputs/models -o keep.json
grep -q '"keep_sealed": \[' keep.json && ok || bad "--keep-sealed did not write shutdown.keep_sealed"
grep -q '"quorum"' keep.json && ok || bad "--keep-sealed lost the quorum"
expect 0 "reader (the host keeps the envelopes), the files under /outputs/models" "$SB" policy show keep.json
expect 0 "or at expiry; nothing survives the isolate" "$SB" policy show policy.json
expect 1 "policy.shutdown.keep_sealed[0]: \"/inputs/alice\" is not inside a result area" new_policy --keep-sealed /inputs/alice -o x.json
expect 1 "policy.shutdown.keep_sealed[1]: \"/outputs\" overlaps keep_sealed[0]" new_policy --keep-sealed /outputs/a --keep-sealed /outputs -o x.json
expect 1 "--host is required" "$SB" policy new --name n --identity alice=alice.crt \
    --program /p.wasm=train.wasm --platform process:@runtime.bin
expect 1 "root.key holds a private key" new_policy --attestation-root root.key -o x.json
expect 2 "unrecognized option" new_policy --colour -o x.json
[ ! -e x.json ] && ok || bad "a refused policy was written"

# a certificate that ends before the policy: allowed, with a warning (new and show)
expect 0 "warning: erin's certificate expires at" new_policy --identity erin=keys/erin.crt --expires-in 7d -o erin.json
expect 0 "Warning      erin's certificate expires at" "$SB" policy show erin.json

# ---- policy new from a template ----
mkdir tpl
cp alice.crt bob.crt root.crt train.wasm runtime.bin tpl/
cat > tpl/template.json <<'JSON'
{
  "name": "from-template",
  "identities": [
    {"name": "alice", "certificate": "@alice.crt", "rights": {"/inputs/alice": "rw", "/outputs": "r", "/programs": "wx"}},
    {"name": "bob", "certificate": "@bob.crt", "rights": {"/inputs/bob": "rw", "/outputs": "r"}}
  ],
  "programs": [{"path": "/programs/train.wasm", "sha256": "@train.wasm", "rights": {"/inputs": "r", "/outputs": "rw"}}],
  "runtimes": {"allow_debug": true, "platforms": {"process": ["@runtime.bin"]}},
  "attestation": {"url": "http://127.0.0.1:7443", "root_certificate": "@root.crt"},
  "host": "127.0.0.1:7000",
  "expires": "+7d",
  "limits": {"fuel": 123456}
}
JSON
expect 0 "policy \"from-template\"" "$SB" policy new --from tpl/template.json --host 10.0.0.1:9000 -o t.json
grep -q '"host": "10.0.0.1:9000"' t.json && ok || bad "flags override the template"
grep -q '"fuel": 123456' t.json && ok || bad "template limit kept"
grep -q "\"sha256\": \"$WASM_SHA\"" t.json && ok || bad "template program hashed"
grep -q '"output_bytes": 1048576' t.json && ok || bad "default limits filled in"
expect 0 "valid policy \"from-template\"" "$SB" policy check t.json
printf '{"name": "x", "name": "y"}' > tpl/dup.json
expect 1 "duplicate object key" "$SB" policy new --from tpl/dup.json
printf '{"expires": "+forever"}' > tpl/bad-exp.json
expect 1 "template expires +forever: expected +DURATION" "$SB" policy new --from tpl/bad-exp.json

# ---- fixed program arguments (--program-args, "args") ----
expect 0 "policy \"joint-regression\"" new_policy --program-args "/programs/train.wasm=--min-group 5" -o args.json
tr -d ' \n' < args.json | grep -q '"args":\["--min-group","5"\]' && ok || bad "--program-args not in the policy: $(cat args.json)"
expect 0 "runs only as: /programs/train.wasm --min-group 5" "$SB" policy show args.json
[ "$("$SB" policy hash args.json)" != "$("$SB" policy hash policy.json)" ] && ok || bad "fixed arguments kept the hash"
# given before --program: applied after every program anyway
expect 0 "hash" "$SB" policy new --program-args "/programs/p.wasm=-x" --name n \
    --identity alice=alice.crt:rw=/inputs,r=/outputs,wx=/programs \
    --program /programs/p.wasm=train.wasm:r=/inputs --platform process:@runtime.bin --allow-debug \
    --attestation-url http://a:1 --attestation-root root.crt --host h:1 -o args2.json
expect 0 "runs only as: /programs/p.wasm -x" "$SB" policy show args2.json
expect 0 "hash" new_policy --program-args "/programs/train.wasm=" -o noargs.json
tr -d ' \n' < noargs.json | grep -q '"args":\[\]' && ok || bad "--program-args PATH= should fix no arguments"
expect 0 "runs only as: /programs/train.wasm (no arguments)" "$SB" policy show noargs.json
expect 1 "--program-args: /programs/other.wasm is not a program of the policy" \
    new_policy --program-args "/programs/other.wasm=-v" -o x.json
expect 1 "--program-args nothing: expected PATH=ARGS" new_policy --program-args nothing -o x.json
sed 's|"path": "/programs/train.wasm",|"path": "/programs/train.wasm", "args": "-v",|' policy.json > badargs.json
expect 1 "policy.programs[0].args: expected an array" "$SB" policy check badargs.json
sed 's|"path": "/programs/train.wasm",|"path": "/programs/train.wasm", "args": ["-v", 1],|' policy.json > badargs.json
expect 1 "policy.programs[0].args[1]: expected a string" "$SB" policy check badargs.json
[ ! -e x.json ] && ok || bad "a refused policy was written"

echo "policy cli: $n checks, $fails failures"
[ "$fails" -eq 0 ]
