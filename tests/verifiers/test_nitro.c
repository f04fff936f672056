/* Tests for the Nitro verifier: the captured untagged document (valid at its timestamp, flips
 * across header, payload, every certificate and the signature, truncation, wrong root, time)
 * and synthetic tagged documents signed by a generated chain (debug PCRs, nonce binding,
 * missing/unknown/ill-typed fields, expired leaf, foreign signer). */
#include "cose/cose.h"
#include "testgen.h"
#include "verifiers/verifiers.h"

#include <stdlib.h>
#include <string.h>

static void test_sample(void)
{
    size_t len;
    uint8_t *doc = tg_read(tg_vec("nitro/evervault_nitro_attestation_doc.cose"), &len);
    sb_trust_anchors a = {0};
    tg_anchors_add_file(&a, tg_vec("nitro/aws_nitro_enclaves_root_g1.pem"));
    time_t at = tg_time("2022-10-13T08:58:02Z"), later = tg_time("2026-01-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(doc[0] == 0x84); /* untagged */
    CHECK(sb_verify_nitro(doc, len, &a, at, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "nitro sample: %s\n", err.msg);
    CHECK(strcmp(c.platform, "nitro") == 0 && c.debug == 0);
    CHECK(c.issued_at == 1665651482);
    CHECK(strcmp(c.measurements[0].name, "pcr0") == 0 && c.measurements[0].len == 48);
    int has8 = 0;
    for (size_t i = 0; i < c.n_measurements; i++)
        has8 |= strcmp(c.measurements[i].name, "pcr8") == 0;
    CHECK(has8 && c.n_measurements == 6); /* PCR0-4 and PCR8 set */
    CHECK(strstr(c.chain, "aws.nitro-enclaves") != NULL);
    CHECK(strstr(c.tcb, "nonce 256 bytes") != NULL && c.report_data_len == 0);
    /* Verified later: the chain is still judged at the document's time. */
    CHECK(sb_verify_nitro(doc, len, &a, later, &c, &err) == 0);
    /* A verification time before the document. */
    CHECK_ERR(sb_verify_nitro(doc, len, &a, tg_time("2022-10-13T08:00:00Z"), &c, &err), err,
              "is after the verification time");
    sb_trust_anchors wrong = {0};
    tg_anchors_add_file(&wrong, tg_vec("snp/amd_ask_ark_milan.pem"));
    CHECK_ERR(sb_verify_nitro(doc, len, &wrong, at, &c, &err), err, "certificate chain");
    CHECK_ERR(sb_verify_nitro(doc, len, NULL, at, &c, &err), err, "certificate chain");
    tg_anchors_free(&wrong);

    /* Flips: the first 64 bytes (envelope, protected header, payload start) and the signature
     * one by one, the rest every 3rd byte: certificate, cabundle and PCR bytes are all hit. */
    uint8_t *copy = malloc(len + 1);
    int flips = 0, refused = 0;
    for (size_t i = 0; i < len; i += (i < 64 || i >= len - 100) ? 1 : 3) {
        memcpy(copy, doc, len);
        copy[i] ^= 0x01;
        flips++;
        sb_err_clear(&err);
        if (sb_verify_nitro(copy, len, &a, at, &c, &err) != 0 && tg_has_reason(&err))
            refused++;
        else
            fprintf(stderr, "nitro: flip at %zu accepted\n", i);
    }
    CHECK(refused == flips);
    printf("nitro sample: %d/%d single-byte flips refused\n", refused, flips);
    int truncs = 0, trunc_refused = 0;
    for (size_t n = 0; n < len; n += 5) {
        truncs++;
        trunc_refused += sb_verify_nitro(doc, n, &a, at, &c, &err) != 0 && tg_has_reason(&err);
    }
    CHECK(truncs == trunc_refused);
    memcpy(copy, doc, len);
    copy[len] = 0;
    CHECK_ERR(sb_verify_nitro(copy, len + 1, &a, at, &c, &err), err, "nitro");
    memcpy(copy, doc, len);
    copy[len - 1] ^= 1;
    CHECK_ERR(sb_verify_nitro(copy, len, &a, at, &c, &err), err, "signature by the enclave certificate");
    free(copy);
    tg_anchors_free(&a);
    free(doc);
}

/* --- synthetic documents ------------------------------------------------------------------- */

typedef struct doc_spec {
    int tagged, debug_pcrs, omit_cert, unknown_field, bad_digest, short_pcr;
    uint64_t timestamp_ms;
} doc_spec;

typedef struct nchain {
    EVP_PKEY *root_key, *int_key, *leaf_key;
    X509 *root, *inter, *leaf;
} nchain;

static void make_nchain(nchain *n, time_t leaf_from, time_t leaf_to)
{
    time_t nb = tg_time("2019-01-01T00:00:00Z"), na = tg_time("2049-01-01T00:00:00Z");
    n->root_key = tg_ec_key(NID_secp384r1);
    n->int_key = tg_ec_key(NID_secp384r1);
    n->leaf_key = tg_ec_key(NID_secp384r1);
    n->root = tg_cert("test.nitro-root", n->root_key, NULL, NULL, 0, 1, nb, na, NULL, 0);
    n->inter = tg_cert("test.nitro-zonal", n->int_key, n->root, n->root_key, 0, 1, nb, na, NULL, 0);
    n->leaf = tg_cert("i-test-enclave", n->leaf_key, n->inter, n->int_key, 0, 0, leaf_from, leaf_to,
                      NULL, 0);
}

static void free_nchain(nchain *n)
{
    EVP_PKEY_free(n->root_key), EVP_PKEY_free(n->int_key), EVP_PKEY_free(n->leaf_key);
    X509_free(n->root), X509_free(n->inter), X509_free(n->leaf);
}

static uint8_t *build_doc(const doc_spec *s, nchain *n, EVP_PKEY *signer, size_t *out_len)
{
    sb_cbuf b;
    sb_cbuf_init(&b);
    sb_cbor_put_map(&b, 9 - (s->omit_cert ? 1 : 0) + (s->unknown_field ? 1 : 0));
    sb_cbor_put_text(&b, "module_id"), sb_cbor_put_text(&b, "i-test-enclave");
    sb_cbor_put_text(&b, "digest"), sb_cbor_put_text(&b, s->bad_digest ? "SHA256" : "SHA384");
    sb_cbor_put_text(&b, "timestamp"), sb_cbor_put_uint(&b, s->timestamp_ms);
    sb_cbor_put_text(&b, "pcrs"), sb_cbor_put_map(&b, 4);
    for (int i = 0; i < 4; i++) {
        uint8_t pcr[48];
        memset(pcr, s->debug_pcrs && i < 3 ? 0 : 0x10 + i, 48);
        sb_cbor_put_uint(&b, (uint64_t)i), sb_cbor_put_bytes(&b, pcr, s->short_pcr && i == 3 ? 32 : 48);
    }
    size_t dl;
    uint8_t *der;
    if (!s->omit_cert) {
        der = tg_der(n->leaf, &dl);
        sb_cbor_put_text(&b, "certificate"), sb_cbor_put_bytes(&b, der, dl);
        free(der);
    }
    sb_cbor_put_text(&b, "cabundle"), sb_cbor_put_array(&b, 2);
    der = tg_der(n->root, &dl), sb_cbor_put_bytes(&b, der, dl), free(der);
    der = tg_der(n->inter, &dl), sb_cbor_put_bytes(&b, der, dl), free(der);
    uint8_t nonce[64];
    for (int i = 0; i < 64; i++)
        nonce[i] = (uint8_t)(0xc0 ^ i);
    sb_cbor_put_text(&b, "public_key"), sb_cbor_put_raw(&b, "\xf6", 1);
    sb_cbor_put_text(&b, "user_data"), sb_cbor_put_bytes(&b, "ud", 2);
    sb_cbor_put_text(&b, "nonce"), sb_cbor_put_bytes(&b, nonce, 64);
    if (s->unknown_field)
        sb_cbor_put_text(&b, "extra"), sb_cbor_put_uint(&b, 1);
    sb_cbuf_finish(&b, NULL);
    uint8_t *out;
    out = NULL;
    sb_cose_sign1_sign(signer, 0, -1, NULL, 0, b.data, b.len, s->tagged, &out,
                       out_len, NULL);
    free(b.data);
    return out;
}

static void test_synthetic(void)
{
    time_t doc_time = tg_time("2026-03-01T12:00:00Z");
    nchain n;
    make_nchain(&n, doc_time - 3600, doc_time + 3600);
    sb_trust_anchors a = {0};
    tg_anchors_add_cert(&a, n.root);
    time_t at = doc_time + 86400;
    uint64_t ts = (uint64_t)doc_time * 1000 + 123;
    sb_claims c;
    sb_err err = {0};
    size_t len;
    doc_spec tagged = {1, 0, 0, 0, 0, 0, ts};
    uint8_t *d = build_doc(&tagged, &n, n.leaf_key, &len);
    CHECK(d[0] == 0xd2);
    CHECK(sb_verify_nitro(d, len, &a, at, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "nitro synthetic: %s\n", err.msg);
    CHECK(c.debug == 0 && c.report_data_len == 64 && c.report_data[1] == 0xc1);
    uint8_t nonce[64];
    for (int i = 0; i < 64; i++)
        nonce[i] = (uint8_t)(0xc0 ^ i);
    CHECK(sb_claims_expect_report_data(&c, nonce, 64, &err) == 0);
    nonce[0] ^= 1;
    CHECK_ERR(sb_claims_expect_report_data(&c, nonce, 64, &err), err, "nitro: report data does not match");
    CHECK(strcmp(c.chain, "i-test-enclave -> test.nitro-zonal -> test.nitro-root") == 0);
    free(d);
    doc_spec dbg = {0, 1, 0, 0, 0, 0, ts};
    d = build_doc(&dbg, &n, n.leaf_key, &len);
    CHECK(sb_verify_nitro(d, len, &a, at, &c, &err) == 0 && c.debug == 1);
    free(d);
    struct { doc_spec s; const char *needle; } bad[] = {
        {{1, 0, 1, 0, 0, 0, ts}, "mandatory field"},
        {{1, 0, 0, 1, 0, 0, ts}, "unknown field 'extra'"},
        {{1, 0, 0, 0, 1, 0, ts}, "digest: not \"SHA384\""},
        {{1, 0, 0, 0, 0, 1, ts}, "PCR3 is not a 48-byte string"},
        {{1, 0, 0, 0, 0, 0, ts + 7200 * 1000ull}, "certificate has expired"},
        {{1, 0, 0, 0, 0, 0, ts - 7200 * 1000ull}, "not yet valid"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = build_doc(&bad[i].s, &n, n.leaf_key, &len);
        CHECK_ERR(sb_verify_nitro(d, len, &a, at, &c, &err), err, bad[i].needle);
        free(d);
    }
    EVP_PKEY *other = tg_ec_key(NID_secp384r1);
    d = build_doc(&tagged, &n, other, &len);
    CHECK_ERR(sb_verify_nitro(d, len, &a, at, &c, &err), err, "signature by the enclave certificate");
    free(d);
    EVP_PKEY_free(other);
    /* ES256 signer refused by algorithm */
    EVP_PKEY *p256 = tg_ec_key(NID_X9_62_prime256v1);
    d = build_doc(&tagged, &n, p256, &len);
    CHECK_ERR(sb_verify_nitro(d, len, &a, at, &c, &err), err, "is not ES384");
    free(d);
    EVP_PKEY_free(p256);
    tg_anchors_free(&a);
    free_nchain(&n);
}

int main(int argc, char **argv)
{
    tg_vectors_init(argc, argv, "test_nitro");
    test_sample();
    test_synthetic();
    if (tg_failures)
        fprintf(stderr, "%d failures\n", tg_failures);
    return tg_failures ? 1 : 0;
}
