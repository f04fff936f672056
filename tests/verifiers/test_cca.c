/* Tests for the CCA verifier: the captured tag-399 TF-RMM token (valid, every byte flipped,
 * truncations, wrong/no platform key) and synthetic tokens built here: the tag-907 CMW
 * collection with a COSE_Key RAK, sha-256/384/512 realm measurements and sizes that do not match
 * the named algorithm, ES256 platform key, debug and
 * invalid lifecycles, broken binding, wrong signer, malformed collections. */
#include "cose/cose.h"
#include "testgen.h"
#include "verifiers/verifiers.h"

#include <stdlib.h>
#include <string.h>

static void test_sample(void)
{
    size_t len;
    uint8_t *tok = tg_read(tg_vec("cca/veraison_tfrmm_cca_token_tag399.cbor"), &len);
    sb_trust_anchors a = {0};
    tg_anchors_add_file(&a, tg_vec("cca/tfrmm_cpak.pub.pem"));
    sb_claims c;
    sb_err err = {0};
    CHECK(sb_verify_cca(tok, len, &a, 0, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "cca sample: %s\n", err.msg);
    uint8_t ab[64];
    memset(ab, 0xab, 64);
    CHECK(strcmp(c.platform, "cca") == 0 && c.debug == 0);
    CHECK(c.report_data_len == 64 && memcmp(c.report_data, ab, 64) == 0);
    CHECK(c.n_measurements == 6 && strcmp(c.measurements[0].name, "rim") == 0 &&
          c.measurements[0].len == 32 && strcmp(c.measurements[4].name, "rem3") == 0);
    CHECK(strstr(c.tcb, "lifecycle 0x3003 (secured)") != NULL);
    CHECK(strstr(c.signer, "CCA platform key sha256:") != NULL);
    CHECK(sb_claims_expect_report_data(&c, ab, 64, &err) == 0);
    ab[63] = 0xac;
    CHECK_ERR(sb_claims_expect_report_data(&c, ab, 64, &err), err, "cca: report data does not match");

    sb_trust_anchors none = {0}, other = {0};
    CHECK_ERR(sb_verify_cca(tok, len, &none, 0, &c, &err), err, "any of the 0 registered keys");
    EVP_PKEY *k = tg_ec_key(NID_secp384r1);
    tg_anchors_add_key(&other, k);
    EVP_PKEY_free(k);
    CHECK_ERR(sb_verify_cca(tok, len, &other, 0, &c, &err), err, "platform token: signature does not verify");
    CHECK(c.report_data_len == 0 && c.n_measurements == 0);
    tg_anchors_free(&other);

    /* Every byte flipped: collection wrapper, both COSE envelopes, claims, signatures. */
    uint8_t *copy = malloc(len + 1);
    int flips = 0, refused = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, tok, len);
        copy[i] ^= 0x01;
        flips++;
        sb_err_clear(&err);
        if (sb_verify_cca(copy, len, &a, 0, &c, &err) != 0 && tg_has_reason(&err))
            refused++;
        else
            fprintf(stderr, "cca: flip at %zu accepted\n", i);
    }
    CHECK(refused == flips);
    printf("cca sample: %d/%d single-byte flips refused\n", refused, flips);
    int truncs = 0;
    for (size_t n = 0; n < len; n++)
        truncs += sb_verify_cca(tok, n, &a, 0, &c, &err) != 0 && tg_has_reason(&err);
    CHECK(truncs == (int)len);
    memcpy(copy, tok, len);
    copy[len] = 0;
    CHECK_ERR(sb_verify_cca(copy, len + 1, &a, 0, &c, &err), err, "bytes after the collection");
    /* specific reasons: realm challenge byte (signature), platform signature byte */
    memcpy(copy, tok, len);
    copy[len - 1] ^= 1;
    CHECK_ERR(sb_verify_cca(copy, len, &a, 0, &c, &err), err, "realm token: signature by the RAK");
    memcpy(copy, tok, 4);
    copy[2] = 0x90; /* tag 400 */
    CHECK_ERR(sb_verify_cca(copy, len, &a, 0, &c, &err), err, "tag 400 is not a CCA collection");
    free(copy);
    tg_anchors_free(&a);
    free(tok);
}

/* --- synthetic tokens ---------------------------------------------------------------------- */

typedef struct token_spec {
    int cmw;             /* tag 907 with [263, bstr] entries */
    int cose_key_rak;    /* RAK as a COSE_Key instead of a raw point */
    const char *realm_hash, *rak_hash;
    uint64_t lifecycle;
    int break_binding;
    int realm_signed_by_other;
    size_t rim_len, rem_len; /* 0: the size the realm hash algorithm implies */
    int omit_realm_hash;
} token_spec;

/* The digest size a realm hash algorithm name implies (32 for names the verifier must refuse). */
static size_t size_for(const char *alg)
{
    return strcmp(alg, "sha-512") == 0 ? 64 : strcmp(alg, "sha-384") == 0 ? 48 : 32;
}

static const EVP_MD *md_for(const char *alg)
{
    size_t n = size_for(alg);
    return n == 64 ? EVP_sha512() : n == 48 ? EVP_sha384() : EVP_sha256();
}

static void put_cose_key(sb_cbuf *b, EVP_PKEY *k)
{
    uint8_t pt[133];
    size_t n;
    sb_cose_key_to_point(k, pt, sizeof pt, &n, NULL);
    size_t coord = (n - 1) / 2;
    sb_cbor_put_map(b, 4);
    sb_cbor_put_int(b, 1), sb_cbor_put_int(b, 2);      /* kty EC2 */
    sb_cbor_put_int(b, -1), sb_cbor_put_int(b, 2);     /* crv P-384 */
    sb_cbor_put_int(b, -2), sb_cbor_put_bytes(b, pt + 1, coord);
    sb_cbor_put_int(b, -3), sb_cbor_put_bytes(b, pt + 1 + coord, coord);
}

static uint8_t *build_token(const token_spec *s, EVP_PKEY *cpak, EVP_PKEY *rak, size_t *out_len)
{
    /* RAK bytes as they appear in claim 44237 */
    sb_cbuf rk;
    sb_cbuf_init(&rk);
    if (s->cose_key_rak) {
        put_cose_key(&rk, rak);
    } else {
        uint8_t pt[133];
        size_t n;
        sb_cose_key_to_point(rak, pt, sizeof pt, &n, NULL);
        sb_cbor_put_raw(&rk, pt, n);
    }
    sb_cbuf_finish(&rk, NULL);
    size_t rim_len = s->rim_len ? s->rim_len : size_for(s->realm_hash);
    size_t rem_len = s->rem_len ? s->rem_len : size_for(s->realm_hash);
    uint8_t meas[80], chal[64], rpv[64];
    memset(chal, 0x5c, 64), memset(rpv, 0x11, 64);
    sb_cbuf r;
    sb_cbuf_init(&r);
    sb_cbor_put_map(&r, s->omit_realm_hash ? 7 : 8);
    sb_cbor_put_uint(&r, 10), sb_cbor_put_bytes(&r, chal, 64);
    sb_cbor_put_uint(&r, 44235), sb_cbor_put_bytes(&r, rpv, 64);
    if (!s->omit_realm_hash)
        sb_cbor_put_uint(&r, 44236), sb_cbor_put_text(&r, s->realm_hash);
    sb_cbor_put_uint(&r, 44240), sb_cbor_put_text(&r, s->rak_hash);
    sb_cbor_put_uint(&r, 44237), sb_cbor_put_bytes(&r, rk.data, rk.len);
    memset(meas, 0x21, sizeof meas);
    sb_cbor_put_uint(&r, 44238), sb_cbor_put_bytes(&r, meas, rim_len);
    sb_cbor_put_uint(&r, 44239), sb_cbor_put_array(&r, 4);
    for (int i = 0; i < 4; i++) {
        memset(meas, 0x30 + i, sizeof meas);
        sb_cbor_put_bytes(&r, meas, rem_len);
    }
    sb_cbor_put_uint(&r, 265), sb_cbor_put_text(&r, "tag:arm.com,2023:realm#1.0.0");
    sb_cbuf_finish(&r, NULL);
    uint8_t *realm_tok, *plat_tok;
    size_t realm_len, plat_len;
    EVP_PKEY *realm_signer = rak;
    if (s->realm_signed_by_other)
        realm_signer = tg_ec_key(NID_secp384r1);
    sb_cose_sign1_sign(realm_signer, SB_COSE_ALG_ES384, -1, NULL, 0, r.data, r.len, 1, &realm_tok,
                       &realm_len, NULL);
    if (s->realm_signed_by_other)
        EVP_PKEY_free(realm_signer);
    /* platform challenge = hash(RAK bytes) */
    uint8_t h[64];
    unsigned hl;
    EVP_Digest(rk.data, rk.len, h, &hl, md_for(s->rak_hash), NULL);
    if (s->break_binding)
        h[0] ^= 1;
    uint8_t impl[32], inst[33], cfg[4] = {1, 2, 3, 4};
    memset(impl, 0x77, 32), memset(inst, 0x42, 33);
    inst[0] = 0x01;
    sb_cbuf p;
    sb_cbuf_init(&p);
    sb_cbor_put_map(&p, 8);
    sb_cbor_put_uint(&p, 265), sb_cbor_put_text(&p, "tag:arm.com,2023:cca_platform#1.0.0");
    sb_cbor_put_uint(&p, 10), sb_cbor_put_bytes(&p, h, hl);
    sb_cbor_put_uint(&p, 2396), sb_cbor_put_bytes(&p, impl, 32);
    sb_cbor_put_uint(&p, 256), sb_cbor_put_bytes(&p, inst, 33);
    sb_cbor_put_uint(&p, 2401), sb_cbor_put_bytes(&p, cfg, 4);
    sb_cbor_put_uint(&p, 2395), sb_cbor_put_uint(&p, s->lifecycle);
    sb_cbor_put_uint(&p, 2402), sb_cbor_put_text(&p, "sha-256");
    sb_cbor_put_uint(&p, 2399), sb_cbor_put_array(&p, 1);
    sb_cbor_put_map(&p, 2);
    sb_cbor_put_uint(&p, 1), sb_cbor_put_text(&p, "BL");
    sb_cbor_put_uint(&p, 2), sb_cbor_put_bytes(&p, impl, 32);
    sb_cbuf_finish(&p, NULL);
    sb_cose_sign1_sign(cpak, 0, -1, NULL, 0, p.data, p.len, 1, &plat_tok, &plat_len, NULL);
    sb_cbuf t;
    sb_cbuf_init(&t);
    sb_cbor_put_tag(&t, s->cmw ? 907 : 399);
    sb_cbor_put_map(&t, 2);
    sb_cbor_put_uint(&t, 44234);
    if (s->cmw)
        sb_cbor_put_array(&t, 2), sb_cbor_put_uint(&t, 263);
    sb_cbor_put_bytes(&t, plat_tok, plat_len);
    sb_cbor_put_uint(&t, 44241);
    if (s->cmw)
        sb_cbor_put_array(&t, 2), sb_cbor_put_uint(&t, 263);
    sb_cbor_put_bytes(&t, realm_tok, realm_len);
    sb_cbuf_finish(&t, NULL);
    free(realm_tok), free(plat_tok), free(rk.data), free(r.data), free(p.data);
    *out_len = t.len;
    return t.data;
}

/* A synthetic token verifies, or fails with `want` in the reason. */
static void expect(const token_spec *s, EVP_PKEY *cpak, EVP_PKEY *rak, sb_trust_anchors *a,
                   const char *want, sb_claims *c)
{
    size_t len;
    sb_err err = {0};
    uint8_t *t = build_token(s, cpak, rak, &len);
    if (want)
        CHECK_ERR(sb_verify_cca(t, len, a, 0, c, &err), err, want);
    else if (sb_verify_cca(t, len, a, 0, c, &err) != 0) {
        fprintf(stderr, "cca %s/%s: refused: %s\n", s->realm_hash, s->rak_hash, err.msg);
        tg_failures++;
    }
    free(t);
}

/* RIM and REMs have the size the realm hash algorithm implies (32, 48 or 64 bytes), and the
 * primary measurement the policy matches is the RIM at that size. */
static void test_realm_hashes(EVP_PKEY *cpak, EVP_PKEY *rak, sb_trust_anchors *a)
{
    static const char *const algs[] = {"sha-256", "sha-384", "sha-512"};
    sb_claims c;
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 3; k++) { /* every realm hash with every RAK hash, both forms */
            token_spec ok = {i & 1, k & 1, algs[i], algs[k], 0x3000, 0, 0, 0, 0, 0};
            memset(&c, 0, sizeof c);
            expect(&ok, cpak, rak, a, NULL, &c);
            size_t n = size_for(algs[i]);
            CHECK(c.n_measurements == 6 && strcmp(c.measurements[0].name, "rim") == 0);
            CHECK(c.measurements[0].len == n && c.measurements[0].value[n - 1] == 0x21);
            CHECK(c.measurements[4].len == n && c.measurements[4].value[0] == 0x33);
            CHECK(strstr(c.tcb, algs[i]) != NULL);
        }
    }
    token_spec s512_rim32 = {0, 0, "sha-512", "sha-256", 0x3000, 0, 0, 32, 0, 0};
    expect(&s512_rim32, cpak, rak, a, "realm initial measurement (44238) is 32 bytes, but the "
           "realm hash algorithm sha-512 needs 64", &c);
    token_spec s256_rim64 = {1, 1, "sha-256", "sha-256", 0x3000, 0, 0, 64, 64, 0};
    expect(&s256_rim64, cpak, rak, a, "realm initial measurement (44238) is 64 bytes, but the "
           "realm hash algorithm sha-256 needs 32", &c);
    token_spec s384_rim64 = {0, 0, "sha-384", "sha-384", 0x3000, 0, 0, 64, 0, 0};
    expect(&s384_rim64, cpak, rak, a, "is 64 bytes, but the realm hash algorithm sha-384 needs 48",
           &c);
    token_spec s384_rem64 = {0, 0, "sha-384", "sha-384", 0x3000, 0, 0, 0, 64, 0};
    expect(&s384_rem64, cpak, rak, a, "realm extensible measurement 0 (44239) is 64 bytes, but "
           "the realm hash algorithm sha-384 needs 48", &c);
    token_spec s512_rem48 = {0, 0, "sha-512", "sha-512", 0x3000, 0, 0, 0, 48, 0};
    expect(&s512_rem48, cpak, rak, a, "realm extensible measurement 0 (44239) is 48 bytes, but "
           "the realm hash algorithm sha-512 needs 64", &c);
    token_spec s512_65 = {0, 0, "sha-512", "sha-512", 0x3000, 0, 0, 65, 0, 0};
    expect(&s512_65, cpak, rak, a, "is 65 bytes, but the realm hash algorithm sha-512 needs 64",
           &c);
    static const char *const unknown[] = {"sha-1", "sha3-256", "SHA-256", "sha-256\n", ""};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        token_spec bad = {0, 0, unknown[i], "sha-256", 0x3000, 0, 0, 0, 0, 0};
        expect(&bad, cpak, rak, a, "realm hash algorithm (44236) is not sha-256, sha-384 or "
               "sha-512", &c);
    }
    token_spec none = {0, 0, "sha-256", "sha-256", 0x3000, 0, 0, 0, 0, 1};
    expect(&none, cpak, rak, a, "realm hash algorithm (44236) missing", &c);
}

static void test_synthetic(void)
{
    EVP_PKEY *cpak = tg_ec_key(NID_X9_62_prime256v1), *rak = tg_ec_key(NID_secp384r1);
    sb_trust_anchors a = {0};
    tg_anchors_add_key(&a, cpak);
    sb_claims c;
    sb_err err = {0};
    size_t len;
    uint8_t *t;
    token_spec cmw = {1, 1, "sha-512", "sha-512", 0x3000, 0, 0, 0, 0, 0};
    t = build_token(&cmw, cpak, rak, &len);
    CHECK(sb_verify_cca(t, len, &a, 0, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "cca cmw: %s\n", err.msg);
    CHECK(c.measurements[0].len == 64 && c.report_data[0] == 0x5c && c.debug == 0);
    int flips = 0, refused = 0;
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, t, len);
        copy[i] ^= 0x01;
        flips++;
        refused += sb_verify_cca(copy, len, &a, 0, &c, &err) != 0 && tg_has_reason(&err);
    }
    CHECK(refused == flips);
    printf("cca synthetic CMW/COSE_Key: %d/%d flips refused\n", refused, flips);
    free(copy);
    free(t);
    token_spec raw399 = {0, 0, "sha-256", "sha-256", 0x3000, 0, 0, 0, 0, 0};
    t = build_token(&raw399, cpak, rak, &len);
    CHECK(sb_verify_cca(t, len, &a, 0, &c, &err) == 0);
    free(t);
    token_spec cmw_raw = {1, 0, "sha-256", "sha-256", 0x4001, 0, 0, 0, 0, 0};
    t = build_token(&cmw_raw, cpak, rak, &len);
    CHECK(sb_verify_cca(t, len, &a, 0, &c, &err) == 0 && c.debug == 1);
    free(t);
    token_spec decom = {0, 0, "sha-256", "sha-256", 0x6000, 0, 0, 0, 0, 0};
    t = build_token(&decom, cpak, rak, &len);
    CHECK_ERR(sb_verify_cca(t, len, &a, 0, &c, &err), err, "lifecycle 0x6000");
    free(t);
    token_spec binding = {1, 1, "sha-256", "sha-256", 0x3000, 1, 0, 0, 0, 0};
    t = build_token(&binding, cpak, rak, &len);
    CHECK_ERR(sb_verify_cca(t, len, &a, 0, &c, &err), err, "not the sha-256 hash of the realm");
    free(t);
    token_spec other = {1, 1, "sha-256", "sha-256", 0x3000, 0, 1, 0, 0, 0};
    t = build_token(&other, cpak, rak, &len);
    CHECK_ERR(sb_verify_cca(t, len, &a, 0, &c, &err), err, "signature by the RAK");
    free(t);
    test_realm_hashes(cpak, rak, &a);
    /* A CMW entry with the wrong content format. */
    t = build_token(&cmw_raw, cpak, rak, &len);
    for (size_t i = 0; i + 3 < len; i++)
        if (t[i] == 0x82 && t[i + 1] == 0x19 && t[i + 2] == 0x01 && t[i + 3] == 0x07) {
            t[i + 3] = 0x08;
            break;
        }
    CHECK_ERR(sb_verify_cca(t, len, &a, 0, &c, &err), err, "content format is not 263");
    free(t);
    tg_anchors_free(&a);
    EVP_PKEY_free(cpak), EVP_PKEY_free(rak);
}

int main(int argc, char **argv)
{
    tg_vectors_init(argc, argv, "test_cca");
    test_sample();
    test_synthetic();
    if (tg_failures)
        fprintf(stderr, "%d failures\n", tg_failures);
    return tg_failures ? 1 : 0;
}
