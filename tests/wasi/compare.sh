#!/bin/sh
# Runs one corpus program natively on a fresh directory, and as wasm either under
# `strongbox run --dir` on another fresh directory (MODE host) or over a fresh in-memory VFS
# (MODE vfs, through vfs_run), and compares stdout, stderr, the exit status and the resulting
# tree (names, types, contents, symlink targets).
# Usage: compare.sh host|vfs NATIVE WASM STRONGBOX-OR-VFS_RUN [ARGS...]
set -u
mode=$1 native=$2 wasm=$3 sb=$4
shift 4
t=$(mktemp -d "${TMPDIR:-/tmp}/sb-wasi-cmp.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
mkdir "$t/n" "$t/w"

env -i FOO=bar "$native" "$t/n" "$@" >"$t/n.out" 2>"$t/n.err" </dev/null
ns=$?
if [ "$mode" = vfs ]; then
    "$sb" "$t/w.tree" "$wasm" /data "$@" >"$t/w.out" 2>"$t/w.err" </dev/null
else
    "$sb" run --dir "$t/w::/data" --env FOO=bar "$wasm" /data "$@" >"$t/w.out" 2>"$t/w.err" </dev/null
fi
ws=$?

tree() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
        if [ -L "$p" ]; then echo "L $p -> $(readlink "$p")"
        elif [ -d "$p" ]; then echo "D $p"
        else echo "F $p $(md5sum <"$p" | cut -c1-32)"; fi
    done)
}
tree "$t/n" >"$t/n.tree"
[ "$mode" = vfs ] || tree "$t/w" >"$t/w.tree"

ok=1
if [ "$ns" != "$ws" ]; then echo "exit status: native $ns, strongbox $ws"; ok=0; fi
if ! cmp -s "$t/n.out" "$t/w.out"; then echo "stdout differs:"; diff "$t/n.out" "$t/w.out" | head -40; ok=0; fi
if ! cmp -s "$t/n.err" "$t/w.err"; then echo "stderr differs:"; diff "$t/n.err" "$t/w.err"; ok=0; fi
if ! cmp -s "$t/n.tree" "$t/w.tree"; then echo "directory trees differ:"; diff "$t/n.tree" "$t/w.tree"; ok=0; fi
if [ $ok = 1 ]; then
    echo "$mode: same stdout ($(wc -l <"$t/n.out") lines), stderr, exit status ($ns) and tree ($(wc -l <"$t/n.tree") entries)"
    exit 0
fi
exit 1
