/* Directories: mkdir, rmdir, readdir (names sorted: the order is backend-defined), rename in all
 * its cases, unlink, and their errno. Covers path_create_directory, path_remove_directory,
 * path_rename, path_unlink_file, fd_readdir, path_open(O_DIRECTORY). */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *name)
{
    DIR *d = opendir(P(name));
    if (!d) {
        printf("opendir(%s) = NULL %s\n", name, errname(errno));
        return;
    }
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("ls %s:", name);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void touch(const char *name, const char *text)
{
    int fd = open(P(name), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0)
            printf("write %s failed\n", name);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    base_dir = argv[1];
    T(mkdir(P("a"), 0755));
    T(mkdir(P("a"), 0755));
    T(mkdir(P("a/b"), 0755));
    T(mkdir(P("x/y"), 0755));
    T(mkdir(P("a/b/"), 0755));
    touch("a/f", "file f");
    touch("a/b/g", "file g");
    T(mkdir(P("a/f/z"), 0755));
    list("a");
    list("a/b");
    list("a/f");
    list("nope");
    /* many entries: readdir has to continue from its cookies */
    T(mkdir(P("many"), 0755));
    char nm[64];
    for (int i = 0; i < 150; i++) {
        snprintf(nm, sizeof nm, "many/entry-with-a-longish-name-%03d", i);
        touch(nm, "");
    }
    DIR *d = opendir(P("many"));
    int count = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        count++;
    printf("many: %d entries\n", count);
    if (d) {
        rewinddir(d);
        count = 0;
        while (readdir(d))
            count++;
        printf("many after rewind: %d entries\n", count);
        closedir(d);
    }
    /* rmdir / unlink */
    T(rmdir(P("a")));
    T(rmdir(P("a/f")));
    T(rmdir(P("a/missing")));
    T(unlink(P("a/b")));
    T(unlink(P("a/missing")));
    T(unlink(P("a/f/")));
    /* rename */
    T(rename(P("a/f"), P("a/f2")));
    T(rename(P("a/missing"), P("a/m2")));
    T(rename(P("a"), P("a/b/inside")));
    T(rename(P("a/b"), P("a/f2")));
    T(rename(P("a/f2"), P("a/b")));
    T(mkdir(P("empty"), 0755));
    T(rename(P("a/b"), P("empty")));
    list("");
    T(mkdir(P("full"), 0755));
    touch("full/x", "x");
    T(rename(P("empty"), P("full")));
    touch("a/over", "old");
    touch("a/new", "new");
    T(rename(P("a/new"), P("a/over")));
    T(rename(P("a/over"), P("a/over")));
    T(rename(P("a/over"), P("moved-up")));
    T(rename(P("a/f2"), P("a/f2/")));
    list("");
    list("a");
    list("empty");
    for (int i = 0; i < 150; i++) {
        snprintf(nm, sizeof nm, "many/entry-with-a-longish-name-%03d", i);
        if (i % 2)
            unlink(P(nm));
    }
    d = opendir(P("many"));
    count = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        count++;
    printf("many after unlink: %d entries\n", count);
    if (d)
        closedir(d);
    return 0;
}
