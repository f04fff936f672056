#!/usr/bin/env bash
# soak.sh BUILD_DIR ECHO_WASM [--seconds T] [--parties N] [--computations M] [--seed S]
#         [--slow-party 0|1]   (0: no slow/stalled reader, to tell its stalls from the others)
#         [--big-mib N]        (what the slow party puts and reads; default 24)
#
# The fault and soak harness (docs/soak.md): strongbox-attestd with its state on a small tmpfs,
# one strongbox-host running process isolates, N parties (keys) and M computations (one policy
# each, deployed), then tests/soak/soak.c drives the load and the faults for T seconds and prints
# the figures. Defaults come from SOAK_SECONDS, SOAK_PARTIES, SOAK_COMPUTATIONS, SOAK_SEED (600,
# 8, 4, random); the seed is printed so a run can be repeated. Exit status 0 only when nothing
# acknowledged was lost, no party that was not stalling itself stalled over 5 s, every failure had
# an error message, no isolate died that the harness did not kill, and every fault kind happened.
#
# Needs root: the tmpfs is mounted in a private mount namespace (`unshare -m`), so nothing is
# mounted outside this run. Services come from tests/examples-e2e/lib.sh (free loopback ports,
# processes killed by their ids, logs kept in the temp dir when the run fails).
set -u
B=$1 ECHO_WASM=$2
shift 2
RUN_SECONDS=${SOAK_SECONDS:-600} PARTIES=${SOAK_PARTIES:-8} COMPS=${SOAK_COMPUTATIONS:-4}
SEED=${SOAK_SEED:-} SLOW=${SOAK_SLOW_PARTY:-1} BIG_MIB=${SOAK_BIG_MIB:-24}
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) RUN_SECONDS=$2 ;;
    --parties) PARTIES=$2 ;;
    --computations) COMPS=$2 ;;
    --seed) SEED=$2 ;;
    --slow-party) SLOW=$2 ;;
    --big-mib) BIG_MIB=$2 ;;
    *) echo "usage: soak.sh BUILD_DIR ECHO_WASM [--seconds T] [--parties N] [--computations M]" \
            "[--seed S] [--slow-party 0|1] [--big-mib N]" >&2
       exit 2 ;;
  esac
  shift 2
done
[ -n "$SEED" ] || SEED=$(( (RANDOM << 15) | RANDOM ))
in_range() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
in_range "$RUN_SECONDS" 1 86400 && in_range "$PARTIES" 2 64 && in_range "$COMPS" 1 16 &&
  [[ "$SEED" =~ ^[0-9]{1,19}$ ]] && in_range "$BIG_MIB" 1 64 &&
  [[ "$SLOW" =~ ^[01]$ ]] || {
  echo "soak: want 1..86400 seconds, 2..64 parties, 1..16 computations, a decimal seed, --big-mib" \
       "1..64 and --slow-party 0 or 1" >&2
  exit 2
}

if [ -z "${SB_SOAK_IN_NAMESPACE:-}" ]; then
  if ! unshare -m --propagation private true 2>/dev/null; then
    echo "soak: FAIL - cannot create a private mount namespace (unshare -m): the harness needs" \
         "root to put attestd's state on a tmpfs it can fill; nothing was tested" >&2
    exit 1
  fi
  SB_SOAK_IN_NAMESPACE=1 exec unshare -m --propagation private bash "$0" "$B" "$ECHO_WASM" \
    --seconds "$RUN_SECONDS" --parties "$PARTIES" --computations "$COMPS" --seed "$SEED" \
    --slow-party "$SLOW" --big-mib "$BIG_MIB"
fi

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../examples-e2e/lib.sh"
DRIVER=$B/tests/soak/soak_driver
[ -x "$DRIVER" ] && [ -s "$ECHO_WASM" ] || { echo "missing $DRIVER or $ECHO_WASM (build them)" >&2; exit 2; }
echo "soak: seed $SEED, $PARTIES parties x $COMPS computations, $RUN_SECONDS s (repeat: --seed $SEED)"

sbx_init "$B" sb-soak
mkdir -p "$T/attestd"
if ! mount -t tmpfs -o size=16m,mode=0700 sb-soak-attestd "$T/attestd"; then
  echo "soak: FAIL - cannot mount a tmpfs for attestd's state; nothing was tested" >&2
  exit 1
fi
# lazily unmounted first, so that lib.sh's cleanup can remove the directory
trap 'umount -l "$T/attestd" 2>/dev/null; sbx_cleanup' EXIT
SBX_HOST_FLAGS="--max-isolates $((COMPS + 2)) ${SOAK_HOST_FLAGS:-}" # e.g. --sanitizer-compat
sbx_start_services
ATTESTD_PID=${SBX_PIDS[0]}
PARTY_NAMES=$(seq -f 'p%g' 0 $((PARTIES - 1)))
sbx_keygen $PARTY_NAMES

# One policy per computation: every party may write its own /inputs/pX and upload the program.
identities() {
  local p sep=""
  for p in $PARTY_NAMES; do
    printf '%s{"name": "%s", "certificate": "%s", "rights": {"/inputs/%s": "rw", "/programs": "wx", "/results": "r"}}' \
      "$sep" "$p" "$(sbx_pem_json "$T/$p.crt")" "$p"
    sep=$',\n    '
  done
}
IDS=$(identities)
EXPIRES=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
for c in $(seq 0 $((COMPS - 1))); do
  cat >"$T/c$c.json" <<JSON
{
  "version": 1,
  "name": "soak-c$c",
  "identities": [
    $IDS
  ],
  "programs": [
    {"path": "/programs/echo.wasm", "sha256": "$(sbx_sha "$ECHO_WASM")", "rights": {}}
  ],
  "results": ["/results"],
  "runtimes": {"allow_debug": true, "platforms": {"process": ["$(sbx_sha "$RUNTIME")"]}},
  "attestation": {"url": "http://127.0.0.1:$AP", "root_certificate": "$(sbx_pem_json "$T/attest-root.pem")"},
  "host": "127.0.0.1:$HP",
  "limits": {"fuel": 100000000, "memory_bytes": 16777216, "run_seconds": 5,
             "fs_bytes": $(( (8 + BIG_MIB + 4 * PARTIES) << 20 )), "output_bytes": 65536},
  "clock": false,
  "expires": "$EXPIRES",
  "shutdown": {"quorum": {"members": ["p0", "p1"], "count": 2}}
}
JSON
done

"$DRIVER" --dir "$T" --cli "$SB" --attestd "$ATTESTD" --program "$ECHO_WASM" \
  --attestd-port "$AP" --attestd-pid "$ATTESTD_PID" --host-port "$HP" --parties "$PARTIES" \
  --computations "$COMPS" --seconds "$RUN_SECONDS" --seed "$SEED" --slow-party "$SLOW" \
  --big-mib "$BIG_MIB"
RC=$?
[ "$RC" -eq 0 ] || SBX_FAILED=1 # keeps the logs
exit "$RC"
