#!/usr/bin/env bash
# Every usage and local error of the session commands (deploy/put/get/run/status/end), checked for
# its exit code and message. No services needed. usage: cli_errors.sh STRONGBOX
set -u
SB=$1
T=$(mktemp -d /tmp/sb-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILED=0
expect() { # DESC RC TEXT ARGS...
  local desc=$1 rc=$2 text=$3
  shift 3
  OUT=$(cd "$T" && timeout 20 env ${SB_ENV:-} "$SB" "$@" 2>&1)
  local got=$?
  if [ "$got" -eq "$rc" ] && grep -qF -- "$text" <<<"$OUT"; then
    echo "ok   - $desc"
  else
    echo "FAIL - $desc (exit $got, wanted $rc and '$text')"
    sed 's/^/       /' <<<"$OUT"
    FAILED=$((FAILED + 1))
  fi
}
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
for who in alice bob; do (cd "$T" && "$SB" keygen --name "$who" --dir . >/dev/null); done
cat >"$T/p.json" <<P
{"version": 1, "name": "cli-errors",
 "identities": [{"name": "alice", "certificate": "$(pem_json "$T/alice.crt")", "rights": {"/in": "rw", "/programs": "wx"}},
                {"name": "bob", "certificate": "$(pem_json "$T/bob.crt")", "rights": {"/in": "r"}}],
 "programs": [{"path": "/programs/p.wasm", "sha256": "$(printf 'ab%.0s' $(seq 32))", "rights": {}}],
 "results": ["/in"],
 "runtimes": {"allow_debug": true, "platforms": {"process": ["$(printf '11%.0s' $(seq 32))"]}},
 "attestation": {"url": "http://127.0.0.1:1", "root_certificate": "$(pem_json "$T/bob.crt")"},
 "host": "127.0.0.1:1",
 "limits": {"fuel": 1000, "memory_bytes": 65536, "run_seconds": 1, "fs_bytes": 1024, "output_bytes": 1024},
 "clock": false, "expires": "2099-01-01T00:00:00Z",
 "shutdown": {}}
P
echo data >"$T/f"

expect "put: no policy" 2 "strongbox put: no policy file given" put
expect "put: usage is printed" 2 "usage: strongbox put POLICY --as NAME" put
expect "get: wrong number of arguments" 2 "strongbox get: wrong number of arguments" get p.json --as alice /in/x
expect "run: no program path" 2 "strongbox run: wrong number of arguments" run p.json --as alice
expect "unknown option" 2 "unknown option --frob" put p.json --as alice --frob f /in/f
expect "option without its value" 2 "--host needs a value" put p.json --as alice f /in/f --host
expect "--key without --cert" 2 "--key and --cert go together" put p.json --key alice.key f /in/f
expect "put without an identity" 2 "say who you are: --as NAME" put p.json f /in/f
SB_ENV="STRONGBOX_VERIFY_AT=yesterday" expect "bad STRONGBOX_VERIFY_AT" 2 \
  "STRONGBOX_VERIFY_AT=yesterday: expected an RFC 3339 time" get p.json --as alice /in/f -
expect "deploy: missing policy file" 1 "cannot open /nonexistent/p.json" deploy /nonexistent/p.json
expect "--as a name not in the policy" 1 "'carol' is not an identity of the policy" put p.json --as carol f /in/f
expect "--as NAME whose key file is missing" 1 "--as NAME looks for NAME.key and NAME.crt beside the policy" \
  put p.json --as alice --key nokey.key f /in/f
expect "--as NAME with another identity's certificate" 1 "bob.crt is not the certificate of 'alice'" \
  put p.json --as alice --cert bob.crt f /in/f
expect "a key that is not the certificate's" 1 "bob.key is not the key of alice.crt" \
  put p.json --key bob.key --cert alice.crt f /in/f
# The local file is checked before the host is contacted (nothing listens at 127.0.0.1:1).
expect "put: missing local file, said before connecting" 1 "strongbox put: nofile: No such file or directory" \
  put p.json --as alice nofile /in/f
expect "put: a directory is no file" 1 "strongbox put: .: not a regular file" put p.json --as alice . /in/f
expect "unreachable host" 1 "cannot connect to host 127.0.0.1:1" put p.json --as alice f /in/f
expect "status: unreachable host" 1 "cannot connect to host 127.0.0.1:1" status p.json
expect "--help" 0 "usage: strongbox end POLICY --as NAME" end --help
for c in deploy put get status end; do
  expect "$c --help describes every option and the exit codes" 0 "--json            the verification transcript" $c --help
  expect "$c --help: exit codes" 0 "3 isolate not verified (nothing sent)" $c --help
done
expect "run --as --help describes the session run's options" 0 "--key F --cert F  your key" run x.json --as alice --help
[ "$FAILED" -eq 0 ]
