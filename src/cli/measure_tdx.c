/* measure_tdx.c - `strongbox measure --platform tdx`: the registers of a TD launched by QEMU with
 * TDVF and a direct-boot kernel, initrd and command line, and the policy's td-launch composite.
 *
 * MRTD, RTMR1 and RTMR2 are computed from the files (src/measure). RTMR0 covers TDVF's
 * configuration and QEMU's ACPI tables, which depend on the QEMU version and the exact machine
 * shape; it is not derived here but taken from a reference TD of the same shape (--rtmr0, e.g.
 * read with `strongbox evidence verify --format tdx`). Without it the composite is not printed. */
#include "cli/measure_tdx.h"
#include "common/common.h"
#include "measure/measure.h"
#include "verifiers/verifiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGE_BYTES (1024u << 20)

typedef struct tdx_args {
    const char *firmware, *kernel, *initrd, *append, *rtmr0_hex, *vcpus, *memory, *edk2, *image;
    char kernel_path[4096], initrd_path[4096]; /* --guest-image's */
} tdx_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox measure --platform tdx --firmware TDVF [--kernel K --initrd I\n"
            "                         --edk2 YYYYMM [--append STR]] [--vcpus N --memory SIZE]\n"
            "                         [--rtmr0 HEX]\n"
            "       strongbox measure --platform tdx --firmware TDVF --guest-image DIR --edk2 YYYYMM ...\n"
            "Prints MRTD (from TDVF's metadata), RTMR1 (the kernel) and RTMR2 (command line and\n"
            "initrd) of a direct-boot TD, and with --rtmr0 the policy's tdx measurement\n"
            "td-launch = SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2) (docs/reproducing.md).\n"
            "  --edk2   the edk2 stable tag TDVF was built from (202505 or later): it decides\n"
            "           where TDVF puts initrd=initrd in the measured command line\n"
            "  --rtmr0  96 hex digits from a reference TD of the same QEMU version and shape\n"
            "           (RTMR0 covers QEMU's ACPI tables and the TD HOB: not derived here)\n"
            "  --vcpus, --memory  the machine shape the RTMR0 reference was taken with (shown)\n"
            "  --guest-image  the image strongbox-host boots: DIR/vmlinuz, DIR/initrd.cpio and the\n"
            "           host's command line (instead of --kernel, --initrd and --append)\n"
            "  --json   one object: platform, mrtd, rtmr0, rtmr1, rtmr2, td_launch (hex; null where\n"
            "           not given or not computed)\n");
}

static int parse_args(int argc, char **argv, tdx_args *a)
{
    struct { const char *flag; const char **dst; } opts[] = {
        {"--firmware", &a->firmware}, {"--kernel", &a->kernel}, {"--initrd", &a->initrd},
        {"--append", &a->append},     {"--rtmr0", &a->rtmr0_hex}, {"--vcpus", &a->vcpus},
        {"--memory", &a->memory},     {"--edk2", &a->edk2},       {"--platform", NULL},
        {"--guest-image", &a->image},
    };
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        size_t k = 0;
        while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].flag) != 0)
            k++;
        if (k == sizeof opts / sizeof opts[0] || i + 1 >= argc) {
            fprintf(stderr, "strongbox measure: %s: %s\n", argv[i],
                    k < sizeof opts / sizeof opts[0] ? "needs a value" : "unknown option for tdx");
            return -1;
        }
        if (opts[k].dst)
            *opts[k].dst = argv[i + 1];
    }
    if (a->image && (a->kernel || a->initrd || a->append)) {
        fprintf(stderr, "strongbox measure: --guest-image replaces --kernel, --initrd and --append\n");
        return -1;
    }
    if (a->image && sb_measure_cvm_image(a->image, "tdx", a->kernel_path, a->initrd_path,
                                         sizeof a->kernel_path, &a->append) != 0) {
        fprintf(stderr, "strongbox measure: --guest-image: path too long\n");
        return -1;
    }
    if (a->image) {
        a->kernel = a->kernel_path;
        a->initrd = a->initrd_path;
    }
    const char *missing = !a->firmware ? "--firmware TDVF is required"
                          : !a->kernel != !a->initrd ? "--kernel and --initrd go together"
                          : a->append && !a->kernel ? "--append needs --kernel and --initrd"
                          : !a->kernel != !a->edk2 ? "--kernel needs --edk2 YYYYMM (and only it)"
                          : !a->vcpus != !a->memory ? "--vcpus and --memory go together"
                          : NULL;
    if (missing)
        fprintf(stderr, "strongbox measure: %s\n", missing);
    return missing ? -1 : 0;
}

/* A positive count, or a size with an optional K/M/G suffix (as QEMU's -m). */
static int check_shape(const tdx_args *a)
{
    if (!a->vcpus)
        return 0;
    char *end;
    unsigned long long v = strtoull(a->vcpus, &end, 10);
    if (*end || v == 0 || v > 4096 || a->vcpus[0] == '-')
        return fprintf(stderr, "strongbox measure: --vcpus '%s' is not a count 1..4096\n",
                       a->vcpus), -1;
    v = strtoull(a->memory, &end, 10);
    if (v == 0 || a->memory[0] == '-' || (*end && (strchr("KMGkmg", *end) == NULL || end[1])))
        return fprintf(stderr, "strongbox measure: --memory '%s' is not a size (e.g. 2G)\n",
                       a->memory), -1;
    return 0;
}

static uint8_t *load(const char *what, const char *path, size_t *len)
{
    uint8_t *data = NULL;
    sb_err err = {0};
    if (sb_read_file(path, MAX_IMAGE_BYTES, &data, len, &err) != 0)
        fprintf(stderr, "strongbox measure: %s: %s\n", what, err.msg);
    return data;
}

static void print_mr(const char *name, const uint8_t mr[SB_TDX_MR_LEN], const char *note)
{
    char hex[2 * SB_TDX_MR_LEN + 1];
    sb_hex_encode(mr, SB_TDX_MR_LEN, hex);
    printf("%-10s %s%s\n", name, hex, note);
}

static int measure_firmware(const char *path, uint8_t mrtd[SB_TDX_MR_LEN])
{
    size_t len;
    uint8_t *fw = load("--firmware", path, &len);
    if (!fw)
        return -1;
    sb_tdvf *tdvf = malloc(sizeof *tdvf);
    sb_err err = {0};
    int rc = tdvf && sb_tdvf_parse(fw, len, tdvf, &err) == 0 &&
                     sb_tdx_mrtd(fw, len, tdvf, mrtd, &err) == 0 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "strongbox measure: %s: %s\n", path, tdvf ? err.msg : "out of memory");
    free(tdvf);
    free(fw);
    return rc;
}

static int measure_boot(const tdx_args *a, uint8_t rtmr1[SB_TDX_MR_LEN], uint8_t rtmr2[SB_TDX_MR_LEN])
{
    sb_tdx_load_options form;
    char *end;
    unsigned long edk2 = strtoul(a->edk2, &end, 10);
    sb_err err = {0};
    if (*end || edk2 > 999999 || sb_tdx_edk2_form((unsigned)edk2, &form, &err) != 0) {
        fprintf(stderr, "strongbox measure: --edk2 %s: %s\n", a->edk2,
                *end || edk2 > 999999 ? "not YYYYMM" : err.msg);
        return -1;
    }
    size_t klen, ilen = 0;
    uint8_t *kernel = load("--kernel", a->kernel, &klen), *initrd = NULL;
    if (kernel)
        initrd = load("--initrd", a->initrd, &ilen);
    int rc = -1;
    if (kernel && initrd && sb_tdx_rtmr1_direct(kernel, klen, rtmr1, &err) != 0)
        fprintf(stderr, "strongbox measure: %s: %s\n", a->kernel, err.msg);
    else if (kernel && initrd && sb_tdx_rtmr2_direct(a->append ? a->append : "", form, initrd,
                                                     ilen, rtmr2, &err) != 0)
        fprintf(stderr, "strongbox measure: --append: %s\n", err.msg);
    else if (kernel && initrd)
        rc = 0;
    free(kernel);
    free(initrd);
    return rc;
}

/* One JSON member: "name":"hex" or "name":null. */
static void json_mr(const char *name, const uint8_t *mr, const char *sep)
{
    char hex[2 * SB_TDX_MR_LEN + 3] = "null";
    if (mr) {
        hex[0] = '"';
        sb_hex_encode(mr, SB_TDX_MR_LEN, hex + 1);
        memcpy(hex + 1 + 2 * SB_TDX_MR_LEN, "\"", 2);
    }
    printf("\"%s\":%s%s", name, hex, sep);
}

static int print_json(const uint8_t *mrtd, const uint8_t *rtmr0, const uint8_t *rtmr1,
                      const uint8_t *rtmr2)
{
    uint8_t launch[SB_TDX_MR_LEN];
    int have = rtmr0 && rtmr1;
    if (have && sb_tdx_launch_composite(mrtd, rtmr0, rtmr1, rtmr2, launch) != 0)
        return fprintf(stderr, "strongbox measure: SHA-384 failed\n"), 1;
    printf("{\"platform\":\"tdx\",");
    json_mr("mrtd", mrtd, ",");
    json_mr("rtmr0", rtmr0, ",");
    json_mr("rtmr1", rtmr1, ",");
    json_mr("rtmr2", rtmr2, ",");
    json_mr("td_launch", have ? launch : NULL, "}\n");
    return 0;
}

int sb_cli_measure_tdx(int argc, char **argv, int json)
{
    tdx_args a = {0};
    uint8_t mrtd[SB_TDX_MR_LEN], rtmr0[SB_TDX_MR_LEN], rtmr1[SB_TDX_MR_LEN], rtmr2[SB_TDX_MR_LEN];
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout), 0;
    if (parse_args(argc, argv, &a) != 0 || check_shape(&a) != 0)
        return usage(stderr), 2;
    if (a.rtmr0_hex && (strlen(a.rtmr0_hex) != 2 * SB_TDX_MR_LEN ||
                        sb_hex_decode(a.rtmr0_hex, rtmr0, sizeof rtmr0) != 0)) {
        fprintf(stderr, "strongbox measure: --rtmr0: want %d hex digits\n", 2 * SB_TDX_MR_LEN);
        return 2;
    }
    if (measure_firmware(a.firmware, mrtd) != 0 || (a.kernel && measure_boot(&a, rtmr1, rtmr2) != 0))
        return 1;
    if (json)
        return print_json(mrtd, a.rtmr0_hex ? rtmr0 : NULL, a.kernel ? rtmr1 : NULL,
                          a.kernel ? rtmr2 : NULL);
    printf("platform   tdx (direct boot with TDVF; registers and td-launch as SHA-384 hex)\n");
    if (a.vcpus)
        printf("machine    %s vCPUs, %s memory (inputs of RTMR0 only)\n", a.vcpus, a.memory);
    print_mr("mrtd", mrtd, "");
    if (a.rtmr0_hex)
        print_mr("rtmr0", rtmr0, " (given)");
    else
        printf("rtmr0      not derived (QEMU's ACPI tables and the TD HOB): read it from a first "
               "boot's quote and pass --rtmr0 (docs/reproducing.md)\n");
    if (!a.kernel)
        return printf("rtmr1      not computed: no --kernel\nrtmr2      not computed: no "
                      "--kernel\n"), 0;
    print_mr("rtmr1", rtmr1, "");
    print_mr("rtmr2", rtmr2, "");
    uint8_t launch[SB_TDX_MR_LEN];
    if (!a.rtmr0_hex)
        return printf("td-launch  not computed: needs rtmr0\n"), 0;
    if (sb_tdx_launch_composite(mrtd, rtmr0, rtmr1, rtmr2, launch) != 0)
        return fprintf(stderr, "strongbox measure: SHA-384 failed\n"), 1;
    print_mr("td-launch", launch, "  <- runtimes.platforms.tdx");
    return 0;
}
