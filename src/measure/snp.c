/* snp.c - the AMD SEV-SNP launch digest of a QEMU + OVMF (AmdSev build) guest, recomputed offline.
 *
 * Inputs and their order follow what QEMU (target/i386/sev.c, >= 9.1) asks the SNP firmware to
 * measure: the OVMF image, the sections of OVMF's SEV metadata, one VMSA per vCPU (see measure.h).
 * The OVMF footer table, SEV metadata and SEV hash table layouts are those of edk2's
 * OvmfPkg/ResetVector (OvmfSevMetadata.asm, Ia16/ResetVectorVtf0.asm) and QEMU's sev.c. */
#include "measure/measure.h"
#include "measure/le.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define FOUR_GIB 0x100000000ull
#define FIRMWARE_MAX (32u << 20)    /* AmdSev OVMF is 4 MiB; anything far larger is not OVMF */
#define VCPUS_MAX 512
#define FOOTER_ENTRY_HEADER 18      /* each footer table entry ends with u16 size, 16-byte GUID */
#define FOOTER_OFFSET_FROM_END 32   /* the table's footer entry ends 32 bytes before the image end */
#define METADATA_HEADER 16          /* "ASEV", u32 size, u32 version, u32 number of sections */
#define METADATA_MAX_SECTIONS 64
#define BSP_EIP 0xfffffff0u

/* GUIDs in the byte order they are stored in (UEFI mixed-endian), with their text form. */
typedef struct guid_name {
    uint8_t bytes[16];
    const char *text;
} guid_name;

static const guid_name footer_guid = {{0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea,
                                       0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d},
                                      "96b582de-1fb2-45f7-baea-a366c55a082d"};
static const guid_name metadata_guid = {{0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47, 0xa7,
                                         0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc},
                                        "dc886566-984a-4798-a75e-5585a7bf67cc"};
static const guid_name reset_block_guid = {{0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f, 0x89,
                                            0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e},
                                           "00f771de-1a7e-4fcb-890e-68c77e2fb44e"};
static const guid_name hash_table_rv_guid = {{0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
                                              0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54},
                                             "7255371f-3a3b-4b04-927b-1da6efa8d454"};
/* SEV hash table: header, then entries in QEMU's order cmdline, initrd, kernel. */
static const uint8_t ht_guid[16] = {0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
                                    0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21};
static const uint8_t ht_cmdline_guid[16] = {0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
                                            0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a};
static const uint8_t ht_initrd_guid[16] = {0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
                                           0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d};
static const uint8_t ht_kernel_guid[16] = {0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
                                           0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b};

/* OVMF SEV metadata section types (OvmfSevMetadata.asm). */
enum { SEC_MEM = 1, SECRETS = 2, CPUID = 3, SVSM_CAA = 4, KERNEL_HASHES = 0x10 };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }

static void sha384(const uint8_t *data, size_t len, uint8_t out[SB_SNP_LD_LEN])
{
    unsigned int n = 0;
    /* SHA-384 over memory cannot fail short of an OpenSSL without SHA-384; zero the output then
     * so that no stale bytes pass for a digest (the fixed tests would catch it). */
    if (!EVP_Digest(data, len, out, &n, EVP_sha384(), NULL) || n != SB_SNP_LD_LEN)
        memset(out, 0, SB_SNP_LD_LEN);
}

void sb_snp_ld_update(uint8_t ld[SB_SNP_LD_LEN], const uint8_t contents[SB_SNP_LD_LEN],
                      enum sb_snp_page_type type, uint64_t gpa)
{
    uint8_t info[0x70] = {0};
    memcpy(info, ld, SB_SNP_LD_LEN);
    memcpy(info + 0x30, contents, SB_SNP_LD_LEN);
    put16(info + 0x60, sizeof info);
    info[0x62] = (uint8_t)type; /* 0x63 IMI_PAGE, 0x64..0x66 VMPL perms, 0x67 reserved: 0 */
    put64(info + 0x68, gpa);
    sha384(info, sizeof info, ld);
}

static void add_pages(uint8_t ld[SB_SNP_LD_LEN], enum sb_snp_page_type type, uint64_t gpa,
                      const uint8_t *data, uint64_t len)
{
    static const uint8_t zero[SB_SNP_LD_LEN];
    for (uint64_t off = 0; off < len; off += SB_SNP_PAGE) {
        uint8_t contents[SB_SNP_LD_LEN];
        if (data)
            sha384(data + off, SB_SNP_PAGE, contents);
        sb_snp_ld_update(ld, data ? contents : zero, type, gpa + off);
    }
}

/* ---- the OVMF footer table ------------------------------------------------------------------ */

typedef struct footer_entry {
    const uint8_t *data;
    size_t len;
} footer_entry;

typedef struct section {
    uint32_t gpa, size, type;
} section;

typedef struct firmware {
    const uint8_t *b;
    size_t len;
    footer_entry metadata, reset_block, hash_table_rv;
    section sections[METADATA_MAX_SECTIONS];
    size_t n_sections;
} firmware;

/* The table grows backwards from its footer entry; each entry is data || u16 size || GUID, size
 * counting all three. Entries we do not use are skipped; a repeated one is refused (which copy
 * would QEMU use?). */
static int parse_footer(firmware *fw, sb_err *err)
{
    size_t footer = fw->len - FOOTER_OFFSET_FROM_END - FOOTER_ENTRY_HEADER;
    if (memcmp(fw->b + footer + 2, footer_guid.bytes, 16) != 0)
        return sb_err_set(err, 1, "no OVMF footer table: GUID %s not found %d bytes before the "
                          "end (not an OVMF image?)", footer_guid.text,
                          FOOTER_OFFSET_FROM_END + FOOTER_ENTRY_HEADER - 2);
    size_t total = le16(fw->b + footer);
    if (total < FOOTER_ENTRY_HEADER || total - FOOTER_ENTRY_HEADER > footer)
        return sb_err_set(err, 1, "OVMF footer table size %zu is out of range", total);
    const uint8_t *start = fw->b + footer - (total - FOOTER_ENTRY_HEADER);
    size_t left = total - FOOTER_ENTRY_HEADER;
    while (left > 0) {
        if (left < FOOTER_ENTRY_HEADER)
            return sb_err_set(err, 1, "OVMF footer table: %zu stray bytes before its first entry",
                              left);
        const uint8_t *hdr = start + left - FOOTER_ENTRY_HEADER;
        size_t n = le16(hdr);
        if (n < FOOTER_ENTRY_HEADER || n > left)
            return sb_err_set(err, 1, "OVMF footer table: entry of size %zu does not fit", n);
        footer_entry e = {hdr - (n - FOOTER_ENTRY_HEADER), n - FOOTER_ENTRY_HEADER};
        const guid_name *known[] = {&metadata_guid, &reset_block_guid, &hash_table_rv_guid};
        footer_entry *slot[] = {&fw->metadata, &fw->reset_block, &fw->hash_table_rv};
        for (int i = 0; i < 3; i++) {
            if (memcmp(hdr + 2, known[i]->bytes, 16) != 0)
                continue;
            if (slot[i]->data)
                return sb_err_set(err, 1, "OVMF footer table: entry %s appears twice",
                                  known[i]->text);
            *slot[i] = e;
        }
        left -= n;
    }
    return 0;
}

static int check_section(const firmware *fw, const section *s, size_t i, sb_err *err)
{
    uint64_t fw_gpa = FOUR_GIB - fw->len;
    if (s->type != SEC_MEM && s->type != SECRETS && s->type != CPUID && s->type != SVSM_CAA &&
        s->type != KERNEL_HASHES)
        return sb_err_set(err, 1, "SEV metadata section %zu has unknown type 0x%x", i, s->type);
    if (s->size == 0 || s->gpa % SB_SNP_PAGE || s->size % SB_SNP_PAGE)
        return sb_err_set(err, 1, "SEV metadata section %zu (GPA 0x%x, size 0x%x) is empty or not "
                          "page-aligned", i, s->gpa, s->size);
    if ((uint64_t)s->gpa + s->size > fw_gpa)
        return sb_err_set(err, 1, "SEV metadata section %zu (GPA 0x%x, size 0x%x) overlaps the "
                          "firmware at 0x%llx", i, s->gpa, s->size, (unsigned long long)fw_gpa);
    if ((s->type == SECRETS || s->type == CPUID || s->type == KERNEL_HASHES) &&
        s->size != SB_SNP_PAGE)
        return sb_err_set(err, 1, "SEV metadata section %zu (type 0x%x) is 0x%x bytes, not one "
                          "page", i, s->type, s->size);
    for (size_t j = 0; j < i; j++) {
        const section *o = &fw->sections[j];
        if (s->gpa < o->gpa + o->size && o->gpa < s->gpa + s->size)
            return sb_err_set(err, 1, "SEV metadata sections %zu and %zu overlap", j, i);
        if (s->type == KERNEL_HASHES && o->type == KERNEL_HASHES)
            return sb_err_set(err, 1, "SEV metadata has two kernel-hashes sections");
    }
    return 0;
}

/* The SEV metadata: u32 offset from the image end to "ASEV" || size || version 1 || n, then n
 * sections {u32 GPA, u32 size, u32 type}. */
static int parse_metadata(firmware *fw, sb_err *err)
{
    if (!fw->metadata.data)
        return sb_err_set(err, 1, "OVMF has no SEV metadata (footer entry %s): not an SEV-SNP "
                          "capable build", metadata_guid.text);
    if (fw->metadata.len < 4)
        return sb_err_set(err, 1, "OVMF SEV metadata footer entry is %zu bytes, need 4",
                          fw->metadata.len);
    uint32_t back = le32(fw->metadata.data);
    if (back > fw->len || back < METADATA_HEADER)
        return sb_err_set(err, 1, "OVMF SEV metadata offset %u is outside the image", back);
    const uint8_t *m = fw->b + fw->len - back;
    uint32_t size = le32(m + 4), version = le32(m + 8), n = le32(m + 12);
    if (memcmp(m, "ASEV", 4) != 0)
        return sb_err_set(err, 1, "OVMF SEV metadata signature is not 'ASEV'");
    if (version != 1)
        return sb_err_set(err, 1, "OVMF SEV metadata version %u is not 1", version);
    if (n > METADATA_MAX_SECTIONS || size != METADATA_HEADER + 12 * n || size > back)
        return sb_err_set(err, 1, "OVMF SEV metadata: %u sections in %u bytes is inconsistent or "
                          "runs past the image", n, size);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *d = m + METADATA_HEADER + 12 * i;
        section s = {le32(d), le32(d + 4), le32(d + 8)};
        if (check_section(fw, &s, i, err) != 0)
            return -1;
        fw->sections[fw->n_sections++] = s;
    }
    return 0;
}

static int parse_firmware(firmware *fw, const uint8_t *b, size_t len, sb_err *err)
{
    memset(fw, 0, sizeof *fw);
    fw->b = b, fw->len = len;
    if (len == 0 || len % SB_SNP_PAGE || len > FIRMWARE_MAX)
        return sb_err_set(err, 1, "image is %zu bytes: need a non-zero multiple of 4096 up to "
                          "%u", len, FIRMWARE_MAX);
    if (parse_footer(fw, err) != 0 || parse_metadata(fw, err) != 0)
        return -1;
    if (!fw->reset_block.data || fw->reset_block.len < 4)
        return sb_err_set(err, 1, "OVMF has no SEV-ES reset block (footer entry %s): the AP "
                          "start address is unknown", reset_block_guid.text);
    return 0;
}

/* ---- the kernel-hashes page ----------------------------------------------------------------- */

void sb_snp_hash_table(uint8_t out[SB_SNP_HASH_TABLE_LEN], const uint8_t kernel[32],
                       const uint8_t initrd[32], const uint8_t cmdline[32])
{
    /* header: GUID, u16 length (168: header 18 + 3 entries of 50), then the entries
     * {GUID, u16 length 50, SHA-256}; zero padding to a multiple of 16. */
    memset(out, 0, SB_SNP_HASH_TABLE_LEN);
    memcpy(out, ht_guid, 16);
    put16(out + 16, 18 + 3 * 50);
    const uint8_t *guids[3] = {ht_cmdline_guid, ht_initrd_guid, ht_kernel_guid};
    const uint8_t *hashes[3] = {cmdline, initrd, kernel};
    for (int i = 0; i < 3; i++) {
        uint8_t *e = out + 18 + 50 * i;
        memcpy(e, guids[i], 16);
        put16(e + 16, 50);
        memcpy(e + 18, hashes[i], 32);
    }
}

static int add_kernel_hashes(const firmware *fw, const section *s, const sb_snp_launch *in,
                             uint8_t ld[SB_SNP_LD_LEN], sb_err *err)
{
    if (!in->with_kernel) {
        add_pages(ld, SB_SNP_PAGE_ZERO, s->gpa, NULL, s->size);
        return 0;
    }
    if (!fw->hash_table_rv.data || fw->hash_table_rv.len < 8)
        return sb_err_set(err, 1, "OVMF has a kernel-hashes section but no SEV hash table entry "
                          "(footer entry %s)", hash_table_rv_guid.text);
    uint32_t gpa = le32(fw->hash_table_rv.data), size = le32(fw->hash_table_rv.data + 4);
    if (gpa < s->gpa || gpa - s->gpa + (uint64_t)SB_SNP_HASH_TABLE_LEN > s->size ||
        size < SB_SNP_HASH_TABLE_LEN)
        return sb_err_set(err, 1, "OVMF SEV hash table (GPA 0x%x, size 0x%x) does not fit in the "
                          "kernel-hashes page at 0x%x", gpa, size, s->gpa);
    uint8_t page[SB_SNP_PAGE] = {0};
    sb_snp_hash_table(page + (gpa - s->gpa), in->kernel_sha256, in->initrd_sha256,
                      in->cmdline_sha256);
    add_pages(ld, SB_SNP_PAGE_NORMAL, s->gpa, page, SB_SNP_PAGE);
    return 0;
}

static int add_metadata_pages(const firmware *fw, const sb_snp_launch *in, uint8_t ld[SB_SNP_LD_LEN],
                              sb_err *err)
{
    int has_hashes_section = 0;
    for (size_t i = 0; i < fw->n_sections; i++) {
        const section *s = &fw->sections[i];
        switch (s->type) {
        case SECRETS: add_pages(ld, SB_SNP_PAGE_SECRETS, s->gpa, NULL, s->size); break;
        case CPUID: add_pages(ld, SB_SNP_PAGE_CPUID, s->gpa, NULL, s->size); break;
        case KERNEL_HASHES:
            has_hashes_section = 1;
            if (add_kernel_hashes(fw, s, in, ld, err) != 0)
                return -1;
            break;
        default: add_pages(ld, SB_SNP_PAGE_ZERO, s->gpa, NULL, s->size); break; /* SEC_MEM, CAA */
        }
    }
    if (in->with_kernel && !has_hashes_section)
        return sb_err_set(err, 1, "a kernel was given but this OVMF has no kernel-hashes section "
                          "(type 0x10): it cannot measure a kernel; use an AmdSev OVMF build");
    return 0;
}

static int sha256_file(const char *path, uint8_t out[32], sb_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sb_err_set(err, 1, "%s: cannot open", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint8_t buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    int read_error = ferror(f);
    unsigned int len = 0;
    ok = ok && !read_error && EVP_DigestFinal_ex(ctx, out, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return ok ? 0 : sb_err_set(err, 1, "%s: %s", path, read_error ? "read error" : "SHA-256 failed");
}

int sb_snp_launch_set_kernel(sb_snp_launch *in, const char *kernel, const char *initrd,
                             const char *append, sb_err *err)
{
    if (sha256_file(kernel, in->kernel_sha256, err) != 0 ||
        (initrd && sha256_file(initrd, in->initrd_sha256, err) != 0))
        return -1;
    unsigned int len = 0;
    const char *cmdline = append ? append : "";
    if ((!initrd && !EVP_Digest("", 0, in->initrd_sha256, &len, EVP_sha256(), NULL)) ||
        !EVP_Digest(cmdline, strlen(cmdline) + 1, in->cmdline_sha256, &len, EVP_sha256(), NULL))
        return sb_err_set(err, 1, "SHA-256 failed");
    in->with_kernel = 1;
    return 0;
}

/* ---- VMSA ----------------------------------------------------------------------------------- */

/* One segment register: selector, attributes, limit, base (APM vol. 2, table B-4). */
static void put_seg(uint8_t *page, size_t off, uint16_t sel, uint16_t attr, uint32_t limit,
                    uint64_t base)
{
    put16(page + off, sel), put16(page + off + 2, attr);
    put32(page + off + 4, limit), put64(page + off + 8, base);
}

void sb_snp_vmsa(uint8_t page[SB_SNP_PAGE], uint32_t eip, uint32_t vcpu_sig, uint64_t features)
{
    memset(page, 0, SB_SNP_PAGE);
    /* The x86 reset state (real mode, CS:IP split from the start address) as KVM fills the VMSA
     * of an SEV-ES/SNP vCPU under QEMU. */
    put_seg(page, 0x00, 0, 0x93, 0xffff, 0);                  /* ES */
    put_seg(page, 0x10, 0xf000, 0x9b, 0xffff, eip & 0xffff0000u); /* CS */
    put_seg(page, 0x20, 0, 0x93, 0xffff, 0);                  /* SS */
    put_seg(page, 0x30, 0, 0x93, 0xffff, 0);                  /* DS */
    put_seg(page, 0x40, 0, 0x93, 0xffff, 0);                  /* FS */
    put_seg(page, 0x50, 0, 0x93, 0xffff, 0);                  /* GS */
    put_seg(page, 0x60, 0, 0, 0xffff, 0);                     /* GDTR */
    put_seg(page, 0x70, 0, 0x82, 0xffff, 0);                  /* LDTR */
    put_seg(page, 0x80, 0, 0, 0xffff, 0);                     /* IDTR */
    put_seg(page, 0x90, 0, 0x8b, 0xffff, 0);                  /* TR */
    put64(page + 0xd0, 0x1000);          /* EFER.SVME, set by KVM */
    put64(page + 0x148, 0x40);           /* CR4.MCE, set by KVM */
    put64(page + 0x158, 0x10);           /* CR0.ET */
    put64(page + 0x160, 0x400);          /* DR7 */
    put64(page + 0x168, 0xffff0ff0);     /* DR6 */
    put64(page + 0x170, 0x2);            /* RFLAGS */
    put64(page + 0x178, eip & 0xffff);   /* RIP */
    put64(page + 0x268, 0x0007040600070406ull); /* G_PAT: the power-on PAT (APM vol. 2, A.3) */
    put64(page + 0x310, vcpu_sig);       /* RDX: the processor signature at reset */
    put64(page + 0x3b0, features);       /* SEV_FEATURES */
    put64(page + 0x3e8, 0x1);            /* XCR0: x87 */
    put32(page + 0x408, 0x1f80);         /* MXCSR at reset */
    put16(page + 0x410, 0x037f);         /* x87 FCW at reset */
}

/* ---- vCPU models ---------------------------------------------------------------------------- */

/* CPUID Fn0000_0001_EAX from family/model/stepping (AMD CPUID spec #25481). */
static uint32_t cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
    unsigned fam_lo = family > 0xf ? 0xf : family, fam_hi = family > 0xf ? family - 0xf : 0;
    return (uint32_t)(fam_hi << 20 | (model >> 4 & 0xf) << 16 | fam_lo << 8 | (model & 0xf) << 4 |
                      (stepping & 0xf));
}

/* QEMU's builtin_x86_defs (target/i386/cpu.c): versions of a model keep its family/model/stepping. */
static const struct vcpu_model {
    const char *name;
    unsigned family, model, stepping, max_version;
} vcpu_models[] = {
    {"EPYC", 23, 1, 2, 4},       {"EPYC-IBPB", 23, 1, 2, 0}, {"EPYC-Rome", 23, 49, 0, 4},
    {"EPYC-Milan", 25, 1, 1, 3}, {"EPYC-Genoa", 25, 17, 0, 2}, {"EPYC-Turin", 26, 0, 0, 1},
};

int sb_snp_vcpu_sig(const char *name, uint32_t *sig)
{
    for (size_t i = 0; i < sizeof vcpu_models / sizeof vcpu_models[0]; i++) {
        const struct vcpu_model *m = &vcpu_models[i];
        size_t n = strlen(m->name);
        if (strncmp(name, m->name, n) != 0)
            continue;
        const char *v = name + n;
        int ok = *v == '\0' || (m->max_version && v[0] == '-' && v[1] == 'v' && v[2] >= '1' &&
                                (unsigned)(v[2] - '0') <= m->max_version && v[3] == '\0');
        if (ok) {
            *sig = cpu_sig(m->family, m->model, m->stepping);
            return 0;
        }
    }
    return -1;
}

const char *sb_snp_vcpu_names(void)
{
    return "EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome, EPYC-Rome-v1..v4, EPYC-Milan, "
           "EPYC-Milan-v1..v3, EPYC-Genoa, EPYC-Genoa-v1..v2, EPYC-Turin, EPYC-Turin-v1";
}

/* ---- the digest ----------------------------------------------------------------------------- */

int sb_snp_launch_digest(const sb_snp_launch *in, uint8_t out[SB_SNP_LD_LEN], sb_err *err)
{
    firmware fw;
    if (in->vcpus < 1 || in->vcpus > VCPUS_MAX)
        return sb_err_set(err, 1, "vCPU count %u is outside 1..%d", in->vcpus, VCPUS_MAX);
    if (!(in->guest_features & 1))
        return sb_err_set(err, 1, "guest features 0x%llx lack bit 0 (SNPActive): not an SNP VMSA",
                          (unsigned long long)in->guest_features);
    if (parse_firmware(&fw, in->firmware, in->firmware_len, err) != 0) {
        sb_err_prefix(err, "firmware");
        return -1;
    }
    if (in->vcpus > 1 && le32(fw.reset_block.data) == 0)
        return sb_err_set(err, 1, "firmware: the SEV-ES reset block gives AP start address 0");
    uint8_t ld[SB_SNP_LD_LEN] = {0};
    if (in->firmware_digest)
        memcpy(ld, in->firmware_digest, SB_SNP_LD_LEN);
    else
        add_pages(ld, SB_SNP_PAGE_NORMAL, FOUR_GIB - fw.len, fw.b, fw.len);
    if (add_metadata_pages(&fw, in, ld, err) != 0) {
        sb_err_prefix(err, "firmware");
        return -1;
    }
    /* The VMSA is recorded at GPA -1 reduced to a page-aligned 52-bit address. */
    uint8_t page[SB_SNP_PAGE], contents[SB_SNP_LD_LEN];
    for (unsigned i = 0; i < in->vcpus; i++) {
        if (i <= 1) { /* BSP, then one AP page serves every AP */
            sb_snp_vmsa(page, i == 0 ? BSP_EIP : le32(fw.reset_block.data), in->vcpu_sig,
                        in->guest_features);
            sha384(page, sizeof page, contents);
        }
        sb_snp_ld_update(ld, contents, SB_SNP_PAGE_VMSA, 0xfffffffff000ull);
    }
    memcpy(out, ld, SB_SNP_LD_LEN);
    return 0;
}
