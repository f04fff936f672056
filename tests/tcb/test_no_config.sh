#!/usr/bin/env bash
# test_no_config.sh RUNTIME - the runtime never reads an OpenSSL configuration file.
# OPENSSL_CONF is in the environment the (untrusted) host gives the runtime; a configuration can
# load provider modules, i.e. code outside the measurement. OPENSSL_CONF points at a FIFO with no
# writer: opening it would block, so a runtime that reads it hangs instead of ending at the end of
# its (empty) channel.
set -uo pipefail
RUNTIME=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/tcb-conf.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/openssl.cnf"
timeout 20 env OPENSSL_CONF="$dir/openssl.cnf" "$RUNTIME" --channel-fd 0 < /dev/null
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL: strongbox-runtime opened OPENSSL_CONF (it blocked on the FIFO)"; exit 1
fi
[ $rc -eq 0 ] || { echo "FAIL: strongbox-runtime exited $rc at the end of an empty channel"; exit 1; }
echo "ok: OPENSSL_CONF is ignored; the runtime ended cleanly at end of channel"
