/* test_buf - the host's byte queue (src/host/buf.c): reply lines formatted into it are cut to
 * their bound and always end in a newline, and the queue compacts and grows around them. */
#include "host/host_impl.h"

#include "check.h"

#include <string.h>

static size_t queued(const struct buf *b, const char **p)
{
    *p = (const char *)b->p + b->off;
    return buf_size(b);
}

static void test_line_fits(void)
{
    struct buf b = {0};
    const char *p;
    CHECK(buf_append_line(&b, 16, "OK %d", 42) == 6);
    CHECK(queued(&b, &p) == 6 && memcmp(p, "OK 42\n", 6) == 0);
    /* exactly max - 1 bytes of text: kept whole */
    CHECK(buf_append_line(&b, 8, "%s", "1234567") == 8);
    CHECK(queued(&b, &p) == 14 && memcmp(p + 6, "1234567\n", 8) == 0);
    buf_free(&b);
}

static void test_line_too_long(void)
{
    struct buf b = {0};
    const char *p;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    /* cut to max - 1 bytes, and the newline still ends it */
    CHECK(buf_append_line(&b, 64, "ERR %s", big) == 64);
    CHECK(queued(&b, &p) == 64 && memcmp(p, "ERR xxx", 7) == 0 && p[62] == 'x' && p[63] == '\n');
    /* one byte over the bound */
    CHECK(buf_append_line(&b, 4, "%s", "abcd") == 4);
    CHECK(queued(&b, &p) == 68 && memcmp(p + 64, "abc\n", 4) == 0);
    /* the smallest line: no text, only its newline */
    CHECK(buf_append_line(&b, 2, "%s", "") == 1);
    CHECK(buf_append_line(&b, 2, "%s", "zz") == 2);
    CHECK(queued(&b, &p) == 71 && memcmp(p + 68, "\nz\n", 3) == 0);
    buf_free(&b);
}

static void test_bad_bound(void)
{
    struct buf b = {0};
    CHECK(buf_append_line(&b, 0, "x") == 0);
    CHECK(buf_append_line(&b, 1, "x") == 0);
    CHECK(buf_size(&b) == 0);
    buf_free(&b);
}

/* A queue whose room is used up: lines go after what is queued, consumed bytes are reclaimed
 * first, and the queue grows when it has to; nothing queued is lost or reordered. */
static void test_full_queue(void)
{
    struct buf b = {0};
    const char *p;
    char chunk[8192];
    memset(chunk, 'a', sizeof chunk);
    CHECK(buf_append(&b, chunk, 4000) == 0);
    size_t cap = b.cap;
    CHECK(cap == 4096);
    /* no room for a 512-byte line: the queue grows, the line follows the chunk */
    CHECK(buf_append_line(&b, 512, "L1 %d", 1) == 5);
    CHECK(b.cap > cap);
    CHECK(queued(&b, &p) == 4005 && p[3999] == 'a' && memcmp(p + 4000, "L1 1\n", 5) == 0);
    /* consumed bytes make room: the unread line moves to the front instead of growing again */
    buf_consume(&b, 4000);
    cap = b.cap;
    CHECK(cap - 5 - 100 <= sizeof chunk);
    CHECK(buf_append(&b, chunk, cap - 5 - 100) == 0);
    CHECK(buf_append_line(&b, 100, "%s", "L2") == 3);
    CHECK(b.cap == cap && b.off == 0);
    CHECK(queued(&b, &p) == cap - 100 + 3 && memcmp(p, "L1 1\n", 5) == 0 &&
          memcmp(p + cap - 100, "L2\n", 3) == 0);
    buf_free(&b);
}

int main(void)
{
    test_line_fits();
    test_line_too_long();
    test_bad_bound();
    test_full_queue();
    printf("test_buf: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
