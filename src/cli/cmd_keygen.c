/* strongbox keygen --name NAME: a party's identity, an ECDSA P-256 key and a self-signed
 * certificate (CN=NAME) for the policy's identities and for TLS client authentication.
 * Writes NAME.key (PEM, mode 0600, never overwritten) and NAME.crt. */
#include "cli/commands.h"
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

SB_COMMAND_DECL(keygen);
const char sb_cmd_keygen_summary[] = "make a party's key (ECDSA P-256) and self-signed certificate";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox keygen --name NAME [--days N] [--dir DIR]\n"
            "\n"
            "Writes DIR/NAME.key (private key, PEM, mode 0600) and DIR/NAME.crt (self-signed\n"
            "certificate, CN=NAME, valid for N days, default 365). Refuses to overwrite either.\n"
            "Put NAME.crt in the policy; keep NAME.key to yourself.\n"
            "NAME: 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit.\n");
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 && strchr("._-", s[0]) == NULL &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *name, long days)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = cert && RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7f; /* positive */
    ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) && X509_set_version(cert, 2) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -300) && /* tolerate small clock skew */
         X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) &&
         X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                                    (const unsigned char *)name, -1, -1, 0) &&
         X509_set_issuer_name(cert, X509_get_subject_name(cert)) && X509_set_pubkey(cert, key) &&
         add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
         add_ext(cert, NID_key_usage, "critical,digitalSignature") == 0 &&
         add_ext(cert, NID_ext_key_usage, "clientAuth") == 0 &&
         add_ext(cert, NID_subject_key_identifier, "hash") == 0 &&
         X509_sign(cert, key, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* Writes text to a new file (O_EXCL: an existing file is never replaced). */
static int write_new(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "strongbox keygen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        done += (size_t)n;
    }
    if (done < len || fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "strongbox keygen: cannot write %s: %s\n", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static char *pem_of(int (*write)(BIO *, void *), void *obj, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *copy = NULL;
    if (bio && write(bio, obj)) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (copy = malloc((size_t)n))) {
            memcpy(copy, data, (size_t)n);
            *len = (size_t)n;
        }
    }
    BIO_free(bio);
    return copy;
}

static int write_key(BIO *bio, void *key)
{
    return PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(BIO *bio, void *cert)
{
    return PEM_write_bio_X509(bio, cert);
}

static int generate(const char *dir, const char *name, long days)
{
    char key_path[4096], crt_path[4096];
    if (snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name) >= (int)sizeof key_path ||
        snprintf(crt_path, sizeof crt_path, "%s/%s.crt", dir, name) >= (int)sizeof crt_path) {
        fprintf(stderr, "strongbox keygen: directory name too long\n");
        return 1;
    }
    struct stat st;
    const char *exists = stat(key_path, &st) == 0 ? key_path : stat(crt_path, &st) == 0 ? crt_path : NULL;
    if (exists) {
        fprintf(stderr, "strongbox keygen: %s already exists; not overwriting it\n", exists);
        return 1;
    }
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(key, name, days) : NULL;
    size_t key_len = 0, crt_len = 0;
    char *key_pem = cert ? pem_of(write_key, key, &key_len) : NULL;
    char *crt_pem = key_pem ? pem_of(write_cert, cert, &crt_len) : NULL;
    int rc = 1;
    if (!crt_pem) {
        fprintf(stderr, "strongbox keygen: OpenSSL could not make the key or certificate\n");
    } else if (write_new(key_path, key_pem, key_len, 0600) == 0) {
        if (write_new(crt_path, crt_pem, crt_len, 0644) == 0) {
            unsigned char fp[32];
            unsigned int fp_len = 0;
            char hex[65];
            X509_digest(cert, EVP_sha256(), fp, &fp_len);
            sb_hex_encode(fp, 32, hex);
            printf("wrote %s (private key, keep it secret) and %s\n"
                   "certificate CN=%s, valid %ld days, SHA-256 fingerprint %s\n",
                   key_path, crt_path, name, days, hex);
            rc = 0;
        } else {
            unlink(key_path); /* all or nothing: a key without its certificate is useless */
        }
    }
    if (key_pem)
        OPENSSL_cleanse(key_pem, key_len);
    free(key_pem);
    free(crt_pem);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int sb_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"days", required_argument, 0, 'd'},
                                         {"dir", required_argument, 0, 'D'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *name = NULL, *dir = ".";
    long days = 365;
    char *end;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:d:D:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'D': dir = optarg; break;
        case 'd':
            days = strtol(optarg, &end, 10);
            if (*end || end == optarg || days < 1 || days > 36500) {
                fprintf(stderr, "strongbox keygen: --days must be a number from 1 to 36500\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!name || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!valid_name(name)) {
        fprintf(stderr, "strongbox keygen: bad name '%s': use 1-64 of A-Z a-z 0-9 . _ - starting "
                "with a letter or digit\n", name);
        return 2;
    }
    return generate(dir, name, days);
}
