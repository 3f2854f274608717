/* The OTLP/JSON metrics encoder (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=
 * http/json): the request otlp_metrics_enc.h describes, in the OTLP JSON
 * mapping. */
#ifndef KOTEL_OTLP_METRICS_JSON_H
#define KOTEL_OTLP_METRICS_JSON_H

#include "buf.h"
#include "otlp_metrics_enc.h"

/* Writes the request into @b (emptied first; kept for reuse): @ms's
 * metrics, then gauges @gs (@ng of them); points without a client go with
 * @fallback's resource. 0, or -1 out of memory. One thread at a time. */
int kotel_metrics_json_encode(struct kotel_buf *b,
                              const struct kotel_metric_desc *ms, size_t n,
                              const struct kotel_gauge_desc *gs, size_t ng,
                              const struct kotel_resource *fallback);

#endif
