/* proto.c - strict CBOR frame encoding/decoding for the Strongbox protocol (see proto.h).
 *
 * Only the CBOR subset the protocol uses is implemented (unsigned ints, byte and text strings,
 * one array of texts, one top-level map), by hand: a general CBOR library would accept encodings
 * (indefinite lengths, tags, duplicate keys) we must refuse, and would build a tree we do not need. */
#include "proto/proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MT_UINT = 0, MT_BYTES = 2, MT_TEXT = 3, MT_ARRAY = 4, MT_MAP = 5 };
enum { KIND_UINT, KIND_BYTES, KIND_TEXT, KIND_ARGS };

/* The type and cap of each field. For bytes: min..max length; texts: max bytes. */
static const struct field_spec {
    const char *name;
    uint8_t kind;
    uint32_t min, max;
} fields[SB_K_COUNT_] = {
    [SB_K_VERSION] = {"version", KIND_UINT, 0, 0},
    [SB_K_TYPE] = {"type", KIND_UINT, 0, 0},
    [SB_K_ID] = {"id", KIND_UINT, 0, 0},
    [SB_K_STATUS] = {"status", KIND_UINT, 0, 0},
    [SB_K_REASON] = {"reason", KIND_TEXT, 0, SB_REASON_MAX},
    [SB_K_PATH] = {"path", KIND_TEXT, 0, SB_PATH_MAX},
    [SB_K_DATA] = {"data", KIND_BYTES, 0, SB_DATA_MAX},
    [SB_K_SIZE] = {"size", KIND_UINT, 0, 0},
    [SB_K_MODE] = {"mode", KIND_UINT, 0, 0},
    [SB_K_ARGS] = {"args", KIND_ARGS, 0, SB_ARG_MAX},
    [SB_K_PLATFORM] = {"platform", KIND_TEXT, 0, SB_PLATFORM_MAX},
    [SB_K_NONCE] = {"nonce", KIND_BYTES, SB_NONCE_MIN, SB_NONCE_MAX},
    [SB_K_HASH] = {"hash", KIND_BYTES, 32, 32},
    [SB_K_EVIDENCE] = {"evidence", KIND_BYTES, 0, SB_DATA_MAX},
    [SB_K_BINDING] = {"binding", KIND_BYTES, 64, 64},
    [SB_K_EXIT_CODE] = {"exit_code", KIND_UINT, 0, 0},
    [SB_K_OUTCOME] = {"outcome", KIND_UINT, 0, 0},
    [SB_K_OUT] = {"out", KIND_BYTES, 0, SB_DATA_MAX / 2},
    [SB_K_ERR] = {"err", KIND_BYTES, 0, SB_DATA_MAX / 2},
    [SB_K_LEVEL] = {"level", KIND_UINT, 0, 0},
    [SB_K_FLAGS] = {"flags", KIND_UINT, 0, 0},
    [SB_K_NAME] = {"name", KIND_TEXT, 0, SB_NAME_MAX},
};

#define F SB_F
#define BASE (F(SB_K_VERSION) | F(SB_K_TYPE))

/* Which fields each message type requires and which it may carry in addition. */
static const struct schema {
    const char *name;
    uint32_t required, optional;
} schemas[] = {
    [SB_MSG_INIT] = {"init", F(SB_K_DATA) | F(SB_K_PLATFORM), 0},
    [SB_MSG_ATTEST_CHALLENGE] = {"attest-challenge", F(SB_K_NONCE), 0},
    [SB_MSG_ATTEST_REQUEST] = {"attest-request",
                               F(SB_K_DATA) | F(SB_K_HASH) | F(SB_K_BINDING) | F(SB_K_PLATFORM),
                               F(SB_K_EVIDENCE)},
    [SB_MSG_ATTEST_RESULT] = {"attest-result", F(SB_K_STATUS), F(SB_K_DATA) | F(SB_K_REASON)},
    [SB_MSG_READY] = {"ready", F(SB_K_HASH), 0},
    [SB_MSG_SESSION_OPEN] = {"session-open", F(SB_K_ID), 0},
    [SB_MSG_SESSION_DATA] = {"session-data", F(SB_K_ID) | F(SB_K_DATA), 0},
    [SB_MSG_SESSION_CLOSE] = {"session-close", F(SB_K_ID), F(SB_K_STATUS) | F(SB_K_REASON)},
    [SB_MSG_SHUTDOWN] = {"shutdown", F(SB_K_STATUS) | F(SB_K_REASON), 0},
    [SB_MSG_EVENT] = {"event", F(SB_K_LEVEL) | F(SB_K_REASON), 0},
    [SB_MSG_SESSION_CREDIT] = {"session-credit", F(SB_K_ID) | F(SB_K_SIZE), 0},
    [SB_MSG_SESSION_AUTH] = {"session-auth", F(SB_K_ID), 0},
    [SB_MSG_KEEP_BEGIN] = {"keep-begin", F(SB_K_ID) | F(SB_K_PATH) | F(SB_K_SIZE), 0},
    [SB_MSG_KEEP_DATA] = {"keep-data", F(SB_K_DATA), 0},
    [SB_MSG_KEEP_DONE] = {"keep-done", F(SB_K_SIZE), 0},
    [SB_MSG_PUT_BEGIN] = {"put-begin", F(SB_K_ID) | F(SB_K_PATH) | F(SB_K_MODE), F(SB_K_SIZE)},
    [SB_MSG_PUT_CHUNK] = {"put-chunk", F(SB_K_ID) | F(SB_K_DATA), 0},
    [SB_MSG_PUT_END] = {"put-end", F(SB_K_ID), 0},
    [SB_MSG_GET] = {"get", F(SB_K_ID) | F(SB_K_PATH), 0},
    [SB_MSG_LIST] = {"list", F(SB_K_ID) | F(SB_K_PATH), 0},
    [SB_MSG_RUN] = {"run", F(SB_K_ID) | F(SB_K_PATH), F(SB_K_ARGS) | F(SB_K_FLAGS)},
    [SB_MSG_POLICY_HASH] = {"policy-hash", F(SB_K_ID), 0},
    [SB_MSG_STATUS] = {"status", F(SB_K_ID), 0},
    [SB_MSG_END_VOTE] = {"end-vote", F(SB_K_ID), 0},
    [SB_MSG_GET_SEALED] = {"get-sealed", F(SB_K_ID) | F(SB_K_PATH), 0},
    [SB_MSG_RUN_PIPELINE] = {"run-pipeline", F(SB_K_ID) | F(SB_K_NAME), F(SB_K_FLAGS)},
    [SB_MSG_RESPONSE] = {"response", F(SB_K_ID) | F(SB_K_STATUS),
                         F(SB_K_REASON) | F(SB_K_SIZE) | F(SB_K_HASH) | F(SB_K_DATA) |
                             F(SB_K_EXIT_CODE) | F(SB_K_OUTCOME) | F(SB_K_OUT) | F(SB_K_ERR)},
    [SB_MSG_CHUNK] = {"chunk", F(SB_K_ID) | F(SB_K_DATA), 0},
    [SB_MSG_ENTRY] = {"entry", F(SB_K_ID) | F(SB_K_PATH) | F(SB_K_SIZE), 0},
};
#define N_SCHEMAS (sizeof schemas / sizeof schemas[0])

static const struct schema *schema_of(uint64_t type)
{
    return type < N_SCHEMAS && schemas[type].name ? &schemas[type] : NULL;
}

const char *sb_msg_type_name(int type)
{
    const struct schema *s = type >= 0 ? schema_of((uint64_t)type) : NULL;
    return s ? s->name : "unknown";
}

const char *sb_status_name(int status)
{
    static const char *const names[SB_ST_COUNT_] = {
        "ok", "bad-request", "denied", "not-found", "too-large", "expired", "conflict",
        "hash-mismatch", "not-ready", "shutting-down", "unauthenticated", "attest-failed",
        "internal", "busy", "timeout"};
    return status >= 0 && status < SB_ST_COUNT_ ? names[status] : "unknown";
}

const char *sb_outcome_name(int outcome)
{
    static const char *const names[SB_OUT_COUNT_] = {"exited", "trapped", "fuel-limit",
                                                     "memory-limit", "time-limit"};
    return outcome >= 0 && outcome < SB_OUT_COUNT_ ? names[outcome] : "unknown";
}

void sb_msg_init(sb_msg *m, sb_msg_type type)
{
    memset(m, 0, sizeof *m);
    m->type = type;
}

void sb_msg_free(sb_msg *m)
{
    free(m->mem_);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- shared checks */

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and no NUL byte. */
static int text_ok(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                             : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (c == 0 || n == 9 || n >= len - i)
            return n == 0 && c != 0;
        uint32_t cp = n == 0 ? c : c & (0x3F >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Checks one field value against its spec (lengths/caps and text validity). */
static int check_len(int key, const uint8_t *p, size_t len, sb_err *err)
{
    const struct field_spec *f = &fields[key];
    if (f->kind == KIND_BYTES && (len < f->min || len > f->max))
        return sb_err_set(err, len > f->max ? SB_PE_OVERSIZE : SB_PE_VALUE,
                          "%s: %zu bytes, must be %u..%u", f->name, len, f->min, f->max);
    if (f->kind == KIND_TEXT || f->kind == KIND_ARGS) {
        if (len > f->max)
            return sb_err_set(err, SB_PE_OVERSIZE, "%s: text of %zu bytes over the cap of %u",
                              f->name, len, f->max);
        if (!text_ok(p, len))
            return sb_err_set(err, SB_PE_VALUE, "%s: not UTF-8 text without NUL", f->name);
    }
    return 0;
}

static int check_fields(const struct schema *s, uint32_t present, sb_err *err)
{
    uint32_t allowed = BASE | s->required | s->optional;
    uint32_t missing = (BASE | s->required) & ~present;
    for (int k = 0; k < SB_K_COUNT_; k++)
        if (missing & F(k))
            return sb_err_set(err, SB_PE_MISSING, "%s: field %s missing", s->name, fields[k].name);
    for (int k = 0; k < SB_K_COUNT_; k++)
        if (present & ~allowed & F(k))
            return sb_err_set(err, SB_PE_FIELD, "%s: field %s not allowed", s->name, fields[k].name);
    if (present >> SB_K_COUNT_)
        return sb_err_set(err, SB_PE_FIELD, "%s: unknown field", s->name);
    return 0;
}

/* ---------------------------------------------------------------- encoder */

typedef struct enc {
    uint8_t *p;
    size_t len, cap;
} enc;

static int enc_head(enc *e, int major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(major << 5 | v);
        n = 1;
    } else {
        int extra = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFu ? 4 : 8;
        h[0] = (uint8_t)(major << 5 | (extra == 1 ? 24 : extra == 2 ? 25 : extra == 4 ? 26 : 27));
        for (int i = 0; i < extra; i++)
            h[1 + i] = (uint8_t)(v >> (8 * (extra - 1 - i)));
        n = 1 + (size_t)extra;
    }
    if (e->cap - e->len < n)
        return -1;
    memcpy(e->p + e->len, h, n);
    e->len += n;
    return 0;
}

static int enc_str(enc *e, int major, const void *p, size_t len)
{
    if (enc_head(e, major, len) < 0 || e->cap - e->len < len)
        return -1;
    if (len)
        memcpy(e->p + e->len, p, len);
    e->len += len;
    return 0;
}

static uint64_t uint_field(const sb_msg *m, int key)
{
    switch (key) {
    case SB_K_VERSION: return SB_PROTO_VERSION;
    case SB_K_TYPE: return (uint64_t)m->type;
    case SB_K_ID: return m->id;
    case SB_K_STATUS: return m->status;
    case SB_K_SIZE: return m->size;
    case SB_K_MODE: return m->mode;
    case SB_K_EXIT_CODE: return m->exit_code;
    case SB_K_OUTCOME: return m->outcome;
    case SB_K_FLAGS: return m->flags;
    default: return m->level;
    }
}

static const char *text_field(const sb_msg *m, int key)
{
    return key == SB_K_REASON ? m->reason : key == SB_K_PATH ? m->path
                                 : key == SB_K_NAME ? m->name : m->platform;
}

static sb_bytes bytes_field(const sb_msg *m, int key)
{
    switch (key) {
    case SB_K_DATA: return m->data;
    case SB_K_NONCE: return m->nonce;
    case SB_K_HASH: return m->hash;
    case SB_K_EVIDENCE: return m->evidence;
    case SB_K_BINDING: return m->binding;
    case SB_K_OUT: return m->out;
    default: return m->err;
    }
}

/* Validates one field of a hand-built message and returns an upper bound of its encoded size. */
static int enc_check_field(const sb_msg *m, int key, size_t *size, sb_err *err)
{
    const char *t;
    sb_bytes b;
    switch (fields[key].kind) {
    case KIND_UINT:
        *size += 10;
        return 0;
    case KIND_TEXT:
        t = text_field(m, key);
        if (!t)
            return sb_err_set(err, SB_PE_MISSING, "%s: field %s is NULL",
                              sb_msg_type_name(m->type), fields[key].name);
        *size += 10 + strlen(t);
        return check_len(key, (const uint8_t *)t, strlen(t), err);
    case KIND_BYTES:
        b = bytes_field(m, key);
        if (!b.p && b.len)
            return sb_err_set(err, SB_PE_VALUE, "%s: NULL with length", fields[key].name);
        *size += 10 + b.len;
        return check_len(key, b.p, b.len, err);
    default:
        if (m->n_args > SB_ARGS_MAX)
            return sb_err_set(err, SB_PE_OVERSIZE, "args: %zu arguments, at most %d",
                              m->n_args, SB_ARGS_MAX);
        *size += 10;
        for (size_t i = 0; i < m->n_args; i++) {
            if (!m->args[i])
                return sb_err_set(err, SB_PE_VALUE, "args[%zu] is NULL", i);
            *size += 10 + strlen(m->args[i]);
            if (check_len(key, (const uint8_t *)m->args[i], strlen(m->args[i]), err) < 0)
                return -1;
        }
        return 0;
    }
}

static int enc_field(enc *e, const sb_msg *m, int key)
{
    if (enc_head(e, MT_UINT, (uint64_t)key) < 0)
        return -1;
    switch (fields[key].kind) {
    case KIND_UINT: return enc_head(e, MT_UINT, uint_field(m, key));
    case KIND_TEXT: return enc_str(e, MT_TEXT, text_field(m, key), strlen(text_field(m, key)));
    case KIND_BYTES: return enc_str(e, MT_BYTES, bytes_field(m, key).p, bytes_field(m, key).len);
    default:
        if (enc_head(e, MT_ARRAY, m->n_args) < 0)
            return -1;
        for (size_t i = 0; i < m->n_args; i++)
            if (enc_str(e, MT_TEXT, m->args[i], strlen(m->args[i])) < 0)
                return -1;
        return 0;
    }
}

int sb_msg_encode(const sb_msg *m, uint8_t **frame, size_t *frame_len, sb_err *err)
{
    const struct schema *s = schema_of((uint64_t)m->type);
    if (!s)
        return sb_err_set(err, SB_PE_TYPE, "encode: unknown message type %d", (int)m->type);
    uint32_t present = m->present | BASE;
    if (check_fields(s, present, err) < 0)
        return -1;
    size_t bound = 4 + 10;
    for (int k = 0; k < SB_K_COUNT_; k++)
        if ((present & F(k)) && enc_check_field(m, k, &bound, err) < 0)
            return -1;
    enc e = {malloc(bound), 4, bound};
    if (!e.p)
        return sb_err_set(err, SB_PE_NOMEM, "encode %s: out of memory", s->name);
    int n_fields = __builtin_popcount(present);
    int rc = enc_head(&e, MT_MAP, (uint64_t)n_fields);
    for (int k = 0; k < SB_K_COUNT_ && rc == 0; k++)
        if (present & F(k))
            rc = enc_field(&e, m, k);
    size_t payload = e.len - 4;
    if (rc < 0 || payload > SB_FRAME_MAX) {
        free(e.p);
        return sb_err_set(err, SB_PE_OVERSIZE, "encode %s: frame over %u bytes", s->name,
                          SB_FRAME_MAX);
    }
    for (int i = 0; i < 4; i++)
        e.p[i] = (uint8_t)(payload >> (24 - 8 * i));
    *frame = e.p;
    *frame_len = e.len;
    return 0;
}

int sb_msg_encode_head(const sb_msg *m, uint8_t *head, size_t cap, size_t *head_len, sb_err *err)
{
    uint32_t present = m->present | BASE;
    if (!(present & F(SB_K_DATA)) || (present >> (SB_K_DATA + 1)) != 0)
        return sb_err_set(err, SB_PE_FIELD, "encode head: DATA must be the last field present");
    if (check_len(SB_K_DATA, m->data.p, m->data.len, err) < 0)
        return -1;
    /* Encode with at most one byte of the data (its CBOR head is then one byte), drop that
     * tail and put the real length's head in its place. */
    size_t k = m->data.len ? 1 : 0;
    sb_msg h = *m;
    h.data.len = k;
    uint8_t *frame;
    size_t len;
    if (sb_msg_encode(&h, &frame, &len, err) < 0)
        return -1;
    enc e = {head, len - 1 - k, cap};
    int rc = e.len <= cap ? 0 : -1;
    if (rc == 0) {
        memcpy(head, frame, e.len);
        rc = enc_head(&e, MT_BYTES, m->data.len);
    }
    free(frame);
    uint64_t payload = (uint64_t)e.len - 4 + m->data.len;
    if (rc < 0 || payload > SB_FRAME_MAX)
        return sb_err_set(err, SB_PE_OVERSIZE, "encode head: frame over %u bytes or head over %zu",
                          SB_FRAME_MAX, cap);
    for (int i = 0; i < 4; i++)
        head[i] = (uint8_t)(payload >> (24 - 8 * i));
    *head_len = e.len;
    return 0;
}

/* ---------------------------------------------------------------- decoder */

typedef struct dec {
    const uint8_t *p;
    size_t len, pos;
    uint8_t *mem; /* bump allocator for copies of strings (and bytes unless borrowed) */
    size_t mem_used, mem_cap;
    bool borrow;  /* byte strings point into the payload */
} dec;

/* Reads one item head: its major type and argument, refusing non-shortest and indefinite forms. */
static int dec_head(dec *d, int *major, uint64_t *arg, sb_err *err)
{
    if (d->pos >= d->len)
        return sb_err_set(err, SB_PE_TRUNCATED, "truncated at byte %zu", d->pos);
    uint8_t ib = d->p[d->pos++];
    *major = ib >> 5;
    uint8_t ai = ib & 0x1F;
    if (*major != MT_UINT && *major != MT_BYTES && *major != MT_TEXT && *major != MT_ARRAY &&
        *major != MT_MAP)
        return sb_err_set(err, SB_PE_CBOR, "byte %zu: CBOR major type %d not accepted",
                          d->pos - 1, *major);
    if (ai < 24) {
        *arg = ai;
        return 0;
    }
    if (ai > 27)
        return sb_err_set(err, SB_PE_CBOR, "byte %zu: indefinite or reserved length", d->pos - 1);
    size_t n = (size_t)1 << (ai - 24);
    if (d->len - d->pos < n)
        return sb_err_set(err, SB_PE_TRUNCATED, "truncated in an item head at byte %zu", d->pos);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | d->p[d->pos++];
    static const uint64_t min_for[4] = {24, 0x100, 0x10000, 0x100000000ull};
    if (v < min_for[ai - 24])
        return sb_err_set(err, SB_PE_CBOR, "byte %zu: integer not in shortest form", d->pos - n - 1);
    *arg = v;
    return 0;
}

/* Reads a byte/text string of the expected major type and copies it (NUL-terminated) to d->mem,
 * or for borrowed byte strings just points at it. */
static int dec_string(dec *d, int want, int key, const uint8_t **out, size_t *out_len, sb_err *err)
{
    int major;
    uint64_t len;
    if (dec_head(d, &major, &len, err) < 0)
        return -1;
    if (major != want)
        return sb_err_set(err, SB_PE_FIELD, "%s: wrong CBOR type", fields[key].name);
    if (len > d->len - d->pos)
        return sb_err_set(err, SB_PE_TRUNCATED, "%s: %llu bytes announced, %zu left",
                          fields[key].name, (unsigned long long)len, d->len - d->pos);
    if (check_len(key, d->p + d->pos, (size_t)len, err) < 0)
        return -1;
    if (want == MT_BYTES && d->borrow) {
        *out = d->p + d->pos;
        *out_len = (size_t)len;
        d->pos += (size_t)len;
        return 0;
    }
    if (!d->mem && !(d->mem = malloc(d->mem_cap))) /* the arena is made on first use */
        return sb_err_set(err, SB_PE_NOMEM, "decode: out of memory");
    if (d->mem_cap - d->mem_used < len + 1) /* cannot happen: the arena is sized for it */
        return sb_err_set(err, SB_PE_NOMEM, "%s: decoder arena exhausted", fields[key].name);
    uint8_t *copy = d->mem + d->mem_used;
    memcpy(copy, d->p + d->pos, (size_t)len);
    copy[len] = 0;
    d->mem_used += (size_t)len + 1;
    d->pos += (size_t)len;
    *out = copy;
    *out_len = (size_t)len;
    return 0;
}

static int dec_args(dec *d, sb_msg *m, sb_err *err)
{
    int major;
    uint64_t n;
    if (dec_head(d, &major, &n, err) < 0)
        return -1;
    if (major != MT_ARRAY)
        return sb_err_set(err, SB_PE_FIELD, "args: wrong CBOR type");
    if (n > SB_ARGS_MAX)
        return sb_err_set(err, SB_PE_OVERSIZE, "args: %llu arguments, at most %d",
                          (unsigned long long)n, SB_ARGS_MAX);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s;
        size_t len;
        if (dec_string(d, MT_TEXT, SB_K_ARGS, &s, &len, err) < 0)
            return -1;
        m->args[i] = (const char *)s;
    }
    m->n_args = (size_t)n;
    return 0;
}

static int dec_uint_field(dec *d, sb_msg *m, int key, sb_err *err)
{
    int major;
    uint64_t v;
    if (dec_head(d, &major, &v, err) < 0)
        return -1;
    if (major != MT_UINT)
        return sb_err_set(err, SB_PE_FIELD, "%s: wrong CBOR type", fields[key].name);
    int narrow = key == SB_K_STATUS || key == SB_K_MODE || key == SB_K_OUTCOME ||
                 key == SB_K_LEVEL || key == SB_K_EXIT_CODE || key == SB_K_TYPE ||
                 key == SB_K_FLAGS;
    if (narrow && v > UINT32_MAX)
        return sb_err_set(err, SB_PE_VALUE, "%s: value out of range", fields[key].name);
    switch (key) {
    case SB_K_VERSION:
        if (v != SB_PROTO_VERSION)
            return sb_err_set(err, SB_PE_VERSION, "protocol version %llu, expected %d",
                              (unsigned long long)v, SB_PROTO_VERSION);
        return 0;
    case SB_K_TYPE:
        if (!schema_of(v))
            return sb_err_set(err, SB_PE_TYPE, "unknown message type %llu", (unsigned long long)v);
        m->type = (sb_msg_type)v;
        return 0;
    case SB_K_ID: m->id = v; return 0;
    case SB_K_STATUS: m->status = (uint32_t)v; return 0;
    case SB_K_SIZE: m->size = v; return 0;
    case SB_K_MODE: m->mode = (uint32_t)v; return 0;
    case SB_K_EXIT_CODE: m->exit_code = v; return 0;
    case SB_K_OUTCOME: m->outcome = (uint32_t)v; return 0;
    case SB_K_FLAGS:
        if (v & ~(uint64_t)SB_RUN_FLAGS_KNOWN)
            return sb_err_set(err, SB_PE_VALUE, "flags: unknown bits 0x%llx",
                              (unsigned long long)(v & ~(uint64_t)SB_RUN_FLAGS_KNOWN));
        m->flags = (uint32_t)v;
        return 0;
    default: m->level = (uint32_t)v; return 0;
    }
}

static int dec_field(dec *d, sb_msg *m, int key, sb_err *err)
{
    const uint8_t *p;
    size_t len;
    switch (fields[key].kind) {
    case KIND_UINT: return dec_uint_field(d, m, key, err);
    case KIND_ARGS: return dec_args(d, m, err);
    case KIND_TEXT:
        if (dec_string(d, MT_TEXT, key, &p, &len, err) < 0)
            return -1;
        *(key == SB_K_REASON ? &m->reason : key == SB_K_PATH ? &m->path
                                  : key == SB_K_NAME ? &m->name : &m->platform) = (const char *)p;
        return 0;
    default:
        if (dec_string(d, MT_BYTES, key, &p, &len, err) < 0)
            return -1;
        sb_bytes *b = key == SB_K_DATA ? &m->data : key == SB_K_NONCE ? &m->nonce
                    : key == SB_K_HASH ? &m->hash : key == SB_K_EVIDENCE ? &m->evidence
                    : key == SB_K_BINDING ? &m->binding : key == SB_K_OUT ? &m->out : &m->err;
        b->p = p;
        b->len = len;
        return 0;
    }
}

static int dec_map(dec *d, sb_msg *m, sb_err *err)
{
    int major;
    uint64_t n;
    if (dec_head(d, &major, &n, err) < 0)
        return -1;
    if (major != MT_MAP)
        return sb_err_set(err, SB_PE_CBOR, "frame is not a CBOR map");
    if (n > SB_K_COUNT_)
        return sb_err_set(err, SB_PE_FIELD, "map of %llu entries, more than there are fields",
                          (unsigned long long)n);
    int last = -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key;
        if (dec_head(d, &major, &key, err) < 0)
            return -1;
        if (major != MT_UINT || key >= SB_K_COUNT_)
            return sb_err_set(err, SB_PE_FIELD, "unknown map key at byte %zu", d->pos - 1);
        if ((int)key <= last)
            return sb_err_set(err, SB_PE_FIELD, "map key %llu out of order or repeated",
                              (unsigned long long)key);
        if (i == 0 && key != SB_K_VERSION)
            return sb_err_set(err, SB_PE_VERSION, "version field missing");
        if (i == 1 && key != SB_K_TYPE)
            return sb_err_set(err, SB_PE_MISSING, "type field missing");
        /* Refuse a field the type does not allow before reading its value. */
        if (i >= 2 && check_fields(schema_of(m->type), m->present | F(key) | BASE |
                                       schema_of(m->type)->required, err) < 0)
            return -1;
        if (dec_field(d, m, (int)key, err) < 0)
            return -1;
        m->present |= F(key);
        last = (int)key;
    }
    if (n < 2)
        return sb_err_set(err, n == 0 ? SB_PE_VERSION : SB_PE_MISSING, "%s field missing",
                          n == 0 ? "version" : "type");
    if (d->pos != d->len)
        return sb_err_set(err, SB_PE_CBOR, "%zu trailing bytes after the map", d->len - d->pos);
    return check_fields(schema_of(m->type), m->present, err);
}

static int decode(const uint8_t *payload, size_t len, bool borrow, sb_msg *m, sb_err *err)
{
    memset(m, 0, sizeof *m);
    if (len == 0 || len > SB_FRAME_MAX)
        return sb_err_set(err, SB_PE_OVERSIZE, "frame of %zu bytes (must be 1..%u)", len,
                          SB_FRAME_MAX);
    /* Copies never exceed the payload plus one NUL per string (at most SB_ARGS_MAX + 8). */
    dec d = {payload, len, 0, NULL, 0, len + SB_ARGS_MAX + 8, borrow};
    if (dec_map(&d, m, err) < 0) {
        free(d.mem);
        memset(m, 0, sizeof *m);
        return -1;
    }
    m->present &= ~BASE;
    m->mem_ = d.mem;
    return 0;
}

int sb_msg_decode(const uint8_t *payload, size_t len, sb_msg *m, sb_err *err)
{
    return decode(payload, len, false, m, err);
}

int sb_msg_decode_borrow(const uint8_t *payload, size_t len, sb_msg *m, sb_err *err)
{
    return decode(payload, len, true, m, err);
}

/* ---------------------------------------------------------------- frame reader */

void sb_frame_reader_init(sb_frame_reader *r, size_t max_frame)
{
    memset(r, 0, sizeof *r);
    r->max_frame = max_frame && max_frame < SB_FRAME_MAX ? max_frame : SB_FRAME_MAX;
}

void sb_frame_reader_free(sb_frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static size_t pending_length(const sb_frame_reader *r)
{
    const uint8_t *b = r->buf + r->off;
    return (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
}

static int check_prefix(const sb_frame_reader *r, sb_err *err)
{
    if (r->len - r->off < 4)
        return 0;
    size_t n = pending_length(r);
    if (n == 0 || n > r->max_frame)
        return sb_err_set(err, SB_PE_OVERSIZE, "frame length %zu (must be 1..%zu)", n,
                          r->max_frame);
    return 0;
}

uint8_t *sb_frame_reader_space(sb_frame_reader *r, size_t want, size_t *room, sb_err *err)
{
    size_t bound = 2 * (r->max_frame + 4);
    if (check_prefix(r, err) < 0)
        return NULL;
    if (r->off && (want > r->cap - r->len || want > bound - r->len)) { /* compact when short */
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
    }
    if (want > bound - r->len)
        want = bound - r->len;
    if (want == 0) {
        sb_err_set(err, SB_PE_OVERSIZE, "frame reader: over %zu unconsumed bytes", bound);
        return NULL;
    }
    if (want > r->cap - r->len) {
        size_t need = r->len + want, cap = r->cap ? r->cap : 4096;
        while (cap < need)
            cap *= 2; /* need <= bound, far from overflow */
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb) {
            sb_err_set(err, SB_PE_NOMEM, "frame reader: out of memory");
            return NULL;
        }
        r->buf = nb;
        r->cap = cap;
    }
    size_t n = r->cap - r->len;
    *room = n < bound - r->len ? n : bound - r->len;
    return r->buf + r->len;
}

int sb_frame_reader_commit(sb_frame_reader *r, size_t n, sb_err *err)
{
    r->len += n;
    return check_prefix(r, err);
}

int sb_frame_reader_feed(sb_frame_reader *r, const void *data, size_t len, sb_err *err)
{
    size_t room = 0;
    uint8_t *p = len ? sb_frame_reader_space(r, len, &room, err) : r->buf;
    if (len && !p)
        return -1;
    if (room < len)
        return sb_err_set(err, SB_PE_OVERSIZE, "frame reader: over %zu unconsumed bytes",
                          2 * (r->max_frame + 4));
    if (len)
        memcpy(p, data, len);
    return sb_frame_reader_commit(r, len, err);
}

int sb_frame_reader_next(sb_frame_reader *r, const uint8_t **payload, size_t *len, sb_err *err)
{
    if (r->len - r->off < 4)
        return 0;
    if (check_prefix(r, err) < 0)
        return -1;
    size_t n = pending_length(r);
    if (r->len - r->off - 4 < n)
        return 0;
    *payload = r->buf + r->off + 4;
    *len = n;
    r->off += 4 + n;
    if (r->off == r->len)
        r->off = r->len = 0; /* keep the payload where it is; next feed appends after reset */
    return 1;
}

long sb_frame_reader_read_fd(sb_frame_reader *r, int fd, sb_err *err)
{
    size_t room;
    uint8_t *p = sb_frame_reader_space(r, SB_READ_WINDOW, &room, err);
    if (!p)
        return -2;
    ssize_t n = read(fd, p, room); /* straight into the buffer: no copy */
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return -1;
        sb_err_set(err, 0, "read: %s", strerror(errno));
        return -2;
    }
    if (n > 0 && sb_frame_reader_commit(r, (size_t)n, err) < 0)
        return -2;
    return (long)n;
}

int sb_msg_write_fd(int fd, const sb_msg *m, sb_err *err)
{
    uint8_t *frame;
    size_t len, done = 0;
    if (sb_msg_encode(m, &frame, &len, err) < 0)
        return -1;
    while (done < len) {
        ssize_t n = write(fd, frame + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(frame);
            return sb_err_set(err, 0, "write %s frame: %s", sb_msg_type_name(m->type),
                              n < 0 ? strerror(errno) : "short write");
        }
        done += (size_t)n;
    }
    free(frame);
    return 0;
}
