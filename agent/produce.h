/* The producer path: produce wrappers and the on_send/on_acknowledgement
 * interceptors that open and settle one `send {topic}` span per message. */
#ifndef KOTEL_PRODUCE_H
#define KOTEL_PRODUCE_H

#include <librdkafka/rdkafka.h>

#include "exporter/exporter.h"

/* Installs on_send and on_acknowledgement on @rk (from on_new). */
void kotel_produce_install(rd_kafka_t *rk, struct kotel_client *client);
/* After rd_kafka_destroy(@rk): ends, as unacknowledged, every open send
 * span of @rk until the shutdown deadline, and counts the rest as dropped.
 * App thread; waits for the in-flight shard locks. */
void kotel_produce_finish_unacked(const void *rk, const char *why);
/* At exit: the same for every client until @deadline_ns (CLOCK_MONOTONIC),
 * without waiting on any lock and without malloc or free; what it cannot
 * reach is counted as dropped. */
void kotel_produce_finish_at_exit(const char *why, uint64_t deadline_ns);

#endif
