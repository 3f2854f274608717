/* The exporter: the only interface agent/ uses to reach exporter/.
 *
 * Finished spans are handed over with kotel_exporter_submit() from any
 * thread (app threads, librdkafka's broker threads) through a bounded
 * lock-free queue to one background thread, which batches, encodes and
 * sends them. The hot path never waits: a full queue drops and counts. */
#ifndef KOTEL_EXPORTER_H
#define KOTEL_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "log.h"
#include "span.h"

struct kotel_exporter_stats {
        uint64_t started;  /* recording spans created */
        uint64_t exported; /* accepted by the collector */
        uint64_t dropped;  /* queue full, or unsent at exit */
        uint64_t failed;   /* export gave up (permanent error or timeout) */
        uint64_t retried;  /* export attempts retried */
};

/* Any thread; idempotent. Starts the exporter thread on first call.
 * Returns 0, or -1 when the exporter cannot run (spans are then dropped). */
int kotel_exporter_start(void);
/* Any thread; lock-free; takes @s on every path. */
void kotel_exporter_submit(struct kotel_span *s);
/* Any thread; counts a recording span created. */
void kotel_exporter_count_started(void);
/* Flushes what is queued within the shutdown deadline, then stops the
 * thread. Called once at exit; later submits are dropped and counted. */
void kotel_exporter_shutdown(void);
/* The shutdown deadline for work starting now (CLOCK_MONOTONIC ns): now
 * plus KOTEL_SHUTDOWN_TIMEOUT (capped by OTEL_BSP_EXPORT_TIMEOUT). */
uint64_t kotel_exporter_deadline_ns(void);
/* kotel_exporter_shutdown() with a deadline set already (at exit, settling
 * the spans still open spent part of it). */
void kotel_exporter_shutdown_by(uint64_t deadline_ns);
/* An app thread (its last client closed or destroyed): returns when every
 * span queued so far is exported (or given up), or at @deadline_ns
 * (CLOCK_MONOTONIC), whichever is first; does not stop the exporter. At
 * once when nothing is pending, or when the previous flush ran out of time
 * and no export has succeeded since. Keeps errno. */
void kotel_exporter_flush_by(uint64_t deadline_ns);
/* Any thread, lock-free: whether a span submitted now would be queued
 * (running, and the queue not full). */
bool kotel_exporter_has_room(void);
/* Any thread; counts @n recording spans given up without being built. */
void kotel_exporter_count_dropped(uint64_t n);
void kotel_exporter_get_stats(struct kotel_exporter_stats *out);
/* Fork handlers, called by the agent's pthread_atfork child handler: the
 * child starts afresh (no thread, empty queue, counters zeroed). */
void kotel_exporter_atfork_child(void);

#endif
