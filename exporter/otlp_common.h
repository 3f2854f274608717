/* OTLP's common.proto on the protobuf writer (pbwire.h): KeyValue and
 * AnyValue, and the Resource message built from them. Shared by the trace
 * encoder (otlp_trace_enc.c) and, later, the metric and log encoders,
 * whose messages carry the same attributes and the same Resource.
 *
 * @tag is the field the KeyValue is written as in its parent (a Span's
 * attributes = 9, a Resource's = 1, ...), as one byte: fields 1-15 (every
 * attributes field in OTLP is). Presence follows protobuf-c's
 * packer: an empty key is left out (proto3), a value always written (a
 * oneof). */
#ifndef KOTEL_OTLP_COMMON_H
#define KOTEL_OTLP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbwire.h"
#include "span.h"

#define KOTEL_OTLP_KV_KEY 0x0a   /* KeyValue.key = 1 */
#define KOTEL_OTLP_KV_VALUE 0x12 /* KeyValue.value = 2 */
#define KOTEL_OTLP_AV_STRING 0x0a
#define KOTEL_OTLP_AV_BOOL 0x10
#define KOTEL_OTLP_AV_INT 0x18

/* A KeyValue message's body size for a key of @klen bytes and an AnyValue
 * body of @av bytes (an empty key is not written, as proto3 omits it). */
static inline size_t kotel_otlp_kv_size(size_t klen, size_t av)
{
        return (klen ? 1 + kotel_pb_varint_size(klen) + klen : 0) + 1 +
               kotel_pb_varint_size(av) + av;
}

static inline uint8_t *kotel_otlp_kv_head(uint8_t *o, uint32_t tag,
                                          const char *key, size_t klen,
                                          size_t av)
{
        *o++ = (uint8_t)tag;
        o    = kotel_pb_put_varint(o, kotel_otlp_kv_size(klen, av));
        if (klen)
                o = kotel_pb_put_len_field(o, KOTEL_OTLP_KV_KEY, key, klen);
        *o++ = KOTEL_OTLP_KV_VALUE;
        return kotel_pb_put_varint(o, av);
}

/* At most 24 + klen + slen bytes. */
static inline uint8_t *kotel_otlp_kv_str(uint8_t *o, uint32_t tag,
                                         const char *key, size_t klen,
                                         const char *s, size_t slen)
{
        o = kotel_otlp_kv_head(o, tag, key, klen,
                               1 + kotel_pb_varint_size(slen) + slen);
        return kotel_pb_put_len_field(o, KOTEL_OTLP_AV_STRING, s, slen);
}

/* At most 29 + klen bytes. */
static inline uint8_t *kotel_otlp_kv_int(uint8_t *o, uint32_t tag,
                                         const char *key, size_t klen,
                                         int64_t v)
{
        o    = kotel_otlp_kv_head(o, tag, key, klen,
                                  1 + kotel_pb_varint_size((uint64_t)v));
        *o++ = KOTEL_OTLP_AV_INT;
        return kotel_pb_put_varint(o, (uint64_t)v);
}

static inline uint8_t *kotel_otlp_kv_bool(uint8_t *o, uint32_t tag,
                                          const char *key, size_t klen, bool v)
{
        o    = kotel_otlp_kv_head(o, tag, key, klen, 2);
        *o++ = KOTEL_OTLP_AV_BOOL;
        *o++ = v ? 1 : 0;
        return o;
}

/* Appends a Resource field (tag @tag: ResourceSpans.resource, say)
 * holding @r's attributes, empty for no resource, to @w; returns its
 * offset in @w, or -1 on allocation failure. */
long kotel_otlp_put_resource(struct kotel_pbw *w, uint32_t tag,
                             const struct kotel_resource *r);

/* The two messages every OTLP signal wraps its records in: Resource<X>
 * (ResourceLogs, ResourceMetrics) with the Resource, and in it one
 * Scope<X> with kotel's InstrumentationScope. Field numbers are the same
 * for every signal (Resource<X>.resource = 1, .scope_<x> = 2;
 * Scope<X>.scope = 1, its records = 2). */
struct kotel_otlp_scope {
        size_t resource_x; /* body offsets, for the closes */
        size_t scope_x;
};

/* Opens a Resource<X> as field @tag of the request, holding @r's
 * attributes, and its Scope<X> with kotel's scope; the caller then writes
 * the records (field 2 of Scope<X>) and calls kotel_otlp_scope_close.
 * Returns -1 on allocation failure. Any thread; @w is the caller's. */
int kotel_otlp_scope_open(struct kotel_pbw *w, uint32_t tag,
                          const struct kotel_resource *r,
                          struct kotel_otlp_scope *s);
void kotel_otlp_scope_close(struct kotel_pbw *w,
                            const struct kotel_otlp_scope *s);

/* @r's service.name, or NULL. Any thread; borrows @r. */
const char *kotel_resource_service_name(const struct kotel_resource *r);

#endif
