/* proto.h - Strongbox wire protocol: frames and messages (see docs/protocol.md).
 *
 * One format serves both links:
 *   host <-> runtime   the channel (a socketpair) between strongbox-host and strongbox-runtime;
 *   client <-> runtime requests and responses carried inside the TLS 1.3 session.
 *
 * Frame = 4-byte big-endian payload length, then the payload: ONE CBOR map whose keys are small
 * unsigned integers (SB_K_*), in strictly ascending order. Key 0 (version) must be SB_PROTO_VERSION
 * and key 1 (type) an SB_MSG_* value. Decoding is strict, so two implementations can never read the
 * same bytes differently:
 *   - payload length 1..SB_FRAME_MAX (checked before any buffering);
 *   - only definite-length items, shortest-form integer/length encodings, no tags, no floats,
 *     no negative integers, no trailing bytes after the map;
 *   - map keys strictly ascending (so no duplicates); every key must be allowed for the message
 *     type and every required key present: UNKNOWN KEYS ARE REFUSED (a new field means a new
 *     protocol version);
 *   - values have exactly their field's CBOR type; texts are valid UTF-8 without NUL bytes and
 *     within their field's length cap; fixed-size byte fields have exactly their size.
 * Nothing recurses: the only nesting is the text array of SB_K_ARGS.
 *
 * A decoded sb_msg owns a private copy of everything it points to (one allocation), so the frame
 * buffer may be reused at once; release it with sb_msg_free(). An sb_msg filled by hand for
 * encoding just points at the caller's data (nothing is copied, nothing to free). */
#ifndef SB_PROTO_H
#define SB_PROTO_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

#define SB_PROTO_VERSION 1
#define SB_FRAME_MAX (1024u * 1024u)  /* payload bytes; larger frames are refused unread */
#define SB_DATA_MAX (SB_FRAME_MAX - 1024u) /* bytes in SB_K_DATA / OUT / ERR (room for the rest) */
/* What senders put in one chunk frame; the host relays up to 256 KiB of TLS per session-data. */
#define SB_CHUNK_SIZE (64u * 1024u)
#define SB_READ_WINDOW (256u * 1024u)  /* bytes sb_frame_reader_read_fd asks read() for at most */
/* Per-session flow control on the channel (docs/protocol.md): each direction of each session
 * starts with SB_SESSION_WINDOW bytes of session-data credit; a receiver returns credit with
 * session-credit as it consumes bytes, once at least SB_CREDIT_STEP are owed, so a sender never
 * holds more than the window unacknowledged. */
#define SB_SESSION_WINDOW (1024u * 1024u)
#define SB_CREDIT_STEP (SB_SESSION_WINDOW / 4)
/* Sessions the runtime holds at once, and how many of them may still be in their TLS handshake
 * (more get session-close(busy)); the host answers "ERR busy" before OK at the same limits. */
#define SB_MAX_SESSIONS 256
#define SB_MAX_HANDSHAKES 64
#define SB_PATH_MAX 1024               /* bytes of a path, without NUL */
#define SB_REASON_MAX 1024             /* bytes of a reason / log text */
#define SB_PLATFORM_MAX 31             /* bytes of a platform name */
#define SB_NONCE_MIN 16
#define SB_NONCE_MAX 64
#define SB_ARGS_MAX 64                 /* program arguments (argv[1..]) in a run request */
#define SB_ARG_MAX 4096                /* bytes of one argument */
#define SB_NAME_MAX 64                 /* bytes of a pipeline name */

/* Message types. Direction in brackets: h = host, r = runtime, c = client (inside TLS). */
typedef enum sb_msg_type {
    /* ---- channel host <-> runtime */
    SB_MSG_INIT = 1,             /* [h->r] DATA=policy JSON, PLATFORM */
    SB_MSG_ATTEST_CHALLENGE = 2, /* [h->r] NONCE (from the attestation service) */
    SB_MSG_ATTEST_REQUEST = 3,   /* [r->h] DATA=CSR (DER), HASH=policy hash, BINDING, PLATFORM,
                                    [EVIDENCE] (present when the platform produced it inside) */
    SB_MSG_ATTEST_RESULT = 4,    /* [h->r] STATUS; STATUS=OK: DATA=cert chain PEM (leaf first);
                                    else REASON */
    SB_MSG_READY = 5,            /* [r->h] HASH: certificate installed, sessions accepted */
    SB_MSG_SESSION_OPEN = 6,     /* [h->r] ID: a party connected (after its preamble) */
    SB_MSG_SESSION_DATA = 7,     /* [h<->r] ID, DATA: TLS bytes, opaque to the host */
    SB_MSG_SESSION_CLOSE = 8,    /* [h<->r] ID, [STATUS, REASON] */
    SB_MSG_SHUTDOWN = 9,         /* [h<->r] STATUS, REASON. r->h: the isolate is ending (rule met,
                                    expiry, fatal error); its last frame but for the keep-* frames
                                    below. h->r: stop now. */
    SB_MSG_EVENT = 10,           /* [r->h] LEVEL, REASON: log/status text, never party data */
    SB_MSG_SESSION_CREDIT = 11,  /* [h<->r] ID, SIZE: the sender consumed SIZE more bytes of the
                                    session; its peer may send that many more (flow control) */
    SB_MSG_SESSION_AUTH = 12,    /* [r->h] ID: the session's TLS handshake finished with a client
                                    certificate of the policy (no identity is named) */
    /* After shutdown (rule met or expiry), when the policy's shutdown.keep_sealed names files:
     * one envelope at a time (docs/sealed.md), paced by the channel itself (the runtime makes the
     * next chunk only once its queue has drained), then keep-done. */
    SB_MSG_KEEP_BEGIN = 20,      /* [r->h] ID = the reader's identity index in the policy, PATH,
                                    SIZE = envelope bytes that follow in keep-data frames */
    SB_MSG_KEEP_DATA = 21,       /* [r->h] DATA (<= SB_CHUNK_SIZE): the next bytes of the envelope */
    SB_MSG_KEEP_DONE = 22,       /* [r->h] SIZE = envelopes sent: the runtime's very last frame */

    /* ---- client -> runtime (requests; ID = request id chosen by the client) */
    SB_MSG_PUT_BEGIN = 32,       /* ID, PATH, MODE, [SIZE = total bytes when known] */
    SB_MSG_PUT_CHUNK = 33,       /* ID, DATA */
    SB_MSG_PUT_END = 34,         /* ID -> RESPONSE */
    SB_MSG_GET = 35,             /* ID, PATH -> RESPONSE(SIZE) then CHUNKs totalling SIZE bytes */
    SB_MSG_LIST = 36,            /* ID, PATH=prefix -> RESPONSE(SIZE=n) then n ENTRY frames */
    SB_MSG_RUN = 37,             /* ID, PATH=program, [ARGS, FLAGS] -> RESPONSE(EXIT_CODE,
                                    OUTCOME, [OUT, ERR] = captured stdout/stderr, [REASON],
                                    [SIZE = receipt bytes, then one CHUNK holding the receipt when
                                    FLAGS has SB_RUN_RECEIPT: docs/receipts.md]) */
    SB_MSG_POLICY_HASH = 38,     /* ID -> RESPONSE(HASH) */
    SB_MSG_STATUS = 39,          /* ID -> RESPONSE(DATA = status JSON object) */
    SB_MSG_END_VOTE = 40,        /* ID -> RESPONSE(REASON = vote tally) */
    SB_MSG_GET_SEALED = 41,      /* ID, PATH -> like GET, but the CHUNKs carry the file sealed to
                                    the caller's policy key (an envelope, docs/sealed.md) */
    SB_MSG_RUN_PIPELINE = 42,    /* ID, NAME, [FLAGS] -> like RUN, for every step of the policy's
                                    pipeline NAME in order; REASON reports how far it got */

    /* ---- runtime -> client */
    SB_MSG_RESPONSE = 48,        /* ID, STATUS, [REASON, SIZE, HASH, DATA, EXIT_CODE, OUTCOME,
                                    OUT, ERR] */
    SB_MSG_CHUNK = 49,           /* ID, DATA: part of a get answer */
    SB_MSG_ENTRY = 50,           /* ID, PATH, SIZE: one file of a list answer */
} sb_msg_type;

/* Map keys. The bit (1u << key) marks a field present in sb_msg.present. */
enum sb_key {
    SB_K_VERSION = 0,   /* uint, = SB_PROTO_VERSION (always written by the encoder) */
    SB_K_TYPE = 1,      /* uint, sb_msg_type (always written by the encoder) */
    SB_K_ID = 2,        /* uint: session id (channel) or request id (requests) */
    SB_K_STATUS = 3,    /* uint, sb_status */
    SB_K_REASON = 4,    /* text <= SB_REASON_MAX */
    SB_K_PATH = 5,      /* text <= SB_PATH_MAX */
    SB_K_DATA = 6,      /* bytes <= SB_DATA_MAX */
    SB_K_SIZE = 7,      /* uint */
    SB_K_MODE = 8,      /* uint, sb_put_mode */
    SB_K_ARGS = 9,      /* array (<= SB_ARGS_MAX) of text (<= SB_ARG_MAX) */
    SB_K_PLATFORM = 10, /* text <= SB_PLATFORM_MAX */
    SB_K_NONCE = 11,    /* bytes, SB_NONCE_MIN..SB_NONCE_MAX */
    SB_K_HASH = 12,     /* bytes, exactly 32 (SHA-256 policy hash) */
    SB_K_EVIDENCE = 13, /* bytes <= SB_DATA_MAX */
    SB_K_BINDING = 14,  /* bytes, exactly 64 (SHA-512 attestation binding) */
    SB_K_EXIT_CODE = 15,/* uint (WASI exit code, 0..2^32-1) */
    SB_K_OUTCOME = 16,  /* uint, sb_outcome */
    SB_K_OUT = 17,      /* bytes <= SB_DATA_MAX/2: captured stdout (truncated, see docs) */
    SB_K_ERR = 18,      /* bytes <= SB_DATA_MAX/2: captured stderr */
    SB_K_LEVEL = 19,    /* uint, sb_level */
    SB_K_FLAGS = 20,    /* uint, SB_RUN_* bits (unknown bits are refused) */
    SB_K_NAME = 21,     /* text <= SB_NAME_MAX: a pipeline's name */
    SB_K_COUNT_ = 22
};
#define SB_F(key) (1u << (key))

/* Status codes of responses, attest results, session closes and shutdowns. */
typedef enum sb_status {
    SB_ST_OK = 0,
    SB_ST_BAD_REQUEST = 1,   /* malformed frame, unknown type, request out of sequence */
    SB_ST_DENIED = 2,        /* the policy gives this identity no such right */
    SB_ST_NOT_FOUND = 3,     /* no such file or program */
    SB_ST_TOO_LARGE = 4,     /* a size limit of the policy or the protocol */
    SB_ST_EXPIRED = 5,       /* the policy has expired */
    SB_ST_CONFLICT = 6,      /* e.g. a second put-begin while one is open in the session */
    SB_ST_HASH_MISMATCH = 7, /* program bytes do not match the policy's hash */
    SB_ST_NOT_READY = 8,     /* not attested yet / program not uploaded */
    SB_ST_SHUTTING_DOWN = 9, /* the shutdown rule was met; the isolate is ending */
    SB_ST_UNAUTHENTICATED = 10, /* client certificate missing or matching no policy identity */
    SB_ST_ATTEST_FAILED = 11,/* attestation refused or the returned certificate is unusable */
    SB_ST_INTERNAL = 12,     /* resource exhaustion or a bug; reason says which */
    SB_ST_BUSY = 13,         /* a session limit is reached (sessions, handshakes); try later */
    SB_ST_TIMEOUT = 14,      /* a deadline passed: TLS handshake, or a party that read nothing */
    SB_ST_COUNT_
} sb_status;

/* Run request flags (SB_K_FLAGS). */
#define SB_RUN_RECEIPT 1u       /* answer with a signed receipt of the run (docs/receipts.md) */
#define SB_RUN_FLAGS_KNOWN SB_RUN_RECEIPT

typedef enum sb_put_mode { SB_PUT_WRITE = 0, SB_PUT_APPEND = 1 } sb_put_mode;

/* How a run ended (RESPONSE.OUTCOME); EXIT_CODE is meaningful for SB_OUT_EXITED. */
typedef enum sb_outcome {
    SB_OUT_EXITED = 0,       /* returned from _start (code 0) or called proc_exit(code) */
    SB_OUT_TRAPPED = 1,      /* a wasm trap; REASON has the trap text */
    SB_OUT_FUEL_LIMIT = 2,   /* instruction budget of the policy exhausted */
    SB_OUT_MEMORY_LIMIT = 3, /* memory limit of the policy hit (instantiation or growth) */
    SB_OUT_TIME_LIMIT = 4,   /* wall-clock limit of the policy hit */
    SB_OUT_COUNT_
} sb_outcome;

typedef enum sb_level { SB_LVL_DEBUG = 0, SB_LVL_INFO = 1, SB_LVL_WARN = 2, SB_LVL_ERROR = 3 } sb_level;

/* A byte string field. */
typedef struct sb_bytes {
    const uint8_t *p;
    size_t len;
} sb_bytes;

/* One message. `present` has SB_F(key) set for every field that is there (VERSION and TYPE are
 * implied and need not be set). Texts are NUL-terminated. */
typedef struct sb_msg {
    sb_msg_type type;
    uint32_t present;
    uint64_t id, size, exit_code;
    uint32_t status, mode, outcome, level, flags;
    const char *reason, *path, *platform, *name;
    sb_bytes data, nonce, hash, evidence, binding, out, err;
    const char *args[SB_ARGS_MAX];
    size_t n_args;
    void *mem_; /* decoder-owned storage; NULL for hand-built messages */
} sb_msg;

/* Error codes put in sb_err.code by this library. */
enum sb_proto_err {
    SB_PE_TRUNCATED = 1,  /* the payload ends inside an item */
    SB_PE_OVERSIZE,       /* frame length over SB_FRAME_MAX (or 0), or a field over its cap */
    SB_PE_CBOR,           /* not the accepted CBOR subset (indefinite, tag, float, non-shortest...) */
    SB_PE_VERSION,        /* version key missing or not SB_PROTO_VERSION */
    SB_PE_TYPE,           /* unknown message type */
    SB_PE_FIELD,          /* key unknown/not allowed for the type, out of order, or wrong CBOR type */
    SB_PE_MISSING,        /* a required field is absent */
    SB_PE_VALUE,          /* a field value out of range (bad UTF-8, NUL in text, wrong size) */
    SB_PE_NOMEM,
};

/* Clears m and sets its type (fields are then filled by the caller, setting `present` bits). */
void sb_msg_init(sb_msg *m, sb_msg_type type);
/* Releases what the decoder allocated (no-op for hand-built messages); m is cleared. */
void sb_msg_free(sb_msg *m);

/* Encodes m as a whole frame (length prefix included) into a malloc'd buffer. The message must obey
 * the same schema the decoder enforces (required/allowed fields, caps), so a peer never receives a
 * frame it must refuse. Returns 0, or -1 with err filled. */
int sb_msg_encode(const sb_msg *m, uint8_t **frame, size_t *frame_len, sb_err *err);
/* For relaying without copying the data: encodes m's frame except the bytes of its DATA field,
 * which must be the last field present; head (cap bytes, SB_HEAD_MAX is always enough) followed
 * by m->data is the frame sb_msg_encode would give. Returns 0, or -1 with err filled. */
#define SB_HEAD_MAX 64u
int sb_msg_encode_head(const sb_msg *m, uint8_t *head, size_t cap, size_t *head_len, sb_err *err);
/* Decodes one payload (without the 4-byte length) strictly, as described above. Returns 0 with m
 * filled (free with sb_msg_free), or -1 with err filled (m left empty). */
int sb_msg_decode(const uint8_t *payload, size_t len, sb_msg *m, sb_err *err);
/* The same, but byte-string fields (data, nonce, hash, ...) point into payload instead of being
 * copied: m is valid only as long as payload is. Texts are still copied (NUL-terminated). */
int sb_msg_decode_borrow(const uint8_t *payload, size_t len, sb_msg *m, sb_err *err);

/* Names for logs and errors; never NULL ("unknown" for out-of-range values). */
const char *sb_msg_type_name(int type);
const char *sb_status_name(int status);
const char *sb_outcome_name(int outcome);

/* Bounded incremental frame reader for (non-blocking) stream sockets: feed it whatever read()
 * returned, then take whole frames out. It holds at most one partial frame plus what was fed;
 * a length prefix over `max_frame` is refused as soon as its 4 bytes are in. */
typedef struct sb_frame_reader {
    uint8_t *buf;
    size_t len, cap, off; /* bytes held, allocation size, start of unconsumed data */
    size_t max_frame;
} sb_frame_reader;

/* max_frame 0 = SB_FRAME_MAX. Nothing is allocated until data arrives. */
void sb_frame_reader_init(sb_frame_reader *r, size_t max_frame);
void sb_frame_reader_free(sb_frame_reader *r);
/* Appends bytes. Returns 0, or -1 (SB_PE_NOMEM; SB_PE_OVERSIZE when a pending length prefix is
 * over the cap, or when more than 2 * (max_frame + 4) unconsumed bytes would be held: the stream
 * is then unusable). Take frames out after every feed to stay within the bound. */
int sb_frame_reader_feed(sb_frame_reader *r, const void *data, size_t len, sb_err *err);
/* Takes the next whole frame: returns 1 with *payload and *len pointing at it (valid until the next
 * feed/next/free call), 0 when more bytes are needed, -1 on an oversize or zero length prefix. */
int sb_frame_reader_next(sb_frame_reader *r, const uint8_t **payload, size_t *len, sb_err *err);
/* For reading straight into the reader: room for up to `want` more bytes (less when the bound
 * above leaves less; never 0): returns where to write them, with *room the bytes available there,
 * or NULL with err filled (as feed). Then commit the n <= *room bytes written. */
uint8_t *sb_frame_reader_space(sb_frame_reader *r, size_t want, size_t *room, sb_err *err);
int sb_frame_reader_commit(sb_frame_reader *r, size_t n, sb_err *err);
/* Reads once from fd (which may be non-blocking), up to SB_READ_WINDOW bytes straight into the
 * buffer. Returns the number read (> 0), 0 at end of stream, -1 when nothing is available now
 * (EAGAIN/EINTR), or -2 on failure with err filled (an I/O error, or a feed error as above). */
long sb_frame_reader_read_fd(sb_frame_reader *r, int fd, sb_err *err);

/* Convenience for blocking writers (tests, tools): encodes m and writes the whole frame to fd,
 * retrying on EINTR/short writes. Returns 0 or -1 with err filled. */
int sb_msg_write_fd(int fd, const sb_msg *m, sb_err *err);

#endif
