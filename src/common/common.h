/* common.h - the few helpers every Strongbox component shares.
 *
 * Kept deliberately tiny: it is part of the trusted computing base. No global state.
 * Errors: functions return 0 on success and a negative value on failure, and fill an sb_err
 * (when given one) with a code and a human-readable message that says what failed. */
#ifndef SB_COMMON_H
#define SB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SB_ERR_MSG_MAX 256

typedef struct sb_err {
    int code;                  /* component-defined; 0 = no error */
    char msg[SB_ERR_MSG_MAX];  /* NUL-terminated, never contains secrets */
} sb_err;

/* Sets err->code and formats err->msg (truncating safely). err may be NULL. Returns -1 so callers
 * can write `return sb_err_set(err, X, "...")`. */
int sb_err_set(sb_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with "prefix: " (for adding context while unwinding). */
void sb_err_prefix(sb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_err_clear(sb_err *err);

/* Lower-case hex. out must hold 2*len+1 bytes. */
void sb_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly `out_len` bytes from a hex string of exactly 2*out_len characters (either case).
 * Returns 0, or -1 on wrong length or a non-hex character. */
int sb_hex_decode(const char *hex, uint8_t *out, size_t out_len);

/* Reads a whole file, refusing files larger than max_len. *data is malloc'd (NUL-terminated for
 * convenience; *len excludes the NUL). Returns 0 or -1 with err filled. */
int sb_read_file(const char *path, size_t max_len, uint8_t **data, size_t *len, sb_err *err);
/* Writes a file atomically (temp file + fsync + rename) with the given mode (e.g. 0600). */
int sb_write_file(const char *path, const void *data, size_t len, int mode, sb_err *err);

/* RFC 3339 UTC timestamps: "2026-11-21T18:46:11Z" (fractional seconds accepted and dropped,
 * offsets "+hh:mm" accepted and applied). Returns 0 or -1. */
int sb_time_parse(const char *s, time_t *out);
/* Formats as "YYYY-MM-DDThh:mm:ssZ"; buf must hold at least 21 bytes. */
void sb_time_format(time_t t, char *buf, size_t buf_len);

/* Constant-time comparison; 0 when equal. */
int sb_memeq_ct(const void *a, const void *b, size_t len);

#endif
