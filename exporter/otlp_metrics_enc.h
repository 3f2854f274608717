/* The OTLP/protobuf metrics encoder: kotel's metrics into one
 * ExportMetricsServiceRequest, on the protobuf writer (pbwire.h), byte for
 * byte what protobuf-c writes for the same request (tests/unit/
 * test_otlp_metrics_enc.c checks it). One ResourceMetrics per resource
 * (a point's client's, else the fallback: the process resource), in the
 * order first seen, each with one ScopeMetrics ("kotel") and a Metric per
 * descriptor with points of that resource. With KOTEL_SERVICE_NAME_FROM
 * off every client has the process resource: one ResourceMetrics. */
#ifndef KOTEL_OTLP_METRICS_ENC_H
#define KOTEL_OTLP_METRICS_ENC_H

#include <stdbool.h>
#include <stddef.h>

#include "attrs.h"
#include "metrics.h"
#include "pbwire.h"

enum kotel_metric_shape {
        KOTEL_SHAPE_HISTOGRAM = 0, /* points' buckets, sum, exemplars */
        KOTEL_SHAPE_COUNTER,       /* a monotonic Sum of points' counts */
};

struct kotel_metric_desc {
        const char *name, *description, *unit;
        enum kotel_metric_shape shape;
        enum kotel_temporality temporality;
        /* Leave messaging.operation.type out of the attributes (the
         * counters' attribute sets do not have it). */
        bool no_op_type;
        const struct kotel_mpoint *pts;
        size_t n;
        /* Leave both messaging.operation.* out (kotel's own metrics). */
        bool no_op;
};

/* A point's attributes, for every encoder (protobuf, JSON): fills @out
 * (KOTEL_MPOINT_ATTRS_MAX entries), borrowing from @p and @scratch;
 * returns the count. @op_name, @op_type: whether messaging.operation.name
 * and .type are among them. */
#define KOTEL_MPOINT_ATTRS_MAX 10
size_t kotel_mpoint_attrs(const struct kotel_mpoint *p, bool op_name,
                          bool op_type, struct kotel_attr *out,
                          struct kotel_attr_scratch *scratch);

/* A gauge's point (a NumberDataPoint of a Gauge): librdkafka's
 * statistics (kafka_stats.h). Strings borrowed; NULL (or partition < 0)
 * leaves the attribute out. */
struct kotel_gpoint {
        const struct kotel_client *client; /* the resource; may be NULL */
        const char *topic;                 /* messaging.destination.name */
        int32_t partition;                 /* ...destination.partition.id */
        const char *group;                 /* messaging.consumer.group.name */
        const char *client_name;           /* messaging.client.id */
        const char *host;                  /* server.address */
        int port;                          /* server.port, when > 0 */
        bool overflow;                     /* only otel.metric.overflow */
        bool is_double;                    /* dval, else ival */
        int64_t ival;
        double dval;
        uint64_t time_ns; /* wall clock */
};

struct kotel_gauge_desc {
        const char *name, *description, *unit;
        const struct kotel_gpoint *pts;
        size_t n;
};

/* A gauge point's attributes, for every encoder, as kotel_mpoint_attrs. */
#define KOTEL_GPOINT_ATTRS_MAX 8
size_t kotel_gpoint_attrs(const struct kotel_gpoint *p, struct kotel_attr *out,
                          struct kotel_attr_scratch *scratch);

/* Writes the request into @w (emptied first): points without a client go
 * with @fallback's resource (NULL: an empty one). 0, or -1 out of
 * memory. */
int kotel_metrics_enc_encode(struct kotel_pbw *w,
                             const struct kotel_metric_desc *ms, size_t n,
                             const struct kotel_resource *fallback);
/* The same with gauges @gs (@ng of them) after @ms's metrics, in each
 * resource's group. */
int kotel_metrics_enc_encode_all(struct kotel_pbw *w,
                                 const struct kotel_metric_desc *ms, size_t n,
                                 const struct kotel_gauge_desc *gs, size_t ng,
                                 const struct kotel_resource *fallback);

/* The resources of a request, first seen first; at least one (@fallback
 * when there are no points). Past KOTEL_METRICS_ENC_GROUPS resources
 * (more than kotel ever builds: agent/resource.h) the last group takes
 * the points of the others. Shared by the protobuf and JSON encoders. */
#define KOTEL_METRICS_ENC_GROUPS 64
struct kotel_metrics_groups {
        size_t n;
        bool capped;
        const struct kotel_resource *res[KOTEL_METRICS_ENC_GROUPS];
};
size_t kotel_metrics_enc_resources(const struct kotel_metric_desc *ms,
                                   size_t n, const struct kotel_gauge_desc *gs,
                                   size_t ng,
                                   const struct kotel_resource *fallback,
                                   struct kotel_metrics_groups *g);
/* Whether a point of client @c (NULL: none) goes in group @k. */
bool kotel_metrics_enc_in_group(const struct kotel_metrics_groups *g,
                                size_t k, const struct kotel_client *c,
                                const struct kotel_resource *fallback);

#endif
