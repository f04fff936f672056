/* module.c - a module's machine code: the code reservation, compiling functions on their first
 * call, sealing (W^X) and publishing them. See docs/engine.md, "Compiled tier".
 *
 * Preparing a module (its first compiled-tier instantiation) reserves its code space and emits
 * only the shared runtime code: the trampoline, the trap exits and one small stub per defined
 * function. Every direct call to a function not compiled yet goes through that function's entry
 * in jm->target, which starts out as its stub; the stub enters jit_h_compile, which compiles the
 * function into the writable part of the reservation, seals those pages read+execute and
 * publishes the body in jm->target. Calls compiled after that go straight to the body (rel32).
 * So a module is ready to run after decoding, validation and instantiation, and only the
 * functions that run are ever compiled. */
#include "wasm/jit/jc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MAX_CODE_BYTES (256u << 20) /* code space per module; rel32 reaches all of it */
#define PAGE 4096u
#define BYTES_PER_CELL 24u /* machine code averages ~7 bytes per translated cell */

static size_t page_up(size_t n) { return (n + PAGE - 1) & ~(size_t)(PAGE - 1); }

/* Virtual space for the module's code: generous per cell, plus what page alignment can cost
 * (each lazily compiled batch starts a page; compile_locked fills the batch's last page, so the
 * pages lost stay fewer than both the functions and the code's own pages) and room for the
 * runtime code. Reserved with MAP_NORESERVE: untouched pages cost nothing. */
static size_t reservation_size(const wasm_module *m, uint32_t ndef)
{
    uint64_t cells = 0;
    for (uint32_t i = 0; i < ndef; i++)
        cells += m->codes[i].code_len;
    uint64_t code = cells * BYTES_PER_CELL, per_fn = (uint64_t)ndef * PAGE;
    uint64_t want = code + (per_fn < code + PAGE ? per_fn : code + PAGE) + (uint64_t)ndef * 16 +
                    (256u << 10);
    return page_up((size_t)(want < MAX_CODE_BYTES ? want : MAX_CODE_BYTES));
}

static void free_jm(jit_module *jm)
{
    if (!jm)
        return;
    if (jm->code)
        munmap(jm->code, jm->size);
    if (jm->lock) {
        pthread_mutex_destroy(jm->lock);
        free(jm->lock);
    }
    jit_jc_free(jm->jc);
    free(jm->entry), free(jm->body), free(jm->ready), free((void *)jm->target), free(jm->batch), free(jm);
}

/* Turns the pages written since the last seal read+execute; the unused rest of the last page
 * is filled with int3 first, so nothing but compiler output ever becomes executable. */
static int seal_up_to(jit_module *jm, size_t len)
{
    size_t end = page_up(len);
    if (end == jm->sealed)
        return 0;
    memset(jm->code + len, 0xCC, end - len);
    if (mprotect(jm->code + jm->sealed, end - jm->sealed, PROT_READ | PROT_EXEC) != 0)
        return -1;
    jm->sealed = end;
    return 0;
}

static jit_module *new_jm(const wasm_module *m)
{
    uint32_t ndef = m->nfuncs - m->nimp_funcs;
    jit_module *jm = calloc(1, sizeof *jm);
    if (!jm)
        return NULL;
    jm->ndef = ndef;
    jm->entry = calloc(ndef + 1, sizeof(uint32_t));
    jm->body = calloc(ndef + 1, sizeof(uint32_t));
    jm->ready = calloc(ndef + 1, 1);
    jm->target = calloc(ndef + 1, sizeof(void *));
    jm->batch = calloc(ndef + 1, sizeof(uint32_t));
    jm->lock = malloc(sizeof(pthread_mutex_t));
    if (!jm->entry || !jm->body || !jm->ready || !jm->target || !jm->batch || !jm->lock ||
        pthread_mutex_init(jm->lock, NULL) != 0) {
        free(jm->lock), jm->lock = NULL;
        free_jm(jm);
        return NULL;
    }
    jm->size = reservation_size(m, ndef);
    void *p = mmap(NULL, jm->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        jm->size = 0;
        free_jm(jm);
        return NULL;
    }
    jm->code = p;
    if (!(jm->jc = jit_jc_new(m, jm))) {
        free_jm(jm);
        return NULL;
    }
    return jm;
}

/* Points the compiler's buffer at the writable part of the reservation (never grown: running
 * past its end marks it failed). */
static void open_buffer(jit_module *jm, char *why)
{
    jc *j = jm->jc;
    j->b = (xbuf){.p = jm->code, .len = jm->sealed, .cap = jm->size, .max = jm->size};
    j->why = why;
    why[0] = 0;
}

static void close_buffer(jit_module *jm) { jm->jc->b.p = NULL; }

/* Prepared on the first instantiation that asks for the tier (an interpreter-only user never
 * maps executable memory). Two threads racing here both prepare; one result is published
 * atomically and the other freed. */
int wasm_jit_prepare(const wasm_module *m, wasm_error *err)
{
    wasm_module *mm = (wasm_module *)m; /* the machine code cache is not part of the module's value */
    if (__atomic_load_n(&mm->jit, __ATOMIC_ACQUIRE))
        return 0;
    jit_module *jm = new_jm(m), *expected = NULL;
    if (!jm)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    open_buffer(jm, jm->unsupported);
    jit_emit_runtime(jm->jc);
    if (jm->jc->b.failed) {
        snprintf(jm->unsupported, sizeof jm->unsupported, "module too large to compile");
    } else if (seal_up_to(jm, jm->jc->b.len) < 0) {
        close_buffer(jm);
        free_jm(jm);
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory for machine code");
    }
    close_buffer(jm);
    if (!__atomic_compare_exchange_n(&mm->jit, &expected, jm, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        free_jm(jm);
    return 0;
}

/* Compiles the functions in defs[0..n) not compiled yet (the lock held), seals them and
 * publishes their bodies. With `fill`, more functions not compiled yet (the next ones by index)
 * follow until the last page the requested ones use is full: a lazily compiled batch starts on a
 * page of its own, and filling its page means every batch but the last adds at least a page of
 * code, so pages lost to alignment stay below the code's own size. A failure publishes nothing
 * (a failing fill function is only left out); the pages written stay writable and are reused. */
static int compile_locked(jit_module *jm, const uint32_t *defs, uint32_t n, bool fill, char *why)
{
    jc *j = jm->jc;
    uint32_t *done = jm->batch, k = 0;
    int rc = 0;
    open_buffer(jm, why);
    jit_batch_begin(j);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (jm->ready[defs[i]] || j->in_batch[defs[i]])
            continue;
        j->in_batch[defs[i]] = 1;
        done[k++] = defs[i];
        if (jit_compile_more(j, defs[i]) < 0)
            rc = -1;
    }
    size_t page_end = page_up(j->b.len);
    for (uint32_t t = 0, d = n ? defs[n - 1] : 0; rc == 0 && fill && k && t < jm->ndef &&
                                                  j->b.len < page_end; t++) {
        d = d + 1 < jm->ndef ? d + 1 : 0;
        if (jm->ready[d] || j->in_batch[d])
            continue;
        j->in_batch[d] = 1;
        if (jit_compile_more(j, d) < 0) {
            j->in_batch[d] = 0, why[0] = 0;
            break;
        }
        done[k++] = d;
    }
    if (rc == 0 && k) {
        jit_batch_end(j);
        if (seal_up_to(jm, j->b.len) < 0)
            rc = -1, snprintf(why, 96, "out of memory for machine code");
    }
    if (rc < 0 && j->nomem)
        snprintf(why, 96, "out of memory");
    close_buffer(jm);
    for (uint32_t i = 0; i < k; i++) {
        j->in_batch[done[i]] = 0;
        if (rc == 0) {
            __atomic_store_n(&jm->target[done[i]], jm->code + jm->body[done[i]], __ATOMIC_RELEASE);
            __atomic_store_n(&jm->ready[done[i]], 1, __ATOMIC_RELEASE);
        }
    }
    return rc;
}

int wasm_jit_function(const wasm_module *m, uint32_t def, char *why)
{
    jit_module *jm = m->jit;
    if (__atomic_load_n(&jm->ready[def], __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(jm->lock);
    int rc = compile_locked(jm, &def, 1, true, why);
    pthread_mutex_unlock(jm->lock);
    return rc;
}

int wasm_jit_compile_all(const wasm_module *m, char *why)
{
    jit_module *jm = m->jit;
    uint32_t *defs = malloc(((size_t)jm->ndef + 1) * sizeof(uint32_t));
    if (!defs) {
        snprintf(why, 96, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < jm->ndef; i++)
        defs[i] = i;
    pthread_mutex_lock(jm->lock);
    int rc = compile_locked(jm, defs, jm->ndef, false, why);
    pthread_mutex_unlock(jm->lock);
    free(defs);
    return rc;
}

uint32_t wasm_jit_compiled_count(const wasm_module *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; m->jit && i < m->jit->ndef; i++)
        n += __atomic_load_n(&m->jit->ready[i], __ATOMIC_ACQUIRE);
    return n;
}

void wasm_jit_free(wasm_module *m)
{
    jit_module *jm = m ? m->jit : NULL;
    if (!jm)
        return;
    free_jm(jm);
    m->jit = NULL;
}

const char *wasm_jit_unsupported(const wasm_module *m)
{
    if (!m->jit)
        return "not compiled";
    return m->jit->unsupported[0] ? m->jit->unsupported : NULL;
}
