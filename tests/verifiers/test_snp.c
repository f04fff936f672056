/* Tests for the SEV-SNP verifier: the captured Milan report (valid to the vendor's checks, wrong
 * product, every byte flipped, certificates damaged, truncated, extended, wrong times), synthetic
 * reports signed with generated AMD-style chains (v3 with CPUID, VLEK via ASVK, Turin TCB layout,
 * extended report certificate table, TCB / chip ID / product mismatches), and the launch rules of
 * sb_verify_snp (no debug, no migration agent, VMPL 0) on the captured report and on copies of it
 * re-signed by a test chain. */
#include "testgen.h"
#include "verifiers/verifiers.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_LEN 1184
static void put_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* --- the captured Milan sample ----------------------------------------------------------- */

static void test_milan_sample(void)
{
    size_t len;
    uint8_t *report = tg_read(tg_vec("snp/gosevguest_milan_report_v2.bin"), &len);
    sb_trust_anchors a = {0};
    tg_anchors_add_file(&a, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&a, tg_vec("snp/amd_ask_ark_milan.pem"));
    time_t at = tg_time("2024-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(len == REPORT_LEN);
    CHECK(sb_verify_snp_report(report, len, &a, at, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "milan: %s\n", err.msg);
    CHECK(strcmp(c.platform, "sev-snp") == 0);
    uint8_t want_rd[64] = {1, 2, 3, 4, 5};
    CHECK(c.report_data_len == 64 && memcmp(c.report_data, want_rd, 64) == 0);
    CHECK(c.n_measurements >= 1 && strcmp(c.measurements[0].name, "launch") == 0 &&
          c.measurements[0].len == 48 && memcmp(c.measurements[0].value, report + 0x90, 48) == 0);
    CHECK(c.debug == 1); /* policy 0x b0000: bit 19, debugging allowed */
    CHECK(strcmp(c.signer, "VCEK (Milan)") == 0);
    CHECK(strcmp(c.chain, "SEV-VCEK -> SEV-Milan -> ARK-Milan") == 0);
    CHECK(strstr(c.tcb, "snp=5") && strstr(c.tcb, "microcode=68") && strstr(c.tcb, "vmpl 0"));
    /* report data: the expected binding passes, any other value or length is refused */
    CHECK(sb_claims_expect_report_data(&c, want_rd, 64, &err) == 0);
    uint8_t other_rd[64] = {1, 2, 3, 4, 6};
    CHECK_ERR(sb_claims_expect_report_data(&c, other_rd, 64, &err), err,
              "sev-snp: report data does not match the expected binding");
    CHECK_ERR(sb_claims_expect_report_data(&c, want_rd, 32, &err), err, "64 bytes, expected 32");

    /* Registering several products' roots at once still works; the Genoa chain alone does not. */
    sb_trust_anchors both = {0}, genoa = {0}, none = {0}, tdxroot = {0};
    tg_anchors_add_file(&both, tg_vec("snp/amd_ask_ark_genoa.pem"));
    tg_anchors_add_file(&both, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&both, tg_vec("snp/amd_ask_ark_milan.pem"));
    CHECK(sb_verify_snp_report(report, len, &both, at, &c, &err) == 0);
    tg_anchors_add_file(&genoa, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&genoa, tg_vec("snp/amd_ask_ark_genoa.pem"));
    CHECK_ERR(sb_verify_snp_report(report, len, &genoa, at, &c, &err), err, "certificate chain");
    CHECK(c.n_measurements == 0 && c.report_data_len == 0); /* nothing left from a refusal */
    tg_anchors_add_file(&tdxroot, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&tdxroot, tg_vec("tdx/intel_sgx_root_ca.pem"));
    CHECK_ERR(sb_verify_snp_report(report, len, &tdxroot, at, &c, &err), err, "unable to get local issuer");
    CHECK_ERR(sb_verify_snp_report(report, len, &none, at, &c, &err), err, "no SEV-VCEK certificate");
    CHECK_ERR(sb_verify_snp_report(report, len, NULL, at, &c, &err), err, "no SEV-VCEK certificate");

    /* Times outside the VCEK's validity (2022-09-24 .. 2029-09-24). */
    CHECK_ERR(sb_verify_snp_report(report, len, &a, tg_time("2022-01-01T00:00:00Z"), &c, &err), err,
              "not yet valid");
    CHECK_ERR(sb_verify_snp_report(report, len, &a, tg_time("2030-01-01T00:00:00Z"), &c, &err), err,
              "expired");

    /* Truncation at every length and appended bytes (which must parse as a certificate table). */
    int refused = 0;
    for (size_t n = 0; n < len; n++)
        refused += sb_verify_snp_report(report, n, &a, at, &c, &err) != 0 && strstr(err.msg, "need 1184");
    CHECK(refused == (int)len);
    uint8_t *longer = calloc(1, len + 48);
    memcpy(longer, report, len);
    longer[len] = 0x42;
    CHECK_ERR(sb_verify_snp_report(longer, len + 1, &a, at, &c, &err), err, "certificate table");
    CHECK_ERR(sb_verify_snp_report(longer, len + 48, &a, at, &c, &err), err, "certificate table");
    memset(longer + len, 0, 48); /* an empty table (terminator only) is fine */
    CHECK(sb_verify_snp_report(longer, len + 24, &a, at, &c, &err) == 0);
    free(longer);

    /* Every byte flipped. All 1184 bytes are covered: 0x000..0x29f by the signature, r and s by
     * the signature check, the unused high bytes of r/s and the reserved tail 0x330..0x49f by
     * the verifier's must-be-zero rule (they are outside the signed area). */
    uint8_t *copy = malloc(len);
    int flips = 0, flip_refused = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, report, len);
        copy[i] ^= 0x01;
        flips++;
        sb_err_clear(&err);
        if (sb_verify_snp_report(copy, len, &a, at, &c, &err) != 0 && tg_has_reason(&err))
            flip_refused++;
        else
            fprintf(stderr, "snp: flip at 0x%zx accepted\n", i);
    }
    CHECK(flip_refused == flips);
    printf("snp sample: %d/%d single-byte flips refused\n", flip_refused, flips);
    /* A few specific reasons. */
    memcpy(copy, report, len);
    copy[0x50] ^= 1; /* report data */
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "report signature");
    memcpy(copy, report, len);
    copy[0x2a0] ^= 1;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "signature does not verify");
    memcpy(copy, report, len);
    copy[0x400] = 1;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "reserved bytes");
    memcpy(copy, report, len);
    copy[0x48] = 7 << 2;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "signing key 7");
    memcpy(copy, report, len);
    copy[0x34] = 2;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "signature algorithm");
    memcpy(copy, report, len);
    copy[0] = 1;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "version 1");
    memcpy(copy, report, len);
    copy[0x30] = 4;
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "VMPL 4");
    memcpy(copy, report, len);
    copy[0x0a] &= ~2; /* policy bit 17 */
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "bit 17");
    memcpy(copy, report, len);
    copy[0x186] ^= 1; /* reported TCB snp SPL: VCEK extension disagrees */
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "snp SPL");
    memcpy(copy, report, len);
    copy[0x1a0] ^= 1; /* chip id */
    CHECK_ERR(sb_verify_snp_report(copy, len, &a, at, &c, &err), err, "chip ID");
    free(copy);

    tg_anchors_free(&a);
    tg_anchors_free(&both);
    tg_anchors_free(&genoa);
    tg_anchors_free(&tdxroot);
    free(report);
}

/* An extended report: report || table {VCEK, ASK, ARK} with the real certificates. */
static uint8_t *ext_report(const uint8_t *report, X509 **certs, uint8_t (*guids)[16], int n,
                           size_t *out_len)
{
    size_t table = 24 * (size_t)(n + 1), total = table, lens[4];
    uint8_t *ders[4];
    for (int i = 0; i < n; i++) {
        ders[i] = tg_der(certs[i], &lens[i]);
        total += lens[i];
    }
    uint8_t *buf = calloc(1, REPORT_LEN + total);
    memcpy(buf, report, REPORT_LEN);
    uint8_t *t = buf + REPORT_LEN;
    size_t off = table;
    for (int i = 0; i < n; i++) {
        memcpy(t + 24 * i, guids[i], 16);
        put_le32(t + 24 * i + 16, (uint32_t)off);
        put_le32(t + 24 * i + 20, (uint32_t)lens[i]);
        memcpy(t + off, ders[i], lens[i]);
        off += lens[i];
        free(ders[i]);
    }
    *out_len = REPORT_LEN + total;
    return buf;
}

static const uint8_t G_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t G_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                   0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t G_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t G_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* The sample's certificates carried in the report's table instead of the roots: only the ARK
 * must be registered. Damaging any carried certificate is refused. */
static void test_milan_ext_report(void)
{
    size_t len;
    uint8_t *report = tg_read(tg_vec("snp/gosevguest_milan_report_v2.bin"), &len);
    sb_trust_anchors chain = {0}, ark_only = {0};
    tg_anchors_add_file(&chain, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&chain, tg_vec("snp/amd_ask_ark_milan.pem"));
    X509 *certs[3] = {chain.certs[0], chain.certs[1], chain.certs[2]}; /* VCEK, ASK, ARK */
    tg_anchors_add_cert(&ark_only, certs[2]);
    uint8_t guids[3][16];
    memcpy(guids[0], G_VCEK, 16);
    memcpy(guids[1], G_ASK, 16);
    memcpy(guids[2], G_ARK, 16);
    size_t ext_len;
    uint8_t *ext = ext_report(report, certs, guids, 3, &ext_len);
    time_t at = tg_time("2024-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(sb_verify_snp_report(ext, ext_len, &ark_only, at, &c, &err) == 0);
    CHECK(strcmp(c.chain, "SEV-VCEK -> SEV-Milan -> ARK-Milan") == 0);
    /* The ARK copy in the table is not trusted by itself. */
    sb_trust_anchors none = {0};
    CHECK_ERR(sb_verify_snp_report(ext, ext_len, &none, at, &c, &err), err, "certificate chain");

    /* Every byte of the three carried certificates flipped (sampled every 3rd byte; each
     * certificate's header, body, and signature are all hit). The table's GUIDs and
     * offsets are not signed: a damaged entry is refused by the table parser or the chain. */
    uint8_t *copy = malloc(ext_len);
    int flips = 0, refused = 0;
    size_t table = REPORT_LEN + 4 * 24;
    for (size_t i = table; i < ext_len; i += 3) {
        memcpy(copy, ext, ext_len);
        copy[i] ^= 0x01;
        flips++;
        sb_err_clear(&err);
        if (sb_verify_snp_report(copy, ext_len, &ark_only, at, &c, &err) != 0 && tg_has_reason(&err))
            refused++;
        else
            fprintf(stderr, "snp ext: flip at %zu accepted\n", i - table);
    }
    CHECK(refused == flips);
    printf("snp extended report: %d/%d certificate byte flips refused\n", refused, flips);
    /* Table damage with specific reasons. */
    memcpy(copy, ext, ext_len);
    put_le32(copy + REPORT_LEN + 20, 0xffffff);
    CHECK_ERR(sb_verify_snp_report(copy, ext_len, &ark_only, at, &c, &err), err, "outside the table");
    memcpy(copy, ext, ext_len);
    uint8_t *vcek_len = copy + REPORT_LEN + 20; /* one byte short: DER no longer fits */
    put_le32(vcek_len, (uint32_t)(vcek_len[0] | vcek_len[1] << 8) - 1);
    CHECK_ERR(sb_verify_snp_report(copy, ext_len, &ark_only, at, &c, &err), err, "entry 0");
    CHECK_ERR(sb_verify_snp_report(ext, ext_len - 1, &ark_only, at, &c, &err), err, "certificate table");
    free(copy);
    free(ext);
    tg_anchors_free(&chain);
    tg_anchors_free(&ark_only);
    free(report);
}

/* --- synthetic reports signed by generated AMD-style chains ---------------------------------- */

typedef struct amd_chain {
    EVP_PKEY *ark_key, *ask_key, *leaf_key;
    X509 *ark, *ask, *leaf;
} amd_chain;

typedef struct leaf_spec {
    const char *product;  /* productName, e.g. "Genoa-B0" */
    const char *ark_cn;   /* normally "ARK-<product>" */
    int vlek;
    int fmc, bl, tee, snp, ucode;
    uint8_t hwid[64];
} leaf_spec;

static void spl_ext(tg_ext *e, uint8_t *der, const char *oid, int v)
{
    der[0] = 0x02, der[1] = 1, der[2] = (uint8_t)v;
    if (v >= 0x80) { der[1] = 2; der[2] = 0; der[3] = (uint8_t)v; }
    *e = (tg_ext){oid, der, (size_t)(2 + der[1])};
}

static void make_chain(amd_chain *c, const leaf_spec *s)
{
    time_t nb = tg_time("2020-01-01T00:00:00Z"), na = tg_time("2045-01-01T00:00:00Z");
    char base[32], ask_cn[48];
    snprintf(base, sizeof base, "%s", s->product);
    char *dash = strchr(base, '-');
    if (dash)
        *dash = 0;
    snprintf(ask_cn, sizeof ask_cn, s->vlek ? "SEV-VLEK-%s" : "SEV-%s", base);
    c->ark_key = tg_rsa_key(2048);
    c->ask_key = tg_rsa_key(2048);
    c->leaf_key = tg_ec_key(NID_secp384r1);
    c->ark = tg_cert(s->ark_cn, c->ark_key, NULL, NULL, 1, 1, nb, na, NULL, 0);
    c->ask = tg_cert(ask_cn, c->ask_key, c->ark, c->ark_key, 1, 1, nb, na, NULL, 0);
    uint8_t pname[40], spl[5][4];
    size_t plen = strlen(s->product);
    pname[0] = 0x16, pname[1] = (uint8_t)plen;
    memcpy(pname + 2, s->product, plen);
    tg_ext ext[8];
    size_t n = 0;
    ext[n++] = (tg_ext){"1.3.6.1.4.1.3704.1.2", pname, plen + 2};
    spl_ext(&ext[n++], spl[0], "1.3.6.1.4.1.3704.1.3.1", s->bl);
    spl_ext(&ext[n++], spl[1], "1.3.6.1.4.1.3704.1.3.2", s->tee);
    spl_ext(&ext[n++], spl[2], "1.3.6.1.4.1.3704.1.3.3", s->snp);
    spl_ext(&ext[n++], spl[3], "1.3.6.1.4.1.3704.1.3.8", s->ucode);
    if (s->fmc >= 0)
        spl_ext(&ext[n++], spl[4], "1.3.6.1.4.1.3704.1.3.9", s->fmc);
    if (!s->vlek)
        ext[n++] = (tg_ext){"1.3.6.1.4.1.3704.1.4", s->hwid, 64};
    c->leaf = tg_cert(s->vlek ? "SEV-VLEK" : "SEV-VCEK", c->leaf_key, c->ask, c->ask_key, 1, 0,
                      nb, na, ext, n);
}

static void free_chain(amd_chain *c)
{
    EVP_PKEY_free(c->ark_key), EVP_PKEY_free(c->ask_key), EVP_PKEY_free(c->leaf_key);
    X509_free(c->ark), X509_free(c->ask), X509_free(c->leaf);
}

typedef struct report_spec {
    uint32_t version;
    uint8_t family, model;
    uint64_t reported_tcb;
    uint64_t policy;
    uint32_t signer_info;
    uint8_t chip_id[64];
} report_spec;

static void sign_report(uint8_t *b, EVP_PKEY *key)
{
    uint8_t r[48], s[48];
    tg_sign_rs(key, EVP_sha384(), b, 0x2a0, r, s, 48);
    memset(b + 0x2a0, 0, REPORT_LEN - 0x2a0);
    for (int i = 0; i < 48; i++) {
        b[0x2a0 + i] = r[47 - i];
        b[0x2e8 + i] = s[47 - i];
    }
}

static void make_report(uint8_t *b, const report_spec *s, EVP_PKEY *key)
{
    memset(b, 0, REPORT_LEN);
    put_le32(b, s->version);
    put_le64(b + 0x08, s->policy);
    put_le32(b + 0x34, 1);
    put_le64(b + 0x38, s->reported_tcb);
    put_le32(b + 0x48, s->signer_info);
    for (int i = 0; i < 64; i++)
        b[0x50 + i] = (uint8_t)(0xa0 + i); /* report data */
    for (int i = 0; i < 48; i++)
        b[0x90 + i] = (uint8_t)i; /* launch measurement */
    put_le64(b + 0x180, s->reported_tcb);
    b[0x188] = s->family, b[0x189] = s->model;
    memcpy(b + 0x1a0, s->chip_id, 64);
    put_le64(b + 0x1e0, s->reported_tcb);
    put_le64(b + 0x1f0, s->reported_tcb);
    sign_report(b, key);
}

/* Milan/Genoa TCB_VERSION: bl byte 0, tee byte 1, snp byte 6, microcode byte 7. */
static uint64_t tcb_mg(int bl, int tee, int snp, int uc)
{
    return (uint64_t)bl | (uint64_t)tee << 8 | (uint64_t)snp << 48 | (uint64_t)uc << 56;
}
/* Turin: fmc byte 0, bl 1, tee 2, snp 3, microcode 7. */
static uint64_t tcb_turin(int fmc, int bl, int tee, int snp, int uc)
{
    return (uint64_t)fmc | (uint64_t)bl << 8 | (uint64_t)tee << 16 | (uint64_t)snp << 24 |
           (uint64_t)uc << 56;
}

static void test_synthetic_vcek_genoa(void)
{
    leaf_spec ls = {"Genoa-B1", "ARK-Genoa", 0, -1, 7, 0, 14, 72, {0}};
    for (int i = 0; i < 64; i++)
        ls.hwid[i] = (uint8_t)(i * 3);
    amd_chain ch;
    make_chain(&ch, &ls);
    report_spec rs = {3, 0x19, 0x11, tcb_mg(7, 0, 14, 72), 0x30000, 0, {0}};
    memcpy(rs.chip_id, ls.hwid, 64);
    uint8_t b[REPORT_LEN];
    make_report(b, &rs, ch.leaf_key);
    X509 *certs[3] = {ch.leaf, ch.ask, ch.ark};
    uint8_t guids[3][16];
    memcpy(guids[0], G_VCEK, 16), memcpy(guids[1], G_ASK, 16), memcpy(guids[2], G_ARK, 16);
    size_t ext_len;
    uint8_t *ext = ext_report(b, certs, guids, 3, &ext_len);
    sb_trust_anchors ark = {0}, full = {0};
    tg_anchors_add_cert(&ark, ch.ark);
    tg_anchors_add_cert(&full, ch.ark), tg_anchors_add_cert(&full, ch.ask), tg_anchors_add_cert(&full, ch.leaf);
    time_t at = tg_time("2026-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(sb_verify_snp(ext, ext_len, &ark, at, &c, &err) == 0);
    CHECK(strcmp(c.signer, "VCEK (Genoa)") == 0 && c.debug == 0);
    CHECK(c.report_data[0] == 0xa0 && c.report_data[63] == 0xdf);
    CHECK(strcmp(c.chain, "SEV-VCEK -> SEV-Genoa -> ARK-Genoa") == 0);
    CHECK(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err) == 0);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &ark, at, &c, &err), err, "no SEV-VCEK");

    /* debug allowed in the policy: exposed by the vendor checks, refused for an isolate */
    rs.policy = 0x30000 | 1u << 19;
    make_report(b, &rs, ch.leaf_key);
    CHECK(sb_verify_snp_report(b, REPORT_LEN, &full, at, &c, &err) == 0 && c.debug == 1);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "allows debugging (bit 19)");
    rs.policy = 0x30000;
    /* CPUID says Milan, certificate is for Genoa */
    rs.model = 0x01;
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "CPUID says Milan");
    rs.family = 0x17;
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "not a known SEV-SNP product");
    rs.family = 0x19, rs.model = 0xa1; /* Genoa family (Bergamo/Siena) models */
    make_report(b, &rs, ch.leaf_key);
    CHECK(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err) == 0);
    /* reported TCB differs from the VCEK's extensions */
    rs.reported_tcb = tcb_mg(7, 0, 15, 72);
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "snp SPL 15");
    rs.reported_tcb = tcb_mg(7, 0, 14, 73);
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "microcode SPL 73");
    rs.reported_tcb = tcb_mg(7, 0, 14, 72);
    /* chip ID differs from hwID, unless the report masks it */
    rs.chip_id[5] ^= 1;
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "chip ID");
    memset(rs.chip_id, 0, 64);
    rs.signer_info = 2; /* MASK_CHIP_ID */
    make_report(b, &rs, ch.leaf_key);
    CHECK(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err) == 0);
    /* says VLEK-signed: needs a VLEK */
    rs.signer_info = 1 << 2;
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "no SEV-VLEK");
    /* signed by another key */
    EVP_PKEY *other = tg_ec_key(NID_secp384r1);
    rs.signer_info = 2;
    make_report(b, &rs, other);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &full, at, &c, &err), err, "report signature");
    EVP_PKEY_free(other);
    free(ext);
    tg_anchors_free(&ark), tg_anchors_free(&full);
    free_chain(&ch);
}

static void test_synthetic_vlek_turin(void)
{
    /* VLEK -> ASVK -> ARK on Turin (FMC field, new TCB layout), v5 report. */
    leaf_spec ls = {"Turin-B0", "ARK-Turin", 1, 1, 2, 3, 4, 5, {0}};
    amd_chain ch;
    make_chain(&ch, &ls);
    report_spec rs = {5, 0x1a, 0x02, tcb_turin(1, 2, 3, 4, 5), 0x30000, 1 << 2, {0}};
    uint8_t b[REPORT_LEN];
    make_report(b, &rs, ch.leaf_key);
    X509 *certs[2] = {ch.leaf, ch.ask};
    uint8_t guids[2][16];
    memcpy(guids[0], G_VLEK, 16), memcpy(guids[1], G_ASK, 16);
    size_t ext_len;
    uint8_t *ext = ext_report(b, certs, guids, 2, &ext_len);
    sb_trust_anchors ark = {0}, roots = {0};
    tg_anchors_add_cert(&ark, ch.ark);
    tg_anchors_add_cert(&roots, ch.leaf), tg_anchors_add_cert(&roots, ch.ark), tg_anchors_add_cert(&roots, ch.ask);
    time_t at = tg_time("2026-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(sb_verify_snp(ext, ext_len, &ark, at, &c, &err) == 0);
    CHECK(strcmp(c.signer, "VLEK (Turin)") == 0);
    CHECK(strcmp(c.chain, "SEV-VLEK -> SEV-VLEK-Turin -> ARK-Turin") == 0);
    CHECK(strstr(c.tcb, "fmc=1 bootloader=2 tee=3 snp=4 microcode=5") != NULL);
    CHECK(sb_verify_snp(b, REPORT_LEN, &roots, at, &c, &err) == 0);
    /* Turin layout: a Milan-style TCB value does not match */
    rs.reported_tcb = tcb_mg(2, 3, 4, 5);
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &roots, at, &c, &err), err, "SPL");
    /* without the ASVK the VLEK does not chain */
    sb_trust_anchors no_asvk = {0};
    tg_anchors_add_cert(&no_asvk, ch.leaf), tg_anchors_add_cert(&no_asvk, ch.ark);
    rs.reported_tcb = tcb_turin(1, 2, 3, 4, 5);
    make_report(b, &rs, ch.leaf_key);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &no_asvk, at, &c, &err), err, "VLEK: certificate chain");
    free(ext);
    tg_anchors_free(&ark), tg_anchors_free(&roots), tg_anchors_free(&no_asvk);
    free_chain(&ch);
}

static void test_synthetic_product_mismatch(void)
{
    /* A Genoa VCEK under a root named ARK-Milan: the chain verifies but crosses products. */
    leaf_spec ls = {"Genoa-B0", "ARK-Milan", 0, -1, 1, 0, 1, 1, {0}};
    amd_chain ch;
    make_chain(&ch, &ls);
    report_spec rs = {2, 0, 0, tcb_mg(1, 0, 1, 1), 0x30000, 0, {0}};
    uint8_t b[REPORT_LEN];
    make_report(b, &rs, ch.leaf_key);
    sb_trust_anchors a = {0};
    tg_anchors_add_cert(&a, ch.leaf), tg_anchors_add_cert(&a, ch.ask), tg_anchors_add_cert(&a, ch.ark);
    sb_claims c;
    sb_err err = {0};
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &a, tg_time("2026-01-01T00:00:00Z"), &c, &err), err,
              "not the Genoa root ARK-Genoa");
    tg_anchors_free(&a);
    free_chain(&ch);
    leaf_spec unknown = {"Venice-A0", "ARK-Venice", 0, -1, 1, 0, 1, 1, {0}};
    make_chain(&ch, &unknown);
    make_report(b, &rs, ch.leaf_key);
    tg_anchors_add_cert(&a, ch.leaf), tg_anchors_add_cert(&a, ch.ask), tg_anchors_add_cert(&a, ch.ark);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &a, tg_time("2026-01-01T00:00:00Z"), &c, &err), err,
              "unknown product 'Venice-A0'");
    tg_anchors_free(&a);
    free_chain(&ch);
}

/* --- launch rules (sb_verify_snp) on the real report ------------------------------------------ */

/* The captured report allows debugging (policy 0xb0000). Its signature and chain are genuine, so
 * the refusal is the rule's own. Then copies of the real report with one field changed, re-signed
 * by a test chain whose VCEK carries the report's TCB and chip ID: every other field stays real,
 * the signature verifies, and only the launch rule can refuse. */
static void test_launch_rules(void)
{
    size_t len;
    uint8_t *real = tg_read(tg_vec("snp/gosevguest_milan_report_v2.bin"), &len);
    time_t at = tg_time("2024-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    sb_trust_anchors amd = {0};
    tg_anchors_add_file(&amd, tg_vec("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&amd, tg_vec("snp/amd_ask_ark_milan.pem"));
    CHECK(sb_verify_snp_report(real, len, &amd, at, &c, &err) == 0 && c.debug == 1);
    CHECK_ERR(sb_verify_snp(real, len, &amd, at, &c, &err), err,
              "snp: guest policy 0xb0000 allows debugging (bit 19)");
    CHECK(c.n_measurements == 0 && c.report_data_len == 0); /* nothing kept from a refusal */
    tg_anchors_free(&amd);

    uint64_t tcb = 0;
    for (int i = 7; i >= 0; i--)
        tcb = tcb << 8 | real[0x180 + i];
    leaf_spec ls = {"Milan-B0", "ARK-Milan", 0, -1, (int)(tcb & 0xff), (int)(tcb >> 8 & 0xff),
                    (int)(tcb >> 48 & 0xff), (int)(tcb >> 56 & 0xff), {0}};
    memcpy(ls.hwid, real + 0x1a0, 64);
    amd_chain ch;
    make_chain(&ch, &ls);
    sb_trust_anchors test = {0};
    tg_anchors_add_cert(&test, ch.leaf), tg_anchors_add_cert(&test, ch.ask);
    tg_anchors_add_cert(&test, ch.ark);
    uint8_t b[REPORT_LEN];
    struct { uint64_t policy; uint32_t vmpl; const char *reason; } v[] = {
        {0x30000, 0, NULL}, /* debug cleared: the rest of the real report passes */
        {0x30000 | 1u << 19, 0, "guest policy 0xb0000 allows debugging (bit 19)"},
        {0x30000 | 1u << 18, 0, "guest policy 0x70000 allows a migration agent (bit 18)"},
        {0x30000 | 1u << 18 | 1u << 19, 0, "allows debugging (bit 19)"},
        {0x30000, 1, "the report was requested at VMPL 1, not 0"},
        {0x30000, 3, "requested at VMPL 3, not 0"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        memcpy(b, real, REPORT_LEN);
        put_le64(b + 0x08, v[i].policy);
        put_le32(b + 0x30, v[i].vmpl);
        sign_report(b, ch.leaf_key);
        sb_err_clear(&err);
        CHECK(sb_verify_snp_report(b, REPORT_LEN, &test, at, &c, &err) == 0); /* signed, valid */
        if (!v[i].reason) {
            CHECK(sb_verify_snp(b, REPORT_LEN, &test, at, &c, &err) == 0 && c.debug == 0);
            CHECK(memcmp(c.measurements[0].value, real + 0x90, 48) == 0);
            CHECK(memcmp(c.report_data, real + 0x50, 64) == 0);
        } else {
            CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &test, at, &c, &err), err, v[i].reason);
        }
    }
    /* The same change without re-signing is a forgery: the signature refuses it first. */
    memcpy(b, real, REPORT_LEN);
    put_le64(b + 0x08, 0x30000);
    CHECK_ERR(sb_verify_snp(b, REPORT_LEN, &test, at, &c, &err), err, "report signature");
    tg_anchors_free(&test);
    free_chain(&ch);
    free(real);
}

int main(int argc, char **argv)
{
    tg_vectors_init(argc, argv, "test_snp");
    test_milan_sample();
    test_milan_ext_report();
    test_synthetic_vcek_genoa();
    test_synthetic_vlek_turin();
    test_synthetic_product_mismatch();
    test_launch_rules();
    if (tg_failures)
        fprintf(stderr, "%d failures\n", tg_failures);
    return tg_failures ? 1 : 0;
}
