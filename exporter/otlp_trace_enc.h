/* The OTLP/protobuf trace encoder: a batch of kotel spans into one
 * ExportTraceServiceRequest, written by hand for exactly the subset kotel
 * emits (exporter/proto/), byte for byte what the protobuf-c reference
 * (kotel_otlp_encode_proto) writes for the same batch, at a fraction of
 * its cost (docs/performance.md).
 *
 * An encoder is a plain struct its owner keeps across requests: it holds
 * the output buffer (reused, grown only when a request is larger than any
 * before) and per-request scratch. Zero-initialised is ready to use; no
 * hidden state, so each thread (the exporter's worker, a test, a fuzzer)
 * simply uses its own. One thread per encoder at a time. */
#ifndef KOTEL_OTLP_TRACE_ENC_H
#define KOTEL_OTLP_TRACE_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "pbwire.h"
#include "span.h"

#define KOTEL_TRACE_ENC_OPS (KOTEL_OP_COMMIT + 2) /* the ops and "unknown" */
#define KOTEL_TRACE_ENC_CLIENTS 8

struct kotel_trace_enc {
        struct kotel_pbw out;     /* the request */
        struct kotel_pbw scratch; /* this request's resource/client blocks */
        size_t *group;            /* resource group of each span */
        size_t group_cap;
        /* Built on first use: the attributes every span of an op starts
         * with (system, operation name and type: 3 key-values of at most
         * 64 bytes while op names and types stay under 32 bytes), and the
         * scope field. */
        bool ready;
        uint8_t prefix[KOTEL_TRACE_ENC_OPS][192];
        uint8_t prefix_len[KOTEL_TRACE_ENC_OPS];
        uint8_t scope[96];
        size_t scope_len;
        /* This request's clients, their attributes encoded once: the
         * consumer group (on spans other than send) at group_off, the
         * client id and server address/port at rest_off. */
        struct kotel_trace_enc_client {
                const struct kotel_client *c;
                size_t group_off, group_len, rest_off, rest_len;
        } clients[KOTEL_TRACE_ENC_CLIENTS];
        size_t n_clients;
};

/* Encodes @spans (borrowed) into *@out / *@len, which stay valid until the
 * next call or kotel_trace_enc_free. 0, or -1 on allocation failure. */
int kotel_trace_enc_encode(struct kotel_trace_enc *e,
                           struct kotel_span *const *spans, size_t n,
                           const uint8_t **out, size_t *len);
void kotel_trace_enc_free(struct kotel_trace_enc *e);

#endif
