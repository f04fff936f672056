#!/usr/bin/env bash
# test_image_reproducible.sh SRC BUILD - the kvm guest image rebuilt from source is bit-identical.
#
# Copies the tracked files of SRC into two fresh trees at different paths and builds only the
# guest image (target guest-image: strongbox-runtime, strongbox-init, sb-mkinitramfs, the initrd)
# in each, under different umasks, time zones, file times and build-folder layouts, with the same
# pinned kernel (this build's SB_GUEST_CACHE). The two initrd.cpio must be byte-identical, and so
# must `strongbox measure --platform kvm` over each image (for both accelerators). When this
# build's image is not older than its sources, it must match as well: the image CI tested is the
# one a party reproduces. When this build has the sev-snp/tdx image (guest-image-cvm: scripts/setup.sh
# --cvm-kernel), the same holds for it and for `strongbox measure --platform sev-snp|tdx --guest-image`.
set -euo pipefail
SRC=$1 BUILD=$2
git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 || { echo "FAIL: $SRC is not a git work tree"; exit 1; }
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
guest_cache=$(cache SB_GUEST_CACHE)
shared=$(cache SB_SHARED_DIR)
SB=$BUILD/src/cli/strongbox
targets=guest-image images="guest"
if [ "$(cache SB_GUEST_IMAGE_CVM)" = ON ]; then targets+=" guest-image-cvm" images+=" guest-cvm"; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-image-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree_a="$work/a/strongbox"
tree_b="$work/elsewhere/with/a/longer/path/strongbox-src"
mkdir -p "$tree_a" "$tree_b"
(cd "$SRC" && git ls-files -z | while IFS= read -r -d '' f; do
   [ -e "$f" ] || continue
   mkdir -p "$work/snap/$(dirname "$f")"; cp -p "$f" "$work/snap/$f"
 done)
cp -a "$work/snap/." "$tree_a/"
sleep 1
cp -r "$work/snap/." "$tree_b/"
rm -rf "$work/snap"

build() { # TREE BUILDDIR TZ UMASK
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work" TZ="$3" LC_ALL=C \
    bash -c 'umask "$1"; cmake -S "$2" -B "$3" -DSB_SHARED_DIR="$4" -DSB_GUEST_CACHE="$5" >/dev/null &&
             cmake --build "$3" --target $6 -j2 >/dev/null 2>"$3.log" ||
             { cat "$3.log"; exit 1; }' _ "$4" "$1" "$2" "$shared" "$guest_cache" "$targets"
}
build "$tree_a" "$tree_a/build" UTC 022
sleep 2
build "$tree_b" "$work/b-build" Pacific/Kiritimati 077

status=0
for image in $images; do
  for f in initrd.cpio vmlinuz; do
    a=$(sha256sum "$tree_a/build/$image/$f" | cut -d' ' -f1) b=$(sha256sum "$work/b-build/$image/$f" | cut -d' ' -f1)
    echo "$image/$f: $a / $b"
    [ "$a" = "$b" ] || { echo "FAIL: the two builds' $image/$f differ"; status=1; }
  done
done
img_a=$tree_a/build/guest img_b=$work/b-build/guest
if [ "$images" != guest ]; then
  "$BUILD/tests/measure/test_measure_snp" --emit-firmware "$work/ovmf.fd"
  m=(measure --platform sev-snp --firmware "$work/ovmf.fd" --vcpus 1 --vcpu-type EPYC-v4 --guest-features 0x1)
  ma=$("$SB" "${m[@]}" --guest-image "$tree_a/build/guest-cvm") mb=$("$SB" "${m[@]}" --guest-image "$work/b-build/guest-cvm")
  echo "measure --platform sev-snp --guest-image (regenerated AmdSev footer image): $ma / $mb"
  [ "$ma" = "$mb" ] || { echo "FAIL: the two builds' CVM images measure differently"; status=1; }
  # The same image is the TD's: MRTD, RTMR1 (the kernel's Authenticode hash) and RTMR2 (command
  # line, initrd) over the synthetic TDVF of tests/measure.
  mkdir -p "$work/tdvf" && "$BUILD/tests/measure/test_measure_tdx" --write "$work/tdvf" >/dev/null
  m=(measure --platform tdx --edk2 202508 --firmware "$work/tdvf/tdvf.fd")
  ma=$("$SB" "${m[@]}" --guest-image "$tree_a/build/guest-cvm") mb=$("$SB" "${m[@]}" --guest-image "$work/b-build/guest-cvm")
  echo "measure --platform tdx --guest-image (synthetic TDVF): $(tr '\n' ' ' <<<"$ma")"
  [ "$ma" = "$mb" ] && grep -q "rtmr1" <<<"$ma" || { echo "FAIL: the two builds' CVM images measure differently as a TD: $mb"; status=1; }
fi
for accel in kvm tcg; do
  ma=$("$SB" measure --platform kvm --accel $accel --guest-kernel "$img_a/vmlinuz" --guest-initrd "$img_a/initrd.cpio")
  mb=$("$SB" measure --platform kvm --accel $accel --guest-kernel "$img_b/vmlinuz" --guest-initrd "$img_b/initrd.cpio")
  echo "measure --platform kvm --accel $accel: $ma / $mb"
  [ "$ma" = "$mb" ] || { echo "FAIL: the two builds measure differently ($accel)"; status=1; }
done
if grep -qaF -e "$work" -e "$SRC" "$img_a/initrd.cpio" "$tree_a/build/guest-cvm/initrd.cpio" 2>/dev/null; then
  echo "FAIL: the initrd embeds a build path"; status=1
fi

# This build: compared when it used the same recipe and is not older than its sources.
if [ "$(cache CMAKE_BUILD_TYPE)" = "" ] || [ "$(cache CMAKE_BUILD_TYPE)" = RelWithDebInfo ]; then
  changed=$(cd "$SRC" && find src/common src/wasm src/vfs src/wasi src/policy src/proto src/runtime \
            src/tsm src/guestinit src/guestimage cmake CMakeLists.txt -newer "$BUILD/guest/initrd.cpio" \
            -type f 2>/dev/null | head -3 | paste -sd' ' -)
  if [ -n "$changed" ]; then
    echo "this build's image is older than its sources ($changed ...): not compared"
  else
    for image in $images; do
      if ! cmp -s "$BUILD/$image/initrd.cpio" "$tree_a/build/$image/initrd.cpio"; then
        echo "FAIL: this build's $image/initrd.cpio differs from the rebuild of the same sources"; status=1
      else
        echo "this build's $image/initrd.cpio is the same"
      fi
    done
  fi
fi
[ $status -eq 0 ] && echo "OK: the guest image is reproducible: $(sha256sum "$img_a/initrd.cpio" | cut -d' ' -f1)"
exit $status
