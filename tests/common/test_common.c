/* Tests for src/common: hex, RFC 3339 times, file reading limits. */
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void test_hex(void)
{
    uint8_t in[] = {0x00, 0x7f, 0xab, 0xff}, out[4];
    char hex[9];
    sb_hex_encode(in, 4, hex);
    CHECK(strcmp(hex, "007fabff") == 0);
    CHECK(sb_hex_decode("007FABff", out, 4) == 0 && memcmp(in, out, 4) == 0);
    CHECK(sb_hex_decode("007fab", out, 4) == -1);     /* too short */
    CHECK(sb_hex_decode("007fabffaa", out, 4) == -1); /* too long */
    CHECK(sb_hex_decode("007fabfg", out, 4) == -1);   /* not hex */
}

static void test_time(void)
{
    time_t t;
    char buf[32];
    CHECK(sb_time_parse("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    CHECK(sb_time_parse("2024-01-01T00:00:00Z", &t) == 0 && t == 1704067200);
    CHECK(sb_time_parse("2022-10-13T08:58:02.123Z", &t) == 0 && t == 1665651482);
    CHECK(sb_time_parse("2022-10-13T10:58:02+02:00", &t) == 0 && t == 1665651482);
    CHECK(sb_time_parse("2024-02-29T00:00:00Z", &t) == 0);
    CHECK(sb_time_parse("2023-02-29T00:00:00Z", &t) == -1); /* not a leap year */
    CHECK(sb_time_parse("2024-13-01T00:00:00Z", &t) == -1);
    CHECK(sb_time_parse("2024-01-01 00:00:00Z", &t) == -1);
    CHECK(sb_time_parse("2024-01-01T00:00:00", &t) == -1); /* no zone */
    CHECK(sb_time_parse("2024-01-01T00:00:00Zjunk", &t) == -1);
    CHECK(sb_time_parse("", &t) == -1);
    sb_time_format(1665651482, buf, sizeof buf);
    CHECK(strcmp(buf, "2022-10-13T08:58:02Z") == 0);
}

static void test_files(void)
{
    char path[] = "/tmp/sb-common-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    sb_err err;
    CHECK(sb_write_file(path, "hello", 5, 0600, &err) == 0);
    uint8_t *data;
    size_t len;
    CHECK(sb_read_file(path, 5, &data, &len, &err) == 0 && len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    CHECK(sb_read_file(path, 4, &data, &len, &err) == -1 && strstr(err.msg, "limit") != NULL);
    CHECK(sb_read_file("/nonexistent/x", 4, &data, &len, &err) == -1 && data == NULL);
    unlink(path);
}

int main(void)
{
    test_hex();
    test_time();
    test_files();
    CHECK(sb_memeq_ct("abc", "abc", 3) == 0 && sb_memeq_ct("abc", "abd", 3) != 0);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("common: all checks passed\n");
    return 0;
}
