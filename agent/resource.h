/* The process resource: service.name (OTEL_SERVICE_NAME, else
 * OTEL_RESOURCE_ATTRIBUTES' service.name, else unknown_service:<exe>),
 * OTEL_RESOURCE_ATTRIBUTES, process.pid, process.executable.name,
 * host.name and telemetry.sdk.*. Built once (again in a fork child, for
 * its pid) and never freed: spans of every client point at it. */
#ifndef KOTEL_RESOURCE_H
#define KOTEL_RESOURCE_H

#include "exporter/exporter.h"

/* Any thread; the current process resource (built on first call). */
const struct kotel_resource *kotel_resource_get(void);
/* pthread_atfork child: the next kotel_resource_get() rebuilds. */
void kotel_resource_atfork_prepare(void);
void kotel_resource_atfork_parent(void);
void kotel_resource_atfork_child(void);
/* Pure parser for OTEL_RESOURCE_ATTRIBUTES: appends to @kv (capacity @cap)
 * and returns the number of malformed entries. Strings are malloc'd. */
int kotel_resource_parse(const char *v, struct kotel_kv *kv, size_t cap,
                         size_t *n);

#endif
