/* tdx.c - Intel TDX quote verifier (quote format versions 4 and 5, ECDSA P-256 attestation key).
 *
 * Layout (Intel TDX DCAP Quote Generation Library and Quote Verification Library API, "Quote
 * Format"): 48-byte header; v4: the 584-byte TD report body; v5: a descriptor {u16 type, u32 size}
 * then a 584-byte (type 2, TDX 1.0) or 648-byte (type 3, TDX 1.5) body; then u32 signature data
 * length and the signature data: ECDSA signature (64) and attestation key (64) followed by
 * certification data type 6 = {QE report (384), QE report signature (64), u16 auth data size, auth
 * data, certification data type 5 = PEM PCK chain}. Bytes after the lengths the quote declares are
 * not part of it and are ignored (the sample carries 39 such bytes).
 *
 * Checked: header version/key type/TEE type/QE vendor, the attestation key's signature over
 * header and body, the PCK chain to a self-signed Intel root among the anchors at time `at`, the
 * QE report signature by the PCK key, and QE report data = SHA-256(attestation key || auth data).
 * Not checked (needs Intel PCS collateral, fetched and refreshed by a service, not carried in the
 * quote): TCB info / TCB level status for the FMSPC, QE identity, PCK CRLs.
 *
 * Refused even when genuine: a TD with TD_ATTRIBUTES.DEBUG set (the host can read and change its
 * state, so no measurement means anything). The primary measurement is the "td-launch" composite
 * SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2) (docs/attestation.md): MRTD alone covers only the
 * firmware, and with direct boot the kernel, initrd and command line are in RTMR1/RTMR2. */
#include "verifiers/verifiers.h"
#include "verifiers/vutil.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#define TDX_HEADER_LEN 48
#define TDX_BODY10_LEN 584
#define TDX_BODY15_LEN 648
#define TDX_QE_REPORT_LEN 384
#define TDX_TEE_TYPE 0x81
#define TDX_ATT_KEY_ECDSA_P256 2
#define TDX_CERT_QE_REPORT 6
#define TDX_CERT_PCK_CHAIN 5
#define TDX_MAX_CERT_DATA (64 * 1024)

static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* TD report body offsets (TDX 1.0; TDX 1.5 appends tee_tcb_svn2 and mrservicetd). */
enum {
    B_TEE_TCB_SVN = 0, B_MRSEAM = 16, B_MRSIGNERSEAM = 64, B_SEAM_ATTR = 112, B_TD_ATTR = 120,
    B_XFAM = 128, B_MRTD = 136, B_MRCONFIGID = 184, B_MROWNER = 232, B_MROWNERCONFIG = 280,
    B_RTMR0 = 328, B_REPORT_DATA = 520, B_TEE_TCB_SVN2 = 584, B_MRSERVICETD = 600,
};
#define TD_ATTR_DEBUG 1u /* TUD.DEBUG, bit 0 of TD_ATTRIBUTES */

/* A bounded reader over the quote: each take checks the remaining length first. */
typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd;

static const uint8_t *take(rd *r, size_t n)
{
    if (n > r->left)
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

typedef struct tdx_quote {
    const uint8_t *header, *body;
    size_t body_len;
    size_t signed_len;            /* header .. end of body (v5: including the descriptor) */
    const uint8_t *sig, *att_key; /* 64 + 64 */
    const uint8_t *qe_report, *qe_sig, *auth;
    size_t auth_len;
    const uint8_t *pck_pem;
    size_t pck_pem_len;
    unsigned version;
} tdx_quote;

static int parse_header_and_body(rd *r, tdx_quote *q, sb_err *err)
{
    const uint8_t *start = r->p;
    q->header = take(r, TDX_HEADER_LEN);
    if (!q->header)
        return sb_err_set(err, 1, "quote is %zu bytes, shorter than its 48-byte header", r->left);
    q->version = sbv_le16(q->header);
    if (q->version != 4 && q->version != 5)
        return sb_err_set(err, 1, "header: quote version %u is not supported (4 or 5)", q->version);
    if (sbv_le16(q->header + 2) != TDX_ATT_KEY_ECDSA_P256)
        return sb_err_set(err, 1, "header: attestation key type %u is not ECDSA P-256 (2)",
                          sbv_le16(q->header + 2));
    if (sbv_le32(q->header + 4) != TDX_TEE_TYPE)
        return sb_err_set(err, 1, "header: TEE type 0x%x is not TDX (0x81)", sbv_le32(q->header + 4));
    if (memcmp(q->header + 12, intel_qe_vendor, 16) != 0)
        return sb_err_set(err, 1, "header: QE vendor ID is not Intel's");
    q->body_len = TDX_BODY10_LEN;
    if (q->version == 5) {
        const uint8_t *d = take(r, 6);
        if (!d)
            return sb_err_set(err, 1, "quote v5 ends inside the body descriptor");
        unsigned type = sbv_le16(d);
        uint32_t size = sbv_le32(d + 2);
        if (!((type == 2 && size == TDX_BODY10_LEN) || (type == 3 && size == TDX_BODY15_LEN)))
            return sb_err_set(err, 1, "body descriptor: type %u size %u is not a TD report "
                              "(2/584 or 3/648)", type, size);
        q->body_len = size;
    }
    q->body = take(r, q->body_len);
    if (!q->body)
        return sb_err_set(err, 1, "quote ends inside the %zu-byte TD report body", q->body_len);
    q->signed_len = (size_t)(r->p - start);
    return 0;
}

/* Certification data type 6 holds the QE report, its signature, the auth data, and a nested
 * certification data entry (type 5: the PEM PCK chain). */
static int parse_qe_cert_data(rd *r, tdx_quote *q, sb_err *err)
{
    const uint8_t *hdr = take(r, 6);
    if (!hdr)
        return sb_err_set(err, 1, "signature data ends before the certification data header");
    if (sbv_le16(hdr) != TDX_CERT_QE_REPORT)
        return sb_err_set(err, 1, "certification data type %u is not 6 (QE report)", sbv_le16(hdr));
    rd in = {take(r, sbv_le32(hdr + 2)), sbv_le32(hdr + 2)};
    if (!in.p)
        return sb_err_set(err, 1, "certification data (%u bytes) runs past the signature data",
                          sbv_le32(hdr + 2));
    q->qe_report = take(&in, TDX_QE_REPORT_LEN);
    q->qe_sig = take(&in, 64);
    const uint8_t *alen = take(&in, 2);
    if (!q->qe_report || !q->qe_sig || !alen)
        return sb_err_set(err, 1, "QE report certification data is truncated");
    q->auth_len = sbv_le16(alen);
    q->auth = take(&in, q->auth_len);
    const uint8_t *inner = take(&in, 6);
    if (!q->auth || !inner)
        return sb_err_set(err, 1, "QE authentication data is truncated");
    if (sbv_le16(inner) != TDX_CERT_PCK_CHAIN)
        return sb_err_set(err, 1, "nested certification data type %u is not 5 (PCK chain)",
                          sbv_le16(inner));
    q->pck_pem_len = sbv_le32(inner + 2);
    if (q->pck_pem_len > TDX_MAX_CERT_DATA)
        return sb_err_set(err, 1, "PCK chain of %zu bytes is implausibly large", q->pck_pem_len);
    q->pck_pem = take(&in, q->pck_pem_len);
    if (!q->pck_pem)
        return sb_err_set(err, 1, "PCK chain (%zu bytes) runs past the certification data",
                          q->pck_pem_len);
    if (in.left != 0)
        return sb_err_set(err, 1, "certification data has %zu bytes after the PCK chain", in.left);
    return 0;
}

static int parse_quote(const uint8_t *data, size_t len, tdx_quote *q, sb_err *err)
{
    rd r = {data, len};
    memset(q, 0, sizeof *q);
    if (parse_header_and_body(&r, q, err) != 0)
        return -1;
    const uint8_t *slen = take(&r, 4);
    if (!slen)
        return sb_err_set(err, 1, "quote ends before the signature data length");
    uint32_t sig_len = sbv_le32(slen);
    rd sd = {take(&r, sig_len), sig_len};
    if (!sd.p)
        return sb_err_set(err, 1, "signature data (%u bytes) runs past the end of the quote "
                          "(%zu bytes left)", sig_len, r.left);
    /* r.left > 0 here means bytes after the quote's declared end: not part of it, ignored. */
    q->sig = take(&sd, 64);
    q->att_key = take(&sd, 64);
    if (!q->sig || !q->att_key)
        return sb_err_set(err, 1, "signature data is too short for signature and key");
    if (parse_qe_cert_data(&sd, q, err) != 0)
        return -1;
    if (sd.left != 0)
        return sb_err_set(err, 1, "signature data has %zu bytes after the certification data",
                          sd.left);
    return 0;
}

/* QE report data[0..32) = SHA-256(attestation key || auth data), [32..64) zero: this binds the
 * attestation key to the Quoting Enclave the PCK certifies. */
static int check_qe_binding(const tdx_quote *q, sb_err *err)
{
    uint8_t digest[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, q->att_key, 64) == 1 &&
             EVP_DigestUpdate(c, q->auth, q->auth_len) == 1 &&
             EVP_DigestFinal_ex(c, digest, NULL) == 1;
    EVP_MD_CTX_free(c);
    if (!ok)
        return sb_err_set(err, 1, "cannot hash the attestation key");
    const uint8_t *rd64 = q->qe_report + 320;
    if (memcmp(rd64, digest, 32) != 0 || !sbv_all_zero(rd64 + 32, 32))
        return sb_err_set(err, 1, "QE report data is not SHA-256(attestation key || auth data)");
    return 0;
}

static int verify_signatures(const tdx_quote *q, const uint8_t *data, X509 *pck, sb_err *err)
{
    uint8_t point[65] = {0x04};
    memcpy(point + 1, q->att_key, 64);
    EVP_PKEY *ak = sbv_ec_key_from_point(NID_X9_62_prime256v1, point, sizeof point);
    if (!ak)
        return sb_err_set(err, 1, "attestation key is not a P-256 point");
    int rc = sbv_ecdsa_verify_rs(ak, EVP_sha256(), data, q->signed_len, q->sig, q->sig + 32, 32, err);
    EVP_PKEY_free(ak);
    if (rc != 0) {
        sb_err_prefix(err, "quote signature by the attestation key");
        return -1;
    }
    EVP_PKEY *pk = X509_get0_pubkey(pck);
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 256)
        return sb_err_set(err, 1, "PCK certificate key is not ECDSA P-256");
    if (sbv_ecdsa_verify_rs(pk, EVP_sha256(), q->qe_report, TDX_QE_REPORT_LEN, q->qe_sig,
                            q->qe_sig + 32, 32, err) != 0) {
        sb_err_prefix(err, "QE report signature by the PCK key");
        return -1;
    }
    return check_qe_binding(q, err);
}

/* FMSPC (family-model-stepping-platform-custom SKU) from the PCK certificate's SGX extension
 * (1.2.840.113741.1.13.1: a SEQUENCE of {OID, value}; FMSPC is .4, a 6-byte OCTET STRING). It
 * names the TCB info a relying party fetches from Intel PCS; "?" when absent. */
static void pck_fmspc(X509 *pck, char out[13])
{
    snprintf(out, 13, "?");
    ASN1_OBJECT *sgx = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    ASN1_OBJECT *fmspc = OBJ_txt2obj("1.2.840.113741.1.13.1.4", 1);
    int idx = sgx ? X509_get_ext_by_OBJ(pck, sgx, -1) : -1;
    const ASN1_OCTET_STRING *v = idx >= 0 ? X509_EXTENSION_get_data(X509_get_ext(pck, idx)) : NULL;
    const unsigned char *p = v ? ASN1_STRING_get0_data(v) : NULL;
    ASN1_SEQUENCE_ANY *items = p ? d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(v)) : NULL;
    for (int i = 0; items && fmspc && i < sk_ASN1_TYPE_num(items); i++) {
        ASN1_TYPE *t = sk_ASN1_TYPE_value(items, i);
        if (t->type != V_ASN1_SEQUENCE)
            continue;
        const unsigned char *q = ASN1_STRING_get0_data(t->value.sequence);
        ASN1_SEQUENCE_ANY *pair = d2i_ASN1_SEQUENCE_ANY(NULL, &q, ASN1_STRING_length(t->value.sequence));
        if (pair && sk_ASN1_TYPE_num(pair) == 2) {
            ASN1_TYPE *k = sk_ASN1_TYPE_value(pair, 0), *val = sk_ASN1_TYPE_value(pair, 1);
            if (k->type == V_ASN1_OBJECT && OBJ_cmp(k->value.object, fmspc) == 0 &&
                val->type == V_ASN1_OCTET_STRING && ASN1_STRING_length(val->value.octet_string) == 6)
                sb_hex_encode(ASN1_STRING_get0_data(val->value.octet_string), 6, out);
        }
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
    ASN1_OBJECT_free(sgx);
    ASN1_OBJECT_free(fmspc);
}

int sb_tdx_launch_composite(const uint8_t mrtd[48], const uint8_t rtmr0[48],
                            const uint8_t rtmr1[48], const uint8_t rtmr2[48], uint8_t out[48])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1 &&
             EVP_DigestUpdate(c, mrtd, 48) == 1 && EVP_DigestUpdate(c, rtmr0, 48) == 1 &&
             EVP_DigestUpdate(c, rtmr1, 48) == 1 && EVP_DigestUpdate(c, rtmr2, 48) == 1 &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

/* Checked after the signatures, so the reason is about a genuine TD. */
static int check_td_attributes(const tdx_quote *q, sb_err *err)
{
    uint64_t attrs = sbv_le64(q->body + B_TD_ATTR);
    if (attrs & TD_ATTR_DEBUG)
        return sb_err_set(err, 1, "TD_ATTRIBUTES 0x%016llx has DEBUG (bit 0) set: the host can "
                          "read and modify a debug TD, refused", (unsigned long long)attrs);
    return 0;
}

static int fill_claims(const tdx_quote *q, X509 *pck, sb_claims *out, sb_err *err)
{
    const uint8_t *b = q->body;
    static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    uint8_t launch[48];
    if (sb_tdx_launch_composite(b + B_MRTD, b + B_RTMR0, b + B_RTMR0 + 48, b + B_RTMR0 + 96,
                                launch) != 0)
        return sb_err_set(err, 1, "cannot compute the td-launch composite (SHA-384)");
    sbv_add_measurement(out, "td-launch", launch, 48, NULL);
    sbv_add_measurement(out, "mrtd", b + B_MRTD, 48, NULL);
    for (int i = 0; i < 4; i++)
        sbv_add_measurement(out, rtmr[i], b + B_RTMR0 + 48 * i, 48, NULL);
    sbv_add_measurement(out, "mrconfigid", b + B_MRCONFIGID, 48, NULL);
    sbv_add_measurement(out, "mrowner", b + B_MROWNER, 48, NULL);
    sbv_add_measurement(out, "mrownerconfig", b + B_MROWNERCONFIG, 48, NULL);
    sbv_add_measurement(out, "mrseam", b + B_MRSEAM, 48, NULL);
    if (q->body_len == TDX_BODY15_LEN)
        sbv_add_measurement(out, "mrservicetd", b + B_MRSERVICETD, 48, NULL);
    memcpy(out->report_data, b + B_REPORT_DATA, 64);
    out->report_data_len = 64;
    uint64_t attrs = sbv_le64(b + B_TD_ATTR);
    out->debug = (attrs & TD_ATTR_DEBUG) != 0;
    char svn[33], svn2[33] = "", fmspc[13];
    pck_fmspc(pck, fmspc);
    sb_hex_encode(b + B_TEE_TCB_SVN, 16, svn);
    if (q->body_len == TDX_BODY15_LEN)
        sb_hex_encode(b + B_TEE_TCB_SVN2, 16, svn2);
    snprintf(out->tcb, sizeof out->tcb,
             "quote v%u; tee_tcb_svn %s%s%s; td_attributes 0x%016llx; xfam 0x%016llx; "
             "qe_svn %u; pce_svn %u; fmspc %s; TCB level not evaluated (needs Intel PCS collateral)",
             q->version, svn, svn2[0] ? "; tee_tcb_svn2 " : "", svn2, (unsigned long long)attrs,
             (unsigned long long)sbv_le64(b + B_XFAM), sbv_le16(q->header + 8),
             sbv_le16(q->header + 10), fmspc);
    return 0;
}

int sb_verify_tdx(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err)
{
    sbv_claims_init(out, "tdx");
    tdx_quote q;
    if (parse_quote(evidence, len, &q, err) != 0) {
        sb_err_prefix(err, "tdx");
        return -1;
    }
    STACK_OF(X509) *pck = sbv_parse_pem_certs(q.pck_pem, q.pck_pem_len, err);
    if (!pck) {
        sb_err_prefix(err, "tdx: PCK chain");
        return -1;
    }
    X509 *leaf = sk_X509_value(pck, 0);
    char chain[sizeof out->chain];
    int rc = -1;
    if (sbv_verify_chain(leaf, pck, anchors, at, chain, sizeof chain, NULL, err) != 0)
        sb_err_prefix(err, "PCK");
    else if (verify_signatures(&q, evidence, leaf, err) == 0 && check_td_attributes(&q, err) == 0)
        rc = 0;
    if (rc == 0)
        rc = fill_claims(&q, leaf, out, err);
    if (rc == 0) {
        memcpy(out->chain, chain, sizeof chain);
        char cn[128];
        sbv_cert_cn(leaf, cn, sizeof cn);
        snprintf(out->signer, sizeof out->signer, "TDX QE attestation key certified by %s", cn);
    }
    sk_X509_pop_free(pck, X509_free);
    if (rc != 0)
        sb_err_prefix(err, "tdx");
    return rc;
}
