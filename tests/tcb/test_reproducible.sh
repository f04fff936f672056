#!/usr/bin/env bash
# test_reproducible.sh SRC BUILD - strongbox-runtime rebuilt from source is bit-identical.
#
# Copies the tracked files (git ls-files) of SRC into two fresh trees at different paths, then
# configures and builds only the runtime in each with the documented recipe (docs/reproducing.md),
# under different umasks, time zones, file times, build-directory layouts and times, without
# SOURCE_DATE_EPOCH. Both binaries must have the same SHA-256 and contain no build path. When the
# surrounding build used the same recipe (gcc, RelWithDebInfo, static runtime), its runtime must
# match as well: the binary CI tested is the one every party reproduces.
#
# Copying the tracked files rather than `git clone` of HEAD: a clone would drop uncommitted work
# during development; in CI the tree is a clean clone, so both give the same files.
set -euo pipefail
SRC=$1 BUILD=$2
command -v git >/dev/null || { echo "SKIP: git missing"; exit 77; }
git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 || { echo "FAIL: $SRC is not a git work tree"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree_a="$work/a/strongbox"
tree_b="$work/second-clone/at/a/longer/path/strongbox-src"
mkdir -p "$tree_a" "$tree_b"

# One snapshot of the tracked files as they are in the work tree (so an edit made while the test
# runs cannot make the two trees differ), then two copies of it.
snap="$work/snapshot"
(cd "$SRC" && git ls-files -z | while IFS= read -r -d '' f; do
   [ -e "$f" ] || continue                # tracked but deleted in the work tree
   mkdir -p "$snap/$(dirname "$f")"; cp -p "$f" "$snap/$f"
 done)
cp -a "$snap/." "$tree_a/"                # keeps file times
sleep 1
cp -r "$snap/." "$tree_b/"                # new file times
rm -rf "$snap"

shared=$(sed -n 's/^SB_SHARED_DIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
recipe() { # recipe TREE BUILDDIR: the documented build, in a clean environment
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work" TZ="$3" LC_ALL=C \
    bash -c 'umask "$1"; cmake -S "$2" -B "$3" -DSB_SHARED_DIR="$4" >/dev/null &&
             cmake --build "$3" --target strongbox-runtime -j2 >/dev/null 2>"$3.log" ||
             { cat "$3.log"; exit 1; }' _ "$4" "$1" "$2" "$shared"
}
recipe "$tree_a" "$tree_a/build" UTC 022
sleep 2
recipe "$tree_b" "$work/b-build" Pacific/Kiritimati 077

bin_a="$tree_a/build/src/runtime/strongbox-runtime"
bin_b="$work/b-build/src/runtime/strongbox-runtime"
sha_a=$(sha256sum "$bin_a" | cut -d' ' -f1)
sha_b=$(sha256sum "$bin_b" | cut -d' ' -f1)
echo "clone 1: $sha_a  ($(stat -c %s "$bin_a") bytes)"
echo "clone 2: $sha_b  ($(stat -c %s "$bin_b") bytes)"
status=0
if [ "$sha_a" != "$sha_b" ]; then
  echo "FAIL: the two rebuilds differ; first differing bytes:"
  cmp -l "$bin_a" "$bin_b" | head -5 || true
  status=1
fi
for bin in "$bin_a" "$bin_b"; do
  if strings -a "$bin" | grep -e "$work" -e "$SRC" -e "$BUILD" | head -3 | grep .; then
    echo "FAIL: $bin embeds a build path"; status=1
  fi
done
if readelf -d "$bin_a" | grep -q '(NEEDED)'; then
  echo "FAIL: the recipe's runtime is not static: its measurement would not cover its libraries"
  status=1
fi

# The surrounding build: compared when it followed the same recipe.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
btype=$(cache CMAKE_BUILD_TYPE)   # empty: the top-level CMakeLists.txt defaults it to RelWithDebInfo
if [ "${btype:-RelWithDebInfo}" = RelWithDebInfo ] && [ "$(cache SB_STATIC_RUNTIME)" = ON ] &&
   [ "$(realpath "$(cache CMAKE_C_COMPILER)")" = "$(realpath "$(command -v cc)")" ]; then
  rt="$BUILD/src/runtime/strongbox-runtime"
  changed=$(cd "$SRC" && find src/common src/wasm src/vfs src/wasi src/policy src/proto src/runtime \
            src/tsm cmake CMakeLists.txt -newer "$rt" -type f 2>/dev/null | head -3 | paste -sd' ' -)
  sha_c=$(sha256sum "$rt" | cut -d' ' -f1)
  echo "this build: $sha_c"
  if [ -n "$changed" ]; then
    echo "this build is older than its sources ($changed ...): not compared"
  elif [ "$sha_c" != "$sha_a" ]; then
    echo "FAIL: this build's runtime differs from the rebuild of the same sources (stale build?)"
    status=1
  fi
else
  echo "this build uses another recipe (compiler/build type/linkage): not compared"
fi
[ $status -eq 0 ] && echo "OK: strongbox-runtime is reproducible: measurement $sha_a"
exit $status
