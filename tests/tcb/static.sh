#!/usr/bin/env bash
# static.sh SRC BUILD - cppcheck and clang-tidy on the trusted folders, zero findings.
#
# Both run on the sources of src/{common,wasm,vfs,wasi,policy,proto,runtime,tsm,guestinit,hpke}
# and their subfolders (src/wasm/jit), and the runtime's part of src/cose (cbor.c, sign1.c:
# receipts) with the exact
# flags of BUILD/compile_commands.json. clang-tidy's check set is SRC/.clang-tidy (each excluded
# check says why there). A finding passes only if tests/tcb/static-reviewed.txt lists it (file,
# check and the flagged line's text) with a justification. Exit 77 (ctest: skipped) only when a
# tool is missing; scripts/setup.sh installs both.
set -uo pipefail
SRC=$1 BUILD=$2
TRUSTED="common wasm vfs wasi policy proto runtime tsm guestinit hpke"
for tool in cppcheck clang-tidy; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup.sh installs it)"; exit 77; }
done
db="$BUILD/compile_commands.json"
[ -f "$db" ] || { echo "FAIL: $db missing (cmake/tcb.cmake turns CMAKE_EXPORT_COMPILE_COMMANDS on)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcb-static.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
files=()
# Subfolders too: src/wasm/jit (the compiled tier) is part of the default runtime.
shopt -s nullglob
for d in $TRUSTED; do files+=("$SRC"/src/$d/*.c "$SRC"/src/$d/*/*.c); done
shopt -u nullglob
files+=("$SRC"/src/cose/cbor.c "$SRC"/src/cose/sign1.c) # cose.c (decoding) is not linked in
jobs=2

# Findings as "path:line:col: message [check]" lines.
cppcheck --quiet --enable=warning,portability,performance --inline-suppr --std=c11 \
  -D__GNUC__ -D_GNU_SOURCE -I"$SRC/src" -j$jobs \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' "${files[@]}" \
  > /dev/null 2> "$tmp/cppcheck"
printf '%s\n' "${files[@]}" | xargs -P$jobs -n1 clang-tidy -p "$BUILD" --quiet \
  --config-file="$SRC/.clang-tidy" > "$tmp/tidy" 2> /dev/null
grep -hE '^[^ ]+:[0-9]+:[0-9]+: (warning|error|style|performance|portability)[^[]*\[[^]]+\]$' \
  "$tmp/cppcheck" "$tmp/tidy" | sort -u > "$tmp/findings"

reviewed="$SRC/tests/tcb/static-reviewed.txt"
trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }
count=0 accepted=0
while IFS= read -r f; do
  path=${f%%:*}; rest=${f#*:}; line=${rest%%:*}
  check=${f##*[}; check=${check%]}
  rel=$(realpath -m --relative-to="$SRC" "$path")
  text=$(sed -n "${line}p" "$path" | trim)
  # (values through the environment: awk -v would interpret backslashes such as '\0')
  if grep -v '^#' "$reviewed" | P=$rel C=$check T=$text awk -F'@@' '
       { for (i = 1; i <= 3; i++) gsub(/^[ \t]+|[ \t]+$/, "", $i) }
       $1 == ENVIRON["P"] && $2 == ENVIRON["C"] && $3 == ENVIRON["T"] { found = 1 }
       END { exit !found }'; then
    accepted=$((accepted + 1))
  else
    echo "${f#"$SRC"/}"; echo "    $text"; count=$((count + 1))
  fi
done < "$tmp/findings"
echo "static analysis of ${#files[@]} trusted sources: $count findings, $accepted reviewed (tests/tcb/static-reviewed.txt)"
[ $count -eq 0 ]
