#!/bin/sh
# long-run.sh FUZZ_BUILD SECONDS - the differential fuzzer for SECONDS of CPU (one process, so
# wall-clock seconds = CPU seconds), on the spec-module corpus plus regressions/. FUZZ_BUILD is a
# build configured with CC=clang -DSB_FUZZ=ON. Exits non-zero on the first mismatch (libFuzzer
# writes the input as crash-<sha1> in the current directory: add it to regressions/).
set -eu
B=${1:?usage: long-run.sh FUZZ_BUILD SECONDS}
S=${2:?usage: long-run.sh FUZZ_BUILD SECONDS}
case $S in *[!0-9]*|'') echo "SECONDS must be a number" >&2; exit 2 ;; esac
grep -q '^SB_FUZZ:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null ||
  { echo "$B is not a fuzz build (CC=clang cmake -S . -B $B -DSB_FUZZ=ON)" >&2; exit 2; }
cmake -DFUZZ_SECONDS="$S" "$B" >/dev/null
exec cmake --build "$B" --target fuzz-fuzz_wasm_diff
