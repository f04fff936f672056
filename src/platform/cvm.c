/* cvm.c - QEMU command lines of the confidential-VM platforms, sev-snp and tdx.
 *
 * Only the command line is here (no ops table yet: bookworm's QEMU 7.2 has neither
 * sev-snp-guest nor tdx-guest, and these machines have neither CPU). Everything that enters the
 * launch measurement is fixed or comes from the caller, who must use the same values when it
 * computes the expected measurement (src/measure): firmware, kernel, initrd, command line, vCPU
 * count and model. Like the kvm platform: no NIC, no disk, one virtio-serial port on the
 * socketpair (descriptor 3), kernel and initrd from sealed memfds (descriptors 4 and 5).
 *
 * sev-snp: q35 with `sev-snp-guest`, kernel-hashes=on (OVMF puts the SHA-256 of kernel, initrd
 *   and command line in the measured hash table), the fixed guest policy SB_SNP_POLICY (SMT
 *   allowed; debug, migration agent and single-socket off), cbitpos 51, reduced-phys-bits 1,
 *   an EPYC vCPU model, firmware = an AmdSev OVMF (`-bios`). virtio devices use the IOMMU
 *   platform feature so that the guest bounces DMA through shared pages.
 * tdx: q35 with `tdx-guest` (attributes: no DEBUG), split irqchip, no HPET, SMM or PIC (as the
 *   measured TD shape expects), `-cpu host`, firmware = TDVF (`-bios`). */
#include "platform/platform_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sb_platform_cvm_argv(const sb_cvm_launch *l, char ***argv_out, sb_err *err)
{
    *argv_out = NULL;
    int snp = l->platform && strcmp(l->platform, "sev-snp") == 0;
    int tdx = l->platform && strcmp(l->platform, "tdx") == 0;
    if (!snp && !tdx)
        return sb_err_set(err, EINVAL, "no confidential-VM command line for platform '%s'",
                          l->platform ? l->platform : "(none)");
    if (!l->qemu || !l->firmware || !l->cmdline)
        return sb_err_set(err, EINVAL, "%s: QEMU, firmware and kernel command line are needed",
                          l->platform);
    if (l->vcpus < 1 || l->vcpus > 64 || l->memory_mib < 256 || l->memory_mib > (1u << 20))
        return sb_err_set(err, EINVAL, "%s: want 1-64 vCPUs and 256 MiB - 1 TiB of memory",
                          l->platform);
    if (snp && (!l->vcpu_type || strncmp(l->vcpu_type, "EPYC", 4) != 0 ||
                strpbrk(l->vcpu_type, ", =")))
        return sb_err_set(err, EINVAL, "sev-snp: the vCPU model must be an EPYC model (measured: "
                          "it defines the VMSA), not '%s'", l->vcpu_type ? l->vcpu_type : "");
    char smp[16], mem[32], kernel[32], initrd[32], chardev[64], port[128], object[160], ram[96];
    snprintf(smp, sizeof smp, "%u", l->vcpus);
    snprintf(mem, sizeof mem, "%lluM", l->memory_mib);
    snprintf(ram, sizeof ram, "memory-backend-memfd,id=ram0,size=%lluM,share=true",
             l->memory_mib);
    snprintf(kernel, sizeof kernel, "/proc/self/fd/%d", SB_KVM_QEMU_KERNEL_FD);
    snprintf(initrd, sizeof initrd, "/proc/self/fd/%d", SB_KVM_QEMU_INITRD_FD);
    snprintf(chardev, sizeof chardev, "socket,id=channel,fd=%d", SB_KVM_QEMU_CHANNEL_FD);
    snprintf(port, sizeof port, "virtserialport,chardev=channel,name=%s", SB_CVM_PORT_NAME);
    if (snp)
        snprintf(object, sizeof object, "sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1,"
                 "policy=0x%llx,kernel-hashes=on", (unsigned long long)SB_SNP_POLICY);
    else
        snprintf(object, sizeof object, "tdx-guest,id=cvm0");
    const char *machine = snp ? "q35,confidential-guest-support=cvm0,memory-backend=ram0,vmport=off"
                              : "q35,confidential-guest-support=cvm0,memory-backend=ram0,"
                                "kernel-irqchip=split,hpet=off,smm=off,pic=off";
    const char *const args[] = {
        l->qemu, "-accel", "kvm", "-M", machine, "-object", object, "-object", ram,
        "-cpu", snp ? l->vcpu_type : "host", "-smp", smp, "-m", mem, "-bios", l->firmware,
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-kernel", kernel, "-initrd", initrd, "-append", l->cmdline,
        "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
        "-chardev", chardev,
        "-device", "virtio-serial-pci,disable-legacy=on,iommu_platform=true",
        "-device", port,
    };
    return sb_platform_argv_pack(args, sizeof args / sizeof *args, argv_out, err);
}
