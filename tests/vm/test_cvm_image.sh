#!/usr/bin/env bash
# test_cvm_image.sh BUILD cvm|modules - boots guest images under QEMU's TCG (no SEV or TDX here)
# and reads what strongbox-init prints on the console.
#   cvm      the sev-snp/tdx image (BUILD/guest-cvm: backports' generic 6.12 kernel; configfs,
#            tsm, sev-guest, tdx-guest modules) on q35 with the host's command line, by direct
#            kernel boot (as the host does; no firmware: the CVM's OVMF/TDVF is not in Debian). Its
#            modules load from /modules/load (sev-guest and tdx-guest answer ENODEV outside their
#            TEE, which init accepts), the channel port is found (virtio-pci works), and init then
#            finds no TEE report device (configfs-tsm's report folder is there, tsm being loaded,
#            but no TEE driver registered with it) and powers off saying so. Booted with the kvm platform word instead (the debug path:
#            a different, measured command line) the same image reaches the runtime.
#   modules  strongbox-init's module-loading errors, on the kvm image (cloud kernel, microvm:
#            the cheaper boot): a module that is not an ELF, a listed module that is missing, a
#            list line naming a path, an over-long list. Each ends the VM with a clear message.
# The console is the only output: init's messages go there, never party data.
set -u
B=$1 MODE=$2
QEMU=${SB_QEMU:-/usr/bin/qemu-system-x86_64}
CMDLINE="$B/tests/vm/test_measure --print-cmdline"
MK=$B/src/guestimage/sb-mkinitramfs
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-cvm-image.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0

# boot NAME MACHINE SERIAL_DEVICE KERNEL INITRD APPEND: the console in $T/NAME.out, QEMU's status
# in RC. The channel port's host side is a null chardev: the runtime, if reached, sees its
# channel closed and exits; init passes that status out through isa-debug-exit ((v << 1) | 1).
boot() {
  local start=$SECONDS
  timeout 180 "$QEMU" -accel tcg -M "$2" -cpu max -smp 1 -m 512M -nodefaults -no-user-config \
    -nographic -no-reboot -kernel "$4" -initrd "$5" -append "$6" \
    -chardev stdio,id=console,signal=off -serial chardev:console \
    -chardev null,id=channel -device "$3" -device virtserialport,chardev=channel,name=sb.channel \
    -device isa-debug-exit,iobase=0xf4,iosize=1 </dev/null >"$T/$1.out" 2>&1
  RC=$?
  echo "boot $1: QEMU exit $RC after $((SECONDS - start)) s"
}
# check NAME DESCRIPTION WANT_RC FIXED_STRING [ABSENT_STRING]
check() {
  n=$((n + 1))
  if [ "$RC" != "$3" ] || ! grep -qF -- "$4" "$T/$1.out" ||
     { [ -n "${5:-}" ] && grep -qF -- "$5" "$T/$1.out"; }; then
    fails=$((fails + 1))
    echo "FAIL: $2 (QEMU exit $RC, want $3; want '$4'${5:+, not '$5'}); console:"
    tail -c 2000 "$T/$1.out" | tr -d '\033' | sed 's/^/  | /'
  else
    echo "ok - $2"
  fi
}

case $MODE in
cvm)
  IMG=$B/guest-cvm
  PCI=virtio-serial-pci,disable-legacy=on,iommu_platform=true # as src/platform/cvm.c
  for p in sev-snp tdx; do
    boot $p q35 $PCI "$IMG/vmlinuz" "$IMG/initrd.cpio" "$($CMDLINE $p)"
    check $p "$p command line, no TEE: init names the missing report device and powers off" 0 \
      "strongbox-init: platform $p: no TEE report interface (/dev/$([ $p = tdx ] && echo tdx_guest || echo sev-guest)" \
      "no virtio-serial port"
  done
  # The runtime, reached: the kvm word on the same kernel, initrd and q35 machine.
  boot debug q35 $PCI "$IMG/vmlinuz" "$IMG/initrd.cpio" "$($CMDLINE sev-snp | sed 's/-- sev-snp$/-- kvm/')"
  check debug "the CVM image with the kvm word reaches the runtime (exit 0 passed out)" 3 \
    "strongbox-init: runtime exited with status 0"
  ;;
modules)
  IMG=$B/guest
  MMIO=virtio-serial-device
  APPEND=$($CMDLINE tcg)
  overlay() { # NAME ENTRY...: the kvm initrd with a second archive whose files replace its own
    "$MK" "$T/$1.extra" "${@:2}" || exit 1
    cat "$IMG/initrd.cpio" "$T/$1.extra" >"$T/$1.cpio"
  }
  printf 'not an ELF file\n' >"$T/garbage"
  overlay bad "file:modules/virtio_console.ko:644:$T/garbage"
  boot bad microvm,pit=on $MMIO "$IMG/vmlinuz" "$T/bad.cpio" "$APPEND"
  check bad "a module that is not an ELF: named, powered off" 0 \
    "strongbox-init: /modules/virtio_console.ko: Exec format error; powering off" "runtime exited"
  printf 'virtio_ring.ko\nabsent.ko\n' >"$T/missing.list"
  overlay missing "file:modules/load:644:$T/missing.list"
  boot missing microvm,pit=on $MMIO "$IMG/vmlinuz" "$T/missing.cpio" "$APPEND"
  check missing "a listed module the image lacks: named, powered off" 0 \
    "strongbox-init: /modules/absent.ko: No such file or directory; powering off" "runtime exited"
  printf 'virtio_ring.ko\n../init\n' >"$T/path.list"
  overlay path "file:modules/load:644:$T/path.list"
  boot path microvm,pit=on $MMIO "$IMG/vmlinuz" "$T/path.cpio" "$APPEND"
  check path "a list line that is a path: refused" 0 \
    "strongbox-init: /modules/load: want one module file name a line: Invalid argument" "runtime exited"
  head -c 3000 /dev/zero | tr '\0' 'a' >"$T/long.list"
  overlay long "file:modules/load:644:$T/long.list"
  boot long microvm,pit=on $MMIO "$IMG/vmlinuz" "$T/long.cpio" "$APPEND"
  check long "a list over 2 KiB: refused" 0 "strongbox-init: /modules/load: File too large" \
    "runtime exited"
  ;;
*) echo "usage: test_cvm_image.sh BUILD cvm|modules" >&2; exit 2 ;;
esac
echo "test_cvm_image $MODE: $n checks, $fails failures"
[ $fails -eq 0 ]
