/* Tests for the TDX verifier: the captured v4 quote (valid, its td-launch composite, trailing
 * junk ignored, flips across header, body, signature, QE report, auth data and every PCK
 * certificate, truncation, wrong root, times) and synthetic v4/v5 quotes signed with a generated
 * PCK chain (TDX 1.0 and 1.5 bodies, debug TD refused, QE binding, nested type, carried root).
 * A changed register breaks the quote's signature, so the synthetic quotes are re-signed: the
 * RTMR1 and DEBUG refusals below come from the checks they test, not from a bad signature. The
 * RTMR1 case runs the whole chain: verifier -> isolate certificate -> client policy check. */
#include "attest/attest.h"
#include "testgen.h"
#include "verifiers/verifiers.h"

#include <stdlib.h>
#include <string.h>

static void put_le16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get_le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* The sample's layout: header 48, body 584, sig len 4 at 632, sig 64 at 636, key 64 at 700,
 * cert type 2 + size 4 at 764, QE report 384 at 770, QE sig 64 at 1154, auth size 2 at 1218,
 * auth at 1220, then nested type/size and the PEM chain. The declared end is 4974 - 39. */
static void test_sample(void)
{
    size_t len;
    uint8_t *q = tg_read(tg_vec("tdx/gotdxguest_quote_v4_spr_e4.dat"), &len);
    sb_trust_anchors a = {0};
    tg_anchors_add_file(&a, tg_vec("tdx/intel_sgx_root_ca.pem"));
    time_t at = tg_time("2023-07-01T00:00:00Z");
    sb_claims c;
    sb_err err = {0};
    CHECK(sb_verify_tdx(q, len, &a, at, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "tdx sample: %s\n", err.msg);
    CHECK(strcmp(c.platform, "tdx") == 0 && c.debug == 0);
    /* The primary measurement is SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2), computed by hand:
     *   (dd bs=1 skip=184 count=48; dd bs=1 skip=376 count=144) < gotdxguest_quote_v4_spr_e4.dat
     *   | sha384sum          (MRTD at 48 + 136, RTMR0..2 at 48 + 328, 144 bytes) */
    uint8_t launch[48];
    sb_hex_decode("e06d46e886a64f27baac339a9066b03d89e4fe1f8ff72b2199f54d89336bc0e9"
                  "c3be264a52cf206a1f40db5b68d50a00", launch, 48);
    CHECK(c.n_measurements >= 6 && strcmp(c.measurements[0].name, "td-launch") == 0 &&
          c.measurements[0].len == 48 && memcmp(c.measurements[0].value, launch, 48) == 0);
    CHECK(strcmp(c.measurements[1].name, "mrtd") == 0 &&
          memcmp(c.measurements[1].value, q + 48 + 136, 48) == 0 &&
          strcmp(c.measurements[3].name, "rtmr1") == 0 &&
          memcmp(c.measurements[3].value, q + 48 + 328 + 48, 48) == 0 &&
          strcmp(c.measurements[5].name, "rtmr3") == 0 &&
          memcmp(c.measurements[5].value, q + 48 + 328 + 144, 48) == 0);
    CHECK(c.report_data_len == 64 && memcmp(c.report_data, q + 48 + 520, 64) == 0);
    CHECK(strstr(c.chain, "Intel SGX PCK Certificate") == c.chain &&
          strstr(c.chain, "-> Intel SGX Root CA") != NULL);
    CHECK(strstr(c.signer, "PCK") != NULL);
    CHECK(strstr(c.tcb, "quote v4") != NULL);
    CHECK(strstr(c.tcb, "fmspc 50806f000000") != NULL || (fprintf(stderr, "tcb: %s\n", c.tcb), 0));
    CHECK(sb_claims_expect_report_data(&c, q + 48 + 520, 64, &err) == 0);
    uint8_t zeros[64] = {0};
    CHECK_ERR(sb_claims_expect_report_data(&c, zeros, 64, &err), err, "tdx: report data does not match");

    uint32_t sig_len = get_le32(q + 632);
    size_t declared = 636 + sig_len;
    CHECK(declared == len - 39);
    /* The trailing junk is not part of the quote: without it, or with other junk, still valid. */
    CHECK(sb_verify_tdx(q, declared, &a, at, &c, &err) == 0);
    uint8_t *copy = malloc(len + 16);
    memcpy(copy, q, len);
    memset(copy + len, 0xee, 16);
    CHECK(sb_verify_tdx(copy, len + 16, &a, at, &c, &err) == 0);

    /* Every byte of the declared quote flipped: header, body, signature, key, QE report, QE
     * signature, auth data, nested header, and every byte of the PEM PCK chain (leaf,
     * intermediate, carried root). The 39 bytes past the declared end are, by the format, not
     * part of the quote: flipping them must NOT change the verdict (checked below). */
    int flips = 0, refused = 0;
    for (size_t i = 0; i < declared; i++) {
        memcpy(copy, q, len);
        copy[i] ^= 0x01;
        flips++;
        sb_err_clear(&err);
        if (sb_verify_tdx(copy, len, &a, at, &c, &err) != 0 && tg_has_reason(&err))
            refused++;
        else
            fprintf(stderr, "tdx: flip at %zu (0x%02x) accepted\n", i, q[i]);
    }
    CHECK(refused == flips);
    printf("tdx sample: %d/%d single-byte flips refused\n", refused, flips);
    int junk_ok = 0;
    for (size_t i = declared; i < len; i++) {
        memcpy(copy, q, len);
        copy[i] ^= 0x01;
        junk_ok += sb_verify_tdx(copy, len, &a, at, &c, &err) == 0;
    }
    CHECK(junk_ok == (int)(len - declared));

    /* Specific reasons. */
    struct { size_t off; const char *needle; } cases[] = {
        {0, "body descriptor"}, {2, "attestation key type 3"}, {4, "TEE type"},
        {12, "QE vendor"}, {48 + 520, "quote signature"}, {636, "quote signature"},
        {700, "attestation key"}, {764, "certification data type 7"}, {770, "QE report signature"},
        {1218, "nested certification data type"}, {1220, "QE report data"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(copy, q, len);
        copy[cases[k].off] ^= 0x01;
        CHECK_ERR(sb_verify_tdx(copy, len, &a, at, &c, &err), err, cases[k].needle);
    }
    /* Truncation anywhere inside the declared quote. */
    int trunc_refused = 0, truncs = 0;
    for (size_t n = 0; n < declared; n += (n < 1300 ? 1 : 7)) {
        truncs++;
        trunc_refused += sb_verify_tdx(q, n, &a, at, &c, &err) != 0 && tg_has_reason(&err);
    }
    CHECK(trunc_refused == truncs);
    printf("tdx sample: %d/%d truncations refused\n", trunc_refused, truncs);
    CHECK_ERR(sb_verify_tdx(q, 40, &a, at, &c, &err), err, "shorter than its 48-byte header");
    CHECK_ERR(sb_verify_tdx(q, 700, &a, at, &c, &err), err, "runs past the end");
    /* Wrong roots and times. */
    sb_trust_anchors amd = {0}, none = {0};
    tg_anchors_add_file(&amd, tg_vec("snp/amd_ask_ark_milan.pem"));
    CHECK_ERR(sb_verify_tdx(q, len, &amd, at, &c, &err), err, "PCK: certificate chain");
    CHECK_ERR(sb_verify_tdx(q, len, &none, at, &c, &err), err, "certificate chain");
    CHECK_ERR(sb_verify_tdx(q, len, &a, tg_time("2017-01-01T00:00:00Z"), &c, &err), err,
              "not yet valid");
    CHECK_ERR(sb_verify_tdx(q, len, &a, tg_time("2049-06-01T00:00:00Z"), &c, &err), err, "expired");
    tg_anchors_free(&amd);
    free(copy);
    tg_anchors_free(&a);
    free(q);
}

/* --- synthetic quotes --------------------------------------------------------------------- */

typedef struct pck_chain {
    EVP_PKEY *root_key, *pck_key, *ak;
    X509 *root, *pck;
} pck_chain;

static void make_pck(pck_chain *p)
{
    time_t nb = tg_time("2020-01-01T00:00:00Z"), na = tg_time("2045-01-01T00:00:00Z");
    p->root_key = tg_ec_key(NID_X9_62_prime256v1);
    p->pck_key = tg_ec_key(NID_X9_62_prime256v1);
    p->ak = tg_ec_key(NID_X9_62_prime256v1);
    p->root = tg_cert("Test SGX Root CA", p->root_key, NULL, NULL, 0, 1, nb, na, NULL, 0);
    p->pck = tg_cert("Test SGX PCK Certificate", p->pck_key, p->root, p->root_key, 0, 0, nb, na,
                     NULL, 0);
}

static void free_pck(pck_chain *p)
{
    EVP_PKEY_free(p->root_key), EVP_PKEY_free(p->pck_key), EVP_PKEY_free(p->ak);
    X509_free(p->root), X509_free(p->pck);
}

typedef struct quote_spec {
    unsigned version;   /* 4 or 5 */
    unsigned body_type; /* v5: 2 (584) or 3 (648) */
    uint64_t td_attributes;
    unsigned cert_type, inner_type;
    int bad_binding;
    int rtmr1_differs; /* flip one bit of RTMR1 (MRTD, RTMR0, RTMR2 unchanged) */
} quote_spec;

static size_t build_quote(uint8_t *out, size_t cap, const quote_spec *s, pck_chain *p)
{
    static const uint8_t vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    memset(out, 0, cap);
    size_t n = 0;
    put_le16(out, s->version), put_le16(out + 2, 2), put_le32(out + 4, 0x81);
    memcpy(out + 12, vendor, 16);
    n = 48;
    size_t body_len = 584;
    if (s->version == 5) {
        body_len = s->body_type == 3 ? 648 : 584;
        put_le16(out + n, s->body_type), put_le32(out + n + 2, (uint32_t)body_len);
        n += 6;
    }
    uint8_t *body = out + n;
    for (size_t i = 0; i < body_len; i++)
        body[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 8; i++)
        body[120 + i] = (uint8_t)(s->td_attributes >> (8 * i));
    for (int i = 0; i < 64; i++)
        body[520 + i] = (uint8_t)(0x40 + i);
    if (s->rtmr1_differs)
        body[328 + 48 + 17] ^= 0x04;
    n += body_len;
    size_t signed_len = n;
    uint8_t *sig_len_at = out + n;
    n += 4;
    size_t sig_start = n;
    tg_sign_rs(p->ak, EVP_sha256(), out, signed_len, out + n, out + n + 32, 32);
    n += 64;
    uint8_t point[65];
    size_t plen = sizeof point;
    EVP_PKEY_get_octet_string_param(p->ak, "encoded-pub-key", point, sizeof point, &plen);
    memcpy(out + n, point + 1, 64);
    n += 64;
    uint8_t *cert_hdr = out + n;
    n += 6;
    size_t cert_start = n;
    uint8_t *qe = out + n;
    n += 384;
    uint8_t *qe_sig = out + n;
    n += 64;
    static const uint8_t auth[32] = "auth data for the test quote...";
    put_le16(out + n, sizeof auth);
    memcpy(out + n + 2, auth, sizeof auth);
    n += 2 + sizeof auth;
    /* QE report data = SHA-256(att key || auth) */
    uint8_t tmp[96];
    memcpy(tmp, point + 1, 64), memcpy(tmp + 64, auth, 32);
    unsigned dlen;
    EVP_Digest(tmp, 96, qe + 320, &dlen, EVP_sha256(), NULL);
    if (s->bad_binding)
        qe[320] ^= 1;
    tg_sign_rs(p->pck_key, EVP_sha256(), qe, 384, qe_sig, qe_sig + 32, 32);
    uint8_t *inner = out + n;
    n += 6;
    size_t pem_start = n;
    tg_pem_append(p->pck, out, &n, cap);
    tg_pem_append(p->root, out, &n, cap);
    put_le16(inner, s->inner_type), put_le32(inner + 2, (uint32_t)(n - pem_start));
    put_le16(cert_hdr, s->cert_type), put_le32(cert_hdr + 2, (uint32_t)(n - cert_start));
    put_le32(sig_len_at, (uint32_t)(n - sig_start));
    return n;
}

static void test_synthetic(void)
{
    pck_chain p;
    make_pck(&p);
    sb_trust_anchors a = {0};
    tg_anchors_add_cert(&a, p.root);
    time_t at = tg_time("2026-01-01T00:00:00Z");
    uint8_t *q = malloc(8192), *copy = malloc(8192);
    sb_claims c;
    sb_err err = {0};
    quote_spec specs[] = {{4, 0, 0, 6, 5, 0, 0}, {5, 2, 0, 6, 5, 0, 0}, {5, 3, 0, 6, 5, 0, 0}};
    for (size_t k = 0; k < 3; k++) {
        size_t n = build_quote(q, 8192, &specs[k], &p);
        sb_err_clear(&err);
        CHECK(sb_verify_tdx(q, n, &a, at, &c, &err) == 0);
        if (err.msg[0])
            fprintf(stderr, "synthetic tdx %zu: %s\n", k, err.msg);
        CHECK(c.report_data[0] == 0x40 && c.report_data[63] == 0x7f && c.debug == 0);
        CHECK(strcmp(c.chain, "Test SGX PCK Certificate -> Test SGX Root CA") == 0);
        CHECK(strstr(c.tcb, "fmspc ?;") != NULL); /* no SGX extension in the generated PCK */
        int has_servicetd = 0;
        for (size_t m = 0; m < c.n_measurements; m++)
            has_servicetd |= strcmp(c.measurements[m].name, "mrservicetd") == 0;
        CHECK(has_servicetd == (specs[k].body_type == 3));
        /* flips over the whole v5 quote, sampled every 5th byte */
        int flips = 0, refused = 0;
        for (size_t i = k; i < n; i += 5) {
            memcpy(copy, q, n);
            copy[i] ^= 0x01;
            flips++;
            refused += sb_verify_tdx(copy, n, &a, at, &c, &err) != 0 && tg_has_reason(&err);
        }
        CHECK(refused == flips);
        printf("tdx synthetic v%u body type %u: %d/%d flips refused\n", specs[k].version,
               specs[k].body_type, refused, flips);
    }
    /* A genuine, correctly signed debug TD is refused, with the attribute named; also when other
     * attribute bits are set with it. Without DEBUG the same attributes pass. */
    quote_spec debug = {5, 2, 1, 6, 5, 0, 0};
    size_t n = build_quote(q, 8192, &debug, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err,
              "tdx: TD_ATTRIBUTES 0x0000000000000001 has DEBUG (bit 0) set");
    quote_spec debug4 = {4, 0, 0x10000001, 6, 5, 0, 0};
    n = build_quote(q, 8192, &debug4, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "DEBUG (bit 0) set");
    debug4.td_attributes = 0x10000000; /* SEPT_VE_DISABLE alone */
    n = build_quote(q, 8192, &debug4, &p);
    CHECK(sb_verify_tdx(q, n, &a, at, &c, &err) == 0 && c.debug == 0);
    quote_spec bad_binding = {4, 0, 0, 6, 5, 1, 0};
    n = build_quote(q, 8192, &bad_binding, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "QE report data is not SHA-256");
    quote_spec inner4 = {4, 0, 0, 6, 4, 0, 0};
    n = build_quote(q, 8192, &inner4, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "nested certification data type 4");
    quote_spec outer5 = {4, 0, 0, 5, 5, 0, 0};
    n = build_quote(q, 8192, &outer5, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "certification data type 5 is not 6");
    quote_spec v5bad = {5, 4, 0, 6, 5, 0, 0};
    n = build_quote(q, 8192, &v5bad, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "body descriptor: type 4");
    /* descriptor says type 3 but size 584 */
    quote_spec v5 = {5, 3, 0, 6, 5, 0, 0};
    n = build_quote(q, 8192, &v5, &p);
    put_le32(q + 50, 584);
    CHECK_ERR(sb_verify_tdx(q, n, &a, at, &c, &err), err, "body descriptor");
    /* the carried root must be the registered one */
    pck_chain other;
    make_pck(&other);
    sb_trust_anchors wrong = {0};
    tg_anchors_add_cert(&wrong, other.root);
    quote_spec v4 = {4, 0, 0, 6, 5, 0, 0};
    n = build_quote(q, 8192, &v4, &p);
    CHECK_ERR(sb_verify_tdx(q, n, &wrong, at, &c, &err), err, "certificate chain");
    tg_anchors_free(&wrong);
    free_pck(&other);
    free(q), free(copy);
    tg_anchors_free(&a);
    free_pck(&p);
}

/* SHA-384 over MRTD || RTMR0..2 of a quote body, with EVP_Digest over one copied buffer (not the
 * verifier's function), for the synthetic quotes. */
static void launch_by_hand(const uint8_t *body, uint8_t out[48])
{
    uint8_t cat[192];
    memcpy(cat, body + 136, 48);
    memcpy(cat + 48, body + 328, 144);
    unsigned len;
    EVP_Digest(cat, sizeof cat, out, &len, EVP_sha384(), NULL);
}

/* An isolate certificate issued (as strongbox-attestd does) from verified TDX claims. */
static X509 *issue_for(const sb_claims *c, EVP_PKEY *ca_key, X509 *ca, EVP_PKEY *iso, time_t now)
{
    sb_issue_params p = {.ca_cert = ca, .ca_key = ca_key, .subject_key = iso, .claims = c,
                         .hardware = 1, .not_before = now - 60};
    memset(p.policy_hash, 0xab, 32);
    memset(p.binding, 7, 64);
    memset(p.serial, 0x42, 16);
    X509 *cert = NULL;
    sb_err err = {0};
    CHECK(sb_attest_issue_cert(&p, &cert, &err) == 0);
    return cert;
}

/* The hole this closes: a TD that booted another kernel, initrd or command line has the same
 * MRTD (same TDVF) and a different RTMR1/RTMR2. Such a quote, correctly signed, must verify as
 * evidence but be refused by the policy check, whose accepted value is the td-launch composite. */
static void test_rtmr1_refused_by_policy(void)
{
    pck_chain p;
    make_pck(&p);
    sb_trust_anchors a = {0};
    tg_anchors_add_cert(&a, p.root);
    time_t at = tg_time("2026-01-01T00:00:00Z");
    uint8_t *good = malloc(8192), *other = malloc(8192), want[48];
    sb_claims c_good, c_other;
    sb_err err = {0};
    quote_spec s = {4, 0, 0, 6, 5, 0, 0};
    size_t n_good = build_quote(good, 8192, &s, &p);
    s.rtmr1_differs = 1;
    size_t n_other = build_quote(other, 8192, &s, &p);
    CHECK(sb_verify_tdx(good, n_good, &a, at, &c_good, &err) == 0);
    CHECK(sb_verify_tdx(other, n_other, &a, at, &c_other, &err) == 0);
    launch_by_hand(good + 48, want);
    CHECK(memcmp(c_good.measurements[0].value, want, 48) == 0);
    launch_by_hand(other + 48, want);
    CHECK(memcmp(c_other.measurements[0].value, want, 48) == 0);
    /* same MRTD, different composite */
    CHECK(memcmp(c_good.measurements[1].value, c_other.measurements[1].value, 48) == 0);
    CHECK(memcmp(c_good.measurements[0].value, c_other.measurements[0].value, 48) != 0);

    /* The policy's runtimes.platforms.tdx = [composite of the good TD], as a client loads it. */
    time_t now = time(NULL);
    EVP_PKEY *ca_key = tg_ec_key(NID_X9_62_prime256v1), *iso = tg_ec_key(NID_X9_62_prime256v1);
    X509 *ca = tg_cert("Test attestation root", ca_key, NULL, NULL, 0, 1, now - 3600,
                       now + 3600, NULL, 0);
    sb_attest_accepted acc = {.len = 48};
    snprintf(acc.platform, sizeof acc.platform, "tdx");
    memcpy(acc.measurement, c_good.measurements[0].value, 48);
    sb_attest_expect e = {.root = ca, .accepted = &acc, .n_accepted = 1, .at = now};
    memset(e.policy_hash, 0xab, 32);
    sb_attest_verdict v;
    X509 *leaf = issue_for(&c_good, ca_key, ca, iso, now);
    CHECK(sb_attest_verify_cert(leaf, NULL, &e, &v, &err) == 0 && strcmp(v.platform, "tdx") == 0);
    CHECK(strcmp(v.token.sw[0].desc, "td-launch") == 0 && v.token.sw[0].value_len == 48);
    X509_free(leaf);
    leaf = issue_for(&c_other, ca_key, ca, iso, now);
    char hex[97], needle[200];
    sb_hex_encode(c_other.measurements[0].value, 48, hex);
    snprintf(needle, sizeof needle, "measurement: runtime %s is not accepted for platform tdx", hex);
    CHECK_ERR(sb_attest_verify_cert(leaf, NULL, &e, &v, &err), err, needle);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(ca_key), EVP_PKEY_free(iso);
    free(good), free(other);
    tg_anchors_free(&a);
    free_pck(&p);
}

int main(int argc, char **argv)
{
    tg_vectors_init(argc, argv, "test_tdx");
    test_sample();
    test_synthetic();
    test_rtmr1_refused_by_policy();
    if (tg_failures)
        fprintf(stderr, "%d failures\n", tg_failures);
    return tg_failures ? 1 : 0;
}
