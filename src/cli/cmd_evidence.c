/* strongbox evidence verify - checks one piece of native evidence offline and prints its claims.
 *
 * The same verifiers the attestation service runs (attest/attest.h registry): PSA tokens, the
 * process platform's tokens, and the hardware formats (sev-snp, tdx, cca, nitro). Trust anchors
 * come from the command line: public keys (--key), certificates (--roots), an HMAC key
 * (--hmac-key, for COSE_Mac0 PSA tokens). */
#include "attest/attest.h"
#include "cli/commands.h"
#include "common/common.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SB_COMMAND_DECL(evidence);
const char sb_cmd_evidence_summary[] = "verify native attestation evidence and print its claims";

/* err.code of command-line mistakes (exit status 2); library codes are other values. */
#define USAGE_ERR 1000
#define MAX_ANCHORS 32
#define MAX_EVIDENCE (1u << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox evidence verify --format FORMAT [--key PEM]... [--roots PEM]...\n"
            "                                 [--hmac-key FILE] [--at TIME] [--expect-report-data HEX]\n"
            "                                 [--json] FILE\n"
            "Verifies FILE completely (format, signature, chain to a given anchor valid at TIME)\n"
            "and prints the claims as JSON; exits 1 with the reason when it does not verify.\n"
            "  --format   psa | process | sev-snp (or snp) | tdx | cca | nitro\n"
            "  --key      a PEM public key to trust (PSA IAK, host attestation key, CCA platform key)\n"
            "  --roots    certificates and public keys to trust, PEM (any number, any order) or DER:\n"
            "             vendor roots, intermediates, a VCEK/VLEK, a CCA platform key\n"
            "  --hmac-key raw key for COSE_Mac0 PSA tokens\n"
            "  --at       RFC 3339 time to verify as of (default now; for expired samples)\n"
            "  --expect-report-data  fail unless the evidence binds exactly these bytes\n"
            "  --json     accepted for symmetry with the other commands: the output is always JSON\n");
}

typedef struct anchors_buf {
    X509 *certs[MAX_ANCHORS];
    EVP_PKEY *keys[MAX_ANCHORS];
    sb_trust_anchors a;
    uint8_t *hmac;
} anchors_buf;

static int load_keys(const char *path, anchors_buf *b, sb_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sb_err_set(err, 1, "%s: cannot open", path);
    EVP_PKEY *k;
    size_t before = b->a.n_keys;
    while (b->a.n_keys < MAX_ANCHORS && (k = PEM_read_PUBKEY(f, NULL, NULL, NULL)))
        b->keys[b->a.n_keys++] = k;
    fclose(f);
    return b->a.n_keys > before ? 0 : sb_err_set(err, 1, "%s: no PEM public key", path);
}

/* Trust anchors from one file, as the issue's --roots takes them: any number of PEM blocks, in any
 * order, each a certificate or a public key (e.g. AMD's ASK + ARK bundle, a CCA platform key); or
 * one DER certificate (an AMD VCEK as AMD serves it) or one DER public key. */
static int add_pem_block(const char *name, const uint8_t *der, long n, anchors_buf *b)
{
    const uint8_t *p = der;
    if (strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0) {
        X509 *c = d2i_X509(NULL, &p, n);
        if (!c || b->a.n_certs == MAX_ANCHORS)
            return X509_free(c), -1;
        b->certs[b->a.n_certs++] = c;
        return 0;
    }
    if (strcmp(name, PEM_STRING_PUBLIC) == 0) {
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, n);
        if (!k || b->a.n_keys == MAX_ANCHORS)
            return EVP_PKEY_free(k), -1;
        b->keys[b->a.n_keys++] = k;
        return 0;
    }
    return -1;
}

static int load_certs(const char *path, anchors_buf *b, sb_err *err)
{
    uint8_t *data;
    size_t len;
    if (sb_read_file(path, 1 << 20, &data, &len, err) < 0)
        return -1;
    size_t before = b->a.n_certs + b->a.n_keys;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long n = 0;
    int bad = 0;
    while (bio && !bad && PEM_read_bio(bio, &name, &header, &der, &n) == 1) {
        if (add_pem_block(name, der, n, b) < 0)
            bad = sb_err_set(err, 1, "%s: PEM block '%s' is not a certificate or public key "
                                     "(or more than %d anchors)", path, name, MAX_ANCHORS);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
    }
    ERR_clear_error(); /* the end of the PEM stream is reported as an error */
    BIO_free(bio);
    const uint8_t *p = data;
    if (!bad && b->a.n_certs + b->a.n_keys == before) {
        X509 *c = d2i_X509(NULL, &p, (long)len);
        if (c && p == data + len && b->a.n_certs < MAX_ANCHORS) {
            b->certs[b->a.n_certs++] = c;
        } else {
            X509_free(c);
            p = data;
            EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
            if (k && p == data + len && b->a.n_keys < MAX_ANCHORS)
                b->keys[b->a.n_keys++] = k;
            else
                EVP_PKEY_free(k);
        }
    }
    free(data);
    if (bad)
        return -1;
    return b->a.n_certs + b->a.n_keys > before
               ? 0
               : sb_err_set(err, 1, "%s: no certificate or public key (PEM or DER)", path);
}

static void free_anchors(anchors_buf *b)
{
    for (size_t i = 0; i < b->a.n_certs; i++)
        X509_free(b->certs[i]);
    for (size_t i = 0; i < b->a.n_keys; i++)
        EVP_PKEY_free(b->keys[i]);
    free(b->hmac);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return json_null();
    sb_hex_encode(p, n, hex);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static json_t *claims_json(const sb_claims *c)
{
    json_t *o = json_object(), *ms = json_array();
    json_object_set_new(o, "platform", json_string(c->platform));
    for (size_t i = 0; i < c->n_measurements; i++)
        json_array_append_new(ms, json_pack("{s:s, s:o}", "name", c->measurements[i].name,
                                            "value", hex_json(c->measurements[i].value,
                                                              c->measurements[i].len)));
    json_object_set_new(o, "measurements", ms);
    json_object_set_new(o, "report_data", hex_json(c->report_data, c->report_data_len));
    json_object_set_new(o, "debug", json_boolean(c->debug));
    json_object_set_new(o, "tcb", json_string(c->tcb));
    json_object_set_new(o, "signer", json_string(c->signer));
    if (c->chain[0])
        json_object_set_new(o, "chain", json_string(c->chain));
    if (c->issued_at) {
        char t[32];
        sb_time_format(c->issued_at, t, sizeof t);
        json_object_set_new(o, "issued_at", json_string(t));
    }
    return o;
}

/* For PSA-based formats the full token is printed too. */
static json_t *psa_json(const uint8_t *ev, size_t len, const anchors_buf *b)
{
    sb_psa_token *t = malloc(sizeof *t);
    json_t *j = NULL;
    for (size_t i = 0; t && !j && i <= b->a.n_keys; i++) {
        EVP_PKEY *k = i < b->a.n_keys ? b->keys[i] : NULL;
        if ((k || b->hmac) &&
            sb_psa_verify(ev, len, k, b->hmac, b->a.hmac_key_len, t, NULL) == 0) {
            char *s = sb_psa_to_json(t);
            j = s ? json_loads(s, 0, NULL) : NULL;
            free(s);
        }
    }
    free(t);
    return j;
}

static int check_report_data(const sb_claims *c, const char *hex, sb_err *err)
{
    size_t n = strlen(hex) / 2;
    uint8_t want[64];
    if (n == 0 || n > sizeof want || strlen(hex) != 2 * n || sb_hex_decode(hex, want, n) < 0)
        return sb_err_set(err, USAGE_ERR, "--expect-report-data: want 1..64 bytes of hex");
    if (c->report_data_len < n || memcmp(c->report_data, want, n) != 0 ||
        (n < c->report_data_len && memcmp(c->report_data + n, (uint8_t[64]){0},
                                          c->report_data_len - n) != 0))
        return sb_err_set(err, 1, "report data does not match the expected value");
    return 0;
}

static int verify(int argc, char **argv)
{
    const char *format = NULL, *file = NULL, *at_s = NULL, *expect = NULL;
    anchors_buf b = {0};
    sb_err err = {0};
    int rc = 2;
    for (int i = 1; i < argc && !err.msg[0]; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free_anchors(&b);
            return 0;
        } else if (strcmp(a, "--format") == 0 && v) {
            format = v, i++;
        } else if (strcmp(a, "--key") == 0 && v) {
            load_keys(v, &b, &err), i++;
        } else if (strcmp(a, "--roots") == 0 && v) {
            load_certs(v, &b, &err), i++;
        } else if (strcmp(a, "--hmac-key") == 0 && v && !b.hmac) {
            sb_read_file(v, 1024, &b.hmac, &b.a.hmac_key_len, &err), i++;
        } else if (strcmp(a, "--at") == 0 && v) {
            at_s = v, i++;
        } else if (strcmp(a, "--expect-report-data") == 0 && v) {
            expect = v, i++;
        } else if (strcmp(a, "--json") == 0) {
            /* the claims are always printed as JSON: accepted like every command's --json */
        } else if (a[0] != '-' && !file) {
            file = a;
        } else {
            sb_err_set(&err, USAGE_ERR, "unexpected argument '%s'", a);
        }
    }
    time_t at = time(NULL);
    if (format && strcmp(format, "snp") == 0)
        format = "sev-snp"; /* the short name people type for AMD SEV-SNP */
    const sb_platform_info *plat = format ? sb_attest_platform(format) : NULL;
    if (!err.msg[0] && (!format || !file))
        sb_err_set(&err, USAGE_ERR, "--format and FILE are required");
    else if (!err.msg[0] && !plat)
        sb_err_set(&err, USAGE_ERR, "unknown format '%s'", format);
    else if (!err.msg[0] && at_s && sb_time_parse(at_s, &at) < 0)
        sb_err_set(&err, USAGE_ERR, "--at: '%s' is not an RFC 3339 time", at_s);
    uint8_t *ev = NULL;
    size_t len = 0;
    sb_claims claims;
    if (!err.msg[0] && sb_read_file(file, MAX_EVIDENCE, &ev, &len, &err) == 0) {
        b.a.certs = b.certs;
        b.a.keys = b.keys;
        b.a.hmac_key = b.hmac;
        if (plat->verify(ev, len, &b.a, at, &claims, &err) == 0 &&
            (!expect || check_report_data(&claims, expect, &err) == 0)) {
            json_t *out = json_pack("{s:s, s:b, s:o}", "format", format, "valid", 1, "claims",
                                    claims_json(&claims));
            json_t *tok = plat->verify == sb_verify_psa || plat->verify == sb_verify_process ||
                                      plat->verify == sb_verify_kvm
                              ? psa_json(ev, len, &b)
                              : NULL;
            if (tok)
                json_object_set_new(out, "token", tok);
            char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(out);
            rc = 0;
        } else {
            rc = err.code == USAGE_ERR ? 2 : 1;
        }
    } else if (err.msg[0]) {
        rc = err.code == USAGE_ERR ? 2 : 1;
    }
    if (rc != 0) {
        fprintf(stderr, "strongbox evidence verify: %s\n", err.msg);
        if (rc == 2)
            usage(stderr);
    }
    free(ev);
    free_anchors(&b);
    return rc;
}

int sb_cmd_evidence(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
