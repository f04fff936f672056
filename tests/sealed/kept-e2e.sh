#!/usr/bin/env bash
# Sealed results that outlive the computation, end to end (docs/sealed.md "Kept by the host"):
# bob provides his input and goes offline; alice puts, carol runs, alice and carol end the
# computation. Its policy's shutdown.keep_sealed lets the host keep the results: the isolate seals
# each to each of its readers and hands the envelopes to the host, then is gone. Later bob fetches
# his from the host (`strongbox get --sealed` falls back to it; `--from-host` asks only it), checked
# before it is written, and opens it offline. Only bob's key opens it; an envelope modified or
# swapped on the host's disk is refused; a 20 MiB result crosses the channel in chunks; the host's
# limits (bytes per computation, a failing disk) keep nothing half-written; the operator lists and
# deletes; with a policy that does not allow it the host keeps nothing and the client says so.
#
# usage: kept-e2e.sh BUILD_DIR PROGRAM_DIR SOURCE_DIR   (PROGRAM_DIR: where sum.wasm was built)
set -u
B=$1 PROGS=$2 SRC=$3
. "$SRC/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-kept
SBX_HOST_FLAGS="${SBX_HOST_FLAGS:-} --sealed-dir $T/store --admin-socket $T/admin.sock"
sbx_start_services
sbx_keygen alice bob carol
cp "$PROGS/sum.wasm" "$T/"
echo 1234 >"$T/alice.num"
echo 4321 >"$T/bob.num"
head -c $((20 << 20)) /dev/urandom >"$T/big.bin"

# policy NAME KEEP_JSON [EXPIRES]: the sum computation; alice may also write a shared result both
# read.
policy() {
  cat <<JSON
{
  "version": 1,
  "name": "$1",
  "identities": [
    {"name": "alice", "certificate": "$(sbx_pem_json "$T/alice.crt")",
     "rights": {"/inputs/alice": "rw", "/results/alice": "r", "/results/shared": "rw"}},
    {"name": "bob", "certificate": "$(sbx_pem_json "$T/bob.crt")",
     "rights": {"/inputs/bob": "rw", "/results/bob": "r", "/results/shared": "r"}},
    {"name": "carol", "certificate": "$(sbx_pem_json "$T/carol.crt")", "rights": {"/programs": "wx"}}
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
  "expires": "${3:-$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)}",
  "shutdown": {"quorum": {"members": ["alice", "carol"], "count": 2}$2}
}
JSON
}
policy keep-sealed ', "keep_sealed": ["/results"]' >"$T/keep.json"
policy keep-nothing '' >"$T/nokeep.json"
HASH=$("$SB" policy hash "$T/keep.json")
NOHASH=$("$SB" policy hash "$T/nokeep.json")

# flip FILE OFFSET: one bit of the byte at OFFSET changed in place.
flip() {
  local b
  b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# wait_log FILE TEXT: the host logged it (the hand-over runs after the last CLI returned).
wait_log() {
  for _ in $(seq 1 600); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# compute POLICY HOSTPORT: bob puts and leaves; alice puts (and a 20 MiB shared result), carol
# runs; alice and carol vote to end.
compute() {
  local p=$1 h=(--host "$2")
  sbx_sb "[$p] deploy" 0 "is running and attested" deploy "$p" "${h[@]}"
  sbx_sb "[$p] carol uploads the program" 0 "" put "$p" "${h[@]}" --as carol -q sum.wasm /programs/sum.wasm
  sbx_sb "[$p] bob provides his input, then goes offline" 0 "" put "$p" "${h[@]}" --as bob -q bob.num /inputs/bob/number
  sbx_sb "[$p] alice provides hers" 0 "" put "$p" "${h[@]}" --as alice -q alice.num /inputs/alice/number
  sbx_sb "[$p] alice writes a 20 MiB shared result" 0 "" put "$p" "${h[@]}" --as alice -q big.bin /results/shared/big.bin
  sbx_sb "[$p] carol runs the program" 0 "wrote two answers" run "$p" "${h[@]}" --as carol -q /programs/sum.wasm
  sbx_sb "[$p] alice votes to end" 0 "continues" end "$p" "${h[@]}" --as alice -q
  sbx_sb "[$p] carol votes to end: the quorum ends it" 0 "ends now" end "$p" "${h[@]}" --as carol -q
}

# ---- the computation, its end, and the hand-over to the host's store
compute keep.json "127.0.0.1:$HP"
sbx_check "the host logged the envelopes it kept (2 answers + the shared file to alice and bob)" \
  "wait_log '$T/host.log' 'computation ${HASH:0:16}: 4 sealed results kept of 4 sent'" \
  "$(grep -a "${HASH:0:16}" "$T/host.log" | tail -5)"
sbx_check "the isolate is gone (no runtime process under the host)" \
  "for _ in \$(seq 1 100); do [ -z \"\$(ps -o pid= --ppid $SBX_HOST_PID)\" ] && break; sleep 0.1; done; [ -z \"\$(ps -o pid= --ppid $SBX_HOST_PID)\" ]"
sbx_sb "the host reports the computation ended" 0 '"state":"ended"' status keep.json
store_bob="$T/store/$HASH/bob"
sbx_check "the store holds bob's two envelopes and alice's two, nothing partial" \
  "[ \$(ls '$store_bob' | wc -l) -eq 2 ] && [ \$(ls '$T/store/$HASH/alice' | wc -l) -eq 2 ] && ! ls -a '$T/store/$HASH'/*/ | grep -q partial" \
  "$(ls -laR "$T/store" 2>&1)"
sbx_check "  ... as ciphertext only (no answer, no input bytes in the clear)" \
  "! grep -rq 'total=' '$T/store' && ! grep -rqF \"\$(head -c 64 '$T/big.bin' | od -An -tx1 | tr -d ' \n' | head -c 32)\" '$T/store'"

# ---- bob, back online after the end
sbx_sb "bob: get --sealed after the end falls back to the host's store" 0 "kept by the host" \
  get --sealed keep.json --as bob /results/bob/answer bob.sealed
sbx_check "  ... saying why (the computation ended) and that the envelope was checked" \
  "grep -q 'the computation has ended' <<<\"\$OUT\" && grep -q 'origin: signed at .* by an isolate attested for this policy' <<<\"\$OUT\"" "$OUT"
sbx_sb "bob opens it offline with his key" 0 "total=5555 bob=4321" \
  unseal --key bob.key --policy keep.json --path /results/bob/answer bob.sealed -
sbx_sb "bob: --from-host fetches the 20 MiB shared result" 0 "" \
  get --sealed keep.json --as bob --from-host -q /results/shared/big.bin big.sealed
sbx_sb "  ... which opens to exactly alice's file" 0 "" unseal --key bob.key --policy keep.json big.sealed big.out
sbx_check "  ... byte for byte" "cmp -s '$T/big.bin' '$T/big.out'"
sbx_sb "refused: alice's key does not open bob's envelope" 3 "does not open with this key" \
  unseal --key alice.key bob.sealed x.out
sbx_sb "alice gets her own kept answer" 0 "" get --sealed keep.json --as alice --from-host -q /results/alice/answer alice.sealed
sbx_sb "  ... and opens it" 0 "total=5555 alice=1234" unseal --key alice.key alice.sealed -
sbx_sb "refused before asking: bob's client knows bob may not read alice's answer" 4 "not a result 'bob' may read" \
  get --sealed keep.json --as bob --from-host -q /results/alice/answer x.sealed
sbx_sb "carol (no reader) gets nothing" 4 "not a result 'carol' may read" \
  get --sealed keep.json --as carol --from-host -q /results/alice/answer x.sealed

# ---- the host is untrusted: what it serves is checked before it is written
bob_answer=$(grep -l '/results/bob/answer' "$store_bob"/*.sealed)
cp "$bob_answer" "$T/bob-answer.orig"
flip "$bob_answer" 200
sbx_sb "refused: bob's envelope modified on the host's disk (one bit)" 3 "the envelope the host served is refused" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
cp "$T/bob-answer.orig" "$bob_answer"
sig=$(( $(stat -c %s "$bob_answer") - 900 ))
flip "$bob_answer" "$sig"
sbx_sb "refused: a bit changed in its signature or chain (the origin does not verify)" 3 "the envelope the host served is refused" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
alice_answer=$(grep -l '/results/alice/answer' "$T/store/$HASH/alice"/*.sealed)
cp "$alice_answer" "$bob_answer"
sbx_sb "refused: alice's envelope served as bob's (swapped on the host)" 3 "the envelope the host served is refused" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
bob_big=$(grep -l '/results/shared/big.bin' "$store_bob"/*.sealed)
cp "$bob_big" "$bob_answer"
sbx_sb "refused: bob's envelope of another file served for this one" 3 "not /results/bob/answer" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
head -c 1000 "$T/bob-answer.orig" >"$bob_answer"
sbx_sb "refused: a truncated envelope" 3 "truncated" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
sbx_check "  ... no file was written for any refusal" "[ ! -e '$T/x.sealed' ] && [ ! -e '$T/x.out' ]"
cp "$T/bob-answer.orig" "$bob_answer"
sbx_sb "restored, bob's envelope is accepted again" 0 "" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer bob2.sealed

# ---- the operator
sbx_check "admin sealed HASH lists the kept envelopes (reader, path, bytes)" \
  "'$HOSTD' admin --socket '$T/admin.sock' sealed $HASH >'$T/admin.out' && [ \$(grep -c '\"reader\":\"bob\"' '$T/admin.out') -eq 2 ] && grep -q '\"path\":\"/results/shared/big.bin\"' '$T/admin.out'" \
  "$(cat "$T/admin.out" 2>&1)"
sbx_check "admin sealed: a bad hash is refused" \
  "'$HOSTD' admin --socket '$T/admin.sock' sealed 1234 2>&1 | grep -q 'bad hash'"
sbx_check "admin delete-sealed HASH deletes them" \
  "'$HOSTD' admin --socket '$T/admin.sock' delete-sealed $HASH | grep -q '\"deleted\":4' && [ ! -e '$T/store/$HASH' ]"
sbx_sb "after the deletion the host has nothing for bob" 1 "no sealed result of /results/bob/answer for bob" \
  get --sealed keep.json --as bob --from-host -q /results/bob/answer x.sealed
sbx_check "admin delete-sealed of a computation with nothing kept" \
  "'$HOSTD' admin --socket '$T/admin.sock' delete-sealed $HASH 2>&1 | grep -q 'no sealed results kept'"

# ---- a policy that does not allow keeping
compute nokeep.json "127.0.0.1:$HP"
sbx_check "the isolate of nokeep.json ended" "wait_log '$T/host.log' 'computation ${NOHASH:0:16} ended'"
sbx_check "the host kept nothing for it" "[ ! -e '$T/store/$NOHASH' ]"
sbx_sb "bob's get --sealed says clearly that the result is gone" 5 "the policy lets the host keep no sealed copy of /results/bob/answer" \
  get --sealed nokeep.json --as bob /results/bob/answer x.sealed

# ---- bad requests on the port (the host answers ERR and keeps serving)
raw() { # raw PORT TEXT: the host's answer line to TEXT (printf %b) sent as is
  exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%b' "$2" >&3 && head -n1 <&3; exec 3<&- 3>&-
}
sealed_req() { # sealed_req BODY WANT: a SEALED request with BODY (its length computed)
  local body len ans
  body=$(printf '%b_' "$1"); body=${body%_}
  len=${#body}
  ans=$(raw "$HP" "STRONGBOX/1 SEALED $len\n$1" 2>&1)
  if grep -qF -- "$2" <<<"$ans"; then sbx_pass "port: SEALED '${1//$HASH/HASH}' refused: $2"
  else sbx_fail "port: SEALED '${1//$HASH/HASH}' refused: $2" "$ans"; fi
}
for size in 0 99999 x -1; do
  ans=$(raw "$HP" "STRONGBOX/1 SEALED $size\n" 2>&1)
  sbx_check "port: SEALED $size refused" "grep -qF 'SEALED needs the request size in bytes' <<<'$ans'" "$ans"
done
sealed_req "abcde" "expected 'HASH READER PATH'"
sealed_req "abc bob /results" "the hash must be 64"
sealed_req "$HASH ../x /results/a" "is not an identity name"
sealed_req "$HASH -x /results/a" "is not an identity name"
sealed_req "$HASH bob results/a" "not a normalised absolute path"
sealed_req "$HASH bob /results/../a" "not a normalised absolute path"
sealed_req "$HASH bob" "not a normalised absolute path"
sealed_req "$HASH bob /results/a\n" "NUL or newline"
sealed_req "$HASH bob /results/ab" "no sealed result of /results/ab for bob"
sbx_sb "the host still serves after all of that" 0 '"state":"ended"' status keep.json

# ---- the host's limits: a second host with 1 MiB per computation, a third whose disk fails
start_host() { # start_host NAME FLAGS...: sets PORT
  local name=$1
  shift
  "$HOSTD" --listen 127.0.0.1:0 --port-file "$T/$name.port" --runtime "$RUNTIME" \
    --attest-key "$T/host.key" --log "$T/$name.log" ${SBX_HOST_FLAGS_BASE:-} "$@" &
  SBX_PIDS+=($!)
  sbx_wait_file "$T/$name.port" || exit 1
  PORT=$(cat "$T/$name.port")
}
SBX_HOST_FLAGS_BASE=$(sed 's/--sealed-dir [^ ]*//; s/--admin-socket [^ ]*//' <<<"$SBX_HOST_FLAGS")
start_host small --sealed-dir "$T/store-small" --sealed-max-mib 1
compute keep.json "127.0.0.1:$PORT"
sbx_check "over --sealed-max-mib: the 20 MiB envelopes are not kept, with the reason in the log" \
  "wait_log '$T/small.log' 'computation ${HASH:0:16}: 2 sealed results kept of 4 sent' && grep -q 'not kept: over the store.s limit of 1048576 bytes per computation' '$T/small.log'" \
  "$(grep -a 'kept' "$T/small.log")"
sbx_check "  ... the answers are (each well under the limit), nothing partial is left" \
  "[ \$(ls -A '$T/store-small/$HASH/bob' | wc -l) -eq 1 ] && [ \$(ls -A '$T/store-small/$HASH/alice' | wc -l) -eq 1 ]" \
  "$(ls -laR "$T/store-small" 2>&1)"
sbx_sb "bob's answer comes from the small host" 0 "" \
  get --sealed keep.json --as bob --from-host --host "127.0.0.1:$PORT" -q /results/bob/answer small.sealed
sbx_sb "his 20 MiB file is not there" 1 "no sealed result of /results/shared/big.bin for bob" \
  get --sealed keep.json --as bob --from-host --host "127.0.0.1:$PORT" -q /results/shared/big.bin x.sealed

# A disk that fails mid-envelope (as a full one does): files over 12 MiB cannot be written (the
# runtime's own sealed copy, about 8 MiB, still fits; the 20 MiB envelopes do not).
(trap '' XFSZ; ulimit -f 12288; exec "$HOSTD" --listen 127.0.0.1:0 --port-file "$T/full.port" \
  --runtime "$RUNTIME" --attest-key "$T/host.key" --log "$T/full.log" $SBX_HOST_FLAGS_BASE \
  --sealed-dir "$T/store-full") &
SBX_PIDS+=($!)
sbx_wait_file "$T/full.port" || exit 1
compute keep.json "127.0.0.1:$(cat "$T/full.port")"
sbx_check "a write failing mid-envelope: logged, that envelope dropped whole, the others kept" \
  "wait_log '$T/full.log' 'computation ${HASH:0:16}: 2 sealed results kept of 4 sent' && grep -q 'not kept: writing .*File too large' '$T/full.log'" \
  "$(grep -a 'kept' "$T/full.log")"
sbx_check "  ... and no partial file stays in the store" \
  "! find '$T/store-full' -name '.partial-*' | grep -q . && [ \$(find '$T/store-full' -name '*.sealed' | wc -l) -eq 2 ]" \
  "$(find "$T/store-full" 2>&1)"

# ---- an end by expiry keeps them too (the runtime seals at its expiry, the host's backstop waits)
policy keep-expiry ', "keep_sealed": ["/results/bob"]' "$(date -u -d '+25 seconds' +%Y-%m-%dT%H:%M:%SZ)" >"$T/expiry.json"
EXHASH=$("$SB" policy hash "$T/expiry.json")
sbx_sb "[expiry.json] deploy" 0 "is running and attested" deploy expiry.json
sbx_sb "[expiry.json] carol uploads the program" 0 "" put expiry.json --as carol -q sum.wasm /programs/sum.wasm
sbx_sb "[expiry.json] bob provides his input, then goes offline" 0 "" put expiry.json --as bob -q bob.num /inputs/bob/number
sbx_sb "[expiry.json] alice provides hers" 0 "" put expiry.json --as alice -q alice.num /inputs/alice/number
sbx_sb "[expiry.json] carol runs the program" 0 "wrote two answers" run expiry.json --as carol -q /programs/sum.wasm
sbx_check "at its expiry the isolate hands bob's answer (the only file kept) to the host" \
  "wait_log '$T/host.log' 'computation ${EXHASH:0:16}: 1 sealed results kept of 1 sent'" \
  "$(grep -a "${EXHASH:0:16}" "$T/host.log" | tail -5)"
sbx_sb "bob, after the expiry, gets it from the host" 0 "the policy expired" \
  get --sealed expiry.json --as bob /results/bob/answer expiry.sealed
sbx_sb "  ... and opens it" 0 "total=5555 bob=4321" unseal --key bob.key --policy expiry.json expiry.sealed -
sbx_sb "alice's answer was not kept (not under keep_sealed)" 5 "keep no sealed copy of /results/alice/answer" \
  get --sealed expiry.json --as alice /results/alice/answer x.sealed

# ---- retention: at start (and hourly) envelopes older than --sealed-keep-days go, and partial
# files a crash left behind
old=$(find "$T/store-small/$HASH/bob" -name '*.sealed' | head -1)
touch -d '40 days ago' "$old"
: >"$T/store-small/$HASH/alice/.partial-crashed.sealed"
start_host retention --sealed-dir "$T/store-small" --sealed-keep-days 30
sbx_check "a host started with --sealed-keep-days 30 deletes the 40-day-old envelope" \
  "wait_log '$T/retention.log' 'sealed store: 1 envelopes' && [ ! -e '$old' ]" "$(cat "$T/retention.log")"
sbx_check "  ... and the partial file, but not alice's recent envelope" \
  "[ ! -e '$T/store-small/$HASH/alice/.partial-crashed.sealed' ] && [ \$(ls '$T/store-small/$HASH/alice' | wc -l) -eq 1 ]" \
  "$(ls -laR "$T/store-small")"

# ---- host options
sbx_check "--sealed-max-mib 0 is refused" "'$HOSTD' --runtime '$RUNTIME' --sealed-max-mib 0 2>&1 | grep -q 'want at least 1'"
sbx_check "--sealed-keep-days x is refused" "'$HOSTD' --runtime '$RUNTIME' --sealed-keep-days x 2>&1 | grep -q 'expected a number'"
touch "$T/not-a-dir"
sbx_check "--sealed-dir that is a file: the host does not start" \
  "timeout 20 '$HOSTD' --listen 127.0.0.1:0 --runtime '$RUNTIME' --attest-key '$T/host.key' --sealed-dir '$T/not-a-dir/x' 2>&1 | grep -q -- '--sealed-dir $T/not-a-dir/x: Not a directory'"

sbx_summary "sealed results kept after the end"
