/* The agent's recording points for metrics (exporter/metrics.h): one call
 * where each measurement happens, for every message whatever the trace
 * sampler decided. Each is a few atomic adds when metrics are on and one
 * load when off. */
#ifndef KOTEL_METRICS_HOOKS_H
#define KOTEL_METRICS_HOOKS_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "span.h"

/* on_acknowledgement (a broker thread), for every produced message: the
 * send's duration (produce call to ack) and messaging.client.sent.messages.
 * @trace_id/@span_id: the send span when sampled, else NULL; @start_ns
 * (kotel_now_ns) its start, used when librdkafka has no latency for @rkm. */
void kotel_metrics_sent(struct kotel_client *c, const rd_kafka_message_t *rkm,
                        const uint8_t *trace_id, const uint8_t *span_id,
                        uint64_t start_ns);
/* A message delivered to the app (err == 0), sampled or not:
 * messaging.client.consumed.messages. */
void kotel_metrics_consumed(struct kotel_client *c,
                            const rd_kafka_message_t *m);

#endif
