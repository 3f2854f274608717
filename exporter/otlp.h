/* OTLP request encoders: a batch of spans into one
 * ExportTraceServiceRequest body, grouped by resource (then by the one
 * instrumentation scope, kotel's own). Exporter thread only; borrow
 * @spans. */
#ifndef KOTEL_OTLP_H
#define KOTEL_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "span.h"

#define KOTEL_SCOPE_NAME "kotel"

/* protobuf (application/x-protobuf). 0, or -1 on allocation failure. */
int kotel_otlp_encode_proto(struct kotel_span *const *spans, size_t n,
                            uint8_t **out, size_t *len);
/* JSON (application/json), OTLP/JSON mapping. 0 or -1. */
int kotel_otlp_encode_json(struct kotel_span *const *spans, size_t n,
                           uint8_t **out, size_t *len);

/* "resource":{"attributes":[...]} for @r (NULL: none), appended to @b;
 * for the JSON encoders of every signal. */
struct kotel_buf;
void kotel_otlp_json_resource(struct kotel_buf *b,
                              const struct kotel_resource *r);

/* ExportTraceServiceResponse (protobuf): the partial_success it carries,
 * and as well that of ExportLogsServiceResponse or
 * ExportMetricsServiceResponse (their partial successes put the rejected
 * count and the message in the same fields 1 and 2),
 * the message cut to @msg_size and its control bytes made spaces (it is
 * logged). Returns 0 when the body parsed (rejected may be 0), -1 when
 * garbage. */
int kotel_otlp_decode_response(const uint8_t *body, size_t len,
                               int64_t *rejected, char *msg, size_t msg_size);

/* The same for an OTLP/JSON response ({"partialSuccess":{"rejectedSpans":
 * "2","errorMessage":"..."}}, or rejectedDataPoints, rejectedLogRecords),
 * parsed with json-c. */
int kotel_otlp_decode_response_json(const uint8_t *body, size_t len,
                                    int64_t *rejected, char *msg,
                                    size_t msg_size);

/* Resource groups in @spans, in first-seen order: writes each span's group
 * index to @group (n entries); returns the number of groups. */
size_t kotel_otlp_group(struct kotel_span *const *spans, size_t n,
                        size_t *group);

#endif
