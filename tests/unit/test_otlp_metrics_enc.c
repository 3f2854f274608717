/* The hand-written OTLP metrics encoder writes exactly the bytes protobuf-c
 * writes for the same ExportMetricsServiceRequest: pseudo-random metrics
 * (histograms with and without exemplars, with and without trace ids,
 * counters, overflow points, points with and without client, topic,
 * partition, error), both temporalities, a metric with no points, and a
 * request large enough (over 2 MiB) that the reserved length prefixes
 * must grow; one buffer reused across all of it. Gauges (librdkafka's
 * statistics) too: integer and double points, overflow points, points
 * with and without each attribute, a value of 0 (a oneof member is
 * written whatever its value). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.h"
#include "otlp_metrics_enc.h"
#include "tap.h"
#include "version.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#define PB(x) Opentelemetry__Proto__Metrics__V1__##x
#define KV Opentelemetry__Proto__Common__V1__KeyValue
#define AV Opentelemetry__Proto__Common__V1__AnyValue

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return n ? rng % n : rng;
}

/* The protobuf-c message tree reference() builds: every node allocated
 * below (up to reference()) is recorded and freed once the request is
 * packed. */
static void **tree;
static size_t tree_n, tree_cap;

static void *tree_keep(void *p)
{
        if (tree_n == tree_cap) {
                tree_cap = tree_cap ? 2 * tree_cap : 1024;
                tree     = realloc(tree, tree_cap * sizeof(*tree));
        }
        tree[tree_n++] = p;
        return p;
}

static void tree_free(void)
{
        while (tree_n)
                free(tree[--tree_n]);
}

#define calloc(n, s) tree_keep(calloc(n, s))
#define strdup(s) tree_keep(strdup(s))

static KV *kv_str(const char *k, const char *v)
{
        KV *kv = calloc(1, sizeof(*kv));
        AV *av = calloc(1, sizeof(*av));

        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(av);
        av->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        av->string_value = strdup(v);
        kv->key          = strdup(k);
        kv->value        = av;
        return kv;
}

static KV *kv_int(const char *k, int64_t v)
{
        KV *kv = kv_str(k, "");

        kv->value->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        kv->value->int_value = v;
        return kv;
}

static KV *kv_bool(const char *k, bool v)
{
        KV *kv = kv_str(k, "");

        kv->value->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        kv->value->bool_value = v;
        return kv;
}

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

static const struct kotel_gauge_desc *ref_gs;
static size_t ref_ng;

static uint8_t *reference(const struct kotel_metric_desc *ms, size_t n,
                          const struct kotel_resource *r, size_t *len)
{
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
            req =
                OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
        PB(ResourceMetrics)
        rm = OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
        PB(ScopeMetrics)
        sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
        Opentelemetry__Proto__Resource__V1__Resource res =
            OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
        Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
            OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
        PB(ResourceMetrics) *rmp = &rm;
        PB(ScopeMetrics) *smp    = &sm;
        uint8_t *out;

        res.attributes = calloc(r ? r->n + 1 : 1, sizeof(void *));
        for (size_t i = 0; r && i < r->n; i++)
                res.attributes[res.n_attributes++] =
                    r->attrs[i].str ? kv_str(r->attrs[i].key, r->attrs[i].str)
                                    : kv_int(r->attrs[i].key, r->attrs[i].i);
        scope.name    = KOTEL_SCOPE_NAME;
        scope.version = KOTEL_VERSION;
        sm.scope      = &scope;
        sm.metrics    = calloc(n + ref_ng + 1, sizeof(void *));
        for (size_t i = 0; i < n; i++)
                if (ms[i].n)
                        sm.metrics[sm.n_metrics++] = metric(&ms[i]);
        for (size_t i = 0; i < ref_ng; i++)
                if (ref_gs[i].n)
                        sm.metrics[sm.n_metrics++] = gauge(&ref_gs[i]);
        rm.resource            = &res;
        rm.n_scope_metrics     = 1;
        rm.scope_metrics       = &smp;
        req.n_resource_metrics = 1;
        req.resource_metrics   = &rmp;
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

static struct kotel_kv res_attrs[] = {
    {"service.name", "billing", 0},
    {"process.pid", NULL, 4242},
    {"telemetry.sdk.name", "kotel", 0},
};
static struct kotel_resource resource = {3, res_attrs};
static struct kotel_client clients[3] = {
    {1, "c1", NULL, "broker-1.example", 9092, &resource},
    {1, "c2", "orders-group", "10.0.0.7", 19092, &resource},
    {1, "c3", "g", NULL, 0, &resource},
};
static const char *topics[] = {"", "orders", "a-much-longer-topic-name.v2"};
static const char *errs[]   = {NULL, "_MSG_TIMED_OUT", "UNKNOWN_TOPIC_OR_PART"};

static void gen_point(struct kotel_mpoint *p, bool with_client)
{
        memset(p, 0, sizeof(*p));
        p->client     = with_client ? &clients[rnd(3)] : NULL;
        p->topic      = topics[rnd(3)];
        p->partition  = (int32_t)rnd(5) - 1;
        p->op         = (uint8_t)rnd(3);
        p->error_type = errs[rnd(3)];
        p->overflow   = rnd(10) == 0;
        p->start_ns   = 1700000000000000000ull + rnd(1000000000);
        p->time_ns    = p->start_ns + rnd(60000000000ull);
        p->count      = rnd(4) ? rnd(100000) : 0;
        p->sum_ns     = rnd(4) ? rnd(1ull << 40) : 0;
        for (int b = 0; b < KOTEL_M_BUCKETS; b++) {
                p->buckets[b] = rnd(3) ? rnd(1000) : 0;
                if (rnd(3) == 0) {
                        p->ex[b].valid    = true;
                        p->ex[b].has_ids  = rnd(2);
                        p->ex[b].value_ns = rnd(20000000000ull);
                        p->ex[b].time_ns  = p->start_ns + rnd(1000000);
                        for (int k = 0; k < 16; k++)
                                p->ex[b].trace_id[k] = (uint8_t)rnd(256);
                        for (int k = 0; k < 8; k++)
                                p->ex[b].span_id[k] = (uint8_t)rnd(256);
                }
        }
}

static bool same_bytes(struct kotel_pbw *w, const struct kotel_metric_desc *ms,
                       size_t n, const struct kotel_resource *r)
{
        size_t len;
        uint8_t *ref = reference(ms, n, r, &len);
        bool ok = kotel_metrics_enc_encode_all(w, ms, n, ref_gs, ref_ng) == 0 &&
                  w->len == len && !memcmp(w->p, ref, len);

        if (!ok)
                fprintf(stderr, "# mine %zu bytes, protobuf-c %zu\n", w->len,
                        len);
        free(ref);
        return ok;
}

static const char *names[] = {NULL, "rdkafka#consumer-1", "app#producer-12"};
static const char *hosts[]  = {NULL, "127.0.0.1", "broker-7.example"};

static void gen_gpoint(struct kotel_gpoint *p, bool with_client)
{
        memset(p, 0, sizeof(*p));
        p->client      = with_client ? &clients[rnd(3)] : NULL;
        p->topic       = rnd(3) ? topics[1 + rnd(2)] : NULL;
        p->partition   = (int32_t)rnd(5) - 1;
        p->group       = rnd(2) ? "orders-group" : NULL;
        p->client_name = names[rnd(3)];
        p->host        = hosts[rnd(3)];
        p->port        = (int)rnd(3) * 9092;
        p->overflow    = rnd(10) == 0;
        p->is_double   = rnd(2);
        p->ival        = rnd(4) ? (int64_t)rnd(1ull << 40) - (1ll << 39) : 0;
        p->dval        = rnd(4) ? (double)rnd(1000000) / 1e6 : 0;
        p->time_ns     = rnd(8) ? 1700000000000000000ull + rnd(1ull << 40) : 0;
}

int main(void)
{
        struct kotel_pbw w = {0};
        static struct kotel_mpoint pts[5][12000];
        bool all = true;

        for (int round = 0; round < 300; round++) {
                size_t n[5]      = {rnd(6), rnd(6), rnd(6), rnd(6), rnd(6)};
                bool with_client = round % 5 != 0;
                struct kotel_metric_desc ms[5] = {
                    {"messaging.client.operation.duration", "Duration", "s",
                     KOTEL_SHAPE_HISTOGRAM, 1 + (round & 1), false, pts[0],
                     n[0], false},
                    {"messaging.client.sent.messages", "", "{message}",
                     KOTEL_SHAPE_COUNTER, 1 + (round & 1), true, pts[1], n[1],
                     false},
                    {"messaging.client.consumed.messages", "Consumed",
                     "{message}", KOTEL_SHAPE_COUNTER, 1 + (round & 1), false,
                     pts[2], n[2], false},
                    {"kotel.message.age", "Age", "s", KOTEL_SHAPE_HISTOGRAM,
                     1 + (round & 1), false, pts[3], n[3], true},
                    {"kotel.message.age.negative", "", "{message}",
                     KOTEL_SHAPE_COUNTER, 1 + (round & 1), true, pts[4], n[4],
                     true},
                };

                for (int k = 0; k < 5; k++)
                        for (size_t i = 0; i < n[k]; i++)
                                gen_point(&pts[k][i], with_client);
                all &=
                    same_bytes(&w, ms, 5,
                               with_client && (n[0] + n[1] + n[2] + n[3] + n[4])
                                   ? &resource
                                   : NULL);
        }
        CHECK(all, "300 random requests: the same bytes as protobuf-c");
        {
                static struct kotel_gpoint gp[4][64];
                struct kotel_gauge_desc gs[4] = {
                    {"messaging.kafka.consumer.lag", "Lag", "{message}", gp[0], 0},
                    {"messaging.kafka.producer.queue.messages", "", "{message}",
                     gp[1], 0},
                    {"messaging.kafka.producer.queue.size", "Bytes", "By",
                     gp[2], 0},
                    {"messaging.kafka.broker.rtt", "RTT", "s", gp[3], 0},
                };

                all    = true;
                ref_gs = gs;
                ref_ng = 4;
                for (int round = 0; round < 200; round++) {
                        bool with_client = round % 4 != 0;
                        size_t total     = 0;
                        size_t n1        = rnd(3);
                        struct kotel_metric_desc ms[1] = {
                            {"messaging.client.consumed.messages", "Consumed",
                             "{message}", KOTEL_SHAPE_COUNTER, 2, false,
                             pts[2], n1, false},
                        };

                        for (size_t i = 0; i < n1; i++)
                                gen_point(&pts[2][i], with_client);
                        for (int k = 0; k < 4; k++) {
                                gs[k].n = rnd(8);
                                total += gs[k].n;
                                for (size_t i = 0; i < gs[k].n; i++)
                                        gen_gpoint(&gp[k][i], with_client);
                        }
                        all &= same_bytes(&w, ms, 1,
                                          with_client && (total + n1)
                                              ? &resource
                                              : NULL);
                }
                CHECK(all, "200 random requests with gauges: the same bytes as "
                           "protobuf-c");
                ref_gs = NULL;
                ref_ng = 0;
        }
        {
                struct kotel_metric_desc ms[2] = {
                    {"h", "", "s", KOTEL_SHAPE_HISTOGRAM, 2, false, pts[0],
                     9000, false},
                    {"c", "", "", KOTEL_SHAPE_COUNTER, 1, false, pts[1], 0,
                     false},
                };

                for (size_t i = 0; i < 9000; i++)
                        gen_point(&pts[0][i], true);
                CHECK(same_bytes(&w, ms, 2, &resource),
                      "a request over 2 MiB (length prefixes of 4 bytes): "
                      "the same bytes as protobuf-c");
                CHECK(w.len > (2u << 20), "that request is over 2 MiB");
        }
        CHECK(same_bytes(&w, NULL, 0, NULL),
              "no metrics: the same bytes as protobuf-c");
        kotel_pbw_free(&w);
        free(tree);
        TAP_DONE();
}
