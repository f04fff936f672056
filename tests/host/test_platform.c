/* test_platform - the process backend really sandboxes the runtime: a probe program launched in
 * its place reports what it can see; plus measurement, exit reporting and every error path. */
#include "platform/platform.h"

#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/check.h"

/* Reads the probe's report (until "end\n") from the non-blocking channel. */
static int read_report(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "end\n"))
            return 0;
    }
    return -1;
}

static long long field(const char *report, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\n%s=", key);
    char *copy_start = strstr(report, pat);
    if (!copy_start && strncmp(report, pat + 1, strlen(pat + 1)) == 0)
        return atoll(report + strlen(pat + 1));
    return copy_start ? atoll(copy_start + strlen(pat)) : -999;
}

static int wait_exit(sb_isolate *iso, sb_isolate_exit *ex)
{
    for (int i = 0; i < 1000; i++) {
        int r = sb_isolate_reap(iso, ex);
        if (r != 0)
            return r;
        usleep(10000);
    }
    return 0;
}

static void test_sandbox(sb_platform *p)
{
    sb_err err = {0};
    sb_isolate *iso;
    sb_isolate_limits lim = {.address_space = 512u << 20, .open_files = 16};
    CHECK(sb_isolate_launch(p, &lim, &iso, &err) == 0);
    if (failures) {
        fprintf(stderr, "launch: %s\n", err.msg);
        return;
    }
    char rep[2048];
    CHECK(read_report(sb_isolate_channel(iso), rep, sizeof rep) == 0);
    unsigned sb = sb_isolate_sandbox(iso);
    printf("sandbox bits %#x, warnings: '%s'\nreport:\n%s", sb, sb_isolate_warnings(iso), rep);
    CHECK(field(rep, "nnp") == 1);
    CHECK(field(rep, "fds") == 0);
    CHECK(field(rep, "as") == 512ll << 20);
    CHECK(field(rep, "nofile") == 16);
    CHECK(field(rep, "core") == 0);
    CHECK(field(rep, "usr") == 1);
    CHECK(field(rep, "rootwrite") == 0 || !(sb & SB_SANDBOX_EMPTY_ROOT));
    if (geteuid() == 0) {
        /* As root (the CI machine) every isolation step must have been applied. */
        CHECK((sb & 0x1ff) == 0x1ff);
        CHECK(field(rep, "uid") == 65534);
        CHECK(field(rep, "nproc") == 0);
        CHECK(field(rep, "pid") == 1);
        CHECK(field(rep, "net") == 0);
        CHECK(field(rep, "etc") == 0);
        CHECK(field(rep, "work") == 0);
        CHECK(field(rep, "rootwrite") == 0);
    }
    /* Closing the channel lets the probe finish normally. */
    sb_isolate_exit ex;
    CHECK(sb_isolate_reap(iso, &ex) == 0);
    shutdown(sb_isolate_channel(iso), SHUT_WR);
    CHECK(wait_exit(iso, &ex) == 1);
    CHECK(ex.exited == 1 && ex.code == 0);
    sb_isolate_free(iso);
}

static void test_crash_and_kill(sb_platform *p)
{
    sb_err err = {0};
    sb_isolate *iso;
    char rep[2048], desc[64];
    sb_isolate_exit ex;
    CHECK(sb_isolate_launch(p, NULL, &iso, &err) == 0);
    CHECK(read_report(sb_isolate_channel(iso), rep, sizeof rep) == 0);
    CHECK(write(sb_isolate_channel(iso), "crash", 5) == 5);
    CHECK(wait_exit(iso, &ex) == 1);
    sb_isolate_exit_describe(&ex, desc, sizeof desc);
    CHECK(strcmp(desc, "killed by signal 11 (Segmentation fault)") == 0);
    sb_isolate_free(iso);

    CHECK(sb_isolate_launch(p, NULL, &iso, &err) == 0);
    sb_isolate_kill(iso);
    CHECK(sb_isolate_reap(iso, &ex) == 1 && !ex.exited && ex.code == 9);
    sb_isolate_kill(iso); /* idempotent */
    sb_isolate_free(iso);
}

static void test_measurement(sb_platform *p, const char *path)
{
    uint8_t *data;
    size_t len, mlen;
    sb_err err;
    CHECK(sb_read_file(path, 1u << 28, &data, &len, &err) == 0);
    uint8_t md[32];
    unsigned int n;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    const uint8_t *m = sb_platform_measurement(p, &mlen);
    CHECK(mlen == 32 && memcmp(m, md, 32) == 0);
    CHECK(strcmp(sb_platform_name(p), "process") == 0);
    free(data);
}

static void test_errors(const char *probe)
{
    sb_err err = {0};
    sb_platform *p;
    sb_platform_config cfg = {.runtime_path = probe};
    CHECK(sb_platform_open("vmware", &cfg, &p, &err) == -1 && !p);
    CHECK(strstr(err.msg, "platform 'vmware' is not supported") != NULL);
    cfg.runtime_path = "/nonexistent/strongbox-runtime";
    CHECK(sb_platform_open("process", &cfg, &p, &err) == -1);
    CHECK(strstr(err.msg, "runtime image: cannot open /nonexistent/strongbox-runtime") != NULL);
    cfg.runtime_path = NULL;
    CHECK(sb_platform_open("process", &cfg, &p, &err) == -1);
    CHECK(strstr(err.msg, "no runtime binary") != NULL);

    /* Something that is not an executable: the child's exec failure comes back as the error. */
    char tmpl[] = "/tmp/sb-notexec-XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0 && write(fd, "hello\n", 6) == 6);
    close(fd);
    cfg.runtime_path = tmpl;
    CHECK(sb_platform_open("process", &cfg, &p, &err) == 0);
    sb_isolate *iso = NULL;
    CHECK(sb_isolate_launch(p, NULL, &iso, &err) == -1 && !iso);
    CHECK(strstr(err.msg, "isolate launch: execveat of the runtime image failed: Exec format error") != NULL);
    uint8_t binding[64] = {0}, *ev;
    size_t ev_len;
    CHECK(sb_platform_evidence(p, binding, sizeof binding, &ev, &ev_len, &err) == -1);
    CHECK(strstr(err.msg, "no host attestation key") != NULL);
    sb_platform_close(p);
    unlink(tmpl);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_platform PROBE\n");
        return 2;
    }
    sb_err err = {0};
    sb_platform *p;
    sb_platform_config cfg = {.runtime_path = argv[1]};
    if (sb_platform_open("process", &cfg, &p, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    test_measurement(p, argv[1]);
    test_sandbox(p);
    test_crash_and_kill(p);
    sb_platform_close(p);
    test_errors(argv[1]);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_platform: all checks passed\n");
    return 0;
}
