/* test_policy.c - policy parsing, validation (every error with its message), hashing, queries and
 * the RFC 8785 canonical form. Certificates are generated at test time with the OpenSSL API.
 *
 *   test_policy                run every test
 *   test_policy --emit N SEED  print N random doubles as "hex-bits formatted" lines for the
 *                              differential check against node's Number.prototype.toString */
#include "policy/jcs.h"
#include "policy/policy.h"

#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        checks++;                                                                                  \
        if (!g_ || strcmp(g_, w_) != 0) {                                                          \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: got  \"%s\"\n%*swant \"%s\"\n", __FILE__, __LINE__,            \
                    g_ ? g_ : "(null)", (int)strlen(__FILE__) + 7, "", w_);                        \
        }                                                                                          \
    } while (0)

static const time_t NOW = 1800000000; /* 2027-01-15T08:00:00Z: fixed, so tests never age */

/* ---- certificates made here ---- */

typedef struct cert {
    EVP_PKEY *key;
    X509 *x509;
    char *pem;
    char *key_pem;
} cert;

static char *bio_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

/* Self-signed P-256 certificate, valid from now+from to now+to seconds. */
static cert make_cert(const char *cn, long from, long to)
{
    cert c = {0};
    c.key = EVP_EC_gen("P-256");
    c.x509 = X509_new();
    X509_set_version(c.x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.x509), 1000 + (long)strlen(cn) * 7 + from % 97);
    X509_time_adj_ex(X509_getm_notBefore(c.x509), 0, from, (time_t *)&NOW);
    X509_time_adj_ex(X509_getm_notAfter(c.x509), 0, to, (time_t *)&NOW);
    X509_NAME *name = X509_get_subject_name(c.x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c.x509, name);
    X509_set_pubkey(c.x509, c.key);
    X509_sign(c.x509, c.key, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, c.x509);
    c.pem = bio_string(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, c.key, NULL, NULL, 0, NULL, NULL);
    c.key_pem = bio_string(b);
    return c;
}

static void free_cert(cert *c)
{
    EVP_PKEY_free(c->key);
    X509_free(c->x509);
    free(c->pem);
    free(c->key_pem);
}

static cert alice, bob, carol, root, expired, future;

/* ---- a valid policy, as a jansson tree to mutate ---- */

#define M_PROCESS "1111111111111111111111111111111111111111111111111111111111111111"
#define M_SNP "222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222"
#define PROG_HASH "abababababababababababababababababababababababababababababababab"

static json_t *base_policy(void)
{
    json_t *p = json_pack(
        "{s:i, s:s, s:[{s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s}}],"
        " s:[{s:s, s:s, s:{s:s, s:s}}], s:[s], s:{s:b, s:{s:[s], s:[s]}}, s:{s:s, s:s}, s:s,"
        " s:{s:i, s:I, s:i, s:I, s:i}, s:b, s:s, s:{s:{s:[s,s,s], s:i}}}",
        "version", 1, "name", "joint-regression",
        "identities",
        "name", "alice", "certificate", alice.pem, "rights", "/inputs/alice", "rw", "/outputs", "r",
        "name", "bob", "certificate", bob.pem, "rights", "/inputs/bob", "rw", "/outputs", "r",
        "name", "carol", "certificate", carol.pem, "rights", "/programs", "wx",
        "programs", "path", "/programs/train.wasm", "sha256", PROG_HASH, "rights", "/inputs", "r",
        "/outputs", "rw",
        "results", "/outputs",
        "runtimes", "allow_debug", 1, "platforms", "process", M_PROCESS, "sev-snp", M_SNP,
        "attestation", "url", "http://127.0.0.1:7443", "root_certificate", root.pem,
        "host", "127.0.0.1:7000",
        "limits", "fuel", 1000000000, "memory_bytes", (json_int_t)268435456, "run_seconds", 600,
        "fs_bytes", (json_int_t)1073741824, "output_bytes", 65536,
        "clock", 0, "expires", "2027-01-16T08:00:00Z",
        "shutdown", "quorum", "members", "alice", "bob", "carol", "count", 2);
    if (!p) {
        fprintf(stderr, "json_pack failed\n");
        exit(2);
    }
    return p;
}

/* Sets (or with value_json NULL, deletes) the member at a dotted path; array steps are numbers. */
static void set_at(json_t *doc, const char *path, const char *value_json)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = doc;
    char *save, *tok = strtok_r(buf, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)); tok = next)
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    json_t *value = value_json ? json_loads(value_json, JSON_DECODE_ANY, NULL) : NULL;
    if (value_json && !value) {
        fprintf(stderr, "bad test JSON %s\n", value_json);
        exit(2);
    }
    if (json_is_array(cur))
        json_array_set_new(cur, (size_t)atoi(tok), value);
    else if (value)
        json_object_set_new(cur, tok, value);
    else
        json_object_del(cur, tok);
}

static void set_string(json_t *doc, const char *path, const char *s)
{
    json_t *tmp = json_string(s);
    char *q = json_dumps(tmp, JSON_ENCODE_ANY);
    json_decref(tmp);
    set_at(doc, path, q);
    free(q);
}

static sb_policy *parse_doc(json_t *doc, time_t now, unsigned flags, sb_err *err)
{
    char *text = json_dumps(doc, JSON_INDENT(2));
    sb_policy *p = NULL;
    sb_policy_parse(text, strlen(text), now, flags, &p, err);
    free(text);
    return p;
}

/* Parses doc (consumed) and expects failure with exactly `msg` and `code`. */
static void expect_error_line(int line, json_t *doc, int code, const char *msg)
{
    sb_err err = {0};
    sb_policy *p = parse_doc(doc, NOW, 0, &err);
    json_decref(doc);
    checks++;
    if (p || err.code != code || strcmp(err.msg, msg) != 0) {
        failures++;
        fprintf(stderr, "%s:%d: expected error %d \"%s\"\n   got %s %d \"%s\"\n", __FILE__, line,
                code, msg, p ? "success" : "error", err.code, err.msg);
    }
    sb_policy_free(p);
}
#define EXPECT_ERROR(doc, code, msg) expect_error_line(__LINE__, doc, code, msg)

/* One mutation of the base policy, then the exact error. */
static void mutate_line(int line, const char *path, const char *value_json, const char *msg)
{
    json_t *d = base_policy();
    set_at(d, path, value_json);
    expect_error_line(line, d, SB_POLICY_E_INVALID, msg);
}
#define MUTATE(path, value, msg) mutate_line(__LINE__, path, value, msg)

static void expect_text_error_line(int line, const char *text, size_t len, const char *msg)
{
    sb_err err = {0};
    sb_policy *p = NULL;
    int rc = sb_policy_parse(text, len, NOW, 0, &p, &err);
    checks++;
    if (rc == 0 || p || err.code != SB_POLICY_E_SYNTAX || strncmp(err.msg, msg, strlen(msg)) != 0) {
        failures++;
        fprintf(stderr, "%s:%d: expected syntax error \"%s\", got %d \"%s\"\n", __FILE__, line,
                msg, err.code, err.msg);
    }
    sb_policy_free(p);
}
#define EXPECT_TEXT_ERROR(text, msg) expect_text_error_line(__LINE__, text, strlen(text), msg)

/* ---- JCS ---- */

static const struct {
    uint64_t bits;
    const char *want;
} rfc8785_numbers[] = { /* RFC 8785 Appendix B */
    {0x0000000000000000ull, "0"}, {0x8000000000000000ull, "0"},
    {0x0000000000000001ull, "5e-324"}, {0x8000000000000001ull, "-5e-324"},
    {0x7fefffffffffffffull, "1.7976931348623157e+308"},
    {0xffefffffffffffffull, "-1.7976931348623157e+308"},
    {0x4340000000000000ull, "9007199254740992"}, {0xc340000000000000ull, "-9007199254740992"},
    {0x4430000000000000ull, "295147905179352830000"},
    {0x44b52d02c7e14af5ull, "9.999999999999997e+22"}, {0x44b52d02c7e14af6ull, "1e+23"},
    {0x44b52d02c7e14af7ull, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4eull, "999999999999999700000"},
    {0x444b1ae4d6e2ef4full, "999999999999999900000"}, {0x444b1ae4d6e2ef50ull, "1e+21"},
    {0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7"}, {0x3eb0c6f7a0b5ed8dull, "0.000001"},
    {0x41b3de4355555553ull, "333333333.3333332"}, {0x41b3de4355555554ull, "333333333.33333325"},
    {0x41b3de4355555555ull, "333333333.3333333"}, {0x41b3de4355555556ull, "333333333.3333334"},
    {0x41b3de4355555557ull, "333333333.33333343"},
    {0xbecbf647612f3696ull, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959ull, "1424953923781206.2"},
};

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void test_jcs_numbers(void)
{
    char buf[40];
    for (size_t i = 0; i < sizeof rfc8785_numbers / sizeof rfc8785_numbers[0]; i++) {
        sb_jcs_format_double(from_bits(rfc8785_numbers[i].bits), buf);
        CHECK_STR(buf, rfc8785_numbers[i].want);
    }
    static const struct {
        double v;
        const char *want;
    } more[] = {
        {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1e-7, "1e-7"}, {1e-6, "0.000001"},
        {1.5e-7, "1.5e-7"}, {123e-20, "1.23e-18"}, {0.5, "0.5"}, {100, "100"}, {-1.25, "-1.25"},
        {0.1 + 0.2, "0.30000000000000004"}, {1.0 / 3, "0.3333333333333333"}, {2e-323, "2e-323"},
        {4.35, "4.35"}, {1e300 * 10, "1e+301"}, {123456789012345680000.0, "123456789012345680000"},
        {5e-324 * 3, "1.5e-323"}, {-0.0, "0"}, {1234.5678e10, "12345678000000"},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        sb_jcs_format_double(more[i].v, buf);
        CHECK_STR(buf, more[i].want);
    }
}

/* Every formatted double reads back as itself, and no shorter digit string would (checked with
 * a plain search over precisions). Random bit patterns cover subnormals and huge exponents. */
static void test_jcs_roundtrip_random(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double v = from_bits(s);
        if (!isfinite(v))
            continue;
        char buf[40], tmp[40];
        sb_jcs_format_double(v, buf);
        if (strtod(buf, NULL) != v && !(v == 0 && strcmp(buf, "0") == 0))
            bad++;
        int shortest = 17;
        for (int p = 1; p <= 17; p++) {
            snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
            if (strtod(tmp, NULL) == v) {
                shortest = p;
                break;
            }
        }
        int digits = 0;
        const char *e = strchr(buf, 'e');
        for (const char *c = buf; *c && c != e; c++)
            digits += *c >= '0' && *c <= '9';
        /* leading "0." and trailing zeros of integers are not significant digits */
        const char *sig = buf + (buf[0] == '-');
        while (*sig == '0' || *sig == '.')
            sig++, digits -= sig[-1] == '0';
        size_t len = strlen(sig);
        if (!e && !strchr(sig, '.'))
            while (len > 1 && sig[len - 1] == '0')
                len--, digits--;
        if (digits > shortest)
            bad++;
    }
    CHECK(bad == 0);
}

static char *jcs(const char *json, sb_err *err)
{
    uint8_t *out;
    size_t n;
    if (sb_policy_jcs(json, strlen(json), 64, &out, &n, err) != 0)
        return NULL;
    char *s = malloc(n + 1);
    memcpy(s, out, n);
    s[n] = '\0';
    free(out);
    return s;
}

static void check_jcs(int line, const char *in, const char *want)
{
    sb_err err = {0};
    char *got = jcs(in, &err);
    checks++;
    if (!got || strcmp(got, want) != 0) {
        failures++;
        fprintf(stderr, "%s:%d: jcs(%s)\n  got  %s\n  want %s\n", __FILE__, line, in,
                got ? got : err.msg, want);
    }
    free(got);
}
#define CHECK_JCS(in, want) check_jcs(__LINE__, in, want)

static void check_jcs_error(int line, const char *in, const char *want)
{
    sb_err err = {0};
    char *got = jcs(in, &err);
    checks++;
    if (got || err.code != SB_POLICY_E_SYNTAX || strncmp(err.msg, want, strlen(want)) != 0) {
        failures++;
        fprintf(stderr, "%s:%d: jcs(%s): want error \"%s\", got \"%s\"\n", __FILE__, line, in,
                want, got ? got : err.msg);
    }
    free(got);
}
#define CHECK_JCS_ERROR(in, want) check_jcs_error(__LINE__, in, want)

static void test_jcs_documents(void)
{
    /* RFC 8785 section 3.2.2 example */
    CHECK_JCS("{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
              "\n  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
              "  \"literals\": [null, true, false]\n}",
              "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
              "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    /* RFC 8785 section 3.2.3: keys sort by UTF-16 code units, so U+1F600 (D83D DE00) sorts
     * before U+FB33 although its code point is larger. */
    CHECK_JCS("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew\","
              "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji\",\"\\u0080\":\"Control\","
              "\"\\u00f6\":\"o\"}",
              "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":"
              "\"o\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":"
              "\"Hebrew\"}");
    /* Escapes: only the mandatory ones; DEL, U+2028 and '/' stay literal; other controls \u00xx */
    CHECK_JCS_ERROR("[\"\\u0000x\"]", "invalid JSON at line 1 column 10: \\u0000 is not allowed "
                    "without JSON_ALLOW_NUL");
    CHECK_JCS("\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\\u2028\\/\"",
              "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xe2\x80\xa8/\"");
    CHECK_JCS(" [ 1 , -0 , -0.0 , 1.0 , 1E2 , 1e21, 1e-7, 0.1, 9007199254740992, -9007199254740992 ] ",
              "[1,0,0,1,100,1e+21,1e-7,0.1,9007199254740992,-9007199254740992]");
    CHECK_JCS("{\"b\":{\"z\":[],\"a\":{}},\"a\":\"\",\"aa\":1,\"A\":2}",
              "{\"A\":2,\"a\":\"\",\"aa\":1,\"b\":{\"a\":{},\"z\":[]}}");
    CHECK_JCS("\"\xf0\x9f\x98\x80\"", "\"\xf0\x9f\x98\x80\"");
    CHECK_JCS("true", "true");
    CHECK_JCS_ERROR("[9007199254740993]", "integer 9007199254740993 is outside +/-2^53: a double "
                    "cannot hold every such integer");
    CHECK_JCS_ERROR("[-9007199254740993]", "integer -9007199254740993 is outside +/-2^53: a "
                    "double cannot hold every such integer");
    CHECK_JCS_ERROR("[9223372036854775808]", "invalid JSON at line 1 column 20: too big integer");
    CHECK_JCS_ERROR("[1e20]", "number 100000000000000000000 is outside +/-2^53 and below 1e21, "
                    "where its canonical form is an integer beyond the exact range");
    CHECK_JCS_ERROR("[-9007199254740994.0]", "number -9007199254740994 is outside +/-2^53 and "
                    "below 1e21, where its canonical form is an integer beyond the exact range");
    /* the edges: 2^53 as a real, and 1e21 (exponent form) are fine */
    CHECK_JCS("[9007199254740992.0, -9007199254740992.0, 1e21, -1e21, 1.5e300]",
              "[9007199254740992,-9007199254740992,1e+21,-1e+21,1.5e+300]");
    CHECK_JCS_ERROR("[1e400]", "invalid JSON at line 1 column 6: real number overflow");
    CHECK_JCS_ERROR("{\"a\":1,\"a\":2}",
                    "invalid JSON at line 1 column 10: duplicate object key near '\"a\"'");
    CHECK_JCS_ERROR("[1,]", "invalid JSON at line 1 column 4: unexpected token near ']'");
    CHECK_JCS_ERROR("[NaN]", "invalid JSON at line 1 column 4: invalid token near 'NaN'");
    CHECK_JCS_ERROR("", "invalid JSON at line 1 column 0: unexpected token near end of file");
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    CHECK_JCS_ERROR(deep, "nested more than 64 levels deep");
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    CHECK_JCS(deep, deep); /* 64 levels: accepted and already canonical */
    /* brackets inside strings do not count towards nesting */
    CHECK_JCS("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"]",
              "[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"]");
}

/* ---- policies ---- */

static void test_valid_policy(void)
{
    json_t *d = base_policy();
    sb_err err = {0};
    sb_policy *p = parse_doc(d, NOW, 0, &err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "  base policy: %s\n", err.msg);
        json_decref(d);
        return;
    }
    CHECK_STR(sb_policy_name(p), "joint-regression");
    CHECK(strlen(sb_policy_hash_hex(p)) == 64);
    CHECK(sb_policy_identity_count(p) == 3);
    const sb_policy_identity *a = sb_policy_find_identity(p, "alice");
    const sb_policy_identity *b = sb_policy_find_identity(p, "bob");
    const sb_policy_identity *c = sb_policy_find_identity(p, "carol");
    CHECK(a && b && c && a->index == 0 && c->index == 2);
    CHECK(sb_policy_find_identity(p, "mallory") == NULL);
    CHECK(sb_policy_find_identity_by_cert(p, bob.x509) == b);
    CHECK(sb_policy_find_identity_by_cert(p, root.x509) == NULL);
    CHECK(sb_policy_find_identity_by_der(p, a->cert_der, a->cert_der_len) == a);
    CHECK(sb_policy_identity_at(p, 3) == NULL);
    /* rights: prefixes on whole components, union of grants */
    CHECK(sb_policy_rights(a, "/inputs/alice") == (SB_RIGHT_READ | SB_RIGHT_WRITE));
    CHECK(sb_policy_rights(a, "/inputs/alice/data.csv") == (SB_RIGHT_READ | SB_RIGHT_WRITE));
    CHECK(sb_policy_rights(a, "/inputs/alicex") == 0);
    CHECK(sb_policy_rights(a, "/inputs/bob/data.csv") == 0);
    CHECK(sb_policy_rights(a, "/inputs") == 0);
    CHECK(sb_policy_rights(a, "/outputs/model.txt") == SB_RIGHT_READ);
    CHECK(sb_policy_rights(a, "/outputs/../inputs/bob") == 0); /* not normalised: no rights */
    CHECK(sb_policy_rights(a, "outputs/x") == 0);
    CHECK(sb_policy_rights(c, "/programs/train.wasm") == (SB_RIGHT_WRITE | SB_RIGHT_EXEC));
    CHECK(a->n_grants == 2 && strcmp(a->grants[0].prefix, "/inputs/alice") == 0 &&
          strcmp(a->grants[1].prefix, "/outputs") == 0);
    CHECK(sb_policy_path_covers("/", "/x") && sb_policy_path_covers("/a", "/a/b") &&
          !sb_policy_path_covers("/a", "/ab") && sb_policy_path_covers("/a", "/a"));
    CHECK(sb_policy_path_valid("/") && sb_policy_path_valid("/a b/c") &&
          !sb_policy_path_valid("/a/") && !sb_policy_path_valid("/a//b") &&
          !sb_policy_path_valid("/a/./b") && !sb_policy_path_valid("") &&
          !sb_policy_path_valid(NULL));
    /* programs */
    CHECK(sb_policy_program_count(p) == 1);
    const sb_policy_program *pr = sb_policy_find_program(p, "/programs/train.wasm");
    CHECK(pr && pr->sha256[0] == 0xab && pr->n_grants == 2);
    CHECK(pr && sb_policy_grants_rights(pr->grants, pr->n_grants, "/inputs/bob/x") == SB_RIGHT_READ);
    CHECK(pr && sb_policy_grants_rights(pr->grants, pr->n_grants, "/outputs/y") ==
                    (SB_RIGHT_READ | SB_RIGHT_WRITE));
    CHECK(sb_policy_find_program(p, "/programs/other.wasm") == NULL);
    uint8_t h[32];
    memset(h, 0xab, 32);
    sb_err e = {0};
    CHECK(sb_policy_may_run(p, c, "/programs/train.wasm", h, &e));
    CHECK(!sb_policy_may_run(p, a, "/programs/train.wasm", h, &e));
    CHECK_STR(e.msg, "alice may not run /programs/train.wasm");
    h[31] = 0;
    CHECK(!sb_policy_may_run(p, c, "/programs/train.wasm", h, &e));
    CHECK_STR(e.msg, "/programs/train.wasm does not have the SHA-256 the policy names");
    CHECK(!sb_policy_may_run(p, c, "/programs/x.wasm", h, &e));
    CHECK_STR(e.msg, "/programs/x.wasm is not a program of the policy");
    /* runtimes */
    uint8_t mp[32], ms[48];
    memset(mp, 0x11, 32);
    memset(ms, 0x22, 48);
    CHECK(sb_policy_allow_debug(p));
    CHECK(sb_policy_runtime_count(p) == 2);
    CHECK(sb_policy_accepts(p, "process", mp, 32, false, &e));
    CHECK(sb_policy_accepts(p, "sev-snp", ms, 48, false, &e));
    CHECK(sb_policy_accepts(p, "sev-snp", ms, 48, true, &e)); /* debug allowed by this policy */
    CHECK(!sb_policy_accepts(p, "sev-snp", ms, 32, false, &e));
    CHECK_STR(e.msg, "sev-snp measurement 2222222222222222... (32 bytes) is not one the policy accepts");
    CHECK(!sb_policy_accepts(p, "tdx", ms, 48, false, &e));
    CHECK_STR(e.msg, "platform tdx is not accepted by the policy");
    CHECK(sb_policy_platform_insecure("process") && !sb_policy_platform_insecure("sev-snp"));
    CHECK(sb_policy_find_runtime(p, "sev-snp")->measurements[0].len == 48);
    /* attestation, host, limits, clock, expiry */
    CHECK_STR(sb_policy_attestation_url(p), "http://127.0.0.1:7443");
    CHECK(X509_cmp(sb_policy_attestation_root(p), root.x509) == 0);
    CHECK_STR(sb_policy_attestation_root_pem(p), root.pem);
    CHECK_STR(sb_policy_host(p), "127.0.0.1:7000");
    const sb_policy_limits *l = sb_policy_limits_of(p);
    CHECK(l->fuel == 1000000000 && l->memory_bytes == 268435456 && l->run_seconds == 600 &&
          l->fs_bytes == 1073741824 && l->output_bytes == 65536);
    CHECK(!sb_policy_clock(p));
    CHECK(sb_policy_expires(p) == NOW + 86400);
    CHECK(!sb_policy_expired(p, NOW) && sb_policy_expired(p, NOW + 86400));
    /* results, readers, quorum */
    size_t n;
    const char *const *res = sb_policy_results(p, &n);
    CHECK(n == 1 && strcmp(res[0], "/outputs") == 0);
    CHECK(sb_policy_result_reader_count(p) == 2 && sb_policy_result_reader_at(p, 0) == a &&
          sb_policy_result_reader_at(p, 1) == b && sb_policy_result_reader_at(p, 2) == NULL);
    CHECK(a->result_reader && b->result_reader && !c->result_reader);
    CHECK(sb_policy_is_result_for(p, a, "/outputs/model.txt"));
    CHECK(!sb_policy_is_result_for(p, c, "/outputs/model.txt"));
    CHECK(!sb_policy_is_result_for(p, a, "/inputs/alice/x"));
    const sb_policy_identity *const *members;
    size_t count;
    CHECK(sb_policy_quorum(p, &members, &count) == 3 && count == 2 && members[2] == c);
    sb_policy_free(p);
    json_decref(d);
}

static void test_may_end(void)
{
    json_t *d = base_policy();
    sb_policy *p = parse_doc(d, NOW, 0, NULL);
    json_decref(d);
    CHECK(p != NULL);
    if (!p)
        return;
    bool voted[3] = {0}, read_all[3] = {0};
    CHECK(sb_policy_may_end(p, voted, read_all, NOW) == SB_POLICY_END_NO);
    CHECK(sb_policy_may_end(p, NULL, NULL, NOW) == SB_POLICY_END_NO);
    CHECK(sb_policy_may_end(p, voted, read_all, NOW + 86400) == SB_POLICY_END_EXPIRED);
    voted[0] = true; /* alice alone: no */
    read_all[0] = true;
    CHECK(sb_policy_may_end(p, voted, read_all, NOW) == SB_POLICY_END_NO);
    voted[1] = true; /* alice + bob voted: the quorum of 2 */
    CHECK(sb_policy_may_end(p, voted, read_all, NOW) == SB_POLICY_END_QUORUM);
    sb_policy_free(p);

    /* without a quorum: every reader must have read and voted; carol (no reader) does not matter */
    d = base_policy();
    set_at(d, "shutdown", "{}");
    p = parse_doc(d, NOW, 0, NULL);
    json_decref(d);
    CHECK(p != NULL);
    if (!p)
        return;
    bool v2[3] = {true, true, false}, r2[3] = {true, false, false};
    CHECK(sb_policy_may_end(p, v2, r2, NOW) == SB_POLICY_END_NO); /* bob has not read */
    r2[1] = true;
    CHECK(sb_policy_may_end(p, v2, r2, NOW) == SB_POLICY_END_READERS);
    v2[0] = false;
    CHECK(sb_policy_may_end(p, v2, r2, NOW) == SB_POLICY_END_NO); /* alice has not voted */
    const sb_policy_identity *const *members;
    size_t count;
    CHECK(sb_policy_quorum(p, &members, &count) == 0 && count == 0);
    sb_policy_free(p);
}

/* Hash: whitespace and member order do not change it; any semantic change does. */
static void test_hash(void)
{
    json_t *d = base_policy();
    char *compact = json_dumps(d, JSON_COMPACT);
    char *indented = json_dumps(d, JSON_INDENT(7) | JSON_SORT_KEYS);
    sb_policy *p1 = NULL, *p2 = NULL, *p3 = NULL;
    CHECK(sb_policy_parse(compact, strlen(compact), NOW, 0, &p1, NULL) == 0);
    CHECK(sb_policy_parse(indented, strlen(indented), NOW, 0, &p2, NULL) == 0);
    /* reverse the top-level member order by rebuilding the object */
    json_t *rev = json_object();
    const char *keys[32];
    size_t nk = 0;
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v) keys[nk++] = k;
    while (nk--)
        json_object_set(rev, keys[nk], json_object_get(d, keys[nk]));
    char *reversed = json_dumps(rev, 0);
    CHECK(sb_policy_parse(reversed, strlen(reversed), NOW, 0, &p3, NULL) == 0);
    if (p1 && p2 && p3) {
        CHECK_STR(sb_policy_hash_hex(p1), sb_policy_hash_hex(p2));
        CHECK_STR(sb_policy_hash_hex(p1), sb_policy_hash_hex(p3));
        /* the hash is SHA-256 of the canonical bytes, and those are a fixed point of JCS */
        size_t clen;
        const uint8_t *canon = sb_policy_canonical(p1, &clen);
        uint8_t digest[32];
        EVP_Digest(canon, clen, digest, NULL, EVP_sha256(), NULL);
        CHECK(memcmp(digest, sb_policy_hash(p1), 32) == 0);
        uint8_t *again;
        size_t alen;
        CHECK(sb_policy_jcs(canon, clen, 64, &again, &alen, NULL) == 0 && alen == clen &&
              memcmp(again, canon, clen) == 0);
        free(again);
        CHECK(canon[0] == '{' && memcmp(canon, "{\"attestation\":{", 16) == 0);
        /* round trip: the canonical form is itself the same policy, with the same hash */
        sb_policy *pc = NULL;
        CHECK(sb_policy_parse(canon, clen, NOW, 0, &pc, NULL) == 0);
        if (pc)
            CHECK_STR(sb_policy_hash_hex(pc), sb_policy_hash_hex(p1));
        sb_policy_free(pc);
    }
    /* semantic changes: a right, a limit, a string escape that changes the value */
    static const struct {
        const char *path, *value;
    } changes[] = {
        {"identities.0.rights./outputs", "\"rw\""}, {"limits.fuel", "1000000001"},
        {"name", "\"joint-regression \""},          {"clock", "true"},
        {"runtimes.platforms.process",
         "[\"" M_PROCESS "\",\"0000000000000000000000000000000000000000000000000000000000000000\"]"},
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        json_t *m = base_policy();
        set_at(m, changes[i].path, changes[i].value);
        sb_err err = {0};
        sb_policy *pm = parse_doc(m, NOW, 0, &err);
        CHECK(pm != NULL);
        if (pm && p1)
            CHECK(strcmp(sb_policy_hash_hex(pm), sb_policy_hash_hex(p1)) != 0);
        sb_policy_free(pm);
        json_decref(m);
    }
    sb_policy_free(p1);
    sb_policy_free(p2);
    sb_policy_free(p3);
    free(compact);
    free(indented);
    free(reversed);
    json_decref(rev);
    json_decref(d);
}

/* A hand-checked hash: a small document whose canonical form and SHA-256 are written out. */
static void test_hash_by_hand(void)
{
    const char *in = "{ \"b\": [1.50, \"\\u00e9\"], \"a\": {\"y\": true, \"x\": null} }";
    const char *want = "{\"a\":{\"x\":null,\"y\":true},\"b\":[1.5,\"\xc3\xa9\"]}";
    CHECK_JCS(in, want);
    uint8_t digest[32];
    char hex[65];
    EVP_Digest(want, strlen(want), digest, NULL, EVP_sha256(), NULL);
    sb_hex_encode(digest, 32, hex);
    /* printf '{"a":{"x":null,"y":true},"b":[1.5,"é"]}' | sha256sum */
    CHECK_STR(hex, "89c1776da3d3598a7abae17206ac4d2edcafc798c660c29f18b915c5b247ad03");
}

static void test_time_rules(void)
{
    json_t *d;
    sb_err err = {0};
    /* expiry in the past / exactly now */
    d = base_policy();
    set_at(d, "expires", "\"2027-01-15T08:00:00Z\"");
    EXPECT_ERROR(d, SB_POLICY_E_EXPIRED,
                 "policy.expires: the policy expired at 2027-01-15T08:00:00Z (now 2027-01-15T08:00:00Z)");
    /* skipped on request (showing or hashing an old policy) */
    d = base_policy();
    set_at(d, "expires", "\"2020-01-01T00:00:00Z\"");
    sb_policy *p = parse_doc(d, NOW, SB_POLICY_SKIP_TIME_CHECKS, &err);
    CHECK(p && sb_policy_expired(p, NOW));
    sb_policy_free(p);
    json_decref(d);
    /* certificates: expired, not yet valid */
    d = base_policy();
    set_string(d, "identities.1.certificate", expired.pem);
    char want[256], nb[32];
    sb_time_format(NOW - 3600, nb, sizeof nb);
    snprintf(want, sizeof want,
             "policy.identities[1].certificate: certificate expired at %s (now 2027-01-15T08:00:00Z)", nb);
    EXPECT_ERROR(d, SB_POLICY_E_EXPIRED, want);
    d = base_policy();
    set_string(d, "attestation.root_certificate", future.pem);
    sb_time_format(NOW + 3600, nb, sizeof nb);
    snprintf(want, sizeof want, "policy.attestation.root_certificate: certificate not valid before "
             "%s (now 2027-01-15T08:00:00Z)", nb);
    EXPECT_ERROR(d, SB_POLICY_E_EXPIRED, want);
    /* and the same policy is fine as of a time when the certificate was valid */
    d = base_policy();
    set_string(d, "identities.1.certificate", expired.pem);
    p = parse_doc(d, NOW - 7200, 0, &err);
    CHECK(p != NULL);
    sb_policy_free(p);
    json_decref(d);
}

static void test_certificate_errors(void)
{
    json_t *d = base_policy();
    set_string(d, "identities.0.certificate", alice.key_pem);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[0].certificate: contains a private "
                 "key; never put a private key in a policy, only the certificate");
    /* a key pasted together with the certificate */
    char both[8192];
    snprintf(both, sizeof both, "%s%s", alice.pem, alice.key_pem);
    d = base_policy();
    set_string(d, "identities.0.certificate", both);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[0].certificate: contains a private "
                 "key; never put a private key in a policy, only the certificate");
    d = base_policy();
    set_string(d, "attestation.root_certificate", root.key_pem);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.attestation.root_certificate: contains a private "
                 "key; never put a private key in a policy, only the certificate");
    snprintf(both, sizeof both, "%s%s", alice.pem, bob.pem);
    d = base_policy();
    set_string(d, "identities.0.certificate", both);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[0].certificate: more than one PEM "
                 "block; give exactly one certificate");
    MUTATE("identities.0.certificate", "\"MIIB...\"", "policy.identities[0].certificate: not a "
           "PEM certificate (no BEGIN CERTIFICATE line)");
    /* damage the base64 body */
    snprintf(both, sizeof both, "%s", alice.pem);
    char *body = strchr(both, '\n') + 1;
    memcpy(body + 10, "!!!!", 4);
    d = base_policy();
    set_string(d, "identities.0.certificate", both);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[0].certificate: unparsable certificate");
    d = base_policy();
    set_string(d, "identities.1.certificate", alice.pem);
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[1].certificate: same certificate as "
                 "identities[0] (\"alice\")");
}

/* Keys with dots cannot go through set_at's dotted paths. */
static void set_right_error(int line, const char *key, const char *msg)
{
    json_t *d = base_policy();
    json_object_set_new(json_object_get(json_array_get(json_object_get(d, "identities"), 0),
                                        "rights"), key, json_string("r"));
    expect_error_line(line, d, SB_POLICY_E_INVALID, msg);
}

static void test_structure_errors(void)
{
    /* top level */
    sb_err err = {0};
    sb_policy *p = NULL;
    CHECK(sb_policy_parse("[]", 2, NOW, 0, &p, &err) == -1 && !p);
    CHECK_STR(err.msg, "policy: expected an object");
    MUTATE("extra", "1", "policy: unknown field \"extra\"");
    MUTATE("version", NULL, "policy: missing field \"version\"");
    MUTATE("version", "\"1\"", "policy.version: expected an integer");
    MUTATE("version", "2", "policy.version: unsupported format version 2 (this build reads version 1)");
    MUTATE("name", "\"\"", "policy.name: expected 1-128 printable characters");
    MUTATE("name", "\"a\\nb\"", "policy.name: expected 1-128 printable characters");
    MUTATE("clock", "1", "policy.clock: expected true or false");
    MUTATE("shutdown", NULL, "policy: missing field \"shutdown\"");
    /* identities */
    MUTATE("identities", "[]", "policy.identities: needs at least 1 identities");
    MUTATE("identities", "{}", "policy.identities: expected an array");
    MUTATE("identities.0", "\"alice\"", "policy.identities[0]: expected an object");
    MUTATE("identities.0.role", "\"reader\"", "policy.identities[0]: unknown field \"role\"");
    MUTATE("identities.0.rights", NULL, "policy.identities[0]: missing field \"rights\"");
    MUTATE("identities.0.rights", "[]", "policy.identities[0].rights: expected an object");
    MUTATE("identities.0.name", "7", "policy.identities[0].name: expected a string");
    MUTATE("identities.1.name", "\"alice\"",
           "policy.identities[1].name: duplicate identity name \"alice\" (also identities[0])");
    MUTATE("identities.1.name", "\"-bob\"", "policy.identities[1].name: identity names are 1-64 "
           "of A-Z a-z 0-9 . _ - starting with a letter or digit");
    MUTATE("identities.1.name", "\"bob smith\"", "policy.identities[1].name: identity names are "
           "1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit");
    /* rights */
    MUTATE("identities.0.rights./inputs//a", "\"r\"",
           "policy.identities[0].rights[\"/inputs//a\"]: malformed path: empty component ('//')");
    MUTATE("identities.0.rights.inputs", "\"r\"",
           "policy.identities[0].rights[\"inputs\"]: malformed path: must start with '/'");
    MUTATE("identities.0.rights./inputs/", "\"r\"",
           "policy.identities[0].rights[\"/inputs/\"]: malformed path: must not end with '/'");
    set_right_error(__LINE__, "/a/../b", "policy.identities[0].rights[\"/a/../b\"]: malformed "
                    "path: '.' and '..' components are not allowed");
    set_right_error(__LINE__, "/a/.", "policy.identities[0].rights[\"/a/.\"]: malformed path: "
                    "'.' and '..' components are not allowed");
    set_right_error(__LINE__, "/a\tb", "policy.identities[0].rights[\"/a\tb\"]: malformed path: "
                    "control characters and '\\' are not allowed");
    MUTATE("identities.0.rights./a\\b", "\"r\"", "policy.identities[0].rights[\"/a\\b\"]: "
           "malformed path: control characters and '\\' are not allowed");
    MUTATE("identities.0.rights./outputs", "\"wr\"", "policy.identities[0].rights[\"/outputs\"]: "
           "rights must be some of the letters \"rwx\", in that order (e.g. \"rw\")");
    MUTATE("identities.0.rights./outputs", "\"\"", "policy.identities[0].rights[\"/outputs\"]: "
           "rights must be some of the letters \"rwx\", in that order (e.g. \"rw\")");
    MUTATE("identities.0.rights./outputs", "\"read\"", "policy.identities[0].rights[\"/outputs\"]: "
           "rights must be some of the letters \"rwx\", in that order (e.g. \"rw\")");
    MUTATE("identities.0.rights./outputs", "[\"r\"]", "policy.identities[0].rights[\"/outputs\"]: "
           "rights must be some of the letters \"rwx\", in that order (e.g. \"rw\")");
    /* a path longer than 1024 bytes, and a component longer than 255 */
    {
        char longp[1100] = "";
        for (int i = 0; i < 11; i++)
            strcat(longp, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaa");
        json_t *d = base_policy();
        json_object_set_new(json_object_get(json_array_get(json_object_get(d, "identities"), 0),
                                            "rights"), longp, json_string("r"));
        char want[512];
        snprintf(want, sizeof want, "policy.identities[0].rights[\"%.60s...\"]: malformed path: "
                 "longer than 1024 bytes", longp);
        EXPECT_ERROR(d, SB_POLICY_E_INVALID, want);
        char comp[300] = "/";
        memset(comp + 1, 'b', 256);
        comp[257] = '\0';
        d = base_policy();
        json_object_set_new(json_object_get(json_array_get(json_object_get(d, "identities"), 0),
                                            "rights"), comp, json_string("r"));
        snprintf(want, sizeof want, "policy.identities[0].rights[\"%.60s...\"]: malformed path: "
                 "a component is longer than 255 bytes", comp);
        EXPECT_ERROR(d, SB_POLICY_E_INVALID, want);
    }
    /* programs */
    MUTATE("programs", "[]", "policy.programs: needs at least 1 programs");
    MUTATE("programs.0.sha256", NULL, "policy.programs[0]: missing field \"sha256\"");
    MUTATE("programs.0.sha256", "\"abab\"", "policy.programs[0].sha256: expected 64 lower-case "
           "hex digits (SHA-256), got 4 characters");
    MUTATE("programs.0.sha256", "\"" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" "\"",
           "policy.programs[0].sha256: expected 64 lower-case hex digits (SHA-256), got 64 "
           "characters with a non-hex or upper-case digit");
    MUTATE("programs.0.path", "\"/\"", "policy.programs[0].path: a program path must name a file, "
           "not \"/\"");
    MUTATE("programs.0.path", "\"programs/t.wasm\"",
           "policy.programs[0].path: malformed path: must start with '/'");
    MUTATE("programs.0.rights./outputs", "\"rwx\"", "policy.programs[0].rights[\"/outputs\"]: "
           "rights must be some of the letters \"rw\", in that order (e.g. \"rw\")");
    MUTATE("programs.0.entry", "\"_start\"", "policy.programs[0]: unknown field \"entry\"");
    {
        json_t *d = base_policy();
        json_array_append(json_object_get(d, "programs"),
                          json_array_get(json_object_get(d, "programs"), 0));
        EXPECT_ERROR(d, SB_POLICY_E_INVALID,
                     "policy.programs[1].path: duplicate program path (also programs[0])");
    }
    MUTATE("identities.2.rights./programs", "\"x\"",
           "policy.programs[0].path: no identity may write (upload) this program");
    MUTATE("identities.2.rights./programs", "\"w\"",
           "policy.programs[0].path: no identity may run this program (needs \"x\")");
    /* results */
    MUTATE("results", "[]", "policy.results: needs at least 1 result paths");
    MUTATE("results", "[\"/outputs\", \"/outputs/a\"]",
           "policy.results[1]: \"/outputs/a\" overlaps results[0] \"/outputs\"");
    MUTATE("results", "[\"/outputs\", 3]", "policy.results[1]: expected a string");
    MUTATE("results", "[\"/out puts/\"]", "policy.results[0]: malformed path: must not end with '/'");
    MUTATE("results", "[\"/elsewhere\"]", "policy.results: no identity may read the results (a "
           "policy needs at least one result reader)");
    /* runtimes */
    MUTATE("runtimes.allow_debug", "false", "policy.runtimes.platforms.process: the process "
           "platform is insecure; accept it only with runtimes.allow_debug = true");
    MUTATE("runtimes.platforms", "{}", "policy.runtimes.platforms: needs at least 1 platforms");
    MUTATE("runtimes.platforms.sgx", "[\"00\"]", "policy.runtimes.platforms.sgx: unknown platform "
           "(known: process, kvm, sev-snp, tdx, cca, nitro, psa)");
    MUTATE("runtimes.platforms.tdx", "[]", "policy.runtimes.platforms.tdx: needs at least 1 measurements");
    MUTATE("runtimes.platforms.tdx", "\"ab\"", "policy.runtimes.platforms.tdx: expected an array of measurements");
    MUTATE("runtimes.platforms.tdx", "[\"" M_PROCESS "\"]", "policy.runtimes.platforms.tdx[0]: "
           "expected 96 lower-case hex digits for tdx, got 64 characters");
    MUTATE("runtimes.platforms.cca", "[\"abc\"]", "policy.runtimes.platforms.cca[0]: expected 64 "
           "or 96 or 128 lower-case hex digits for cca, got 3 characters");
    MUTATE("runtimes.platforms.process", "[\"" M_PROCESS "\", \"" M_PROCESS "\"]",
           "policy.runtimes.platforms.process[1]: duplicate measurement (also [0])");
    MUTATE("runtimes.platforms.process", "[\"111111111111111111111111111111111111111111111111111111111111111G\"]",
           "policy.runtimes.platforms.process[0]: expected 64 lower-case hex digits for process, "
           "got 64 characters (not all lower-case hex)");
    MUTATE("runtimes.platforms.process", "[1]", "policy.runtimes.platforms.process[0]: expected a string");
    MUTATE("runtimes.debug", "true", "policy.runtimes: unknown field \"debug\"");
    /* attestation, host */
    MUTATE("attestation.url", "\"ftp://x\"", "policy.attestation.url: must start with http:// or https://");
    MUTATE("attestation.url", "\"https://\"", "policy.attestation.url: no host name");
    MUTATE("attestation.url", "\"http://a b\"", "policy.attestation.url: spaces, control and "
           "non-ASCII characters are not allowed");
    MUTATE("attestation.root_certificate", NULL, "policy.attestation: missing field \"root_certificate\"");
    MUTATE("host", "\"127.0.0.1\"", "policy.host: missing :port");
    MUTATE("host", "\"127.0.0.1:0\"", "policy.host: port must be a number from 1 to 65535");
    MUTATE("host", "\"127.0.0.1:65536\"", "policy.host: port must be a number from 1 to 65535");
    MUTATE("host", "\"bad_host:80\"", "policy.host: host must be a name or IPv4 address "
           "(letters, digits, '.', '-')");
    MUTATE("host", "\"[::1\"", "policy.host: malformed [IPv6] address");
    /* limits */
    MUTATE("limits.fuel", "0", "policy.limits.fuel: 0 is out of range (1 to 9007199254740992)");
    MUTATE("limits.memory_bytes", "1000", "policy.limits.memory_bytes: 1000 is out of range "
           "(65536 to 4294967296)");
    MUTATE("limits.memory_bytes", "4294967297", "policy.limits.memory_bytes: 4294967297 is out of "
           "range (65536 to 4294967296)");
    MUTATE("limits.run_seconds", "-5", "policy.limits.run_seconds: -5 is out of range (1 to 604800)");
    MUTATE("limits.fs_bytes", "68719476737", "policy.limits.fs_bytes: 68719476737 is out of range "
           "(1 to 68719476736)");
    MUTATE("limits.output_bytes", "1.5", "policy.limits.output_bytes: expected an integer");
    MUTATE("limits.output_bytes", NULL, "policy.limits: missing field \"output_bytes\"");
    MUTATE("limits.cpu", "1", "policy.limits: unknown field \"cpu\"");
    MUTATE("limits.engine", "\"jit\"", "policy.limits.engine: expected \"interpreter\" or "
           "\"compiled\", not \"jit\"");
    MUTATE("limits.engine", "\"Compiled\"", "policy.limits.engine: expected \"interpreter\" or "
           "\"compiled\", not \"Compiled\"");
    MUTATE("limits.engine", "1", "policy.limits.engine: expected a string");
    MUTATE("limits.engine", "null", "policy.limits.engine: expected a string");
    /* expiry format */
    MUTATE("expires", "\"2027-01-16 08:00:00Z\"", "policy.expires: expected an RFC 3339 UTC time "
           "like 2026-01-31T12:00:00Z");
    MUTATE("expires", "\"2027-01-16T08:00:00+00:00\"", "policy.expires: expected an RFC 3339 UTC "
           "time like 2026-01-31T12:00:00Z");
    MUTATE("expires", "\"2027-02-30T08:00:00Z\"", "policy.expires: expected an RFC 3339 UTC time "
           "like 2026-01-31T12:00:00Z");
    /* shutdown */
    MUTATE("shutdown.quorum.count", "1", "policy.shutdown.quorum.count: a quorum of 1 would let a "
           "single party end the computation for everyone; use at least 2");
    MUTATE("shutdown.quorum.count", "4", "policy.shutdown.quorum.count: must be from 1 to the "
           "number of members (3)");
    MUTATE("shutdown.quorum.members", "[\"alice\", \"alice\"]",
           "policy.shutdown.quorum.members[1]: \"alice\" is listed twice");
    MUTATE("shutdown.quorum.members", "[\"alice\", \"mallory\"]",
           "policy.shutdown.quorum.members[1]: expected the name of an identity");
    MUTATE("shutdown.quorum.members", "[]",
           "policy.shutdown.quorum.members: needs at least 1 members (one per identity)");
    MUTATE("shutdown.vote", "true", "policy.shutdown: unknown field \"vote\"");
    /* shutdown.keep_sealed: paths inside result areas, at least one, none overlapping */
    MUTATE("shutdown.keep_sealed", "[]", "policy.shutdown.keep_sealed: needs at least 1 path "
           "(leave the field out to keep nothing)");
    MUTATE("shutdown.keep_sealed", "true", "policy.shutdown.keep_sealed: expected an array");
    MUTATE("shutdown.keep_sealed", "[1]", "policy.shutdown.keep_sealed[0]: expected a string");
    MUTATE("shutdown.keep_sealed", "[\"outputs\"]",
           "policy.shutdown.keep_sealed[0]: malformed path: must start with '/'");
    MUTATE("shutdown.keep_sealed", "[\"/inputs/alice\"]", "policy.shutdown.keep_sealed[0]: "
           "\"/inputs/alice\" is not inside a result area (only results are kept)");
    MUTATE("shutdown.keep_sealed", "[\"/\"]", "policy.shutdown.keep_sealed[0]: \"/\" is not "
           "inside a result area (only results are kept)");
    MUTATE("shutdown.keep_sealed", "[\"/outputs/a\", \"/outputs\"]",
           "policy.shutdown.keep_sealed[1]: \"/outputs\" overlaps keep_sealed[0] \"/outputs/a\"");
    MUTATE("shutdown.keep_sealed", "[\"/outputs\", \"/outputs\"]",
           "policy.shutdown.keep_sealed[1]: \"/outputs\" overlaps keep_sealed[0] \"/outputs\"");
    MUTATE("shutdown.keep_sealed", "[\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\","
           "\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\",\"/o\"]",
           "policy.shutdown.keep_sealed: more than 16 paths");
}

/* shutdown.keep_sealed: which files the host may keep sealed after the end; it changes the hash. */
static void test_keep_sealed(void)
{
    json_t *d = base_policy();
    sb_policy *p = parse_doc(d, NOW, 0, NULL);
    size_t n = 99;
    uint8_t without[32];
    CHECK(p && sb_policy_keep_sealed(p, &n) == NULL && n == 0 &&
          !sb_policy_keeps_sealed(p, "/outputs/model.json"));
    if (p)
        memcpy(without, sb_policy_hash(p), 32);
    sb_policy_free(p);
    set_at(d, "shutdown.keep_sealed", "[\"/outputs/models\"]");
    p = parse_doc(d, NOW, 0, NULL);
    json_decref(d);
    CHECK(p != NULL);
    if (!p)
        return;
    const char *const *k = sb_policy_keep_sealed(p, &n);
    CHECK(n == 1 && strcmp(k[0], "/outputs/models") == 0);
    CHECK(sb_policy_keeps_sealed(p, "/outputs/models") && sb_policy_keeps_sealed(p, "/outputs/models/a"));
    CHECK(!sb_policy_keeps_sealed(p, "/outputs/modelsx") && !sb_policy_keeps_sealed(p, "/outputs/x"));
    CHECK(sb_policy_in_results(p, "/outputs/x") && !sb_policy_in_results(p, "/inputs/alice"));
    CHECK(memcmp(without, sb_policy_hash(p), 32) != 0);
    sb_policy_free(p);
}

/* An array of n copies of `item` (JSON text). */
static char *repeated(const char *item, size_t n)
{
    size_t len = strlen(item);
    char *s = malloc(n * (len + 1) + 3), *p = s;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(p, item, len);
        p += len;
        *p++ = i + 1 < n ? ',' : ']';
    }
    *p = '\0';
    return s;
}

static void test_count_caps(void)
{
    char *arr = repeated("{}", 257);
    MUTATE("identities", arr, "policy.identities: more than 256 identities");
    free(arr);
    arr = repeated("{}", 65);
    MUTATE("programs", arr, "policy.programs: more than 64 programs");
    free(arr);
    arr = repeated("\"" M_PROCESS "\"", 65);
    MUTATE("runtimes.platforms.process", arr,
           "policy.runtimes.platforms.process: more than 64 measurements");
    free(arr);
    char results[17 * 8 + 4] = "[", *p = results + 1;
    for (int i = 0; i < 17; i++)
        p += sprintf(p, "%s\"/r%d\"", i ? "," : "", i);
    strcpy(p, "]");
    MUTATE("results", results, "policy.results: more than 16 result paths");
    json_t *d = base_policy();
    json_t *rights = json_object_get(json_array_get(json_object_get(d, "identities"), 0), "rights");
    for (int i = 0; i < 63; i++) {
        char key[16];
        snprintf(key, sizeof key, "/extra/%d", i);
        json_object_set_new(rights, key, json_string("r"));
    }
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.identities[0].rights: more than 64 paths");
    MUTATE("shutdown.quorum.members", "[\"alice\", \"bob\", \"carol\", \"alice\"]",
           "policy.shutdown.quorum.members: more than 3 members (one per identity)");
}

/* "args": a program entry may fix its arguments; sb_policy_run_args enforces them. */
static void test_program_args(void)
{
    json_t *d = base_policy();
    sb_err err = {0};
    sb_policy *p = parse_doc(d, NOW, 0, &err);
    const sb_policy_program *pr = p ? sb_policy_program_at(p, 0) : NULL;
    const char *const *use;
    size_t n_use;
    const char *const req[] = {"--min-group", "5"}, *const other[] = {"--min-group", "1"};
    /* no "args": whatever the request says */
    CHECK(pr && !pr->has_args && pr->n_args == 0);
    CHECK(pr && sb_policy_run_args(pr, req, 2, &use, &n_use, &err) == 0 && use == req && n_use == 2);
    CHECK(pr && sb_policy_run_args(pr, NULL, 0, &use, &n_use, &err) == 0 && n_use == 0);
    const char *hash_without = p ? sb_policy_hash_hex(p) : "";
    char without[65];
    snprintf(without, sizeof without, "%s", hash_without);
    sb_policy_free(p);
    /* fixed arguments: none or exactly these */
    set_at(d, "programs.0.args", "[\"--min-group\", \"5\"]");
    p = parse_doc(d, NOW, 0, &err);
    pr = p ? sb_policy_program_at(p, 0) : NULL;
    CHECK(pr && pr->has_args && pr->n_args == 2 && strcmp(pr->args[1], "5") == 0);
    CHECK(p && strcmp(sb_policy_hash_hex(p), without) != 0); /* the arguments are in the hash */
    CHECK(pr && sb_policy_run_args(pr, NULL, 0, &use, &n_use, &err) == 0 && n_use == 2 &&
          strcmp(use[0], "--min-group") == 0);
    CHECK(pr && sb_policy_run_args(pr, req, 2, &use, &n_use, &err) == 0 && use == pr->args);
    CHECK(pr && sb_policy_run_args(pr, other, 2, &use, &n_use, &err) == -1);
    CHECK_STR(err.msg, "the policy fixes the arguments of /programs/train.wasm (2); a run request "
              "may repeat them exactly or give none");
    CHECK(pr && sb_policy_run_args(pr, req, 1, &use, &n_use, &err) == -1);
    sb_policy_free(p);
    /* fixed to no arguments at all */
    set_at(d, "programs.0.args", "[]");
    p = parse_doc(d, NOW, 0, &err);
    pr = p ? sb_policy_program_at(p, 0) : NULL;
    CHECK(pr && pr->has_args && pr->n_args == 0);
    CHECK(pr && sb_policy_run_args(pr, NULL, 0, &use, &n_use, &err) == 0 && n_use == 0);
    CHECK(pr && sb_policy_run_args(pr, req, 1, &use, &n_use, &err) == -1);
    sb_policy_free(p);
    json_decref(d);
    /* validation */
    MUTATE("programs.0.args", "\"--min-group 5\"", "policy.programs[0].args: expected an array");
    MUTATE("programs.0.args", "[\"-v\", 5]", "policy.programs[0].args[1]: expected a string");
    MUTATE("programs.0.args", "[[\"-v\"]]", "policy.programs[0].args[0]: expected a string");
    char *many = repeated("\"x\"", SB_POLICY_ARGS_MAX + 1);
    MUTATE("programs.0.args", many, "policy.programs[0].args: more than 64 arguments");
    free(many);
    many = repeated("\"x\"", SB_POLICY_ARGS_MAX);
    d = base_policy();
    set_at(d, "programs.0.args", many);
    p = parse_doc(d, NOW, 0, &err);
    CHECK(p && sb_policy_program_at(p, 0)->n_args == SB_POLICY_ARGS_MAX);
    sb_policy_free(p);
    json_decref(d);
    free(many);
    char *big = malloc(SB_POLICY_ARG_MAX + 4);
    for (int len = SB_POLICY_ARG_MAX; len <= SB_POLICY_ARG_MAX + 1; len++) {
        memset(big, 'a', (size_t)len);
        big[len] = '\0';
        d = base_policy();
        json_object_set_new(json_array_get(json_object_get(d, "programs"), 0), "args",
                            json_pack("[s]", big));
        if (len == SB_POLICY_ARG_MAX) {
            p = parse_doc(d, NOW, 0, &err);
            CHECK(p != NULL);
            sb_policy_free(p);
            json_decref(d);
        } else {
            EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.programs[0].args[0]: longer than 4096 bytes");
        }
    }
    free(big);
    /* a NUL inside an argument never gets this far: the JSON reader refuses \u0000 (below) */
}

static void test_syntax_errors(void)
{
    EXPECT_TEXT_ERROR("{\"version\": 1, \"version\": 1}",
                      "policy: invalid JSON at line 1 column 24: duplicate object key");
    EXPECT_TEXT_ERROR("{\"version\": 1", "policy: invalid JSON at line 1 column 13: '}' expected near end of file");
    EXPECT_TEXT_ERROR("{\"a\": \"\\u0000\"}", "policy: invalid JSON at line 1 column 14: \\u0000 is not allowed without JSON_ALLOW_NUL");
    char deep[64];
    memset(deep, '[', 17);
    deep[17] = '\0';
    EXPECT_TEXT_ERROR(deep, "policy: nested more than 16 levels deep");
    /* size cap: checked before any parsing */
    size_t big = SB_POLICY_MAX_BYTES + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    char want[128];
    snprintf(want, sizeof want, "policy: %zu bytes is more than the limit of %u", big,
             SB_POLICY_MAX_BYTES);
    expect_text_error_line(__LINE__, huge, big, want);
    free(huge);
    /* a big integer in a field validated before canonicalisation still fails cleanly */
    json_t *d = base_policy();
    set_at(d, "limits.fuel", "9007199254740993");
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.limits.fuel: 9007199254740993 is out of range (1 to "
                 "9007199254740992)");
    /* load(): missing file */
    sb_err err = {0};
    sb_policy *p;
    CHECK(sb_policy_load("/nonexistent/policy.json", NOW, 0, &p, &err) == -1 && !p &&
          err.code == SB_POLICY_E_IO);
    CHECK(strstr(err.msg, "cannot open /nonexistent/policy.json") != NULL);
}

/* limits.engine: optional (the named default), either tier by name, and part of the hash. */
static void test_engine(void)
{
    sb_err err = {0};
    json_t *d = base_policy();
    sb_policy *absent = parse_doc(d, NOW, 0, &err);
    CHECK(absent && sb_policy_limits_of(absent)->engine == SB_POLICY_ENGINE_DEFAULT &&
          !sb_policy_limits_of(absent)->engine_named);
    CHECK(SB_POLICY_ENGINE_DEFAULT == SB_POLICY_ENGINE_COMPILED); /* docs/policy.md */
    set_at(d, "limits.engine", "\"compiled\"");
    sb_policy *compiled = parse_doc(d, NOW, 0, &err);
    CHECK(compiled && sb_policy_limits_of(compiled)->engine == SB_POLICY_ENGINE_COMPILED &&
          sb_policy_limits_of(compiled)->engine_named);
    set_at(d, "limits.engine", "\"interpreter\"");
    sb_policy *interp = parse_doc(d, NOW, 0, &err);
    CHECK(interp && sb_policy_limits_of(interp)->engine == SB_POLICY_ENGINE_INTERPRETER &&
          sb_policy_limits_of(interp)->engine_named);
    if (absent && compiled && interp) {
        /* the tier is in the JSON, so in the hash every party compares */
        CHECK(strcmp(sb_policy_hash_hex(compiled), sb_policy_hash_hex(interp)) != 0);
        CHECK(strcmp(sb_policy_hash_hex(absent), sb_policy_hash_hex(interp)) != 0);
    }
    sb_policy_engine e;
    CHECK(sb_policy_engine_parse("compiled", &e) == 0 && e == SB_POLICY_ENGINE_COMPILED);
    CHECK(sb_policy_engine_parse("", &e) == -1 && sb_policy_engine_parse("interp", &e) == -1);
    CHECK_STR(sb_policy_engine_name(SB_POLICY_ENGINE_COMPILED), "compiled");
    CHECK_STR(sb_policy_engine_name(SB_POLICY_ENGINE_INTERPRETER), "interpreter");
    sb_policy_free(absent);
    sb_policy_free(compiled);
    sb_policy_free(interp);
    json_decref(d);
}

/* A minimal single-party policy: one identity does everything; a quorum of 1 is then fine. */
static void test_single_party_and_ipv6(void)
{
    json_t *d = json_pack("{s:i, s:s, s:[{s:s, s:s, s:{s:s}}], s:[{s:s, s:s, s:{}}], s:[s],"
                          " s:{s:{s:[s]}}, s:{s:s, s:s}, s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:b,"
                          " s:s, s:{s:{s:[s], s:i}}}",
                          "version", 1, "name", "solo", "identities", "name", "alice",
                          "certificate", alice.pem, "rights", "/", "rwx", "programs", "path",
                          "/p.wasm", "sha256", PROG_HASH, "rights", "results", "/out",
                          "runtimes", "platforms", "sev-snp", M_SNP, "attestation", "url",
                          "https://attest.example:8443/v1", "root_certificate", root.pem, "host",
                          "[::1]:7000", "limits", "fuel", 1, "memory_bytes", 65536,
                          "run_seconds", 1, "fs_bytes", 1, "output_bytes", 0, "clock", 1,
                          "expires", "2030-01-01T00:00:00Z", "shutdown", "quorum", "members",
                          "alice", "count", 1);
    sb_err err = {0};
    sb_policy *p = parse_doc(d, NOW, 0, &err);
    CHECK(p != NULL);
    if (!p)
        fprintf(stderr, "  solo: %s\n", err.msg);
    if (p) {
        const sb_policy_identity *a = sb_policy_identity_at(p, 0);
        CHECK(sb_policy_rights(a, "/anything/at/all") == 7);
        CHECK(a->result_reader); /* read on "/" covers the result area */
        CHECK(sb_policy_clock(p) && !sb_policy_allow_debug(p));
        uint8_t m[48];
        memset(m, 0x22, 48);
        sb_err e = {0};
        CHECK(!sb_policy_accepts(p, "sev-snp", m, 48, true, &e));
        CHECK_STR(e.msg, "platform sev-snp is in debug or insecure mode and the policy does not "
                  "allow debug");
        CHECK(sb_policy_accepts(p, "sev-snp", m, 48, false, &e));
        CHECK(!sb_policy_platform_acceptable(p, "process", false, &e));
        bool voted[1] = {true}, read_all[1] = {false};
        CHECK(sb_policy_may_end(p, voted, read_all, NOW) == SB_POLICY_END_QUORUM);
    }
    sb_policy_free(p);
    json_decref(d);
}

static int emit(int n, unsigned long seed)
{
    uint64_t s = seed ? seed : 1;
    char buf[40];
    for (int i = 0; i < n;) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        /* mix arbitrary bit patterns with "ordinary" values (short decimals, integers) */
        double v = (i % 3 == 0) ? from_bits(s) : (i % 3 == 1) ? (double)(int64_t)(s >> 20) / 1000.0
                                                              : (double)(s >> 11) * 1e-300;
        if (!isfinite(v))
            continue;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        sb_jcs_format_double(v, buf);
        printf("%016llx %s\n", (unsigned long long)bits, buf);
        i++;
    }
    return 0;
}

/* pipelines: named, ordered steps of the policy's programs with their arguments. */
static void test_pipelines(void)
{
    sb_err err = {0};
    json_t *d = base_policy();
    set_at(d, "programs", "[{\"path\": \"/programs/train.wasm\", \"sha256\": \"" PROG_HASH "\", "
                          "\"rights\": {\"/inputs\": \"r\", \"/outputs\": \"rw\"}}, {\"path\": \"/programs/fixed.wasm\", \"sha256\": \"" PROG_HASH "\", "
                            "\"rights\": {\"/outputs\": \"rw\"}, \"args\": [\"--k\", \"5\"]}]");
    set_at(d, "pipelines", "[{\"name\": \"train-then-check\", \"steps\": ["
                           "{\"program\": \"/programs/train.wasm\", \"args\": [\"a\", \"b\"]},"
                           "{\"program\": \"/programs/fixed.wasm\"}]},"
                           "{\"name\": \"once\", \"steps\": [{\"program\": \"/programs/train.wasm\"}]}]");
    sb_policy *p = parse_doc(d, NOW, 0, &err);
    checks++;
    if (!p) {
        failures++;
        fprintf(stderr, "%s:%d: pipelines refused: %s\n", __FILE__, __LINE__, err.msg);
        json_decref(d);
        return;
    }
    const sb_policy_pipeline *pl = sb_policy_find_pipeline(p, "train-then-check");
    checks++;
    if (!pl || pl->n_steps != 2 || strcmp(pl->steps[0].program->path, "/programs/train.wasm") ||
        pl->steps[0].n_args != 2 || strcmp(pl->steps[0].args[1], "b") ||
        strcmp(pl->steps[1].program->path, "/programs/fixed.wasm") || pl->steps[1].n_args != 2 ||
        strcmp(pl->steps[1].args[0], "--k") || sb_policy_pipeline_count(p) != 2 ||
        sb_policy_find_pipeline(p, "once")->steps[0].n_args != 0 || sb_policy_find_pipeline(p, "x")) {
        failures++;
        fprintf(stderr, "%s:%d: pipelines parsed wrong\n", __FILE__, __LINE__);
    }
    sb_policy_free(p);
    json_decref(d);

    static const char *step = "{\"program\": \"/programs/train.wasm\"}";
    char many[2048] = "[{\"name\": \"long\", \"steps\": [";
    for (int i = 0; i <= SB_POLICY_STEPS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s%s", i ? "," : "", step);
    strcat(many, "]}]");
    MUTATE("pipelines", "[{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/nope.wasm\"}]}]",
           "policy.pipelines[0].steps[0].program: \"/programs/nope.wasm\" is not a program of the "
           "policy (each step runs one of policy.programs)");
    MUTATE("pipelines", "[{\"name\": \"p\", \"steps\": []}]",
           "policy.pipelines[0].steps: needs at least 1 steps");
    MUTATE("pipelines", many, "policy.pipelines[0].steps: more than 16 steps");
    MUTATE("pipelines", "[{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/train.wasm\"}]},"
                        "{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/train.wasm\"}]}]",
           "policy.pipelines[1].name: duplicate pipeline name (also pipelines[0])");
    MUTATE("pipelines", "[]", "policy.pipelines: needs at least 1 pipelines");
    MUTATE("pipelines", "[{\"name\": \"-p\", \"steps\": [{\"program\": \"/programs/train.wasm\"}]}]",
           "policy.pipelines[0].name: expected 1-64 characters [A-Za-z0-9._-], starting with a letter or digit");
    MUTATE("pipelines", "[{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/train.wasm\", \"x\": 1}]}]",
           "policy.pipelines[0].steps[0]: unknown field \"x\"");
    MUTATE("pipelines", "[{\"name\": \"p\"}]", "policy.pipelines[0]: missing field \"steps\"");
    MUTATE("pipelines", "[{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/train.wasm\", \"args\": [1]}]}]",
           "policy.pipelines[0].steps[0].args[0]: expected a string");
    d = base_policy();
    set_at(d, "programs.0.args", "[\"x\"]");
    set_at(d, "pipelines", "[{\"name\": \"p\", \"steps\": [{\"program\": \"/programs/train.wasm\", \"args\": [\"y\"]}]}]");
    EXPECT_ERROR(d, SB_POLICY_E_INVALID, "policy.pipelines[0].steps[0].args: program "
                 "/programs/train.wasm fixes its arguments; a step must use those");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--emit") == 0)
        return emit(atoi(argv[2]), strtoul(argv[3], NULL, 10));
    alice = make_cert("alice", -86400, 365 * 86400);
    bob = make_cert("bob", -86400, 365 * 86400);
    carol = make_cert("carol", -86400, 365 * 86400);
    root = make_cert("strongbox attestation root", -86400, 3650L * 86400);
    expired = make_cert("old", -86400 * 30, -3600);
    future = make_cert("future", 3600, 86400 * 30);

    test_jcs_numbers();
    test_jcs_roundtrip_random();
    test_jcs_documents();
    test_hash_by_hand();
    test_valid_policy();
    test_may_end();
    test_keep_sealed();
    test_hash();
    test_time_rules();
    test_certificate_errors();
    test_structure_errors();
    test_syntax_errors();
    test_count_caps();
    test_program_args();
    test_single_party_and_ipv6();
    test_pipelines();
    test_engine();

    cert *all[] = {&alice, &bob, &carol, &root, &expired, &future};
    for (size_t i = 0; i < 6; i++)
        free_cert(all[i]);
    printf("policy: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
