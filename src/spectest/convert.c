/* convert.c - turning a .wast script into wast2json's JSON command script plus .wasm files. */
#include "spectest/spectest.h"

#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "dir/i32.wast" -> "i32" (malloc'd). */
static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (ends_with(base, ".wast"))
        len -= 5;
    return strndup(base, len);
}

static int run_wast2json(const char *wast, const char *json, char *why, size_t why_len)
{
    const char *tool = getenv("SB_WAST2JSON");
    if (!tool || !*tool)
        tool = "wast2json";
    char *argv[] = {(char *)tool, (char *)wast, "-o", (char *)json, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, tool, NULL, NULL, argv, environ);
    if (rc != 0) {
        snprintf(why, why_len, "cannot run %s: %s (install wabt)", tool, strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(why, why_len, "waitpid: %s", strerror(errno));
            return -1;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, why_len, "%s failed on %s (%s %d)", tool, wast,
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* mkdir -p: the work directory's parents may not exist yet (e.g. a fresh build tree). */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int convert_wast(const char *path, const char *work_dir, char **json_path, char **tmp_dir,
                 char *why, size_t why_len)
{
    *json_path = NULL;
    *tmp_dir = NULL;
    if (ends_with(path, ".json")) {
        *json_path = strdup(path);
        return *json_path ? 0 : (snprintf(why, why_len, "out of memory"), -1);
    }
    if (!ends_with(path, ".wast")) {
        snprintf(why, why_len, "%s: expected a .wast or .json file", path);
        return -1;
    }
    if (access(path, R_OK) != 0) {
        snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    const char *dir = work_dir;
    if (!dir) {
        const char *tmp = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/sb-spectest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpl)) {
            snprintf(why, why_len, "mkdtemp %s: %s", tmpl, strerror(errno));
            return -1;
        }
        dir = *tmp_dir = strdup(tmpl);
    } else if (make_dirs(dir) != 0) {
        snprintf(why, why_len, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    char *stem = stem_of(path);
    size_t len = strlen(dir) + (stem ? strlen(stem) : 0) + 8;
    *json_path = stem ? malloc(len) : NULL;
    if (!*json_path || !dir) {
        free(stem);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    snprintf(*json_path, len, "%s/%s.json", dir, stem);
    free(stem);
    return run_wast2json(path, *json_path, why, why_len);
}

/* Removes a conversion directory: it holds only the files wast2json wrote, no subdirectories. */
void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}
