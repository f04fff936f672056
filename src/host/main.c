/* strongbox-host - the untrusted host daemon (see docs/host.md). */
#include "host/host.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox-host --runtime PATH --attest-key KEY.pem [options]\n"
            "       strongbox-host --platform kvm --guest-kernel K --guest-initrd I --attest-key KEY.pem [options]\n"
            "       strongbox-host --platform sev-snp|tdx --firmware FW --qemu Q --guest-kernel K --guest-initrd I [options]\n"
            "       strongbox-host --init-key KEY.pem\n"
            "       strongbox-host admin [--socket PATH] list|show HASH|stop HASH [REASON]\n\n"
            "  --listen ADDR:PORT      party/deploy port (default 127.0.0.1:7433; port 0 = any)\n"
            "  --port-file FILE        write the bound port there\n"
            "  --runtime PATH          strongbox-runtime binary (measured, exec'd per isolate)\n"
            "  --platform NAME         isolate backend: process (default), kvm, sev-snp or tdx\n"
            "  --accel kvm|tcg         kvm: QEMU accelerator (default kvm; tcg emulates, slowly)\n"
            "  --qemu PATH             VMs: QEMU binary (default qemu-system-x86_64; sev-snp needs\n"
            "                          QEMU >= 9.1, tdx >= 10.1)\n"
            "  --guest-kernel FILE     VMs: the guest image's kernel (BUILD/guest/vmlinuz)\n"
            "  --guest-initrd FILE     VMs: its initramfs (BUILD/guest/initrd.cpio)\n"
            "  --firmware FILE         sev-snp, tdx (required): AmdSev OVMF or TDVF (measured)\n"
            "  --vcpus N               sev-snp, tdx: vCPUs per VM, 1-64 (default 1; measured)\n"
            "  --vcpu-type NAME        sev-snp: EPYC vCPU model (default EPYC-v4; measured)\n"
            "  --attest-key FILE       the host's attestation key (process-platform evidence)\n"
            "  --attestd URL           use this attestation service URL instead of the policy's\n"
            "  --max-isolates N        live isolates at once (default 64)\n"
            "  --max-memory MIB        sum of isolate memory budgets (default 8192)\n"
            "  --isolate-overhead MIB  added to a policy's memory limit per isolate (default 256)\n"
            "  --sanitizer-compat      tests of ASan builds only: no RLIMIT_AS, own /proc\n"
            "  --no-splice             relay with read/write instead of splice(2) (tests)\n"
            "  --ready-timeout S       launch-to-attested limit (default process 30, kvm 60, tcg 120)\n"
            "  --log FILE              append log lines there (default stderr)\n"
            "  --max-connections N     open connections at once (default 4096)\n"
            "  --max-unauth-per-source N  not yet authenticated connections per address (default 64)\n"
            "  --stall-timeout S       close a session whose party read nothing for S s (default 60)\n"
            "  --admin-socket PATH     operator's local control socket (mode 0600; off if not given)\n"
            "  --sealed-dir DIR        keep the sealed results a policy's shutdown.keep_sealed allows\n"
            "                          after its computation ends, and serve them (off if not given)\n"
            "  --sealed-max-mib N      bytes kept per computation (default 1024)\n"
            "  --sealed-keep-days N    delete kept envelopes after N days (default 30)\n"
            "  --init-key FILE         create a P-256 attestation key, print its public key\n"
            "  --version               print the version\n");
}

static int init_key(const char *path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        fprintf(stderr, "strongbox-host: cannot generate a key\n");
        return 1;
    }
    BIO *b = BIO_new(BIO_s_mem());
    char *pem;
    long n;
    sb_err err = {0};
    int rc = 1;
    if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) &&
        (n = BIO_get_mem_data(b, &pem)) > 0) {
        if (sb_write_file(path, pem, (size_t)n, 0600, &err) != 0)
            fprintf(stderr, "strongbox-host: %s\n", err.msg);
        else if (PEM_write_PUBKEY(stdout, key))
            rc = 0;
    }
    BIO_free(b);
    EVP_PKEY_free(key);
    return rc;
}

static int parse_uint(const char *opt, const char *s, unsigned long long max,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-' || !s[0] || v > max) {
        fprintf(stderr, "strongbox-host: %s %s: expected a number up to %llu\n", opt, s, max);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", 1, 0, 'l'},       {"port-file", 1, 0, 'p'},   {"runtime", 1, 0, 'r'},
        {"platform", 1, 0, 'P'},     {"attest-key", 1, 0, 'k'},  {"attestd", 1, 0, 'a'},
        {"max-isolates", 1, 0, 'i'}, {"max-memory", 1, 0, 'm'},  {"isolate-overhead", 1, 0, 'o'},
        {"sanitizer-compat", 0, 0, 'N'}, {"ready-timeout", 1, 0, 't'}, {"no-splice", 0, 0, 'S'},
        {"log", 1, 0, 'L'},          {"init-key", 1, 0, 'K'},    {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'},
        {"accel", 1, 0, 'A'},        {"qemu", 1, 0, 'Q'},        {"guest-kernel", 1, 0, 'G'},
        {"guest-initrd", 1, 0, 'I'},    {"firmware", 1, 0, 'F'},    {"vcpus", 1, 0, 'c'},
        {"vcpu-type", 1, 0, 'Y'},    {"device-root", 1, 0, 'D'},
        {"max-connections", 1, 0, 'C'}, {"max-unauth-per-source", 1, 0, 'U'},
        {"stall-timeout", 1, 0, 'T'}, {"admin-socket", 1, 0, 'M'},
        {"sealed-dir", 1, 0, 'Z'}, {"sealed-max-mib", 1, 0, 'X'}, {"sealed-keep-days", 1, 0, 'W'},
        {0, 0, 0, 0},
    };
    sb_host_config cfg = {0};
    const char *log_path = NULL;
    unsigned long long v;
    int c;
    if (argc > 1 && strcmp(argv[1], "admin") == 0) /* the operator's client (admin_cli.c) */
        return sb_host_admin_cli(argc - 1, argv + 1);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': cfg.listen = optarg; break;
        case 'p': cfg.port_file = optarg; break;
        case 'r': cfg.runtime_path = optarg; break;
        case 'P': cfg.platform = optarg; break;
        case 'A': cfg.accel = optarg; break;
        case 'Q': cfg.qemu_path = optarg; break;
        case 'G': cfg.guest_kernel = optarg; break;
        case 'I': cfg.guest_initrd = optarg; break;
        case 'F': cfg.firmware = optarg; break;
        case 'Y': cfg.vcpu_type = optarg; break;
        case 'D': cfg.device_root = optarg; break; /* tests only (docs/host.md) */
        case 'c':
            if (parse_uint("--vcpus", optarg, 64, &v))
                return 2;
            if (v == 0) {
                fprintf(stderr, "strongbox-host: --vcpus 0: want 1-64\n");
                return 2;
            }
            cfg.vcpus = (unsigned)v;
            break;
        case 'k': cfg.attest_key_path = optarg; break;
        case 'a': cfg.attestd_url = optarg; break;
        case 'N': cfg.sanitizer_compat = 1; break;
        case 'S': cfg.no_splice = 1; break;
        case 'L': log_path = optarg; break;
        case 'M': cfg.admin_socket = optarg; break;
        case 'Z': cfg.sealed_dir = optarg; break;
        case 'X': case 'W': /* the sealed store's limits (docs/host.md) */
            if (parse_uint(c == 'X' ? "--sealed-max-mib" : "--sealed-keep-days", optarg,
                           c == 'X' ? 1ull << 30 : 36500, &v))
                return 2;
            if (v == 0) {
                fprintf(stderr, "strongbox-host: %s 0: want at least 1\n",
                        c == 'X' ? "--sealed-max-mib" : "--sealed-keep-days");
                return 2;
            }
            if (c == 'X')
                cfg.sealed_max_bytes = v << 20;
            else
                cfg.sealed_keep_days = (unsigned)v;
            break;
        case 'K': return init_key(optarg);
        case 'h': usage(stdout); return 0;
        case 'V': printf("strongbox-host %s\n", SB_VERSION); return 0;
        case 'i':
            if (parse_uint("--max-isolates", optarg, 100000, &v))
                return 2;
            cfg.max_isolates = (unsigned)v;
            break;
        case 'm':
            if (parse_uint("--max-memory", optarg, 1ull << 30, &v))
                return 2;
            cfg.max_memory = v << 20;
            break;
        case 'o':
            if (parse_uint("--isolate-overhead", optarg, 1ull << 20, &v))
                return 2;
            cfg.isolate_overhead = v << 20;
            break;
        case 't':
            if (parse_uint("--ready-timeout", optarg, 3600, &v))
                return 2;
            cfg.ready_timeout_s = (unsigned)v;
            break;
        case 'C': case 'U': case 'T': /* connection limits (docs/host.md) */
            if (parse_uint(c == 'C' ? "--max-connections" : c == 'U' ? "--max-unauth-per-source"
                           : "--stall-timeout", optarg, c == 'T' ? 86400 : 1000000, &v))
                return 2;
            *(c == 'C' ? &cfg.max_connections : c == 'U' ? &cfg.max_unauth_per_source
                                                        : &cfg.stall_timeout_s) = (unsigned)v;
            break;
        default: usage(stderr); return 2;
        }
    }
    /* VM platforms: the runtime is in the guest image. */
    int vm = cfg.platform && strcmp(cfg.platform, "process") != 0;
    int cvm = vm && strcmp(cfg.platform, "kvm") != 0;
    if (optind != argc || (!cfg.runtime_path && !vm)) {
        usage(stderr);
        return 2;
    }
    if (vm && cfg.runtime_path) {
        fprintf(stderr, "strongbox-host: --runtime: on --platform %s the runtime is the one in "
                        "the guest image (--guest-initrd)\n", cfg.platform);
        return 2;
    }
    if (!vm && (cfg.accel || cfg.qemu_path || cfg.guest_kernel || cfg.guest_initrd)) {
        fprintf(stderr, "strongbox-host: --accel, --qemu and --guest-* apply to --platform kvm, "
                        "sev-snp and tdx only\n");
        return 2;
    }
    if (!cvm && (cfg.firmware || cfg.vcpus || cfg.vcpu_type || cfg.device_root)) {
        fprintf(stderr, "strongbox-host: --firmware, --vcpus, --vcpu-type and --device-root "
                        "apply to --platform sev-snp and tdx only\n");
        return 2;
    }
    if (log_path && !(cfg.log = fopen(log_path, "a"))) {
        fprintf(stderr, "strongbox-host: --log %s: %s\n", log_path, strerror(errno));
        return 1;
    }
    sb_err err = {0};
    int rc = sb_host_run(&cfg, &err);
    if (rc != 0)
        fprintf(stderr, "strongbox-host: %s\n", err.msg);
    if (cfg.log)
        fclose(cfg.log);
    return rc ? 1 : 0;
}
