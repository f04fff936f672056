/* tdx.c - MRTD, RTMR1 and RTMR2 of a TDX guest, computed offline from its image files.
 *
 * MRTD (Intel TDX module ABI, TDH.MEM.PAGE.ADD / TDH.MR.EXTEND): the TDX module hashes, with one
 * running SHA-384 finalised at TDH.MR.FINALIZE, a 128-byte record per page the host adds
 * ("MEM.PAGE.ADD" at 0, the GPA as u64 at 16, zeros) and, for measured pages, per 256-byte chunk a
 * record ("MR.EXTEND", GPA) followed by the chunk. QEMU adds TDVF's sections in metadata order,
 * page by page, each page's 16 extends right after its add; PAGE.AUG sections are not added.
 *
 * The metadata is found as QEMU finds it: the OVMF GUIDed table ends 32 bytes before the end of
 * the image with the footer GUID and the table's u16 length; entries are walked from the end,
 * each ending with {u16 length of the whole entry, GUID}; the TDX metadata entry's data starts with
 * a u32 offset from the end of the image to the "TDVF" descriptor {signature, length, version 1, n}
 * followed by n 32-byte sections {u32 data offset, u32 raw size, u64 GPA, u64 memory size, u32
 * type, u32 attributes}.
 *
 * RTMR1/RTMR2 are SHA-384 extend chains from zero (RTMR = SHA-384(RTMR || event digest)) over the
 * events TDVF and the kernel's EFI stub log for a direct boot (docs/reproducing.md). */
#include "measure/measure.h"
#include "measure/le.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define CHUNK 256u
#define FOOTER_FROM_END 32u /* the GUIDed table's footer GUID ends this far before the image end */
#define GUID_ENTRY_TAIL 18u /* u16 length + 16-byte GUID */
#define SB_TDVF_MAX_ADDED (4ull << 30) /* real TDVFs add a few MiB; bounds the work on bad input */

/* GUIDs in their on-disk (mixed-endian EFI_GUID) byte order. */
static const uint8_t table_footer_guid[16] = { /* 96b582de-1fb2-45f7-baea-a366c55a082d */
    0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t tdx_metadata_guid[16] = { /* e47a6535-984a-4798-865e-4685a7bf8ec2 */
    0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};


/* Offset of the "TDVF" descriptor, from the TDX metadata entry of the GUIDed table. */
static int find_descriptor(const uint8_t *fw, size_t len, size_t *desc, sb_err *err)
{
    if (len < FOOTER_FROM_END + GUID_ENTRY_TAIL)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: image of %zu bytes is too short for the "
                          "OVMF GUIDed table footer", len);
    size_t end = len - FOOTER_FROM_END;
    if (memcmp(fw + end - 16, table_footer_guid, 16) != 0)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: no OVMF table footer GUID 32 bytes "
                          "before the end of the image (not an OVMF/TDVF build)");
    size_t table_len = le16(fw + end - GUID_ENTRY_TAIL);
    if (table_len < GUID_ENTRY_TAIL || table_len > end)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: GUIDed table length %zu is impossible",
                          table_len);
    size_t start = end - table_len;
    for (size_t at = end - GUID_ENTRY_TAIL; at > start;) {
        size_t entry_len = le16(fw + at - GUID_ENTRY_TAIL);
        if (at - start < GUID_ENTRY_TAIL || entry_len < GUID_ENTRY_TAIL || entry_len > at - start)
            return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: GUIDed table entry ending at %zu has "
                              "bad length %zu", at, entry_len);
        if (memcmp(fw + at - 16, tdx_metadata_guid, 16) == 0) {
            if (entry_len < GUID_ENTRY_TAIL + 4)
                return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: TDX metadata entry is %zu bytes, "
                                  "too short for its offset", entry_len);
            uint32_t from_end = le32(fw + at - entry_len); /* the entry's data starts with it */
            if (from_end < 16 || from_end > len)
                return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: metadata offset %u points outside "
                                  "the %zu-byte image", from_end, len);
            *desc = len - from_end;
            return 0;
        }
        at -= entry_len;
    }
    return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: no TDX metadata GUID "
                      "(e47a6535-984a-4798-865e-4685a7bf8ec2) in the OVMF GUIDed table (not a TDX "
                      "build: use OvmfPkg/IntelTdx or an OVMF with TDX support)");
}

/* The section rules QEMU (hw/i386/tdvf.c) enforces, plus file bounds for the bytes we hash. */
static int check_section(const sb_tdvf_section *s, size_t i, size_t fw_len, sb_err *err)
{
    const char *why = NULL;
    if (s->type > SB_TDVF_PERM_MEM)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: section %zu has unsupported type %u "
                          "(0 BFV, 1 CFV, 2 TD_HOB, 3 TEMP_MEM, 4 PERM_MEM)", i, s->type);
    if (s->attributes & ~(SB_TDVF_ATTR_MR_EXTEND | SB_TDVF_ATTR_PAGE_AUG))
        why = "unknown attribute bits";
    else if (s->address % PAGE || s->memory_size % PAGE)
        why = "address or memory size not 4 KiB aligned";
    else if (s->memory_size == 0 || s->address + s->memory_size < s->address)
        why = "empty or wrapping memory range";
    else if (s->raw_size > s->memory_size)
        why = "raw data larger than its memory";
    else if ((s->type == SB_TDVF_BFV || s->type == SB_TDVF_CFV) && s->raw_size == 0)
        why = "firmware volume without data";
    else if (s->type >= SB_TDVF_TD_HOB && s->raw_size != 0)
        why = "memory section with raw data";
    else if ((s->type == SB_TDVF_PERM_MEM) != ((s->attributes & SB_TDVF_ATTR_PAGE_AUG) != 0))
        why = "PAGE.AUG is for PERM_MEM sections only, and PERM_MEM must use it";
    else if ((s->attributes & SB_TDVF_ATTR_MR_EXTEND) && s->type >= SB_TDVF_TD_HOB)
        why = "MR.EXTEND on a section without data";
    else if ((uint64_t)s->data_offset + (s->type <= SB_TDVF_CFV ? s->memory_size : 0) > fw_len)
        why = "data runs past the end of the image";
    if (why)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: section %zu (type %u, offset 0x%x, raw "
                          "0x%x, GPA 0x%llx, size 0x%llx): %s", i, s->type, s->data_offset,
                          s->raw_size, (unsigned long long)s->address,
                          (unsigned long long)s->memory_size, why);
    return 0;
}

/* Two sections on the same guest page would make KVM's second TDH.MEM.PAGE.ADD fail. */
static int check_overlap(const sb_tdvf_section *s, size_t i, sb_err *err)
{
    for (size_t j = 0; j < i; j++)
        if (s[i].address < s[j].address + s[j].memory_size &&
            s[j].address < s[i].address + s[i].memory_size)
            return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: section %zu (GPA 0x%llx) overlaps "
                              "section %zu (GPA 0x%llx)", i, (unsigned long long)s[i].address, j,
                              (unsigned long long)s[j].address);
    return 0;
}

int sb_tdvf_parse(const uint8_t *fw, size_t len, sb_tdvf *out, sb_err *err)
{
    size_t d = 0;
    memset(out, 0, sizeof *out);
    if (find_descriptor(fw, len, &d, err) != 0)
        return -1;
    if (memcmp(fw + d, "TDVF", 4) != 0)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: metadata descriptor at 0x%zx has no "
                          "\"TDVF\" signature", d);
    uint32_t dlen = le32(fw + d + 4), version = le32(fw + d + 8), n = le32(fw + d + 12);
    if (version != 1)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: metadata version %u (only 1 is defined)",
                          version);
    if (n == 0 || n > SB_TDX_MAX_SECTIONS || dlen != 16 + 32 * n || dlen > len - d)
        return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: descriptor of %u bytes with %u sections "
                          "is malformed or runs past the image", dlen, n);
    uint64_t added = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = fw + d + 16 + 32 * i;
        sb_tdvf_section *s = &out->sections[i];
        *s = (sb_tdvf_section){le32(e), le32(e + 4), le64(e + 8), le64(e + 16), le32(e + 24),
                               le32(e + 28)};
        if (check_section(s, i, len, err) != 0 || check_overlap(out->sections, i, err) != 0)
            return -1;
        added += s->attributes & SB_TDVF_ATTR_PAGE_AUG ? 0 : s->memory_size;
        if (added > SB_TDVF_MAX_ADDED)
            return sb_err_set(err, SB_MEASURE_EFORMAT, "TDVF: sections add more than 4 GiB of "
                              "pages before the TD runs (section %u)", i);
    }
    out->n_sections = n;
    return 0;
}

static int record(EVP_MD_CTX *c, const char *op, uint64_t gpa)
{
    uint8_t buf[128] = {0};
    memcpy(buf, op, strlen(op));
    for (int i = 0; i < 8; i++)
        buf[16 + i] = (uint8_t)(gpa >> (8 * i));
    return EVP_DigestUpdate(c, buf, sizeof buf) == 1 ? 0 : -1;
}

static int measure_section(EVP_MD_CTX *c, const uint8_t *fw, const sb_tdvf_section *s)
{
    if (s->attributes & SB_TDVF_ATTR_PAGE_AUG)
        return 0; /* accepted by the guest later, never TDH.MEM.PAGE.ADDed */
    for (uint64_t page = 0; page < s->memory_size; page += PAGE) {
        if (record(c, "MEM.PAGE.ADD", s->address + page) != 0)
            return -1;
        for (uint64_t off = page; (s->attributes & SB_TDVF_ATTR_MR_EXTEND) && off < page + PAGE;
             off += CHUNK)
            if (record(c, "MR.EXTEND", s->address + off) != 0 ||
                EVP_DigestUpdate(c, fw + s->data_offset + off, CHUNK) != 1)
                return -1;
    }
    return 0;
}

int sb_tdx_mrtd(const uint8_t *fw, size_t len, const sb_tdvf *tdvf, uint8_t out[SB_TDX_MR_LEN],
                sb_err *err)
{
    for (size_t i = 0; i < tdvf->n_sections; i++)
        if (check_section(&tdvf->sections[i], i, len, err) != 0)
            return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1;
    for (size_t i = 0; ok && i < tdvf->n_sections; i++)
        ok = measure_section(c, fw, &tdvf->sections[i]) == 0;
    ok = ok && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : sb_err_set(err, SB_MEASURE_ECRYPTO, "TDVF: SHA-384 failed");
}

/* ---- PE/COFF Authenticode ---- */

typedef struct pe_range {
    size_t off, len;
} pe_range;

static int cmp_range(const void *a, const void *b)
{
    size_t x = ((const pe_range *)a)->off, y = ((const pe_range *)b)->off;
    return x < y ? -1 : x > y;
}

#define PE_MAX_SECTIONS 96 /* the PE format's own limit */
#define PE_ERR(...) sb_err_set(err, SB_MEASURE_EFORMAT, "kernel PE: " __VA_ARGS__)

/* The hashed layout of a PE image: three header pieces and the sections with data. */
typedef struct pe_layout {
    size_t checksum, certdir, headers_end;
    size_t cert_off, cert_len;
    pe_range sect[PE_MAX_SECTIONS];
    size_t n_sect;
} pe_layout;

static int pe_parse(const uint8_t *pe, size_t len, pe_layout *l, sb_err *err)
{
    if (len < 0x40 || pe[0] != 'M' || pe[1] != 'Z')
        return PE_ERR("no MZ header (a bzImage without an EFI stub cannot be measured by TDVF)");
    size_t nt = le32(pe + 0x3c);
    if (nt > len || len - nt < 24 || memcmp(pe + nt, "PE\0\0", 4) != 0)
        return PE_ERR("e_lfanew 0x%zx does not point at a PE signature", nt);
    size_t nsect = le16(pe + nt + 6), opt_size = le16(pe + nt + 20), opt = nt + 24;
    if (opt_size > len - opt || opt_size < 2)
        return PE_ERR("optional header of %zu bytes runs past the file", opt_size);
    unsigned magic = le16(pe + opt);
    size_t dirs = opt + (magic == 0x20b ? 112 : 96);
    if (magic != 0x20b && magic != 0x10b)
        return PE_ERR("optional header magic 0x%x is neither PE32 nor PE32+", magic);
    if (dirs + 5 * 8 > opt + opt_size || le32(pe + dirs - 4) < 5)
        return PE_ERR("no certificate table directory entry");
    l->checksum = opt + 64;
    l->certdir = dirs + 4 * 8;
    l->cert_off = le32(pe + l->certdir);
    l->cert_len = le32(pe + l->certdir + 4);
    l->headers_end = le32(pe + opt + 60);
    if (l->headers_end < l->certdir + 8 || l->headers_end > len)
        return PE_ERR("SizeOfHeaders 0x%zx is outside the headers or the file", l->headers_end);
    if (nsect > PE_MAX_SECTIONS || (opt + opt_size) + 40 * nsect > len)
        return PE_ERR("%zu section headers do not fit", nsect);
    if (l->cert_len && (l->cert_off > len || l->cert_len > len - l->cert_off))
        return PE_ERR("certificate table (0x%zx, %zu bytes) runs past the file", l->cert_off,
                      l->cert_len);
    l->n_sect = 0;
    for (size_t i = 0; i < nsect; i++) {
        const uint8_t *sh = pe + opt + opt_size + 40 * i;
        pe_range r = {le32(sh + 20), le32(sh + 16)};
        if (r.len == 0)
            continue;
        if (r.off > len || r.len > len - r.off)
            return PE_ERR("section %zu (0x%zx, %zu bytes) runs past the file", i, r.off, r.len);
        l->sect[l->n_sect++] = r;
    }
    qsort(l->sect, l->n_sect, sizeof l->sect[0], cmp_range);
    size_t hashed = l->headers_end;
    for (size_t i = 0; i < l->n_sect; i++)
        hashed += l->sect[i].len;
    if (len > hashed && len - hashed < l->cert_len)
        return PE_ERR("certificate table (%zu bytes) is larger than the %zu bytes after the "
                      "sections", l->cert_len, len - hashed);
    return 0;
}

int sb_pe_authenticode(const uint8_t *pe, size_t len, const EVP_MD *md, uint8_t *out,
                       unsigned *out_len, sb_err *err)
{
    pe_layout *l = malloc(sizeof *l);
    if (!l)
        return sb_err_set(err, SB_MEASURE_ECRYPTO, "out of memory");
    if (pe_parse(pe, len, l, err) != 0) {
        free(l);
        return -1;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, md, NULL) == 1 &&
             EVP_DigestUpdate(c, pe, l->checksum) == 1 &&
             EVP_DigestUpdate(c, pe + l->checksum + 4, l->certdir - l->checksum - 4) == 1 &&
             EVP_DigestUpdate(c, pe + l->certdir + 8, l->headers_end - l->certdir - 8) == 1;
    size_t hashed = l->headers_end;
    for (size_t i = 0; ok && i < l->n_sect; i++) {
        ok = EVP_DigestUpdate(c, pe + l->sect[i].off, l->sect[i].len) == 1;
        hashed += l->sect[i].len;
    }
    /* As edk2 measures a loaded image (Tcg2Dxe, HashPeImage): bytes after the sections are hashed
     * up to the certificate table, which is taken to be at the end; no padding is added. */
    if (ok && len > hashed)
        ok = EVP_DigestUpdate(c, pe + hashed, len - hashed - l->cert_len) == 1;
    ok = ok && EVP_DigestFinal_ex(c, out, out_len) == 1;
    EVP_MD_CTX_free(c);
    free(l);
    return ok ? 0 : sb_err_set(err, SB_MEASURE_ECRYPTO, "kernel PE: digest failed");
}

/* ---- RTMR event chains ---- */

int sb_tdx_rtmr_extend(uint8_t mr[SB_TDX_MR_LEN], const uint8_t digest[SB_TDX_MR_LEN], sb_err *err)
{
    uint8_t cat[2 * SB_TDX_MR_LEN];
    memcpy(cat, mr, SB_TDX_MR_LEN);
    memcpy(cat + SB_TDX_MR_LEN, digest, SB_TDX_MR_LEN);
    unsigned n = 0;
    if (EVP_Digest(cat, sizeof cat, mr, &n, EVP_sha384(), NULL) != 1 || n != SB_TDX_MR_LEN)
        return sb_err_set(err, SB_MEASURE_ECRYPTO, "SHA-384 failed");
    return 0;
}

static int extend_data(uint8_t mr[SB_TDX_MR_LEN], const void *data, size_t len, sb_err *err)
{
    uint8_t d[SB_TDX_MR_LEN];
    unsigned n = 0;
    if (EVP_Digest(data, len, d, &n, EVP_sha384(), NULL) != 1)
        return sb_err_set(err, SB_MEASURE_ECRYPTO, "SHA-384 failed");
    return sb_tdx_rtmr_extend(mr, d, err);
}

int sb_tdx_rtmr1_direct(const uint8_t *kernel, size_t len, uint8_t out[SB_TDX_MR_LEN], sb_err *err)
{
    /* EV_EFI_BOOT_SERVICES_APPLICATION (the kernel's Authenticode hash), then the EV_EFI_ACTION
     * strings and the EV_SEPARATOR (4 zero bytes) logged to PCRs 2-6, which TDVF maps to RTMR1. */
    static const char *const actions[] = {"Calling EFI Application from Boot Option", NULL,
                                          "Exit Boot Services Invocation",
                                          "Exit Boot Services Returned with Success"};
    static const uint8_t separator[4];
    uint8_t image[SB_TDX_MR_LEN];
    unsigned n = 0;
    memset(out, 0, SB_TDX_MR_LEN);
    if (sb_pe_authenticode(kernel, len, EVP_sha384(), image, &n, err) != 0 ||
        sb_tdx_rtmr_extend(out, image, err) != 0)
        return -1;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        const void *data = actions[i] ? (const void *)actions[i] : separator;
        if (extend_data(out, data, actions[i] ? strlen(actions[i]) : sizeof separator, err) != 0)
            return -1;
    }
    return 0;
}

#define CMDLINE_MAX 4096 /* x86 COMMAND_LINE_SIZE in recent kernels is 2048; QEMU caps lower */

int sb_tdx_edk2_form(unsigned edk2, sb_tdx_load_options *out, sb_err *err)
{
    unsigned month = edk2 % 100;
    if (edk2 < 201800 || edk2 > 209912 || month < 1 || month > 12)
        return sb_err_set(err, SB_MEASURE_EINVAL, "edk2 version %u is not YYYYMM (e.g. 202508)",
                          edk2);
    if (edk2 < 202505)
        return sb_err_set(err, SB_MEASURE_EINVAL, "TDVF from edk2 %u measures the kernel setup "
                          "header as QEMU patched it: not modelled here (use edk2-stable202505 "
                          "or later)", edk2);
    *out = edk2 >= 202508 ? SB_TDX_INITRD_FIRST : SB_TDX_INITRD_LAST;
    return 0;
}

int sb_tdx_rtmr2_direct(const char *cmdline, sb_tdx_load_options form, const uint8_t *initrd,
                        size_t initrd_len, uint8_t out[SB_TDX_MR_LEN], sb_err *err)
{
    size_t n = strlen(cmdline);
    if (n > CMDLINE_MAX)
        return sb_err_set(err, SB_MEASURE_EINVAL, "command line of %zu bytes is longer than %d", n,
                          CMDLINE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)cmdline[i] < 0x20 || (unsigned char)cmdline[i] > 0x7e)
            return sb_err_set(err, SB_MEASURE_EINVAL, "command line byte %zu (0x%02x) is not "
                              "printable ASCII", i, (unsigned char)cmdline[i]);
    char *opts = malloc(n + 16);
    uint8_t *u16 = calloc(n + 16, 2);
    size_t len = 0;
    if (opts && u16)
        len = (size_t)snprintf(opts, n + 16, form == SB_TDX_INITRD_FIRST ? "initrd=initrd %s"
                                                                         : "%s initrd=initrd",
                               cmdline);
    for (size_t i = 0; i < len; i++)
        u16[2 * i] = (uint8_t)opts[i];
    memset(out, 0, SB_TDX_MR_LEN);
    int rc = opts && u16 ? extend_data(out, u16, 2 * (len + 1), err) /* with the UTF-16 NUL */
                         : sb_err_set(err, SB_MEASURE_ECRYPTO, "out of memory");
    free(opts);
    free(u16);
    if (rc == 0)
        rc = extend_data(out, initrd, initrd_len, err);
    return rc;
}
