/* test_runtime.c - strongbox-runtime driven over its channel by a fake host and TLS clients.
 * usage: test_runtime RUNTIME_BINARY TEST_PROGRAM_WASM */
#include "harness.h"
#include "../common/x509_util.h"
#include "policy/policy.h"
#include "wasm/wasm.h" /* WASM_HAS_INTERRUPT: whether the engine polls an interrupt flag */

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *runtime_bin, *program_path;
static uint8_t *program;
static size_t program_len;
static uint8_t program_hash[32];
static party *alice, *bob, *eve;

/* ---------------------------------------------------------------- policies */

typedef struct policy_opts {
    int expires_in;          /* seconds from now */
    bool quorum;             /* shutdown quorum alice+bob (else: result readers rule) */
    uint64_t fs_bytes, fuel, output_bytes, memory_bytes, run_seconds;
    const uint8_t *prog_hash; /* sha256 of /programs/p.wasm (NULL: zeros) */
    const char *platform;     /* the one accepted platform (NULL: process) */
    bool no_debug;            /* runtimes.allow_debug false */
    bool clock;               /* "clock": true */
    const char *args;         /* a JSON array fixing the program's arguments, or NULL */
    const char *engine;       /* limits.engine, or NULL for none */
} policy_opts;

static char *policy_json(const policy_opts *o)
{
    char hex[65] = {0}, expires[32], *buf = malloc(65536);
    static const uint8_t zero[32];
    sb_hex_encode(o->prog_hash ? o->prog_hash : zero, 32, hex);
    sb_time_format(time(NULL) + o->expires_in, expires, sizeof expires);
    char *a = json_str(alice->pem), *b = json_str(bob->pem), *ca = json_str(ca_pem);
    snprintf(buf, 65536,
             "{\"version\":1,\"name\":\"runtime test\",\"identities\":["
             "{\"name\":\"alice\",\"certificate\":%s,\"rights\":{\"/inputs/alice\":\"rw\","
             "\"/programs\":\"rwx\",\"/results\":\"r\"}},"
             "{\"name\":\"bob\",\"certificate\":%s,\"rights\":{\"/inputs/bob\":\"rw\","
             "\"/results\":\"r\",\"/programs/p.wasm\":\"r\"}}],"
             "\"programs\":[{\"path\":\"/programs/p.wasm\",\"sha256\":\"%s\",%s%s%s\"rights\":"
             "{\"/inputs\":\"r\",\"/results\":\"rw\"}}],"
             "\"results\":[\"/results\"],"
             "\"runtimes\":{\"platforms\":{\"%s\":[\"%0*d\"]},\"allow_debug\":%s},"
             "\"attestation\":{\"url\":\"http://127.0.0.1:1\",\"root_certificate\":%s},"
             "\"host\":\"127.0.0.1:1\","
             "\"limits\":{\"fuel\":%llu,\"memory_bytes\":%llu,\"run_seconds\":%llu,"
             "\"fs_bytes\":%llu,\"output_bytes\":%llu%s%s%s},"
             "\"clock\":%s,\"expires\":\"%s\",\"shutdown\":{%s}}",
             a, b, hex, o->args ? "\"args\":" : "", o->args ? o->args : "", o->args ? "," : "",
             o->platform ? o->platform : "process",
             o->platform && strcmp(o->platform, "sev-snp") == 0 ? 96 : 64, 0,
             o->no_debug ? "false" : "true", ca,
             (unsigned long long)(o->fuel ? o->fuel : 100000000),
             (unsigned long long)(o->memory_bytes ? o->memory_bytes : 16u << 20),
             (unsigned long long)(o->run_seconds ? o->run_seconds : 10),
             (unsigned long long)(o->fs_bytes ? o->fs_bytes : 4u << 20),
             (unsigned long long)(o->output_bytes ? o->output_bytes : 4096),
             o->engine ? ",\"engine\":\"" : "", o->engine ? o->engine : "", o->engine ? "\"" : "",
             o->clock ? "true" : "false", expires,
             o->quorum ? "\"quorum\":{\"members\":[\"alice\",\"bob\"],\"count\":2}" : "");
    free(a);
    free(b);
    free(ca);
    return buf;
}

static char *engine_policy(const char *engine)
{
    policy_opts o = {.expires_in = 3600, .prog_hash = program_hash, .engine = engine};
    return policy_json(&o);
}

static char *default_policy(void) { return engine_policy(NULL); }

/* Whether this build's runtime has the compiled tier (main's third argument, from the build). */
static bool compiled_tier;

/* ---------------------------------------------------------------- start-up errors */

/* Sends init with `json`/`platform` (json NULL: skip init), then raw bytes, and expects shutdown
 * with `status` and a reason containing `text`, then exit code `code`. */
static void expect_shutdown(const char *what, const char *json, const char *platform,
                            const void *raw, size_t raw_len, uint32_t status, const char *text,
                            int code)
{
    host *h = h_start(runtime_bin, "--no-sandbox", NULL);
    sb_msg m;
    if (json) {
        sb_msg_init(&m, SB_MSG_INIT);
        m.present = SB_F(SB_K_DATA) | SB_F(SB_K_PLATFORM);
        m.data = (sb_bytes){(const uint8_t *)json, strlen(json)};
        m.platform = platform;
        h_send(h, &m);
    }
    if (raw)
        h_send_raw(h, raw, raw_len);
    int rc = h_next(h, &m);
    bool ok = rc == 0 && m.type == SB_MSG_SHUTDOWN && m.status == status &&
              strstr(m.reason, text) != NULL;
    if (!ok)
        fprintf(stderr, "%s: got %s status %u '%s'\n", what, rc ? "nothing" : sb_msg_type_name(m.type),
                rc ? 0 : m.status, rc ? "" : m.reason ? m.reason : "");
    CHECK(ok);
    if (rc == 0)
        sb_msg_free(&m);
    CHECK(h_wait(h) == code);
    h_free(h);
}

static void test_startup_errors(void)
{
    char *good = default_policy();
    expect_shutdown("bad json", "{", "process", NULL, 0, SB_ST_BAD_REQUEST, "policy", 1);
    expect_shutdown("platform", good, "tdx", NULL, 0, SB_ST_BAD_REQUEST,
                    "init names platform 'tdx'", 1);
    /* a tier the runtime lacks: refused when the policy is loaded, before anything is uploaded */
    if (!compiled_tier) {
        char *compiled = engine_policy("compiled");
        expect_shutdown("engine", compiled, "process", NULL, 0, SB_ST_BAD_REQUEST,
                        "policy.limits.engine: the policy asks for the compiled tier, and this "
                        "runtime was built without it (interpreter only)", 1);
        free(compiled);
    }
    static const uint8_t garbage[] = {0, 0, 0, 3, 0xFF, 0xFF, 0xFF};
    expect_shutdown("garbage", NULL, NULL, garbage, sizeof garbage, SB_ST_BAD_REQUEST,
                    "bad frame from the host", 1);
    static const uint8_t huge[] = {0x7F, 0xFF, 0xFF, 0xFF};
    expect_shutdown("oversize", NULL, NULL, huge, sizeof huge, SB_ST_BAD_REQUEST, "frame length", 1);
    /* A challenge before init. */
    sb_msg m;
    uint8_t *f;
    size_t len;
    sb_err err;
    static const uint8_t nonce[16];
    sb_msg_init(&m, SB_MSG_ATTEST_CHALLENGE);
    m.present = SB_F(SB_K_NONCE);
    m.nonce = (sb_bytes){nonce, 16};
    CHECK(sb_msg_encode(&m, &f, &len, &err) == 0);
    expect_shutdown("order", NULL, NULL, f, len, SB_ST_BAD_REQUEST,
                    "unexpected attest-challenge frame", 1);
    free(f);
    /* The host may stop the runtime at any time. */
    sb_msg_init(&m, SB_MSG_SHUTDOWN);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    m.reason = "bye";
    CHECK(sb_msg_encode(&m, &f, &len, &err) == 0);
    expect_shutdown("host shutdown", good, "process", f, len, SB_ST_OK, "host asked to stop", 0);
    free(f);
    /* A platform the policy does not accept, or an insecure one when debug is not allowed. */
    policy_opts strict = {.expires_in = 3600, .no_debug = true};
    char *no_debug = policy_json(&strict);
    expect_shutdown("no debug", no_debug, "process", NULL, 0, SB_ST_BAD_REQUEST,
                    "debug", 1);
    free(no_debug);
    strict = (policy_opts){.expires_in = 3600, .platform = "sev-snp"};
    char *snp_only = policy_json(&strict);
    expect_shutdown("platform not listed", snp_only, "process", NULL, 0, SB_ST_BAD_REQUEST,
                    "platform process is not accepted by the policy", 1);
    free(snp_only);
    /* An expired policy is refused. */
    policy_opts o = {.expires_in = -10};
    char *old = policy_json(&o);
    expect_shutdown("expired", old, "process", NULL, 0, SB_ST_EXPIRED, "expired", 0);
    free(old);
    free(good);

    /* Usage errors. */
    host *h = h_start(runtime_bin, "--bogus", NULL);
    CHECK(h_wait(h) == 2);
    h_free(h);
    /* End of stream before anything: a quiet exit. */
    h = h_start(runtime_bin, "--no-sandbox", NULL);
    shutdown(h->fd, SHUT_WR);
    CHECK(h_wait(h) == 0);
    h_free(h);
}

/* ---------------------------------------------------------------- attestation */

/* Runs init + challenge and returns the host with the attest-request in *req. */
static host *until_request(const char *json, sb_msg *req, const uint8_t nonce[32])
{
    host *h = h_start(runtime_bin, "--no-sandbox", NULL);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_INIT);
    m.present = SB_F(SB_K_DATA) | SB_F(SB_K_PLATFORM);
    m.data = (sb_bytes){(const uint8_t *)json, strlen(json)};
    m.platform = "process";
    h_send(h, &m);
    sb_msg_init(&m, SB_MSG_ATTEST_CHALLENGE);
    m.present = SB_F(SB_K_NONCE);
    m.nonce = (sb_bytes){nonce, 32};
    h_send(h, &m);
    CHECK(h_next(h, req) == 0 && req->type == SB_MSG_ATTEST_REQUEST);
    return h;
}

static void send_result(host *h, uint32_t status, const char *pem, const char *reason)
{
    sb_msg m;
    sb_msg_init(&m, SB_MSG_ATTEST_RESULT);
    m.present = SB_F(SB_K_STATUS) | (pem ? SB_F(SB_K_DATA) : 0) | (reason ? SB_F(SB_K_REASON) : 0);
    m.status = status;
    m.data = (sb_bytes){(const uint8_t *)pem, pem ? strlen(pem) : 0};
    m.reason = reason;
    h_send(h, &m);
}

static void expect_attest_failure(host *h, const char *text)
{
    sb_msg m;
    int rc = h_next(h, &m);
    bool ok = rc == 0 && m.type == SB_MSG_SHUTDOWN && m.status == SB_ST_ATTEST_FAILED &&
              strstr(m.reason, text);
    if (!ok)
        fprintf(stderr, "attest failure: wanted '%s', got '%s'\n", text,
                rc == 0 && m.reason ? m.reason : "nothing");
    CHECK(ok);
    if (rc == 0)
        sb_msg_free(&m);
    CHECK(h_wait(h) == 1);
    h_free(h);
}

static char *cert_pem_for(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key);

static void test_attestation(void)
{
    char *json = default_policy();
    uint8_t nonce[32];
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)(i * 7);
    sb_msg req;
    host *h = until_request(json, &req, nonce);

    /* The request: CSR for a P-256 key, the policy hash, and the binding over all of them. */
    sb_policy *pol;
    sb_err err;
    CHECK(sb_policy_parse(json, strlen(json), time(NULL), 0, &pol, &err) == 0);
    CHECK(req.hash.len == 32 && memcmp(req.hash.p, sb_policy_hash(pol), 32) == 0);
    CHECK(strcmp(req.platform, "process") == 0 && !(req.present & SB_F(SB_K_EVIDENCE)));
    const unsigned char *p = req.data.p;
    X509_REQ *csr = d2i_X509_REQ(NULL, &p, (long)req.data.len);
    CHECK(csr && X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) == 1);
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(X509_REQ_get0_pubkey(csr), &spki);
    uint8_t kh[32], want[64];
    EVP_Digest(spki, (size_t)spki_len, kh, NULL, EVP_sha256(), NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha512(), NULL);
    EVP_DigestUpdate(c, "strongbox-attest-v1", 19);
    EVP_DigestUpdate(c, nonce, 32);
    EVP_DigestUpdate(c, kh, 32);
    EVP_DigestUpdate(c, sb_policy_hash(pol), 32);
    EVP_DigestFinal_ex(c, want, NULL);
    EVP_MD_CTX_free(c);
    CHECK(req.binding.len == 64 && memcmp(req.binding.p, want, 64) == 0);
    OPENSSL_free(spki);
    sb_policy_free(pol);

    /* A certificate for some other key is refused. */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    char *pem = cert_pem_for(other, ca_cert, ca_key);
    send_result(h, SB_ST_OK, pem, NULL);
    free(pem);
    expect_attest_failure(h, "not for this isolate's key");
    sb_msg_free(&req);

    /* A certificate for our key from another CA is refused. */
    h = until_request(json, &req, nonce);
    p = req.data.p;
    X509_REQ *csr2 = d2i_X509_REQ(NULL, &p, (long)req.data.len);
    pem = cert_pem_for(X509_REQ_get0_pubkey(csr2), eve->cert, eve->key);
    send_result(h, SB_ST_OK, pem, NULL);
    free(pem);
    expect_attest_failure(h, "does not verify to the policy's attestation root");
    X509_REQ_free(csr2);
    sb_msg_free(&req);

    /* The service's refusal, and garbage instead of PEM. */
    h = until_request(json, &req, nonce);
    send_result(h, SB_ST_ATTEST_FAILED, NULL, "measurement not accepted");
    expect_attest_failure(h, "attestation refused: measurement not accepted");
    sb_msg_free(&req);
    h = until_request(json, &req, nonce);
    send_result(h, SB_ST_OK, "-----BEGIN CERTIFICATE-----\nAAAA\n", NULL);
    expect_attest_failure(h, "0 certificates in the chain");
    sb_msg_free(&req);

    /* A session before the certificate is installed is turned away. */
    h = until_request(json, &req, nonce);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_OPEN);
    m.present = SB_F(SB_K_ID);
    m.id = 9;
    h_send(h, &m);
    while (h->last_close_id != 9 && h_pump(h) == 0)
        ;
    CHECK(h->last_close_id == 9 && h->last_close_status == SB_ST_NOT_READY &&
          strstr(h->last_close_reason, "not attested yet"));
    CHECK(h->sandbox_warned); /* --no-sandbox is announced */
    h_free(h);
    sb_msg_free(&req);
    X509_REQ_free(csr);
    EVP_PKEY_free(other);
    free(json);
}

static char *cert_pem_for(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 77);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"isolate", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer));
    X509_sign(x, issuer_key, EVP_sha256());
    char *s = test_pem_of_cert(x);
    X509_free(x);
    return s;
}


/* ---------------------------------------------------------------- sessions */

static host *ready_host(const char *json, const char *flag)
{
    host *h = h_start(runtime_bin, flag, NULL);
    CHECK(h_attest(h, json) == 0);
    return h;
}

/* Sends one request frame with the given fields and returns the response status. */
static int raw_request(client *c, const sb_msg *m, char *reason)
{
    sb_msg r;
    if (c_call(c, m, &r) < 0)
        return -1;
    int st = (int)r.status;
    snprintf(reason, SB_REASON_MAX + 1, "%s", r.present & SB_F(SB_K_REASON) ? r.reason : "");
    sb_msg_free(&r);
    return st;
}

static void test_files(void)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    CHECK(!a->closed && !b->closed);

    /* policy-hash and status */
    sb_msg m, r;
    sb_msg_init(&m, SB_MSG_POLICY_HASH);
    m.present = SB_F(SB_K_ID);
    m.id = 1;
    CHECK(c_call(a, &m, &r) == 0 && r.status == SB_ST_OK && r.hash.len == 32 && r.id == 1);
    sb_policy *pol;
    sb_err err;
    CHECK(sb_policy_parse(json, strlen(json), time(NULL), 0, &pol, &err) == 0);
    CHECK(memcmp(r.hash.p, sb_policy_hash(pol), 32) == 0);
    sb_msg_free(&r);
    sb_policy_free(pol);
    sb_msg_init(&m, SB_MSG_STATUS);
    m.present = SB_F(SB_K_ID);
    m.id = 2;
    CHECK(c_call(b, &m, &r) == 0 && r.status == SB_ST_OK && r.data.len > 0);
    CHECK(r.data.p && strstr((const char *)r.data.p, "\"identity\":\"bob\"") &&
          strstr((const char *)r.data.p, "\"votes\":[]"));
    sb_msg_free(&r);

    /* A multi-chunk upload and download, exact bytes. */
    size_t big = 200001;
    uint8_t *data = malloc(big), *back;
    size_t back_len;
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    CHECK(c_put(a, "/inputs/alice/data.bin", data, big, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/data.bin", &back, &back_len, reason) == SB_ST_OK);
    CHECK(back_len == big && memcmp(back, data, big) == 0);
    free(back);
    /* append, then overwrite */
    CHECK(c_put(a, "/inputs/alice/data.bin", "xyz", 3, SB_PUT_APPEND, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/data.bin", &back, &back_len, reason) == SB_ST_OK);
    CHECK(back_len == big + 3 && memcmp(back + big, "xyz", 3) == 0);
    free(back);
    CHECK(c_put(a, "/inputs/alice/small.txt", "hello", 5, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_put(a, "/inputs/alice/small.txt", "hi", 2, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/small.txt", &back, &back_len, reason) == SB_ST_OK);
    CHECK(back_len == 2 && memcmp(back, "hi", 2) == 0);
    free(back);
    CHECK(c_put(a, "/inputs/alice/empty", "", 0, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/empty", &back, &back_len, reason) == SB_ST_OK && back_len == 0);
    free(back);
    CHECK(c_put(b, "/inputs/bob/b.txt", "bob", 3, SB_PUT_WRITE, reason) == SB_ST_OK);

    /* Refusals, each with its reason. */
    CHECK(c_get(b, "/inputs/alice/data.bin", &back, &back_len, reason) == SB_ST_DENIED);
    free(back);
    CHECK(c_put(b, "/inputs/alice/x", "x", 1, SB_PUT_WRITE, reason) == SB_ST_DENIED &&
          strstr(reason, "no write right"));
    CHECK(c_put(a, "/results/r", "x", 1, SB_PUT_WRITE, reason) == SB_ST_DENIED);
    CHECK(c_get(a, "/inputs/alice/missing", &back, &back_len, reason) == SB_ST_NOT_FOUND);
    free(back);
    CHECK(c_get(a, "inputs/alice/data.bin", &back, &back_len, reason) == SB_ST_BAD_REQUEST &&
          strstr(reason, "normalised absolute path"));
    free(back);
    CHECK(c_get(a, "/inputs/../inputs/alice/data.bin", &back, &back_len, reason) ==
          SB_ST_BAD_REQUEST);
    free(back);
    CHECK(c_get(a, "/inputs/alice", &back, &back_len, reason) == SB_ST_BAD_REQUEST &&
          strstr(reason, "is a directory"));
    free(back);
    CHECK(c_put(a, "/inputs/alice/x/", "x", 1, SB_PUT_WRITE, reason) == SB_ST_BAD_REQUEST);
    CHECK(c_put(a, "/inputs/alice/x", "x", 1, 7, reason) == SB_ST_BAD_REQUEST &&
          strstr(reason, "mode must be"));
    uint8_t *huge = calloc(1, (4u << 20) + 1);
    CHECK(c_put(a, "/inputs/alice/huge", huge, (4u << 20) + 1, SB_PUT_WRITE, reason) ==
          SB_ST_TOO_LARGE && strstr(reason, "filesystem limit"));
    /* Fits alone, but not beside what is stored already: refused, old contents kept. */
    CHECK(c_put(a, "/inputs/alice/data.bin", huge, 4u << 20, SB_PUT_WRITE, reason) ==
          SB_ST_TOO_LARGE);
    CHECK(c_get(a, "/inputs/alice/data.bin", &back, &back_len, reason) == SB_ST_OK &&
          back_len == big + 3);
    free(back);
    free(huge);

    /* Upload protocol errors. */
    sb_msg_init(&m, SB_MSG_PUT_CHUNK);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = 55;
    m.data = (sb_bytes){(const uint8_t *)"x", 1};
    CHECK(raw_request(a, &m, reason) == SB_ST_BAD_REQUEST && strstr(reason, "is not open"));
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 56;
    CHECK(raw_request(a, &m, reason) == SB_ST_BAD_REQUEST && strstr(reason, "is not open"));
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE) | SB_F(SB_K_SIZE);
    m.id = 60;
    m.path = "/inputs/alice/p";
    m.size = 4;
    c_send(a, &m);
    m.id = 61; /* a second upload while 60 is open */
    CHECK(raw_request(a, &m, reason) == SB_ST_CONFLICT && strstr(reason, "still open"));
    sb_msg_init(&m, SB_MSG_PUT_CHUNK);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = 60;
    m.data = (sb_bytes){(const uint8_t *)"ab", 2};
    c_send(a, &m);
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 60;
    CHECK(raw_request(a, &m, reason) == SB_ST_BAD_REQUEST && strstr(reason, "fewer bytes"));
    CHECK(c_get(a, "/inputs/alice/p", &back, &back_len, reason) == SB_ST_NOT_FOUND);
    free(back);
    /* More than declared: refused at once; the rest of that upload is ignored. */
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE) | SB_F(SB_K_SIZE);
    m.id = 62;
    m.path = "/inputs/alice/p";
    m.size = 1;
    c_send(a, &m);
    sb_msg_init(&m, SB_MSG_PUT_CHUNK);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = 62;
    m.data = (sb_bytes){(const uint8_t *)"ab", 2};
    CHECK(raw_request(a, &m, reason) == SB_ST_TOO_LARGE && strstr(reason, "declared size"));
    c_send(a, &m);
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 62;
    c_send(a, &m);
    /* Unsized upload in several chunks works; the next request answers in order. */
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE);
    m.id = 63;
    m.path = "/inputs/alice/p";
    c_send(a, &m);
    for (int i = 0; i < 3; i++) {
        sb_msg_init(&m, SB_MSG_PUT_CHUNK);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = 63;
        m.data = (sb_bytes){(const uint8_t *)"abc", 3};
        c_send(a, &m);
    }
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 63;
    CHECK(c_call(a, &m, &r) == 0 && r.id == 63 && r.status == SB_ST_OK && r.size == 9);
    sb_msg_free(&r);
    /* An unsized upload whose staging grew well past its size (shrunk, then adopted by the
     * file system): exact bytes back, and the file still grows by append. */
    uint8_t *part = malloc(30000);
    for (size_t i = 0; i < 30000; i++)
        part[i] = (uint8_t)(i * 13 + 1);
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE);
    m.id = 64;
    m.path = "/inputs/alice/grown";
    c_send(a, &m);
    for (int i = 0; i < 5; i++) {
        sb_msg_init(&m, SB_MSG_PUT_CHUNK);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = 64;
        m.data = (sb_bytes){part, 30000};
        c_send(a, &m);
    }
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 64;
    CHECK(c_call(a, &m, &r) == 0 && r.status == SB_ST_OK && r.size == 150000);
    sb_msg_free(&r);
    CHECK(c_put(a, "/inputs/alice/grown", "z", 1, SB_PUT_APPEND, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/grown", &back, &back_len, reason) == SB_ST_OK &&
          back_len == 150001 && memcmp(back, part, 30000) == 0 &&
          memcmp(back + 120000, part, 30000) == 0 && back[150000] == 'z');
    free(back);
    free(part);

    /* Not requests / broken frames inside TLS. */
    sb_msg_init(&m, SB_MSG_CHUNK);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = 70;
    m.data = (sb_bytes){(const uint8_t *)"x", 1};
    CHECK(raw_request(a, &m, reason) == SB_ST_BAD_REQUEST && strstr(reason, "chunk is not a request"));
    static const uint8_t bad[] = {0, 0, 0, 2, 0xA1, 0x05};
    SSL_write(a->ssl, bad, sizeof bad);
    CHECK(c_next(a, &r) == 0 && r.id == 0 && r.status == SB_ST_BAD_REQUEST &&
          strstr(r.reason, "bad request frame"));
    sb_msg_free(&r);

    /* list: each party sees only what it may. */
    sb_msg_init(&m, SB_MSG_LIST);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH);
    m.id = 80;
    m.path = "/inputs";
    CHECK(c_call(b, &m, &r) == 0 && r.status == SB_ST_OK && r.size == 1);
    sb_msg_free(&r);
    CHECK(c_next(b, &r) == 0 && r.type == SB_MSG_ENTRY && r.id == 80 &&
          strcmp(r.path, "/inputs/bob/b.txt") == 0 && r.size == 3);
    sb_msg_free(&r);
    m.path = "/";
    CHECK(c_call(a, &m, &r) == 0 && r.status == SB_ST_OK && r.size == 5);
    size_t n = r.size, total = 0;
    sb_msg_free(&r);
    for (size_t i = 0; i < n; i++) {
        CHECK(c_next(a, &r) == 0 && r.type == SB_MSG_ENTRY && strncmp(r.path, "/inputs/alice/", 14) == 0);
        total += r.size;
        sb_msg_free(&r);
    }
    CHECK(total == big + 3 + 2 + 0 + 9 + 150001);
    m.path = "/nothing";
    CHECK(raw_request(a, &m, reason) == SB_ST_DENIED);

    /* Strangers and certificate-less clients never get in. */
    client *e = c_connect(h, eve);
    CHECK(c_simple(e, SB_MSG_STATUS, NULL, reason) < 0);
    CHECK(e->closed && e->close_status == SB_ST_UNAUTHENTICATED &&
          strstr(e->close_reason, "matches no identity"));
    client *anon = c_connect(h, NULL);
    CHECK(c_simple(anon, SB_MSG_STATUS, NULL, reason) < 0);
    CHECK(anon->closed && anon->close_status == SB_ST_UNAUTHENTICATED &&
          strstr(anon->close_reason, "no certificate"));
    /* ... and the others carry on. */
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    /* A client that goes away mid-upload loses only that upload. */
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE);
    m.id = 90;
    m.path = "/inputs/bob/half";
    c_send(b, &m);
    c_close(b);
    client *b2 = c_connect(h, bob);
    CHECK(c_get(b2, "/inputs/bob/half", &back, &back_len, reason) == SB_ST_NOT_FOUND);
    free(back);
    CHECK(c_get(b2, "/inputs/bob/b.txt", &back, &back_len, reason) == SB_ST_OK && back_len == 3);
    free(back);

    /* The host stops it: every session gets close_notify + session-close, then shutdown. */
    sb_msg_init(&m, SB_MSG_SHUTDOWN);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    m.reason = "maintenance";
    h_send(h, &m);
    CHECK(c_next(a, &r) < 0 && a->closed && a->close_status == SB_ST_SHUTTING_DOWN);
    CHECK(h_wait(h) == 0 && h->shutdown && strstr(h->shutdown_reason, "host asked"));
    h_free(h);
    free(data);
    free(json);
}

/* ---------------------------------------------------------------- shutdown rules, expiry */

static void test_votes(void)
{
    char reason[SB_REASON_MAX + 1];
    /* Quorum of alice and bob. */
    policy_opts o = {.expires_in = 3600, .quorum = true};
    char *json = policy_json(&o);
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK &&
          strstr(reason, "vote of alice recorded (1 of 2") && strstr(reason, "continues"));
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "continues"));
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    CHECK(c_simple(b, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "ends now"));
    sb_msg r;
    CHECK(c_next(b, &r) < 0 && b->closed && b->close_status == SB_ST_SHUTTING_DOWN);
    CHECK(h_wait(h) == 0 && h->shutdown && h->shutdown_status == SB_ST_SHUTTING_DOWN &&
          strstr(h->shutdown_reason, "quorum"));
    h_free(h);
    free(json);

    /* Readers rule: a result reader's vote counts once it has read every result it may. */
    o.quorum = false;
    json = policy_json(&o);
    h = ready_host(json, "--no-sandbox");
    a = c_connect(h, alice);
    b = c_connect(h, bob);
    CHECK(c_simple(b, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "continues"));
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "ends now") &&
          strstr(reason, "result reader"));
    CHECK(h_wait(h) == 0 && h->shutdown_status == SB_ST_SHUTTING_DOWN);
    h_free(h);
    free(json);
}

static void test_expiry(void)
{
    char reason[SB_REASON_MAX + 1];
    /* An identity certificate that expires while the isolate runs stops working then. */
    party *real_bob = bob;
    bob = party_new_valid("bob", 2);
    char *short_lived = default_policy();
    host *hb = ready_host(short_lived, "--no-sandbox");
    client *early = c_connect(hb, bob);
    CHECK(c_simple(early, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    sleep(3);
    client *late = c_connect(hb, bob);
    CHECK(c_simple(late, SB_MSG_STATUS, NULL, reason) < 0 && late->closed &&
          late->close_status == SB_ST_UNAUTHENTICATED && strstr(late->close_reason, "expired"));
    h_free(hb);
    free(short_lived);
    party_free(bob);
    bob = real_bob;

    policy_opts o = {.expires_in = 2};
    char *json = policy_json(&o);
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice);
    CHECK(c_put(a, "/inputs/alice/x", "x", 1, SB_PUT_WRITE, reason) == SB_ST_OK);
    /* No request needed: the runtime ends by itself at expiry. */
    CHECK(h_wait(h) == 0 && h->shutdown && h->shutdown_status == SB_ST_EXPIRED);
    CHECK(a->closed && a->close_status == SB_ST_SHUTTING_DOWN);
    h_free(h);
    free(json);
}

/* The same traffic under the runtime's own seccomp filter: nothing it needs is missing. */
/* Resident pages of the runtime's image (kB), and whether libraries are mapped apart from it. */
static long image_kib(pid_t pid, bool *dynamic)
{
    char path[64], line[512];
    long kib = -1;
    *dynamic = false;
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        *dynamic |= strstr(line, "libcrypto") != NULL;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "RssFile:", 8) == 0)
            kib = atol(line + 8);
    if (f)
        fclose(f);
    return kib;
}

static void test_sandboxed(void)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, NULL);
    CHECK(!h->sandbox_warned);
    /* Once attested, the start-up pages of the image are dropped (about 4.5 MiB of the static
     * runtime were resident before): an idle isolate keeps little. A sanitizer build maps its
     * libraries apart (and they stay), so the figure applies to the static runtime only. The
     * requests below then run on pages faulted back in, under the sandbox. */
    bool dynamic;
    long kib = image_kib(h->pid, &dynamic);
    CHECK(kib >= 0 && (dynamic || kib < 2048));
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    size_t big = 300000, back_len;
    uint8_t *data = malloc(big), *back;
    for (size_t i = 0; i < big; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    CHECK(c_put(a, "/inputs/alice/d", data, big, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_get(a, "/inputs/alice/d", &back, &back_len, reason) == SB_ST_OK && back_len == big &&
          memcmp(back, data, big) == 0);
    free(back);
    CHECK(c_simple(b, SB_MSG_LIST, "/", reason) == SB_ST_OK);
    CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    client *e = c_connect(h, eve);
    CHECK(c_simple(e, SB_MSG_STATUS, NULL, reason) < 0 && e->close_status == SB_ST_UNAUTHENTICATED);
    c_close(b);
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SHUTDOWN);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    m.reason = "done";
    h_send(h, &m);
    CHECK(h_wait(h) == 0); /* 159 = killed by SIGSYS: a syscall missing from the allow-list */
    h_free(h);
    free(data);
    free(json);
}

/* ---------------------------------------------------------------- running programs */

static int run(client *c, const char *path, const char *a1, const char *a2, sb_msg *r)
{
    sb_msg m;
    static uint64_t id = 5000;
    sb_msg_init(&m, SB_MSG_RUN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | (a1 ? SB_F(SB_K_ARGS) : 0);
    m.id = ++id;
    m.path = path;
    m.args[0] = a1;
    m.args[1] = a2;
    m.n_args = a1 ? (a2 ? 2 : 1) : 0;
    if (c_call(c, &m, r) < 0)
        return -1;
    CHECK(r->id == id);
    return (int)r->status;
}

static bool bytes_has(sb_bytes b, const char *text)
{
    return b.p && memmem(b.p, b.len, text, strlen(text)) != NULL;
}

static void test_run(const char *flag, const char *engine)
{
    char *json = engine_policy(engine), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, flag);
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    sb_msg r;
    uint8_t *back;
    size_t back_len;

    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_NOT_READY &&
          strstr(r.reason, "not been uploaded"));
    sb_msg_free(&r);
    CHECK(c_put(a, "/programs/p.wasm", "\0asm\1\0\0\0", 8, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_HASH_MISMATCH);
    sb_msg_free(&r);
    CHECK(c_put(a, "/programs/p.wasm", program, program_len, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/q.wasm", NULL, NULL, &r) == SB_ST_NOT_FOUND &&
          strstr(r.reason, "names no program"));
    sb_msg_free(&r);
    CHECK(run(b, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_DENIED &&
          strstr(r.reason, "does not let bob run it"));
    sb_msg_free(&r);

    /* Inputs missing: the program itself fails, and says so on stderr. */
    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_OK && r.outcome == SB_OUT_EXITED &&
          r.exit_code == 2 && bytes_has(r.err, "cannot read /inputs/alice/n.txt"));
    sb_msg_free(&r);
    CHECK(c_put(a, "/inputs/alice/n.txt", "40\n", 3, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_put(b, "/inputs/bob/n.txt", "2\n", 2, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_OK && r.outcome == SB_OUT_EXITED &&
          r.exit_code == 0 && bytes_has(r.out, "sum=42") && bytes_has(r.err, "done"));
    sb_msg_free(&r);
    CHECK(c_get(b, "/results/sum.txt", &back, &back_len, reason) == SB_ST_OK && back_len == 3 &&
          memcmp(back, "42\n", 3) == 0);
    free(back);

    CHECK(run(a, "/programs/p.wasm", "exit", "3", &r) == SB_ST_OK && r.outcome == SB_OUT_EXITED &&
          r.exit_code == 3);
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "trap", NULL, &r) == SB_ST_OK && r.outcome == SB_OUT_TRAPPED &&
          strstr(r.reason, "unreachable"));
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "spin", NULL, &r) == SB_ST_OK &&
          r.outcome == SB_OUT_FUEL_LIMIT && strstr(r.reason, "fuel"));
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "grow", NULL, &r) == SB_ST_OK && r.outcome == SB_OUT_EXITED &&
          r.exit_code == 4 && bytes_has(r.out, "failed"));
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "loud", NULL, &r) == SB_ST_OK && r.out.len <= 4096 &&
          r.out.len > 0 && strstr(r.reason, "output cut at the policy"));
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "escape", NULL, &r) == SB_ST_OK && r.exit_code == 5);
    sb_msg_free(&r);
    CHECK(c_get(a, "/inputs/alice/evil", &back, &back_len, reason) == SB_ST_NOT_FOUND);
    free(back);

    /* Readers rule: each reader must read the (latest) results before its vote ends anything. */
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "continues"));
    CHECK(c_simple(b, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "continues"));
    CHECK(c_get(b, "/results/sum.txt", &back, &back_len, reason) == SB_ST_OK);
    free(back);
    CHECK(c_simple(b, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "continues"));
    CHECK(c_get(a, "/results/sum.txt", &back, &back_len, reason) == SB_ST_OK);
    free(back);
    CHECK(c_simple(a, SB_MSG_END_VOTE, NULL, reason) == SB_ST_OK && strstr(reason, "ends now"));
    CHECK(h_wait(h) == 0 && h->shutdown_status == SB_ST_SHUTTING_DOWN);
    h_free(h);
    free(json);
}

/* ---------------------------------------------------------------- channel edge cases */

static void open_session(host *h, uint64_t id)
{
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_OPEN);
    m.present = SB_F(SB_K_ID);
    m.id = id;
    h_send(h, &m);
}

/* Per-session flow control: a party that reads nothing stalls only its own session; the runtime
 * never sends a session more than the host granted, and refuses a host that breaks the windows. */
static void test_flow_control(void)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    size_t big = 3u << 20;
    uint8_t *blob = malloc(big), *got = NULL;
    for (size_t i = 0; i < big; i++)
        blob[i] = (uint8_t)(i * 2654435761u >> 9);
    CHECK(c_put(a, "/inputs/alice/big", blob, big, SB_PUT_WRITE, reason) == SB_ST_OK);
    a->withhold = true; /* alice reads nothing from here on */
    sb_msg m, r;
    sb_msg_init(&m, SB_MSG_GET);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH);
    m.id = 77;
    m.path = "/inputs/alice/big";
    c_send(a, &m);
    size_t len = 0;
    CHECK(c_put(b, "/inputs/bob/x", "bob", 3, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_get(b, "/inputs/bob/x", &got, &len, reason) == SB_ST_OK && len == 3);
    free(got);
    CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    CHECK(a->rx_owed > 0 && a->rx_owed <= SB_SESSION_WINDOW); /* never beyond its window */
    c_release(a);
    CHECK(c_next(a, &r) == 0 && r.type == SB_MSG_RESPONSE && r.size == big);
    sb_msg_free(&r);
    for (len = 0; len < big && c_next(a, &r) == 0 && r.type == SB_MSG_CHUNK; sb_msg_free(&r)) {
        CHECK(r.data.len <= big - len && memcmp(r.data.p, blob + len, r.data.len) == 0);
        len += r.data.len;
    }
    CHECK(len == big);
    /* A host that sends a session more than its window: the session ends, others go on. Alice's
     * stalled get keeps her session from consuming, so the bytes below are never parsed. */
    a->withhold = true;
    m.id = 78;
    c_send(a, &m);
    sb_msg_init(&m, SB_MSG_SESSION_DATA);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = a->sid;
    m.data = (sb_bytes){blob, 512u << 10};
    for (int i = 0; i < 3 && !a->closed; i++) {
        h_send(h, &m);
        CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    }
    CHECK(a->closed && a->close_status == SB_ST_BAD_REQUEST &&
          strstr(a->close_reason, "more than the session's window"));
    /* A host that grants more credit than the window. */
    sb_msg_init(&m, SB_MSG_SESSION_CREDIT);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_SIZE);
    m.id = b->sid;
    m.size = SB_SESSION_WINDOW;
    h_send(h, &m);
    CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) < 0 && b->closed &&
          strstr(b->close_reason, "granted more than the session's window"));
    client *c = c_connect(h, bob);
    CHECK(!c->closed && c_simple(c, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    free(blob);
    shutdown(h->fd, SHUT_WR);
    CHECK(h_wait(h) == 0);
    h_free(h);
    free(json);
}

static void test_channel_edges(void)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];

    /* A confidential-VM platform without its devices: the runtime says what is missing. */
    host *h = h_start(runtime_bin, "--no-sandbox", "--platform=x");
    CHECK(h_wait(h) == 2); /* options take a separate value */
    h_free(h);
    h = h_start(runtime_bin, "--platform", "sev-snp");
    policy_opts snp = {.expires_in = 3600, .platform = "sev-snp", .no_debug = true};
    char *snp_json = policy_json(&snp);
    sb_msg m, r;
    sb_msg_init(&m, SB_MSG_INIT);
    m.present = SB_F(SB_K_DATA) | SB_F(SB_K_PLATFORM);
    m.data = (sb_bytes){(const uint8_t *)snp_json, strlen(snp_json)};
    m.platform = "sev-snp";
    h_send(h, &m);
    static const uint8_t nonce[32] = {5};
    sb_msg_init(&m, SB_MSG_ATTEST_CHALLENGE);
    m.present = SB_F(SB_K_NONCE);
    m.nonce = (sb_bytes){nonce, 32};
    h_send(h, &m);
    CHECK(h_next(h, &r) == 0 && r.type == SB_MSG_SHUTDOWN && r.status == SB_ST_ATTEST_FAILED &&
          r.reason[0] != 0);
    sb_msg_free(&r);
    CHECK(h_wait(h) == 1);
    h_free(h);
    free(snp_json);

    h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice), *b = c_connect(h, bob);
    /* Data for a session that does not exist is dropped; the others are not disturbed. */
    sb_msg_init(&m, SB_MSG_SESSION_DATA);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = 999;
    m.data = (sb_bytes){(const uint8_t *)"junk", 4};
    h_send(h, &m);
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    /* Garbage where TLS records belong ends only that session. */
    open_session(h, 500);
    m.id = 500;
    m.data = (sb_bytes){(const uint8_t *)"junk that is no TLS record", 26};
    h_send(h, &m);
    while (h->last_close_id != 500 && h_pump(h) == 0)
        ;
    CHECK(h->last_close_status == SB_ST_BAD_REQUEST && strstr(h->last_close_reason, "TLS"));
    /* Reusing an open session id ends it. */
    open_session(h, b->sid);
    CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) < 0 && b->closed &&
          strstr(b->close_reason, "opened twice"));
    /* Sessions still in their TLS handshake are capped (64): the 65th is refused as busy, while
     * authenticated sessions are served on. */
    for (uint64_t id = 1000; id < 1000 + 65; id++)
        open_session(h, id);
    while (h->last_close_id < 1000 && h_pump(h) == 0)
        ;
    CHECK(h->last_close_id == 1064 && h->last_close_status == SB_ST_BUSY &&
          strstr(h->last_close_reason, "busy: 64 sessions are in their TLS handshake"));
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    /* ... and each must finish its handshake within 10 s: then its slot is free again. */
    while ((h->last_close_id < 1000 || h->last_close_status != SB_ST_TIMEOUT) && h_pump(h) == 0)
        ;
    CHECK(h->last_close_status == SB_ST_TIMEOUT &&
          strstr(h->last_close_reason, "TLS handshake not finished within 10 s"));
    usleep(1500000); /* those opened in the next second */
    b = c_connect(h, bob);
    CHECK(!b->closed && c_simple(b, SB_MSG_STATUS, NULL, reason) == SB_ST_OK && b->authenticated);

    /* Uploads in progress count together against the filesystem limit (4 MiB here). */
    uint8_t *blob = calloc(1, 3u << 20);
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE);
    m.id = 1;
    m.path = "/inputs/alice/big";
    c_send(a, &m);
    for (size_t off = 0; off < (3u << 20); off += SB_CHUNK_SIZE) {
        sb_msg_init(&m, SB_MSG_PUT_CHUNK);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = 1;
        m.data = (sb_bytes){blob + off, SB_CHUNK_SIZE};
        c_send(a, &m);
    }
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK); /* all chunks were taken in */
    CHECK(c_put(b, "/inputs/bob/big", blob, 2u << 20, SB_PUT_WRITE, reason) == SB_ST_TOO_LARGE);
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = 1;
    CHECK(c_call(a, &m, &r) == 0 && r.status == SB_ST_OK && r.size == (3u << 20));
    sb_msg_free(&r);

    /* A big download streams while another session is served in between. */
    sb_msg_init(&m, SB_MSG_GET);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH);
    m.id = 2;
    m.path = "/inputs/alice/big";
    c_send(a, &m);
    CHECK(c_simple(b, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    CHECK(c_put(b, "/inputs/bob/small", "s", 1, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(c_next(a, &r) == 0 && r.type == SB_MSG_RESPONSE && r.status == SB_ST_OK &&
          r.size == (3u << 20));
    sb_msg_free(&r);
    size_t got = 0;
    bool same = true;
    while (got < (3u << 20) && c_next(a, &r) == 0 && r.type == SB_MSG_CHUNK && r.id == 2) {
        same = same && r.data.len <= SB_CHUNK_SIZE && memcmp(r.data.p, blob + got, r.data.len) == 0;
        got += r.data.len;
        sb_msg_free(&r);
    }
    CHECK(got == (3u << 20) && same);
    /* Requests queued behind the stream are answered after it, in order. */
    CHECK(c_simple(a, SB_MSG_POLICY_HASH, NULL, reason) == SB_ST_OK);
    free(blob);

    /* End of the channel ends the runtime quietly. */
    shutdown(h->fd, SHUT_WR);
    CHECK(h_wait(h) == 0);
    h_free(h);
    free(json);
}

static void test_run_limits(void)
{
    char reason[SB_REASON_MAX + 1];
    sb_msg r;
    /* A module that needs more memory than the policy allows does not start. */
    policy_opts o = {.expires_in = 3600, .prog_hash = program_hash, .memory_bytes = 65536};
    char *json = policy_json(&o);
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice);
    CHECK(c_put(a, "/programs/p.wasm", program, program_len, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/p.wasm", "exit", "0", &r) == SB_ST_OK &&
          r.outcome == SB_OUT_MEMORY_LIMIT && r.reason && r.reason[0]);
    sb_msg_free(&r);
    h_free(h);
    free(json);

    /* run_seconds: a program spinning with fuel for far longer is stopped by the wall-clock
     * limit. The SIGALRM that does it arrives under seccomp (sandboxed runtime): the allow-list
     * must let the handler return. Until the engine polls the interrupt flag (docs/protocol.md),
     * the run goes on to its fuel limit, and the runtime must survive the signal. */
    o = (policy_opts){.expires_in = 3600, .prog_hash = program_hash, .run_seconds = 1,
#ifdef WASM_HAS_INTERRUPT
                      .fuel = 1ull << 53}; /* the policy maximum: days of spinning */
#else
                      .fuel = 6000000000};
#endif
    json = policy_json(&o);
    h = ready_host(json, NULL);
    a = c_connect(h, alice);
    CHECK(c_put(a, "/programs/p.wasm", program, program_len, SB_PUT_WRITE, reason) == SB_ST_OK);
#ifdef WASM_HAS_INTERRUPT
    CHECK(run(a, "/programs/p.wasm", "spin", NULL, &r) == SB_ST_OK &&
          r.outcome == SB_OUT_TIME_LIMIT && strstr(r.reason, "time limit"));
#else
    CHECK(run(a, "/programs/p.wasm", "spin", NULL, &r) == SB_ST_OK &&
          r.outcome == SB_OUT_FUEL_LIMIT);
#endif
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "exit", "7", &r) == SB_ST_OK && r.exit_code == 7);
    sb_msg_free(&r);
    h_free(h);
    free(json);

    /* Bytes that match the policy's hash but are no wasm module: refused with the reason. */
    static const uint8_t junk[] = "not a wasm module";
    uint8_t junk_hash[32];
    EVP_Digest(junk, sizeof junk, junk_hash, NULL, EVP_sha256(), NULL);
    o = (policy_opts){.expires_in = 3600, .prog_hash = junk_hash};
    json = policy_json(&o);
    h = ready_host(json, "--no-sandbox");
    a = c_connect(h, alice);
    CHECK(c_put(a, "/programs/p.wasm", junk, sizeof junk, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_BAD_REQUEST &&
          strstr(r.reason, "did not start"));
    sb_msg_free(&r);
    h_free(h);
    free(json);
}

/* The policy's clock: off, programs and file timestamps see the fixed time 2000-01-01 (so runs are
 * reproducible); on, both see real time and agree with each other. */
static void test_clock(void)
{
    char reason[SB_REASON_MAX + 1];
    const time_t fixed = 946684800;
    for (int on = 0; on <= 1; on++) {
        policy_opts o = {.expires_in = 3600, .prog_hash = program_hash, .clock = on};
        char *json = policy_json(&o);
        host *h = ready_host(json, "--no-sandbox");
        client *a = c_connect(h, alice);
        sb_msg r;
        long long mtime = 0, now = 0;
        time_t before = time(NULL);
        CHECK(c_put(a, "/programs/p.wasm", program, program_len, SB_PUT_WRITE, reason) == SB_ST_OK);
        CHECK(run(a, "/programs/p.wasm", "clock", NULL, &r) == SB_ST_OK && r.exit_code == 0 &&
              r.out.p && sscanf((const char *)r.out.p, "mtime=%lld now=%lld", &mtime, &now) == 2);
        sb_msg_free(&r);
        if (on)
            CHECK(mtime >= before - 1 && mtime <= time(NULL) + 1 && now >= before - 1 &&
                  now <= time(NULL) + 1);
        else
            CHECK(mtime == fixed && now == fixed);
        h_free(h);
        free(json);
    }
}

/* A policy that fixes a program's arguments: runs get exactly those, whatever a party asks. */
static void test_fixed_args(void)
{
    char reason[SB_REASON_MAX + 1];
    policy_opts o = {.expires_in = 3600, .prog_hash = program_hash, .args = "[\"exit\",\"7\"]"};
    char *json = policy_json(&o);
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice);
    sb_msg r;
    CHECK(c_put(a, "/programs/p.wasm", program, program_len, SB_PUT_WRITE, reason) == SB_ST_OK);
    CHECK(run(a, "/programs/p.wasm", NULL, NULL, &r) == SB_ST_OK && r.exit_code == 7);
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "exit", "7", &r) == SB_ST_OK && r.exit_code == 7);
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "exit", "3", &r) == SB_ST_DENIED && r.reason &&
          strstr(r.reason, "fixes the arguments"));
    sb_msg_free(&r);
    CHECK(run(a, "/programs/p.wasm", "exit", NULL, &r) == SB_ST_DENIED);
    sb_msg_free(&r);
    h_free(h);
    free(json);
}

/* A host that sends nonsense in valid frames (random sessions, random bytes, half handshakes)
 * cannot crash the runtime or disturb a well-behaved session. Fixed seed: reproducible. */
static void test_hostile_host(const char *flag)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, flag);
    client *a = c_connect(h, alice);
    uint32_t seed = 12345;
    uint8_t bytes[2048];
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245u + 12345u;
        sb_msg m;
        uint64_t sid = 1000 + (seed >> 8) % 8;
        switch ((seed >> 16) % 4) {
        case 0:
            sb_msg_init(&m, SB_MSG_SESSION_OPEN);
            m.present = SB_F(SB_K_ID);
            break;
        case 1:
            sb_msg_init(&m, SB_MSG_SESSION_CLOSE);
            m.present = SB_F(SB_K_ID);
            break;
        default: {
            size_t n = (seed >> 4) % sizeof bytes;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                bytes[i] = (uint8_t)(seed >> 16);
            }
            if (n > 5 && (seed & 1)) { /* looks like a TLS handshake record */
                bytes[0] = 22, bytes[1] = 3, bytes[2] = 1;
                bytes[3] = (uint8_t)((n - 5) >> 8), bytes[4] = (uint8_t)(n - 5);
            }
            sb_msg_init(&m, SB_MSG_SESSION_DATA);
            m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
            m.data = (sb_bytes){bytes, n};
        }
        }
        m.id = sid;
        h_send(h, &m);
        if (round % 500 == 0) /* the real party is served throughout */
            CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    }
    CHECK(c_put(a, "/inputs/alice/still", "ok", 2, SB_PUT_WRITE, reason) == SB_ST_OK);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SHUTDOWN);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    m.reason = "done";
    h_send(h, &m);
    CHECK(h_wait(h) == 0);
    h_free(h);
    free(json);
}

/* An authenticated party sending garbage request frames gets a bad-request answer for each and
 * keeps its session. */
static void test_garbage_requests(void)
{
    char *json = default_policy(), reason[SB_REASON_MAX + 1];
    host *h = ready_host(json, "--no-sandbox");
    client *a = c_connect(h, alice);
    uint32_t seed = 777;
    uint8_t frame[4 + 64];
    int answered = 0;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + round % 64;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            frame[4 + i] = (uint8_t)(seed >> 16);
        }
        frame[4] = (uint8_t)(0xA0 | (frame[4] & 0x1F)); /* usually a map: deeper into decoding */
        frame[0] = frame[1] = frame[2] = 0;
        frame[3] = (uint8_t)n;
        SSL_write(a->ssl, frame, (int)(4 + n));
        sb_msg r;
        if (c_next(a, &r) == 0) {
            answered += r.type == SB_MSG_RESPONSE && r.status == SB_ST_BAD_REQUEST && r.reason;
            sb_msg_free(&r);
        }
    }
    CHECK(answered == 200);
    CHECK(c_simple(a, SB_MSG_STATUS, NULL, reason) == SB_ST_OK);
    h_free(h);
    free(json);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "compiled") != 0 && strcmp(argv[3], "interpreter") != 0)) {
        fprintf(stderr, "usage: test_runtime RUNTIME TEST_PROGRAM_WASM compiled|interpreter\n"
                        "(the tiers this build's runtime has: compiled = both)\n");
        return 2;
    }
    compiled_tier = strcmp(argv[3], "compiled") == 0;
    runtime_bin = argv[1];
    program_path = argv[2];
    sb_err err;
    if (sb_read_file(program_path, 16u << 20, &program, &program_len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    EVP_Digest(program, program_len, program_hash, NULL, EVP_sha256(), NULL);
    signal(SIGPIPE, SIG_IGN);
    pki_init();
    alice = party_new("alice");
    bob = party_new("bob");
    eve = party_new("eve");
    test_startup_errors();
    test_attestation();
    test_files();
    test_votes();
    test_expiry();
    test_channel_edges();
    test_flow_control();
    test_sandboxed();
    test_run("--no-sandbox", NULL);
    test_run(NULL, NULL);
    test_run(NULL, "interpreter");
    /* the compiled tier under the sandbox: its code pages pass the W^X filter */
    if (compiled_tier)
        test_run(NULL, "compiled");
    test_run_limits();
    test_clock();
    test_fixed_args();
    test_garbage_requests();
    test_hostile_host(NULL);
    test_hostile_host("--no-sandbox"); /* leaks are checked here under ASan */
    printf("runtime: %d checks, %d failures\n", h_checks, h_failures);
    return h_failures != 0;
}
