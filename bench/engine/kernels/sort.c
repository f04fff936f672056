/* sort.c - quicksort (median of three, insertion sort for short runs) of 100,000 pseudo-random
 * ints, `n` times. Exercises compares, branches, memory swaps and recursive calls. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define COUNT 100000

static int32_t data[COUNT];

static void insertion_sort(int32_t *v, int len)
{
    for (int i = 1; i < len; i++) {
        int32_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void swap(int32_t *x, int32_t *y) { int32_t t = *x; *x = *y; *y = t; }

/* Recurses into the smaller half only, so depth stays O(log n). */
static void quick_sort(int32_t *v, int len)
{
    while (len > 16) {
        int mid = len / 2;
        if (v[mid] < v[0]) swap(&v[mid], &v[0]);
        if (v[len - 1] < v[0]) swap(&v[len - 1], &v[0]);
        if (v[len - 1] < v[mid]) swap(&v[len - 1], &v[mid]);
        int32_t pivot = v[mid];
        int i = 0, j = len - 1;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) swap(&v[i++], &v[j--]);
        }
        if (j + 1 < len - i) {
            quick_sort(v, j + 1);
            v += i; len -= i;
        } else {
            quick_sort(v + i, len - i);
            len = j + 1;
        }
    }
    insertion_sort(v, len);
}

uint64_t bench_run(uint32_t n)
{
    uint64_t check = 0;
    uint32_t seed = 42;
    for (uint32_t r = 0; r < n; r++) {
        for (int i = 0; i < COUNT; i++) {
            seed = seed * 1664525u + 1013904223u;
            data[i] = (int32_t)(seed >> 1) % 1000000;
        }
        quick_sort(data, COUNT);
        for (int i = 1; i < COUNT; i++)
            if (data[i - 1] > data[i])
                return 0; /* unsorted: a wrong checksum the runner will flag */
        check = check * 31 + (uint32_t)data[r % COUNT] + (uint32_t)data[COUNT / 2];
    }
    return check;
}
