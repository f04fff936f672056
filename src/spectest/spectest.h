/* spectest.h - internals of strongbox-spectest, the WebAssembly spec-testsuite driver.
 * Untrusted tooling (outside the TCB): it drives the engine only through wasm/wasm.h. */
#ifndef SB_SPECTEST_H
#define SB_SPECTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

/* ---------------------------------------------------------------- externref identities */

/* `ref.extern N` in a script must become a distinct non-NULL host pointer (N may be 0), and a
 * returned pointer must map back to its N. Each N gets its own small allocation. */
typedef struct extern_refs {
    uint32_t **items;  /* items[i] points at the N it stands for */
    size_t count, cap;
} extern_refs;

void *extern_ref_for(extern_refs *refs, uint32_t n); /* NULL only on allocation failure */
int extern_ref_lookup(const extern_refs *refs, const void *ptr, uint32_t *n); /* 0 if known */
void extern_refs_free(extern_refs *refs);

/* ---------------------------------------------------------------- values */

/* Parses one JSON argument {"type": T, "value": V} into *out. Returns 0, or -1 with why[] set. */
int value_parse(const json_t *j, extern_refs *refs, wasm_val *out, char *why, size_t why_len);
/* Checks `got` against the expected JSON value (NaN patterns, lanes, references). Returns true
 * when it matches. */
bool value_matches(const json_t *expected, const wasm_val *got, const extern_refs *refs);
/* Human-readable forms for failure reports. */
void value_format(const wasm_val *v, const extern_refs *refs, char *buf, size_t len);
void value_format_expected(const json_t *expected, char *buf, size_t len);

/* ---------------------------------------------------------------- the spectest host module */

/* Defines module "spectest" (print functions, globals, table, memory) in the store. */
int spectest_host_define(wasm_store *s, wasm_error *err);

/* ---------------------------------------------------------------- conversion */

/* Produces the JSON command script for `path`: a .json file is used as is; a .wast file is
 * converted with wast2json into `work_dir` (created if needed), or into a fresh temporary
 * directory when work_dir is NULL (*tmp_dir is then set so the caller can remove it).
 * On success *json_path is malloc'd. */
int convert_wast(const char *path, const char *work_dir, char **json_path, char **tmp_dir,
                 char *why, size_t why_len);
void remove_tree(const char *dir);

/* ---------------------------------------------------------------- running a script */

typedef struct run_options {
    bool verbose;          /* print every command, not just failures */
    bool strict_messages;  /* also require spec message text for invalid/malformed modules */
    unsigned max_reports;  /* failure details printed per file */
    wasm_engine engine;    /* the tier every instance runs on */
} run_options;

typedef struct file_result {
    unsigned passed, failed, skipped;
    unsigned message_diffs; /* right error kind, different message (invalid/malformed) */
} file_result;

/* Runs every command of a JSON script (whose .wasm files sit beside it). Never aborts: a bad
 * script entry counts as a failure with an explanation. Returns -1 only if the script itself
 * cannot be read. */
int run_script(const char *json_path, const char *display_name, const run_options *opt,
               file_result *res);

#endif
