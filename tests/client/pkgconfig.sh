#!/usr/bin/env bash
# Installs the client component into a temporary prefix and builds a program with only
# `pkg-config --cflags --libs strongbox`. usage: pkgconfig.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -eu
B=$1 S=$2 EXTRA=${3:-}
P=$(mktemp -d /tmp/sb-pc-XXXXXX)
trap 'rm -rf "$P"' EXIT
cmake --install "$B" --component client --prefix "$P" >/dev/null
test -f "$P/include/strongbox.h" && test -f "$P/lib/libstrongbox.a" && test -f "$P/lib/pkgconfig/strongbox.pc"
FLAGS=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs strongbox)
echo "pkg-config: $FLAGS"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $EXTRA "$S/pkgconfig_example.c" -o "$P/example" $FLAGS
"$P/example"
