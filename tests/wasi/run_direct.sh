#!/bin/sh
# Runs wasi_direct.wasm with two preopens given in unsorted order (/zeta, /alpha).
set -u
sb=$1 wasm=$2
t=$(mktemp -d "${TMPDIR:-/tmp}/sb-wasi-direct.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
mkdir "$t/a" "$t/b"
"$sb" run --dir "$t/a::/zeta" --dir "$t/b::/alpha" "$wasm"
