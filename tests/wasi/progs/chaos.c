/* Calls raw WASI functions with pseudo-random arguments (seeded by argv[1]): fds valid and not,
 * pointers inside the arena, at its edges and far outside memory, lengths small and huge, random
 * flags and rights. The host must survive all of it (the harness runs under ASan too), and no
 * sequence may bring the bytes of /secret/s (a marker no program right reaches) into memory.
 * Exits 1 if the marker ever shows up, 0 otherwise. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(n) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#n)))
typedef int32_t i32;
typedef int64_t i64;
i32 w_fd_read(i32, i32, i32, i32) IMPORT(fd_read);
i32 w_fd_pread(i32, i32, i32, i64, i32) IMPORT(fd_pread);
i32 w_fd_write(i32, i32, i32, i32) IMPORT(fd_write);
i32 w_fd_pwrite(i32, i32, i32, i64, i32) IMPORT(fd_pwrite);
i32 w_fd_seek(i32, i64, i32, i32) IMPORT(fd_seek);
i32 w_fd_close(i32) IMPORT(fd_close);
i32 w_fd_renumber(i32, i32) IMPORT(fd_renumber);
i32 w_fd_readdir(i32, i32, i32, i64, i32) IMPORT(fd_readdir);
i32 w_fd_filestat_get(i32, i32) IMPORT(fd_filestat_get);
i32 w_fd_filestat_set_size(i32, i64) IMPORT(fd_filestat_set_size);
i32 w_fd_fdstat_set_rights(i32, i64, i64) IMPORT(fd_fdstat_set_rights);
i32 w_fd_allocate(i32, i64, i64) IMPORT(fd_allocate);
i32 w_path_open(i32, i32, i32, i32, i32, i64, i64, i32, i32) IMPORT(path_open);
i32 w_path_create_directory(i32, i32, i32) IMPORT(path_create_directory);
i32 w_path_remove_directory(i32, i32, i32) IMPORT(path_remove_directory);
i32 w_path_unlink_file(i32, i32, i32) IMPORT(path_unlink_file);
i32 w_path_rename(i32, i32, i32, i32, i32, i32) IMPORT(path_rename);
i32 w_path_filestat_get(i32, i32, i32, i32, i32) IMPORT(path_filestat_get);
i32 w_path_filestat_set_times(i32, i32, i32, i32, i64, i64, i32) IMPORT(path_filestat_set_times);
i32 w_path_readlink(i32, i32, i32, i32, i32, i32) IMPORT(path_readlink);
i32 w_poll_oneoff(i32, i32, i32, i32) IMPORT(poll_oneoff);
i32 w_args_get(i32, i32) IMPORT(args_get);
i32 w_random_get(i32, i32) IMPORT(random_get);

#define ARENA 65536
static uint8_t arena[ARENA];
static const char marker[] = "SECRET!#";
static uint64_t state;

static uint32_t rnd(void)
{
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return (uint32_t)(state >> 16);
}

/* A pointer: usually inside the arena, sometimes at its end or out of memory altogether. */
static i32 ptr(void)
{
    uint32_t r = rnd() % 16;
    if (r == 0)
        return (i32)0xFFFFFFF0u;
    if (r == 1)
        return (i32)(uintptr_t)(arena + ARENA - (rnd() % 16));
    return (i32)(uintptr_t)(arena + rnd() % (ARENA - 512));
}

static i32 len(void)
{
    uint32_t r = rnd() % 16;
    return r == 0 ? (i32)0xFFFFFFFFu : r == 1 ? (i32)(rnd() % 200000) : (i32)(rnd() % 300);
}

static i32 fd(void)
{
    return rnd() % 8 == 0 ? (i32)rnd() : (i32)(rnd() % 10);
}

static i64 big(void)
{
    return rnd() % 4 == 0 ? (i64)(((uint64_t)rnd() << 32) | rnd()) : (i64)(rnd() % 5000);
}

/* A path written into the arena: a few components from a small set (including ".." and the
 * secret directory), returned as pointer + length. */
static i32 path(i32 *plen)
{
    static const char *parts[] = {"in", "out", "secret", "s", "data", "..", ".", "x", "y", ""};
    char *p = (char *)arena + ARENA - 512 + (rnd() % 2) * 256;
    int n = 0, k = 1 + rnd() % 4;
    for (int i = 0; i < k; i++)
        n += snprintf(p + n, 200 - n, "%s%s", i ? "/" : "", parts[rnd() % 10]);
    *plen = rnd() % 10 == 0 ? len() : n;
    return (i32)(uintptr_t)p;
}

/* iovecs in the arena pointing at random places (possibly overlapping the iovecs themselves). */
static i32 iovs(i32 *count)
{
    uint32_t *v = (uint32_t *)(arena + (rnd() % 1024) * 4);
    *count = (i32)(rnd() % 4);
    for (i32 i = 0; i < *count; i++) {
        v[2 * i] = (uint32_t)ptr();
        v[2 * i + 1] = (uint32_t)len();
    }
    return rnd() % 12 == 0 ? (i32)0xFFFFFFF0u : (i32)(uintptr_t)v;
}

static void one_call(void)
{
    i32 n, l, l2, c;
    i32 p = path(&l);
    switch (rnd() % 23) {
    case 0: w_fd_read(fd(), iovs(&c), c, ptr()); break;
    case 1: w_fd_pread(fd(), iovs(&c), c, big(), ptr()); break;
    case 2: w_fd_write(fd(), iovs(&c), c, ptr()); break;
    case 3: w_fd_pwrite(fd(), iovs(&c), c, big(), ptr()); break;
    case 4: w_fd_seek(fd(), big(), (i32)(rnd() % 4), ptr()); break;
    case 5: if (rnd() % 4 == 0) w_fd_close(fd() + 3); break;
    case 6: w_fd_renumber(fd(), fd() + 3); break; /* keep stdout for the verdict */
    case 7: w_fd_readdir(fd(), ptr(), len(), big(), ptr()); break;
    case 8: w_fd_filestat_get(fd(), ptr()); break;
    case 9: w_fd_filestat_set_size(fd(), big()); break;
    case 10: w_fd_fdstat_set_rights(fd(), big(), big()); break;
    case 11: w_fd_allocate(fd(), big(), big()); break;
    case 12: case 13:
        w_path_open(fd(), (i32)(rnd() % 3), p, l, (i32)(rnd() % 20), rnd() % 3 ? -1 : big(),
                    rnd() % 3 ? -1 : big(), (i32)(rnd() % 34), ptr());
        break;
    case 14: w_path_create_directory(fd(), p, l); break;
    case 15: w_path_remove_directory(fd(), p, l); break;
    case 16: w_path_unlink_file(fd(), p, l); break;
    case 17: n = path(&l2); w_path_rename(fd(), p, l, fd(), n, l2); break;
    case 18: w_path_filestat_get(fd(), (i32)(rnd() % 3), p, l, ptr()); break;
    case 19: w_path_filestat_set_times(fd(), (i32)(rnd() % 3), p, l, big(), big(), (i32)(rnd() % 20)); break;
    case 20: w_path_readlink(fd(), p, l, ptr(), len(), ptr()); break;
    case 21: w_poll_oneoff(ptr(), ptr(), (i32)(rnd() % 4), ptr()); break;
    default: w_random_get(ptr(), len() % 64); break;
    }
}

int main(int argc, char **argv)
{
    state = 0x9E3779B97F4A7C15ull ^ (uint64_t)(argc > 1 ? atoi(argv[1]) : 1) * 0x2545F4914F6CDD1Dull;
    int calls = argc > 2 ? atoi(argv[2]) : 3000;
    memset(arena, 'q', sizeof arena);
    for (int i = 0; i < calls; i++) {
        one_call();
        if ((i % 16 == 15 || i == calls - 1) && memmem(arena, sizeof arena, marker, 8)) {
            printf("secret bytes reached the program after call %d\n", i);
            return 1;
        }
    }
    printf("chaos: %d calls\n", calls);
    return 0;
}
