/* The metrics exporter: a thread of its own (beside the span exporter's)
 * that collects the instruments (metrics.h) every
 * OTEL_METRIC_EXPORT_INTERVAL ms and sends them to <endpoint>/v1/metrics
 * (OTEL_METRICS_EXPORTER=otlp), prints them (console) or does nothing
 * (none: recording stays off too). The same transport and retry rules as
 * spans; one last export at exit within the shutdown deadline. */
#ifndef KOTEL_METRICS_EXPORT_H
#define KOTEL_METRICS_EXPORT_H

#include <stdint.h>

#include "span.h"

/* From the agent's initialisation, before kotel_metrics_start: the
 * process resource, for the points no client claims (the overflow
 * series). Borrows @r, which is immortal. */
void kotel_metrics_set_resource(const struct kotel_resource *r);
/* Once, from the agent's initialisation; reads the environment. */
void kotel_metrics_start(void);
/* At exit: asks for the last export (not waiting), then waits for it until
 * @deadline_ns (CLOCK_MONOTONIC). Neither takes a lock nor allocates. */
void kotel_metrics_shutdown_begin(uint64_t deadline_ns);
void kotel_metrics_shutdown_wait(uint64_t deadline_ns);
/* A fork child has no metrics thread: recording stops there. */
void kotel_metrics_atfork_child(void);

#endif
