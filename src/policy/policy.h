/* policy.h - the Strongbox policy: parse, validate, hash and query the public contract of one
 * computation.
 *
 * A policy is a JSON file all parties hold (format: docs/policy.md). Its hash, SHA-256 over the
 * RFC 8785 (JCS) canonical form, is bound into the isolate's attestation. This library is part of
 * the trusted runtime: parsing is strict and bounded, and a parsed sb_policy is immutable, so any
 * number of threads may query one policy at once. Every pointer a query returns is owned by the
 * policy and stays valid until sb_policy_free.
 *
 * Errors: functions that can fail return 0 / -1 (or a documented value) and fill an sb_err whose
 * message names the JSON path and the problem, e.g.
 *     "policy.identities[1].certificate: contains a private key; never put a private key in a policy"
 */
#ifndef SB_POLICY_H
#define SB_POLICY_H

#include "common/common.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SB_POLICY_FORMAT_VERSION 1
#define SB_POLICY_MAX_BYTES (1u << 20) /* larger inputs are refused before parsing */
#define SB_POLICY_MAX_DEPTH 16         /* deepest nesting of arrays/objects accepted */
#define SB_POLICY_PATH_MAX 1024        /* longest path (bytes) in rights, programs, results */
#define SB_POLICY_NAME_MAX 64          /* longest identity name */
#define SB_POLICY_MEASUREMENT_MAX 64   /* longest runtime measurement (bytes) */
#define SB_POLICY_ARGS_MAX 64          /* most arguments a program entry may fix (as the protocol) */
#define SB_POLICY_ARG_MAX 4096         /* longest argument (bytes), as the protocol's run request */
#define SB_POLICY_PIPELINES_MAX 32     /* most pipelines a policy may name */
#define SB_POLICY_STEPS_MAX 16         /* most steps of one pipeline */

/* Error codes put in sb_err.code. */
enum sb_policy_error {
    SB_POLICY_OK = 0,
    SB_POLICY_E_SYNTAX = 1,    /* not JSON, duplicate key, too large, too deep, number not exact */
    SB_POLICY_E_INVALID = 2,   /* JSON but not a valid policy (unknown field, wrong type, ...) */
    SB_POLICY_E_EXPIRED = 3,   /* the policy or a certificate in it is not valid at `now` */
    SB_POLICY_E_NOMEM = 4,
    SB_POLICY_E_IO = 5,        /* sb_policy_load could not read the file */
};

/* Rights bits. The values are part of the contract with src/vfs and src/wasi, which take rights as
 * plain {prefix, bits} arrays without depending on this library. */
enum sb_right {
    SB_RIGHT_READ = 1,
    SB_RIGHT_WRITE = 2,
    SB_RIGHT_EXEC = 4, /* identities only: may run the program at (or under) the path */
};

/* One grant: `rights` on `prefix` and everything below it. A prefix matches whole path components
 * only: "/inputs/a" covers "/inputs/a" and "/inputs/a/x", never "/inputs/ab". Prefixes are
 * absolute, normalised paths ("/" or "/a/b": no trailing slash, no empty, "." or ".." component).
 * Grants of one principal are sorted by prefix (byte order) and no prefix appears twice. The rights
 * of a principal on a path are the union of all grants that cover it (a deeper grant never takes
 * rights away). */
typedef struct sb_policy_grant {
    const char *prefix;
    unsigned rights; /* SB_RIGHT_* bits, never 0 */
} sb_policy_grant;

/* A party. Identities keep the order of the policy file; `index` is the position (0-based), handy
 * for per-identity state arrays such as those of sb_policy_may_end. */
typedef struct sb_policy_identity {
    size_t index;
    const char *name;          /* [A-Za-z0-9][A-Za-z0-9._-]*, at most SB_POLICY_NAME_MAX bytes */
    X509 *cert;                /* owned by the policy: do not free */
    const char *cert_pem;      /* exactly as written in the policy */
    const uint8_t *cert_der;   /* DER of cert, for exact matching */
    size_t cert_der_len;
    const sb_policy_grant *grants;
    size_t n_grants;
    bool result_reader;        /* may read something in a results area (see sb_policy_results) */
} sb_policy_identity;

/* A program that may run, its expected module hash and the rights it runs with (WASI preopens).
 * With has_args the policy fixes its arguments: every run gets exactly args[0..n_args) as
 * argv[1..] (n_args may be 0: "no arguments, ever"), whatever a party asks for; see
 * sb_policy_run_args. */
typedef struct sb_policy_program {
    const char *path;          /* where the program provider uploads it, e.g. "/programs/t.wasm" */
    uint8_t sha256[32];        /* SHA-256 of the .wasm module bytes */
    const sb_policy_grant *grants; /* READ/WRITE only */
    size_t n_grants;
    const char *const *args;   /* with has_args: at most SB_POLICY_ARGS_MAX strings, each at most
                                  SB_POLICY_ARG_MAX bytes, no NUL */
    size_t n_args;
    bool has_args;             /* the entry has an "args" field */
} sb_policy_program;

/* One step of a pipeline: a program of the policy and the arguments (argv[1..]) it runs with. */
typedef struct sb_policy_step {
    const sb_policy_program *program;
    const char *const *args;
    size_t n_args;
} sb_policy_step;

/* A named, ordered list of steps run by one request (docs/policy.md "pipelines"). Each step runs
 * with its program's own rights; a later step reads what earlier ones wrote only where the policy
 * lets its program read. */
typedef struct sb_policy_pipeline {
    const char *name;          /* like an identity name */
    const sb_policy_step *steps;
    size_t n_steps;            /* 1..SB_POLICY_STEPS_MAX */
} sb_policy_pipeline;

typedef struct sb_policy_measurement {
    uint8_t value[SB_POLICY_MEASUREMENT_MAX];
    size_t len;
} sb_policy_measurement;

/* Accepted runtime measurements for one platform. The measurement is the platform's *primary*
 * measurement (attest/claims.h: process "runtime" SHA-256 of the runtime binary, 32 bytes; kvm 32
 * or 48; sev-snp "launch" 48; tdx "td-launch" 48 = SHA-384(MRTD||RTMR0||RTMR1||RTMR2); cca "rim"
 * 32/48/64; nitro "pcr0" 48; psa 32/48/64). */
typedef struct sb_policy_runtime {
    const char *platform;      /* "process", "kvm", "sev-snp", "tdx", "cca", "nitro", "psa" */
    const sb_policy_measurement *measurements;
    size_t n_measurements;     /* at least 1 */
} sb_policy_runtime;

/* Which tier of the WebAssembly engine runs the programs (limits.engine; docs/policy.md). */
typedef enum sb_policy_engine {
    SB_POLICY_ENGINE_INTERPRETER = 0, /* "interpreter": the reference tier, in every runtime */
    SB_POLICY_ENGINE_COMPILED = 1,    /* "compiled": x86-64 machine code (runtimes built with it) */
} sb_policy_engine;

/* The tier of a policy without limits.engine: the compiled tier where the runtime has it. A runtime
 * built without it (interpreter only, or not x86-64) runs such a policy on the interpreter, since
 * the policy did not ask for a tier and both give the same results, traps and fuel use; a policy
 * that names "compiled" is refused there instead. `policy new` always writes the field, so the
 * hash every party compares names the tier. */
#define SB_POLICY_ENGINE_DEFAULT SB_POLICY_ENGINE_COMPILED

/* "interpreter" / "compiled", and back (0, or -1 for any other name). */
const char *sb_policy_engine_name(sb_policy_engine e);
int sb_policy_engine_parse(const char *name, sb_policy_engine *out);

/* Per-run and per-computation limits (all required in the file except engine; ranges in
 * docs/policy.md). */
typedef struct sb_policy_limits {
    uint64_t fuel;             /* engine fuel units per run */
    uint64_t memory_bytes;     /* most linear memory a run may have */
    uint64_t run_seconds;      /* wall-clock time per run */
    uint64_t fs_bytes;         /* total bytes the in-memory filesystem may hold */
    uint64_t output_bytes;     /* most bytes of stdout+stderr one run may produce (kept, returned) */
    sb_policy_engine engine;   /* the engine tier (optional field; SB_POLICY_ENGINE_DEFAULT) */
    bool engine_named;         /* the policy names the tier (else a runtime without the default
                                * tier may run the other one) */
} sb_policy_limits;

typedef struct sb_policy sb_policy;

/* Parse flags. */
#define SB_POLICY_SKIP_TIME_CHECKS 1u /* do not check expiry or certificate validity against `now`
                                         (for showing or hashing an old policy; never in the runtime) */

/* Parses and validates a policy from `len` bytes (need not be NUL-terminated). Refuses inputs over
 * SB_POLICY_MAX_BYTES or nested deeper than SB_POLICY_MAX_DEPTH, duplicate keys, integers outside
 * +/-2^53 and non-finite numbers. Unless SB_POLICY_SKIP_TIME_CHECKS, also refuses a policy whose
 * expiry is at or before `now` and certificates not valid at `now`. On success *out owns
 * everything; on failure *out is NULL and err says what is wrong. */
int sb_policy_parse(const void *data, size_t len, time_t now, unsigned flags, sb_policy **out,
                    sb_err *err);
/* sb_policy_parse on the contents of a file (at most SB_POLICY_MAX_BYTES). */
int sb_policy_load(const char *path, time_t now, unsigned flags, sb_policy **out, sb_err *err);
void sb_policy_free(sb_policy *policy);

/* ---- identity of the policy itself ---- */

/* SHA-256 of the canonical form: 32 bytes, and as 64 lower-case hex digits. */
const uint8_t *sb_policy_hash(const sb_policy *policy);
const char *sb_policy_hash_hex(const sb_policy *policy);
/* The RFC 8785 canonical form that was hashed (not NUL-terminated; *len set). */
const uint8_t *sb_policy_canonical(const sb_policy *policy, size_t *len);
const char *sb_policy_name(const sb_policy *policy);

/* RFC 8785 canonical form of any JSON text (same caps as policies, nesting up to max_depth, at most
 * 64). *out is malloc'd, not NUL-terminated. Returns 0 or -1 (SB_POLICY_E_SYNTAX / _NOMEM). */
int sb_policy_jcs(const void *json, size_t len, unsigned max_depth, uint8_t **out, size_t *out_len,
                  sb_err *err);

/* ---- parties and rights ---- */

size_t sb_policy_identity_count(const sb_policy *policy);
const sb_policy_identity *sb_policy_identity_at(const sb_policy *policy, size_t index);
const sb_policy_identity *sb_policy_find_identity(const sb_policy *policy, const char *name);
/* Exact match on the certificate (DER equality), as presented in TLS. NULL if none. */
const sb_policy_identity *sb_policy_find_identity_by_cert(const sb_policy *policy, X509 *cert);
const sb_policy_identity *sb_policy_find_identity_by_der(const sb_policy *policy,
                                                         const uint8_t *der, size_t len);

/* Rights (SB_RIGHT_* bits) that a grant list gives on `path`: the union of the grants whose prefix
 * covers it. 0 when path is not an absolute, normalised path. Works on any grant array. */
unsigned sb_policy_grants_rights(const sb_policy_grant *grants, size_t n, const char *path);
/* Same, for an identity of this policy. */
unsigned sb_policy_rights(const sb_policy_identity *identity, const char *path);

/* True when path is a normalised absolute path as the policy accepts them (see sb_policy_grant). */
bool sb_policy_path_valid(const char *path);
/* True when `prefix` covers `path` on whole components ("/" covers everything). */
bool sb_policy_path_covers(const char *prefix, const char *path);

/* ---- programs ---- */

size_t sb_policy_program_count(const sb_policy *policy);
const sb_policy_program *sb_policy_program_at(const sb_policy *policy, size_t index);
/* The program entry at exactly `path`, or NULL. */
const sb_policy_program *sb_policy_find_program(const sb_policy *policy, const char *path);
/* May `identity` run the module with SHA-256 `module_sha256` stored at `path`? True only when the
 * path names a program of the policy, the hash matches it, and the identity has EXEC on the path.
 * When false and err is given, err says which check failed. */
bool sb_policy_may_run(const sb_policy *policy, const sb_policy_identity *identity,
                       const char *path, const uint8_t module_sha256[32], sb_err *err);
/* The arguments (argv[1..]) a run of `program` gets when a party's run request carries
 * requested[0..n_requested). Without "args" in the policy entry: the request's own. With "args":
 * the policy's, and the request must carry either no arguments or exactly the policy's (same count,
 * same bytes); anything else returns -1 and err says so (the runtime answers "denied"). On success
 * args and n_args then point at the policy's or the caller's array. */
int sb_policy_run_args(const sb_policy_program *program, const char *const *requested,
                       size_t n_requested, const char *const **args, size_t *n_args, sb_err *err);

/* Pipelines, in policy order; the one named `name`, or NULL. */
size_t sb_policy_pipeline_count(const sb_policy *policy);
const sb_policy_pipeline *sb_policy_pipeline_at(const sb_policy *policy, size_t index);
const sb_policy_pipeline *sb_policy_find_pipeline(const sb_policy *policy, const char *name);

/* ---- runtimes and attestation ---- */

/* Whether debug/insecure platforms are acceptable at all (runtimes.allow_debug, default false). */
bool sb_policy_allow_debug(const sb_policy *policy);
/* True for platforms that are insecure by definition ("process"). */
bool sb_policy_platform_insecure(const char *platform);
/* Is `platform` acceptable at all given the debug rule? The platform must be listed in the policy,
 * and when debug is set (or the platform is insecure by definition) the policy must allow debug. */
bool sb_policy_platform_acceptable(const sb_policy *policy, const char *platform, bool debug,
                                   sb_err *err);
/* Is an isolate on `platform` with primary measurement (measurement, len), reporting the debug
 * flag `debug`, acceptable? Combines sb_policy_platform_acceptable with an exact match against the
 * platform's accepted measurements. err (may be NULL) says why not. */
bool sb_policy_accepts(const sb_policy *policy, const char *platform, const uint8_t *measurement,
                       size_t len, bool debug, sb_err *err);
size_t sb_policy_runtime_count(const sb_policy *policy);
const sb_policy_runtime *sb_policy_runtime_at(const sb_policy *policy, size_t index);
const sb_policy_runtime *sb_policy_find_runtime(const sb_policy *policy, const char *platform);

/* The attestation service that vouches for isolates: its URL ("http(s)://host[:port][/path]") and
 * root certificate (owned by the policy; X509_up_ref it to keep it longer). */
const char *sb_policy_attestation_url(const sb_policy *policy);
X509 *sb_policy_attestation_root(const sb_policy *policy);
const char *sb_policy_attestation_root_pem(const sb_policy *policy);

/* Where parties reach the host: "name:port", "a.b.c.d:port" or "[v6]:port". */
const char *sb_policy_host(const sb_policy *policy);

/* ---- limits, clock, lifetime ---- */

const sb_policy_limits *sb_policy_limits_of(const sb_policy *policy);
/* Whether programs see the real time (WASI clock_time_get); when false they see a fixed clock. */
bool sb_policy_clock(const sb_policy *policy);
time_t sb_policy_expires(const sb_policy *policy);
/* True when `now` is at or after the expiry: the isolate must refuse everything and shut down. */
bool sb_policy_expired(const sb_policy *policy, time_t now);

/* ---- results and shutdown ---- */

/* The result areas (path prefixes) named by the policy's "results" field. A result reader is an
 * identity with READ on some path inside a result area (or on an ancestor of one). */
const char *const *sb_policy_results(const sb_policy *policy, size_t *n);
/* True when `path` lies in a result area and `identity` may read it: the files a reader must have
 * read before its end vote counts. */
bool sb_policy_is_result_for(const sb_policy *policy, const sb_policy_identity *identity,
                             const char *path);
/* True when `path` lies in a result area. */
bool sb_policy_in_results(const sb_policy *policy, const char *path);
/* "shutdown.keep_sealed": the paths (inside result areas) whose files the isolate seals to each
 * of their readers when the computation ends, for the host to keep (docs/sealed.md). n = 0 when
 * the policy keeps nothing. sb_policy_keeps_sealed: `path` lies under one of them. */
const char *const *sb_policy_keep_sealed(const sb_policy *policy, size_t *n);
bool sb_policy_keeps_sealed(const sb_policy *policy, const char *path);
/* Result readers, in identity order. */
size_t sb_policy_result_reader_count(const sb_policy *policy);
const sb_policy_identity *sb_policy_result_reader_at(const sb_policy *policy, size_t index);
/* The quorum that may end the computation early: members (identities) and how many must vote.
 * Returns the member count; 0 (and *count 0) when the policy names no quorum. */
size_t sb_policy_quorum(const sb_policy *policy, const sb_policy_identity *const **members,
                        size_t *count);

enum sb_policy_end {
    SB_POLICY_END_NO = 0,        /* keep running */
    SB_POLICY_END_READERS = 1,   /* every result reader has read its results and voted */
    SB_POLICY_END_QUORUM = 2,    /* enough quorum members voted */
    SB_POLICY_END_EXPIRED = 3,   /* the policy expired */
};
/* May the computation end now? voted[i] and read_all[i] describe identity i (arrays of
 * sb_policy_identity_count entries): whether it has voted to end, and whether it has read every
 * result file it may read (read_all matters for result readers only). */
enum sb_policy_end sb_policy_may_end(const sb_policy *policy, const bool *voted,
                                     const bool *read_all, time_t now);

#endif
