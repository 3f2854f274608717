/* The agent's recording points for metrics (exporter/metrics.h): one call
 * where each measurement happens, for every message whatever the trace
 * sampler decided. Each is a few atomic adds when metrics are on and one
 * load when off. */
#ifndef KOTEL_METRICS_HOOKS_H
#define KOTEL_METRICS_HOOKS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "span.h"

/* on_acknowledgement (a broker thread), for every produced message: the
 * send's duration (produce call to ack) and messaging.client.sent.messages.
 * @trace_id/@span_id: the send span when sampled, else NULL; @start_ns
 * (kotel_now_ns) its start, used when librdkafka has no latency for @rkm. */
void kotel_metrics_sent(struct kotel_client *c, const rd_kafka_message_t *rkm,
                        const uint8_t *trace_id, const uint8_t *span_id,
                        uint64_t start_ns);
/* A consume call that returned messages (a batch poll, with a
 * `poll {topic}` span when sampled; a single-message poll, which has no
 * span: @trace_id NULL), sampled or not: its duration to messaging.client.operation.duration (operation
 * `poll`, type `receive`; @topic NULL when the batch spans several).
 * @trace_id/@span_id: the poll span when sampled, else NULL. */
void kotel_metrics_polled(const void *rk, const char *topic,
                          uint64_t duration_ns, const uint8_t *trace_id,
                          const uint8_t *span_id);

/* A message's age when processing starts: now (the wall clock) minus its
 * timestamp (rd_kafka_message_timestamp), with the timestamp's type. */
struct kotel_msg_age {
        bool valid;   /* the message has a timestamp */
        uint8_t type; /* RD_KAFKA_TIMESTAMP_CREATE_TIME or _LOG_APPEND_TIME */
        int64_t ms;   /* >= 0: a negative age (another machine's clock) is 0 */
};

/* A message delivered to the app (err == 0), sampled or not:
 * messaging.client.consumed.messages, and its age: kotel.message.age
 * (a negative one counted in kotel.message.age.negative). Returns the age
 * for the process span, computed whether metrics are on or not, and sets
 * *@process to the message's messaging.process.duration series (the
 * counter's attributes, operation process), recorded when its processing
 * ends (msgtab.c), or to none when metrics are off. @now_ns: the wall
 * clock the process span starts at, or 0 (the age then reads the coarse
 * clock); @poll_start_ns: when a single-message consume call began, whose
 * duration (to @now_ns) is recorded too (operation.duration, operation
 * poll), or 0. */
struct kotel_msg_age kotel_metrics_consumed(const void *rk,
                                            const rd_kafka_message_t *m,
                                            uint64_t now_ns,
                                            uint64_t poll_start_ns,
                                            struct kotel_mseries_ref *process);

#endif
