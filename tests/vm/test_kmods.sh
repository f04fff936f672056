#!/usr/bin/env bash
# test_kmods.sh SB_MKINITRAMFS - the kmods: entry of sb-mkinitramfs (src/guestimage/kmod.c) on a
# synthetic module tree: real ELF64 objects whose .modinfo says what each depends on (compiled
# here with cc), modules.order and modules.builtin as a kernel package has them. Checks the load
# order written to modules/load (dependencies first, each module once, '-' and '_' alike, built-in
# modules skipped) and every refusal: unknown module, a cycle, a file that is not an ELF module,
# a module listed but absent, an unterminated .modinfo, a tree without the lists. Compressed
# modules as Debian's 6.12 kernels ship them (NAME.ko.xz; modules.order says NAME.ko): the image
# holds the decompressed NAME.ko, byte for byte, and a truncated or corrupt stream, trailing data,
# one that decompresses past 64 MiB, and zstd/gzip modules are refused.
set -u
MK=$1
CC=${CC:-cc}
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-kmods.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0
R=$T/lib/modules/9.9.9
mkdir -p "$R/kernel/a" "$R/kernel/b"

# mod DIR NAME DEPENDS: an ELF64 object NAME.ko whose .modinfo holds name= and depends=
mod() {
  printf '__attribute__((section(".modinfo"), used)) static const char info[] = "license=GPL\\0depends=%s\\0name=%s";\n' \
    "$3" "$2" >"$T/m.c"
  "$CC" -c -o "$R/kernel/$1/$2.ko" "$T/m.c" || exit 1
  echo "kernel/$1/$2.ko" >>"$R/modules.order"
}
: >"$R/modules.order"
echo "kernel/b/builtin_one.ko" >"$R/modules.builtin"
mod a top "mid_one,leaf"
mod b mid-one "leaf,builtin_one"   # file name with '-', named with '_' by its user
mod b leaf ""
mod a cyc1 "cyc2"
mod a cyc2 "cyc1"
mod a needs_gone "gone"
mod a needs_bad "bad"
echo "kernel/a/gone.ko" >>"$R/modules.order" # listed, file absent
printf 'not an ELF file' >"$R/kernel/a/bad.ko"; echo "kernel/a/bad.ko" >>"$R/modules.order"
# .modinfo whose last string has no NUL: a raw section written by the assembler
printf '.section .modinfo,"a"\n.ascii "depends="\n' >"$T/u.s"
"$CC" -c -o "$R/kernel/a/unterminated.ko" "$T/u.s" || exit 1
echo "kernel/a/unterminated.ko" >>"$R/modules.order"

# xz-compressed modules: xzmod depends on xzleaf (both .ko.xz) and on leaf (plain)
mod a xzleaf ""
mod a xzmod "xzleaf,leaf"
cp "$R/kernel/a/xzmod.ko" "$T/xzmod.plain"
xz --check=crc32 "$R/kernel/a/xzleaf.ko" "$R/kernel/a/xzmod.ko" || exit 1
xzbad() { # NAME: a module whose file is NAME.ko.xz (written by the caller), listed in modules.order
  mod a "$1" ""; rm -f "$R/kernel/a/$1.ko"
}
xzbad trunc; head -c 100 "$R/kernel/a/xzmod.ko.xz" >"$R/kernel/a/trunc.ko.xz"
xzbad corrupt; cp "$R/kernel/a/xzmod.ko.xz" "$R/kernel/a/corrupt.ko.xz"
printf '\xff\xff\xff\xff' | dd of="$R/kernel/a/corrupt.ko.xz" bs=1 seek=60 conv=notrunc 2>/dev/null
xzbad trailing; { cat "$R/kernel/a/xzmod.ko.xz"; printf 'junk'; } >"$R/kernel/a/trailing.ko.xz"
xzbad huge; head -c $((65 << 20)) /dev/zero | xz -1 >"$R/kernel/a/huge.ko.xz"
mod a zmod ""; mv "$R/kernel/a/zmod.ko" "$R/kernel/a/zmod.ko.zst"

# load NAME ROOTS: runs sb-mkinitramfs; OUT its stderr, RC its status, LOAD the modules/load lines
load() {
  OUT=$("$MK" "$T/$1.cpio" dir:modules:755 "kmods:modules:$R:$2" 2>&1)
  RC=$?
  LOAD=$( [ -f "$T/$1.cpio" ] && tr '\0' '\n' <"$T/$1.cpio" |
          awk '/modules\/load$/ { p = 1; next } /^070701/ { p = 0 } p && NF' | paste -sd' ' -)
}
check() { # DESCRIPTION CONDITION
  n=$((n + 1))
  if eval "$2"; then echo "ok - $1"; else fails=$((fails + 1)); echo "FAIL: $1 (rc $RC, load '$LOAD'): $OUT"; fi
}

load ok top,leaf
check "dependencies first, each once, '-'/'_' alike, built-in skipped" \
  '[ $RC = 0 ] && [ "$LOAD" = "leaf.ko mid-one.ko top.ko" ]'
check "the module files are in the archive under modules/" \
  'grep -aq "modules/mid-one.ko" "$T/ok.cpio" && ! grep -aq "modules/builtin_one" "$T/ok.cpio"'
load builtin builtin_one
check "a built-in root alone: an empty list" '[ $RC = 0 ] && [ -z "$LOAD" ]'
load unknown top,nosuch
check "an unknown module is refused, named" '[ $RC = 2 ] && grep -q "nosuch: in neither modules.order nor modules.builtin" <<<"$OUT" && [ ! -e "$T/unknown.cpio" ]'
load cycle cyc1
check "a dependency cycle is refused" '[ $RC = 2 ] && grep -q "cyc1: depends on itself (through cyc2)" <<<"$OUT"'
load gone needs_gone
check "a listed module whose file is absent is refused" '[ $RC = 2 ] && grep -q "gone.ko: cannot read" <<<"$OUT"'
load bad needs_bad
check "a file that is not an ELF module is refused" '[ $RC = 2 ] && grep -q "bad.ko: not an ELF64 little-endian module" <<<"$OUT"'
load unterminated unterminated
check "an unterminated .modinfo is refused" '[ $RC = 2 ] && grep -q "does not end with a NUL" <<<"$OUT"'
load xz xzmod
check "xz modules: decompressed, their dependencies read from the decompressed .modinfo" \
  '[ $RC = 0 ] && [ "$LOAD" = "xzleaf.ko leaf.ko xzmod.ko" ]'
# The member's data follows its name ("modules/xzmod.ko" and a NUL), padded to 4 bytes.
at=$(grep -abo 'modules/xzmod\.ko' "$T/xz.cpio" | head -1 | cut -d: -f1)
at=$(( (${at:-0} + 17 + 3) / 4 * 4 ))
tail -c +$((at + 1)) "$T/xz.cpio" | head -c "$(stat -c %s "$T/xzmod.plain")" >"$T/xzmod.member"
check "the image holds the plain module, byte for byte, and no .xz file" \
  'cmp -s "$T/xzmod.member" "$T/xzmod.plain" && ! grep -aq "\.ko\.xz" "$T/xz.cpio"'
load trunc trunc
check "a truncated xz module is refused" '[ $RC = 2 ] && grep -q "trunc.ko.xz: not a valid xz stream (liblzma error [0-9]*: truncated)" <<<"$OUT"'
load corrupt corrupt
check "a corrupt xz module is refused" '[ $RC = 2 ] && grep -q "corrupt.ko.xz: not a valid xz stream" <<<"$OUT"'
load trailing trailing
check "data after the xz stream is refused" '[ $RC = 2 ] && grep -q "trailing.ko.xz: data after the xz stream" <<<"$OUT"'
load huge huge
check "an xz module that decompresses past 64 MiB is refused" '[ $RC = 2 ] && grep -q "huge.ko.xz: decompresses to more than 64 MiB" <<<"$OUT"'
load zstd zmod
check "a zstd-compressed module is refused, named" '[ $RC = 2 ] && grep -q "zmod.ko.zst: compressed as zst; only plain and .xz" <<<"$OUT"'
OUT=$("$MK" "$T/x.cpio" "kmods:modules:$T/nowhere:top" 2>&1); RC=$?; LOAD=
check "a tree without modules.order is refused" '[ $RC = 2 ] && grep -q "no readable modules.order" <<<"$OUT"'
OUT=$("$MK" "$T/x.cpio" "kmods:modules" 2>&1); RC=$?
check "a malformed kmods entry is refused" '[ $RC = 2 ] && grep -q "want kmods:DIR:TREE:NAME" <<<"$OUT"'
OUT=$("$MK" "$T/x.cpio" "link:a:755" 2>&1); RC=$?
check "an unknown entry kind is refused" '[ $RC = 2 ] && grep -q "want dir:, file:, cdev: or kmods:" <<<"$OUT"'
echo "test_kmods: $n checks, $fails failures"
[ $fails -eq 0 ]
