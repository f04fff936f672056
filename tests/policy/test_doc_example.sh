#!/bin/sh
# test_doc_example.sh DOC STRONGBOX - the complete example in docs/policy.md is a valid policy
# (as of a fixed time inside its validity) and has the hash the document states.
set -u
DOC=$1 SB=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-policy-doc.XXXXXX")
trap 'rm -rf "$T"' EXIT
awk '/<!-- example-policy/ {found=1} found && /^```json$/ {inside=1; next} inside && /^```$/ {exit} inside {print}' \
    "$DOC" > "$T/example.json"
stated=$(sed -n 's/^Its hash: `\([0-9a-f]\{64\}\)`$/\1/p' "$DOC")
[ -s "$T/example.json" ] || { echo "FAIL: no example found in $DOC"; exit 1; }
"$SB" policy check "$T/example.json" --at 2027-06-01T00:00:00Z || { echo "FAIL: example invalid"; exit 1; }
got=$("$SB" policy hash "$T/example.json")
[ -n "$stated" ] && [ "$got" = "$stated" ] || { echo "FAIL: example hash $got, document says '$stated'"; exit 1; }
# the hand-checked canonical-form example in the same document
printf '{"a":{"x":null,"y":true},"b":[1.5,"\303\251"]}' | sha256sum | grep -q "^89c1776da3d3598a7abae17206ac4d2edcafc798c660c29f18b915c5b247ad03 " \
    && grep -q 89c1776da3d3598a7abae17206ac4d2edcafc798c660c29f18b915c5b247ad03 "$DOC" \
    || { echo "FAIL: hand-checked hash"; exit 1; }
echo "doc example: valid, hash $got as stated"
