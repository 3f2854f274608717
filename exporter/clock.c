/* The exporter's clock: CLOCK_MONOTONIC, so that a wall-clock jump neither
 * stalls nor hurries the worker, nor moves the shutdown deadline.
 *
 * Any thread (the worker, and the exiting thread at shutdown); no state. */
#include "clock.h"

#include <time.h>

uint64_t kotel_clock_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long kotel_clock_ms_left(uint64_t deadline_ns)
{
        uint64_t now = kotel_clock_ns();

        return deadline_ns > now ? (long)((deadline_ns - now) / 1000000) : 0;
}
