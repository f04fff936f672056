/* test_cose - COSE_Sign1/Mac0 against the RFC 9783 samples, round trips, strictness. */
#include "cose/cose.h"
#include "../common/test_util.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the attestation vectors are: SHARED_DIR/attestation-vectors. */
static char vectors[1024];

static int verify_sign1(const uint8_t *d, size_t len, EVP_PKEY *k, sb_err *err)
{
    sb_cose_msg m;
    if (sb_cose_decode(d, len, SB_COSE_SIGN1, &m, err) < 0)
        return -1;
    return sb_cose_sign1_verify(&m, k, NULL, 0, NULL, 0, err);
}

static int verify_mac0(const uint8_t *d, size_t len, const uint8_t *key, size_t kl, sb_err *err)
{
    sb_cose_msg m;
    if (sb_cose_decode(d, len, SB_COSE_MAC0, &m, err) < 0)
        return -1;
    return sb_cose_mac0_verify(&m, key, kl, NULL, 0, err);
}

/* Every single-byte change (xor 0x01 and 0xff) must make verification fail. */
static void test_corruptions_sign1(const uint8_t *d, size_t len, EVP_PKEY *k)
{
    uint8_t *c = malloc(len);
    int accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (int x = 0; x < 2; x++) {
            memcpy(c, d, len);
            c[i] ^= x ? 0xff : 0x01;
            if (verify_sign1(c, len, k, NULL) == 0)
                accepted++;
        }
    CHECK(accepted == 0);
    CHECK(verify_sign1(d, len - 1, k, NULL) < 0);
    free(c);
}

static void test_rfc9783_sign1(void)
{
    size_t len;
    uint8_t *d = load_file(vectors, "psa/rfc9783_psa-sign1.cbor", &len);
    EVP_PKEY *k = load_pub(vectors, "psa/rfc9783_tfm-es-iak.pub.pem");
    EVP_PKEY *other = load_pub(vectors, "psa/veraison_tfm_iak.pub.pem");
    sb_err e = {0};
    CHECK(verify_sign1(d, len, k, &e) == 0);
    if (e.msg[0])
        fprintf(stderr, "sign1: %s\n", e.msg);
    sb_cose_msg m;
    CHECK(sb_cose_decode(d, len, SB_COSE_ANY, &m, NULL) == 0 && m.tagged && m.alg == -7);
    CHECK_ERR(verify_sign1(d, len, other, err), "signature does not verify");
    CHECK_ERR(sb_cose_decode(d, len, SB_COSE_MAC0, &m, err), "expected a COSE_Mac0");
    test_corruptions_sign1(d, len, k);
    /* trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, d, len);
    longer[len] = 0;
    CHECK_ERR(sb_cose_decode(longer, len + 1, SB_COSE_ANY, &m, err), "trailing bytes");
    free(longer);
    /* untagged form of the same message verifies too (skip the 1-byte tag 0xd2) */
    CHECK(d[0] == 0xd2);
    CHECK(verify_sign1(d + 1, len - 1, k, NULL) == 0);
    CHECK_ERR(sb_cose_decode(d + 1, len - 1, SB_COSE_ANY, &m, err), "untagged");
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    free(d);
}

static void test_rfc9783_mac0(void)
{
    size_t len, kl;
    uint8_t *d = load_file(vectors, "psa/rfc9783_psa-mac0.cbor", &len);
    uint8_t *key = load_file(vectors, "psa/rfc9783_tfm-hs-iak.hmac-key.bin", &kl);
    sb_err e = {0};
    CHECK(verify_mac0(d, len, key, kl, &e) == 0);
    if (e.msg[0])
        fprintf(stderr, "mac0: %s\n", e.msg);
    uint8_t *c = malloc(len);
    int accepted = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(c, d, len);
        c[i] ^= 0x01;
        accepted += verify_mac0(c, len, key, kl, NULL) == 0;
    }
    CHECK(accepted == 0);
    key[0] ^= 1;
    CHECK_ERR(verify_mac0(d, len, key, kl, err), "MAC tag does not verify");
    free(c);
    free(key);
    free(d);
}

static EVP_PKEY *gen_ec(const char *curve)
{
    return EVP_EC_gen(curve);
}

static void test_round_trip(const char *curve, int64_t alg)
{
    EVP_PKEY *k = gen_ec(curve);
    const uint8_t payload[] = "hello cose";
    for (int tagged = 0; tagged < 2; tagged++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        CHECK(sb_cose_sign1_sign(k, alg, -1, (const uint8_t *)"kid", 3, payload, sizeof payload,
                                 tagged, &out, &out_len, NULL) == 0);
        sb_cose_msg m;
        CHECK(sb_cose_decode(out, out_len, SB_COSE_SIGN1, &m, NULL) == 0);
        CHECK(m.tagged == tagged && m.payload_len == sizeof payload);
        CHECK(sb_cose_sign1_verify(&m, k, NULL, 0, NULL, 0, NULL) == 0);
        CHECK_ERR(sb_cose_sign1_verify(&m, k, (const uint8_t *)"aad", 3, NULL, 0, err),
                  "does not verify");
        const uint8_t *kid;
        size_t kid_len;
        CHECK(sb_cose_kid(&m, &kid, &kid_len, NULL) == 0 && kid_len == 3 && !memcmp(kid, "kid", 3));
        /* the key as a raw point and back */
        uint8_t pt[133];
        size_t pl;
        EVP_PKEY *k2 = NULL;
        CHECK(sb_cose_key_to_point(k, pt, sizeof pt, &pl, NULL) == 0);
        CHECK(sb_cose_key_from_point(0, pt, pl, &k2, NULL) == 0);
        CHECK(k2 && sb_cose_sign1_verify(&m, k2, NULL, 0, NULL, 0, NULL) == 0);
        EVP_PKEY_free(k2);
        pt[pl - 1] ^= 1; /* off the curve */
        CHECK_ERR(sb_cose_key_from_point(0, pt, pl, &k2, err), "not on the curve");
        free(out);
    }
    EVP_PKEY_free(k);
}

static void test_alg_curve_mismatch(void)
{
    EVP_PKEY *k = gen_ec("P-256");
    uint8_t *out = NULL;
    size_t len;
    CHECK_ERR(sb_cose_sign1_sign(k, SB_COSE_ALG_ES384, -1, NULL, 0, (const uint8_t *)"x", 1, 1,
                                 &out, &len, err),
              "P-384");
    CHECK(sb_cose_sign1_sign(k, 0, 0, NULL, 0, (const uint8_t *)"x", 1, 1, &out, &len, NULL) == 0);
    EVP_PKEY *k384 = gen_ec("P-384");
    sb_cose_msg m;
    CHECK(sb_cose_decode(out, len, SB_COSE_SIGN1, &m, NULL) == 0);
    CHECK_ERR(sb_cose_sign1_verify(&m, k384, NULL, 0, NULL, 0, err), "P-256");
    free(out);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k384);
}

static void test_mac0_round_trip(void)
{
    const uint8_t key[32] = {1, 2, 3};
    for (int64_t alg = 5; alg <= 7; alg++) {
        uint8_t *out;
        size_t len;
        CHECK(sb_cose_mac0_create(key, sizeof key, alg, (const uint8_t *)"p", 1, 1, &out, &len,
                                  NULL) == 0);
        CHECK(verify_mac0(out, len, key, sizeof key, NULL) == 0);
        free(out);
    }
}

static void test_strict_cbor(void)
{
    sb_cose_msg m;
    /* indefinite-length array */
    const uint8_t indef[] = {0xd2, 0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff};
    CHECK_ERR(sb_cose_decode(indef, sizeof indef, SB_COSE_ANY, &m, err), "indefinite");
    /* array of 3 */
    const uint8_t three[] = {0xd2, 0x83, 0x40, 0xa0, 0x40};
    CHECK_ERR(sb_cose_decode(three, sizeof three, SB_COSE_ANY, &m, err), "want 4");
    /* no alg */
    const uint8_t noalg[] = {0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40};
    CHECK_ERR(sb_cose_decode(noalg, sizeof noalg, SB_COSE_ANY, &m, err), "no alg");
    /* alg only in unprotected */
    const uint8_t unprot_alg[] = {0xd2, 0x84, 0x40, 0xa1, 0x01, 0x26, 0x40, 0x40};
    CHECK_ERR(sb_cose_decode(unprot_alg, sizeof unprot_alg, SB_COSE_ANY, &m, err),
              "alg must be in the protected header");
    /* duplicate label across buckets: protected {1:-7}, unprotected {1:-7} */
    const uint8_t dup[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x01, 0x26, 0x40, 0x40};
    CHECK_ERR(sb_cose_decode(dup, sizeof dup, SB_COSE_ANY, &m, err), "appears twice");
    /* crit */
    const uint8_t crit[] = {0xd2, 0x84, 0x45, 0xa2, 0x01, 0x26, 0x02, 0x80, 0xa0, 0x40, 0x40};
    CHECK_ERR(sb_cose_decode(crit, sizeof crit, SB_COSE_ANY, &m, err), "critical");
    /* wrong tag */
    const uint8_t tag99[] = {0xd8, 0x63, 0x84, 0x40, 0xa0, 0x40, 0x40};
    CHECK_ERR(sb_cose_decode(tag99, sizeof tag99, SB_COSE_ANY, &m, err), "unexpected tag 99");
    /* byte-string length beyond the input */
    const uint8_t huge[] = {0xd2, 0x84, 0x5a, 0xff, 0xff, 0xff, 0xff};
    CHECK_ERR(sb_cose_decode(huge, sizeof huge, SB_COSE_ANY, &m, err), "exceeds");
    /* non-preferred encodings are accepted: protected bstr length as 0x58 0x03, alg -7 as 0x38 0x06 */
    const uint8_t noncanon[] = {0xd2, 0x84, 0x58, 0x04, 0xa1, 0x01, 0x38, 0x06,
                                0xa0, 0x40, 0x40};
    CHECK(sb_cose_decode(noncanon, sizeof noncanon, SB_COSE_ANY, &m, NULL) == 0 && m.alg == -7);
    /* deep nesting is skipped iteratively */
    size_t deep_n = 100000;
    uint8_t *deep = malloc(deep_n + 1);
    memset(deep, 0x81, deep_n);
    deep[deep_n] = 0x00;
    CHECK(sb_cbor_check_single(deep, deep_n + 1, NULL) == 0);
    CHECK_ERR(sb_cbor_check_single(deep, deep_n, err), "exceeds the input");
    free(deep);
    /* reserved additional info */
    const uint8_t reserved[] = {0x1c};
    CHECK_ERR(sb_cbor_check_single(reserved, 1, err), "reserved");
    /* huge array count */
    const uint8_t bigarr[] = {0x9b, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_ERR(sb_cbor_check_single(bigarr, sizeof bigarr, err), "exceeds the input");
}

static void test_cose_key(void)
{
    EVP_PKEY *k = gen_ec("P-384");
    uint8_t pt[133];
    size_t pl;
    CHECK(sb_cose_key_to_point(k, pt, sizeof pt, &pl, NULL) == 0 && pl == 97);
    sb_cbuf b;
    sb_cbuf_init(&b);
    sb_cbor_put_map(&b, 4);
    sb_cbor_put_int(&b, 1);
    sb_cbor_put_int(&b, 2);
    sb_cbor_put_int(&b, -1);
    sb_cbor_put_int(&b, 2);
    sb_cbor_put_int(&b, -2);
    sb_cbor_put_bytes(&b, pt + 1, 48);
    sb_cbor_put_int(&b, -3);
    sb_cbor_put_bytes(&b, pt + 49, 48);
    CHECK(sb_cbuf_finish(&b, NULL) == 0);
    EVP_PKEY *k2 = NULL;
    CHECK(sb_cose_key_decode(b.data, b.len, &k2, NULL) == 0);
    CHECK(k2 && EVP_PKEY_eq(k, k2) == 1);
    EVP_PKEY_free(k2);
    b.data[4] = 1; /* crv P-256 with 48-byte coordinates */
    CHECK_ERR(sb_cose_key_decode(b.data, b.len, &k2, err), "32 bytes");
    b.data[4] = 2;
    b.data[2] = 3; /* kty 3 (RSA) */
    CHECK_ERR(sb_cose_key_decode(b.data, b.len, &k2, err), "not EC2");
    sb_cbuf_free(&b);
    EVP_PKEY_free(k);
}

/* The writer against RFC 8949 Appendix A: every head size, both signs, strings, containers. */
static void test_cbor_writer_vectors(void)
{
    static const uint8_t want[] = {
        0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00, 0x19, 0xff, 0xff, 0x1a, 0x00, 0x01,
        0x00, 0x00, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* uints */
        0x20, 0x37, 0x38, 0x18, 0x38, 0xff, 0x39, 0x01, 0x00,       /* -1 -24 -25 -256 -257 */
        0x64, 0x49, 0x45, 0x54, 0x46, 0x44, 0x01, 0x02, 0x03, 0x04, /* "IETF" h'01020304' */
        0x82, 0xa1, 0x61, 0x61, 0xf5, 0xf6, 0xc1, 0xf4,             /* [{"a": true}, null] 1(false) */
    };
    static const uint64_t uints[] = {0, 23, 24, 255, 256, 65535, 65536, 0xffffffffu,
                                     0x100000000ull, UINT64_MAX};
    static const int64_t ints[] = {-1, -24, -25, -256, -257};
    sb_cbuf b;
    sb_cbuf_init(&b);
    for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++)
        sb_cbor_put_uint(&b, uints[i]);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        sb_cbor_put_int(&b, ints[i]);
    sb_cbor_put_text(&b, "IETF");
    sb_cbor_put_bytes(&b, "\x01\x02\x03\x04", 4);
    sb_cbor_put_array(&b, 2);
    sb_cbor_put_map(&b, 1);
    sb_cbor_put_text(&b, "a");
    sb_cbor_put_bool(&b, 1);
    sb_cbor_put_null(&b);
    sb_cbor_put_tag(&b, 1);
    sb_cbor_put_bool(&b, 0);
    CHECK(sb_cbuf_finish(&b, NULL) == 0);
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);
    sb_cbuf_free(&b);
    /* the cap: the first append that would pass it fails, and the failure sticks */
    sb_cbuf_init(&b);
    b.max = 8;
    sb_cbor_put_bytes(&b, "12345678", 8);
    sb_cbor_put_uint(&b, 1);
    sb_err e = {0};
    CHECK(sb_cbuf_finish(&b, &e) < 0 && strstr(e.msg, "size cap"));
    sb_cbuf_free(&b);
}

/* A COSE_Sign1 with an x5chain header, computed by hand: the Sig_structure and every byte of
 * the message but the signature; the created message decodes to exactly those parts. */
static void test_sign1_x5chain_vector(void)
{
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};                         /* {1: -7} */
    static const uint8_t unprot[] = {0xa1, 0x18, 0x21, 0x81, 0x42, 0x01, 0x02}; /* {33: [h'0102']} */
    static const uint8_t payload[] = {0xa1, 0x63, 0x72, 0x75, 0x6e, 0x07};     /* {"run": 7} */
    static const uint8_t tbs[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1',
                                  0x43, 0xa1, 0x01, 0x26, 0x40, 0x46, 0xa1, 0x63, 0x72, 0x75,
                                  0x6e, 0x07};
    static const uint8_t head[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x18, 0x21, 0x81,
                                   0x42, 0x01, 0x02, 0x46, 0xa1, 0x63, 0x72, 0x75, 0x6e, 0x07,
                                   0x58, 0x40};
    sb_cbuf b;
    CHECK(sb_cose_sig_structure("Signature1", prot, sizeof prot, NULL, 0, payload,
                                sizeof payload, &b, NULL) == 0);
    CHECK(b.len == sizeof tbs && memcmp(b.data, tbs, sizeof tbs) == 0);
    sb_cbuf_free(&b);
    EVP_PKEY *k = gen_ec("P-256");
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK(sb_cose_sign1_create(k, 0, -1, unprot, sizeof unprot, payload, sizeof payload, 1, &out,
                               &len, NULL) == 0);
    CHECK(len == sizeof head + 64 && memcmp(out, head, sizeof head) == 0);
    sb_cose_msg m;
    sb_cbor v;
    const uint8_t *cert;
    size_t n, cert_len;
    CHECK(sb_cose_decode(out, len, SB_COSE_SIGN1, &m, NULL) == 0 && m.alg == SB_COSE_ALG_ES256);
    CHECK(m.payload_len == sizeof payload && memcmp(m.payload, payload, sizeof payload) == 0);
    CHECK(sb_cose_header_find(&m, SB_COSE_HDR_X5CHAIN, &v, NULL, NULL) == 0);
    CHECK(sb_cbor_read_array(&v, &n, NULL) == 0 && n == 1);
    CHECK(sb_cbor_read_bytes(&v, &cert, &cert_len, NULL) == 0 && cert_len == 2 && cert[1] == 2);
    CHECK(sb_cose_sign1_verify(&m, k, NULL, 0, NULL, 0, NULL) == 0);
    sb_err e = {0};
    out[sizeof head + 10] ^= 1; /* one bit of the signature */
    CHECK(sb_cose_decode(out, len, SB_COSE_SIGN1, &m, NULL) == 0);
    CHECK(sb_cose_sign1_verify(&m, k, NULL, 0, NULL, 0, &e) < 0 && strstr(e.msg, "does not verify"));
    free(out);
    EVP_PKEY *k384 = gen_ec("P-384");
    CHECK(sb_cose_sign1_create(k384, SB_COSE_ALG_ES256, -1, NULL, 0, payload, sizeof payload, 1,
                               &out, &len, &e) < 0 && strstr(e.msg, "P-256"));
    EVP_PKEY_free(k384);
    EVP_PKEY_free(k);
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : getenv("SB_SHARED_DIR");
    if (!shared) {
        fprintf(stderr, "usage: test_cose SHARED_DIR\n");
        return 2;
    }
    snprintf(vectors, sizeof vectors, "%s/attestation-vectors", shared);
    test_rfc9783_sign1();
    test_rfc9783_mac0();
    test_round_trip("P-256", SB_COSE_ALG_ES256);
    test_round_trip("P-384", SB_COSE_ALG_ES384);
    test_round_trip("P-521", SB_COSE_ALG_ES512);
    test_alg_curve_mismatch();
    test_mac0_round_trip();
    test_strict_cbor();
    test_cose_key();
    test_cbor_writer_vectors();
    test_sign1_x5chain_vector();
    return test_exit("cose");
}
