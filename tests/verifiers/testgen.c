/* testgen.c - see testgen.h. Test code: aborts on allocation failures instead of unwinding. */
#include "testgen.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

int tg_failures;

static void need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "test setup failed: %s\n", what);
        abort();
    }
}

EVP_PKEY *tg_ec_key(int nid)
{
    EVP_PKEY *k = EVP_EC_gen(OBJ_nid2sn(nid));
    need(k != NULL, "EC key");
    return k;
}

EVP_PKEY *tg_rsa_key(int bits)
{
    EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
    need(k != NULL, "RSA key");
    return k;
}

static void add_ext(X509 *cert, const tg_ext *e)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(e->oid, 1);
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    need(oid && v && ASN1_OCTET_STRING_set(v, e->der, (int)e->len), "extension");
    X509_EXTENSION *x = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, v);
    need(x && X509_add_ext(cert, x, -1), "add extension");
    X509_EXTENSION_free(x);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(v);
}

X509 *tg_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int pss, int ca,
              time_t not_before, time_t not_after, const tg_ext *exts, size_t n_exts)
{
    static long serial = 1;
    X509 *c = X509_new();
    need(c != NULL, "X509_new");
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    X509_time_adj_ex(X509_getm_notBefore(c), 0, 0, &not_before);
    X509_time_adj_ex(X509_getm_notAfter(c), 0, 0, &not_after);
    X509_set_pubkey(c, key);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : c, c, NULL, NULL, 0);
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                                             ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    need(bc && X509_add_ext(c, bc, -1), "basicConstraints");
    X509_EXTENSION_free(bc);
    if (ca) {
        X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
        need(ku && X509_add_ext(c, ku, -1), "keyUsage");
        X509_EXTENSION_free(ku);
    }
    for (size_t i = 0; i < n_exts; i++)
        add_ext(c, &exts[i]);
    EVP_PKEY *signer = issuer_key ? issuer_key : key;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    need(md && EVP_DigestSignInit(md, &pctx, pss ? EVP_sha384() : EVP_sha256(), NULL, signer) == 1,
         "sign init");
    if (pss) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384());
    }
    need(X509_sign_ctx(c, md) > 0, "X509_sign_ctx");
    EVP_MD_CTX_free(md);
    return c;
}

void tg_sign_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r,
                uint8_t *s, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[160];
    size_t der_len = sizeof der;
    need(ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
         EVP_DigestSign(ctx, der, &der_len, msg, len) == 1, "ECDSA sign");
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    need(sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, (int)n) == (int)n &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, (int)n) == (int)n, "ECDSA r/s");
    ECDSA_SIG_free(sig);
}

uint8_t *tg_der(X509 *cert, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    need(n > 0, "i2d_X509");
    uint8_t *copy = malloc((size_t)n);
    need(copy != NULL, "malloc");
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

void tg_pem_append(X509 *cert, uint8_t *buf, size_t *len, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    need(b && PEM_write_bio_X509(b, cert), "PEM write");
    char *p;
    long n = BIO_get_mem_data(b, &p);
    need(n > 0 && (size_t)n <= cap - *len, "PEM room");
    memcpy(buf + *len, p, (size_t)n);
    *len += (size_t)n;
    BIO_free(b);
}

static char vectors_dir[1024];

void tg_vectors_init(int argc, char **argv, const char *test)
{
    const char *shared = argc > 1 ? argv[1] : getenv("SB_SHARED_DIR");
    if (!shared) {
        fprintf(stderr, "usage: %s SHARED_DIR\n", test);
        exit(2);
    }
    snprintf(vectors_dir, sizeof vectors_dir, "%s/attestation-vectors", shared);
}

const char *tg_vec(const char *rel)
{
    static char buf[4][1200];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", vectors_dir, rel);
    return buf[i];
}

uint8_t *tg_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    need(f != NULL, path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    need(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

void tg_anchors_add_cert(sb_trust_anchors *a, X509 *cert)
{
    a->certs = realloc(a->certs, (a->n_certs + 1) * sizeof *a->certs);
    need(a->certs != NULL, "realloc");
    X509_up_ref(cert);
    a->certs[a->n_certs++] = cert;
}

void tg_anchors_add_key(sb_trust_anchors *a, EVP_PKEY *key)
{
    a->keys = realloc(a->keys, (a->n_keys + 1) * sizeof *a->keys);
    need(a->keys != NULL, "realloc");
    EVP_PKEY_up_ref(key);
    a->keys[a->n_keys++] = key;
}

int tg_anchors_add_file(sb_trust_anchors *a, const char *path)
{
    size_t len;
    uint8_t *data = tg_read(path, &len);
    int found = 0;
    const unsigned char *p = data;
    X509 *der = d2i_X509(NULL, &p, (long)len);
    if (der) {
        tg_anchors_add_cert(a, der);
        X509_free(der);
        found = 1;
    } else {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        X509 *c;
        while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            tg_anchors_add_cert(a, c);
            X509_free(c);
            found++;
        }
        BIO_free(b);
        if (!found) {
            b = BIO_new_mem_buf(data, (int)len);
            EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
            if (k) {
                tg_anchors_add_key(a, k);
                EVP_PKEY_free(k);
                found = 1;
            }
            BIO_free(b);
        }
    }
    free(data);
    need(found, path);
    return 0;
}

void tg_anchors_free(sb_trust_anchors *a)
{
    for (size_t i = 0; i < a->n_certs; i++)
        X509_free(a->certs[i]);
    for (size_t i = 0; i < a->n_keys; i++)
        EVP_PKEY_free(a->keys[i]);
    free(a->certs);
    free(a->keys);
    memset(a, 0, sizeof *a);
}

time_t tg_time(const char *s)
{
    time_t t;
    need(sb_time_parse(s, &t) == 0, s);
    return t;
}

int tg_has_reason(const sb_err *err)
{
    size_t n = strlen(err->msg);
    return n > 6 && err->msg[n - 1] != ' ' && err->msg[n - 1] != ':';
}
