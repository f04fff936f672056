#!/usr/bin/env bash
# The operator stops one computation through the admin socket while a party downloads from it,
# against a real attestation service, host and runtime on loopback. usage: admin_e2e.sh BUILD_DIR
# SOURCE_DIR
#   - `strongbox-host admin list` shows the computation with its pid, memory budget and RSS;
#   - `stop HASH REASON`: the party's get ends with exit 5 ("the computation has ended") and the
#     operator's reason; the isolate process is gone; another computation keeps serving.
set -u
B=$(cd "$1" && pwd) S=$(cd "$2" && pwd)
source "$S/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-admin-e2e
SBX_HOST_FLAGS="--admin-socket $T/admin.sock ${SB_ADMIN_E2E_HOST_FLAGS:-}"
sbx_start_services
sbx_keygen alice
ln -s "$RUNTIME" "$T/strongbox-runtime"
policy() { # NAME
  cat >"$T/$1.template" <<J
{"name": "admin-e2e-$1", "expires": "+1h",
 "identities": [{"name": "alice", "certificate": "@alice.crt", "rights": {"/in": "rwx"}}],
 "programs": [{"path": "/in/p.wasm", "sha256": "abababababababababababababababababababababababababababababababab", "rights": {}}],
 "results": ["/in"],
 "runtimes": {"allow_debug": true, "platforms": {"process": ["@strongbox-runtime"]}},
 "attestation": {"url": "http://127.0.0.1:1", "root_certificate": "@attest-root.pem"},
 "limits": {"fs_bytes": $((128 << 20))},
 "shutdown": {"quorum": {"members": ["alice"], "count": 1}}}
J
  (cd "$T" && "$SB" policy new --from "$1.template" --host "127.0.0.1:$HP" \
     --attestation-url "http://127.0.0.1:$AP" -o "$1.json" >"$T/policy-new.log" 2>&1) ||
    { sbx_fail "policy $1" "$(cat "$T/policy-new.log")"; exit 1; }
}
admin() { "$HOSTD" admin --socket "$T/admin.sock" "$@"; }

policy one
policy two
sbx_sb "deploy one" 0 "running and attested" deploy one.json
sbx_sb "deploy two" 0 "running and attested" deploy two.json
HASH=$(cd "$T" && "$SB" policy hash one.json | grep -o '[0-9a-f]\{64\}' | head -1)
head -c $((120 << 20)) /dev/urandom >"$T/big"
sbx_sb "120 MiB uploaded" 0 "" put one.json --as alice -q big /in/big
sbx_sb "a file for two" 0 "" put two.json --as alice -q big /in/big

OUT=$(admin list 2>&1)
line=$(grep "\"policy_hash\":\"$HASH\"" <<<"$OUT")
sbx_check "admin list: the computation with its pid, memory budget and resident memory" \
  'python3 -c "import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if o[\"state\"]==\"ready\" and o[\"pid\"]>0 and o[\"rss_bytes\"]>0 and o[\"memory_budget_bytes\"]>0 and o[\"bytes_up\"]>(120<<20) else 1)" "$line"' "$OUT"
PID=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['pid'])" "$line" 2>/dev/null)

# A party downloads; the operator stops the computation as soon as its session is open.
opened() { grep -c "of computation ${HASH:0:16} opened" "$T/host.log"; }
before=$(opened)
(cd "$T" && timeout 60 "$SB" get one.json --as alice -q /in/big "$T/big.got" 2>"$T/get.err";
 echo $? >"$T/get.rc") &
GET=$!
for _ in $(seq 1 400); do [ "$(opened)" -gt "$before" ] && break; sleep 0.01; done
OUT=$(admin stop "${HASH:0:16}" maintenance of the quota 2>&1)
sbx_check "admin stop: ended, with the operator's reason" \
  'grep -q "\"state\":\"ended\"" <<<"$OUT" && grep -q "stopped by the operator: maintenance of the quota" <<<"$OUT"' "$OUT"
wait "$GET"
sbx_check "the party's get exits 5 (the computation has ended)" '[ "$(cat "$T/get.rc")" = 5 ]' \
  "rc $(cat "$T/get.rc"): $(cat "$T/get.err")"
sbx_check "... and shows the operator's reason" \
  'grep -q "stopped by the operator: maintenance of the quota" "$T/get.err"' "$(cat "$T/get.err")"
sbx_check "the isolate process is gone" '[ -n "$PID" ] && ! kill -0 "$PID" 2>/dev/null' "pid $PID"
sbx_sb "another computation keeps serving" 0 "" get two.json --as alice -q /in/big "$T/big2"
sbx_check "... its file intact" 'cmp -s "$T/big" "$T/big2"'
sbx_summary admin_e2e
