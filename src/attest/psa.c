/* psa.c - PSA attestation tokens (RFC 9783): claims decoding/encoding, sign, verify. */
#include "attest/attest.h"
#include "attest/internal.h"
#include "cose/cose.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Claim keys (RFC 9783; the legacy 2.0.0 profile puts the boot seed under 2397). */
enum {
    K_NONCE = 10,
    K_INSTANCE_ID = 256,
    K_PROFILE = 265,
    K_BOOT_SEED = 268,
    K_CLIENT_ID = 2394,
    K_LIFECYCLE = 2395,
    K_IMPL_ID = 2396,
    K_BOOT_SEED_LEGACY = 2397,
    K_CERT_REF = 2398,
    K_SW_COMPONENTS = 2399,
    K_VSI = 2400,
};

/* Bits for the duplicate/mandatory bookkeeping. */
enum {
    B_NONCE = 1 << 0, B_INSTANCE = 1 << 1, B_PROFILE = 1 << 2, B_BOOT_SEED = 1 << 3,
    B_CLIENT = 1 << 4, B_LIFECYCLE = 1 << 5, B_IMPL = 1 << 6, B_CERT_REF = 1 << 7,
    B_SW = 1 << 8, B_VSI = 1 << 9,
};

const char *sb_psa_lifecycle_name(uint32_t lc)
{
    switch (lc & 0xff00) {
    case 0x0000: return "unknown";
    case 0x1000: return "assembly-and-test";
    case 0x2000: return "psa-rot-provisioning";
    case 0x3000: return "secured";
    case 0x4000: return "non-psa-rot-debug";
    case 0x5000: return "recoverable-psa-rot-debug";
    case 0x6000: return "decommissioned";
    default: return "invalid";
    }
}

/* Copies a text claim into a fixed buffer, refusing over-long values and embedded NULs. */
static int read_text_into(sb_cbor *r, char *out, size_t cap, const char *what, sb_err *err)
{
    const char *s;
    size_t n;
    if (sb_cbor_read_text(r, &s, &n, err) < 0) {
        sb_err_prefix(err, "psa: %s", what);
        return -1;
    }
    if (n >= cap || memchr(s, 0, n))
        return sb_err_set(err, 1, "psa: %s: text of %zu bytes too long or contains NUL", what, n);
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

static int read_bytes_into(sb_cbor *r, uint8_t *out, size_t min, size_t max, size_t *len,
                           const char *what, sb_err *err)
{
    const uint8_t *p;
    size_t n;
    if (sb_cbor_read_bytes(r, &p, &n, err) < 0) {
        sb_err_prefix(err, "psa: %s", what);
        return -1;
    }
    if (n < min || n > max)
        return sb_err_set(err, 1, "psa: %s is %zu bytes, want %zu..%zu", what, n, min, max);
    memcpy(out, p, n);
    *len = n;
    return 0;
}

static int read_component(sb_cbor *r, sb_psa_sw_component *c, size_t idx, sb_err *err)
{
    size_t n;
    char what[48];
    snprintf(what, sizeof what, "software component %zu", idx);
    if (sb_cbor_read_map(r, &n, err) < 0) {
        sb_err_prefix(err, "psa: %s", what);
        return -1;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t k;
        if (sb_cbor_read_int(r, &k, err) < 0) {
            sb_err_prefix(err, "psa: %s key", what);
            return -1;
        }
        if (k >= 1 && k <= 6) {
            if (seen & (1u << k))
                return sb_err_set(err, 1, "psa: %s: key %lld appears twice", what, (long long)k);
            seen |= 1u << k;
        }
        int rc = 0;
        switch (k) {
        case 1: rc = read_text_into(r, c->type, sizeof c->type, "measurement-type", err); break;
        case 2:
            rc = read_bytes_into(r, c->value, 1, sizeof c->value, &c->value_len,
                                 "measurement-value", err);
            break;
        case 4: rc = read_text_into(r, c->version, sizeof c->version, "version", err); break;
        case 5:
            rc = read_bytes_into(r, c->signer_id, 1, sizeof c->signer_id, &c->signer_id_len,
                                 "signer-id", err);
            break;
        case 6: rc = read_text_into(r, c->desc, sizeof c->desc, "measurement-desc", err); break;
        default: rc = sb_cbor_skip(r, err); break;
        }
        if (rc < 0) {
            sb_err_prefix(err, "%s", what);
            return -1;
        }
    }
    if (!(seen & (1u << 2)))
        return sb_err_set(err, 1, "psa: %s has no measurement-value", what);
    return 0;
}

static int read_components(sb_cbor *r, sb_psa_token *t, sb_err *err)
{
    size_t n;
    if (sb_cbor_read_array(r, &n, err) < 0) {
        sb_err_prefix(err, "psa: software components");
        return -1;
    }
    if (n == 0 || n > SB_PSA_MAX_SW)
        return sb_err_set(err, 1, "psa: %zu software components (want 1..%d)", n, SB_PSA_MAX_SW);
    for (size_t i = 0; i < n; i++)
        if (read_component(r, &t->sw[i], i, err) < 0)
            return -1;
    t->n_sw = n;
    return 0;
}

static int read_lifecycle(sb_cbor *r, sb_psa_token *t, sb_err *err)
{
    uint64_t v;
    if (sb_cbor_read_uint(r, &v, err) < 0) {
        sb_err_prefix(err, "psa: security lifecycle");
        return -1;
    }
    if (v > 0xffff || (v & 0xff00) > 0x6000)
        return sb_err_set(err, 1, "psa: security lifecycle 0x%llx is not a valid state",
                          (unsigned long long)v);
    t->lifecycle = (uint32_t)v;
    return 0;
}

/* RFC 9783: "EAN-13" or "EAN-13-5 digits". */
static int check_cert_ref(const char *s, sb_err *err)
{
    size_t n = strlen(s);
    int ok = n == 13 || (n == 19 && s[13] == '-');
    for (size_t i = 0; ok && i < n; i++)
        if (i != 13 && (s[i] < '0' || s[i] > '9'))
            ok = 0;
    return ok ? 0 : sb_err_set(err, 1, "psa: certification reference '%s' is not EAN-13[-5]", s);
}

static int read_instance_id(sb_cbor *r, sb_psa_token *t, sb_err *err)
{
    if (read_bytes_into(r, t->instance_id, 33, 33, &t->instance_id_len, "instance ID", err) < 0)
        return -1;
    if (t->instance_id[0] != 0x01)
        return sb_err_set(err, 1, "psa: instance ID type 0x%02x is not 0x01 (RAND)",
                          t->instance_id[0]);
    return 0;
}

static int read_nonce(sb_cbor *r, sb_psa_token *t, sb_err *err)
{
    if (read_bytes_into(r, t->nonce, 32, 64, &t->nonce_len, "nonce", err) < 0)
        return -1;
    if (t->nonce_len != 32 && t->nonce_len != 48 && t->nonce_len != 64)
        return sb_err_set(err, 1, "psa: nonce is %zu bytes, want 32, 48 or 64", t->nonce_len);
    return 0;
}

/* Reads one claim; *bit is its bookkeeping bit (0 for claims we skip). */
static int read_claim(sb_cbor *r, int64_t key, sb_psa_token *t, unsigned *bit, int *seed_key,
                      sb_err *err)
{
    size_t len;
    *bit = 0;
    switch (key) {
    case K_NONCE: *bit = B_NONCE; return read_nonce(r, t, err);
    case K_INSTANCE_ID: *bit = B_INSTANCE; return read_instance_id(r, t, err);
    case K_PROFILE: *bit = B_PROFILE; return read_text_into(r, t->profile, sizeof t->profile, "profile", err);
    case K_BOOT_SEED:
    case K_BOOT_SEED_LEGACY:
        *bit = B_BOOT_SEED;
        *seed_key = (int)key;
        return read_bytes_into(r, t->boot_seed, 8, 32, &t->boot_seed_len, "boot seed", err);
    case K_CLIENT_ID:
        *bit = B_CLIENT;
        if (sb_cbor_read_int(r, &t->client_id, err) < 0 || t->client_id < INT32_MIN ||
            t->client_id > INT32_MAX) {
            sb_err_set(err, 1, "psa: client ID must be a 32-bit integer");
            return -1;
        }
        return 0;
    case K_LIFECYCLE: *bit = B_LIFECYCLE; return read_lifecycle(r, t, err);
    case K_IMPL_ID:
        *bit = B_IMPL;
        return read_bytes_into(r, t->implementation_id, 32, 32, &len, "implementation ID", err) < 0
                   ? -1 : (t->implementation_id_len = len, 0);
    case K_CERT_REF:
        *bit = B_CERT_REF;
        if (read_text_into(r, t->certification_ref, sizeof t->certification_ref,
                           "certification reference", err) < 0)
            return -1;
        return check_cert_ref(t->certification_ref, err);
    case K_SW_COMPONENTS: *bit = B_SW; return read_components(r, t, err);
    case K_VSI:
        *bit = B_VSI;
        return read_text_into(r, t->verification_service, sizeof t->verification_service,
                              "verification service indicator", err);
    default: return sb_cbor_skip(r, err);
    }
}

static int check_profile(const sb_psa_token *t, unsigned seen, int seed_key, sb_err *err)
{
    static const struct { unsigned bit; const char *name; } mandatory[] = {
        {B_PROFILE, "profile"}, {B_NONCE, "nonce"}, {B_INSTANCE, "instance ID"},
        {B_IMPL, "implementation ID"}, {B_CLIENT, "client ID"},
        {B_LIFECYCLE, "security lifecycle"}, {B_SW, "software components"},
    };
    for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++)
        if (!(seen & mandatory[i].bit))
            return sb_err_set(err, 1, "psa: mandatory claim '%s' missing", mandatory[i].name);
    int legacy = strcmp(t->profile, SB_PSA_PROFILE_LEGACY) == 0;
    if (!legacy && strcmp(t->profile, SB_PSA_PROFILE_2023) != 0 &&
        strcmp(t->profile, SB_PROCESS_PROFILE) != 0 && strcmp(t->profile, SB_KVM_PROFILE) != 0)
        return sb_err_set(err, 1, "psa: unsupported profile '%s'", t->profile);
    if (seed_key && seed_key != (legacy ? K_BOOT_SEED_LEGACY : K_BOOT_SEED))
        return sb_err_set(err, 1, "psa: boot seed under key %d is not valid for profile '%s'",
                          seed_key, t->profile);
    if (legacy && seed_key && t->boot_seed_len != 32)
        return sb_err_set(err, 1, "psa: legacy boot seed must be 32 bytes");
    return 0;
}

int sb_psa_decode_claims(const uint8_t *payload, size_t len, sb_psa_token *t, sb_err *err)
{
    memset(t, 0, sizeof *t);
    if (!payload || len == 0 || len > SB_PSA_MAX_TOKEN)
        return sb_err_set(err, 1, "psa: claims of %zu bytes (want 1..%d)", len, SB_PSA_MAX_TOKEN);
    sb_cbor r;
    size_t n;
    sb_cbor_init(&r, payload, len);
    if (sb_cbor_read_map(&r, &n, err) < 0) {
        sb_err_prefix(err, "psa: claims");
        return -1;
    }
    unsigned seen = 0;
    int seed_key = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        if (sb_cbor_peek(&r) == SB_CBOR_TEXT) { /* text-keyed claims are not PSA: skip */
            if (sb_cbor_skip(&r, err) < 0 || sb_cbor_skip(&r, err) < 0)
                return -1;
            continue;
        }
        if (sb_cbor_read_int(&r, &key, err) < 0) {
            sb_err_prefix(err, "psa: claim key");
            return -1;
        }
        unsigned bit;
        if (read_claim(&r, key, t, &bit, &seed_key, err) < 0)
            return -1;
        if (bit & seen)
            return sb_err_set(err, 1, "psa: claim %lld appears twice", (long long)key);
        seen |= bit;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "psa: trailing bytes after the claims map");
    return check_profile(t, seen, seed_key, err);
}

static void put_component(sb_cbuf *b, const sb_psa_sw_component *c)
{
    size_t n = 1 + (c->type[0] != 0) + (c->version[0] != 0) + (c->signer_id_len != 0) +
               (c->desc[0] != 0);
    sb_cbor_put_map(b, n);
    if (c->type[0]) {
        sb_cbor_put_int(b, 1);
        sb_cbor_put_text(b, c->type);
    }
    sb_cbor_put_int(b, 2);
    sb_cbor_put_bytes(b, c->value, c->value_len);
    if (c->version[0]) {
        sb_cbor_put_int(b, 4);
        sb_cbor_put_text(b, c->version);
    }
    if (c->signer_id_len) {
        sb_cbor_put_int(b, 5);
        sb_cbor_put_bytes(b, c->signer_id, c->signer_id_len);
    }
    if (c->desc[0]) {
        sb_cbor_put_int(b, 6);
        sb_cbor_put_text(b, c->desc);
    }
}

int sb_psa_encode_claims(const sb_psa_token *t, uint8_t **out, size_t *out_len, sb_err *err)
{
    if (t->n_sw == 0 || t->n_sw > SB_PSA_MAX_SW || t->instance_id_len != 33 ||
        t->implementation_id_len != 32 ||
        (t->nonce_len != 32 && t->nonce_len != 48 && t->nonce_len != 64) || !t->profile[0])
        return sb_err_set(err, 1, "psa: token to encode lacks a mandatory claim");
    int legacy = strcmp(t->profile, SB_PSA_PROFILE_LEGACY) == 0;
    size_t n = 7 + (t->boot_seed_len != 0) + (t->certification_ref[0] != 0) +
               (t->verification_service[0] != 0);
    sb_cbuf b;
    sb_cbuf_init(&b);
    sb_cbor_put_map(&b, n);
    sb_cbor_put_int(&b, K_PROFILE);
    sb_cbor_put_text(&b, t->profile);
    sb_cbor_put_int(&b, K_NONCE);
    sb_cbor_put_bytes(&b, t->nonce, t->nonce_len);
    sb_cbor_put_int(&b, K_INSTANCE_ID);
    sb_cbor_put_bytes(&b, t->instance_id, t->instance_id_len);
    sb_cbor_put_int(&b, K_IMPL_ID);
    sb_cbor_put_bytes(&b, t->implementation_id, t->implementation_id_len);
    sb_cbor_put_int(&b, K_CLIENT_ID);
    sb_cbor_put_int(&b, t->client_id);
    sb_cbor_put_int(&b, K_LIFECYCLE);
    sb_cbor_put_uint(&b, t->lifecycle);
    if (t->boot_seed_len) {
        sb_cbor_put_int(&b, legacy ? K_BOOT_SEED_LEGACY : K_BOOT_SEED);
        sb_cbor_put_bytes(&b, t->boot_seed, t->boot_seed_len);
    }
    if (t->certification_ref[0]) {
        sb_cbor_put_int(&b, K_CERT_REF);
        sb_cbor_put_text(&b, t->certification_ref);
    }
    sb_cbor_put_int(&b, K_SW_COMPONENTS);
    sb_cbor_put_array(&b, t->n_sw);
    for (size_t i = 0; i < t->n_sw; i++)
        put_component(&b, &t->sw[i]);
    if (t->verification_service[0]) {
        sb_cbor_put_int(&b, K_VSI);
        sb_cbor_put_text(&b, t->verification_service);
    }
    if (sb_cbuf_finish(&b, err) < 0) {
        sb_cbuf_free(&b);
        return -1;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int sb_psa_sign(const sb_psa_token *t, EVP_PKEY *key, uint8_t **out, size_t *out_len, sb_err *err)
{
    uint8_t *claims;
    size_t claims_len;
    if (sb_psa_encode_claims(t, &claims, &claims_len, err) < 0)
        return -1;
    int rc = sb_cose_sign1_sign(key, 0, -1, NULL, 0, claims, claims_len, 1, out, out_len, err);
    free(claims);
    return rc;
}

int sb_psa_verify(const uint8_t *token, size_t len, EVP_PKEY *key, const uint8_t *hmac_key,
                  size_t hmac_key_len, sb_psa_token *out, sb_err *err)
{
    if (len > SB_PSA_MAX_TOKEN)
        return sb_err_set(err, 1, "psa: token of %zu bytes exceeds %d", len, SB_PSA_MAX_TOKEN);
    sb_cose_msg m;
    /* RFC 9783 tokens are tagged; untagged input is taken as a Sign1 when a key is given. */
    sb_cose_type expect = (token && len && token[0] >> 5 == SB_CBOR_TAG) ? SB_COSE_ANY
                          : key ? SB_COSE_SIGN1 : SB_COSE_MAC0;
    if (sb_cose_decode(token, len, expect, &m, err) < 0)
        return -1;
    if (m.type == SB_COSE_SIGN1) {
        if (!key)
            return sb_err_set(err, 1, "psa: COSE_Sign1 token but no public key given");
        if (sb_cose_sign1_verify(&m, key, NULL, 0, NULL, 0, err) < 0)
            return -1;
    } else {
        if (!hmac_key)
            return sb_err_set(err, 1, "psa: COSE_Mac0 token but no HMAC key given");
        if (sb_cose_mac0_verify(&m, hmac_key, hmac_key_len, NULL, 0, err) < 0)
            return -1;
    }
    if (!m.payload)
        return sb_err_set(err, 1, "psa: detached payload");
    return sb_psa_decode_claims(m.payload, m.payload_len, out, err);
}

int sb_psa_peek_instance_id(const uint8_t *token, size_t len, uint8_t out[33], size_t *out_len,
                            sb_err *err)
{
    sb_cose_msg m;
    sb_psa_token *t = malloc(sizeof *t);
    if (!t)
        return sb_err_set(err, 1, "out of memory");
    int rc = -1;
    if (sb_cose_decode(token, len, SB_COSE_SIGN1, &m, err) == 0 && m.payload &&
        sb_psa_decode_claims(m.payload, m.payload_len, t, err) == 0) {
        memcpy(out, t->instance_id, 33);
        *out_len = t->instance_id_len;
        rc = 0;
    } else if (err && !err->msg[0]) {
        sb_err_set(err, 1, "psa: no payload");
    }
    free(t);
    return rc;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64)
        n = 64;
    sb_hex_encode(p, n, buf);
    return json_string(buf);
}

char *sb_psa_to_json(const sb_psa_token *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "profile", json_string(t->profile));
    json_object_set_new(o, "nonce", hex_json(t->nonce, t->nonce_len));
    json_object_set_new(o, "instance_id", hex_json(t->instance_id, t->instance_id_len));
    json_object_set_new(o, "implementation_id",
                        hex_json(t->implementation_id, t->implementation_id_len));
    json_object_set_new(o, "client_id", json_integer(t->client_id));
    char lc[64];
    snprintf(lc, sizeof lc, "%s (0x%04x)", sb_psa_lifecycle_name(t->lifecycle),
             (unsigned)t->lifecycle);
    json_object_set_new(o, "security_lifecycle", json_string(lc));
    if (t->boot_seed_len)
        json_object_set_new(o, "boot_seed", hex_json(t->boot_seed, t->boot_seed_len));
    if (t->certification_ref[0])
        json_object_set_new(o, "certification_reference", json_string(t->certification_ref));
    json_t *sw = json_array();
    for (size_t i = 0; i < t->n_sw; i++) {
        const sb_psa_sw_component *c = &t->sw[i];
        json_t *jc = json_object();
        if (c->type[0])
            json_object_set_new(jc, "measurement_type", json_string(c->type));
        json_object_set_new(jc, "measurement_value", hex_json(c->value, c->value_len));
        if (c->version[0])
            json_object_set_new(jc, "version", json_string(c->version));
        if (c->signer_id_len)
            json_object_set_new(jc, "signer_id", hex_json(c->signer_id, c->signer_id_len));
        if (c->desc[0])
            json_object_set_new(jc, "measurement_desc", json_string(c->desc));
        json_array_append_new(sw, jc);
    }
    json_object_set_new(o, "software_components", sw);
    if (t->verification_service[0])
        json_object_set_new(o, "verification_service_indicator",
                            json_string(t->verification_service));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* Fills normalised claims from a verified PSA token. */
static void psa_to_claims(const sb_psa_token *t, const char *platform, sb_claims *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->platform, sizeof out->platform, "%s", platform);
    for (size_t i = 0; i < t->n_sw && i < SB_MAX_MEASUREMENTS; i++) {
        sb_measurement *m = &out->measurements[out->n_measurements++];
        snprintf(m->name, sizeof m->name, "sw:%.20s", t->sw[i].type);
        m->len = t->sw[i].value_len;
        memcpy(m->value, t->sw[i].value, m->len);
    }
    memcpy(out->report_data, t->nonce, t->nonce_len);
    out->report_data_len = t->nonce_len;
    out->debug = (t->lifecycle & 0xff00) != SB_PSA_LIFECYCLE_SECURED;
    snprintf(out->tcb, sizeof out->tcb, "lifecycle %s (0x%04x), profile %s",
             sb_psa_lifecycle_name(t->lifecycle), (unsigned)t->lifecycle, t->profile);
    char iid[67];
    sb_hex_encode(t->instance_id, t->instance_id_len, iid);
    snprintf(out->signer, sizeof out->signer, "IAK, instance %s", iid);
}

int sb_verify_psa(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err)
{
    (void)at; /* PSA tokens carry no time */
    sb_psa_token *t = malloc(sizeof *t);
    if (!t)
        return sb_err_set(err, 1, "out of memory");
    int rc = -1;
    sb_err last = {0};
    if (!anchors || (anchors->n_keys == 0 && !anchors->hmac_key)) {
        sb_err_set(&last, 1, "psa: no attestation key to verify with");
    } else {
        for (size_t i = 0; rc < 0 && i < anchors->n_keys; i++)
            rc = sb_psa_verify(evidence, len, anchors->keys[i], NULL, 0, t, &last);
        if (rc < 0 && anchors->hmac_key)
            rc = sb_psa_verify(evidence, len, NULL, anchors->hmac_key, anchors->hmac_key_len, t,
                               &last);
    }
    if (rc == 0)
        psa_to_claims(t, "psa", out);
    else if (err)
        *err = last;
    free(t);
    return rc;
}

void sb_attest_psa_claims(const sb_psa_token *t, const char *platform, sb_claims *out)
{
    psa_to_claims(t, platform, out);
}
