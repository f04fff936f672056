#!/usr/bin/env bash
# Sets up and runs every test: a warnings-as-errors build, then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer. Long fuzzing and soak runs are separate targets.
set -euo pipefail
cd "$(dirname "$0")/.."
# --packaging: + debhelper, lintian: the package test (tests/package) runs too. --cvm-kernel: the
# sev-snp/tdx image's generic 6.12 kernel from bookworm-backports (106 MB; ~20 s to fetch and
# unpack), so that the CVM image is built, rebuilt by vm.image_reproducible and booted under TCG
# by vm.cvm_image (3 boots, 9-13 s each at a load of 14).
scripts/setup.sh --packaging --cvm-kernel
export SB_PACKAGE_REQUIRED=1     # so a missing packaging tool fails it instead of skipping it
jobs=$(nproc)

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DSB_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 600
}

echo "== build + tests (-Wall -Wextra -Werror)"
run_suite build/test
# The sanitizer build also runs the engine's portable SIMD code (the C forms used off x86-64)
# through the spec testsuite, so both implementations are checked by every run.
echo "== build + tests under ASan + UBSan (portable SIMD forms)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build/asan -DSB_SANITIZE=ON -DSB_SIMD_PORTABLE=ON
