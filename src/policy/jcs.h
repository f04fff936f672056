/* jcs.h - internal to src/policy: bounded JSON loading and RFC 8785 (JCS) canonical encoding. */
#ifndef SB_POLICY_JCS_H
#define SB_POLICY_JCS_H

#include "common/common.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SB_JCS_MAX_DEPTH 64

/* Loads JSON text of at most max_bytes, nested at most max_depth deep, rejecting duplicate keys
 * and \u0000. Errors carry SB_POLICY_E_SYNTAX and the line/column. */
int sb_jcs_load(const void *data, size_t len, size_t max_bytes, unsigned max_depth, json_t **out,
                sb_err *err);
/* RFC 8785 form of a loaded tree. Refuses integers outside +/-2^53 and non-finite reals. */
int sb_jcs_encode(const json_t *value, uint8_t **out, size_t *out_len, sb_err *err);
/* ECMAScript Number.prototype.toString(v) for a finite double; buf holds at least 32 bytes. */
void sb_jcs_format_double(double v, char *buf);

#endif
