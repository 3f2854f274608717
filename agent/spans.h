/* Building spans from librdkafka messages: the pieces the produce and
 * consume paths share. */
#ifndef KOTEL_SPANS_H
#define KOTEL_SPANS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "ctx.h"
#include "exporter/exporter.h"

/* The propagation headers of a message, found in one walk over its
 * headers: pointers into them, valid until the headers change. */
struct kotel_prop_hdr {
        const void *v;
        size_t len;
        bool seen; /* present (the last one of its name) */
};
struct kotel_prop_headers {
        struct kotel_prop_hdr tp, ts, bg;
};

/* Finds traceparent, tracestate and (when @baggage) baggage in @hdrs (NULL:
 * none) in one walk. Borrows @hdrs. */
void kotel_headers_find(const rd_kafka_headers_t *hdrs,
                        struct kotel_prop_headers *out, bool baggage);
/* The valid traceparent (and tracestate) of @f into @out when the
 * tracecontext propagator is on. Invalid values are treated as absent and
 * logged once. */
bool kotel_headers_parse(const struct kotel_prop_headers *f,
                         struct kotel_ctx *out);
/* Reads a valid traceparent (and tracestate) from @hdrs into @out and,
 * when @baggage is not NULL, a malloc'd copy of its last `baggage` header
 * when that is valid W3C baggage and the baggage propagator is on (else
 * NULL), in one walk over the headers. Invalid values are treated as
 * absent and logged once. Borrows @hdrs. */
bool kotel_headers_read(const rd_kafka_headers_t *hdrs, struct kotel_ctx *out,
                        char **baggage);
/* Adds a `baggage` header with @bg to @rkm unless @f saw one (the app's
 * own baggage wins). *@hdrs is @rkm's headers, or NULL: then they are
 * made and *@hdrs set. 0 or -1. Borrows @bg. */
int kotel_headers_add_baggage(rd_kafka_message_t *rkm,
                              rd_kafka_headers_t **hdrs,
                              const struct kotel_prop_headers *f,
                              const char *bg);
/* Sets traceparent (and tracestate when @c has one) on @rkm, replacing the
 * ones @f saw; *@hdrs as above. 0 or -1; never changes anything else of
 * the message. */
int kotel_headers_inject(rd_kafka_message_t *rkm, rd_kafka_headers_t **hdrs,
                         const struct kotel_prop_headers *f,
                         const struct kotel_ctx *c);
/* Partition, offset, key (printable UTF-8 only), tombstone and body size of
 * @m into @s. */
void kotel_span_set_message(struct kotel_span *s, const rd_kafka_message_t *m);
/* The partition and offset of @m, when set, into @s. */
void kotel_span_set_position(struct kotel_span *s,
                             const rd_kafka_message_t *m);
/* Key (printable UTF-8 only), tombstone and body size of @m into @s:
 * known from on_send on. */
void kotel_span_set_body(struct kotel_span *s, const rd_kafka_message_t *m);
/* Points @s at @topic interned (a one-entry per-thread cache makes the
 * common case, the same topic again, a string compare), or at a copy of
 * its own when the intern table is full. @topic NULL: no topic. */
void kotel_span_set_topic(struct kotel_span *s, const char *topic);
/* Marks @s failed with @err: its name, and @msg or else librdkafka's text
 * for it. Without @msg both point at interned copies (a per-thread cache
 * of the last code makes a repeat two stores), or, once the intern table
 * is full, at the span's own (error_owned). @msg must outlive the span (the
 * agent's own words are literals): it and librdkafka's static name are
 * pointed at, with no allocation and no lock (the exit path uses it). */
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
