/* test_cert - binding, process evidence, isolate certificates and the client verifier. */
#include "attest/attest.h"
#include "../common/test_util.h"

#include <openssl/sha.h>
#include <openssl/x509v3.h>

static void test_binding(void)
{
    uint8_t nonce[32], ph[32], out[64], want[64];
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)i;
    memset(ph, 0xaa, 32);
    CHECK_OK(sb_attest_binding(nonce, 32, (const uint8_t *)"spki-bytes", 10, ph, out, err));
    /* python: sha512(b"strongbox-attest-v1" + nonce + sha256(b"spki-bytes") + ph) */
    sb_hex_decode("8541064260af47571561e1f5a845a71fe4ef4ea3ba62a8ef90b6ccafabdd741a9baf7a4a0351bf"
                  "fd5c80c24f110b374606a2271d8eeb838794cc2515678c43b2",
                  want, 64);
    CHECK(memcmp(out, want, 64) == 0);
    CHECK_ERR(sb_attest_binding(nonce, 0, (const uint8_t *)"x", 1, ph, out, err), "nonce");
    CHECK_ERR(sb_attest_binding(nonce, 32, NULL, 0, ph, out, err), "no public key");
}

/* The direct SPKI encoding for P-256/P-384 equals OpenSSL's; other keys take OpenSSL's path. */
static void test_spki_hash(void)
{
    const char *curves[] = {"P-256", "P-384", "P-521"};
    for (int i = 0; i < 4; i++) {
        EVP_PKEY *k = i < 3 ? EVP_EC_gen(curves[i]) : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        uint8_t *der = NULL, want[32], got[32];
        int n = i2d_PUBKEY(k, &der);
        SHA256(der, (size_t)n, want);
        CHECK_OK(sb_attest_key_hash(k, got, err));
        CHECK(memcmp(want, got, 32) == 0);
        OPENSSL_free(der);
        EVP_PKEY_free(k);
    }
}

static void test_base64(void)
{
    const uint8_t data[] = {0, 1, 2, 250, 251, 252, 253};
    for (size_t n = 0; n <= sizeof data; n++) {
        char *s = sb_base64_encode(data, n);
        uint8_t *d;
        size_t dl;
        CHECK_OK(sb_base64_decode(s, strlen(s), &d, &dl, err));
        CHECK(dl == n && memcmp(d, data, n) == 0);
        free(d);
        free(s);
    }
    uint8_t *d;
    size_t dl;
    CHECK_ERR(sb_base64_decode("abc", 3, &d, &dl, err), "multiple of 4");
    CHECK_ERR(sb_base64_decode("ab!d", 4, &d, &dl, err), "invalid character");
}

static void test_process_evidence(void)
{
    EVP_PKEY *host = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    uint8_t rt[32], binding[64];
    memset(rt, 0x5a, 32);
    memset(binding, 0x3c, 64);
    uint8_t *ev;
    size_t len;
    CHECK_OK(sb_process_evidence_create(host, rt, binding, &ev, &len, err));
    EVP_PKEY *keys[2] = {other, host};
    sb_trust_anchors a = {.keys = keys, .n_keys = 2};
    sb_claims c;
    CHECK_OK(sb_verify_process(ev, len, &a, 0, &c, err));
    CHECK(strcmp(c.platform, "process") == 0 && c.debug == 1);
    CHECK(c.n_measurements == 1 && strcmp(c.measurements[0].name, "runtime") == 0);
    CHECK(memcmp(c.measurements[0].value, rt, 32) == 0 && c.report_data_len == 64);
    CHECK(memcmp(c.report_data, binding, 64) == 0);
    uint8_t iid[33], want[33] = {1};
    size_t il;
    CHECK_OK(sb_psa_peek_instance_id(ev, len, iid, &il, err));
    CHECK_OK(sb_attest_key_hash(host, want + 1, err));
    CHECK(il == 33 && memcmp(iid, want, 33) == 0);
    sb_trust_anchors only_other = {.keys = &other, .n_keys = 1};
    CHECK_ERR(sb_verify_process(ev, len, &only_other, 0, &c, err), "no trust anchor matches");
    sb_trust_anchors none = {0};
    CHECK_ERR(sb_verify_process(ev, len, &none, 0, &c, err), "no host attestation key");
    ev[len - 3] ^= 1;
    CHECK_ERR(sb_verify_process(ev, len, &a, 0, &c, err), "signature does not verify");
    free(ev);
    /* a genuine PSA token (wrong profile) is not process evidence */
    sb_psa_token t = {0};
    snprintf(t.profile, sizeof t.profile, SB_PSA_PROFILE_2023);
    t.nonce_len = 64;
    t.instance_id_len = 33;
    sb_attest_key_hash(host, t.instance_id + 1, NULL);
    t.instance_id[0] = 1;
    t.implementation_id_len = 32;
    t.n_sw = 1;
    t.sw[0].value_len = 32;
    CHECK_OK(sb_psa_sign(&t, host, &ev, &len, err));
    CHECK_ERR(sb_verify_process(ev, len, &a, 0, &c, err), "profile");
    free(ev);
    EVP_PKEY_free(host);
    EVP_PKEY_free(other);
}

/* A self-signed CA like the service makes. */
static X509 *make_ca(EVP_PKEY *key, const char *cn, time_t nb)
{
    X509 *ca = X509_new();
    X509_set_version(ca, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(ca, X509_get_subject_name(ca));
    X509_time_adj_ex(X509_getm_notBefore(ca), 0, 0, &nb);
    X509_time_adj_ex(X509_getm_notAfter(ca), 3650, 0, &nb);
    X509_set_pubkey(ca, key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, ca, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(ca, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_add_ext(ca, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(ca, key, EVP_sha256());
    return ca;
}

typedef struct fixture {
    EVP_PKEY *ca_key, *iso_key;
    X509 *ca;
    sb_claims claims;
    uint8_t policy[32];
    time_t now;
} fixture;

static X509 *issue(fixture *f, int hardware, int debug)
{
    sb_issue_params p = {.ca_cert = f->ca, .ca_key = f->ca_key, .subject_key = f->iso_key,
                         .claims = &f->claims, .hardware = hardware,
                         .service_url = "http://attest.example", .not_before = f->now - 60};
    f->claims.debug = debug;
    memcpy(p.policy_hash, f->policy, 32);
    memset(p.binding, 7, 64);
    memset(p.serial, 0x42, 16);
    X509 *cert = NULL;
    CHECK_OK(sb_attest_issue_cert(&p, &cert, err));
    return cert;
}

static void expect_of(fixture *f, sb_attest_expect *e, sb_attest_accepted *acc, const char *plat)
{
    memset(acc, 0, sizeof *acc);
    snprintf(acc->platform, sizeof acc->platform, "%s", plat);
    memcpy(acc->measurement, f->claims.measurements[0].value, 32);
    acc->len = 32;
    *e = (sb_attest_expect){.root = f->ca, .accepted = acc, .n_accepted = 1, .allow_debug = 1,
                            .at = f->now};
    memcpy(e->policy_hash, f->policy, 32);
}

static void test_cert_verify(void)
{
    fixture f = {0};
    f.now = time(NULL);
    f.ca_key = EVP_EC_gen("P-256");
    f.iso_key = EVP_EC_gen("P-256");
    f.ca = make_ca(f.ca_key, "Test attestation root", f.now - 3600);
    snprintf(f.claims.platform, sizeof f.claims.platform, "process");
    f.claims.n_measurements = 1;
    snprintf(f.claims.measurements[0].name, sizeof f.claims.measurements[0].name, "runtime");
    memset(f.claims.measurements[0].value, 0x5a, 32);
    f.claims.measurements[0].len = 32;
    memset(f.policy, 0xab, 32);

    X509 *leaf = issue(&f, 0, 1);
    sb_attest_expect e;
    sb_attest_accepted acc;
    sb_attest_verdict v;
    expect_of(&f, &e, &acc, "process");
    CHECK_OK(sb_attest_verify_cert(leaf, NULL, &e, &v, err));
    CHECK(v.ok && strcmp(v.platform, "process") == 0 && v.n_steps == 8);
    CHECK((v.lifecycle & 0xff00) == SB_PSA_LIFECYCLE_NON_PSA_ROT_DEBUG);
    CHECK(strcmp(v.service, "http://attest.example") == 0);
    CHECK(v.not_after - v.not_before == 24 * 3600);
    char *text = sb_attest_verdict_text(&v);
    CHECK(text && strstr(text, "verdict: ATTESTED") && strstr(text, "[ok  ] measurement"));
    free(text);
    /* extension, key usage, EKU */
    const uint8_t *tok;
    size_t tl;
    CHECK_OK(sb_attest_cert_token(leaf, &tok, &tl, err));
    CHECK(X509_get_extended_key_usage(leaf) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
    CHECK(X509_get_key_usage(leaf) == KU_DIGITAL_SIGNATURE);

    /* each check fails on its own */
    e.allow_debug = 0;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "lifecycle: platform process");
    CHECK(!v.ok && v.steps[v.n_steps - 1].ok == 0);
    text = sb_attest_verdict_text(&v);
    CHECK(text && strstr(text, "[FAIL] lifecycle") && strstr(text, "REFUSED"));
    free(text);
    e.allow_debug = 1;
    acc.measurement[0] ^= 1;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "measurement: runtime 5a5a");
    acc.measurement[0] ^= 1;
    snprintf(acc.platform, sizeof acc.platform, "sev-snp");
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "not accepted for platform process");
    snprintf(acc.platform, sizeof acc.platform, "process");
    e.policy_hash[5] ^= 1;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "different policy");
    e.policy_hash[5] ^= 1;
    e.at = f.now + 25 * 3600;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "validity: certificate not valid");
    e.at = f.now - 3600;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "validity");
    e.at = f.now;
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *other_ca = make_ca(other_key, "Test attestation root", f.now - 3600);
    e.root = other_ca;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "chain: does not chain");
    e.root = NULL;
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, err), "no attestation root");
    e.root = f.ca;

    /* a certificate for another key carrying this token (signed by the CA): instance id */
    X509 *swapped = X509_dup(leaf);
    X509_set_pubkey(swapped, other_key);
    X509_sign(swapped, f.ca_key, EVP_sha256());
    CHECK_ERR(sb_attest_verify_cert(swapped, NULL, &e, &v, err), "instance id");
    X509_free(swapped);
    /* token signed by another key than the issuer: swap in a token from a foreign CA */
    X509 *foreign_ca = make_ca(other_key, "Foreign", f.now - 3600);
    X509 *save_ca = f.ca;
    EVP_PKEY *save_key = f.ca_key;
    f.ca = foreign_ca;
    f.ca_key = other_key;
    X509 *foreign_leaf = issue(&f, 0, 1);
    f.ca = save_ca;
    f.ca_key = save_key;
    X509 *mixed = X509_dup(foreign_leaf);
    X509_set_issuer_name(mixed, X509_get_subject_name(f.ca));
    X509_sign(mixed, f.ca_key, EVP_sha256());
    CHECK_ERR(sb_attest_verify_cert(mixed, NULL, &e, &v, err), "token signature");
    X509_free(mixed);
    X509_free(foreign_leaf);
    X509_free(foreign_ca);
    /* no token extension at all */
    X509 *plain = make_ca(other_key, "plain", f.now - 60);
    CHECK_ERR(sb_attest_verify_cert(plain, NULL, &e, &v, err), "chain");
    X509_free(plain);

    /* hardware, not debug: secured, accepted without allow_debug */
    snprintf(f.claims.platform, sizeof f.claims.platform, "sev-snp");
    X509 *hw = issue(&f, 1, 0);
    snprintf(acc.platform, sizeof acc.platform, "sev-snp");
    e.allow_debug = 0;
    CHECK_OK(sb_attest_verify_cert(hw, NULL, &e, &v, err));
    CHECK((v.lifecycle & 0xff00) == SB_PSA_LIFECYCLE_SECURED && strcmp(v.platform, "sev-snp") == 0);
    X509_free(hw);
    /* hardware in debug mode: not secured */
    hw = issue(&f, 1, 1);
    CHECK_ERR(sb_attest_verify_cert(hw, NULL, &e, &v, err), "debug/insecure");
    X509_free(hw);

    X509_free(other_ca);
    EVP_PKEY_free(other_key);
    X509_free(leaf);
    X509_free(f.ca);
    EVP_PKEY_free(f.ca_key);
    EVP_PKEY_free(f.iso_key);
}

static void test_csr(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *pem = sb_attest_make_csr(k, "isolate", NULL);
    CHECK(pem && strstr(pem, "BEGIN CERTIFICATE REQUEST"));
    free(pem);
    EVP_PKEY_free(k);
}

int main(void)
{
    test_binding();
    test_spki_hash();
    test_base64();
    test_process_evidence();
    test_cert_verify();
    test_csr();
    return test_exit("attest_cert");
}
