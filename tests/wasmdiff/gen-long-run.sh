#!/bin/sh
# gen-long-run.sh FUZZ_BUILD SECONDS - the generator-driven differential fuzzer (fuzz_wasm_gen)
# for SECONDS of CPU (one process, so wall-clock seconds = CPU seconds), from gen-seeds/.
# FUZZ_BUILD is a build configured with CC=clang -DSB_FUZZ=ON. Exits non-zero on the first
# mismatch or invalid generated module (libFuzzer writes the input as crash-<sha1> in the current
# directory: `wasmdiff_gen_replay --emit crash-<sha1> regressions/NAME.wasm` turns it into a
# module for wasmdiff.replay; the input itself belongs in gen-regressions/).
set -eu
B=${1:?usage: gen-long-run.sh FUZZ_BUILD SECONDS}
S=${2:?usage: gen-long-run.sh FUZZ_BUILD SECONDS}
case $S in *[!0-9]*|'') echo "SECONDS must be a number" >&2; exit 2 ;; esac
grep -q '^SB_FUZZ:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null ||
  { echo "$B is not a fuzz build (CC=clang cmake -S . -B $B -DSB_FUZZ=ON)" >&2; exit 2; }
cmake -DFUZZ_SECONDS="$S" "$B" >/dev/null
exec cmake --build "$B" --target fuzz-fuzz_wasm_gen
