/* bench_util.h — small helpers shared by the benchmark programs in bench/.
 *
 * Purpose: one monotonic clock, one resident-set reader and one percentile
 * helper, so that our programs and the C++ peers (bench/peers/caf_*.cpp)
 * measure time and memory the same way. Header-only (static inline) and
 * valid C11 and C++17, so the CAF peers include it too.
 *
 * Exports: bench_now_ns, bench_rss_bytes, bench_sort_u64, bench_pct_u64,
 *          bench_env_long, bench_settle.
 *
 * Threads: any; the functions touch only their arguments and /proc/self.
 */
#ifndef PLUS7_BENCH_UTIL_H
#define PLUS7_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Monotonic nanoseconds (CLOCK_MONOTONIC), comparable across threads. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident set size of this process in bytes, read from /proc/self/statm
 * (second field, in pages). Returns 0 if /proc is unreadable. */
static inline uint64_t bench_rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort n samples ascending in place. */
static inline void bench_sort_u64(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof v[0], bench_cmp_u64);
}

/* The p-th percentile (0 < p <= 100, nearest rank) of n sorted samples. */
static inline uint64_t bench_pct_u64(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* Integer from environment variable `name`, or `dflt` when unset/empty. */
static inline long bench_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    return strtol(s, NULL, 10);
}

/* Let the allocator and background threads settle before reading RSS. */
static inline void bench_settle(void)
{
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

#endif
