#!/bin/sh
# symlinks.wasm over a host directory, under `strongbox run --dir` (openat2) and under hostfs_run
# --no-openat2 (the component walk), each on a fresh directory that holds a host symlink to an
# absolute path outside; afterwards nothing outside the mapped directory may have changed.
# Usage: run_symlinks.sh STRONGBOX HOSTFS_RUN SYMLINKS.wasm
set -u
sb=$1 runner=$2 wasm=$3
top=$(mktemp -d "${TMPDIR:-/tmp}/sb-wasi-symlinks.XXXXXX") || exit 1
trap 'rm -rf "$top"' EXIT
t=$top/t
fails=0

state() { # everything under $t but the mapped directory's inside, with contents
    (cd "$t" && find . -path ./in -prune -o -print | LC_ALL=C sort && cat outside/secret)
}
for how in openat2 walk; do
    rm -rf "$t"
    mkdir -p "$t/in" "$t/outside"
    echo secret >"$t/outside/secret"
    ln -s "$t/outside/secret" "$t/in/abs"
    state >"$top/before"
    if [ $how = openat2 ]; then
        "$sb" run --dir "$t/in::/data" "$wasm"
    else
        "$runner" --no-openat2 "$t/in" "$wasm"
    fi || { echo "FAIL ($how): the program reported failures"; fails=$((fails + 1)); }
    state >"$top/after"
    if ! cmp -s "$top/before" "$top/after"; then
        echo "FAIL ($how): something outside the mapped directory changed:"
        diff "$top/before" "$top/after"
        fails=$((fails + 1))
    fi
    left=$(cd "$t/in" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
    if [ "$left" != "./abs " ]; then
        echo "FAIL ($how): the program left '$left' (want only ./abs)"
        fails=$((fails + 1))
    fi
done
[ $fails = 0 ]
