/* test_hpke: RFC 9180 Appendix A.3 test vectors (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM), A.3.1 base mode: key derivation, encapsulation, key schedule, the encryptions of
 * A.3.1.1 with their sequence numbers and the exports of A.3.1.2 - values as published in the RFC.
 * Then every bad input: a short or malformed encapsulated key, a point off the curve, a wrong
 * private key, a modified ciphertext or aad, a truncated ciphertext. */
#include "hpke/hpke.h"
#include "hpke/sealed.h"

#include <openssl/ec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"

/* Hex to bytes; the vectors are written as in the RFC (with no separators). */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap || sb_hex_decode(hex, out, n) != 0) {
        fprintf(stderr, "bad test vector %s\n", hex);
        exit(2);
    }
    return n;
}

static int eq_hex(const uint8_t *got, size_t len, const char *want)
{
    uint8_t w[256];
    return unhex(want, w, sizeof w) == len && memcmp(got, w, len) == 0;
}

/* RFC 9180 A.3.1 (mode 0, kem_id 16, kdf_id 1, aead_id 1). */
static const char INFO[] = "4f6465206f6e2061204772656369616e2055726e";
static const char IKM_E[] = "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e";
static const char PK_EM[] = "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac9"
                            "8536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4";
static const char SK_EM[] = "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb";
static const char IKM_R[] = "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550";
static const char PK_RM[] = "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a82"
                            "6a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0";
static const char SK_RM[] = "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2";
static const char SHARED[] = "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8";
static const char KS_CONTEXT[] = "00b88d4e6d91759e65e87c470e8b9141113e9ad5f0c8ceefc1e088c82e6980500"
                                 "798e486f9c9c09c9b5c753ac72d6005de254c607d1b534ed11d493ae1c1d9ac85";
static const char SECRET[] = "2eb7b6bf138f6b5aff857414a058a3f1750054a9ba1f72c2cf0684a6f20b10e1";
static const char KEY[] = "868c066ef58aae6dc589b6cfdd18f97e";
static const char BASE_NONCE[] = "4e0bc5018beba4bf004cca59";
static const char EXPORTER[] = "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f";
static const char PT[] = "4265617574792069732074727574682c20747275746820626561757479";

/* A.3.1.1: sequence number, aad ("Count-<seq>"), ciphertext. */
static const struct {
    uint64_t seq;
    const char *aad, *ct;
} ENCRYPTIONS[] = {
    {0, "436f756e742d30",
     "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434"},
    {1, "436f756e742d31",
     "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06646e0329cbdf3c3cd655b28e82"},
    {2, "436f756e742d32",
     "895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b2ccc93e466c28fb55fed7a7fec"},
    {4, "436f756e742d34",
     "8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec999dd36ce042e44f0c3169a6a8f"},
    {255, "436f756e742d323535",
     "2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848aa53c538c30a4dac71d619ee2cd"},
    {256, "436f756e742d323536",
     "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f367f8ffe5e41cd3e9962a6afb2"},
};

/* A.3.1.2: exporter context, L = 32, exported value. */
static const struct {
    const char *ctx, *value;
} EXPORTS[] = {
    {"", "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d"},
    {"00", "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796"},
    {"54657374436f6e74657874", "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a"},
};

static uint8_t info[64], ikm_e[32], ikm_r[32], pk_r[HPKE_PK_LEN], sk_r[HPKE_SK_LEN], pt[64];
static size_t info_len, pt_len;

static void check_context(const hpke_ctx *c, const char *who)
{
    CHECKF(eq_hex(c->shared_secret, HPKE_SECRET_LEN, SHARED), "%s shared_secret", who);
    CHECKF(eq_hex(c->ks_context, HPKE_KS_CONTEXT_LEN, KS_CONTEXT), "%s key_schedule_context", who);
    CHECKF(eq_hex(c->secret, HPKE_SECRET_LEN, SECRET), "%s secret", who);
    CHECKF(eq_hex(c->key, HPKE_KEY_LEN, KEY), "%s key", who);
    CHECKF(eq_hex(c->base_nonce, HPKE_NONCE_LEN, BASE_NONCE), "%s base_nonce", who);
    CHECKF(eq_hex(c->exporter_secret, HPKE_SECRET_LEN, EXPORTER), "%s exporter_secret", who);
}

static void test_vectors(void)
{
    sb_err err;
    uint8_t sk[HPKE_SK_LEN], pk[HPKE_PK_LEN], enc[HPKE_PK_LEN];
    CHECK(hpke_derive_keypair(ikm_e, 32, sk, pk, &err) == 0);
    CHECK(eq_hex(sk, HPKE_SK_LEN, SK_EM) && eq_hex(pk, HPKE_PK_LEN, PK_EM));
    CHECK(hpke_derive_keypair(ikm_r, 32, sk, pk, &err) == 0);
    CHECK(eq_hex(sk, HPKE_SK_LEN, SK_RM) && eq_hex(pk, HPKE_PK_LEN, PK_RM));

    hpke_ctx s, r;
    CHECK(hpke_setup_sender(pk_r, sizeof pk_r, info, info_len, ikm_e, 32, enc, &s, &err) == 0);
    CHECK(eq_hex(enc, HPKE_PK_LEN, PK_EM)); /* enc = SerializePublicKey(pkE) */
    check_context(&s, "sender");
    CHECK(hpke_setup_recipient(enc, sizeof enc, sk_r, info, info_len, &r, &err) == 0);
    check_context(&r, "recipient");

    for (size_t i = 0; i < sizeof ENCRYPTIONS / sizeof ENCRYPTIONS[0]; i++) {
        uint8_t aad[16], ct[128], back[128];
        size_t aad_len = unhex(ENCRYPTIONS[i].aad, aad, sizeof aad);
        CHECK(hpke_seal_seq(&s, ENCRYPTIONS[i].seq, aad, aad_len, pt, pt_len, ct, &err) == 0);
        CHECKF(eq_hex(ct, pt_len + HPKE_TAG_LEN, ENCRYPTIONS[i].ct), "seq %lu", (unsigned long)ENCRYPTIONS[i].seq);
        CHECK(hpke_open_seq(&r, ENCRYPTIONS[i].seq, aad, aad_len, ct, pt_len + HPKE_TAG_LEN, back, &err) == 0);
        CHECK(memcmp(back, pt, pt_len) == 0);
        /* the same ciphertext under another sequence number is refused */
        CHECK(hpke_open_seq(&r, ENCRYPTIONS[i].seq + 1, aad, aad_len, ct, pt_len + HPKE_TAG_LEN, back, &err) != 0);
    }
    for (size_t i = 0; i < sizeof EXPORTS / sizeof EXPORTS[0]; i++) {
        uint8_t ectx[16], out[32];
        size_t n = unhex(EXPORTS[i].ctx, ectx, sizeof ectx);
        CHECK(hpke_export(&r, ectx, n, out, sizeof out, &err) == 0);
        CHECKF(eq_hex(out, sizeof out, EXPORTS[i].value), "export %zu", i);
    }
    /* single-shot open of the first encryption (6.1) */
    uint8_t ct0[128], back[128];
    size_t ct0_len = unhex(ENCRYPTIONS[0].ct, ct0, sizeof ct0);
    CHECK(hpke_open(enc, sizeof enc, sk_r, info, info_len, (const uint8_t *)"Count-0", 7, ct0, ct0_len, back,
                    &err) == 0 &&
          memcmp(back, pt, pt_len) == 0);
    hpke_ctx_clear(&s);
    hpke_ctx_clear(&r);
}

#define CHECK_ERR(call, text)                                                                      \
    do {                                                                                           \
        sb_err e_ = {0};                                                                           \
        CHECKF((call) != 0 && strstr(e_.msg, text), "expected \"%s\", got \"%s\"", text, e_.msg); \
    } while (0)

static void test_bad_inputs(void)
{
    uint8_t enc[HPKE_PK_LEN], ct[64 + HPKE_TAG_LEN], out[64], bad[HPKE_PK_LEN];
    const uint8_t aad[] = "policy-and-path";
    sb_err err;
    CHECK(hpke_seal(pk_r, sizeof pk_r, info, info_len, aad, sizeof aad, pt, pt_len, enc, ct, &err) == 0);
    size_t ct_len = pt_len + HPKE_TAG_LEN;
    CHECK(hpke_open(enc, sizeof enc, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &err) == 0 &&
          memcmp(out, pt, pt_len) == 0);

    CHECK_ERR(hpke_open(enc, 64, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "encapsulated key of 64 bytes");
    memcpy(bad, enc, sizeof bad);
    bad[0] = 0x02; /* compressed form: not what SerializePublicKey produces */
    CHECK_ERR(hpke_open(bad, sizeof bad, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "not a 65-byte uncompressed");
    memcpy(bad, enc, sizeof bad);
    bad[64] ^= 1; /* y changed: off the curve */
    CHECK_ERR(hpke_open(bad, sizeof bad, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "not a point on P-256");
    memset(bad + 1, 0xff, 64); /* coordinates >= p */
    CHECK_ERR(hpke_open(bad, sizeof bad, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "not a point on P-256");
    CHECK_ERR(hpke_seal(bad, sizeof bad, info, info_len, aad, sizeof aad, pt, pt_len, enc + 0, ct + 0, &e_),
              "not a point on P-256");

    uint8_t other_sk[HPKE_SK_LEN], other_pk[HPKE_PK_LEN], ikm[32] = {7};
    CHECK(hpke_derive_keypair(ikm, sizeof ikm, other_sk, other_pk, &err) == 0);
    CHECK_ERR(hpke_open(enc, sizeof enc, other_sk, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "authentication failed");
    uint8_t zero[HPKE_SK_LEN] = {0}, big[HPKE_SK_LEN];
    memset(big, 0xff, sizeof big); /* >= the group order */
    CHECK_ERR(hpke_open(enc, sizeof enc, zero, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "not a P-256 scalar");
    CHECK_ERR(hpke_open(enc, sizeof enc, big, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
              "not a P-256 scalar");

    uint8_t aad2[sizeof aad];
    memcpy(aad2, aad, sizeof aad);
    aad2[0] ^= 1;
    CHECK_ERR(hpke_open(enc, sizeof enc, sk_r, info, info_len, aad2, sizeof aad2, ct, ct_len, out, &e_),
              "authentication failed");
    CHECK_ERR(hpke_open(enc, sizeof enc, sk_r, info, info_len - 1, aad, sizeof aad, ct, ct_len, out, &e_),
              "authentication failed");
    for (size_t i = 0; i < ct_len; i += 7) {
        ct[i] ^= 0x80;
        CHECK_ERR(hpke_open(enc, sizeof enc, sk_r, info, info_len, aad, sizeof aad, ct, ct_len, out, &e_),
                  "authentication failed");
        ct[i] ^= 0x80;
    }
    memset(out, 0x5a, sizeof out);
    CHECK_ERR(hpke_open(enc, sizeof enc, sk_r, info, info_len, aad, sizeof aad, ct, ct_len - 1, out, &e_),
              "authentication failed");
    for (size_t i = 0; i < ct_len - 1 - HPKE_TAG_LEN; i++) /* no unauthenticated plaintext left */
        CHECK(out[i] == 0);
    CHECK_ERR(hpke_open(enc, sizeof enc, sk_r, info, info_len, aad, sizeof aad, ct, HPKE_TAG_LEN - 1, out, &e_),
              "shorter than its 16-byte tag");
    CHECK_ERR(hpke_derive_keypair(ikm, 31, other_sk, other_pk, &e_), "at least 32 needed");
    CHECK_ERR(hpke_export(&(hpke_ctx){0}, NULL, 0, out, 0, &e_), "cannot export 0 bytes");

    /* an empty message seals to just a tag and opens back to nothing */
    CHECK(hpke_seal(pk_r, sizeof pk_r, NULL, 0, NULL, 0, NULL, 0, enc, ct, &err) == 0);
    CHECK(hpke_open(enc, sizeof enc, sk_r, NULL, 0, NULL, 0, ct, HPKE_TAG_LEN, out, &err) == 0);
    /* two seals of the same message differ (fresh ephemeral key each time) */
    uint8_t enc2[HPKE_PK_LEN];
    CHECK(hpke_seal(pk_r, sizeof pk_r, NULL, 0, NULL, 0, NULL, 0, enc2, ct, &err) == 0);
    CHECK(memcmp(enc, enc2, sizeof enc) != 0);
}

/* The sealed-result envelope (sealed.h): round trip; EVERY single-bit change of every signed byte
 * or of the signature is refused (by opening or by the signature check), every truncation and an
 * extension are refused, and another key fails. */
static void test_envelope(void)
{
    uint8_t hash[32], *env = NULL, *out = NULL;
    size_t env_len = 0, out_len = 0;
    sb_sealed_header h;
    sb_err err;
    const char chain[] = "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n";
    EVP_PKEY *signer = EVP_EC_gen("P-256");
    memset(hash, 0xab, sizeof hash);
    CHECK(signer && sb_sealed_seal(pk_r, hash, 1765065600, "/results/bob/answer", pt, pt_len, signer,
                                   (const uint8_t *)chain, strlen(chain), &env, &env_len, &err) == 0);
    CHECK(sb_sealed_open(env, env_len, sk_r, &h, &out, &out_len, &err) == 0 && out_len == pt_len &&
          memcmp(out, pt, pt_len) == 0 && strcmp(h.path, "/results/bob/answer") == 0 &&
          memcmp(h.policy_hash, hash, 32) == 0 && h.sealed_at == 1765065600 &&
          h.signed_len == SB_SEALED_FIXED_LEN + 19 + 8 + pt_len + HPKE_TAG_LEN &&
          h.chain_len == strlen(chain) && memcmp(h.chain, chain, h.chain_len) == 0);
    CHECK(sb_sealed_check_signature(env, &h, signer, &err) == 0);
    free(out);
    size_t covered = h.signed_len + 2 + h.sig_len, refused = 0;
    for (size_t i = 0; i < covered; i++) {
        env[i] ^= 0x01;
        sb_sealed_header h2;
        int rc = sb_sealed_open(env, env_len, sk_r, &h2, &out, &out_len, &err);
        refused += rc != 0 ? !out : sb_sealed_check_signature(env, &h2, signer, &err) != 0;
        free(out);
        out = NULL;
        env[i] ^= 0x01;
    }
    CHECKF(refused == covered, "%zu of %zu one-bit changes refused", refused, covered);
    refused = 0;
    for (size_t n = 0; n < env_len; n++)
        refused += sb_sealed_open(env, n, sk_r, &h, &out, &out_len, &err) != 0;
    CHECKF(refused == env_len, "%zu of %zu truncations refused", refused, env_len);
    uint8_t *longer = malloc(env_len + 1);
    memcpy(longer, env, env_len);
    longer[env_len] = 0;
    CHECK_ERR(sb_sealed_open(longer, env_len + 1, sk_r, &h, &out, &out_len, &e_), "extended");
    free(longer);
    uint8_t other_sk[HPKE_SK_LEN], other_pk[HPKE_PK_LEN], ikm[32] = {9};
    CHECK(hpke_derive_keypair(ikm, sizeof ikm, other_sk, other_pk, &err) == 0);
    CHECK_ERR(sb_sealed_open(env, env_len, other_sk, &h, &out, &out_len, &e_), "does not open with this key");
    CHECK_ERR(sb_sealed_open((const uint8_t *)"hello", 5, sk_r, &h, &out, &out_len, &e_), "not a sealed result");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    CHECK(sb_sealed_open(env, env_len, sk_r, &h, &out, &out_len, &err) == 0);
    free(out);
    CHECK_ERR(sb_sealed_check_signature(env, &h, other, &e_), "signature does not verify");
    EVP_PKEY_free(other);
    uint8_t *none = NULL;
    size_t none_len = 0;
    CHECK_ERR(sb_sealed_seal(pk_r, hash, 0, "", pt, pt_len, signer, (const uint8_t *)chain, strlen(chain), &none,
                             &none_len, &e_),
              "path of 0 bytes");
    CHECK(none == NULL);
    free(env);
    EVP_PKEY_free(signer);
}

int main(void)
{
    info_len = unhex(INFO, info, sizeof info);
    pt_len = unhex(PT, pt, sizeof pt);
    unhex(IKM_E, ikm_e, sizeof ikm_e);
    unhex(IKM_R, ikm_r, sizeof ikm_r);
    unhex(PK_RM, pk_r, sizeof pk_r);
    unhex(SK_RM, sk_r, sizeof sk_r);
    test_vectors();
    test_bad_inputs();
    test_envelope();
    printf("%d checks, %d failures\n", checks, failures);
    return failures != 0;
}
