/* strongbox-attestd - the proxy attestation service daemon. See docs/attestation.md. */
#include "attestd/attestd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox-attestd --state DIR [options]\n"
            "  --state DIR            state directory (CA key, root, admin token, database)\n"
            "  --listen ADDR          numeric listen address (default 127.0.0.1)\n"
            "  --port N               TCP port (default 7780; 0 = any free port)\n"
            "  --port-file FILE       write the bound port to FILE once listening\n"
            "  --url URL              verification service URL put in tokens\n"
            "  --cert-validity SECS   isolate certificate lifetime (default 86400)\n"
            "  --nonce-ttl SECS       challenge lifetime (default 300)\n"
            "  --threads N            worker threads (default 2)\n"
            "  --refuse-insecure      refuse debug/insecure platforms (process, debug VMs)\n"
            "  --serve-insecure       serve them (default unless changed via the admin API)\n"
            "  --version              print the version\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, sb_attestd_config *cfg, const char **port_file)
{
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--refuse-insecure") == 0) {
            cfg->serve_insecure = 0, takes = 0;
        } else if (strcmp(a, "--serve-insecure") == 0) {
            cfg->serve_insecure = 1, takes = 0;
        } else if (!val) {
            fprintf(stderr, "strongbox-attestd: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "--state") == 0) {
            cfg->state_dir = val;
        } else if (strcmp(a, "--listen") == 0) {
            cfg->listen_addr = val;
        } else if (strcmp(a, "--url") == 0) {
            cfg->service_url = val;
        } else if (strcmp(a, "--port-file") == 0) {
            *port_file = val;
        } else if (strcmp(a, "--port") == 0 && parse_long(val, 0, 65535, &v) == 0) {
            cfg->port = (unsigned)v;
        } else if (strcmp(a, "--cert-validity") == 0 && parse_long(val, 60, 366L * 86400, &v) == 0) {
            cfg->cert_validity = v;
        } else if (strcmp(a, "--nonce-ttl") == 0 && parse_long(val, 1, 86400, &v) == 0) {
            cfg->nonce_ttl = v;
        } else if (strcmp(a, "--threads") == 0 && parse_long(val, 1, 64, &v) == 0) {
            cfg->threads = (unsigned)v;
        } else {
            fprintf(stderr, "strongbox-attestd: bad option or value: %s %s\n", a, val);
            return -1;
        }
        i += takes;
    }
    if (!cfg->state_dir) {
        fprintf(stderr, "strongbox-attestd: --state DIR is required\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("strongbox-attestd %s\n", SB_VERSION);
        return 0;
    }
    sb_attestd_config cfg = {.port = 7780, .serve_insecure = -1};
    const char *port_file = NULL;
    if (parse_args(argc, argv, &cfg, &port_file) < 0) {
        usage(stderr);
        return 2;
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sb_err err = {0};
    sb_attestd *d = sb_attestd_start(&cfg, &err);
    if (!d) {
        fprintf(stderr, "strongbox-attestd: %s\n", err.msg);
        return 1;
    }
    char port[16];
    int n = snprintf(port, sizeof port, "%u\n", sb_attestd_port(d));
    if (port_file && sb_write_file(port_file, port, (size_t)n, 0644, &err) < 0) {
        fprintf(stderr, "strongbox-attestd: %s\n", err.msg);
        sb_attestd_stop(d);
        return 1;
    }
    fprintf(stderr, "strongbox-attestd: listening on %s:%u, state %s (admin token in %s/admin.token)\n",
            cfg.listen_addr ? cfg.listen_addr : "127.0.0.1", sb_attestd_port(d), cfg.state_dir,
            cfg.state_dir);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "strongbox-attestd: signal %d, stopping\n", sig);
    sb_attestd_stop(d);
    return 0;
}
