/* strongbox.h - libstrongbox, the client library of Strongbox (see docs/client.md).
 *
 * A party uses it to deploy a policy to a host, connect to the computation's isolate, and put,
 * get, run, query and end. Before anything of the party leaves the machine (not even its TLS
 * client certificate), the isolate's certificate is verified against the party's OWN copy of the
 * policy: chain to the policy's attestation root, the PSA token in it, the runtime measurement
 * accepted for the token's platform, the policy hash, the debug rule, validity. The verdict is kept
 * as a readable transcript.
 *
 *     strongbox_options o = {.policy_path = "job.policy.json",
 *                            .key_path = "alice.key", .cert_path = "alice.crt"};
 *     strongbox *s;  strongbox_error e;
 *     if (strongbox_connect(&o, &s, &e) != 0) { fprintf(stderr, "%s\n", e.message); ... }
 *     puts(strongbox_transcript(s));
 *     strongbox_put_file(s, "data.csv", "/inputs/alice/data.csv", 0, &e);
 *     strongbox_close(s);
 *
 * Link with `pkg-config --cflags --libs strongbox`. Thread safety: one strongbox handle per thread;
 * distinct handles are independent (the library has no global state). */
#ifndef STRONGBOX_H
#define STRONGBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRONGBOX_VERSION "0.1.0"

/* What kind of failure (strongbox_error.code). */
typedef enum strongbox_code {
    STRONGBOX_OK = 0,
    STRONGBOX_E_USAGE,     /* bad argument or option */
    STRONGBOX_E_LOCAL,     /* local file, key, certificate or policy problem */
    STRONGBOX_E_NETWORK,   /* cannot reach the host, timeout, connection lost */
    STRONGBOX_E_HOST,      /* the host refused (no such computation, quota, bad policy...) */
    STRONGBOX_E_VERIFY,    /* the isolate's attestation did not verify: nothing was sent */
    STRONGBOX_E_TLS,       /* TLS handshake failed (e.g. our certificate is not in the policy) */
    STRONGBOX_E_REFUSED,   /* the runtime refused the request (remote_status says why) */
    STRONGBOX_E_PROTOCOL,  /* malformed answer */
    STRONGBOX_E_ENDED,     /* the computation ended (crash, shutdown rule, expiry) */
} strongbox_code;

typedef struct strongbox_error {
    strongbox_code code;
    int remote_status;     /* for STRONGBOX_E_REFUSED: the runtime's status (docs/protocol.md) */
    char message[512];     /* what failed, e.g. "attestation check 'measurement' failed: ..." */
} strongbox_error;

/* Progress of a transfer: `done` of `total` bytes (total 0 = unknown). */
typedef void (*strongbox_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct strongbox_options {
    const char *policy_path;   /* the party's own copy of the policy (required) */
    const char *key_path;      /* the party's private key, PEM (connect) */
    const char *cert_path;     /* the party's certificate, PEM, as named in the policy (connect) */
    const char *host;          /* "HOST:PORT"; NULL = the policy's "host" field */
    int timeout_ms;            /* per network operation; 0 = 30000 */
    int ready_timeout_ms;      /* deploy: wait this long for the isolate to be attested; 0 = 60000 */
    time_t verify_at;          /* verify certificates and policy as of this time; 0 = now */
    strongbox_progress_fn progress;
    void *progress_ctx;
} strongbox_options;

typedef struct strongbox strongbox;

/* Sends the policy to the host, which launches (or finds, same hash) its isolate; waits until it
 * is attested, then verifies the isolate exactly as strongbox_connect does (STRONGBOX_E_VERIFY
 * naming the failed check otherwise). With key_path/cert_path the party also authenticates;
 * without, none of its certificates is sent. hash_hex (65 bytes) receives the policy hash.
 * Returns 0 or -1. */
int strongbox_deploy(const strongbox_options *opts, char hash_hex[65], strongbox_error *err);

/* Connects to the computation of the policy, verifies the isolate (refusing with
 * STRONGBOX_E_VERIFY and the failed check named in err), and authenticates with the party's
 * certificate. */
int strongbox_connect(const strongbox_options *opts, strongbox **out, strongbox_error *err);
/* What was verified, one line per check (valid until strongbox_close). */
const char *strongbox_transcript(const strongbox *s);
/* The policy hash (64 hex digits) of the connected computation. */
const char *strongbox_policy_hash(const strongbox *s);

/* Uploads a local file to `remote` (append: 1 to append instead of replacing). Streams in chunks:
 * memory use does not grow with the file. */
int strongbox_put_file(strongbox *s, const char *local_path, const char *remote, int append,
                       strongbox_error *err);
int strongbox_put_buffer(strongbox *s, const void *data, size_t len, const char *remote, int append,
                         strongbox_error *err);
/* Downloads `remote` into local_path (written to a temporary file, renamed when complete: a failed
 * download leaves no partial file). */
int strongbox_get_file(strongbox *s, const char *remote, const char *local_path,
                       strongbox_error *err);
/* Downloads into memory (*data malloc'd, NUL-terminated for convenience). max_len caps it. */
int strongbox_get_buffer(strongbox *s, const char *remote, size_t max_len, uint8_t **data,
                         size_t *len, strongbox_error *err);
/* Like strongbox_get_file, but what is written is `remote` sealed inside the isolate to the P-256
 * key of the caller's certificate in the policy (HPKE, RFC 9180): an envelope (docs/sealed.md)
 * that only that key opens, safe to keep on untrusted storage. Same rights as a get. */
int strongbox_get_sealed_file(strongbox *s, const char *remote, const char *local_path,
                              strongbox_error *err);

/* What an opened envelope names, and what was proven about where it came from. */
typedef struct strongbox_unsealed {
    char path[1025];           /* the file of the computation it holds */
    char policy_hash[65];      /* hex */
    time_t sealed_at;          /* the isolate's clock when it sealed it */
    int origin_checked;        /* 1: signed by an isolate attested for the given policy */
    char origin[512];          /* readable: what was checked, or why the origin was not checked */
} strongbox_unsealed;

/* Opens a sealed envelope offline with the reader's private key (PEM): *data (malloc'd,
 * NUL-terminated) gets the file, *info what it names. With policy_path the envelope must name that
 * policy, and its signature and isolate certificate chain are verified against it as of the
 * sealing time (attestation root, PSA token, accepted measurement, policy hash); with expect_path
 * it must hold that path. Refuses a modified envelope, another key, policy or path with the
 * reason (STRONGBOX_E_VERIFY). */
int strongbox_unseal(const uint8_t *envelope, size_t len, const char *key_path,
                     const char *policy_path, const char *expect_path, uint8_t **data,
                     size_t *data_len, strongbox_unsealed *info, strongbox_error *err);

/* After the computation ended: fetches the envelope of `remote` sealed to the caller (the identity
 * of opts->cert_path) that the host kept because the policy's shutdown.keep_sealed allows it, and
 * writes it to `local` only after checking it as strongbox_unseal does with the policy and
 * expect_path = remote (opts->key_path opens it; the host is untrusted: an envelope of another
 * reader, computation, path or origin, or a modified one, is refused with STRONGBOX_E_VERIFY).
 * *info says what was checked. STRONGBOX_E_ENDED when the policy lets the host keep nothing of
 * remote; STRONGBOX_E_HOST when the host holds none (docs/sealed.md). Needs no running isolate. */
int strongbox_get_kept_sealed_file(const strongbox_options *opts, const char *remote,
                                   const char *local, strongbox_unsealed *info,
                                   strongbox_error *err);

typedef enum strongbox_outcome {
    STRONGBOX_EXITED = 0, STRONGBOX_TRAPPED = 1, STRONGBOX_FUEL_LIMIT = 2,
    STRONGBOX_MEMORY_LIMIT = 3, STRONGBOX_TIME_LIMIT = 4,
} strongbox_outcome;

typedef struct strongbox_run_result {
    strongbox_outcome outcome;
    uint32_t exit_code;        /* for STRONGBOX_EXITED */
    char reason[1025];         /* trap or limit text, or a notice ("output cut at the policy's output_bytes"); "" if none */
    uint8_t *out, *err;        /* captured stdout / stderr (malloc'd, NUL-terminated) */
    size_t out_len, err_len;
    uint8_t *receipt;          /* strongbox_run_with_receipt: the signed receipt (malloc'd) */
    size_t receipt_len;
} strongbox_run_result;

/* Runs the program stored at `program` with args (may be NULL when nargs is 0). Returns 0 when the
 * runtime ran it (whatever the outcome: see res), -1 when it refused. */
int strongbox_run(strongbox *s, const char *program, const char *const *args, size_t nargs,
                  strongbox_run_result *res, strongbox_error *err);
/* Like strongbox_run, and the runtime also signs a receipt of the run (docs/receipts.md) with the
 * isolate's attested key: res->receipt. A run that happened but got no receipt (it would be too
 * large) fails with STRONGBOX_E_REFUSED and the runtime's reason; res still holds the run. */
int strongbox_run_with_receipt(strongbox *s, const char *program, const char *const *args,
                               size_t nargs, strongbox_run_result *res, strongbox_error *err);
/* Runs the policy's pipeline `name`: its steps in order, each a program of the policy with the
 * arguments the policy fixes, stopping at the first step that does not exit with code 0. res holds
 * the last step's outcome, every step's output, and in res->reason the report ("pipeline P: all
 * 3 steps ran", or which step stopped it and why). want_receipt: res->receipt covers every step
 * that ran. Refused (-1) when a step's program may not run (not uploaded, another hash, no right):
 * then no step ran. */
int strongbox_run_pipeline(strongbox *s, const char *name, int want_receipt,
                           strongbox_run_result *res, strongbox_error *err);
void strongbox_run_result_free(strongbox_run_result *res);

/* A party's own file to check against a receipt: `name` is its path in the computation, `local`
 * the file on this machine; output 0 = an input the program could read, 1 = a file it wrote. */
typedef struct strongbox_receipt_file {
    const char *name;
    const char *local;
    int output;
} strongbox_receipt_file;

/* Verifies a receipt offline, at any later time, with only the party's (or an auditor's) copy of
 * the policy: its certificate chain to the policy's attestation root as of the receipt's time, the
 * PSA token in the leaf, the runtime measurement accepted for the platform, the policy hash, each
 * step's program hash against the policy, the signature by the leaf's key; then each of files[]
 * against the hashes the receipt names. On success *text (and *json, when not NULL) describe what
 * it proves (malloc'd). Refuses with the reason (STRONGBOX_E_VERIFY). */
int strongbox_receipt_verify(const uint8_t *receipt, size_t len, const char *policy_path,
                             const strongbox_receipt_file *files, size_t n_files, char **text,
                             char **json, strongbox_error *err);

/* The runtime's status of the computation (JSON object text, malloc'd). */
int strongbox_status(strongbox *s, char **json, strongbox_error *err);
/* Votes to end the computation; *tally (malloc'd) is the runtime's vote tally. */
int strongbox_end_vote(strongbox *s, char **tally, strongbox_error *err);

void strongbox_close(strongbox *s);

/* The host's own (unauthenticated) view of one computation: its JSON line (malloc'd). Needs
 * opts->policy_path (host address and hash), or opts->host and hash_hex; hash_hex NULL = the
 * policy's. The host lists no other computation (docs/host.md). */
int strongbox_host_status(const strongbox_options *opts, const char *hash_hex, char **text,
                          strongbox_error *err);

#ifdef __cplusplus
}
#endif
#endif
