#include "otlp_metrics_enc.h"

#include <string.h>

#include "otlp.h"
#include "otlp_common.h"
#include "version.h"

/* Field tags (field << 3 | wire type), in the order protobuf-c writes
 * them: by field number. */
#define T_REQ_RM 0x0a      /* ExportMetricsServiceRequest.resource_metrics */
#define T_RM_RESOURCE 0x0a /* ResourceMetrics.resource = 1 */
#define T_RM_SM 0x12       /* ResourceMetrics.scope_metrics = 2 */
#define T_SM_SCOPE 0x0a    /* ScopeMetrics.scope = 1 */
#define T_SM_METRIC 0x12   /* ScopeMetrics.metrics = 2 */
#define T_SCOPE_NAME 0x0a
#define T_SCOPE_VERSION 0x12
#define T_M_NAME 0x0a      /* Metric.name = 1 */
#define T_M_DESC 0x12      /* description = 2 */
#define T_M_UNIT 0x1a      /* unit = 3 */
#define T_M_GAUGE 0x2a     /* gauge = 5 */
#define T_M_SUM 0x3a       /* sum = 7 */
#define T_M_HIST 0x4a      /* histogram = 9 */
#define T_DATA_POINT 0x0a  /* Sum/Histogram.data_points = 1 */
#define T_TEMPORALITY 0x10 /* aggregation_temporality = 2 */
#define T_MONOTONIC 0x18   /* Sum.is_monotonic = 3 */
#define T_P_START 0x11     /* start_time_unix_nano = 2, fixed64 */
#define T_P_TIME 0x19      /* time_unix_nano = 3, fixed64 */
#define T_NP_AS_DOUBLE 0x21 /* NumberDataPoint.as_double = 4, double */
#define T_NP_AS_INT 0x31   /* NumberDataPoint.as_int = 6, sfixed64 */
#define T_NP_ATTR 0x3a     /* NumberDataPoint.attributes = 7 */
#define T_HP_COUNT 0x21    /* HistogramDataPoint.count = 4, fixed64 */
#define T_HP_SUM 0x29      /* sum = 5, double */
#define T_HP_BUCKETS 0x32  /* bucket_counts = 6, packed fixed64 */
#define T_HP_BOUNDS 0x3a   /* explicit_bounds = 7, packed double */
#define T_HP_EXEMPLAR 0x42 /* exemplars = 8 */
#define T_HP_ATTR 0x4a     /* attributes = 9 */
#define T_EX_TIME 0x11     /* Exemplar.time_unix_nano = 2 */
#define T_EX_DOUBLE 0x19   /* as_double = 3 */
#define T_EX_SPAN 0x22     /* span_id = 4 */
#define T_EX_TRACE 0x2a    /* trace_id = 5 */

#define GUESS 3 /* length prefix bytes reserved for an open message */

/* Opens a nested message; returns its body's offset (0 when out of
 * memory: w->oom is then set and every later step does nothing). */
static size_t open_msg(struct kotel_pbw *w, uint32_t tag)
{
        uint8_t *o = kotel_pbw_room(w, 8);

        if (!o)
                return 0;
        o = kotel_pbw_len_open(o, tag, GUESS);
        kotel_pbw_commit(w, o);
        return w->len;
}

static void close_msg(struct kotel_pbw *w, size_t body)
{
        uint8_t *o;

        if (w->oom || !(o = kotel_pbw_room(w, 8)))
                return;
        o = kotel_pbw_len_close(w->p + body, w->p + w->len, GUESS);
        kotel_pbw_commit(w, o);
}

static void put_str(struct kotel_pbw *w, uint32_t tag, const char *s)
{
        size_t n = strlen(s);
        uint8_t *o;

        if (!n || !(o = kotel_pbw_room(w, 12 + n)))
                return;
        kotel_pbw_commit(w, kotel_pb_put_len_field(o, tag, s, n));
}

static void put_fixed64(struct kotel_pbw *w, uint32_t tag, uint64_t v)
{
        uint8_t *o;

        if (!v || !(o = kotel_pbw_room(w, 9)))
                return;
        *o++ = (uint8_t)tag;
        kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
}

static void put_double(struct kotel_pbw *w, uint32_t tag, double d)
{
        uint64_t v;
        uint8_t *o;

        if (d == 0 || !(o = kotel_pbw_room(w, 9)))
                return;
        memcpy(&v, &d, 8);
        *o++ = (uint8_t)tag;
        kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
}

static void put_kv_str(struct kotel_pbw *w, uint32_t tag, const char *k,
                       const char *v)
{
        size_t kl = strlen(k), vl = strlen(v);
        uint8_t *o;

        if ((o = kotel_pbw_room(w, 24 + kl + vl)))
                kotel_pbw_commit(w, kotel_otlp_kv_str(o, tag, k, kl, v, vl));
}

static void put_attrs(struct kotel_pbw *w, uint32_t tag,
                      const struct kotel_mpoint *p, bool op_name, bool op_type)
{
        const struct kotel_client *c = p->client;
        uint8_t *o;

        if (p->overflow) {
                if ((o = kotel_pbw_room(w, 64)))
                        kotel_pbw_commit(
                            w, kotel_otlp_kv_bool(
                                   o, tag, "otel.metric.overflow", 20, true));
                return;
        }
        put_kv_str(w, tag, "messaging.system", "kafka");
        if (op_name)
                put_kv_str(w, tag, "messaging.operation.name",
                           kotel_op_name(p->op));
        if (op_type)
                put_kv_str(w, tag, "messaging.operation.type",
                           kotel_op_type(p->op));
        if (p->topic && p->topic[0])
                put_kv_str(w, tag, "messaging.destination.name", p->topic);
        if (p->partition >= 0) {
                char d[24];

                d[kotel_fmt_u64(d, (uint64_t)p->partition)] = '\0';
                put_kv_str(w, tag, "messaging.destination.partition.id", d);
        }
        if (c && c->group_id && p->op != KOTEL_OP_SEND)
                put_kv_str(w, tag, "messaging.consumer.group.name",
                           c->group_id);
        if (c && c->server_address) {
                put_kv_str(w, tag, "server.address", c->server_address);
                if (c->server_port > 0 &&
                    (o = kotel_pbw_room(w, 29 + sizeof("server.port"))))
                        kotel_pbw_commit(w, kotel_otlp_kv_int(o, tag,
                                                              "server.port", 11,
                                                              c->server_port));
        }
        if (p->error_type)
                put_kv_str(w, tag, "error.type", p->error_type);
}

static void put_exemplar(struct kotel_pbw *w, const struct kotel_mexemplar *e)
{
        size_t b = open_msg(w, T_HP_EXEMPLAR);
        uint8_t *o;

        put_fixed64(w, T_EX_TIME, e->time_ns);
        /* A oneof member: written whatever its value. */
        if ((o = kotel_pbw_room(w, 9))) {
                double d = (double)e->value_ns / 1e9;
                uint64_t v;

                memcpy(&v, &d, 8);
                *o++ = T_EX_DOUBLE;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
        }
        if (e->has_ids && (o = kotel_pbw_room(w, 2 + 8 + 2 + 16))) {
                o = kotel_pb_put_len_field(o, T_EX_SPAN, e->span_id, 8);
                kotel_pbw_commit(
                    w, kotel_pb_put_len_field(o, T_EX_TRACE, e->trace_id, 16));
        }
        close_msg(w, b);
}

static void put_hist_point(struct kotel_pbw *w, const struct kotel_mpoint *p,
                           bool no_op)
{
        size_t b = open_msg(w, T_DATA_POINT);
        uint8_t *o;

        put_fixed64(w, T_P_START, p->start_ns);
        put_fixed64(w, T_P_TIME, p->time_ns);
        put_fixed64(w, T_HP_COUNT, p->count);
        put_double(w, T_HP_SUM, (double)p->sum_ns / 1e9);
        if ((o = kotel_pbw_room(w, 4 + 8 * KOTEL_M_BUCKETS))) {
                *o++ = T_HP_BUCKETS;
                o    = kotel_pb_put_varint(o, 8 * KOTEL_M_BUCKETS);
                for (int i = 0; i < KOTEL_M_BUCKETS; i++)
                        o = kotel_pb_put_fixed64(o, p->buckets[i]);
                kotel_pbw_commit(w, o);
        }
        if ((o = kotel_pbw_room(w, 4 + 8 * KOTEL_M_BOUNDS))) {
                *o++ = T_HP_BOUNDS;
                o    = kotel_pb_put_varint(o, 8 * KOTEL_M_BOUNDS);
                for (int i = 0; i < KOTEL_M_BOUNDS; i++) {
                        double d = (double)kotel_m_bounds_ns[i] / 1e9;
                        uint64_t v;

                        memcpy(&v, &d, 8);
                        o = kotel_pb_put_fixed64(o, v);
                }
                kotel_pbw_commit(w, o);
        }
        for (int i = 0; i < KOTEL_M_BUCKETS; i++)
                if (p->ex[i].valid)
                        put_exemplar(w, &p->ex[i]);
        put_attrs(w, T_HP_ATTR, p, !no_op, !no_op);
        close_msg(w, b);
}

static void put_sum_point(struct kotel_pbw *w, const struct kotel_mpoint *p,
                          bool op_name, bool op_type)
{
        size_t b = open_msg(w, T_DATA_POINT);
        uint8_t *o;

        put_fixed64(w, T_P_START, p->start_ns);
        put_fixed64(w, T_P_TIME, p->time_ns);
        if ((o = kotel_pbw_room(w, 9))) {
                *o++ = T_NP_AS_INT;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, p->count));
        }
        put_attrs(w, T_NP_ATTR, p, op_name, op_type);
        close_msg(w, b);
}

static void put_metric(struct kotel_pbw *w, const struct kotel_metric_desc *d)
{
        size_t b = open_msg(w, T_SM_METRIC), data;
        uint8_t *o;

        put_str(w, T_M_NAME, d->name);
        put_str(w, T_M_DESC, d->description);
        put_str(w, T_M_UNIT, d->unit);
        data =
            open_msg(w, d->shape == KOTEL_SHAPE_HISTOGRAM ? T_M_HIST : T_M_SUM);
        for (size_t i = 0; i < d->n; i++)
                if (d->shape == KOTEL_SHAPE_HISTOGRAM)
                        put_hist_point(w, &d->pts[i], d->no_op);
                else
                        put_sum_point(w, &d->pts[i], !d->no_op,
                                      !d->no_op && !d->no_op_type);
        if ((o = kotel_pbw_room(w, 4))) {
                *o++ = T_TEMPORALITY;
                *o++ = (uint8_t)d->temporality;
                if (d->shape == KOTEL_SHAPE_COUNTER) {
                        *o++ = T_MONOTONIC;
                        *o++ = 1;
                }
                kotel_pbw_commit(w, o);
        }
        close_msg(w, data);
        close_msg(w, b);
}

static void put_gauge_point(struct kotel_pbw *w, const struct kotel_gpoint *p)
{
        size_t b = open_msg(w, T_DATA_POINT);
        uint8_t *o;

        put_fixed64(w, T_P_TIME, p->time_ns);
        /* A oneof member: written whatever its value. */
        if ((o = kotel_pbw_room(w, 9))) {
                uint64_t v = (uint64_t)p->ival;

                if (p->is_double)
                        memcpy(&v, &p->dval, 8);
                *o++ = p->is_double ? T_NP_AS_DOUBLE : T_NP_AS_INT;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
        }
        if (p->overflow) {
                if ((o = kotel_pbw_room(w, 64)))
                        kotel_pbw_commit(w, kotel_otlp_kv_bool(
                                                o, T_NP_ATTR,
                                                "otel.metric.overflow", 20,
                                                true));
        } else {
                put_kv_str(w, T_NP_ATTR, "messaging.system", "kafka");
                if (p->topic)
                        put_kv_str(w, T_NP_ATTR, "messaging.destination.name",
                                   p->topic);
                if (p->partition >= 0) {
                        char d[24];

                        d[kotel_fmt_u64(d, (uint64_t)p->partition)] = '\0';
                        put_kv_str(w, T_NP_ATTR,
                                   "messaging.destination.partition.id", d);
                }
                if (p->group)
                        put_kv_str(w, T_NP_ATTR,
                                   "messaging.consumer.group.name", p->group);
                if (p->client_name)
                        put_kv_str(w, T_NP_ATTR, "messaging.client.id",
                                   p->client_name);
                if (p->host) {
                        put_kv_str(w, T_NP_ATTR, "server.address", p->host);
                        if (p->port > 0 &&
                            (o = kotel_pbw_room(w, 29 + sizeof("server.port"))))
                                kotel_pbw_commit(
                                    w, kotel_otlp_kv_int(o, T_NP_ATTR,
                                                         "server.port", 11,
                                                         p->port));
                }
        }
        close_msg(w, b);
}

static void put_gauge(struct kotel_pbw *w, const struct kotel_gauge_desc *d)
{
        size_t b = open_msg(w, T_SM_METRIC), data;

        put_str(w, T_M_NAME, d->name);
        put_str(w, T_M_DESC, d->description);
        put_str(w, T_M_UNIT, d->unit);
        data = open_msg(w, T_M_GAUGE);
        for (size_t i = 0; i < d->n; i++)
                put_gauge_point(w, &d->pts[i]);
        close_msg(w, data);
        close_msg(w, b);
}

int kotel_metrics_enc_encode(struct kotel_pbw *w,
                             const struct kotel_metric_desc *ms, size_t n)
{
        return kotel_metrics_enc_encode_all(w, ms, n, NULL, 0);
}

int kotel_metrics_enc_encode_all(struct kotel_pbw *w,
                                 const struct kotel_metric_desc *ms, size_t n,
                                 const struct kotel_gauge_desc *gs, size_t ng)
{
        const struct kotel_resource *res = NULL;
        size_t rm, sm, scope;

        w->len = 0;
        w->oom = false;
        for (size_t i = 0; i < n && !res; i++)
                for (size_t j = 0; j < ms[i].n && !res; j++)
                        if (ms[i].pts[j].client)
                                res = ms[i].pts[j].client->resource;
        for (size_t i = 0; i < ng && !res; i++)
                for (size_t j = 0; j < gs[i].n && !res; j++)
                        if (gs[i].pts[j].client)
                                res = gs[i].pts[j].client->resource;
        rm = open_msg(w, T_REQ_RM);
        if (kotel_otlp_put_resource(w, T_RM_RESOURCE, res) < 0)
                return -1;
        sm    = open_msg(w, T_RM_SM);
        scope = open_msg(w, T_SM_SCOPE);
        put_str(w, T_SCOPE_NAME, KOTEL_SCOPE_NAME);
        put_str(w, T_SCOPE_VERSION, KOTEL_VERSION);
        close_msg(w, scope);
        for (size_t i = 0; i < n; i++)
                if (ms[i].n)
                        put_metric(w, &ms[i]);
        for (size_t i = 0; i < ng; i++)
                if (gs[i].n)
                        put_gauge(w, &gs[i]);
        close_msg(w, sm);
        close_msg(w, rm);
        return w->oom ? -1 : 0;
}
