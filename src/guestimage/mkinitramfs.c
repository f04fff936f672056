/* mkinitramfs.c - writes a reproducible initramfs (newc cpio) for the guest image.
 *
 *   sb-mkinitramfs OUT.cpio ENTRY...
 *     dir:PATH:MODE                     a directory
 *     file:PATH:MODE:SOURCE             a regular file with SOURCE's bytes
 *     cdev:PATH:MODE:MAJOR:MINOR        a character device node (e.g. dev/console)
 *     kmods:DIR:TREE:NAME[,NAME...]     kernel modules: the named ones and their dependencies
 *                                       from the module tree TREE (lib/modules/RELEASE; kmod.c)
 *                                       as DIR/FILE.ko (decompressed when the tree has FILE.ko.xz),
 *                                       and DIR/load listing their files in load order, one a
 *                                       line (read by strongbox-init)
 *
 * Reproducible by construction, whatever the build folder, user, umask or clock: entries are
 * sorted by path (bytewise, so a directory comes before what it holds), uid = gid = 0, mtime = 0,
 * nlink 1 (2 for directories), inode numbers are the entry's rank, modes are the ones given (never
 * the source file's) and only the source's bytes are read. The output is written to OUT.tmp and
 * renamed, so an interrupted build leaves no half image. Build tool on the host: untrusted, but
 * what it writes is measured (docs/attestation.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kmod.h"

#define MAX_ENTRIES 256
#define MAX_MODULES 64
#define MAX_FILE_BYTES (512u << 20)

struct entry {
    char kind;          /* 'd', 'f', 'c', 'g' (generated: the bytes of content) */
    char path[256];
    unsigned mode;      /* permission bits */
    const char *source; /* 'f' */
    const unsigned char *content; /* 'g' */
    size_t content_len;
    unsigned major, minor;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sb-mkinitramfs: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static int parse_uint(const char *s, int base, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Splits "kind:path:mode[:rest]" into e; the source path (file) keeps any ':' it contains. */
static int parse_entry(char *arg, struct entry *e)
{
    char *f[5] = {0};
    int n = 0;
    if (strncmp(arg, "dir:", 4) != 0 && strncmp(arg, "file:", 5) != 0 &&
        strncmp(arg, "cdev:", 5) != 0)
        return fail("entry '%s': want dir:, file:, cdev: or kmods:", arg);
    int fields = strncmp(arg, "file:", 5) == 0 ? 4 : strncmp(arg, "cdev:", 5) == 0 ? 5 : 3;
    for (char *s = arg; n < fields; n++) {
        f[n] = s;
        char *c = n + 1 < fields ? strchr(s, ':') : NULL;
        if (n + 1 < fields && !c)
            return fail("entry '%s': too few fields", arg);
        if (c) {
            *c = '\0';
            s = c + 1;
        }
    }
    e->kind = strcmp(f[0], "dir") == 0 ? 'd' : strcmp(f[0], "file") == 0 ? 'f' : 'c';
    size_t plen = strlen(f[1]);
    if (!plen || plen >= sizeof e->path || f[1][0] == '/' || f[1][plen - 1] == '/' ||
        strstr(f[1], "..") || strstr(f[1], "//"))
        return fail("path '%s': want a relative path without '..', '//' or a trailing '/'", f[1]);
    memcpy(e->path, f[1], plen + 1);
    if (parse_uint(f[2], 8, 07777, &e->mode) != 0)
        return fail("mode '%s': want octal permission bits", f[2]);
    if (e->kind == 'f')
        e->source = f[3];
    if (e->kind == 'c' &&
        (parse_uint(f[3], 10, 4095, &e->major) != 0 || parse_uint(f[4], 10, 1048575, &e->minor)))
        return fail("device numbers of '%s' are not numbers", e->path);
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int pad4(FILE *out, size_t len)
{
    static const char zeros[4];
    size_t n = (4 - len % 4) % 4;
    return fwrite(zeros, 1, n, out) == n ? 0 : -1;
}

static int write_header(FILE *out, unsigned ino, unsigned mode, unsigned nlink, size_t size,
                        unsigned rmaj, unsigned rmin, const char *name)
{
    size_t namesize = strlen(name) + 1;
    /* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
     * rdevminor, namesize, check */
    if (fprintf(out, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, 0u,
                0u, nlink, 0u, (unsigned)size, 0u, 0u, rmaj, rmin, (unsigned)namesize, 0u) != 110)
        return -1;
    if (fwrite(name, 1, namesize, out) != namesize)
        return -1;
    return pad4(out, 110 + namesize);
}

static int write_file(FILE *out, unsigned ino, const struct entry *e)
{
    FILE *in = fopen(e->source, "rb");
    if (!in)
        return fail("cannot open %s", e->source);
    struct stat st;
    if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
        fclose(in);
        return fail("%s: not a regular file of at most 512 MiB", e->source);
    }
    size_t size = (size_t)st.st_size, done = 0;
    int rc = write_header(out, ino, S_IFREG | e->mode, 1, size, 0, 0, e->path);
    char buf[65536];
    while (rc == 0 && done < size) {
        size_t want = size - done < sizeof buf ? size - done : sizeof buf;
        size_t n = fread(buf, 1, want, in);
        if (n != want || fwrite(buf, 1, n, out) != n)
            rc = fail("%s: short read or write (changed while building?)", e->source);
        done += n;
    }
    fclose(in);
    return rc == 0 ? pad4(out, size) : -1;
}

static int write_generated(FILE *out, unsigned ino, const struct entry *e)
{
    size_t size = e->content_len;
    if (write_header(out, ino, S_IFREG | e->mode, 1, size, 0, 0, e->path) != 0 ||
        fwrite(e->content, 1, size, out) != size)
        return -1;
    return pad4(out, size);
}

static int write_archive(FILE *out, const struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned ino = (unsigned)i + 1;
        int rc = e[i].kind == 'f'   ? write_file(out, ino, &e[i])
                 : e[i].kind == 'g' ? write_generated(out, ino, &e[i])
                 : e[i].kind == 'd'
                     ? write_header(out, ino, S_IFDIR | e[i].mode, 2, 0, 0, 0, e[i].path)
                     : write_header(out, ino, S_IFCHR | e[i].mode, 1, 0, e[i].major, e[i].minor,
                                    e[i].path);
        if (rc != 0)
            return -1;
    }
    return write_header(out, 0, 0, 1, 0, 0, 0, "TRAILER!!!");
}

/* Sets e to a regular file at dir/name (a path of the archive) with the given mode. */
static int set_path(struct entry *e, const char *dir, const char *name, unsigned mode)
{
    if (snprintf(e->path, sizeof e->path, "%s/%s", dir, name) >= (int)sizeof e->path)
        return fail("path '%s/%s' is too long", dir, name);
    e->mode = mode;
    return 0;
}

/* "kmods:DIR:TREE:NAMES": appends the modules' file entries and DIR/load at e[*n...]. The
 * strings stay allocated until the program ends (it writes the archive and exits). */
static int add_modules(char *arg, struct entry *e, size_t *n)
{
    static struct sb_kmod mods[MAX_MODULES];
    char *dir = arg + strlen("kmods:"), *sep = strchr(dir, ':'), *names = strrchr(arg, ':');
    if (!sep || names == sep)
        return fail("entry '%s': want kmods:DIR:TREE:NAME[,NAME...]", arg);
    *sep = *names = '\0';
    size_t count = 0;
    if (sb_kmod_closure(sep + 1, names + 1, mods, MAX_MODULES, &count) != 0)
        return -1;
    if (*n + count + 1 > MAX_ENTRIES)
        return fail("more than %d entries with the modules of %s", MAX_ENTRIES, sep + 1);
    char *load = calloc(count, sizeof mods[0].file + 1);
    if (count && !load)
        return fail("out of memory%s", "");
    for (size_t i = 0; i < count; i++) {
        struct entry *f = &e[(*n)++];
        f->kind = 'g'; /* the module's bytes, decompressed if the tree has them as .ko.xz */
        f->content = sb_kmod_read(&mods[i], &f->content_len);
        if (!f->content || set_path(f, dir, mods[i].file, 0644) != 0)
            return -1;
        strcat(strcat(load, mods[i].file), "\n");
    }
    struct entry *l = &e[(*n)++];
    l->kind = 'g';
    l->content = (const unsigned char *)(load ? load : "");
    l->content_len = load ? strlen(load) : 0;
    return set_path(l, dir, "load", 0644);
}

int main(int argc, char **argv)
{
    static struct entry entries[MAX_ENTRIES];
    if (argc < 3 || argc - 2 > MAX_ENTRIES) {
        fprintf(stderr, "usage: sb-mkinitramfs OUT.cpio ENTRY... (at most %d entries)\n",
                MAX_ENTRIES);
        return 2;
    }
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        int rc = strncmp(argv[i], "kmods:", 6) == 0 ? add_modules(argv[i], entries, &n)
                 : n == MAX_ENTRIES ? fail("more than %d entries", MAX_ENTRIES)
                                    : parse_entry(argv[i], &entries[n++]);
        if (rc != 0)
            return 2;
    }
    qsort(entries, n, sizeof *entries, by_path);
    for (size_t i = 1; i < n; i++)
        if (strcmp(entries[i - 1].path, entries[i].path) == 0) {
            fail("path '%s' given twice", entries[i].path);
            return 2;
        }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp) {
        fail("output path too long: %s", argv[1]);
        return 2;
    }
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        fail("cannot create %s", tmp);
        return 1;
    }
    int rc = write_archive(out, entries, n);
    if (fclose(out) != 0 || rc != 0 || rename(tmp, argv[1]) != 0) {
        remove(tmp);
        fail("writing %s failed", argv[1]);
        return 1;
    }
    return 0;
}
