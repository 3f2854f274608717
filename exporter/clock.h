/* CLOCK_MONOTONIC time for the exporter's deadlines and waits; clock.c. */
#ifndef KOTEL_CLOCK_H
#define KOTEL_CLOCK_H

#include <stdint.h>

/* Now, in ns of CLOCK_MONOTONIC. Any thread. */
uint64_t kotel_clock_ns(void);

/* Milliseconds left before @deadline_ns (kotel_clock_ns), 0 when passed. */
long kotel_clock_ms_left(uint64_t deadline_ns);

#endif
