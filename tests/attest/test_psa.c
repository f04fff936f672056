/* test_psa - PSA tokens: the shared samples, corruptions, round trips, claim validation. */
#include "attest/attest.h"
#include "cose/cose.h"
#include "../common/test_util.h"

static char vec[1024];

typedef struct sample {
    const char *token, *key, *hmac;
    const char *profile;
    size_t nonce_len, n_sw;
} sample;

static const sample samples[] = {
    {"psa/rfc9783_psa-sign1.cbor", "psa/rfc9783_tfm-es-iak.pub.pem", NULL, SB_PSA_PROFILE_2023, 32, 1},
    {"psa/rfc9783_psa-mac0.cbor", NULL, "psa/rfc9783_tfm-hs-iak.hmac-key.bin", SB_PSA_PROFILE_2023, 32, 1},
    {"psa/veraison_tfm_psa-2_0_0_sign1.cbor", "psa/veraison_tfm_iak.pub.pem", NULL, SB_PSA_PROFILE_LEGACY, 64, 2},
};

static int verify_sample(const sample *s, const uint8_t *tok, size_t len, EVP_PKEY *k,
                         const uint8_t *hk, size_t hkl, sb_psa_token *t, sb_err *err)
{
    (void)s;
    return sb_psa_verify(tok, len, k, hk, hkl, t, err);
}

static void test_samples(void)
{
    sb_psa_token *t = malloc(sizeof *t);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const sample *s = &samples[i];
        size_t len, hkl = 0;
        uint8_t *tok = load_file(vec, s->token, &len);
        EVP_PKEY *k = s->key ? load_pub(vec, s->key) : NULL;
        uint8_t *hk = s->hmac ? load_file(vec, s->hmac, &hkl) : NULL;
        CHECK_OK(verify_sample(s, tok, len, k, hk, hkl, t, err));
        CHECK(strcmp(t->profile, s->profile) == 0);
        CHECK(t->nonce_len == s->nonce_len && t->n_sw == s->n_sw);
        CHECK((t->lifecycle & 0xff00) == SB_PSA_LIFECYCLE_SECURED);
        CHECK(t->instance_id_len == 33 && t->instance_id[0] == 1);
        /* the sb_evidence_verifier form gives normalised claims */
        sb_trust_anchors a = {.keys = k ? &k : NULL, .n_keys = k ? 1 : 0, .hmac_key = hk,
                              .hmac_key_len = hkl};
        sb_claims c;
        CHECK_OK(sb_verify_psa(tok, len, &a, 0, &c, err));
        CHECK(strcmp(c.platform, "psa") == 0 && c.n_measurements == s->n_sw && !c.debug);
        CHECK(c.report_data_len == s->nonce_len);
        /* every single-byte corruption is rejected */
        uint8_t *bad = malloc(len + 1);
        size_t accepted = 0;
        for (size_t pos = 0; pos < len; pos++)
            for (int x = 0; x < 3; x++) {
                static const uint8_t flips[3] = {0x01, 0x80, 0xff};
                memcpy(bad, tok, len);
                bad[pos] ^= flips[x];
                accepted += verify_sample(s, bad, len, k, hk, hkl, t, NULL) == 0;
            }
        CHECK(accepted == 0);
        /* truncation and appended bytes */
        for (size_t cut = 1; cut < len; cut += 7)
            accepted += verify_sample(s, tok, len - cut, k, hk, hkl, t, NULL) == 0;
        memcpy(bad, tok, len);
        bad[len] = 0;
        CHECK_ERR(verify_sample(s, bad, len + 1, k, hk, hkl, t, err), "trailing");
        CHECK(accepted == 0);
        free(bad);
        if (k) { /* wrong key */
            EVP_PKEY *other = EVP_EC_gen("P-256");
            CHECK_ERR(sb_psa_verify(tok, len, other, NULL, 0, t, err), "signature does not verify");
            sb_trust_anchors wrong = {.keys = &other, .n_keys = 1};
            CHECK_ERR(sb_verify_psa(tok, len, &wrong, 0, &c, err), "does not verify");
            EVP_PKEY_free(other);
            CHECK_ERR(sb_psa_verify(tok, len, NULL, NULL, 0, t, err), "no public key");
        }
        free(tok);
        free(hk);
        EVP_PKEY_free(k);
    }
    free(t);
}

static void test_legacy_claims(void)
{
    size_t len;
    uint8_t *tok = load_file(vec, "psa/veraison_tfm_psa-2_0_0_sign1.cbor", &len);
    EVP_PKEY *k = load_pub(vec, "psa/veraison_tfm_iak.pub.pem");
    sb_psa_token t;
    CHECK_OK(sb_psa_verify(tok, len, k, NULL, 0, &t, err));
    CHECK(t.boot_seed_len == 32 && t.boot_seed[0] == 0xa0);
    CHECK(strcmp(t.certification_ref, "0604565272829-10010") == 0);
    CHECK(strcmp(t.verification_service, "www.trustedfirmware.org") == 0);
    CHECK(t.client_id == 3002);
    CHECK(strcmp(t.sw[0].type, "SPE") == 0 && strcmp(t.sw[0].version, "1.6.0") == 0);
    CHECK(t.sw[0].signer_id_len == 32 && strcmp(t.sw[1].desc, "SHA256") == 0);
    char *json = sb_psa_to_json(&t);
    CHECK(json && strstr(json, "\"certification_reference\": \"0604565272829-10010\""));
    CHECK(json && strstr(json, "secured (0x3000)"));
    free(json);
    free(tok);
    EVP_PKEY_free(k);
}

static void fill_token(sb_psa_token *t, const char *profile)
{
    memset(t, 0, sizeof *t);
    snprintf(t->profile, sizeof t->profile, "%s", profile);
    memset(t->nonce, 0x11, 48);
    t->nonce_len = 48;
    t->instance_id[0] = 1;
    memset(t->instance_id + 1, 0x22, 32);
    t->instance_id_len = 33;
    memset(t->implementation_id, 0x33, 32);
    t->implementation_id_len = 32;
    t->client_id = -5;
    t->lifecycle = 0x3001;
    memset(t->boot_seed, 0x44, 32);
    t->boot_seed_len = 32;
    snprintf(t->certification_ref, sizeof t->certification_ref, "1234567890123-12345");
    t->n_sw = 2;
    snprintf(t->sw[0].type, sizeof t->sw[0].type, "BL");
    memset(t->sw[0].value, 0x55, 32);
    t->sw[0].value_len = 32;
    snprintf(t->sw[0].version, sizeof t->sw[0].version, "1.0");
    memset(t->sw[0].signer_id, 0x66, 32);
    t->sw[0].signer_id_len = 32;
    snprintf(t->sw[0].desc, sizeof t->sw[0].desc, "sha-256");
    memset(t->sw[1].value, 0x77, 48);
    t->sw[1].value_len = 48;
    snprintf(t->verification_service, sizeof t->verification_service, "https://v.example");
}

static void test_round_trip(void)
{
    const char *profiles[] = {SB_PSA_PROFILE_2023, SB_PSA_PROFILE_LEGACY};
    for (int p = 0; p < 2; p++) {
        EVP_PKEY *k = EVP_EC_gen(p ? "P-384" : "P-256");
        sb_psa_token in, out;
        fill_token(&in, profiles[p]);
        uint8_t *tok;
        size_t len;
        CHECK_OK(sb_psa_sign(&in, k, &tok, &len, err));
        CHECK_OK(sb_psa_verify(tok, len, k, NULL, 0, &out, err));
        CHECK(memcmp(&in, &out, sizeof in) == 0);
        free(tok);
        /* Mac0 round trip */
        uint8_t *claims, *mac;
        size_t cl, ml;
        const uint8_t key[32] = {9};
        CHECK_OK(sb_psa_encode_claims(&in, &claims, &cl, err));
        CHECK_OK(sb_cose_mac0_create(key, 32, SB_COSE_ALG_HMAC384, claims, cl, 1, &mac, &ml, err));
        CHECK_OK(sb_psa_verify(mac, ml, NULL, key, 32, &out, err));
        CHECK(memcmp(&in, &out, sizeof in) == 0);
        free(mac);
        free(claims);
        EVP_PKEY_free(k);
    }
}

/* Encodes a hand-written claims map and expects decoding to fail with `want`. */
static void expect_claims_error(void (*build)(sb_cbuf *), const char *want)
{
    sb_cbuf b;
    sb_cbuf_init(&b);
    build(&b);
    CHECK(sb_cbuf_finish(&b, NULL) == 0);
    sb_psa_token t;
    CHECK_ERR(sb_psa_decode_claims(b.data, b.len, &t, err), want);
    sb_cbuf_free(&b);
}

static void put_base(sb_cbuf *b, size_t extra, const char *profile, size_t nonce_len)
{
    uint8_t z[64] = {0}, iid[33] = {1};
    sb_cbor_put_map(b, 7 + extra);
    sb_cbor_put_int(b, 265);
    sb_cbor_put_text(b, profile);
    sb_cbor_put_int(b, 10);
    sb_cbor_put_bytes(b, z, nonce_len);
    sb_cbor_put_int(b, 256);
    sb_cbor_put_bytes(b, iid, 33);
    sb_cbor_put_int(b, 2396);
    sb_cbor_put_bytes(b, z, 32);
    sb_cbor_put_int(b, 2394);
    sb_cbor_put_int(b, 1);
    sb_cbor_put_int(b, 2395);
    sb_cbor_put_uint(b, 0x3000);
    sb_cbor_put_int(b, 2399);
    sb_cbor_put_array(b, 1);
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 2);
    sb_cbor_put_bytes(b, z, 32);
}

static void b_ok(sb_cbuf *b) { put_base(b, 0, SB_PSA_PROFILE_2023, 32); }
static void b_nonce40(sb_cbuf *b) { put_base(b, 0, SB_PSA_PROFILE_2023, 40); }
static void b_profile(sb_cbuf *b) { put_base(b, 0, "tag:example,2020:other", 32); }
static void b_dup(sb_cbuf *b)
{
    put_base(b, 1, SB_PSA_PROFILE_2023, 32);
    sb_cbor_put_int(b, 2394);
    sb_cbor_put_int(b, 2);
}
static void b_seed_legacy_key(sb_cbuf *b)
{
    uint8_t s[32] = {0};
    put_base(b, 1, SB_PSA_PROFILE_2023, 32);
    sb_cbor_put_int(b, 2397);
    sb_cbor_put_bytes(b, s, 32);
}
static void b_seed_new_key_legacy(sb_cbuf *b)
{
    uint8_t s[8] = {0};
    put_base(b, 1, SB_PSA_PROFILE_LEGACY, 32);
    sb_cbor_put_int(b, 268);
    sb_cbor_put_bytes(b, s, 8);
}
static void b_lifecycle(sb_cbuf *b)
{
    put_base(b, 1, SB_PSA_PROFILE_2023, 32);
    /* overrides nothing: duplicate -> but we test an invalid value in a fresh map instead */
    sb_cbor_put_int(b, 9999);
    sb_cbor_put_int(b, 0);
}
static void b_bad_lifecycle(sb_cbuf *b)
{
    uint8_t z[32] = {0}, iid[33] = {1};
    sb_cbor_put_map(b, 2);
    sb_cbor_put_int(b, 256);
    sb_cbor_put_bytes(b, iid, 33);
    sb_cbor_put_int(b, 2395);
    sb_cbor_put_uint(b, 0x7000);
    (void)z;
}
static void b_missing(sb_cbuf *b)
{
    uint8_t z[32] = {0};
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 10);
    sb_cbor_put_bytes(b, z, 32);
}
static void b_iid_type(sb_cbuf *b)
{
    uint8_t iid[33] = {2};
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 256);
    sb_cbor_put_bytes(b, iid, 33);
}
static void b_certref(sb_cbuf *b)
{
    put_base(b, 1, SB_PSA_PROFILE_2023, 32);
    sb_cbor_put_int(b, 2398);
    sb_cbor_put_text(b, "12345x");
}
static void b_sw_novalue(sb_cbuf *b)
{
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 2399);
    sb_cbor_put_array(b, 1);
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 1);
    sb_cbor_put_text(b, "BL");
}
static void b_sw_empty(sb_cbuf *b)
{
    sb_cbor_put_map(b, 1);
    sb_cbor_put_int(b, 2399);
    sb_cbor_put_array(b, 0);
}
static void b_not_map(sb_cbuf *b) { sb_cbor_put_array(b, 0); }

static void test_claim_errors(void)
{
    sb_cbuf b;
    sb_cbuf_init(&b);
    b_ok(&b);
    sb_psa_token t;
    CHECK_OK(sb_psa_decode_claims(b.data, b.len, &t, err));
    sb_cbuf_free(&b);
    sb_cbuf_init(&b);
    b_lifecycle(&b); /* unknown integer claims are skipped */
    CHECK_OK(sb_psa_decode_claims(b.data, b.len, &t, err));
    sb_cbuf_free(&b);
    expect_claims_error(b_nonce40, "nonce is 40 bytes");
    expect_claims_error(b_profile, "unsupported profile");
    expect_claims_error(b_dup, "appears twice");
    expect_claims_error(b_seed_legacy_key, "boot seed under key 2397");
    expect_claims_error(b_seed_new_key_legacy, "boot seed under key 268");
    expect_claims_error(b_bad_lifecycle, "not a valid state");
    expect_claims_error(b_missing, "mandatory claim");
    expect_claims_error(b_iid_type, "instance ID type 0x02");
    expect_claims_error(b_certref, "certification reference");
    expect_claims_error(b_sw_novalue, "no measurement-value");
    expect_claims_error(b_sw_empty, "0 software components");
    expect_claims_error(b_not_map, "expected map");
    CHECK_ERR(sb_psa_decode_claims(NULL, 0, &t, err), "claims of 0 bytes");
    CHECK(strcmp(sb_psa_lifecycle_name(0x3003), "secured") == 0);
    CHECK(strcmp(sb_psa_lifecycle_name(0x5000), "recoverable-psa-rot-debug") == 0);
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : getenv("SB_SHARED_DIR");
    if (!shared)
        return 2;
    snprintf(vec, sizeof vec, "%s/attestation-vectors", shared);
    test_samples();
    test_legacy_claims();
    test_round_trip();
    test_claim_errors();
    return test_exit("psa");
}
