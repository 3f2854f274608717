#include "otlp_metrics_enc.h"

#include <string.h>

#include "otlp.h"
#include "otlp_common.h"

/* Field tags (field << 3 | wire type), in the order protobuf-c writes
 * them: by field number. */
#define T_REQ_RM 0x0a      /* ExportMetricsServiceRequest.resource_metrics */
#define T_SM_METRIC 0x12   /* ScopeMetrics.metrics = 2 */
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

static void add_str(struct kotel_attr *out, size_t *n, const char *k,
                    const char *v)
{
        out[(*n)++] = (struct kotel_attr){k, KOTEL_ATTR_STR, v, strlen(v), 0};
}

/* The partition attribute; its decimal digits live in @scratch. */
static void add_partition(struct kotel_attr *out, size_t *n, int32_t partition,
                          struct kotel_attr_scratch *scratch)
{
        scratch->partition[kotel_fmt_u64(scratch->partition,
                                         (uint64_t)partition)] = '\0';
        add_str(out, n, "messaging.destination.partition.id",
                scratch->partition);
}

/* server.address, and server.port when known (> 0). */
static void add_server(struct kotel_attr *out, size_t *n, const char *host,
                       int port)
{
        add_str(out, n, "server.address", host);
        if (port > 0)
                out[(*n)++] = (struct kotel_attr){"server.port", KOTEL_ATTR_INT,
                                                  NULL, 0, port};
}

/* An overflow point's one attribute (the cardinality cap's series). */
static size_t overflow_only(struct kotel_attr *out)
{
        out[0] = (struct kotel_attr){"otel.metric.overflow", KOTEL_ATTR_BOOL,
                                     NULL, 0, 1};
        return 1;
}

size_t kotel_mpoint_attrs(const struct kotel_mpoint *p, bool op_name,
                          bool op_type, struct kotel_attr *out,
                          struct kotel_attr_scratch *scratch)
{
        const struct kotel_client *c = p->client;
        size_t n                     = 0;

        if (p->overflow)
                return overflow_only(out);
        add_str(out, &n, "messaging.system", "kafka");
        if (op_name)
                add_str(out, &n, "messaging.operation.name",
                        kotel_op_name(p->op));
        if (op_type)
                add_str(out, &n, "messaging.operation.type",
                        kotel_op_type(p->op));
        if (p->topic && p->topic[0])
                add_str(out, &n, "messaging.destination.name", p->topic);
        if (p->partition >= 0)
                add_partition(out, &n, p->partition, scratch);
        if (c && c->group_id && p->op != KOTEL_OP_SEND)
                add_str(out, &n, "messaging.consumer.group.name", c->group_id);
        if (c && c->server_address)
                add_server(out, &n, c->server_address, c->server_port);
        if (p->error_type)
                add_str(out, &n, "error.type", p->error_type);
        return n;
}

size_t kotel_gpoint_attrs(const struct kotel_gpoint *p, struct kotel_attr *out,
                          struct kotel_attr_scratch *scratch)
{
        size_t n = 0;

        if (p->overflow)
                return overflow_only(out);
        add_str(out, &n, "messaging.system", "kafka");
        if (p->topic)
                add_str(out, &n, "messaging.destination.name", p->topic);
        if (p->partition >= 0)
                add_partition(out, &n, p->partition, scratch);
        if (p->group)
                add_str(out, &n, "messaging.consumer.group.name", p->group);
        if (p->client_name)
                add_str(out, &n, "messaging.client.id", p->client_name);
        if (p->host)
                add_server(out, &n, p->host, p->port);
        return n;
}

static void put_attr_list(struct kotel_pbw *w, uint32_t tag,
                          const struct kotel_attr *a, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                size_t kl  = strlen(a[i].key);
                uint8_t *o = kotel_pbw_room(w, 32 + kl + a[i].slen);

                if (!o)
                        return;
                if (a[i].type == KOTEL_ATTR_STR)
                        o = kotel_otlp_kv_str(o, tag, a[i].key, kl, a[i].s,
                                              a[i].slen);
                else if (a[i].type == KOTEL_ATTR_INT)
                        o = kotel_otlp_kv_int(o, tag, a[i].key, kl, a[i].i);
                else
                        o = kotel_otlp_kv_bool(o, tag, a[i].key, kl, a[i].i);
                kotel_pbw_commit(w, o);
        }
}

static void put_attrs(struct kotel_pbw *w, uint32_t tag,
                      const struct kotel_mpoint *p, bool op_name, bool op_type)
{
        struct kotel_attr a[KOTEL_MPOINT_ATTRS_MAX];
        struct kotel_attr_scratch scratch;

        put_attr_list(w, tag, a,
                      kotel_mpoint_attrs(p, op_name, op_type, a, &scratch));
}

static void put_exemplar(struct kotel_pbw *w, const struct kotel_mexemplar *e)
{
        size_t b = kotel_pbw_msg_open(w, T_HP_EXEMPLAR);
        uint8_t *o;

        kotel_pbw_fixed64(w, T_EX_TIME, e->time_ns);
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
        kotel_pbw_msg_close(w, b);
}

static void put_hist_point(struct kotel_pbw *w, const struct kotel_mpoint *p,
                           bool no_op)
{
        size_t b = kotel_pbw_msg_open(w, T_DATA_POINT);
        uint8_t *o;

        kotel_pbw_fixed64(w, T_P_START, p->start_ns);
        kotel_pbw_fixed64(w, T_P_TIME, p->time_ns);
        kotel_pbw_fixed64(w, T_HP_COUNT, p->count);
        kotel_pbw_double(w, T_HP_SUM, (double)p->sum_ns / 1e9);
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
        kotel_pbw_msg_close(w, b);
}

static void put_sum_point(struct kotel_pbw *w, const struct kotel_mpoint *p,
                          bool op_name, bool op_type)
{
        size_t b = kotel_pbw_msg_open(w, T_DATA_POINT);
        uint8_t *o;

        kotel_pbw_fixed64(w, T_P_START, p->start_ns);
        kotel_pbw_fixed64(w, T_P_TIME, p->time_ns);
        if ((o = kotel_pbw_room(w, 9))) {
                *o++ = T_NP_AS_INT;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, p->count));
        }
        put_attrs(w, T_NP_ATTR, p, op_name, op_type);
        kotel_pbw_msg_close(w, b);
}

/* The resource of a point of @c: its client's, else @fallback. */
static const struct kotel_resource *
client_res(const struct kotel_client *c, const struct kotel_resource *fallback)
{
        return c && c->resource ? c->resource : fallback;
}

static void add_group(struct kotel_metrics_groups *g,
                      const struct kotel_resource *r)
{
        for (size_t k = 0; k < g->n; k++)
                if (g->res[k] == r)
                        return;
        if (g->n == KOTEL_METRICS_ENC_GROUPS) {
                g->capped = true;
                return;
        }
        g->res[g->n++] = r;
}

size_t kotel_metrics_enc_resources(const struct kotel_metric_desc *ms,
                                   size_t n, const struct kotel_gauge_desc *gs,
                                   size_t ng,
                                   const struct kotel_resource *fallback,
                                   struct kotel_metrics_groups *g)
{
        g->n      = 0;
        g->capped = false;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < ms[i].n; j++)
                        add_group(g, client_res(ms[i].pts[j].client, fallback));
        for (size_t i = 0; i < ng; i++)
                for (size_t j = 0; j < gs[i].n; j++)
                        add_group(g, client_res(gs[i].pts[j].client, fallback));
        if (!g->n)
                g->res[g->n++] = fallback;
        return g->n;
}

bool kotel_metrics_enc_in_group(const struct kotel_metrics_groups *g,
                                size_t k, const struct kotel_client *c,
                                const struct kotel_resource *fallback)
{
        const struct kotel_resource *r = client_res(c, fallback);

        if (g->res[k] == r)
                return true;
        if (!g->capped || k != g->n - 1)
                return false;
        /* Past the groups a request tells apart: the last group takes the
         * rest rather than the export failing. */
        for (size_t i = 0; i < g->n; i++)
                if (g->res[i] == r)
                        return false;
        return true;
}

/* Opens a Metric with its name, description and unit; returns its body
 * offset for kotel_pbw_msg_close. */
static size_t open_metric(struct kotel_pbw *w, const char *name,
                          const char *description, const char *unit)
{
        size_t b = kotel_pbw_msg_open(w, T_SM_METRIC);

        kotel_pbw_str(w, T_M_NAME, name);
        kotel_pbw_str(w, T_M_DESC, description);
        kotel_pbw_str(w, T_M_UNIT, unit);
        return b;
}

static void put_metric(struct kotel_pbw *w, const struct kotel_metric_desc *d,
                       const struct kotel_metrics_groups *g, size_t k,
                       const struct kotel_resource *fallback)
{
        size_t b, data, i;
        uint8_t *o;

        for (i = 0; i < d->n; i++)
                if (kotel_metrics_enc_in_group(g, k, d->pts[i].client, fallback))
                        break;
        if (i == d->n)
                return;
        b = open_metric(w, d->name, d->description, d->unit);
        data = kotel_pbw_msg_open(w, d->shape == KOTEL_SHAPE_HISTOGRAM
                                         ? T_M_HIST
                                         : T_M_SUM);
        for (; i < d->n; i++) {
                if (!kotel_metrics_enc_in_group(g, k, d->pts[i].client,
                                                fallback))
                        continue;
                if (d->shape == KOTEL_SHAPE_HISTOGRAM)
                        put_hist_point(w, &d->pts[i], d->no_op);
                else
                        put_sum_point(w, &d->pts[i], !d->no_op,
                                      !d->no_op && !d->no_op_type);
        }
        if ((o = kotel_pbw_room(w, 4))) {
                *o++ = T_TEMPORALITY;
                *o++ = (uint8_t)d->temporality;
                if (d->shape == KOTEL_SHAPE_COUNTER) {
                        *o++ = T_MONOTONIC;
                        *o++ = 1;
                }
                kotel_pbw_commit(w, o);
        }
        kotel_pbw_msg_close(w, data);
        kotel_pbw_msg_close(w, b);
}

static void put_gauge_point(struct kotel_pbw *w, const struct kotel_gpoint *p)
{
        size_t b = kotel_pbw_msg_open(w, T_DATA_POINT);
        uint8_t *o;

        kotel_pbw_fixed64(w, T_P_TIME, p->time_ns);
        /* A oneof member: written whatever its value. */
        if ((o = kotel_pbw_room(w, 9))) {
                uint64_t v = (uint64_t)p->ival;

                if (p->is_double)
                        memcpy(&v, &p->dval, 8);
                *o++ = p->is_double ? T_NP_AS_DOUBLE : T_NP_AS_INT;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
        }
        {
                struct kotel_attr at[KOTEL_GPOINT_ATTRS_MAX];
                struct kotel_attr_scratch scratch;

                put_attr_list(w, T_NP_ATTR, at,
                              kotel_gpoint_attrs(p, at, &scratch));
        }
        kotel_pbw_msg_close(w, b);
}

static void put_gauge(struct kotel_pbw *w, const struct kotel_gauge_desc *d,
                      const struct kotel_metrics_groups *g, size_t k,
                      const struct kotel_resource *fallback)
{
        size_t b, data, i;

        for (i = 0; i < d->n; i++)
                if (kotel_metrics_enc_in_group(g, k, d->pts[i].client,
                                               fallback))
                        break;
        if (i == d->n)
                return;
        b = open_metric(w, d->name, d->description, d->unit);
        data = kotel_pbw_msg_open(w, T_M_GAUGE);
        for (; i < d->n; i++)
                if (kotel_metrics_enc_in_group(g, k, d->pts[i].client,
                                               fallback))
                        put_gauge_point(w, &d->pts[i]);
        kotel_pbw_msg_close(w, data);
        kotel_pbw_msg_close(w, b);
}

int kotel_metrics_enc_encode(struct kotel_pbw *w,
                             const struct kotel_metric_desc *ms, size_t n,
                             const struct kotel_resource *fallback)
{
        return kotel_metrics_enc_encode_all(w, ms, n, NULL, 0, fallback);
}

int kotel_metrics_enc_encode_all(struct kotel_pbw *w,
                                 const struct kotel_metric_desc *ms, size_t n,
                                 const struct kotel_gauge_desc *gs, size_t ng,
                                 const struct kotel_resource *fallback)
{
        struct kotel_metrics_groups g;

        w->len = 0;
        w->oom = false;
        kotel_metrics_enc_resources(ms, n, gs, ng, fallback, &g);
        for (size_t k = 0; k < g.n && !w->oom; k++) {
                struct kotel_otlp_scope sc;

                if (kotel_otlp_scope_open(w, T_REQ_RM, g.res[k], &sc) < 0)
                        return -1;
                for (size_t i = 0; i < n; i++)
                        put_metric(w, &ms[i], &g, k, fallback);
                for (size_t i = 0; i < ng; i++)
                        put_gauge(w, &gs[i], &g, k, fallback);
                kotel_otlp_scope_close(w, &sc);
        }
        return w->oom ? -1 : 0;
}
