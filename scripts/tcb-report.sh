#!/usr/bin/env bash
# tcb-report.sh BUILD_DIR - what the trusted computing base of a computation is made of, checked
# against its budgets (docs/tcb.md). Everything is derived from the build itself:
#   * files: the objects the linker put into strongbox-runtime (its link map, written by
#     cmake/tcb.cmake) and, when the guest image is built, into strongbox-init (PID 1 of the VM
#     platforms' guest image, src/guestinit), mapped back to their sources, plus the project
#     headers those include;
#   * lines: project-written lines without blanks and comments (comments removed by the C
#     preprocessor in -fpreprocessed mode, so strings and line continuations are handled right);
#   * libraries: the static archives in the link map (static build) or DT_NEEDED (dynamic), with
#     the Debian package versions the measurement depends on;
#   * system calls: the seccomp filter the runtime's own sandbox.c builds, exported as pseudo
#     filter code by tests/tcb/seccomp_dump.c (built from the same source, nothing copied).
# Two runtimes: the default one has the engine's compiled tier (src/wasm/jit) and its budgets are
# 25,000 lines and 16 system calls (mprotect, for W^X code pages); the interpreter-only runtime
# (-DSB_COMPILED_TIER=OFF) keeps 15,000 lines and 15 system calls. A default build's report also
# gives the interpreter-only runtime's figures (the same files without src/wasm/jit: an upper
# bound, since headers only the compiled tier includes stay counted; and the filter without
# generated code) and checks them against that runtime's budgets.
# Fails (exit 1) when a budget is exceeded or anything outside the trusted folders is linked in.
# Budgets can be overridden for experiments: TCB_MAX_LINES, TCB_MAX_SYSCALLS (this build's runtime).
# Tests feed doctored inputs with TCB_MAP (a link map) and TCB_PFC (filter code), and may keep the
# preprocessor passes' results for the next report in TCB_CACHE (a folder; the tree unchanged).
set -euo pipefail

INTERP_MAX_LINES=15000
INTERP_MAX_SYSCALLS=15
COMPILED_MAX_LINES=25000
COMPILED_MAX_SYSCALLS=16
TRUSTED="common wasm vfs wasi policy proto runtime tsm guestinit hpke cose"
# Libraries the runtime may contain besides the trusted folders (docs/tcb.md says why each).
ALLOWED_LIBS="libssl libcrypto libjansson libseccomp libc libm libgcc libgcc_eh libpthread libdl"

die() { echo "tcb-report: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: tcb-report.sh BUILD_DIR"
B=$(cd "$1" && pwd) || die "no build directory $1"
SRC=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$B/CMakeCache.txt" 2>/dev/null || true)
[ -n "$SRC" ] && [ -d "$SRC/src" ] || die "$B is not a configured strongbox build directory"
RT="$B/src/runtime/strongbox-runtime"
MAP=${TCB_MAP:-$RT.map}   # TCB_MAP: tests feed a doctored map
INIT="$B/src/guestinit/strongbox-init"   # the guest image's init (only in builds with the image)
DUMP="$B/tests/tcb/tcb-seccomp-dump"
for f in "$RT" "$MAP" "$DUMP"; do
  [ -f "$f" ] || die "missing $f (build the tree first: cmake --build $B)"
done
[ "$MAP" -nt "$RT" ] || [ ! "$RT" -nt "$MAP" ] || die "$MAP is older than the runtime"

failures=()
fail() { failures+=("$*"); }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcb-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# TCB_CACHE=DIR: the preprocessor passes' results (headers of a list of sources, code lines of a
# list of files) are kept in DIR by the list's hash and reused by the next report over the same,
# unchanged tree (tests/tcb/test_report.sh makes one report and seven doctored ones).
memo() {  # NAME LIST_FILE CMD... -> CMD's output, from the cache when there
  local name=$1 list=$2; shift 2
  [ -n "${TCB_CACHE:-}" ] || { "$@"; return; }
  local key; key="$TCB_CACHE/$name-$(sha256sum < "$list" | cut -c1-32)"
  [ -f "$key" ] || { "$@" > "$key.tmp.$$" && mv "$key.tmp.$$" "$key"; }
  cat "$key"
}

# ---- 1. what the linker put in: "LOAD obj" lines and "archive(member)" lines of the map.
# (A member line may carry the referencing file after it on the same line when the name is short.)
# Each line carries the folder the map's relative paths start from (the target's build folder).
map_members() {
  awk -v dir="$2" '/^LOAD [^ ]+\.o$/ { print "obj " $2 " - " dir }
     /^[^ \t]+\.a\([^)]+\)([ \t]|$)/ { m = $1; sub(/\)$/, "", m); n = index(m, "(")
                                   print "mem " substr(m, 1, n - 1) " " substr(m, n + 1) " " dir }' "$1"
}
{ map_members "$MAP" src/runtime
  if [ -f "$INIT.map" ]; then map_members "$INIT.map" src/guestinit; fi; } | sort -u > "$tmp/linked"

: > "$tmp/sources"
: > "$tmp/libmembers"
# A static runtime links thousands of members of a few archives: each distinct path is resolved
# once (realpath -m), not once per member.
declare -A resolved_of
resolve() {  # PATH -> $resolved
  [ -n "${resolved_of[$1]+set}" ] || resolved_of[$1]=$(realpath -m "$1")
  resolved=${resolved_of[$1]}
}
while read -r kind a b dir; do
  if [ "$kind" = obj ]; then
    case "$a" in /*) path=$a ;; *) resolve "$B/$dir/$a"; path=$resolved ;; esac
    case "$path" in
      "$B"/*) rel=${path#"$B"/}                             # dir/CMakeFiles/T.dir/file.c.o
              src="$SRC/${rel%%/CMakeFiles/*}/${rel#*/CMakeFiles/*.dir/}"; echo "${src%.o}" >> "$tmp/sources" ;;
      *) resolve "$path"; echo "$resolved startup" >> "$tmp/libmembers" ;;  # crt1.o, crti.o, crtbegin.o ...
    esac
  else
    case "$a" in /*) path=$a ;; *) resolve "$B/$dir/$a"; path=$resolved ;; esac
    case "$path" in
      "$B"/*) rel=${path#"$B"/}; adir=$(dirname "$rel"); lib=$(basename "$rel" .a); lib=${lib#lib}
              # Members are named by file only (jit/x64.c.o is x64.c.o): the target's object
              # folder says which source each came from (a name two sources share maps to both,
              # both then counted; objects left from a source since removed are ignored).
              objs=$(cd "$B/$adir/CMakeFiles/$lib.dir" 2>/dev/null && find . -name "$b" | sed 's|^\./||')
              found=0
              for o in $objs; do
                [ -f "$SRC/$adir/${o%.o}" ] && { echo "$SRC/$adir/${o%.o}" >> "$tmp/sources"; found=1; }
              done
              [ $found = 1 ] || echo "$SRC/$adir/${b%.o}" >> "$tmp/sources" ;;
      *) resolve "$path"; echo "$resolved $b" >> "$tmp/libmembers" ;;
    esac
  fi
done < "$tmp/linked"
sort -u -o "$tmp/sources" "$tmp/sources"

# ---- 2. project headers those sources include (the preprocessor's own dependency list).
: > "$tmp/files"
sources=()
while read -r s; do
  [ -f "$s" ] || { fail "linked object without a source in the tree: $s"; continue; }
  sources+=("$s")
done < "$tmp/sources"
headers_of() {  # SOURCE_LIST -> the project headers they include
  local list; mapfile -t list < "$1"
  # One compiler run for all sources (it preprocesses each on its own), one realpath for all.
  gcc -MM -D_GNU_SOURCE -I"$SRC/src" -I"$SRC/include" "${list[@]}" 2>/dev/null |
    tr ' \\' '\n\n' | sed -n "s|^$SRC/||p; /^[^/].*\.h$/p" | sed "s|^|$SRC/|" |
    tr '\n' '\0' | xargs -0 -r realpath -m
}
if [ ${#sources[@]} -gt 0 ]; then
  printf '%s\n' "${sources[@]}" > "$tmp/existing-sources"
  cat "$tmp/existing-sources" >> "$tmp/files"
  memo headers "$tmp/existing-sources" headers_of "$tmp/existing-sources" >> "$tmp/files"
fi
sort -u -o "$tmp/files" "$tmp/files"

# ---- 3. every file must come from a trusted folder; count lines per folder.
# Code lines of every file: comments removed by one preprocessor run over all files, each one
# after a marker line (a file that ended inside a comment or a line continuation would swallow the
# next marker: then each file is counted on its own). Raw lines: wc -l.
code_lines() {  # FILE_LIST -> "lines path" per file, in order
  local marker='#pragma sb_tcb_report_file' n
  n=$(wc -l < "$1")
  while read -r f; do printf '%s\n' "$marker"; cat "$f"; printf '\n'; done < "$1" |
    gcc -fpreprocessed -dD -E -P -x c - 2>/dev/null |
    awk -v m="$marker" '$0 == m { if (i++) print c; c = 0; next } /[^[:space:]]/ { c++ }
                        END { if (i) print c }' > "$tmp/code-counts" || true
  if [ "$(wc -l < "$tmp/code-counts")" -ne "$n" ]; then
    while read -r f; do
      gcc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null | grep -cv '^[[:space:]]*$' || true
    done < "$1" > "$tmp/code-counts"
  fi
  paste -d ' ' "$tmp/code-counts" "$1"
}
declare -A code raw nfiles
total=0 jit_lines=0
if grep -q "^$SRC/src/wasm/jit/" "$tmp/files"; then
  tier="compiled tier and interpreter"
  MAX_LINES=${TCB_MAX_LINES:-$COMPILED_MAX_LINES}
  MAX_SYSCALLS=${TCB_MAX_SYSCALLS:-$COMPILED_MAX_SYSCALLS}
else
  tier="interpreter only"
  MAX_LINES=${TCB_MAX_LINES:-$INTERP_MAX_LINES}
  MAX_SYSCALLS=${TCB_MAX_SYSCALLS:-$INTERP_MAX_SYSCALLS}
fi
echo "== strongbox-runtime TCB report ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "   engine: $tier"
[ -f "$INIT.map" ] && echo "   (with strongbox-init, the guest image's PID 1: src/guestinit)"
echo "-- files compiled into the runtime (code lines = without blanks and comments / raw lines)"
declare -A raw_of
while read -r r f; do [ "$f" = total ] || raw_of[$f]=$r; done < <(tr '\n' '\0' < "$tmp/files" | xargs -0 -r wc -l)
while read -r c f; do
  rel=${f#"$SRC"/}
  comp=${rel#*/}; comp=${comp%%/*}   # the folder under src/
  case " $TRUSTED " in
    *" $comp "*) [ "${rel%%/*}" = src ] || { fail "non-trusted file compiled in: $rel"; comp=UNTRUSTED; } ;;
    *) fail "non-trusted file compiled in: $rel"; comp=UNTRUSTED ;;
  esac
  r=${raw_of[$f]}
  printf '   %6d %6d  %s\n' "$c" "$r" "$rel"
  code[$comp]=$(( ${code[$comp]:-0} + c )); raw[$comp]=$(( ${raw[$comp]:-0} + r ))
  nfiles[$comp]=$(( ${nfiles[$comp]:-0} + 1 )); total=$((total + c))
  case "$rel" in src/wasm/jit/*) jit_lines=$((jit_lines + c)) ;; esac
done < <(memo lines "$tmp/files" code_lines "$tmp/files")
echo "-- project-written trusted lines per folder (code / raw, files)"
for comp in $TRUSTED UNTRUSTED; do
  [ -n "${code[$comp]:-}" ] || continue
  printf '   src/%-9s %6d / %6d  (%d files)\n' "$comp" "${code[$comp]}" "${raw[$comp]}" "${nfiles[$comp]}"
done
printf '   %-13s %6d lines (budget %d)\n' "total" "$total" "$MAX_LINES"
[ "$total" -le "$MAX_LINES" ] || fail "project-written trusted lines $total exceed the budget $MAX_LINES"
echo "-- both runtimes (code lines)"
if [ "$jit_lines" -gt 0 ]; then
  interp_total=$((total - jit_lines))
  printf '   %-40s %6d lines (budget %d; src/wasm/jit: %d)\n' "default runtime (compiled tier)" "$total" "$MAX_LINES" "$jit_lines"
  printf '   %-40s %6d lines (budget %d; without src/wasm/jit: an upper bound, headers only\n' "interpreter-only (-DSB_COMPILED_TIER=OFF)" "$interp_total" "$INTERP_MAX_LINES"
  echo "                                            the compiled tier includes are still counted)"
  [ "$interp_total" -le "$INTERP_MAX_LINES" ] ||
    fail "the interpreter-only runtime's $interp_total lines exceed its budget $INTERP_MAX_LINES"
else
  printf '   %-40s %6d lines (budget %d)\n' "interpreter-only (this build)" "$total" "$MAX_LINES"
  echo "   (the default runtime adds src/wasm/jit: build without -DSB_COMPILED_TIER=OFF to count it)"
fi
# Files in the trusted folders that are not compiled in (tooling, unused code) are listed, not counted.
for comp in $TRUSTED; do
  for f in "$SRC/src/$comp"/*.[ch] "$SRC/src/$comp"/*/*.[ch]; do [ -f "$f" ] && echo "$f"; done
done > "$tmp/trusted-files"
if [ -s "$tmp/trusted-files" ]; then
  tr '\n' '\0' < "$tmp/trusted-files" | xargs -0 realpath -m | paste -d '\t' - "$tmp/trusted-files" |
    awk -F '\t' -v src="$SRC/" 'NR == FNR { linked[$0] = 1; next }
      !($1 in linked) { print "   (not linked: " substr($2, length(src) + 1) ")" }' "$tmp/files" -
fi

# ---- 4. libraries: static archives from the map, or DT_NEEDED of a dynamic binary.
echo "-- libraries linked"
if readelf -d "$RT" | grep -q '(NEEDED)'; then
  linkage=dynamic
  readelf -d "$RT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' > "$tmp/libs"
  ldconfig -p > "$tmp/ldcache"
  while read -r so; do
    p=$(awk -v n="$so" '$1 == n { print $NF; exit }' "$tmp/ldcache")
    printf '   %-22s %s\n' "$so" "${p:-?}"; echo "$so ${p:-}" >> "$tmp/libpaths"
  done < "$tmp/libs"
else
  linkage=static
  awk '{ print $1 }' "$tmp/libmembers" | sort | uniq -c | while read -r n a; do
    printf '   %-48s %4d objects\n' "$a" "$n"
  done
  awk '{ print $1 }' "$tmp/libmembers" | sort -u > "$tmp/libs"
  awk '{ print $1, $1 }' "$tmp/libmembers" | sort -u > "$tmp/libpaths"
fi
while read -r lib; do
  base=$(basename "$lib"); base=${base%%.*}; base=${base%%-*}
  case "$(basename "$lib")" in *crt*.o) continue ;; esac   # C start-up files (libc6-dev, libgcc)
  case " $ALLOWED_LIBS " in *" $base "*) ;; *) fail "library not allowed in the runtime: $lib" ;; esac
done < "$tmp/libs"
echo "   linkage: $linkage"
echo "-- Debian packages the measurement depends on (dpkg-query)"
# (One dpkg-query for all files: each call reads the whole package database.)
{
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
  { awk '$2 != "" { print $2 }' "$tmp/libpaths" | sort -u | tr '\n' '\0' | xargs -0 -r realpath
    realpath "$(command -v "${cc:-cc}")"; } 2>/dev/null | tr '\n' '\0' |
    xargs -0 -r dpkg-query -S 2>/dev/null | grep -v '^diversion by' | cut -d: -f1 || true
  echo binutils-x86-64-linux-gnu; echo libc6-dev; echo linux-libc-dev
} | sed 's/,.*//' | sort -u | while read -r pkg; do
  [ -n "$pkg" ] && dpkg-query -W -f='   ${Package} ${Version}\n' "$pkg" 2>/dev/null
done

# ---- 5. the binary.
echo "-- binary"
bytes=$(stat -c %s "$RT")
stripped=$(strip -o "$tmp/stripped" "$RT" && stat -c %s "$tmp/stripped")
read -r text data bss _ < <(size "$RT" | tail -1)
echo "   file size       $bytes bytes (debug info included; $stripped bytes stripped)"
echo "   loaded          text $text, data $data, bss $bss bytes"
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$B/CMakeCache.txt")
echo "   build type      ${btype:-RelWithDebInfo (default)}"
echo "   measurement     $(sha256sum "$RT" | cut -d' ' -f1)  (process platform: SHA-256 of the binary)"

# ---- 6. system calls the sandbox allows (from the runtime's own filter).
echo "-- system calls allowed after the sandbox is installed (default: kill the process)"
if [ -n "${TCB_PFC:-}" ]; then cp "$TCB_PFC" "$tmp/pfc"   # TCB_PFC: tests feed doctored filter code
else "$DUMP" > "$tmp/pfc" || fail "tcb-seccomp-dump failed"; fi
grep -o 'filter for syscall "[^"]*"' "$tmp/pfc" | cut -d'"' -f2 | sort -u > "$tmp/syscalls"
nsys=$(wc -l < "$tmp/syscalls")
while read -r s; do
  cond=""
  awk -v s="\"$s\"" '$0 ~ "filter for syscall " s { on = 1; next } /filter for syscall/ { on = 0 }
                     on && /\$a[0-9]/ { found = 1 } END { exit !found }' "$tmp/pfc" && cond="  (argument-checked)"
  echo "   $s$cond"
done < "$tmp/syscalls"
printf '   %d system calls (budget %d)\n' "$nsys" "$MAX_SYSCALLS"
[ "$nsys" -gt 0 ] || fail "no system calls found in the filter dump"
[ "$nsys" -le "$MAX_SYSCALLS" ] || fail "allowed system calls $nsys exceed the budget $MAX_SYSCALLS"
# W^X: the argument checks of mmap and mprotect, read back from the filter code. Every rule on
# either call must mask PROT_WRITE|PROT_EXEC (6) or PROT_EXEC (4) and never accept both bits.
wx_rules() {  # FILE CALL -> "mask value" per rule on the prot argument ($a2)
  awk -v s="\"$2\"" '$0 ~ "filter for syscall " s { on = 1; next } /filter for syscall|default action/ { on = 0 }
       on && /\$a2\.lo32 & / { v = $6; gsub(/[^0-9xa-fA-F]/, "", v); print $4, v }' "$1"
}
wx_check() {  # FILE LABEL
  for call in mmap mprotect; do
    grep -q "filter for syscall \"$call\"" "$1" || continue
    rules=$(wx_rules "$1" $call)
    [ -n "$rules" ] || { fail "$2: $call is allowed without a check of its prot argument"; continue; }
    while read -r mask value; do
      m=$((mask)) v=$((value))
      if [ $((m & 4)) -eq 0 ] || { [ $((m & 2)) -eq 0 ] && [ $((v & 4)) -ne 0 ]; } || [ $((v & 6)) -eq 6 ]; then
        fail "$2: $call rule (prot & $mask == $value) may allow a writable and executable page"
      fi
    done <<< "$rules"
    printf '   %-9s prot & PROT_WRITE|PROT_EXEC never both: %s\n' "$call" "$(echo $rules | tr '\n' ' ')"
  done
}
echo "-- W^X rule: no page writable and executable at once (mmap/mprotect prot argument: mask value)"
wx_check "$tmp/pfc" "this runtime's filter"
if [ "$jit_lines" -gt 0 ]; then
  "$DUMP" --interpreter > "$tmp/pfc-interp" || fail "tcb-seccomp-dump --interpreter failed"
  nsys_interp=$(grep -o 'filter for syscall "[^"]*"' "$tmp/pfc-interp" | sort -u | wc -l)
  printf '   interpreter-only runtime: %d system calls (budget %d), no mprotect, mmap never PROT_EXEC\n' \
    "$nsys_interp" "$INTERP_MAX_SYSCALLS"
  [ "$nsys_interp" -le "$INTERP_MAX_SYSCALLS" ] ||
    fail "the interpreter-only runtime's $nsys_interp system calls exceed its budget $INTERP_MAX_SYSCALLS"
  ! grep -q 'filter for syscall "mprotect"' "$tmp/pfc-interp" ||
    fail "the interpreter-only filter allows mprotect"
  wx_check "$tmp/pfc-interp" "the interpreter-only filter"
fi

if [ ${#failures[@]} -ne 0 ]; then
  printf 'FAIL: %s\n' "${failures[@]}"
  exit 1
fi
echo "OK: within budgets ($total/$MAX_LINES lines, $nsys/$MAX_SYSCALLS system calls), only trusted folders and allowed libraries linked"
