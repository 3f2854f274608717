/* librdkafka's statistics for kotel's gauges (KOTEL_KAFKA_STATS): which
 * clients get statistics.interval.ms and kotel's stats callback, and the
 * chaining to the app's own stats callback and events. */
#ifndef KOTEL_STATS_H
#define KOTEL_STATS_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "span.h"

/* The app thread in rd_kafka_new, from the on_new interceptor: @conf is
 * the client's own copy of the configuration. Enables statistics on it
 * (the app's interval when it set one) and installs kotel's callback,
 * which chains to the app's; borrows @c (the stats module takes its own
 * reference). Nothing when KOTEL_KAFKA_STATS is off. */
void kotel_stats_install(rd_kafka_t *rk, rd_kafka_conf_t *conf,
                         struct kotel_client *c);
/* The app thread after the real rd_kafka_destroy (or a failed new). */
void kotel_stats_forget(const void *rk);
/* The app thread entering rd_kafka_queue_poll: a CLOCK_MONOTONIC start
 * for kotel_stats_filter_event, 0 when it will not need one (statistics
 * off, or a timeout of 0 or forever). */
uint64_t kotel_stats_poll_start(int timeout_ms);
/* The app thread in rd_kafka_queue_poll on @rkqu, with the
 * event @ev the real one returned (may be NULL), after @timeout_ms given at
 * @t0_ns (CLOCK_MONOTONIC). A statistics event the app did not ask for
 * (kotel enabled statistics for it) is read, destroyed, and the queue
 * polled again for what is left of the timeout; one the app asked for is
 * read and left to the app. Returns the event for the app (or NULL). */
rd_kafka_event_t *kotel_stats_filter_event(rd_kafka_queue_t *rkqu,
                                           rd_kafka_event_t *ev, int timeout_ms,
                                           uint64_t t0_ns);

#endif
