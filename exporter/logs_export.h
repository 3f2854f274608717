/* The logs exporter: a thread of its own (beside the span and metrics
 * exporters') that batches log records (logrec.h) and sends them to
 * <endpoint>/v1/logs (OTEL_LOGS_EXPORTER=otlp, the default), prints them
 * (console) or does nothing (none: nothing is captured either). Batching
 * follows OTEL_BLRP_*; the same transport and retry rules as spans; one
 * last flush at exit within the shutdown deadline.
 *
 * Any thread (librdkafka's included) hands records over with
 * kotel_logs_new() + kotel_logs_submit(): lock-free, never waiting. A
 * record is allocated only when it is admitted (the exporter runs, the
 * KOTEL_LOGS_MAX_PER_SECOND budget has room, the bounded queue has room),
 * so what librdkafka's threads allocate is bounded by the queue size. */
#ifndef KOTEL_LOGS_EXPORT_H
#define KOTEL_LOGS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logrec.h"
#include "settings.h"

struct kotel_logs_stats {
        uint64_t submitted; /* admitted into the queue */
        uint64_t exported;  /* accepted by the collector (or printed) */
        uint64_t dropped;   /* queue full, over the rate, or unsent at exit */
        uint64_t failed;    /* export gave up */
};

/* Once, from the agent's initialisation; reads the environment. */
void kotel_logs_start(void);
/* Any thread, lock-free: whether records are captured at all. */
bool kotel_logs_enabled(void);
/* Any thread, lock-free: a zeroed record with room for a body of
 * @body_len bytes (cut to KOTEL_LOGREC_BODY_MAX), or NULL when it is not
 * admitted (counted dropped). The caller fills it and submits it. */
struct kotel_logrec *kotel_logs_new(size_t body_len);
/* Any thread, lock-free; takes @r (and its client reference) on every
 * path. */
void kotel_logs_submit(struct kotel_logrec *r);
/* Frees @r and its client reference. */
void kotel_logrec_free(struct kotel_logrec *r);
/* At exit: asks for the last flush (not waiting), then waits for it until
 * @deadline_ns (CLOCK_MONOTONIC). */
void kotel_logs_shutdown_begin(uint64_t deadline_ns);
void kotel_logs_shutdown_wait(uint64_t deadline_ns);
/* A fork child has no logs thread: capture stops there. */
void kotel_logs_atfork_child(void);
void kotel_logs_get_stats(struct kotel_logs_stats *out);

#endif
