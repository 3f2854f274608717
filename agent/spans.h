/* Building spans from librdkafka messages: the pieces the produce and
 * consume paths share. */
#ifndef KOTEL_SPANS_H
#define KOTEL_SPANS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "ctx.h"
#include "exporter/exporter.h"

/* Reads a valid traceparent (and tracestate) from @hdrs into @out and,
 * when @baggage is not NULL, a malloc'd copy of its last `baggage` header
 * when that is valid W3C baggage and the baggage propagator is on (else
 * NULL), in one walk over the headers. Invalid values are treated as
 * absent and logged once. Borrows @hdrs. */
bool kotel_headers_read(const rd_kafka_headers_t *hdrs, struct kotel_ctx *out,
                        char **baggage);
/* The same without baggage. */
bool kotel_headers_extract(const rd_kafka_headers_t *hdrs,
                           struct kotel_ctx *out);
/* Adds a `baggage` header with @bg to @rkm unless it already has one (the
 * app's own baggage wins). 0 or -1. Borrows @bg. */
int kotel_headers_add_baggage(rd_kafka_message_t *rkm, const char *bg);
/* Sets traceparent (and tracestate when @c has one) on @rkm, replacing any
 * earlier ones. 0 or -1; never changes anything else of the message. */
int kotel_headers_inject(rd_kafka_message_t *rkm, const struct kotel_ctx *c);
/* Partition, offset, key (printable UTF-8 only), tombstone and body size of
 * @m into @s. */
void kotel_span_set_message(struct kotel_span *s, const rd_kafka_message_t *m);
void kotel_span_set_topic(struct kotel_span *s, const char *topic);
void kotel_span_set_error(struct kotel_span *s, rd_kafka_resp_err_t err,
                          const char *msg);
/* Copies @c's tracestate onto @s (allocates). */
void kotel_span_set_tracestate(struct kotel_span *s, const struct kotel_ctx *c);
/* A fresh context: trace id from @parent when valid, a new span id, and
 * the sampling decision. */
void kotel_ctx_new_child(struct kotel_ctx *out, const struct kotel_ctx *parent);
/* true when @key can be recorded as messaging.kafka.message.key. */
bool kotel_key_printable(const void *key, size_t len);
/* The topic of @rkm, or NULL. */
const char *kotel_message_topic(const rd_kafka_message_t *rkm);

#endif
