# lib.sh - sourced by the example end-to-end tests (run-example.sh) and by scripts/demo.sh: starts
# a private attestation service and host on free loopback ports in a temp dir, runs CLI commands
# with bounded time, records checks, and cleans every process up on exit.
#
#   sbx_init BUILD_DIR [TMP_PREFIX]     sets SB HOSTD ATTESTD RUNTIME, makes $T, installs the trap
#   sbx_start_services                  attestd + host; sets AP (attestd port), HP (host port) and
#                                       MEASUREMENT (what the policy's runtimes entry must name)
# SBX_PLATFORM=kvm (default process) runs the isolates as micro-VMs booting BUILD/guest (the guest
# image; GUEST_KERNEL, GUEST_INITRD), with QEMU's accelerator SBX_ACCEL (default tcg: it works
# everywhere, also where /dev/kvm cannot boot the guest).
#   sbx_keygen NAME...                  keys and certificates in $T
#   sbx_sb DESC WANT_RC WANT_TEXT ARGS  one CLI call in $T (60 s at most), output in $OUT, checked
#   sbx_check DESC SHELL_CONDITION [DETAIL]
#   sbx_summary                         prints the tally; returns non-zero when a check failed
# Processes started here are killed by their ids on exit; $T is removed unless a check failed (then
# its logs are kept and named).

sbx_init() {
  local b prefix=${2:-sb-example}
  b=$(cd "$1" && pwd) || exit 2
  SB=$b/src/cli/strongbox
  HOSTD=$b/src/host/strongbox-host
  ATTESTD=$b/src/attestd/strongbox-attestd
  RUNTIME=$b/src/runtime/strongbox-runtime
  GUEST_KERNEL=$b/guest/vmlinuz
  GUEST_INITRD=$b/guest/initrd.cpio
  SBX_PLATFORM=${SBX_PLATFORM:-process}
  SBX_ACCEL=${SBX_ACCEL:-tcg}
  for f in "$SB" "$HOSTD" "$ATTESTD" "$RUNTIME"; do
    [ -x "$f" ] || { echo "missing $f (build the project first)" >&2; exit 2; }
  done
  if [ "$SBX_PLATFORM" = kvm ]; then
    for f in "$GUEST_KERNEL" "$GUEST_INITRD"; do
      [ -f "$f" ] || { echo "missing $f (scripts/setup.sh, then build target guest-image)" >&2; exit 2; }
    done
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/$prefix-XXXXXX")
  SBX_PIDS=()
  SBX_FAILED=0
  SBX_PASSED=0
  SBX_KEEP=${SBX_KEEP:-}
  trap sbx_cleanup EXIT
  trap 'exit 130' INT TERM
}

sbx_cleanup() {
  local p kids=()
  # The host's children too (isolates, a launch in progress), by their ids, in case the host
  # cannot pass the signal on.
  for p in "${SBX_PIDS[@]}"; do kids+=($(ps -o pid= --ppid "$p" 2>/dev/null)); done
  for p in "${SBX_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${SBX_PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  for p in "${kids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$SBX_FAILED" -eq 0 ] && [ -z "$SBX_KEEP" ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}

sbx_pass() { SBX_PASSED=$((SBX_PASSED + 1)); echo "ok   - $1"; }
sbx_fail() {
  SBX_FAILED=$((SBX_FAILED + 1))
  echo "FAIL - $1"
  if [ -n "${2:-}" ]; then sed 's/^/       /' <<<"$2"; fi
}

sbx_check() { if eval "$2"; then sbx_pass "$1"; else sbx_fail "$1" "${3:-}"; fi; }

sbx_wait_file() {
  for _ in $(seq 1 300); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "timed out waiting for $1" >&2
  return 1
}

sbx_pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
sbx_sha() { sha256sum "$1" | cut -d' ' -f1; }

# The attestation service with the host's device key and the runtime's measurement registered, then
# one host. Both bind port 0 and report their ports through files.
sbx_start_services() {
  mkdir -p "$T/attestd"
  "$ATTESTD" --state "$T/attestd" --port 0 --port-file "$T/attestd.port" >"$T/attestd.log" 2>&1 &
  SBX_PIDS+=($!)
  sbx_wait_file "$T/attestd.port" || exit 1
  AP=$(cat "$T/attestd.port")
  local admin reg
  admin=$(cat "$T/attestd/admin.token")
  "$HOSTD" --init-key "$T/host.key" >"$T/host.pub" || { echo "host --init-key failed" >&2; exit 1; }
  local isolate=(--runtime "$RUNTIME")
  MEASUREMENT=$(sbx_sha "$RUNTIME")
  if [ "$SBX_PLATFORM" = kvm ]; then
    isolate=(--platform kvm --accel "$SBX_ACCEL" --guest-kernel "$GUEST_KERNEL" --guest-initrd "$GUEST_INITRD")
    MEASUREMENT=$("$SB" measure --platform kvm --accel "$SBX_ACCEL" --guest-kernel "$GUEST_KERNEL" \
      --guest-initrd "$GUEST_INITRD") || { echo "strongbox measure --platform kvm failed" >&2; exit 1; }
  fi
  reg=$(curl -sS --max-time 10 -H "Authorization: Bearer $admin" -X POST \
    --data "{\"id\":\"host1\",\"platform\":\"$SBX_PLATFORM\",\"public_key\":\"$(sbx_pem_json "$T/host.pub")\"}" \
    "http://127.0.0.1:$AP/v1/admin/devices"
    curl -sS --max-time 10 -H "Authorization: Bearer $admin" -X POST \
    --data "{\"platform\":\"$SBX_PLATFORM\",\"measurement\":\"$MEASUREMENT\"}" \
    "http://127.0.0.1:$AP/v1/admin/measurements")
  grep -q registered <<<"$reg" && grep -q added <<<"$reg" ||
    { echo "registering with the attestation service failed: $reg" >&2; exit 1; }
  cp "$T/attestd/ca.pem" "$T/attest-root.pem"
  "$HOSTD" --listen 127.0.0.1:0 --port-file "$T/host.port" "${isolate[@]}" \
    --attest-key "$T/host.key" --log "$T/host.log" --max-isolates 4 ${SBX_HOST_FLAGS:-} &
  SBX_PIDS+=($!)
  SBX_HOST_PID=$!
  sbx_wait_file "$T/host.port" || exit 1
  HP=$(cat "$T/host.port")
}

sbx_keygen() {
  local who
  for who in "$@"; do
    (cd "$T" && "$SB" keygen --name "$who" --dir . >/dev/null) || { echo "keygen $who failed" >&2; exit 1; }
  done
}

# sbx_sb DESC WANT_RC WANT_TEXT ARGS... : the CLI in $T with a time bound; checks the exit code and
# that stdout+stderr contains WANT_TEXT (empty: anything). Output left in $OUT.
sbx_sb() {
  local desc=$1 want_rc=$2 want=$3 rc
  shift 3
  OUT=$(cd "$T" && timeout 60 "$SB" "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$want_rc" ] && { [ -z "$want" ] || grep -qF -- "$want" <<<"$OUT"; }; then
    sbx_pass "$desc"
  else
    sbx_fail "$desc (exit $rc, wanted $want_rc and '$want')" "$OUT"
  fi
}

sbx_summary() {
  echo "$1: $SBX_PASSED passed, $SBX_FAILED failed"
  [ "$SBX_FAILED" -eq 0 ]
}
