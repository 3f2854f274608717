/* The protobuf-c reference for the hand-written OTLP metrics encoder
 * (exporter/otlp_metrics_enc.c): the same request built as protobuf-c's
 * message tree from the encoder's documented layout (resources first seen
 * first, at most 64 groups, the attributes each point has) and packed.
 * Shared by the unit test (test_otlp_metrics_enc.c) and the fuzzer
 * (tests/fuzz/otlp_metrics_enc.c). */
#ifndef KOTEL_OTLP_METRICS_REF_H
#define KOTEL_OTLP_METRICS_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/otlp.h"
#include "exporter/otlp_metrics_enc.h"
#include "exporter/version.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "pbc_tree.h"

#define PB(x) Opentelemetry__Proto__Metrics__V1__##x

/* The attributes the encoder documents, built independently. */
static KV **attrs(const struct kotel_mpoint *p, bool op_name, bool op_type,
                  size_t *n)
{
        KV **a = calloc(12, sizeof(*a));
        char d[24];

        *n = 0;
        if (p->overflow) {
                a[(*n)++] = kv_bool("otel.metric.overflow", true);
                return a;
        }
        a[(*n)++] = kv_str("messaging.system", "kafka");
        if (op_name)
                a[(*n)++] =
                    kv_str("messaging.operation.name", kotel_op_name(p->op));
        if (op_type)
                a[(*n)++] =
                    kv_str("messaging.operation.type", kotel_op_type(p->op));
        if (p->topic && p->topic[0])
                a[(*n)++] = kv_str("messaging.destination.name", p->topic);
        if (p->partition >= 0) {
                snprintf(d, sizeof(d), "%d", p->partition);
                a[(*n)++] = kv_str("messaging.destination.partition.id", d);
        }
        if (p->client && p->client->group_id && p->op != KOTEL_OP_SEND)
                a[(*n)++] = kv_str("messaging.consumer.group.name",
                                   p->client->group_id);
        if (p->client && p->client->server_address) {
                a[(*n)++] = kv_str("server.address", p->client->server_address);
                if (p->client->server_port > 0)
                        a[(*n)++] =
                            kv_int("server.port", p->client->server_port);
        }
        if (p->error_type)
                a[(*n)++] = kv_str("error.type", p->error_type);
        return a;
}

static PB(Exemplar) * exemplar(const struct kotel_mexemplar *e)
{
        PB(Exemplar) *x = calloc(1, sizeof(*x));

        opentelemetry__proto__metrics__v1__exemplar__init(x);
        x->time_unix_nano = e->time_ns;
        x->value_case =
            OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
        x->as_double = (double)e->value_ns / 1e9;
        if (e->has_ids) {
                x->span_id.len   = 8;
                x->span_id.data  = (uint8_t *)e->span_id;
                x->trace_id.len  = 16;
                x->trace_id.data = (uint8_t *)e->trace_id;
        }
        return x;
}

static PB(Metric) * metric(const struct kotel_metric_desc *d)
{
        PB(Metric) *m = calloc(1, sizeof(*m));

        opentelemetry__proto__metrics__v1__metric__init(m);
        m->name        = (char *)d->name;
        m->description = (char *)d->description;
        m->unit        = (char *)d->unit;
        if (d->shape == KOTEL_SHAPE_HISTOGRAM) {
                PB(Histogram) *h = calloc(1, sizeof(*h));

                opentelemetry__proto__metrics__v1__histogram__init(h);
                h->aggregation_temporality = (int)d->temporality;
                h->n_data_points           = d->n;
                h->data_points             = calloc(d->n + 1, sizeof(void *));
                for (size_t i = 0; i < d->n; i++) {
                        const struct kotel_mpoint *p = &d->pts[i];
                        PB(HistogramDataPoint) *q    = calloc(1, sizeof(*q));

                        opentelemetry__proto__metrics__v1__histogram_data_point__init(
                            q);
                        q->start_time_unix_nano = p->start_ns;
                        q->time_unix_nano       = p->time_ns;
                        q->count                = p->count;
                        q->sum                  = (double)p->sum_ns / 1e9;
                        q->n_bucket_counts      = KOTEL_M_BUCKETS;
                        q->bucket_counts        = (uint64_t *)p->buckets;
                        q->n_explicit_bounds    = KOTEL_M_BOUNDS;
                        q->explicit_bounds =
                            calloc(KOTEL_M_BOUNDS, sizeof(double));
                        for (int b = 0; b < KOTEL_M_BOUNDS; b++)
                                q->explicit_bounds[b] =
                                    (double)kotel_m_bounds_ns[b] / 1e9;
                        q->exemplars = calloc(KOTEL_M_BUCKETS, sizeof(void *));
                        for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                                if (p->ex[b].valid)
                                        q->exemplars[q->n_exemplars++] =
                                            exemplar(&p->ex[b]);
                        q->attributes =
                            attrs(p, !d->no_op, !d->no_op, &q->n_attributes);
                        h->data_points[i] = q;
                }
                m->data_case =
                    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
                m->histogram = h;
        } else {
                PB(Sum) *s = calloc(1, sizeof(*s));

                opentelemetry__proto__metrics__v1__sum__init(s);
                s->aggregation_temporality = (int)d->temporality;
                s->is_monotonic            = 1;
                s->n_data_points           = d->n;
                s->data_points             = calloc(d->n + 1, sizeof(void *));
                for (size_t i = 0; i < d->n; i++) {
                        PB(NumberDataPoint) *q = calloc(1, sizeof(*q));

                        opentelemetry__proto__metrics__v1__number_data_point__init(
                            q);
                        q->start_time_unix_nano = d->pts[i].start_ns;
                        q->time_unix_nano       = d->pts[i].time_ns;
                        q->value_case =
                            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
                        q->as_int         = (int64_t)d->pts[i].count;
                        q->attributes     = attrs(&d->pts[i], !d->no_op,
                                                  !d->no_op && !d->no_op_type,
                                                  &q->n_attributes);
                        s->data_points[i] = q;
                }
                m->data_case =
                    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
                m->sum = s;
        }
        return m;
}

/* The resource of point @p, and its group as the encoder documents it:
 * resources first seen first, at most 64 groups, the last taking the
 * points of any resource past them. */
static PB(Metric) * gauge(const struct kotel_gauge_desc *d)
{
        PB(Metric) *m = calloc(1, sizeof(*m));
        PB(Gauge) *g  = calloc(1, sizeof(*g));

        opentelemetry__proto__metrics__v1__metric__init(m);
        opentelemetry__proto__metrics__v1__gauge__init(g);
        m->name          = (char *)d->name;
        m->description   = (char *)d->description;
        m->unit          = (char *)d->unit;
        g->n_data_points = d->n;
        g->data_points   = calloc(d->n + 1, sizeof(void *));
        for (size_t i = 0; i < d->n; i++) {
                const struct kotel_gpoint *p = &d->pts[i];
                PB(NumberDataPoint) *q       = calloc(1, sizeof(*q));
                KV **a                       = calloc(8, sizeof(*a));
                size_t n                     = 0;

                opentelemetry__proto__metrics__v1__number_data_point__init(q);
                q->time_unix_nano = p->time_ns;
                if (p->is_double) {
                        q->value_case =
                            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
                        q->as_double = p->dval;
                } else {
                        q->value_case =
                            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
                        q->as_int = p->ival;
                }
                if (p->overflow) {
                        a[n++] = kv_bool("otel.metric.overflow", true);
                } else {
                        a[n++] = kv_str("messaging.system", "kafka");
                        if (p->topic)
                                a[n++] = kv_str("messaging.destination.name",
                                                p->topic);
                        if (p->partition >= 0) {
                                char d2[24];

                                snprintf(d2, sizeof(d2), "%d", p->partition);
                                a[n++] = kv_str(
                                    "messaging.destination.partition.id",
                                    strdup(d2));
                        }
                        if (p->group)
                                a[n++] = kv_str("messaging.consumer.group.name",
                                                p->group);
                        if (p->client_name)
                                a[n++] = kv_str("messaging.client.id",
                                                p->client_name);
                        if (p->host) {
                                a[n++] = kv_str("server.address", p->host);
                                if (p->port > 0)
                                        a[n++] = kv_int("server.port", p->port);
                        }
                }
                q->attributes     = a;
                q->n_attributes   = n;
                g->data_points[i] = q;
        }
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m->gauge     = g;
        return m;
}

/* The gauges reference() adds after the metrics (none unless a test sets
 * them). */
static const struct kotel_gauge_desc *ref_gs;
static size_t ref_ng;

#define GROUPS 64

static const struct kotel_resource *res_of(const struct kotel_mpoint *p,
                                           const struct kotel_resource *fb)
{
        return p->client && p->client->resource ? p->client->resource : fb;
}

static size_t group_of(const struct kotel_resource **seen, size_t n_seen,
                       const struct kotel_resource *r)
{
        for (size_t g = 0; g < n_seen; g++)
                if (seen[g] == r)
                        return g;
        return GROUPS - 1;
}

static uint8_t *reference(const struct kotel_metric_desc *ms, size_t n,
                          const struct kotel_resource *fb, size_t *len)
{
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
            req =
                OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
        Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
            OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
        const struct kotel_resource *seen[GROUPS];
        size_t n_seen = 0;
        uint8_t *out;

        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < ms[i].n; j++) {
                        const struct kotel_resource *r =
                            res_of(&ms[i].pts[j], fb);
                        size_t g;

                        for (g = 0; g < n_seen && seen[g] != r; g++)
                                ;
                        if (g == n_seen && n_seen < GROUPS)
                                seen[n_seen++] = r;
                }
        for (size_t i = 0; i < ref_ng; i++)
                for (size_t j = 0; j < ref_gs[i].n; j++) {
                        const struct kotel_client *c = ref_gs[i].pts[j].client;
                        const struct kotel_resource *r =
                            c && c->resource ? c->resource : fb;
                        size_t g;

                        for (g = 0; g < n_seen && seen[g] != r; g++)
                                ;
                        if (g == n_seen && n_seen < GROUPS)
                                seen[n_seen++] = r;
                }
        if (!n_seen)
                seen[n_seen++] = fb;
        scope.name           = KOTEL_SCOPE_NAME;
        scope.version        = KOTEL_VERSION;
        req.resource_metrics = calloc(n_seen, sizeof(void *));
        for (size_t g = 0; g < n_seen; g++) {
                const struct kotel_resource *r = seen[g];
                PB(ResourceMetrics) *rm        = calloc(1, sizeof(*rm));
                PB(ScopeMetrics) *sm           = calloc(1, sizeof(*sm));
                Opentelemetry__Proto__Resource__V1__Resource *res =
                    calloc(1, sizeof(*res));

                opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
                opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
                opentelemetry__proto__resource__v1__resource__init(res);
                res->attributes = calloc(r ? r->n + 1 : 1, sizeof(void *));
                for (size_t i = 0; r && i < r->n; i++)
                        res->attributes[res->n_attributes++] =
                            r->attrs[i].str
                                ? kv_str(r->attrs[i].key, r->attrs[i].str)
                                : kv_int(r->attrs[i].key, r->attrs[i].i);
                sm->scope   = &scope;
                sm->metrics = calloc(n + ref_ng + 1, sizeof(void *));
                for (size_t i = 0; i < n; i++) {
                        /* Metric i restricted to this group's points. */
                        struct kotel_metric_desc d = ms[i];
                        struct kotel_mpoint *pts =
                            calloc(ms[i].n + 1, sizeof(*pts));

                        d.n   = 0;
                        d.pts = pts;
                        for (size_t j = 0; j < ms[i].n; j++)
                                if (group_of(seen, n_seen,
                                             res_of(&ms[i].pts[j], fb)) == g)
                                        pts[d.n++] = ms[i].pts[j];
                        if (d.n)
                                sm->metrics[sm->n_metrics++] = metric(&d);
                }
                for (size_t i = 0; i < ref_ng; i++) {
                        /* Gauge i restricted to this group's points. */
                        struct kotel_gauge_desc d = ref_gs[i];
                        struct kotel_gpoint *pts =
                            calloc(ref_gs[i].n + 1, sizeof(*pts));

                        d.n   = 0;
                        d.pts = pts;
                        for (size_t j = 0; j < ref_gs[i].n; j++) {
                                const struct kotel_client *c =
                                    ref_gs[i].pts[j].client;

                                if (group_of(seen, n_seen,
                                             c && c->resource ? c->resource
                                                              : fb) == g)
                                        pts[d.n++] = ref_gs[i].pts[j];
                        }
                        if (d.n)
                                sm->metrics[sm->n_metrics++] = gauge(&d);
                }
                rm->resource        = res;
                rm->n_scope_metrics = 1;
                rm->scope_metrics   = calloc(1, sizeof(void *));
                rm->scope_metrics[0] = sm;
                req.resource_metrics[req.n_resource_metrics++] = rm;
        }
        *len =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
                &req);
        out = malloc(*len + 1);
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(
            &req, out);
        tree_free();
        return out;
}

#undef calloc
#undef strdup

/* Whether the encoder writes exactly what protobuf-c writes for @ms (and
 * the gauges ref_gs) with fallback resource @fb, into @w. */
static bool ref_same_bytes(struct kotel_pbw *w,
                           const struct kotel_metric_desc *ms, size_t n,
                           const struct kotel_resource *fb)
{
        size_t len;
        uint8_t *ref = reference(ms, n, fb, &len);
        bool ok = kotel_metrics_enc_encode_all(w, ms, n, ref_gs, ref_ng, fb) ==
                      0 &&
                  w->len == len && !memcmp(w->p, ref, len);

        free(ref);
        return ok;
}

#endif
