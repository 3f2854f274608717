/* OTLP/JSON encoding of a metrics request (OTEL_EXPORTER_OTLP_METRICS_
 * PROTOCOL=http/json), per the OTLP specification's JSON mapping:
 * lowerCamelCase field names, 64-bit integers as decimal strings, enums
 * as integers, trace and span ids as lower-case hex. The same grouping and
 * attributes as the protobuf encoder (otlp_metrics_enc.c), which it
 * follows field for field.
 *
 * Seconds are written from the integer nanoseconds kotel keeps, as exact
 * decimals ("0.250000000"): no printf of a double, whose decimal point is
 * the application's locale's, and the value a reader parses is the same
 * double the protobuf encoder sends. Exporter (metrics) thread only. */
#include "otlp_metrics_json.h"

#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "otlp.h"
#include "version.h"

static void put_u64(struct kotel_buf *b, uint64_t v)
{
        kotel_buf_printf(b, "\"%" PRIu64 "\"", v);
}

static void put_seconds(struct kotel_buf *b, uint64_t ns)
{
        kotel_buf_printf(b, "%" PRIu64 ".%09" PRIu64,
                         (uint64_t)(ns / 1000000000u),
                         (uint64_t)(ns % 1000000000u));
}

static void put_attr_list(struct kotel_buf *b, const struct kotel_attr *a,
                          size_t n)
{
        kotel_buf_puts(b, "\"attributes\":[");
        for (size_t i = 0; i < n; i++) {
                kotel_buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
                kotel_buf_json_str(b, a[i].key, strlen(a[i].key));
                kotel_buf_puts(b, ",\"value\":{");
                if (a[i].type == KOTEL_ATTR_STR) {
                        kotel_buf_puts(b, "\"stringValue\":");
                        kotel_buf_json_str(b, a[i].s, a[i].slen);
                } else if (a[i].type == KOTEL_ATTR_INT) {
                        kotel_buf_printf(b, "\"intValue\":\"%" PRId64 "\"",
                                         a[i].i);
                } else {
                        kotel_buf_puts(b, a[i].i ? "\"boolValue\":true"
                                                 : "\"boolValue\":false");
                }
                kotel_buf_puts(b, "}}");
        }
        kotel_buf_puts(b, "]");
}

static void put_attrs(struct kotel_buf *b, const struct kotel_mpoint *p,
                      bool op_name, bool op_type)
{
        struct kotel_attr a[KOTEL_MPOINT_ATTRS_MAX];
        struct kotel_attr_scratch scratch;

        put_attr_list(b, a, kotel_mpoint_attrs(p, op_name, op_type, a,
                                               &scratch));
}

/* A double as JSON, in the C locale whatever the application's (its
 * decimal point could be a comma): the shortest form that reads back as
 * the same double. NaN and infinities have no JSON number: 0. */
static void put_double(struct kotel_buf *b, double d)
{
        static locale_t c_locale;
        locale_t old;

        if (d != d || d - d != 0) {
                kotel_buf_puts(b, "0");
                return;
        }
        if (!c_locale)
                c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (!c_locale) {
                kotel_buf_puts(b, "0");
                return;
        }
        old = uselocale(c_locale);
        kotel_buf_printf(b, "%.17g", d);
        uselocale(old);
}

static void put_gauge_point(struct kotel_buf *b, const struct kotel_gpoint *p)
{
        struct kotel_attr a[KOTEL_GPOINT_ATTRS_MAX];
        struct kotel_attr_scratch scratch;

        kotel_buf_puts(b, "{\"timeUnixNano\":");
        put_u64(b, p->time_ns);
        if (p->is_double) {
                kotel_buf_puts(b, ",\"asDouble\":");
                put_double(b, p->dval);
        } else {
                kotel_buf_printf(b, ",\"asInt\":\"%" PRId64 "\"", p->ival);
        }
        kotel_buf_puts(b, ",");
        put_attr_list(b, a, kotel_gpoint_attrs(p, a, &scratch));
        kotel_buf_puts(b, "}");
}

/* A Metric's opening up to its first data point: name, description, unit
 * and the @data member ("sum", "gauge", ...) with its dataPoints array
 * opened; @first: no metric before it in this scope. */
static void put_metric_head(struct kotel_buf *b, bool first, const char *name,
                            const char *description, const char *unit,
                            const char *data)
{
        kotel_buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
        kotel_buf_json_str(b, name, strlen(name));
        kotel_buf_puts(b, ",\"description\":");
        kotel_buf_json_str(b, description, strlen(description));
        kotel_buf_puts(b, ",\"unit\":");
        kotel_buf_json_str(b, unit, strlen(unit));
        kotel_buf_puts(b, ",\"");
        kotel_buf_puts(b, data);
        kotel_buf_puts(b, "\":{\"dataPoints\":[");
}

/* Gauge @d's points of group @k, as put_metric. */
static bool put_gauge(struct kotel_buf *b, const struct kotel_gauge_desc *d,
                      const struct kotel_metrics_groups *g, size_t k,
                      const struct kotel_resource *fallback, bool first)
{
        bool any = false;

        for (size_t i = 0; i < d->n; i++) {
                if (!kotel_metrics_enc_in_group(g, k, d->pts[i].client,
                                                fallback))
                        continue;
                if (!any)
                        put_metric_head(b, first, d->name, d->description,
                                        d->unit, "gauge");
                else
                        kotel_buf_puts(b, ",");
                any = true;
                put_gauge_point(b, &d->pts[i]);
        }
        if (any)
                kotel_buf_puts(b, "]}}");
        return any;
}

static void put_times(struct kotel_buf *b, const struct kotel_mpoint *p)
{
        kotel_buf_puts(b, "\"startTimeUnixNano\":");
        put_u64(b, p->start_ns);
        kotel_buf_puts(b, ",\"timeUnixNano\":");
        put_u64(b, p->time_ns);
}

static void put_hist_point(struct kotel_buf *b, const struct kotel_mpoint *p,
                           bool no_op)
{
        bool first = true;

        kotel_buf_puts(b, "{");
        put_times(b, p);
        kotel_buf_puts(b, ",\"count\":");
        put_u64(b, p->count);
        kotel_buf_puts(b, ",\"sum\":");
        put_seconds(b, p->sum_ns);
        kotel_buf_puts(b, ",\"bucketCounts\":[");
        for (int i = 0; i < KOTEL_M_BUCKETS; i++) {
                if (i)
                        kotel_buf_puts(b, ",");
                put_u64(b, p->buckets[i]);
        }
        kotel_buf_puts(b, "],\"explicitBounds\":[");
        for (int i = 0; i < KOTEL_M_BOUNDS; i++) {
                if (i)
                        kotel_buf_puts(b, ",");
                put_seconds(b, kotel_m_bounds_ns[i]);
        }
        kotel_buf_puts(b, "],\"exemplars\":[");
        for (int i = 0; i < KOTEL_M_BUCKETS; i++) {
                const struct kotel_mexemplar *e = &p->ex[i];

                if (!e->valid)
                        continue;
                kotel_buf_puts(b, first ? "{" : ",{");
                first = false;
                kotel_buf_puts(b, "\"timeUnixNano\":");
                put_u64(b, e->time_ns);
                kotel_buf_puts(b, ",\"asDouble\":");
                put_seconds(b, e->value_ns);
                if (e->has_ids) {
                        kotel_buf_puts(b, ",\"spanId\":\"");
                        kotel_buf_hex(b, e->span_id, 8);
                        kotel_buf_puts(b, "\",\"traceId\":\"");
                        kotel_buf_hex(b, e->trace_id, 16);
                        kotel_buf_puts(b, "\"");
                }
                kotel_buf_puts(b, "}");
        }
        kotel_buf_puts(b, "],");
        put_attrs(b, p, !no_op, !no_op);
        kotel_buf_puts(b, "}");
}

static void put_sum_point(struct kotel_buf *b, const struct kotel_mpoint *p,
                          bool op_name, bool op_type)
{
        kotel_buf_puts(b, "{");
        put_times(b, p);
        kotel_buf_puts(b, ",\"asInt\":");
        put_u64(b, p->count);
        kotel_buf_puts(b, ",");
        put_attrs(b, p, op_name, op_type);
        kotel_buf_puts(b, "}");
}

/* Metric @d's points of group @k, if it has any; @first: no metric
 * written before in this scope. Returns whether it wrote one. */
static bool put_metric(struct kotel_buf *b, const struct kotel_metric_desc *d,
                       const struct kotel_metrics_groups *g, size_t k,
                       const struct kotel_resource *fallback, bool first)
{
        bool hist = d->shape == KOTEL_SHAPE_HISTOGRAM, any = false;

        for (size_t i = 0; i < d->n; i++) {
                if (!kotel_metrics_enc_in_group(g, k, d->pts[i].client,
                                                fallback))
                        continue;
                if (!any)
                        put_metric_head(b, first, d->name, d->description,
                                        d->unit, hist ? "histogram" : "sum");
                else
                        kotel_buf_puts(b, ",");
                any = true;
                if (hist)
                        put_hist_point(b, &d->pts[i], d->no_op);
                else
                        put_sum_point(b, &d->pts[i], !d->no_op,
                                      !d->no_op && !d->no_op_type);
        }
        if (any)
                kotel_buf_printf(b, "],\"aggregationTemporality\":%d%s}}",
                                 (int)d->temporality,
                                 hist ? "" : ",\"isMonotonic\":true");
        return any;
}

int kotel_metrics_json_encode(struct kotel_buf *b,
                              const struct kotel_metric_desc *ms, size_t n,
                              const struct kotel_gauge_desc *gs, size_t ng,
                              const struct kotel_resource *fallback)
{
        struct kotel_metrics_groups g;

        b->len = 0;
        b->oom = false;
        kotel_metrics_enc_resources(ms, n, gs, ng, fallback, &g);
        kotel_buf_puts(b, "{\"resourceMetrics\":[");
        for (size_t k = 0; k < g.n; k++) {
                bool first = true;

                kotel_buf_puts(b, k ? ",{" : "{");
                kotel_otlp_json_resource(b, g.res[k]);
                kotel_buf_puts(b, ",\"scopeMetrics\":[{\"scope\":{\"name\":\"" KOTEL_SCOPE_NAME
                                  "\",\"version\":\"" KOTEL_VERSION
                                  "\"},\"metrics\":[");
                for (size_t i = 0; i < n; i++)
                        if (put_metric(b, &ms[i], &g, k, fallback, first))
                                first = false;
                for (size_t i = 0; i < ng; i++)
                        if (put_gauge(b, &gs[i], &g, k, fallback, first))
                                first = false;
                kotel_buf_puts(b, "]}]}");
        }
        kotel_buf_puts(b, "]}");
        return b->oom ? -1 : 0;
}
