#!/usr/bin/env bash
# The session commands against a real attestation service, host and runtime on loopback: what a
# party sees in the cases issue 16 found wrong. usage: session_cli.sh BUILD_DIR SOURCE_DIR
#   - deploy verifies the isolate: a policy that does not accept the runtime exits 3, not "running";
#   - an upload larger than the policy's filesystem is refused before connecting (nothing sent),
#     one that no longer fits is refused at put-begin, after a fraction of its bytes;
#   - run says when the output was cut at the policy's output_bytes;
#   - status asks the host about the policy's own computation only;
#   - get under a pseudo-terminal (script -qc) 20 times: a stalled stream used to time out;
#   - get after the computation ended exits 5.
set -u
B=$(cd "$1" && pwd) S=$(cd "$2" && pwd)
source "$S/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-session-cli
sbx_start_services
sbx_keygen alice bob
ln -s "$RUNTIME" "$T/strongbox-runtime"
cp "$B/tests/e2e/echo.wasm" "$T/echo.wasm"
template() { # FILE RUNTIME_FILE FS_BYTES OUTPUT_BYTES
  cat >"$T/$1" <<J
{"name": "session-cli-$1", "expires": "+1h",
 "identities": [{"name": "alice", "certificate": "@alice.crt", "rights": {"/in": "rw", "/p": "wx"}},
                {"name": "bob", "certificate": "@bob.crt", "rights": {"/in": "r"}}],
 "programs": [{"path": "/p/echo.wasm", "sha256": "@echo.wasm", "rights": {}}],
 "results": ["/in"],
 "runtimes": {"allow_debug": true, "platforms": {"process": ["@$2"]}},
 "attestation": {"url": "http://127.0.0.1:1", "root_certificate": "@attest-root.pem"},
 "limits": {"fs_bytes": $3, "output_bytes": $4},
 "shutdown": {"quorum": {"members": ["alice", "bob"], "count": 2}}}
J
  (cd "$T" && "$SB" policy new --from "$1" --host "127.0.0.1:$HP" \
     --attestation-url "http://127.0.0.1:$AP" -o "${1%.template}.json" >"$T/policy-new.log" 2>&1) ||
    { sbx_fail "policy from $1" "$(cat "$T/policy-new.log")"; exit 1; }
}
bytes_up_of_last_session() { grep -o 'closed, [0-9]* bytes up' "$T/host.log" | tail -1 | cut -d' ' -f2; }

# ---------------------------------------------------------------- deploy verifies
template wrong.template echo.wasm 1048576 3   # accepts a "runtime" measured from another file
sbx_sb "deploy refuses an isolate whose measurement the policy does not accept (exit 3)" 3 \
  "refusing the isolate: measurement" deploy wrong.json
sbx_check "... and does not say it runs" '! grep -q "running and attested" <<<"$OUT"' "$OUT"

template p.template strongbox-runtime $((16 << 20)) 3
sbx_sb "deploy verifies, prints the transcript, then says it runs" 0 "verdict: ATTESTED" deploy p.json
sbx_check "... running and attested" 'grep -q "is running and attested" <<<"$OUT"' "$OUT"

# ---------------------------------------------------------------- uploads and the fs limit
head -c $((17 << 20)) /dev/zero >"$T/huge"
head -c $((10 << 20)) /dev/zero >"$T/ten"
head -c $((15 << 20)) /dev/zero >"$T/fifteen"
sessions_before=$(grep -c "opened" "$T/host.log")
sbx_sb "an upload larger than fs_bytes is refused before connecting" 1 \
  "more than the policy's filesystem limit (fs_bytes 16777216): nothing was sent" \
  put p.json --as alice huge /in/huge
sbx_check "... no session was opened for it" \
  '[ "$(grep -c "opened" "$T/host.log")" = "$sessions_before" ]'
sbx_sb "10 MiB fit" 0 "" put p.json --as alice -q ten /in/a
sleep 0.2
sbx_sb "15 MiB more do not fit: refused by the isolate at put-begin (exit 4)" 4 \
  "the filesystem limit of the policy would be exceeded" put p.json --as alice -q fifteen /in/b
sleep 0.2
up=$(bytes_up_of_last_session)
# The refusal comes back while chunks are in flight: a round trip's worth, not the whole file
# (before: all 15 MiB, refused at put-end).
sbx_check "... after a fraction of the bytes ($up of 15728640 sent)" '[ "${up:-99999999}" -lt 12582912 ]'

# ---------------------------------------------------------------- run: output cut
sbx_sb "program uploaded" 0 "" put p.json --as alice -q echo.wasm /p/echo.wasm
sbx_sb "run: output cut at output_bytes is said even with --quiet" 0 \
  "exited with code 0; output cut at the policy's output_bytes (3 bytes)" run p.json --as alice -q /p/echo.wasm

# ---------------------------------------------------------------- status
sbx_sb "status without --as: the host's view of this policy's computation" 0 "\"state\":\"ready\"" \
  status p.json
sbx_check "... and of no other computation" '[ "$(grep -c policy_hash <<<"$OUT")" = 1 ]' "$OUT"
sbx_check "... not the one of wrong.json" \
  '! grep -q "$(cd "$T" && "$SB" policy hash wrong.json | grep -o "[0-9a-f]\{64\}")" <<<"$OUT"' "$OUT"

# ---------------------------------------------------------------- --json
json_ok() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if $1 else 1)"; }
out=$(cd "$T" && "$SB" status p.json --as alice --json 2>/dev/null)
sbx_check "status --json: one object, the host's and the verified isolate's view" \
  'json_ok "d[\"host\"][\"state\"] == \"ready\" and isinstance(d[\"isolate\"], dict)" <<<"$out"' "$out"
out=$(cd "$T" && "$SB" get p.json --as bob --json /in/a - 2>&1 >/dev/null)
sbx_check "get --json: the verification transcript as JSON on stderr" \
  'json_ok "d[\"verdict\"] == \"ATTESTED\" and all(c[\"result\"] == \"ok\" for c in d[\"checks\"])" <<<"$out"' "$out"
out=$(cd "$T" && "$SB" policy hash p.json --json)
sbx_check "policy hash --json" 'json_ok "len(d[\"policy_hash\"]) == 64" <<<"$out"' "$out"
out=$(cd "$T" && "$SB" policy show p.json --json)
sbx_check "policy show --json: hash, validity and the policy" \
  'json_ok "len(d[\"policy_hash\"]) == 64 and d[\"valid_now\"] and d[\"policy\"][\"limits\"][\"output_bytes\"] == 3" <<<"$out"' "$out"
out=$("$SB" measure --json "$RUNTIME")
sbx_check "measure --json" 'json_ok "d[\"platform\"] == \"process\" and len(d[\"measurement\"]) == 64" <<<"$out"' "$out"

# ---------------------------------------------------------------- large get under a pty
head -c $((12 << 20)) /dev/urandom >"$T/rand"
sbx_sb "12 MiB uploaded (replacing 10 MiB)" 0 "" put p.json --as alice -q rand /in/a
fails=0
for i in $(seq 1 20); do
  rm -f "$T/back"
  (cd "$T" && timeout 15 script -qec "$SB get p.json --as bob /in/a back" /dev/null >"$T/pty.out" 2>&1)
  cmp -s "$T/rand" "$T/back" || { fails=$((fails + 1)); tail -c 300 "$T/pty.out" | tr '\r' '\n' | tail -2; }
done
sbx_check "get under a pseudo-terminal: 20 runs, 0 failures ($fails failed)" '[ "$fails" -eq 0 ]'

# ---------------------------------------------------------------- after the end
sbx_sb "alice votes to end" 0 "vote recorded" end p.json --as alice
sbx_sb "bob votes too: the computation ends" 0 "vote recorded" end p.json --as bob
sleep 0.5
sbx_sb "get after the computation ended exits 5" 5 "ended" get p.json --as bob /in/a -
sbx_summary session_cli
