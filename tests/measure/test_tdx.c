/* test_tdx - the TDX launch-measurement calculator (src/measure/tdx.c).
 *
 *   test_measure_tdx                 synthetic TDVF and PE images: MRTD, Authenticode, RTMR1/2
 *                                    against computations written out here; every malformed
 *                                    input refused with its reason
 *   test_measure_tdx --debian-kernel the Authenticode hash of Debian's signed vmlinuz (fetched by
 *                                    scripts/setup.sh) against the digest Debian's signing service
 *                                    put in its signature (exit 77 when no kernel is found)
 *   test_measure_tdx --published-tdvf
 *                                    MRTD of Ubuntu 25.04's OVMF.fd (ovmf_2025.02-3ubuntu2, sha256
 *                                    9e807cb2...) against the value tdx-measure publishes in
 *                                    tests/fixtures/canonical-defaults/expected.json; the firmware
 *                                    is not in Debian and may not be committed, so this runs only
 *                                    when $SB_TDX_REFERENCE_TDVF names that file (else exit 77)
 *   test_measure_tdx --write DIR     writes the synthetic tdvf.fd, kernel.efi and initrd into DIR
 *                                    for the CLI test */
#include "../common/check.h"
#include "measure/measure.h"

#include <glob.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff), put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }

static void sha(const EVP_MD *md, const void *d, size_t n, uint8_t *out)
{
    unsigned len;
    EVP_Digest(d, n, out, &len, md, NULL);
}

/* ---- a synthetic TDVF: 64 KiB mapped below 4 GiB, the layout of a real one in miniature ---- */

#define FW_LEN 0x10000u
#define DESC_AT 0x3000u
typedef struct sec { uint32_t off, raw; uint64_t gpa, size; uint32_t type, attr; } sec;
static const sec fw_sections[5] = {
    {0x4000, 0xc000, 0xffff4000, 0xc000, 0, 1}, /* BFV, measured; holds the GUIDed table */
    {0x0000, 0x2000, 0xffff0000, 0x2000, 1, 1}, /* CFV, measured */
    {0, 0, 0x809000, 0x2000, 2, 0},             /* TD_HOB: added, not measured */
    {0, 0, 0x80b000, 0x3000, 3, 0},             /* TEMP_MEM: added, not measured */
    {0, 0, 0x1000000, 0x10000, 4, 2},           /* PERM_MEM: PAGE.AUG, not added */
};
static const uint8_t footer_guid[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                        0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t tdx_guid[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                     0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};

static void build_tdvf(uint8_t *fw, size_t nsec)
{
    for (size_t i = 0; i < FW_LEN; i++)
        fw[i] = (uint8_t)(i * 13 + (i >> 8));
    memcpy(fw + DESC_AT, "TDVF", 4);
    put32(fw + DESC_AT + 4, (uint32_t)(16 + 32 * nsec));
    put32(fw + DESC_AT + 8, 1);
    put32(fw + DESC_AT + 12, (uint32_t)nsec);
    for (size_t i = 0; i < nsec; i++) {
        uint8_t *e = fw + DESC_AT + 16 + 32 * i;
        const sec *s = &fw_sections[i];
        put32(e, s->off), put32(e + 4, s->raw), put64(e + 8, s->gpa), put64(e + 16, s->size);
        put32(e + 24, s->type), put32(e + 28, s->attr);
    }
    /* GUIDed table, walked from its end: footer, TDX metadata offset, an unrelated entry. */
    uint8_t *end = fw + FW_LEN - 32;
    memcpy(end - 16, footer_guid, 16), put16(end - 18, 18 + 22 + 26);
    memcpy(end - 18 - 16, tdx_guid, 16), put16(end - 18 - 18, 22), put32(end - 18 - 22, FW_LEN - DESC_AT);
    memset(end - 40 - 16, 0x5a, 16), put16(end - 40 - 18, 26);
}

/* MRTD written out from the TDX module ABI's record definitions: the whole byte stream the TDX
 * module hashes, built in one buffer, then one SHA-384. */
static void mrtd_by_hand(const uint8_t *fw, uint8_t out[48])
{
    size_t cap = 1 << 20, n = 0;
    uint8_t *stream = calloc(1, cap);
    for (size_t i = 0; i < 5; i++) {
        const sec *s = &fw_sections[i];
        for (uint64_t pg = 0; s->attr != 2 && pg < s->size / 4096; pg++) {
            memcpy(stream + n, "MEM.PAGE.ADD", 12);
            put64(stream + n + 16, s->gpa + pg * 4096);
            n += 128;
            for (int c = 0; s->attr == 1 && c < 16; c++) {
                memcpy(stream + n, "MR.EXTEND", 9);
                put64(stream + n + 16, s->gpa + pg * 4096 + c * 256u);
                memcpy(stream + n + 128, fw + s->off + pg * 4096 + c * 256u, 256);
                n += 384;
            }
        }
    }
    /* 12 + 2 measured pages (16 extends each), 2 + 3 added pages */
    CHECK(n == (12 + 2) * (128 + 16 * 384) + 5 * 128);
    sha(EVP_sha384(), stream, n, out);
    free(stream);
}

static void expect_fw_error(int line, const uint8_t *fw, size_t len, const char *needle)
{
    sb_tdvf t;
    sb_err err = {0};
    int rc = sb_tdvf_parse(fw, len, &t, &err);
    CHECKF(rc != 0 && strstr(err.msg, needle), "line %d: rc %d, '%s', want '%s'", line, rc,
           err.msg, needle);
}
#define FW_ERROR(fw, len, needle) expect_fw_error(__LINE__, fw, len, needle)

static void test_mrtd(void)
{
    uint8_t *fw = malloc(FW_LEN), want[48], got[48];
    build_tdvf(fw, 5);
    sb_tdvf t;
    sb_err err = {0};
    CHECKF(sb_tdvf_parse(fw, FW_LEN, &t, &err) == 0, "%s", err.msg);
    CHECK(t.n_sections == 5 && t.sections[0].address == 0xffff4000 && t.sections[4].attributes == 2);
    CHECK(sb_tdx_mrtd(fw, FW_LEN, &t, got, &err) == 0);
    mrtd_by_hand(fw, want);
    CHECK(memcmp(got, want, 48) == 0);
    /* A byte of a measured section changes MRTD; a byte outside every section does not. */
    fw[0x4000 + 0x123] ^= 1;
    CHECK(sb_tdx_mrtd(fw, FW_LEN, &t, got, &err) == 0 && memcmp(got, want, 48) != 0);
    fw[0x4000 + 0x123] ^= 1;
    fw[0x2100] ^= 1; /* between CFV and the descriptor */
    CHECK(sb_tdx_mrtd(fw, FW_LEN, &t, got, &err) == 0 && memcmp(got, want, 48) == 0);

    /* Every malformed image refused with its reason. */
    FW_ERROR(fw, 40, "too short for the OVMF GUIDed table footer");
    build_tdvf(fw, 5), fw[FW_LEN - 40] ^= 1;
    FW_ERROR(fw, FW_LEN, "no OVMF table footer GUID");
    FW_ERROR(fw + 0x100, FW_LEN - 0x100, "no OVMF table footer GUID"); /* truncated at the front */
    build_tdvf(fw, 5), put16(fw + FW_LEN - 50, 0xffff);
    FW_ERROR(fw, FW_LEN, "GUIDed table length 65535 is impossible");
    build_tdvf(fw, 5), put16(fw + FW_LEN - 50, 4);
    FW_ERROR(fw, FW_LEN, "GUIDed table length 4 is impossible");
    build_tdvf(fw, 5), fw[FW_LEN - 32 - 18 - 16] ^= 1; /* the TDX GUID itself */
    FW_ERROR(fw, FW_LEN, "no TDX metadata GUID");
    build_tdvf(fw, 5), put16(fw + FW_LEN - 32 - 18 - 18, 2);
    FW_ERROR(fw, FW_LEN, "bad length 2");
    build_tdvf(fw, 5), put32(fw + FW_LEN - 32 - 18 - 22, FW_LEN + 1);
    FW_ERROR(fw, FW_LEN, "points outside");
    build_tdvf(fw, 5), put16(fw + FW_LEN - 32 - 18 - 18, 21);
    FW_ERROR(fw, FW_LEN, "TDX metadata entry is 21 bytes, too short for its offset");
    /* A longer TDX entry (26 bytes, swallowing 4 bytes of its neighbour): the offset is read from
     * the start of the entry's data, as QEMU reads it. */
    build_tdvf(fw, 5);
    put16(fw + FW_LEN - 32 - 18 - 18, 26), put16(fw + FW_LEN - 32 - 18, 18 + 26 + 22);
    put32(fw + FW_LEN - 32 - 18 - 26, FW_LEN - DESC_AT), put32(fw + FW_LEN - 32 - 18 - 22, 7);
    CHECKF(sb_tdvf_parse(fw, FW_LEN, &t, &err) == 0, "%s", err.msg);
    build_tdvf(fw, 5), fw[DESC_AT] = 'X';
    FW_ERROR(fw, FW_LEN, "no \"TDVF\" signature");
    build_tdvf(fw, 5), put32(fw + DESC_AT + 8, 2);
    FW_ERROR(fw, FW_LEN, "metadata version 2");
    build_tdvf(fw, 0);
    FW_ERROR(fw, FW_LEN, "with 0 sections is malformed");
    build_tdvf(fw, 5), put32(fw + DESC_AT + 12, 100000);
    FW_ERROR(fw, FW_LEN, "with 100000 sections");
    build_tdvf(fw, 5), put32(fw + DESC_AT + 4, 999);
    FW_ERROR(fw, FW_LEN, "descriptor of 999 bytes");
    struct { size_t field; uint64_t value; int width; size_t sec; const char *needle; } bad[] = {
        {24, 7, 4, 2, "unsupported type 7"},
        {8, 0xffff4800, 8, 0, "not 4 KiB aligned"},
        {16, 0x1800, 8, 1, "not 4 KiB aligned"},
        {16, 0, 8, 3, "empty or wrapping"},
        {8, 0xfffffffffffff000ull, 8, 3, "empty or wrapping"},
        {4, 0xd000, 4, 0, "raw data larger than its memory"},
        {4, 0, 4, 1, "firmware volume without data"},
        {4, 0x10, 4, 2, "memory section with raw data"},
        {28, 0, 4, 4, "PERM_MEM must use it"},
        {28, 2, 4, 3, "PAGE.AUG is for PERM_MEM"},
        {28, 1, 4, 3, "MR.EXTEND on a section without data"},
        {28, 0x11, 4, 0, "unknown attribute bits"},
        {0, 0x8000, 4, 0, "data runs past the end of the image"},
        {8, 0xffff5000, 8, 1, "section 1 (GPA 0xffff5000) overlaps section 0"},
        {8, 0x80a000, 8, 3, "section 3 (GPA 0x80a000) overlaps section 2"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        build_tdvf(fw, 5);
        uint8_t *f = fw + DESC_AT + 16 + 32 * bad[k].sec + bad[k].field;
        bad[k].width == 8 ? put64(f, bad[k].value) : put32(f, (uint32_t)bad[k].value);
        expect_fw_error(__LINE__ * 1000 + (int)k, fw, FW_LEN, bad[k].needle);
    }
    build_tdvf(fw, 5); /* TEMP_MEM moved above 4 GiB and made 4 GiB large */
    put64(fw + DESC_AT + 16 + 32 * 3 + 8, 0x100000000ull);
    put64(fw + DESC_AT + 16 + 32 * 3 + 16, 0x100000000ull);
    FW_ERROR(fw, FW_LEN, "sections add more than 4 GiB of pages before the TD runs (section 3)");
    /* Every single-byte change of the metadata (descriptor, GUIDed table) and every truncation:
     * a digest or a reason, never a read outside the image (run under ASan). */
    int outcomes = 0;
    for (size_t i = 0; i < 16 + 32 * 5 + 66; i++) {
        size_t at = i < 16 + 32 * 5 ? DESC_AT + i : FW_LEN - 32 - 66 + (i - 16 - 32 * 5);
        for (int bit = 0; bit < 8; bit += 3) {
            build_tdvf(fw, 5);
            fw[at] ^= (uint8_t)(1 << bit);
            sb_err_clear(&err);
            int rc = sb_tdvf_parse(fw, FW_LEN, &t, &err);
            if (rc == 0)
                rc = sb_tdx_mrtd(fw, FW_LEN, &t, got, &err);
            outcomes += rc == 0 || err.msg[0] != 0;
        }
    }
    for (size_t n = 0; n < FW_LEN; n += 61) {
        build_tdvf(fw, 5);
        sb_err_clear(&err);
        outcomes += sb_tdvf_parse(fw + FW_LEN - n, n, &t, &err) != 0 && err.msg[0] != 0;
    }
    CHECK(outcomes == 3 * (16 + 32 * 5 + 66) + (FW_LEN + 60) / 61);
    free(fw);
}

/* ---- a synthetic PE32+ with sections out of file order, trailing data and a certificate ---- */

#define PE_LEN 0x680u
static void build_pe(uint8_t *pe)
{
    memset(pe, 0, PE_LEN);
    for (size_t i = 0x200; i < PE_LEN; i++)
        pe[i] = (uint8_t)(i * 7 + 1);
    pe[0] = 'M', pe[1] = 'Z', put32(pe + 0x3c, 0x80);
    memcpy(pe + 0x80, "PE\0\0", 4);
    put16(pe + 0x84, 0x8664), put16(pe + 0x86, 2), put16(pe + 0x94, 0xf0);
    uint8_t *opt = pe + 0x98;
    put16(opt, 0x20b), put32(opt + 60, 0x200), put32(opt + 64, 0xaabbccdd), put32(opt + 108, 16);
    put32(opt + 112 + 32, 0x650), put32(opt + 112 + 36, 0x30); /* certificate table */
    uint8_t *sh = pe + 0x188;
    memcpy(sh, ".text", 5), put32(sh + 16, 0x200), put32(sh + 20, 0x400);
    memcpy(sh + 40, ".data", 5), put32(sh + 56, 0x200), put32(sh + 60, 0x200);
    strcpy((char *)pe + 0x100, "header bytes are hashed");
}

/* The Authenticode ranges for this layout, listed by hand (checksum at 0xd8, certificate
 * directory entry at 0x128, headers to 0x200, sections 0x200-0x600 sorted, trailing 0x600-0x650,
 * certificate 0x650-0x680 excluded). */
static void pe_by_hand(const uint8_t *pe, const EVP_MD *md, uint8_t *out)
{
    uint8_t buf[PE_LEN];
    size_t n = 0;
    const size_t r[][2] = {{0, 0xd8}, {0xdc, 0x128}, {0x130, 0x200}, {0x200, 0x600}, {0x600, 0x650}};
    for (size_t i = 0; i < 5; i++)
        memcpy(buf + n, pe + r[i][0], r[i][1] - r[i][0]), n += r[i][1] - r[i][0];
    sha(md, buf, n, out);
}

static void expect_pe_error(int line, const uint8_t *pe, size_t len, const char *needle)
{
    uint8_t d[64];
    unsigned n;
    sb_err err = {0};
    int rc = sb_pe_authenticode(pe, len, EVP_sha384(), d, &n, &err);
    CHECKF(rc != 0 && strstr(err.msg, needle), "line %d: rc %d, '%s', want '%s'", line, rc,
           err.msg, needle);
}
#define PE_ERROR(pe, len, needle) expect_pe_error(__LINE__, pe, len, needle)

static void test_authenticode(void)
{
    uint8_t pe[PE_LEN], want[48], got[48];
    unsigned n = 0;
    sb_err err = {0};
    build_pe(pe);
    CHECKF(sb_pe_authenticode(pe, PE_LEN, EVP_sha384(), got, &n, &err) == 0, "%s", err.msg);
    pe_by_hand(pe, EVP_sha384(), want);
    CHECK(n == 48 && memcmp(got, want, 48) == 0);
    /* The checksum, the certificate directory entry's bytes and the certificate are excluded. */
    pe[0xd8] ^= 1, pe[0x660] ^= 1;
    CHECK(sb_pe_authenticode(pe, PE_LEN, EVP_sha384(), got, &n, &err) == 0 &&
          memcmp(got, want, 48) == 0);
    pe[0x300] ^= 1;
    CHECK(sb_pe_authenticode(pe, PE_LEN, EVP_sha384(), got, &n, &err) == 0 &&
          memcmp(got, want, 48) != 0);

    build_pe(pe), pe[0] = 'X';
    PE_ERROR(pe, PE_LEN, "no MZ header");
    PE_ERROR(pe, 0x30, "no MZ header");
    build_pe(pe), put32(pe + 0x3c, 0x7000);
    PE_ERROR(pe, PE_LEN, "does not point at a PE signature");
    build_pe(pe), put16(pe + 0x98, 0x30b);
    PE_ERROR(pe, PE_LEN, "neither PE32 nor PE32+");
    build_pe(pe), put32(pe + 0x98 + 108, 4);
    PE_ERROR(pe, PE_LEN, "no certificate table directory entry");
    build_pe(pe), put32(pe + 0x98 + 60, 0x100);
    PE_ERROR(pe, PE_LEN, "SizeOfHeaders 0x100");
    build_pe(pe), put16(pe + 0x86, 97);
    PE_ERROR(pe, PE_LEN, "97 section headers do not fit");
    build_pe(pe), put32(pe + 0x188 + 16, 0x10000);
    PE_ERROR(pe, PE_LEN, "section 0 (0x400, 65536 bytes) runs past the file");
    build_pe(pe), put32(pe + 0x98 + 112 + 36, 0x800);
    PE_ERROR(pe, PE_LEN, "certificate table (0x650, 2048 bytes) runs past the file");
    build_pe(pe), put32(pe + 0x98 + 112 + 36, 0x30);
    PE_ERROR(pe, 0x670, "certificate table (0x650, 48 bytes) runs past the file");
    build_pe(pe), put32(pe + 0x98 + 112 + 32, 0x5f0), put32(pe + 0x98 + 112 + 36, 0x90);
    PE_ERROR(pe, PE_LEN, "certificate table (144 bytes) is larger than the 128 bytes after");
    PE_ERROR(pe, 0x1f0, "SizeOfHeaders 0x200"); /* truncated inside the headers */
    /* every byte of the headers changed, every truncation: a digest or a reason (ASan) */
    int outcomes = 0;
    for (size_t i = 0; i < 0x200; i++) {
        build_pe(pe), pe[i] ^= 0x81;
        sb_err_clear(&err);
        outcomes += sb_pe_authenticode(pe, PE_LEN, EVP_sha384(), got, &n, &err) == 0 || err.msg[0];
    }
    build_pe(pe);
    for (size_t len = 0; len < PE_LEN; len += 7) {
        sb_err_clear(&err);
        outcomes += sb_pe_authenticode(pe, len, EVP_sha384(), got, &n, &err) == 0 || err.msg[0];
    }
    CHECK(outcomes == 0x200 + (PE_LEN + 6) / 7);
}

/* ---- RTMR1 / RTMR2: the event lists of docs/reproducing.md, extended by hand ---- */

static void extend(uint8_t mr[48], const void *data, size_t n)
{
    uint8_t cat[96];
    memcpy(cat, mr, 48);
    sha(EVP_sha384(), data, n, cat + 48);
    sha(EVP_sha384(), cat, 96, mr);
}

static void test_rtmrs(void)
{
    uint8_t pe[PE_LEN], want[48] = {0}, got[48], image[48], cat[96] = {0};
    sb_err err = {0};
    build_pe(pe);
    pe_by_hand(pe, EVP_sha384(), image);
    memcpy(cat + 48, image, 48);
    sha(EVP_sha384(), cat, 96, want); /* RTMR1 = SHA-384(0^48 || image digest) */
    extend(want, "Calling EFI Application from Boot Option", 40);
    extend(want, "\0\0\0\0", 4);
    extend(want, "Exit Boot Services Invocation", 29);
    extend(want, "Exit Boot Services Returned with Success", 40);
    CHECKF(sb_tdx_rtmr1_direct(pe, PE_LEN, got, &err) == 0, "%s", err.msg);
    CHECK(memcmp(got, want, 48) == 0);
    pe[0] = 0;
    CHECK(sb_tdx_rtmr1_direct(pe, PE_LEN, got, &err) != 0 && strstr(err.msg, "no MZ header"));

    /* RTMR2: UTF-16LE of the LoadOptions with their NUL, then the initrd bytes. edk2 up to
     * stable202505 appends " initrd=initrd", later ones prefix "initrd=initrd " (edk2 PR #11115). */
    static const char last[] = "c\0o\0n\0s\0o\0l\0e\0=\0h\0v\0c\0000\0 \0i\0n\0i\0t\0r\0d\0=\0i\0"
                               "n\0i\0t\0r\0d\0\0";
    static const char first[] = "i\0n\0i\0t\0r\0d\0=\0i\0n\0i\0t\0r\0d\0 \0c\0o\0n\0s\0o\0l\0e\0=\0"
                                "h\0v\0c\0000\0\0";
    CHECK(sizeof last == 2 * 27 && sizeof first == 2 * 27); /* the literal's NUL ends the UTF-16 NUL */
    const uint8_t initrd[] = "070701 an initrd";
    sb_tdx_load_options form;
    CHECK(sb_tdx_edk2_form(202505, &form, &err) == 0 && form == SB_TDX_INITRD_LAST);
    CHECK(sb_tdx_edk2_form(202508, &form, &err) == 0 && form == SB_TDX_INITRD_FIRST);
    CHECK(sb_tdx_edk2_form(202602, &form, &err) == 0 && form == SB_TDX_INITRD_FIRST);
    CHECK(sb_tdx_edk2_form(202502, &form, &err) != 0 && strstr(err.msg, "setup header as QEMU patched"));
    CHECK(sb_tdx_edk2_form(202513, &form, &err) != 0 && strstr(err.msg, "is not YYYYMM"));
    CHECK(sb_tdx_edk2_form(2025, &form, &err) != 0 && strstr(err.msg, "is not YYYYMM"));
    for (int f = 0; f < 2; f++) {
        memset(want, 0, 48);
        extend(want, f ? first : last, sizeof last);
        extend(want, initrd, sizeof initrd);
        sb_tdx_load_options fo = f ? SB_TDX_INITRD_FIRST : SB_TDX_INITRD_LAST;
        CHECKF(sb_tdx_rtmr2_direct("console=hvc0", fo, initrd, sizeof initrd, got, &err) == 0, "%s",
               err.msg);
        CHECK(memcmp(got, want, 48) == 0);
        CHECK(sb_tdx_rtmr2_direct("console=hvc0 ", fo, initrd, sizeof initrd, got, &err) == 0 &&
              memcmp(got, want, 48) != 0);
    }
    form = SB_TDX_INITRD_FIRST;
    CHECK(sb_tdx_rtmr2_direct("caf\xc3\xa9", form, initrd, 1, got, &err) != 0 &&
          strstr(err.msg, "command line byte 3 (0xc3) is not printable ASCII"));
    CHECK(sb_tdx_rtmr2_direct("a\nb", form, initrd, 1, got, &err) != 0 &&
          strstr(err.msg, "byte 1 (0x0a)"));
    char *long_line = malloc(5000);
    memset(long_line, 'a', 4999), long_line[4999] = 0;
    CHECK(sb_tdx_rtmr2_direct(long_line, form, initrd, 1, got, &err) != 0 &&
          strstr(err.msg, "command line of 4999 bytes is longer than 4096"));
    free(long_line);
}

/* ---- references published by others ---- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *d = n > 0 ? malloc((size_t)n) : NULL;
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n)
        free(d), d = NULL;
    fclose(f);
    *len = d ? (size_t)n : 0;
    return d;
}

/* The SHA-256 DigestInfo inside the signature's SpcIndirectDataContent: the Authenticode hash
 * Debian's signing service computed when it signed the kernel. */
static const uint8_t *signed_digest(const uint8_t *pe, size_t len)
{
    static const uint8_t info[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    size_t nt = pe[0x3c] | pe[0x3d] << 8, dir = nt + 24 + 112 + 32;
    size_t off = pe[dir] | pe[dir + 1] << 8 | (size_t)pe[dir + 2] << 16 | (size_t)pe[dir + 3] << 24;
    for (size_t i = off; off && i + sizeof info + 32 <= len; i++)
        if (memcmp(pe + i, info, sizeof info) == 0)
            return pe + i + sizeof info;
    return NULL;
}

static int test_debian_kernel(void)
{
    const char *env = getenv("SB_GUEST_KERNEL"), *cache = getenv("SB_GUEST_CACHE");
    const char *home = getenv("HOME") ? getenv("HOME") : "/root";
    char pattern[512];
    if (cache)
        snprintf(pattern, sizeof pattern, "%s/*/boot/vmlinuz-*", cache);
    else
        snprintf(pattern, sizeof pattern, "%s/.cache/strongbox/*/boot/vmlinuz-*", home);
    glob_t g = {0};
    glob(env ? env : pattern, 0, NULL, &g);
    if (g.gl_pathc == 0) {
        printf("SKIP: no Debian kernel at %s (scripts/setup.sh fetches it)\n", env ? env : pattern);
        globfree(&g);
        return 77;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len;
        uint8_t *k = read_all(g.gl_pathv[i], &len), got[32], rtmr1[48];
        unsigned n = 0;
        sb_err err = {0};
        const uint8_t *want = k && len > 0x200 ? signed_digest(k, len) : NULL;
        CHECKF(want != NULL, "%s: no SHA-256 Authenticode signature", g.gl_pathv[i]);
        CHECKF(k && sb_pe_authenticode(k, len, EVP_sha256(), got, &n, &err) == 0, "%s", err.msg);
        CHECKF(want && memcmp(got, want, 32) == 0, "%s: Authenticode differs from the signed one",
               g.gl_pathv[i]);
        CHECKF(k && sb_tdx_rtmr1_direct(k, len, rtmr1, &err) == 0, "%s", err.msg);
        char hex[97];
        sb_hex_encode(got, 32, hex);
        printf("%s: Authenticode SHA-256 %s matches Debian's signature\n", g.gl_pathv[i], hex);
        free(k);
    }
    globfree(&g);
    return failures ? 1 : 0;
}

static int test_published_tdvf(void)
{
    const char *path = getenv("SB_TDX_REFERENCE_TDVF");
    size_t len;
    uint8_t *fw = path ? read_all(path, &len) : NULL, digest[48], sum[32], want[48];
    if (!fw) {
        printf("SKIP: $SB_TDX_REFERENCE_TDVF does not name Ubuntu's OVMF.fd (ovmf_2025.02-3ubuntu2)\n");
        return 77;
    }
    uint8_t pinned[32];
    sb_hex_decode("9e807cb2cd4313406a3aa4becc0836671a5c64ca7bdc08a45e15260184b446bf", pinned, 32);
    sha(EVP_sha256(), fw, len, sum);
    CHECKF(memcmp(sum, pinned, 32) == 0, "%s is not the pinned OVMF.fd", path);
    /* virtee/tdx-measure tests/fixtures/canonical-defaults/expected.json, "mrtd" */
    sb_hex_decode("7357a10d2e2724dffe68813e3cc4cfcde6814d749f2fb62e3953e54f6e0b50a2"
                  "19786afe2cd478f684b52c61837e1114", want, 48);
    sb_tdvf t;
    sb_err err = {0};
    CHECKF(sb_tdvf_parse(fw, len, &t, &err) == 0 && sb_tdx_mrtd(fw, len, &t, digest, &err) == 0,
           "%s", err.msg);
    CHECK(memcmp(digest, want, 48) == 0);
    free(fw);
    return failures ? 1 : 0;
}

static int write_inputs(const char *dir)
{
    uint8_t *fw = malloc(FW_LEN), pe[PE_LEN];
    build_tdvf(fw, 5);
    build_pe(pe);
    const struct { const char *name; const void *data; size_t len; } files[] = {
        {"tdvf.fd", fw, FW_LEN}, {"kernel.efi", pe, PE_LEN}, {"initrd", "070701 an initrd", 17}};
    int rc = 0;
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "wb");
        rc |= !f || fwrite(files[i].data, 1, files[i].len, f) != files[i].len;
        if (f)
            rc |= fclose(f) != 0;
    }
    free(fw);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--debian-kernel") == 0)
        return test_debian_kernel();
    if (argc == 2 && strcmp(argv[1], "--published-tdvf") == 0)
        return test_published_tdvf();
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_inputs(argv[2]);
    test_mrtd();
    test_authenticode();
    test_rtmrs();
    printf("measure tdx: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
