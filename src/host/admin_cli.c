/* admin_cli.c - `strongbox-host admin`: the operator's client of the host's admin socket
 * (docs/host.md "Operator"). Prints the host's JSON lines; an ERR line goes to stderr, exit 1. */
#include "host/host.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ADMIN_DEFAULT_SOCKET "/run/strongbox-host/admin.sock" /* the packaged unit's */
#define ADMIN_ANSWER_LINE_MAX 8192

static void admin_usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox-host admin [--socket PATH] list\n"
            "       strongbox-host admin [--socket PATH] show HASH\n"
            "       strongbox-host admin [--socket PATH] stop HASH [REASON...]\n"
            "       strongbox-host admin [--socket PATH] sealed|delete-sealed HASH\n\n"
            "  --socket PATH   the host's --admin-socket (default " ADMIN_DEFAULT_SOCKET ")\n"
            "  list            every computation: state, pid, memory budget and RSS, sessions,\n"
            "                  bytes relayed (one JSON object per line)\n"
            "  show HASH       one computation (HASH: the policy hash or 8+ of its first digits)\n"
            "  stop HASH       end it now: its isolate is killed, its quota freed, its parties\n"
            "                  told 'stopped by the operator: REASON'\n"
            "  sealed HASH     the sealed results kept for a computation (--sealed-dir): reader,\n"
            "                  path, bytes, when (HASH: the whole policy hash)\n"
            "  delete-sealed HASH  delete them all\n");
}

static int dial_admin(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, "strongbox-host admin: --socket %s: path too long\n", path);
        return -1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {30, 0};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "strongbox-host admin: cannot connect to %s: %s%s\n", path,
                strerror(errno), errno == EACCES ? " (run as the host's user or root)" : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Builds "VERB [HASH [REASON...]]\n" from the operands; NULL on a usage error. */
static char *command_line(int argc, char **argv)
{
    static const struct { const char *word, *verb; int min, max; } cmds[] = {
        {"list", "LIST", 0, 0}, {"show", "SHOW", 1, 1}, {"stop", "STOP", 1, 1 << 20},
        {"sealed", "SEALED", 1, 1}, {"delete-sealed", "DELETE-SEALED", 1, 1}};
    for (size_t i = 0; argc > 0 && i < sizeof cmds / sizeof *cmds; i++) {
        if (strcmp(argv[0], cmds[i].word) != 0)
            continue;
        if (argc - 1 < cmds[i].min || argc - 1 > cmds[i].max)
            return NULL;
        size_t len = strlen(cmds[i].verb) + 2;
        for (int k = 1; k < argc; k++)
            len += strlen(argv[k]) + 1;
        char *line = malloc(len);
        if (!line)
            return NULL;
        strcpy(line, cmds[i].verb);
        for (int k = 1; k < argc; k++) {
            strcat(line, " ");
            strcat(line, argv[k]);
        }
        strcat(line, "\n");
        return line;
    }
    return NULL;
}

/* Reads answer lines until "OK n" (exit 0) or "ERR ..." (exit 1). */
static int print_answer(FILE *in)
{
    char line[ADMIN_ANSWER_LINE_MAX];
    while (fgets(line, sizeof line, in)) {
        if (strncmp(line, "OK", 2) == 0)
            return 0;
        if (strncmp(line, "ERR ", 4) == 0) {
            fprintf(stderr, "strongbox-host admin: %s", line + 4);
            return 1;
        }
        fputs(line, stdout);
    }
    fprintf(stderr, "strongbox-host admin: the host closed the connection without an answer%s\n",
            ferror(in) ? " (timeout)" : "");
    return 1;
}

int sb_host_admin_cli(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *path = ADMIN_DEFAULT_SOCKET;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 's') {
            path = optarg;
        } else if (c == 'h') {
            admin_usage(stdout);
            return 0;
        } else {
            admin_usage(stderr);
            return 2;
        }
    }
    char *line = command_line(argc - optind, argv + optind);
    if (!line) {
        admin_usage(stderr);
        return 2;
    }
    int fd = dial_admin(path);
    FILE *in = fd >= 0 ? fdopen(fd, "r") : NULL;
    int rc = 1;
    if (in && send(fd, line, strlen(line), MSG_NOSIGNAL) == (ssize_t)strlen(line))
        rc = print_answer(in);
    else if (in)
        fprintf(stderr, "strongbox-host admin: cannot send to %s: %s\n", path, strerror(errno));
    if (in)
        fclose(in);
    else if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}
