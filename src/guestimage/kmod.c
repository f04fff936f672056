/* kmod.c - the kernel modules a guest image holds: named roots and, read from each module's own
 * .modinfo section, everything they depend on, in an order that loads each module after its
 * dependencies (what modprobe derives from modules.dep; Debian's kernel packages do not ship
 * modules.dep, which depmod writes at install time, and the build never installs the kernel).
 *
 * Deterministic: the order depends only on the roots' order and each module's "depends=" list
 * (dependencies first, depth first, each module once). Build tool on the host: untrusted, but the
 * modules it picks are in the measured initramfs.
 *
 * Compressed modules (Debian's 6.12 kernels ship NAME.ko.xz; modules.order still names NAME.ko)
 * are decompressed here, with liblzma, and the image holds the plain NAME.ko: its .modinfo must be
 * read anyway, strongbox-init stays a plain finit_module and works with kernels that cannot
 * decompress modules, and the guest never runs a decompressor on module bytes. XZ decoding is
 * exact (the stream's own check is verified), so every build gets the same bytes. */
#include "kmod.h"

#include <elf.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KO_MAX_BYTES (64u << 20) /* a module, decompressed: the largest Debian one is ~20 MiB */
#define XZ_MEMLIMIT (64u << 20)  /* the decoder's own memory (Debian's xz uses a 1 MiB dictionary) */
#define LIST_MAX_BYTES (4u << 20) /* modules.order of a generic kernel: ~200 KiB */
#define MAX_DEPTH 16              /* real chains are 3 deep; bounds the recursion */

struct closure {
    const char *tree;
    char *order, *builtin; /* modules.order and modules.builtin, NUL-terminated */
    struct sb_kmod *out;
    size_t max, n;
    const char *stack[MAX_DEPTH]; /* names being resolved: a cycle is an error */
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sb-mkinitramfs: modules: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* The whole file, NUL-terminated, at most max bytes; NULL if it cannot be read. */
static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max &&
        (buf = malloc((size_t)st.st_size + 1)) &&
        fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        buf[st.st_size] = 0;
        *len = (size_t)st.st_size;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

/* Module names compare with '-' and '_' alike (the kernel's rule: sev-guest.ko is sev_guest). */
static int same_name(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if ((a[i] == '-' ? '_' : a[i]) != (b[i] == '-' ? '_' : b[i]))
            return 0;
    return 1;
}

/* The line of `list` ("kernel/dir/NAME.ko") naming module `name`; its length in *len. */
static const char *find_line(const char *list, const char *name, size_t nlen, size_t *len)
{
    for (const char *l = list; *l;) {
        size_t w = strcspn(l, "\n");
        const char *base = l + w;
        while (base > l && base[-1] != '/')
            base--;
        size_t blen = (size_t)(l + w - base);
        if (blen > 3 && memcmp(base + blen - 3, ".ko", 3) == 0 &&
            same_name(base, blen - 3, name, nlen)) {
            *len = w;
            return l;
        }
        l += w + (l[w] == '\n');
    }
    return NULL;
}

/* The module's bytes, decompressed when path ends in ".xz"; NULL after saying why. */
static unsigned char *read_module(const char *path, size_t *len)
{
    size_t in_len = 0;
    unsigned char *in = (unsigned char *)slurp(path, KO_MAX_BYTES, &in_len);
    size_t plen = strlen(path);
    if (!in) {
        fail("%s: cannot read (at most 64 MiB)", path);
        return NULL;
    }
    if (plen < 3 || strcmp(path + plen - 3, ".xz") != 0) {
        *len = in_len;
        return in;
    }
    unsigned char *out = sb_kmod_unxz(in, in_len, KO_MAX_BYTES, len, path);
    free(in);
    return out;
}

unsigned char *sb_kmod_unxz(const unsigned char *in, size_t in_len, size_t max, size_t *len,
                            const char *what)
{
    lzma_stream z = LZMA_STREAM_INIT;
    size_t cap = max > 4096 && in_len < (max - 4096) / 4 ? in_len * 4 + 4096 : max; /* grows */
    unsigned char *out = malloc(cap + 1), *bigger;
    lzma_ret r = out ? lzma_stream_decoder(&z, XZ_MEMLIMIT, 0) : LZMA_MEM_ERROR;
    int too_big = 0;
    z.next_in = in;
    z.avail_in = in_len;
    z.next_out = out;
    z.avail_out = cap;
    while (r == LZMA_OK) {
        r = lzma_code(&z, LZMA_FINISH);
        if (r == LZMA_OK && z.avail_out == 0 && cap == max) {
            too_big = 1; /* over max: not a module this tool takes */
            break;
        }
        if (r == LZMA_OK && z.avail_out == 0) {
            size_t grown = cap * 2 < max ? cap * 2 : max;
            if (!(bigger = realloc(out, grown + 1))) {
                r = LZMA_MEM_ERROR;
                break;
            }
            out = bigger;
            z.next_out = out + cap;
            z.avail_out = grown - cap;
            cap = grown;
        }
    }
    *len = cap - z.avail_out;
    lzma_end(&z);
    if (r == LZMA_STREAM_END && z.avail_in == 0)
        return out;
    if (r == LZMA_STREAM_END)
        fail("%s: data after the xz stream", what);
    else if (too_big)
        fail("%s: decompresses to more than %zu MiB", what, max >> 20);
    else if (r == LZMA_MEM_ERROR || r == LZMA_MEMLIMIT_ERROR)
        fail("%s: out of memory decompressing (or the stream needs more than %u MiB)", what,
             XZ_MEMLIMIT >> 20);
    else
        fail("%s: not a valid xz stream (liblzma error %d%s)", what, (int)r,
             r == LZMA_BUF_ERROR ? ": truncated" : "");
    free(out);
    return NULL;
}

/* The value of "depends=" in the ELF64 module's .modinfo section (a run of NUL-terminated
 * key=value strings), copied into dep; "" when the module depends on nothing. */
static int read_depends(const char *path, const unsigned char *ko, size_t len, char *dep,
                        size_t cap)
{
    int rc = -2; /* -2: malformed, not said yet */
    Elf64_Ehdr eh;
    Elf64_Shdr sh, str;
    if (len < sizeof eh || memcmp(ko, ELFMAG, SELFMAG) != 0 || ko[EI_CLASS] != ELFCLASS64 ||
        ko[EI_DATA] != ELFDATA2LSB)
        goto out;
    memcpy(&eh, ko, sizeof eh);
    if (eh.e_shentsize != sizeof sh || eh.e_shstrndx >= eh.e_shnum || eh.e_shoff > len ||
        (len - eh.e_shoff) / sizeof sh < eh.e_shnum)
        goto out;
    memcpy(&str, ko + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof sh, sizeof str);
    if (str.sh_offset > len || str.sh_size > len - str.sh_offset)
        goto out;
    for (size_t i = 0; i < eh.e_shnum; i++) {
        memcpy(&sh, ko + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_name >= str.sh_size || str.sh_size - sh.sh_name < sizeof ".modinfo" ||
            memcmp(ko + str.sh_offset + sh.sh_name, ".modinfo", sizeof ".modinfo") != 0)
            continue;
        if (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
            goto out;
        const char *s = (const char *)ko + sh.sh_offset, *end = s + sh.sh_size;
        dep[0] = 0;
        rc = 0;
        for (; s < end; s += strnlen(s, (size_t)(end - s)) + 1) {
            size_t n = strnlen(s, (size_t)(end - s));
            if (n == (size_t)(end - s)) /* unterminated last string */
                rc = fail("%s: .modinfo does not end with a NUL", path);
            else if (n >= 8 && memcmp(s, "depends=", 8) == 0 && n - 8 < cap)
                memcpy(dep, s + 8, n - 7);
            else if (n >= 8 && memcmp(s, "depends=", 8) == 0)
                rc = fail("%s: depends= is too long", path);
        }
        break;
    }
out:
    if (rc == -2)
        rc = fail("%s: not an ELF64 little-endian module with a .modinfo section", path);
    return rc;
}

/* The file of a module modules.order lists as LINE ("kernel/dir/NAME.ko"): tree/LINE, else
 * tree/LINE.xz (written into path); -1 after naming what is there instead, if anything. */
static int module_file(const char *tree, const char *nm, const char *line, size_t llen,
                       char *path, size_t cap)
{
    static const char *const unsupported[] = {".zst", ".gz"};
    struct stat st;
    if (snprintf(path, cap, "%s/%.*s", tree, (int)llen, line) >= (int)cap - 4)
        return fail("%s: path too long under %s", nm, tree);
    if (stat(path, &st) == 0)
        return 0;
    size_t plen = strlen(path);
    strcpy(path + plen, ".xz");
    if (stat(path, &st) == 0)
        return 0;
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        strcpy(path + plen, unsupported[i]);
        if (stat(path, &st) == 0)
            return fail("%s: compressed as %s; only plain and .xz modules are read", path,
                        unsupported[i] + 1);
    }
    path[plen] = 0;
    return fail("%s: cannot read (neither it nor %s.xz exists)", path, path);
}

static int add(struct closure *c, const char *name, size_t nlen, int depth);

/* Adds every module of the comma-separated list deps (each before its own dependents). */
static int add_list(struct closure *c, const char *deps, int depth)
{
    for (const char *d = deps; *d;) {
        size_t w = strcspn(d, ",");
        if (w && add(c, d, w, depth) != 0)
            return -1;
        d += w + (d[w] == ',');
    }
    return 0;
}

static int add(struct closure *c, const char *name, size_t nlen, int depth)
{
    char nm[SB_KMOD_NAME_MAX], path[4096], deps[1024];
    size_t ko_len = 0;
    unsigned char *ko;
    if (nlen >= sizeof nm)
        return fail("module name '%.60s...' is too long", name);
    memcpy(nm, name, nlen);
    nm[nlen] = 0;
    for (size_t i = 0; i < c->n; i++)
        if (same_name(c->out[i].name, strlen(c->out[i].name), nm, nlen))
            return 0; /* already in, with its dependencies */
    for (int i = 0; i < depth; i++)
        if (same_name(c->stack[i], strlen(c->stack[i]), nm, nlen))
            return fail("%s: depends on itself (through %s)", nm, c->stack[depth - 1]);
    if (depth >= MAX_DEPTH)
        return fail("%s: dependency chain deeper than 16", nm);
    size_t llen = 0;
    const char *line = find_line(c->order, nm, nlen, &llen);
    if (!line && find_line(c->builtin, nm, nlen, &llen))
        return 0; /* built into the kernel: nothing to load */
    if (!line)
        return fail("%s: in neither modules.order nor modules.builtin of %s", nm, c->tree);
    if (module_file(c->tree, nm, line, llen, path, sizeof path) != 0 ||
        !(ko = read_module(path, &ko_len)))
        return -1;
    if (read_depends(path, ko, ko_len, deps, sizeof deps) != 0) {
        free(ko);
        return -1;
    }
    free(ko); /* read again when written: at most one module's bytes held while recursing */
    c->stack[depth] = nm;
    if (add_list(c, deps, depth + 1) != 0)
        return -1;
    if (c->n == c->max)
        return fail("more than %zu modules (at %s)", c->max, nm);
    struct sb_kmod *m = &c->out[c->n++];
    snprintf(m->name, sizeof m->name, "%s", nm);
    snprintf(m->path, sizeof m->path, "%s", path);
    const char *base = strrchr(path, '/') + 1;
    size_t blen = strlen(base);
    if (blen > 3 && strcmp(base + blen - 3, ".xz") == 0)
        blen -= 3; /* the image holds the plain module */
    snprintf(m->file, sizeof m->file, "%.*s", (int)blen, base);
    return 0;
}

unsigned char *sb_kmod_read(const struct sb_kmod *m, size_t *len)
{
    return read_module(m->path, len);
}

int sb_kmod_closure(const char *tree, const char *roots, struct sb_kmod *out, size_t max,
                    size_t *n)
{
    char path[4096];
    size_t len;
    struct closure c = {.tree = tree, .out = out, .max = max};
    snprintf(path, sizeof path, "%s/modules.order", tree);
    c.order = slurp(path, LIST_MAX_BYTES, &len);
    snprintf(path, sizeof path, "%s/modules.builtin", tree);
    c.builtin = slurp(path, LIST_MAX_BYTES, &len);
    int rc = !c.order || !c.builtin
                 ? fail("%s: no readable modules.order and modules.builtin (a kernel's "
                        "lib/modules/RELEASE is needed)", tree)
                 : add_list(&c, roots, 0);
    free(c.order);
    free(c.builtin);
    *n = c.n;
    return rc;
}
