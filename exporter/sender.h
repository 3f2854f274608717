/* The OTLP send path: encode, POST, retry with backoff; sender.c. */
#ifndef KOTEL_SENDER_H
#define KOTEL_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gzip.h"
#include "otlp_trace_enc.h"
#include "settings.h"
#include "span.h"
#include "transport.h"

/* Kinds of failure (what and why) a streak logs the first of, each. */
#define KOTEL_SENDER_FAIL_KINDS_MAX 8

/* Embedded in the exporter's state; zero-initialised until
 * kotel_sender_start(). Exporter thread only, but for the start and fork
 * calls below. */
struct kotel_sender {
        /* The owner's, read-only here (set by kotel_sender_start). */
        const struct kotel_settings *set;
        uint64_t *retried;           /* counter, added to atomically */
        const uint64_t *shutdown_ns; /* shutdown deadline, 0 until then */
        bool (*stopping)(void);      /* whether shutdown has begun */
        bool failing;                /* the last export failed */
        uint64_t fail_log_ns;        /* last failure logged */
        /* The kinds of failure logged in this streak. */
        uint32_t fail_kinds[KOTEL_SENDER_FAIL_KINDS_MAX];
        unsigned n_fail_kinds;
        /* After a retryable failure no request goes out before
         * retry_at_ns, whichever batch it carries; backoff_ms doubles with
         * each retryable failure and starts again at its initial value
         * once the collector settles a batch. */
        uint64_t retry_at_ns;
        long backoff_ms;
        uint64_t rng;
        /* The request encoder and gzip, their buffers reused from batch to
         * batch (a fork child's worker starts with fresh ones; the
         * parent's stay reachable in the orphans). */
        struct kotel_trace_enc enc;
        struct kotel_gzip gz;
        struct kotel_trace_enc orphan_enc;
        struct kotel_gzip orphan_gz;
};

/* Before the worker starts (the thread starting the exporter): borrows
 * @set, @retried and @shutdown_ns for as long as @snd is used; @seed, not
 * 0, seeds the backoff jitter. */
void kotel_sender_start(struct kotel_sender *snd,
                        const struct kotel_settings *set, uint64_t *retried,
                        const uint64_t *shutdown_ns, bool (*stopping)(void),
                        uint64_t seed);

/* Encodes @spans as OTLP and sends them through @t (NULL: no transport,
 * all fail), retrying until the export timeout or shutdown's deadline;
 * sets how many were exported and failed. Exporter thread; borrows @spans
 * and @t. */
void kotel_sender_export(struct kotel_sender *snd, struct kotel_transport *t,
                         struct kotel_span *const *spans, size_t n,
                         size_t *exported, size_t *failed);

/* Frees the encoder's and gzip's buffers. Exporter thread, as it ends. */
void kotel_sender_free(struct kotel_sender *snd);

/* In a fork child (one thread): a fresh streak and backoff; the parent
 * worker's encoder and gzip are kept reachable, not freed. */
void kotel_sender_atfork_child(struct kotel_sender *snd);

#endif
