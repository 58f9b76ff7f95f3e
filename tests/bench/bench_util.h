/* SPDX-License-Identifier: MIT */
/* bench_util.h: what the benchmark programs (bench_*.c) share: a monotonic
 * clock in milliseconds and the order qsort() sorts timings in. Test code. */
#ifndef DD_TESTS_BENCH_UTIL_H
#define DD_TESTS_BENCH_UTIL_H

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Monotonic time in milliseconds. Cannot fail. */
static inline double bench_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The calling thread's CPU time in ms: unlike bench_now_ms(), time the
 * thread spent preempted on a loaded machine does not count. */
static inline double bench_cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* qsort() order of doubles, smallest first. */
static inline int bench_cmp_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Remove the database file (and its -wal and -shm files) from the
 * temporary directory dir, then dir. Errors are ignored. */
static inline void bench_remove_db(const char *dir, const char *file)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char path[256];
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, file, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

#endif
