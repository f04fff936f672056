/* exio.h - the little I/O every example program shares: list the data providers' folders under
 * the inputs directory (in sorted order, so results never depend on directory order), read whole
 * lines, and fail with a message that says which file was bad. Header-only so each example stays
 * one translation unit, built both for wasm32-wasi and natively. */
#ifndef EXIO_H
#define EXIO_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EX_MAX_PARTIES 256
#define EX_NAME_MAX 64
#define EX_LINE_MAX 1024

static inline void ex_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void ex_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static inline int ex_cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Fills names[] with the sub-directories of dir (skipping dot entries), sorted. */
static inline int ex_list_parties(const char *dir, char names[][EX_NAME_MAX])
{
    DIR *d = opendir(dir);
    if (!d)
        ex_die("cannot open %s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == EX_MAX_PARTIES)
            ex_die("more than %d parties under %s", EX_MAX_PARTIES, dir);
        if (strlen(e->d_name) >= EX_NAME_MAX)
            ex_die("party name too long under %s", dir);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, EX_NAME_MAX, ex_cmp_names);
    return n;
}

/* Whether a party supplied `file`. In the isolate every party's input folder exists from the
 * start (the runtime creates the folders the policy grants), so a party that sent nothing has an
 * empty folder: programs skip it rather than fail. */
static inline int ex_has_input(const char *dir, const char *party, const char *file)
{
    char path[512];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s/%s", dir, party, file) >= (int)sizeof path)
        ex_die("path too long: %s/%s/%s", dir, party, file);
    return stat(path, &st) == 0;
}

static inline FILE *ex_open_input(const char *dir, const char *party, const char *file)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s/%s/%s", dir, party, file) >= (int)sizeof path)
        ex_die("path too long: %s/%s/%s", dir, party, file);
    FILE *f = fopen(path, "r");
    if (!f)
        ex_die("cannot open %s: %s", path, strerror(errno));
    return f;
}

static inline FILE *ex_open_output(const char *dir, const char *file)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        ex_die("path too long: %s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f)
        ex_die("cannot create %s: %s", path, strerror(errno));
    return f;
}

/* Reads one line without its newline; returns 0 at end of file. Over-long lines are an error. */
static inline int ex_read_line(FILE *f, char *buf, const char *what)
{
    if (!fgets(buf, EX_LINE_MAX, f))
        return 0;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        ex_die("%s: line longer than %d bytes", what, EX_LINE_MAX - 1);
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark (spreadsheets) */
        memmove(buf, buf + 3, n - 2);
    return 1;
}

/* The next data row, skipping blank lines (a trailing empty line is common in hand-made files);
 * *lineno counts physical lines, for messages. Returns 0 at end of file. */
static inline int ex_next_row(FILE *f, char *buf, const char *what, int *lineno)
{
    while (ex_read_line(f, buf, what)) {
        ++*lineno;
        if (buf[strspn(buf, " \t")] != '\0')
            return 1;
    }
    return 0;
}

#endif
