/* The hand-written OTLP trace encoder (otlp_trace_enc.h).
 *
 * Layout of a request: per resource group (kotel_otlp_group: first-seen
 * order), one ResourceSpans { Resource, one ScopeSpans { scope, spans } }.
 * A group's header (the two tags and lengths, the resource and the scope)
 * depends on the total size of its spans, which is known only once they
 * are written. So the spans are written first, behind a gap as large as
 * the header can be; then the header goes right in front of them. For the
 * first group the request simply starts where its header starts (nothing
 * moves); a later group's spans move down by the few bytes the gap was too
 * large. Each span is written once, its length prefix reserved at two
 * bytes (spans are 128 bytes at least: three attributes are always there)
 * and filled in after; key-values and links are sized exactly before they
 * are written.
 *
 * Field order and presence follow protobuf-c's packer, the reference the
 * unit test and the fuzzer compare against: fields by number, proto3
 * scalars and strings only when non-zero or non-empty, oneof values (an
 * attribute's value) always, a sub-message whenever it is set.
 *
 * Invariants of struct kotel_span relied on (the agent keeps them): key
 * holds key_len bytes and no NUL (kotel_key_printable), error_type,
 * status_msg and tracestate are NULL or NUL-terminated (the first two
 * bounded by kotel_span_set_error_text), topic is NULL or NUL-terminated
 * (read up to KOTEL_TOPIC_MAX - 1 bytes). */
#include "otlp_trace_enc.h"

#include <stdlib.h>
#include <string.h>

#include "otlp.h"
#include "attrs.h"
#include "otlp_common.h"
#include "version.h"

/* Field tags (KOTEL_PB_TAG, spelled out: they are written as bytes). */
#define T_RS_RESOURCE 0x0a    /* ResourceSpans.resource = 1 */
#define T_RS_SCOPE_SPANS 0x12 /* ResourceSpans.scope_spans = 2 */
#define T_REQ_RS 0x0a         /* ExportTraceServiceRequest.resource_spans */
#define T_SS_SCOPE 0x0a       /* ScopeSpans.scope = 1 */
#define T_SS_SPAN 0x12        /* ScopeSpans.spans = 2 */
#define T_SCOPE_NAME 0x0a
#define T_SCOPE_VERSION 0x12
#define T_SPAN_TRACE_ID 0x0a
#define T_SPAN_SPAN_ID 0x12
#define T_SPAN_TRACE_STATE 0x1a
#define T_SPAN_PARENT 0x22
#define T_SPAN_NAME 0x2a
#define T_SPAN_KIND 0x30
#define T_SPAN_START 0x39
#define T_SPAN_END 0x41
#define T_SPAN_ATTR 0x4a
#define T_SPAN_LINK 0x6a
#define T_SPAN_STATUS 0x7a
#define T_SPAN_FLAGS KOTEL_PB_TAG(16, KOTEL_PB_I32) /* two bytes */
#define T_LINK_TRACE_ID 0x0a
#define T_LINK_SPAN_ID 0x12
#define T_LINK_FLAGS 0x35
#define T_STATUS_MESSAGE 0x12
#define T_STATUS_CODE 0x18

/* A constant key and its length. */
#define K(s) s, sizeof(s) - 1

/* The protobuf-c reference's name buffer (otlp_proto.c: NAME_MAX_LEN). */
#define SPAN_NAME_MAX (KOTEL_TOPIC_MAX + 16 - 1)

_Static_assert(sizeof(KOTEL_SCOPE_NAME) + sizeof(KOTEL_VERSION) + 8 <=
                   sizeof(((struct kotel_trace_enc *)0)->scope),
               "the scope field fits its buffer");

static void build_constants(struct kotel_trace_enc *e)
{
        static const char name[] = KOTEL_SCOPE_NAME, ver[] = KOTEL_VERSION;
        size_t body = 0;
        uint8_t *o;

        for (int op = 0; op < KOTEL_TRACE_ENC_OPS; op++) {
                const char *n = kotel_op_name((enum kotel_op)op);
                const char *t = kotel_op_type((enum kotel_op)op);

                /* "process", "receive", ...: far below the 32 bytes the
                 * prefix buffer is sized for. */
                if (strlen(n) >= 32 || strlen(t) >= 32)
                        n = t = "unknown";

                o = e->prefix[op];
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("messaging.system"),
                                      K("kafka"));
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.operation.name"), n,
                                      strlen(n));
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.operation.type"), t,
                                      strlen(t));
                e->prefix_len[op] = (uint8_t)(o - e->prefix[op]);
        }
        if (sizeof(name) > 1)
                body += kotel_pb_len_field_size(T_SCOPE_NAME, sizeof(name) - 1);
        if (sizeof(ver) > 1)
                body +=
                    kotel_pb_len_field_size(T_SCOPE_VERSION, sizeof(ver) - 1);
        o    = e->scope;
        *o++ = T_SS_SCOPE;
        o    = kotel_pb_put_varint(o, body);
        if (sizeof(name) > 1)
                o = kotel_pb_put_len_field(o, T_SCOPE_NAME, name,
                                           sizeof(name) - 1);
        if (sizeof(ver) > 1)
                o = kotel_pb_put_len_field(o, T_SCOPE_VERSION, ver,
                                           sizeof(ver) - 1);
        e->scope_len = (size_t)(o - e->scope);
        e->ready     = true;
}

/* The client's attributes, encoded into the scratch the first time this
 * request meets it; NULL on allocation failure. */
static const struct kotel_trace_enc_client *
client_block(struct kotel_trace_enc *e, const struct kotel_client *c)
{
        struct kotel_trace_enc_client *b;
        size_t g = c->group_id ? strlen(c->group_id) : 0;
        size_t i = c->client_id ? strlen(c->client_id) : 0;
        size_t a = c->server_address ? strlen(c->server_address) : 0;
        size_t start;
        uint8_t *o;

        for (size_t k = 0; k < e->n_clients; k++)
                if (e->clients[k].c == c)
                        return &e->clients[k];
        if (!(o = kotel_pbw_room(&e->scratch, 4 * 48 + g + i + a)))
                return NULL;
        /* More clients in one request than slots: the last slot takes
         * turns (their blocks stay in the scratch, only the look-up is
         * lost). */
        b     = &e->clients[e->n_clients < KOTEL_TRACE_ENC_CLIENTS
                                ? e->n_clients++
                                : KOTEL_TRACE_ENC_CLIENTS - 1];
        start = e->scratch.len;
        b->c  = c;
        if (c->group_id)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.consumer.group.name"),
                                      c->group_id, g);
        b->group_off = start;
        b->group_len = (size_t)(o - e->scratch.p) - start;
        b->rest_off  = start + b->group_len;
        if (c->client_id)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("messaging.client.id"),
                                      c->client_id, i);
        if (c->server_address) {
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("server.address"),
                                      c->server_address, a);
                if (c->server_port > 0)
                        o = kotel_otlp_kv_int(o, T_SPAN_ATTR, K("server.port"),
                                              c->server_port);
        }
        b->rest_len = (size_t)(o - e->scratch.p) - b->rest_off;
        kotel_pbw_commit(&e->scratch, o);
        return b;
}

static inline uint8_t *put_link(uint8_t *o, const struct kotel_link *l)
{
        *o++ = T_SPAN_LINK;
        *o++ = (uint8_t)(18 + 10 + (l->flags ? 5 : 0));
        *o++ = T_LINK_TRACE_ID;
        *o++ = 16;
        o    = kotel_pb_put_raw(o, l->trace_id, 16);
        *o++ = T_LINK_SPAN_ID;
        *o++ = 8;
        o    = kotel_pb_put_raw(o, l->span_id, 8);
        if (l->flags) {
                *o++ = T_LINK_FLAGS;
                o    = kotel_pb_put_fixed32(o, l->flags);
        }
        return o;
}

/* Writes one span (ScopeSpans.spans field) at the end of e->out. */
static int put_span(struct kotel_trace_enc *e, const struct kotel_span *s)
{
        const struct kotel_client *c            = s->client;
        const struct kotel_trace_enc_client *cb = NULL;
        unsigned op = s->op <= KOTEL_OP_COMMIT ? s->op : KOTEL_OP_COMMIT + 1;
        const char *opn = kotel_op_name((enum kotel_op)s->op);
        size_t opn_len  = strlen(opn);
        size_t topic    = s->topic ? strnlen(s->topic, KOTEL_TOPIC_MAX - 1) : 0;
        size_t err      = s->error_type ? strlen(s->error_type) : 0;
        size_t msg      = s->status == KOTEL_STATUS_ERROR && s->status_msg
                              ? strlen(s->status_msg)
                              : 0;
        size_t ts       = s->tracestate ? strlen(s->tracestate) : 0;
        const char *offs = kotel_span_commit_offsets(s);
        size_t co        = offs ? strlen(offs) : 0;
        const struct kotel_code_loc *code =
            kotel_span_code(s) && kotel_span_code(s)->function
                ? kotel_span_code(s)
                : NULL;
        size_t fn   = code ? strlen(code->function) : 0;
        size_t file = code && code->file && code->line ? strlen(code->file)
                                                       : 0;
        size_t name_len = opn_len + (topic ? 1 + topic : 0);
        size_t bound;
        uint8_t *o, *body;

        if (c && !(cb = client_block(e, c)))
                return -1;
        /* Everything but the variable strings and links fits in 1024,
         * and the code.* keys and their framing in 96 more. */
        bound = 1024 + 96 + 128 + 2 * topic + s->key_len + err + msg + ts + co +
                fn + file +
                (size_t)s->n_links * 40 +
                (cb ? cb->group_len + cb->rest_len : 0);
        if (!(o = kotel_pbw_room(&e->out, bound)))
                return -1;
        body = kotel_pbw_len_open(o, T_SS_SPAN, 2);
        o    = body;
        *o++ = T_SPAN_TRACE_ID;
        *o++ = 16;
        o    = kotel_pb_put_raw(o, s->trace_id, 16);
        *o++ = T_SPAN_SPAN_ID;
        *o++ = 8;
        o    = kotel_pb_put_raw(o, s->span_id, 8);
        if (ts)
                o = kotel_pb_put_len_field(o, T_SPAN_TRACE_STATE, s->tracestate,
                                           ts);
        if (s->has_parent) {
                *o++ = T_SPAN_PARENT;
                *o++ = 8;
                o    = kotel_pb_put_raw(o, s->parent_span_id, 8);
        }
        if (name_len > SPAN_NAME_MAX)
                name_len = SPAN_NAME_MAX;
        *o++ = T_SPAN_NAME;
        o    = kotel_pb_put_varint(o, name_len);
        if (topic && name_len > opn_len) {
                o    = kotel_pb_put_raw(o, opn, opn_len);
                *o++ = ' ';
                o    = kotel_pb_put_raw(o, s->topic, name_len - opn_len - 1);
        } else {
                o = kotel_pb_put_raw(o, opn, name_len);
        }
        if (s->kind) {
                *o++ = T_SPAN_KIND;
                o    = kotel_pb_put_varint(o, s->kind);
        }
        if (s->start_ns) {
                *o++ = T_SPAN_START;
                o    = kotel_pb_put_fixed64(o, s->start_ns);
        }
        if (s->end_ns) {
                *o++ = T_SPAN_END;
                o    = kotel_pb_put_fixed64(o, s->end_ns);
        }
        /* Attributes, in kotel_span_attrs' order. */
        o = kotel_pb_put_raw(o, e->prefix[op], e->prefix_len[op]);
        if (topic)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.destination.name"), s->topic,
                                      topic);
        if (s->has_partition && s->partition >= 0) {
                char d[20];
                size_t dn = kotel_fmt_u64(d, (uint64_t)s->partition);

                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.destination.partition.id"),
                                      d, dn);
        }
        if (s->has_offset && s->offset >= 0)
                o = kotel_otlp_kv_int(o, T_SPAN_ATTR,
                                      K("messaging.kafka.offset"), s->offset);
        if (s->has_key)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("messaging.kafka.message.key"), s->key,
                                      s->key_len);
        if (s->tombstone)
                o = kotel_otlp_kv_bool(o, T_SPAN_ATTR,
                                       K("messaging.kafka.message.tombstone"),
                                       true);
        if (s->has_body_size)
                o = kotel_otlp_kv_int(o, T_SPAN_ATTR,
                                      K("messaging.message.body.size"),
                                      (int64_t)s->body_size);
        if (s->batch_count)
                o = kotel_otlp_kv_int(o, T_SPAN_ATTR,
                                      K("messaging.batch.message_count"),
                                      s->batch_count);
        if (cb) {
                if (s->op != KOTEL_OP_SEND)
                        o = kotel_pb_put_raw(o, e->scratch.p + cb->group_off,
                                             cb->group_len);
                o = kotel_pb_put_raw(o, e->scratch.p + cb->rest_off,
                                     cb->rest_len);
        }
        if (err)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("error.type"),
                                      s->error_type, err);
        if (s->ts_type) {
                const char *t = kotel_ts_type_name(s->ts_type);

                o = kotel_otlp_kv_int(o, T_SPAN_ATTR, K("kotel.message.age_ms"),
                                      s->age_ms);
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                      K("kotel.message.timestamp_type"), t,
                                      strlen(t));
        }
        if (co)
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("kotel.commit.offsets"),
                                      offs, co);
        if (code) {
                o = kotel_otlp_kv_str(o, T_SPAN_ATTR, K("code.function.name"),
                                      code->function, fn);
                if (file) {
                        o = kotel_otlp_kv_str(o, T_SPAN_ATTR,
                                              K("code.file.path"), code->file,
                                              file);
                        o = kotel_otlp_kv_int(o, T_SPAN_ATTR,
                                              K("code.line.number"),
                                              code->line);
                }
        }
        for (uint32_t i = 0; i < s->n_links; i++)
                o = put_link(o, &s->links[i]);
        if (s->status == KOTEL_STATUS_ERROR) {
                *o++ = T_SPAN_STATUS;
                o    = kotel_pb_put_varint(
                       o,
                       (msg ? kotel_pb_len_field_size(T_STATUS_MESSAGE, msg) : 0) +
                           2);
                if (msg)
                        o = kotel_pb_put_len_field(o, T_STATUS_MESSAGE,
                                                   s->status_msg, msg);
                *o++ = T_STATUS_CODE;
                *o++ = KOTEL_STATUS_ERROR;
        }
        if (s->flags) {
                o = kotel_pb_put_varint(o, T_SPAN_FLAGS);
                o = kotel_pb_put_fixed32(o, s->flags);
        }
        kotel_pbw_commit(&e->out, kotel_pbw_len_close(body, o, 2));
        return 0;
}

/* The largest a group's header can be around @res_field and the scope:
 * two tags and two lengths of at most 10 bytes each. */
static size_t header_max(const struct kotel_trace_enc *e, size_t res_field)
{
        return 2 * (1 + 10) + res_field + e->scope_len;
}

/* Writes the group's header (ResourceSpans tag and length, the resource,
 * ScopeSpans tag and length, the scope) at @at, for @spans_len bytes of
 * spans; it is header_size() bytes long. */
static void put_header(struct kotel_trace_enc *e, size_t at, size_t res_off,
                       size_t res_field, size_t spans_len)
{
        size_t ss  = e->scope_len + spans_len;
        size_t rs  = res_field + 1 + kotel_pb_varint_size(ss) + ss;
        uint8_t *o = e->out.p + at;

        *o++ = T_REQ_RS;
        o    = kotel_pb_put_varint(o, rs);
        o    = kotel_pb_put_raw(o, e->scratch.p + res_off, res_field);
        *o++ = T_RS_SCOPE_SPANS;
        o    = kotel_pb_put_varint(o, ss);
        kotel_pb_put_raw(o, e->scope, e->scope_len);
}

static size_t header_size(const struct kotel_trace_enc *e, size_t res_field,
                          size_t spans_len)
{
        size_t ss = e->scope_len + spans_len;
        size_t rs = res_field + 1 + kotel_pb_varint_size(ss) + ss;

        return 1 + kotel_pb_varint_size(rs) + res_field + 1 +
               kotel_pb_varint_size(ss) + e->scope_len;
}

int kotel_trace_enc_encode(struct kotel_trace_enc *e,
                           struct kotel_span *const *spans, size_t n,
                           const uint8_t **out, size_t *len)
{
        size_t n_groups, start = 0;

        *out = NULL;
        *len = 0;
        if (!e->ready)
                build_constants(e);
        e->out.len     = 0;
        e->out.oom     = false;
        e->scratch.len = 0;
        e->scratch.oom = false;
        e->n_clients   = 0;
        if (n > e->group_cap) {
                size_t *g = realloc(e->group, n * sizeof(*g));

                if (!g)
                        return -1;
                e->group     = g;
                e->group_cap = n;
        }
        n_groups = n ? kotel_otlp_group(spans, n, e->group) : 0;
        for (size_t g = 0, first = 0; g < n_groups; g++) {
                const struct kotel_client *c;
                size_t at = e->out.len, gap, spans_at, spans_len, hdr;
                size_t res_field;
                long res_off;

                while (e->group[first] != g)
                        first++;
                /* The first span of the group names its resource. */
                c       = spans[first]->client;
                res_off = kotel_otlp_put_resource(&e->scratch, T_RS_RESOURCE,
                                                  c ? c->resource : NULL);
                if (res_off < 0)
                        return -1;
                res_field = e->scratch.len - (size_t)res_off;
                gap       = header_max(e, res_field);
                if (!kotel_pbw_room(&e->out, gap))
                        return -1;
                spans_at   = at + gap;
                e->out.len = spans_at;
                for (size_t i = first; i < n; i++)
                        if (e->group[i] == g && put_span(e, spans[i]) < 0)
                                return -1;
                spans_len = e->out.len - spans_at;
                hdr       = header_size(e, res_field, spans_len);
                if (g == 0) {
                        start = spans_at - hdr;
                        at    = start;
                } else {
                        memmove(e->out.p + at + hdr, e->out.p + spans_at,
                                spans_len);
                        e->out.len = at + hdr + spans_len;
                }
                put_header(e, at, (size_t)res_off, res_field, spans_len);
        }
        *out = e->out.p ? e->out.p + start : (const uint8_t *)"";
        *len = e->out.len - start;
        return 0;
}

void kotel_trace_enc_free(struct kotel_trace_enc *e)
{
        kotel_pbw_free(&e->out);
        kotel_pbw_free(&e->scratch);
        free(e->group);
        memset(e, 0, sizeof(*e));
}
