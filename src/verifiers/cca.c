/* cca.c - Arm CCA attestation token verifier.
 *
 * Evidence: the CCA token collection, tag 399 {44234: platform token, 44241: realm token} with
 * both tokens as byte strings holding COSE_Sign1, or the CMW collection, tag 907
 * {44234: [263, bstr], 44241: [263, bstr]} (RMM specification 1.0 and the CCA token draft).
 *
 * Checked: collection shape (exactly those two entries, nothing else, nothing after it); realm
 * token: COSE_Sign1 ES384 signed by the RAK it carries (claim 44237: a raw P-384 point or a
 * COSE_Key), its challenge (claim 10, 64 bytes = the binding), initial measurement (44238) and
 * four extensible measurements (44239) whose length is the one the realm hash algorithm (44236:
 * sha-256, sha-384 or sha-512, as the CCA token draft allows) implies, the RAK
 * hash algorithm (44240), personalization value (44235), optional profile; platform token:
 * COSE_Sign1 (ES256/ES384) verifying with a registered CCA platform key, its challenge (claim 10)
 * equal to hash(RAK bytes) by the realm's named algorithm, profile (265), lifecycle (2395)
 * in a state that can attest, implementation ID, instance ID, software components.
 * Not checked: platform software component reference values and the platform's endorsement chain
 * (CPAK certificates): the platform key is registered directly, as the vendor's verifier does. */
#include "cose/cose.h"
#include "verifiers/verifiers.h"
#include "verifiers/vutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define CCA_TAG_COLLECTION 399
#define CCA_TAG_CMW 907
#define CCA_PLATFORM_LABEL 44234
#define CCA_REALM_LABEL 44241
#define CCA_CMW_CONTENT_FORMAT 263
#define CCA_MAX_CLAIMS 64

/* Realm claim labels. */
enum {
    R_CHALLENGE = 10, R_PROFILE = 265, R_RPV = 44235, R_HASH_ALG = 44236, R_PUBKEY = 44237,
    R_RIM = 44238, R_REM = 44239, R_PUBKEY_HASH_ALG = 44240,
};
/* Platform claim labels. */
enum {
    P_CHALLENGE = 10, P_INSTANCE_ID = 256, P_PROFILE = 265, P_LIFECYCLE = 2395,
    P_IMPL_ID = 2396, P_SW_COMPONENTS = 2399, P_VERIFICATION = 2400, P_CONFIG = 2401,
    P_HASH_ALG = 2402,
};

typedef struct bytes {
    const uint8_t *p;
    size_t n;
} bytes;

typedef struct realm_claims {
    bytes challenge, rpv, rak, rim, rem[4];
    const char *hash_alg, *rak_hash_alg, *profile;
    size_t hash_alg_len, rak_hash_alg_len, profile_len;
} realm_claims;

typedef struct platform_claims {
    bytes challenge, instance_id, impl_id, config, sw;
    const char *profile, *hash_alg;
    size_t profile_len, hash_alg_len;
    uint64_t lifecycle;
    int has_lifecycle;
} platform_claims;

/* --- small CBOR helpers --------------------------------------------------------------------- */

static int read_bstr(sb_cbor *r, bytes *out, const char *what, sb_err *err)
{
    if (sb_cbor_read_bytes(r, &out->p, &out->n, err) != 0) {
        sb_err_prefix(err, "%s", what);
        return -1;
    }
    return 0;
}

static int read_text(sb_cbor *r, const char **s, size_t *n, const char *what, sb_err *err)
{
    if (sb_cbor_read_text(r, s, n, err) != 0) {
        sb_err_prefix(err, "%s", what);
        return -1;
    }
    return 0;
}

static int text_is(const char *s, size_t n, const char *want)
{
    return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Digest named by a CCA hash-algo-id ("sha-256", "sha-384", "sha-512"). */
static const EVP_MD *named_md(const char *s, size_t n)
{
    if (text_is(s, n, "sha-256"))
        return EVP_sha256();
    if (text_is(s, n, "sha-384"))
        return EVP_sha384();
    if (text_is(s, n, "sha-512"))
        return EVP_sha512();
    return NULL;
}

/* Reads a claims map with integer keys; each key once. `visit` consumes the value. */
typedef int (*claim_visitor)(sb_cbor *r, int64_t key, void *ctx, sb_err *err);

static int walk_claims(const uint8_t *map, size_t len, claim_visitor visit, void *ctx, sb_err *err)
{
    sb_cbor r;
    size_t n;
    int64_t seen[CCA_MAX_CLAIMS];
    sb_cbor_init(&r, map, len);
    if (sb_cbor_read_map(&r, &n, err) != 0)
        return -1;
    if (n > CCA_MAX_CLAIMS)
        return sb_err_set(err, 1, "%zu claims, more than %d", n, CCA_MAX_CLAIMS);
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        if (sb_cbor_read_int(&r, &key, err) != 0) {
            sb_err_prefix(err, "claim key");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (seen[j] == key)
                return sb_err_set(err, 1, "claim %lld appears twice", (long long)key);
        seen[i] = key;
        if (visit(&r, key, ctx, err) != 0)
            return -1;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "trailing bytes after the claims");
    return 0;
}

/* --- realm token ---------------------------------------------------------------------------- */

static int realm_visit(sb_cbor *r, int64_t key, void *ctx, sb_err *err)
{
    realm_claims *c = ctx;
    switch (key) {
    case R_CHALLENGE: return read_bstr(r, &c->challenge, "realm challenge", err);
    case R_RPV: return read_bstr(r, &c->rpv, "realm personalization value", err);
    case R_PUBKEY: return read_bstr(r, &c->rak, "realm public key", err);
    case R_RIM: return read_bstr(r, &c->rim, "realm initial measurement", err);
    case R_HASH_ALG: return read_text(r, &c->hash_alg, &c->hash_alg_len, "realm hash algorithm", err);
    case R_PUBKEY_HASH_ALG:
        return read_text(r, &c->rak_hash_alg, &c->rak_hash_alg_len, "RAK hash algorithm", err);
    case R_PROFILE: return read_text(r, &c->profile, &c->profile_len, "realm profile", err);
    case R_REM: {
        size_t n;
        if (sb_cbor_read_array(r, &n, err) != 0) {
            sb_err_prefix(err, "realm extensible measurements");
            return -1;
        }
        if (n != 4)
            return sb_err_set(err, 1, "realm extensible measurements: %zu entries, need 4", n);
        for (size_t i = 0; i < 4; i++)
            if (read_bstr(r, &c->rem[i], "realm extensible measurement", err) != 0)
                return -1;
        return 0;
    }
    default: return sb_cbor_skip(r, err); /* EAT allows claims this profile does not define */
    }
}

static int check_realm_claims(const realm_claims *c, const EVP_MD **md, sb_err *err)
{
    if (!c->challenge.p || c->challenge.n != 64)
        return sb_err_set(err, 1, "realm challenge (claim 10) missing or not 64 bytes");
    if (!c->rpv.p || c->rpv.n != 64)
        return sb_err_set(err, 1, "realm personalization value (44235) missing or not 64 bytes");
    if (!c->rak.p)
        return sb_err_set(err, 1, "realm public key (44237) missing");
    if (!c->rak_hash_alg || !named_md(c->rak_hash_alg, c->rak_hash_alg_len))
        return sb_err_set(err, 1, "RAK hash algorithm (44240) missing or unknown");
    if (!c->hash_alg)
        return sb_err_set(err, 1, "realm hash algorithm (44236) missing");
    if (!(*md = named_md(c->hash_alg, c->hash_alg_len)))
        return sb_err_set(err, 1, "realm hash algorithm (44236) is not sha-256, sha-384 or sha-512");
    /* RIM and REMs are digests by the realm's algorithm: their size is the one it implies */
    size_t dlen = (size_t)EVP_MD_get_size(*md);
    int an = (int)c->hash_alg_len; /* one of the three names just matched */
    if (!c->rim.p)
        return sb_err_set(err, 1, "realm initial measurement (44238) missing");
    if (c->rim.n != dlen)
        return sb_err_set(err, 1, "realm initial measurement (44238) is %zu bytes, but the realm "
                          "hash algorithm %.*s needs %zu", c->rim.n, an, c->hash_alg, dlen);
    if (!c->rem[0].p)
        return sb_err_set(err, 1, "realm extensible measurements (44239) missing");
    for (int i = 0; i < 4; i++)
        if (c->rem[i].n != dlen)
            return sb_err_set(err, 1, "realm extensible measurement %d (44239) is %zu bytes, but "
                              "the realm hash algorithm %.*s needs %zu", i, c->rem[i].n, an,
                              c->hash_alg, dlen);
    if (c->profile && !text_is(c->profile, c->profile_len, "tag:arm.com,2023:realm#1.0.0"))
        return sb_err_set(err, 1, "realm profile is not tag:arm.com,2023:realm#1.0.0");
    return 0;
}

/* The RAK: a raw uncompressed P-384 point, or a COSE_Key (the CMW form). */
static int realm_key(const bytes *rak, EVP_PKEY **key, sb_err *err)
{
    int rc = rak->n > 0 && rak->p[0] == 0x04
                 ? sb_cose_key_from_point(SB_COSE_CRV_P384, rak->p, rak->n, key, err)
                 : sb_cose_key_decode(rak->p, rak->n, key, err);
    if (rc != 0) {
        sb_err_prefix(err, "realm public key");
        return -1;
    }
    if (EVP_PKEY_get_bits(*key) != 384) {
        EVP_PKEY_free(*key);
        *key = NULL;
        return sb_err_set(err, 1, "realm public key is not P-384");
    }
    return 0;
}

static int verify_realm(const uint8_t *tok, size_t len, realm_claims *c, const EVP_MD **md,
                        sb_err *err)
{
    sb_cose_msg m;
    memset(c, 0, sizeof *c);
    if (sb_cose_decode(tok, len, SB_COSE_SIGN1, &m, err) != 0)
        return -1;
    if (m.alg != SB_COSE_ALG_ES384)
        return sb_err_set(err, 1, "algorithm %lld is not ES384", (long long)m.alg);
    if (!m.payload)
        return sb_err_set(err, 1, "detached payload is not allowed");
    if (walk_claims(m.payload, m.payload_len, realm_visit, c, err) != 0 ||
        check_realm_claims(c, md, err) != 0)
        return -1;
    EVP_PKEY *rak = NULL;
    if (realm_key(&c->rak, &rak, err) != 0)
        return -1;
    int rc = sb_cose_sign1_verify(&m, rak, NULL, 0, NULL, 0, err);
    EVP_PKEY_free(rak);
    if (rc != 0)
        sb_err_prefix(err, "signature by the RAK");
    return rc;
}

/* --- platform token ------------------------------------------------------------------------- */

static int platform_visit(sb_cbor *r, int64_t key, void *ctx, sb_err *err)
{
    platform_claims *c = ctx;
    switch (key) {
    case P_CHALLENGE: return read_bstr(r, &c->challenge, "platform challenge", err);
    case P_INSTANCE_ID: return read_bstr(r, &c->instance_id, "platform instance ID", err);
    case P_IMPL_ID: return read_bstr(r, &c->impl_id, "platform implementation ID", err);
    case P_CONFIG: return read_bstr(r, &c->config, "platform config", err);
    case P_PROFILE: return read_text(r, &c->profile, &c->profile_len, "platform profile", err);
    case P_HASH_ALG: return read_text(r, &c->hash_alg, &c->hash_alg_len, "platform hash algorithm", err);
    case P_LIFECYCLE:
        c->has_lifecycle = 1;
        if (sb_cbor_read_uint(r, &c->lifecycle, err) != 0) {
            sb_err_prefix(err, "platform lifecycle");
            return -1;
        }
        return 0;
    case P_SW_COMPONENTS: {
        const uint8_t *raw;
        if (sb_cbor_peek(r) != SB_CBOR_ARRAY)
            return sb_err_set(err, 1, "platform software components: not an array");
        if (sb_cbor_read_raw(r, &raw, &c->sw.n, err) != 0)
            return -1;
        c->sw.p = raw;
        return 0;
    }
    default: return sb_cbor_skip(r, err);
    }
}

/* PSA lifecycle states (major byte): 0x30 secured; 0x40 non-PSA-RoT debug and 0x50 recoverable
 * PSA-RoT debug attest but are insecure; the others (unknown, assembly and test, provisioning,
 * decommissioned) cannot produce a token a relying party may accept. */
static int lifecycle_debug(uint64_t lc, int *debug, sb_err *err)
{
    unsigned major = (unsigned)(lc >> 8);
    if (lc > 0xffff || (major != 0x30 && major != 0x40 && major != 0x50))
        return sb_err_set(err, 1, "platform lifecycle 0x%llx is not secured or debug",
                          (unsigned long long)lc);
    *debug = major != 0x30;
    return 0;
}

static int check_platform_claims(const platform_claims *c, sb_err *err)
{
    if (!c->profile || !(text_is(c->profile, c->profile_len, "http://arm.com/CCA-SSD/1.0.0") ||
                         text_is(c->profile, c->profile_len, "tag:arm.com,2023:cca_platform#1.0.0")))
        return sb_err_set(err, 1, "platform profile (265) missing or not a CCA platform profile");
    if (!c->challenge.p || (c->challenge.n != 32 && c->challenge.n != 48 && c->challenge.n != 64))
        return sb_err_set(err, 1, "platform challenge (claim 10) missing or not 32/48/64 bytes");
    if (!c->impl_id.p || c->impl_id.n != 32)
        return sb_err_set(err, 1, "platform implementation ID (2396) missing or not 32 bytes");
    if (!c->instance_id.p || c->instance_id.n != 33 || c->instance_id.p[0] != 0x01)
        return sb_err_set(err, 1, "platform instance ID (256) missing or not a 33-byte RAND UEID");
    if (!c->config.p)
        return sb_err_set(err, 1, "platform config (2401) missing");
    if (!c->has_lifecycle)
        return sb_err_set(err, 1, "platform lifecycle (2395) missing");
    if (!c->sw.p)
        return sb_err_set(err, 1, "platform software components (2399) missing");
    if (!c->hash_alg || !named_md(c->hash_alg, c->hash_alg_len))
        return sb_err_set(err, 1, "platform hash algorithm (2402) missing or unknown");
    return 0;
}

/* Any registered key (or a registered certificate's key) that verifies the platform token. */
static int verify_platform_signature(const sb_cose_msg *m, const sb_trust_anchors *a,
                                     char *which, size_t which_len, sb_err *err)
{
    size_t nk = a ? a->n_keys : 0, nc = a ? a->n_certs : 0;
    for (size_t i = 0; i < nk + nc; i++) {
        EVP_PKEY *k = i < nk ? a->keys[i] : X509_get0_pubkey(a->certs[i - nk]);
        if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
            continue;
        if (sb_cose_sign1_verify(m, k, NULL, 0, NULL, 0, NULL) == 0) {
            uint8_t der[256], *p = der, fp[32];
            int n = i2d_PUBKEY(k, NULL);
            char hex[17];
            if (n > 0 && n <= (int)sizeof der && i2d_PUBKEY(k, &p) == n &&
                EVP_Digest(der, (size_t)n, fp, NULL, EVP_sha256(), NULL) == 1) {
                sb_hex_encode(fp, 8, hex);
                snprintf(which, which_len, "CCA platform key sha256:%s", hex);
            } else {
                snprintf(which, which_len, "CCA platform key");
            }
            return 0;
        }
    }
    return sb_err_set(err, 1, "signature does not verify with any of the %zu registered keys", nk + nc);
}

static int verify_platform(const uint8_t *tok, size_t len, const sb_trust_anchors *a,
                           platform_claims *c, char *which, size_t which_len, sb_err *err)
{
    sb_cose_msg m;
    memset(c, 0, sizeof *c);
    if (sb_cose_decode(tok, len, SB_COSE_SIGN1, &m, err) != 0)
        return -1;
    if (m.alg != SB_COSE_ALG_ES256 && m.alg != SB_COSE_ALG_ES384)
        return sb_err_set(err, 1, "algorithm %lld is not ES256 or ES384", (long long)m.alg);
    if (!m.payload)
        return sb_err_set(err, 1, "detached payload is not allowed");
    if (walk_claims(m.payload, m.payload_len, platform_visit, c, err) != 0 ||
        check_platform_claims(c, err) != 0)
        return -1;
    return verify_platform_signature(&m, a, which, which_len, err);
}

/* The platform challenge binds the realm: it is hash(RAK bytes) by the realm's RAK hash algorithm. */
static int check_binding(const realm_claims *r, const platform_claims *p, sb_err *err)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    const EVP_MD *md = named_md(r->rak_hash_alg, r->rak_hash_alg_len);
    if (EVP_Digest(r->rak.p, r->rak.n, digest, &dlen, md, NULL) != 1)
        return sb_err_set(err, 1, "cannot hash the RAK");
    if (p->challenge.n != dlen || memcmp(p->challenge.p, digest, dlen) != 0)
        return sb_err_set(err, 1, "platform challenge is not the %.*s hash of the realm public key",
                          (int)r->rak_hash_alg_len, r->rak_hash_alg);
    return 0;
}

/* --- collection ----------------------------------------------------------------------------- */

/* One entry's value: a bstr (tag 399) or [263, bstr] (tag 907). */
static int read_entry(sb_cbor *r, int cmw, bytes *out, const char *which, sb_err *err)
{
    if (cmw) {
        size_t n;
        uint64_t cf;
        if (sb_cbor_read_array(r, &n, err) != 0 || n != 2)
            return sb_err_set(err, 1, "%s entry: not a [content-format, token] pair", which);
        if (sb_cbor_read_uint(r, &cf, err) != 0 || cf != CCA_CMW_CONTENT_FORMAT)
            return sb_err_set(err, 1, "%s entry: content format is not %d", which,
                              CCA_CMW_CONTENT_FORMAT);
    }
    if (sb_cbor_read_bytes(r, &out->p, &out->n, err) != 0) {
        sb_err_prefix(err, "%s entry", which);
        return -1;
    }
    return 0;
}

static int split_collection(const uint8_t *ev, size_t len, bytes *platform, bytes *realm,
                            sb_err *err)
{
    sb_cbor r;
    uint64_t tag;
    size_t n;
    sb_cbor_init(&r, ev, len);
    if (sb_cbor_read_tag(&r, &tag, err) != 0)
        return sb_err_set(err, 1, "not a tagged CCA token collection");
    if (tag != CCA_TAG_COLLECTION && tag != CCA_TAG_CMW)
        return sb_err_set(err, 1, "tag %llu is not a CCA collection (399 or 907)",
                          (unsigned long long)tag);
    if (sb_cbor_read_map(&r, &n, err) != 0 || n != 2)
        return sb_err_set(err, 1, "collection is not a map of two tokens");
    memset(platform, 0, sizeof *platform);
    memset(realm, 0, sizeof *realm);
    for (size_t i = 0; i < 2; i++) {
        uint64_t key;
        if (sb_cbor_read_uint(&r, &key, err) != 0)
            return sb_err_set(err, 1, "collection key is not an unsigned integer");
        bytes *slot = key == CCA_PLATFORM_LABEL ? platform : key == CCA_REALM_LABEL ? realm : NULL;
        if (!slot || slot->p)
            return sb_err_set(err, 1, "collection key %llu is unknown or repeated",
                              (unsigned long long)key);
        if (read_entry(&r, tag == CCA_TAG_CMW, slot, slot == platform ? "platform" : "realm", err))
            return -1;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "%zu bytes after the collection", sb_cbor_remaining(&r));
    return 0;
}

static int fill_claims(const realm_claims *r, const platform_claims *p, const char *pkey,
                       sb_claims *out, sb_err *err)
{
    static const char *const rem[] = {"rem0", "rem1", "rem2", "rem3"};
    if (sbv_add_measurement(out, "rim", r->rim.p, r->rim.n, err) != 0)
        return -1;
    for (int i = 0; i < 4; i++)
        if (sbv_add_measurement(out, rem[i], r->rem[i].p, r->rem[i].n, err) != 0)
            return -1;
    if (sbv_add_measurement(out, "rpv", r->rpv.p, r->rpv.n, err) != 0)
        return -1;
    memcpy(out->report_data, r->challenge.p, 64);
    out->report_data_len = 64;
    char impl[65];
    sb_hex_encode(p->impl_id.p, 32, impl);
    snprintf(out->tcb, sizeof out->tcb, "platform lifecycle 0x%04llx (%s); implementation %s; "
             "profile %.*s; realm hash %.*s", (unsigned long long)p->lifecycle,
             out->debug ? "debug" : "secured", impl, (int)p->profile_len, p->profile,
             (int)r->hash_alg_len, r->hash_alg);
    snprintf(out->signer, sizeof out->signer, "RAK (realm) + %s (platform)", pkey);
    snprintf(out->chain, sizeof out->chain, "realm token (RAK) -> platform token challenge -> %s", pkey);
    return 0;
}

int sb_verify_cca(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err)
{
    (void)at; /* CCA tokens carry no time and the platform key is registered without validity */
    sbv_claims_init(out, "cca");
    bytes ptok, rtok;
    realm_claims rc;
    platform_claims pc;
    const EVP_MD *md;
    char pkey[80];
    int debug = 0;
    if (split_collection(evidence, len, &ptok, &rtok, err) != 0) {
        sb_err_prefix(err, "cca");
        return -1;
    }
    if (verify_realm(rtok.p, rtok.n, &rc, &md, err) != 0) {
        sb_err_prefix(err, "cca: realm token");
        return -1;
    }
    if (verify_platform(ptok.p, ptok.n, anchors, &pc, pkey, sizeof pkey, err) != 0 ||
        lifecycle_debug(pc.lifecycle, &debug, err) != 0) {
        sb_err_prefix(err, "cca: platform token");
        return -1;
    }
    out->debug = debug;
    if (check_binding(&rc, &pc, err) != 0 || fill_claims(&rc, &pc, pkey, out, err) != 0) {
        sb_err_prefix(err, "cca");
        sbv_claims_init(out, "cca");
        return -1;
    }
    return 0;
}
