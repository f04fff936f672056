/* snp.c - AMD SEV-SNP attestation report verifier.
 *
 * Evidence: the 1184-byte ATTESTATION_REPORT (SEV-SNP firmware ABI, table "ATTESTATION_REPORT
 * Structure"), optionally followed by the GHCB extended-report certificate table (what
 * SNP_GET_EXT_REPORT and configfs-tsm's auxblob return). Checked: version >= 2, signature
 * algorithm ECDSA P-384 SHA-384, the signer named by the signer-info bits (VCEK or VLEK), its
 * chain VCEK->ASK->ARK / VLEK->ASVK->ARK (RSA-PSS SHA-384) to a self-signed ARK among the anchors,
 * same product along the chain (and the CPUID family/model of v3+ reports), the reported TCB equal
 * to the VCEK/VLEK TCB extensions, the chip ID equal to the VCEK hwID, policy reserved bit, VMPL
 * range, and that the bytes outside the signed area are zero. sb_verify_snp then applies the launch
 * rules of a Strongbox isolate to the verified report: no debugging, no migration agent, VMPL 0. */
#include "verifiers/verifiers.h"
#include "verifiers/vutil.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#define SNP_REPORT_LEN 1184
#define SNP_SIGNED_LEN 0x2a0
#define SNP_SIG_COMPONENT 72   /* r and s are 72-byte little-endian fields ... */
#define SNP_P384_LEN 48        /* ... of which the low 48 bytes carry a P-384 value */
#define SNP_CERT_TABLE_MAX 64  /* entries; real tables have 3 or 4 */

/* Field offsets in the report. */
enum {
    OFF_VERSION = 0x00, OFF_GUEST_SVN = 0x04, OFF_POLICY = 0x08, OFF_FAMILY_ID = 0x10,
    OFF_IMAGE_ID = 0x20, OFF_VMPL = 0x30, OFF_SIG_ALGO = 0x34, OFF_CURRENT_TCB = 0x38,
    OFF_PLATFORM_INFO = 0x40, OFF_SIGNER_INFO = 0x48, OFF_REPORT_DATA = 0x50,
    OFF_MEASUREMENT = 0x90, OFF_HOST_DATA = 0xc0, OFF_ID_KEY_DIGEST = 0xe0,
    OFF_AUTHOR_KEY_DIGEST = 0x110, OFF_REPORTED_TCB = 0x180, OFF_CPUID_FAM = 0x188,
    OFF_CPUID_MOD = 0x189, OFF_CHIP_ID = 0x1a0, OFF_COMMITTED_TCB = 0x1e0, OFF_LAUNCH_TCB = 0x1f0,
    OFF_SIG_R = 0x2a0, OFF_SIG_S = 0x2e8, OFF_SIG_END = 0x330,
};

#define POLICY_RESERVED_ONE (1ull << 17)
#define POLICY_MIGRATE_MA (1ull << 18)
#define POLICY_DEBUG (1ull << 19)

enum snp_product { PRODUCT_UNKNOWN, PRODUCT_MILAN, PRODUCT_GENOA, PRODUCT_TURIN };
static const char *const product_names[] = {"unknown", "Milan", "Genoa", "Turin"};

/* TCB_VERSION components as the product lays them out (Turin added FMC and moved fields). */
typedef struct snp_tcb {
    int fmc, bootloader, tee, snp, microcode;
} snp_tcb;

static snp_tcb decode_tcb(uint64_t v, enum snp_product p)
{
    snp_tcb t;
    if (p == PRODUCT_TURIN) {
        t = (snp_tcb){(int)(v & 0xff), (int)(v >> 8 & 0xff), (int)(v >> 16 & 0xff),
                      (int)(v >> 24 & 0xff), (int)(v >> 56 & 0xff)};
    } else {
        t = (snp_tcb){-1, (int)(v & 0xff), (int)(v >> 8 & 0xff), (int)(v >> 48 & 0xff),
                      (int)(v >> 56 & 0xff)};
    }
    return t;
}

static enum snp_product product_from_name(const char *name)
{
    for (int p = PRODUCT_MILAN; p <= PRODUCT_TURIN; p++) {
        size_t n = strlen(product_names[p]);
        if (strncmp(name, product_names[p], n) == 0 && (name[n] == '\0' || name[n] == '-'))
            return (enum snp_product)p;
    }
    return PRODUCT_UNKNOWN;
}

/* Family/model from CPUID (reports v3+), per AMD's product list. 0 = unknown. */
static enum snp_product product_from_cpuid(int family, int model)
{
    if (family == 0x19 && model <= 0x0f)
        return PRODUCT_MILAN;
    if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
        return PRODUCT_GENOA;
    if (family == 0x1a && model <= 0x11)
        return PRODUCT_TURIN;
    return PRODUCT_UNKNOWN;
}

/* --- AMD certificate extensions (OIDs under 1.3.6.1.4.1.3704.1) ---------------------------- */

static const ASN1_OCTET_STRING *ext_value(X509 *cert, const char *oid_text)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    if (!oid)
        return NULL;
    int idx = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    if (idx < 0)
        return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(cert, idx));
}

/* An SPL extension: a DER INTEGER 0..255 inside the extension value. -1 if absent/malformed. */
static int ext_spl(X509 *cert, const char *oid_text)
{
    const ASN1_OCTET_STRING *v = ext_value(cert, oid_text);
    if (!v)
        return -1;
    const unsigned char *p = ASN1_STRING_get0_data(v);
    ASN1_INTEGER *i = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(v));
    long val = -1;
    if (i && p == ASN1_STRING_get0_data(v) + ASN1_STRING_length(v))
        val = ASN1_INTEGER_get(i);
    ASN1_INTEGER_free(i);
    return val >= 0 && val <= 255 ? (int)val : -1;
}

/* productName: an IA5String such as "Milan-B0". */
static int ext_product(X509 *cert, char *buf, size_t len)
{
    const ASN1_OCTET_STRING *v = ext_value(cert, "1.3.6.1.4.1.3704.1.2");
    if (!v)
        return -1;
    const unsigned char *p = ASN1_STRING_get0_data(v);
    ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, ASN1_STRING_length(v));
    int rc = -1;
    if (s && ASN1_STRING_length(s) > 0 && (size_t)ASN1_STRING_length(s) < len &&
        !memchr(ASN1_STRING_get0_data(s), 0, (size_t)ASN1_STRING_length(s))) {
        memcpy(buf, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
        buf[ASN1_STRING_length(s)] = '\0';
        rc = 0;
    }
    ASN1_IA5STRING_free(s);
    return rc;
}

/* hwID: the 64-byte chip ID, raw in the extension value (KDS) or as a DER OCTET STRING. */
static int ext_hwid(X509 *cert, uint8_t out[64])
{
    const ASN1_OCTET_STRING *v = ext_value(cert, "1.3.6.1.4.1.3704.1.4");
    if (!v)
        return -1;
    const unsigned char *p = ASN1_STRING_get0_data(v);
    int len = ASN1_STRING_length(v);
    if (len == 64) {
        memcpy(out, p, 64);
        return 0;
    }
    if (len == 66 && p[0] == 0x04 && p[1] == 64) {
        memcpy(out, p + 2, 64);
        return 0;
    }
    return -1;
}

/* The signing certificate's TCB extensions must equal the report's REPORTED_TCB: the VCEK is
 * derived from exactly that TCB, so a mismatch means the report and certificate disagree. */
static int check_cert_tcb(X509 *cert, snp_tcb rep, enum snp_product product, sb_err *err)
{
    struct { const char *oid, *name; int want; } f[] = {
        {"1.3.6.1.4.1.3704.1.3.1", "bootloader", rep.bootloader},
        {"1.3.6.1.4.1.3704.1.3.2", "tee", rep.tee},
        {"1.3.6.1.4.1.3704.1.3.3", "snp", rep.snp},
        {"1.3.6.1.4.1.3704.1.3.8", "microcode", rep.microcode},
        {"1.3.6.1.4.1.3704.1.3.9", "fmc", rep.fmc},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].want < 0 && product != PRODUCT_TURIN)
            continue; /* FMC exists on Turin only */
        int got = ext_spl(cert, f[i].oid);
        if (got < 0)
            return sb_err_set(err, 1, "signing certificate lacks a valid %s SPL extension (%s)",
                              f[i].name, f[i].oid);
        if (got != f[i].want)
            return sb_err_set(err, 1,
                              "reported TCB %s SPL %d does not match the signing certificate's %d",
                              f[i].name, f[i].want, got);
    }
    return 0;
}

/* --- extended report certificate table --------------------------------------------------- */

/* GUIDs of the GHCB certificate table, in the text byte order; tables in the wild store them
 * in that order or in the mixed-endian UEFI order, so both are recognised (trust comes from the
 * chain, never from the GUID). */
static const uint8_t guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_vlek[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

static const uint8_t guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

static int guid_is(const uint8_t *g, const uint8_t want[16])
{
    uint8_t mixed[16] = {want[3], want[2], want[1], want[0], want[5], want[4], want[7], want[6]};
    memcpy(mixed + 8, want + 8, 8);
    return memcmp(g, want, 16) == 0 || memcmp(g, mixed, 16) == 0;
}

/* Parses the table that follows the report: 24-byte entries {guid, offset, length} ending with
 * an all-zero entry; offsets are from the table's start. VCEK/VLEK entries become candidate
 * signers; ASK (or ASVK, which hosts deliver under the ASK GUID) and ARK entries are untrusted
 * copies that the verified chain must then use. Entries with other GUIDs (e.g. a CRL) are
 * bounds-checked and skipped: the table is not signed and only certificates matter to trust. */
static int parse_cert_table(const uint8_t *t, size_t len, STACK_OF(X509) *signers,
                            STACK_OF(X509) *others, sb_err *err)
{
    for (size_t i = 0;; i++) {
        if (i >= SNP_CERT_TABLE_MAX)
            return sb_err_set(err, 1, "certificate table: more than %d entries", SNP_CERT_TABLE_MAX);
        if ((i + 1) * 24 > len)
            return sb_err_set(err, 1, "certificate table: entry %zu runs past the end", i);
        const uint8_t *e = t + i * 24;
        uint32_t off = sbv_le32(e + 16), n = sbv_le32(e + 20);
        if (sbv_all_zero(e, 24))
            return 0;
        if (off > len || n > len - off || n == 0 || off < (i + 1) * 24)
            return sb_err_set(err, 1, "certificate table: entry %zu (offset %u, length %u) is "
                              "outside the table", i, off, n);
        int is_signer = guid_is(e, guid_vcek) || guid_is(e, guid_vlek);
        if (!is_signer && !guid_is(e, guid_ask) && !guid_is(e, guid_ark))
            continue;
        const unsigned char *p = t + off;
        X509 *cert = d2i_X509(NULL, &p, n);
        if (cert && p != t + off + n) {
            X509_free(cert);
            return sb_err_set(err, 1, "certificate table: entry %zu has bytes after its "
                              "certificate", i);
        }
        if (!cert)
            return sb_err_set(err, 1, "certificate table: entry %zu is not a DER certificate", i);
        if (!sk_X509_push(is_signer ? signers : others, cert)) {
            X509_free(cert);
            return sb_err_set(err, 1, "out of memory");
        }
    }
}

/* --- the report ---------------------------------------------------------------------------- */

typedef struct snp_report {
    const uint8_t *b;
    int signer_vlek;    /* signing key: 0 VCEK, 1 VLEK */
    int mask_chip_id;
    enum snp_product cpuid_product; /* from a v3+ report, else unknown */
} snp_report;

static int check_report_fields(const uint8_t *b, snp_report *r, sb_err *err)
{
    uint32_t version = sbv_le32(b + OFF_VERSION);
    if (version < 2)
        return sb_err_set(err, 1, "report version %u is not supported (need 2 or later)", version);
    if (sbv_le32(b + OFF_SIG_ALGO) != 1)
        return sb_err_set(err, 1, "signature algorithm %u is not ECDSA P-384 SHA-384 (1)",
                          sbv_le32(b + OFF_SIG_ALGO));
    if (!(sbv_le64(b + OFF_POLICY) & POLICY_RESERVED_ONE))
        return sb_err_set(err, 1, "guest policy bit 17 (reserved, must be 1) is 0");
    if (sbv_le32(b + OFF_VMPL) > 3)
        return sb_err_set(err, 1, "VMPL %u is out of range 0..3", sbv_le32(b + OFF_VMPL));
    uint32_t info = sbv_le32(b + OFF_SIGNER_INFO);
    unsigned key = info >> 2 & 7;
    if (key > 1)
        return sb_err_set(err, 1, "signer info names signing key %u (%s): the report is unsigned "
                          "or signed by an unknown key", key, key == 7 ? "none" : "reserved");
    r->b = b;
    r->signer_vlek = key == 1;
    r->mask_chip_id = (info >> 1) & 1;
    r->cpuid_product = version >= 3 ? product_from_cpuid(b[OFF_CPUID_FAM], b[OFF_CPUID_MOD])
                                    : PRODUCT_UNKNOWN;
    if (version >= 3 && r->cpuid_product == PRODUCT_UNKNOWN)
        return sb_err_set(err, 1, "CPUID family 0x%02x model 0x%02x is not a known SEV-SNP product",
                          b[OFF_CPUID_FAM], b[OFF_CPUID_MOD]);
    /* The signature fields are 72 bytes for a 48-byte value, and 0x330..0x4a0 is reserved: none
     * of it is signed, so a non-zero byte there is refused rather than silently carried along. */
    if (!sbv_all_zero(b + OFF_SIG_R + SNP_P384_LEN, SNP_SIG_COMPONENT - SNP_P384_LEN) ||
        !sbv_all_zero(b + OFF_SIG_S + SNP_P384_LEN, SNP_SIG_COMPONENT - SNP_P384_LEN))
        return sb_err_set(err, 1, "signature: r or s has non-zero bytes above 384 bits");
    if (!sbv_all_zero(b + OFF_SIG_END, SNP_REPORT_LEN - OFF_SIG_END))
        return sb_err_set(err, 1, "unsigned reserved bytes 0x330..0x49f are not zero");
    return 0;
}

static int verify_report_signature(const uint8_t *b, EVP_PKEY *key, sb_err *err)
{
    uint8_t r[SNP_P384_LEN], s[SNP_P384_LEN];
    for (int i = 0; i < SNP_P384_LEN; i++) { /* little-endian in the report, big-endian for BN */
        r[i] = b[OFF_SIG_R + SNP_P384_LEN - 1 - i];
        s[i] = b[OFF_SIG_S + SNP_P384_LEN - 1 - i];
    }
    return sbv_ecdsa_verify_rs(key, EVP_sha384(), b, SNP_SIGNED_LEN, r, s, SNP_P384_LEN, err);
}

/* Everything about one candidate signing certificate except its chain. */
static int check_signer_cert(const snp_report *r, X509 *cert, enum snp_product *product, sb_err *err)
{
    char pname[32];
    if (ext_product(cert, pname, sizeof pname) != 0)
        return sb_err_set(err, 1, "signing certificate has no productName extension");
    *product = product_from_name(pname);
    if (*product == PRODUCT_UNKNOWN)
        return sb_err_set(err, 1, "signing certificate names unknown product '%s'", pname);
    if (r->cpuid_product != PRODUCT_UNKNOWN && r->cpuid_product != *product)
        return sb_err_set(err, 1, "report CPUID says %s but the signing certificate is for %s",
                          product_names[r->cpuid_product], product_names[*product]);
    if (check_cert_tcb(cert, decode_tcb(sbv_le64(r->b + OFF_REPORTED_TCB), *product), *product, err))
        return -1;
    if (!r->signer_vlek && !r->mask_chip_id) {
        uint8_t hwid[64];
        if (ext_hwid(cert, hwid) != 0)
            return sb_err_set(err, 1, "VCEK has no valid hwID extension");
        if (memcmp(hwid, r->b + OFF_CHIP_ID, 64) != 0)
            return sb_err_set(err, 1, "report chip ID does not match the VCEK hwID");
    }
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 384)
        return sb_err_set(err, 1, "signing certificate key is not ECDSA P-384");
    if (verify_report_signature(r->b, key, err) != 0) {
        sb_err_prefix(err, "report signature");
        return -1;
    }
    return 0;
}

/* The root reached must be the product's ARK ("ARK-Milan"): roots of several products may be
 * registered at once, and a chain must not cross products. */
static int check_root_product(X509 *root, enum snp_product product, sb_err *err)
{
    char cn[128], want[32];
    sbv_cert_cn(root, cn, sizeof cn);
    snprintf(want, sizeof want, "ARK-%s", product_names[product]);
    if (strcmp(cn, want) != 0)
        return sb_err_set(err, 1, "chain ends at '%s', not the %s root %s", cn,
                          product_names[product], want);
    return 0;
}

static int cert_cn_is(X509 *cert, const char *want)
{
    char cn[64];
    sbv_cert_cn(cert, cn, sizeof cn);
    return strcmp(cn, want) == 0;
}

static void fill_claims(const snp_report *r, enum snp_product product, sb_claims *out)
{
    const uint8_t *b = r->b;
    /* The table has room: SB_MAX_MEASUREMENTS is far above these six. */
    sbv_add_measurement(out, "launch", b + OFF_MEASUREMENT, 48, NULL);
    sbv_add_measurement(out, "host_data", b + OFF_HOST_DATA, 32, NULL);
    sbv_add_measurement(out, "id_key_digest", b + OFF_ID_KEY_DIGEST, 48, NULL);
    sbv_add_measurement(out, "author_key_digest", b + OFF_AUTHOR_KEY_DIGEST, 48, NULL);
    sbv_add_measurement(out, "family_id", b + OFF_FAMILY_ID, 16, NULL);
    sbv_add_measurement(out, "image_id", b + OFF_IMAGE_ID, 16, NULL);
    memcpy(out->report_data, b + OFF_REPORT_DATA, 64);
    out->report_data_len = 64;
    uint64_t policy = sbv_le64(b + OFF_POLICY);
    out->debug = (policy & POLICY_DEBUG) != 0;
    snp_tcb rep = decode_tcb(sbv_le64(b + OFF_REPORTED_TCB), product);
    snp_tcb cur = decode_tcb(sbv_le64(b + OFF_CURRENT_TCB), product);
    char fmc[16] = "";
    if (product == PRODUCT_TURIN)
        snprintf(fmc, sizeof fmc, "fmc=%d ", rep.fmc);
    snprintf(out->tcb, sizeof out->tcb,
             "report v%u; reported TCB %sbootloader=%d tee=%d snp=%d microcode=%d; current TCB "
             "snp=%d microcode=%d; guest svn %u; policy 0x%llx (debug %s); vmpl %u; platform "
             "info 0x%llx", sbv_le32(b + OFF_VERSION), fmc, rep.bootloader, rep.tee, rep.snp,
             rep.microcode, cur.snp, cur.microcode, sbv_le32(b + OFF_GUEST_SVN),
             (unsigned long long)policy, out->debug ? "allowed" : "off", sbv_le32(b + OFF_VMPL),
             (unsigned long long)sbv_le64(b + OFF_PLATFORM_INFO));
    snprintf(out->signer, sizeof out->signer, "%s (%s)", r->signer_vlek ? "VLEK" : "VCEK",
             product_names[product]);
}

/* Tries one candidate: fields, signature, chain, root product. */
static int try_signer(const snp_report *r, X509 *cert, STACK_OF(X509) *carried,
                      const sb_trust_anchors *anchors, time_t at, sb_claims *out, sb_err *err)
{
    enum snp_product product = PRODUCT_UNKNOWN;
    X509 *root = NULL;
    if (check_signer_cert(r, cert, &product, err) != 0)
        return -1;
    if (sbv_verify_chain(cert, carried, anchors, at, out->chain, sizeof out->chain, &root, err)) {
        sb_err_prefix(err, "%s", r->signer_vlek ? "VLEK" : "VCEK");
        return -1;
    }
    int rc = check_root_product(root, product, err);
    X509_free(root);
    if (rc == 0)
        fill_claims(r, product, out);
    return rc;
}

/* Candidates: the signing certificates in the evidence's table, then any among the anchors
 * whose subject is the expected "SEV-VCEK"/"SEV-VLEK". The first that fully verifies wins;
 * otherwise the error of the last one tried is reported. */
static int verify_with_candidates(const snp_report *r, STACK_OF(X509) *table_signers,
                                  STACK_OF(X509) *table_others, const sb_trust_anchors *anchors,
                                  time_t at, sb_claims *out, sb_err *err)
{
    const char *want = r->signer_vlek ? "SEV-VLEK" : "SEV-VCEK";
    int tried = 0;
    for (int i = 0; i < sk_X509_num(table_signers); i++) {
        X509 *c = sk_X509_value(table_signers, i);
        if (!cert_cn_is(c, want))
            continue;
        tried++;
        if (try_signer(r, c, table_others, anchors, at, out, err) == 0)
            return 0;
    }
    for (size_t i = 0; anchors && i < anchors->n_certs; i++) {
        if (!cert_cn_is(anchors->certs[i], want))
            continue;
        tried++;
        if (try_signer(r, anchors->certs[i], table_others, anchors, at, out, err) == 0)
            return 0;
    }
    if (!tried)
        return sb_err_set(err, 1, "the report is signed by a %s but no %s certificate was given "
                          "(in the evidence or the roots)", r->signer_vlek ? "VLEK" : "VCEK", want);
    return -1;
}

int sb_verify_snp_report(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors,
                         time_t at, sb_claims *out, sb_err *err)
{
    sbv_claims_init(out, "sev-snp");
    if (len < SNP_REPORT_LEN)
        return sb_err_set(err, 1, "snp: report is %zu bytes, need %d", len, SNP_REPORT_LEN);
    snp_report r;
    if (check_report_fields(evidence, &r, err) != 0) {
        sb_err_prefix(err, "snp");
        return -1;
    }
    STACK_OF(X509) *signers = sk_X509_new_null(), *others = sk_X509_new_null();
    int rc = -1;
    if (!signers || !others) {
        sb_err_set(err, 1, "out of memory");
    } else if (len == SNP_REPORT_LEN || parse_cert_table(evidence + SNP_REPORT_LEN,
                                                         len - SNP_REPORT_LEN, signers, others,
                                                         err) == 0) {
        rc = verify_with_candidates(&r, signers, others, anchors, at, out, err);
    }
    sk_X509_pop_free(signers, X509_free);
    sk_X509_pop_free(others, X509_free);
    if (rc != 0) {
        sb_err_prefix(err, "snp");
        sb_claims keep_platform;
        sbv_claims_init(&keep_platform, "sev-snp");
        *out = keep_platform; /* no partial claims from a refused report */
    }
    return rc;
}

/* Each of these lets software outside the measured launch read or change the guest: with DEBUG
 * the hypervisor decrypts and encrypts guest memory (SNP_DBG_DECRYPT/ENCRYPT); a migration agent
 * may export the guest's memory and state; a report from VMPL 1..3 was asked for by code that runs
 * under a more privileged, unmeasured-by-us layer at VMPL 0 that can change its memory. */
static int check_launch_rules(const uint8_t *b, sb_err *err)
{
    uint64_t policy = sbv_le64(b + OFF_POLICY);
    if (policy & POLICY_DEBUG)
        return sb_err_set(err, 1, "guest policy 0x%llx allows debugging (bit 19): the host can "
                          "decrypt the guest's memory", (unsigned long long)policy);
    if (policy & POLICY_MIGRATE_MA)
        return sb_err_set(err, 1, "guest policy 0x%llx allows a migration agent (bit 18): the "
                          "guest's memory can be exported", (unsigned long long)policy);
    uint32_t vmpl = sbv_le32(b + OFF_VMPL);
    if (vmpl != 0)
        return sb_err_set(err, 1, "the report was requested at VMPL %u, not 0: a more privileged "
                          "layer can change the guest", vmpl);
    return 0;
}

int sb_verify_snp(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err)
{
    if (sb_verify_snp_report(evidence, len, anchors, at, out, err) != 0)
        return -1;
    if (check_launch_rules(evidence, err) != 0) {
        sb_err_prefix(err, "snp");
        sbv_claims_init(out, "sev-snp"); /* no claims from a refused report */
        return -1;
    }
    return 0;
}
