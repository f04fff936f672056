# evidence_cli.sh - sourced by the `strongbox evidence verify` CLI tests (tests/attest/cli_evidence.sh,
# tests/verifiers/cli_hw_evidence.sh), which set NAME (for messages), SB (the strongbox binary)
# and SHARED (the shared folder) first: `.` passes no arguments in POSIX sh. Sets V (the
# attestation vectors), T (a temporary folder removed on exit) and fails.
V=$SHARED/attestation-vectors
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-$NAME-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0

# expect RC PATTERN ARGS... : runs `strongbox evidence verify ARGS`, checks the exit code and that
# stdout+stderr contains PATTERN.
expect() {
    want=$1 pattern=$2
    shift 2
    "$SB" evidence verify "$@" >"$T/out" 2>&1
    rc=$?
    if [ "$rc" != "$want" ] || ! grep -qF -- "$pattern" "$T/out"; then
        echo "FAIL: evidence verify $* -> rc $rc (want $want, pattern '$pattern'), output:" >&2
        cat "$T/out" >&2
        fails=$((fails + 1))
    fi
}

# Ends the script: exit 1 if any expectation failed.
finish() {
    if [ "$fails" -ne 0 ]; then
        echo "$NAME: $fails failures" >&2
        exit 1
    fi
    echo "$NAME: all tests passed"
}
