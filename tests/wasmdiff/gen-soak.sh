#!/bin/sh
# gen-soak.sh BUILD SECONDS [FIRST_SEED] - the generator's differential test for SECONDS of wall
# time without clang: wasmdiff_gen_replay with a new --seed each round of 20,000 modules, in any
# build (an optimised one runs ~1,000 modules per CPU second). Stops at the first failing round;
# its inputs are kept as gen-fail-SEED-I.bin in the current folder (wasmdiff_gen_replay --emit
# turns one into a module). Prints each round's tally and the CPU seconds used.
set -eu
B=${1:?usage: gen-soak.sh BUILD SECONDS [FIRST_SEED]}
S=${2:?usage: gen-soak.sh BUILD SECONDS [FIRST_SEED]}
seed=${3:-1}
case $S$seed in *[!0-9]*|'') echo "SECONDS and FIRST_SEED must be numbers" >&2; exit 2 ;; esac
R=$B/tests/wasmdiff/wasmdiff_gen_replay
[ -x "$R" ] || { echo "$R not built (cmake --build $B --target wasmdiff_gen_replay)" >&2; exit 2; }
end=$(( $(date +%s) + S ))
rounds=0
while [ "$(date +%s)" -lt "$end" ]; do
  "$R" --count 20000 --seed "$seed" || { echo "FAIL: seed $seed" >&2; exit 1; }
  seed=$((seed + 1)) rounds=$((rounds + 1))
done
echo "gen-soak: $rounds rounds of 20000 modules, 0 mismatches; next seed $seed"
times
