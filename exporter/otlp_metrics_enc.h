/* The OTLP/protobuf metrics encoder: kotel's metrics into one
 * ExportMetricsServiceRequest, on the protobuf writer (pbwire.h), byte for
 * byte what protobuf-c writes for the same request (tests/unit/
 * test_otlp_metrics_enc.c checks it). One ResourceMetrics (the resource
 * of the first point with a client), one ScopeMetrics ("kotel"), a Metric
 * per descriptor with points. */
#ifndef KOTEL_OTLP_METRICS_ENC_H
#define KOTEL_OTLP_METRICS_ENC_H

#include <stdbool.h>
#include <stddef.h>

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

/* Writes the request into @w (emptied first). 0, or -1 out of memory. */
int kotel_metrics_enc_encode(struct kotel_pbw *w,
                             const struct kotel_metric_desc *ms, size_t n);
/* The same with gauges @gs (@ng of them) after @ms's metrics. */
int kotel_metrics_enc_encode_all(struct kotel_pbw *w,
                                 const struct kotel_metric_desc *ms, size_t n,
                                 const struct kotel_gauge_desc *gs, size_t ng);

#endif
