/* ca.c - the service's CA: key and self-signed root created on first start, loaded afterwards. */
#include "attestd/ca.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROOT_DAYS 3650

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_root(EVP_PKEY *key)
{
    X509 *c = X509_new();
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    if (!c || RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *n = X509_get_subject_name(c);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) || X509_set_version(c, 2) != 1 ||
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Strongbox", -1,
                                   -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"Strongbox attestation root", -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(c, n) != 1 || !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(c), ROOT_DAYS, 0, NULL) ||
        X509_set_pubkey(c, key) != 1 ||
        add_ext(c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
        add_ext(c, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") < 0 ||
        add_ext(c, NID_subject_key_identifier, "hash") < 0 ||
        X509_sign(c, key, EVP_sha256()) <= 0)
        goto fail;
    BN_free(bn);
    return c;
fail:
    BN_free(bn);
    X509_free(c);
    return NULL;
}

static int write_pem(const char *path, int mode, int is_key, void *obj, sb_err *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = b && (is_key ? PEM_write_bio_PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_X509(b, obj)) == 1;
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    int rc = ok && n > 0 ? sb_write_file(path, data, (size_t)n, mode, err)
                         : sb_err_set(err, 1, "ca: cannot encode %s", path);
    BIO_free(b);
    return rc;
}

static int create_ca(const char *key_path, const char *cert_path, EVP_PKEY **key, X509 **cert,
                     sb_err *err)
{
    *key = EVP_EC_gen("P-256");
    *cert = *key ? make_root(*key) : NULL;
    if (!*cert)
        return sb_err_set(err, 1, "ca: cannot create the CA key and root");
    /* The key last: its presence means "the CA exists" (see sb_ca_load_or_create), so a first
     * start cut short (disk full) leaves nothing that a later start would refuse. */
    if (write_pem(cert_path, 0644, 0, *cert, err) < 0 || write_pem(key_path, 0600, 1, *key, err) < 0)
        return -1;
    return 0;
}

static int load_ca(const char *key_path, const char *cert_path, EVP_PKEY **key, X509 **cert,
                   sb_err *err)
{
    struct stat st;
    if (stat(key_path, &st) < 0)
        return sb_err_set(err, 1, "ca: %s: cannot stat", key_path);
    if (st.st_mode & 077)
        return sb_err_set(err, 1, "ca: %s is accessible by group/others (mode %03o); chmod 600",
                          key_path, (unsigned)(st.st_mode & 0777));
    FILE *f = fopen(key_path, "r");
    *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    f = fopen(cert_path, "r");
    *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!*key || !*cert)
        return sb_err_set(err, 1, "ca: cannot read %s / %s", key_path, cert_path);
    if (X509_check_private_key(*cert, *key) != 1)
        return sb_err_set(err, 1, "ca: %s does not match %s", cert_path, key_path);
    return 0;
}

int sb_ca_load_or_create(const char *dir, EVP_PKEY **key, X509 **cert, char **cert_pem,
                         sb_err *err)
{
    char key_path[4096], cert_path[4096];
    snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
    snprintf(cert_path, sizeof cert_path, "%s/ca.pem", dir);
    *key = NULL;
    *cert = NULL;
    *cert_pem = NULL;
    struct stat st;
    int rc = stat(key_path, &st) == 0 ? load_ca(key_path, cert_path, key, cert, err)
                                      : create_ca(key_path, cert_path, key, cert, err);
    if (rc == 0) {
        size_t len;
        if (sb_read_file(cert_path, 1 << 16, (uint8_t **)cert_pem, &len, err) < 0)
            rc = -1;
    }
    if (rc < 0) {
        EVP_PKEY_free(*key);
        X509_free(*cert);
        *key = NULL;
        *cert = NULL;
    }
    return rc;
}

int sb_admin_token_load_or_create(const char *dir, char *out, size_t cap, sb_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/admin.token", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) == 0) {
        if (st.st_mode & 077)
            return sb_err_set(err, 1, "%s is accessible by group/others; chmod 600", path);
        if (sb_read_file(path, 256, &data, &len, err) < 0)
            return -1;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
            len--;
        if (len < 32 || len >= cap) {
            free(data);
            return sb_err_set(err, 1, "%s: token must be 32..%zu characters", path, cap - 1);
        }
        memcpy(out, data, len);
        out[len] = 0;
        free(data);
        return 0;
    }
    uint8_t rnd[32];
    if (cap < 65 || RAND_bytes(rnd, sizeof rnd) != 1)
        return sb_err_set(err, 1, "cannot create an admin token");
    sb_hex_encode(rnd, sizeof rnd, out);
    return sb_write_file(path, out, 64, 0600, err);
}
