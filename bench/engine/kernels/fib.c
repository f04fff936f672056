/* fib.c - doubly recursive Fibonacci. Exercises the call/return path (frames, argument passing),
 * which dominates interpreter cost in call-heavy code. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

__attribute__((noinline)) static uint64_t fib(uint32_t k)
{
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

uint64_t bench_run(uint32_t n)
{
    return fib(n);
}
