#!/usr/bin/env bash
# Runs the first ```sh block under the first heading containing "Walkthrough" of a Markdown file,
# as a user would paste it: a fresh shell (clean environment) in ROOT, every line checked (set -e),
# with B pointing at the build directory under test. Background daemons the block started are
# ended afterwards, by their ids, whether it passed or not.
# usage: walkthrough.sh MARKDOWN_FILE ROOT BUILD_DIR
set -u
MD=$1 ROOT=$(cd "$2" && pwd)
B=$(realpath --relative-to="$ROOT" "$3") # as typed at the root: B=build/demo
BLOCK=$(awk '
  /^#+ .*Walkthrough/ { inside_section = 1; next }
  inside_section && !in_block && /^```sh[[:space:]]*$/ { in_block = 1; next }
  in_block && /^```[[:space:]]*$/ { exit }
  in_block { print }' "$MD")
[ -n "$BLOCK" ] || { echo "no \`\`\`sh block under a 'Walkthrough' heading in $MD"; exit 1; }
SCRATCH=$(mktemp -d /tmp/sb-walkthrough-XXXXXX) # the block's TMPDIR: its mktemp folders go here
LOG=$SCRATCH/log
trap 'rm -rf "$SCRATCH"' EXIT
# The block runs in its own bash; on any exit that bash ends the jobs it started.
SCRIPT="set -e -o pipefail
trap 'rc=\$?; set +e; for p in \$(jobs -p); do kill \"\$p\" 2>/dev/null; done; wait; exit \$rc' EXIT
$BLOCK"
(cd "$ROOT" && env -i HOME="${HOME:-/root}" PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb TMPDIR="$SCRATCH" B="$B" \
   timeout "${SB_WALKTHROUGH_TIMEOUT:-240}" bash ${SB_WALKTHROUGH_TRACE:+-x} -c "$SCRIPT") >"$LOG" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAIL - the walkthrough of $MD stopped with exit $rc; its output:"
  sed 's/^/       /' "$LOG"
  exit 1
fi
[ -z "${SB_WALKTHROUGH_SHOW:-}" ] || cat "$LOG"
echo "ok   - the walkthrough of $MD ran as written ($(grep -c . <<<"$BLOCK") lines)"
[ -z "${SB_WALKTHROUGH_EXPECT:-}" ] || grep -qF -- "$SB_WALKTHROUGH_EXPECT" "$LOG" ||
  { echo "FAIL - its output lacks '$SB_WALKTHROUGH_EXPECT'"; sed 's/^/       /' "$LOG"; exit 1; }
