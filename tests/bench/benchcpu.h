/* What the benchmarks (metricsbench, conbench, kbench -w) share: the
 * calling thread's CPU clock, and a comparator for sorting their samples. */
#ifndef KOTEL_BENCHCPU_H
#define KOTEL_BENCHCPU_H

#include <stdint.h>
#include <time.h>

/* The calling thread's CPU time, in ns. */
static inline uint64_t thread_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* qsort's comparator for doubles, ascending. */
static inline int cmp_double(const void *x, const void *y)
{
        double a = *(const double *)x, b = *(const double *)y;

        return (a > b) - (a < b);
}

#endif
