/* strongbox put POLICY --as NAME LOCAL REMOTE: upload a file into the isolate. */
#include "cli/commands.h"
#include "client/cli_support.h"
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

SB_COMMAND_DECL(put);
const char sb_cmd_put_summary[] = "upload a file into a computation (after verifying the isolate)";

/* More than the policy's filesystem holds is refused before connecting: nothing is sent. */
static int fits_policy(const sbcli_args *a, uint64_t size)
{
    sb_policy *p;
    sb_err e = {0};
    if (sb_policy_load(a->policy, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0) {
        fprintf(stderr, "strongbox put: %s: %s\n", a->policy, e.msg);
        return SBCLI_FAILED;
    }
    uint64_t limit = sb_policy_limits_of(p)->fs_bytes;
    sb_policy_free(p);
    if (size <= limit)
        return SBCLI_OK;
    fprintf(stderr, "strongbox put: %s: %llu bytes, more than the policy's filesystem limit "
            "(fs_bytes %llu): nothing was sent\n", a->pos[0], (unsigned long long)size,
            (unsigned long long)limit);
    return SBCLI_FAILED;
}

int sb_cmd_put(int argc, char **argv)
{
    static const char usage[] =
        "strongbox put POLICY --as NAME [--key F --cert F] [--host H:P] [--append] [--quiet] [--json] "
        "LOCAL REMOTE";
    sbcli_args a;
    strongbox *s;
    int rc = sbcli_parse(argc, argv, usage, 1, 2, &a);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    /* A missing or unreadable file is said before the host and the isolate are bothered. */
    struct stat st;
    int fd = open(a.pos[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "strongbox put: %s: %s\n", a.pos[0],
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return SBCLI_FAILED;
    }
    close(fd);
    if ((rc = fits_policy(&a, (uint64_t)st.st_size)) != SBCLI_OK ||
        (rc = sbcli_connect(&a, &s)) != SBCLI_OK)
        return rc;
    strongbox_error e;
    sbcli_progress_begin(&a, "put");
    rc = strongbox_put_file(s, a.pos[0], a.pos[1], a.append, &e);
    sbcli_progress_end(&a);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    if (!a.quiet)
        printf("%s -> %s: stored\n", a.pos[0], a.pos[1]);
    return 0;
}
