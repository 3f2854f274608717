/* The process resource: service.name (OTEL_SERVICE_NAME, else
 * OTEL_RESOURCE_ATTRIBUTES' service.name, else unknown_service:<exe>),
 * OTEL_RESOURCE_ATTRIBUTES, process.pid, process.executable.name,
 * host.name and telemetry.sdk.*. Built once (again in a fork child, for
 * its pid) and never freed: spans of every client point at it.
 *
 * With KOTEL_SERVICE_NAME_FROM, per-client resources beside it: the same
 * attributes with the client's own service.name, interned by name, never
 * freed either. A client's resource is chosen once, when it is created;
 * spans and metric series reach it through their client, so the hot path
 * looks nothing up. */
#ifndef KOTEL_RESOURCE_H
#define KOTEL_RESOURCE_H

#include "exporter/exporter.h"

/* Any thread; the current process resource (built on first call). */
const struct kotel_resource *kotel_resource_get(void);
/* pthread_atfork child: the next kotel_resource_get() rebuilds. */
void kotel_resource_atfork_prepare(void);
void kotel_resource_atfork_parent(void);
void kotel_resource_atfork_child(void);
/* KOTEL_SERVICE_NAME_FROM: which configuration value of a client names
 * its service (one resource per distinct name), or none. */
enum kotel_svcname_from {
        KOTEL_SVCNAME_OFF = 0,
        KOTEL_SVCNAME_CLIENT_ID,
        KOTEL_SVCNAME_GROUP_ID,
};
/* Pure parser: the mode @v names (NULL, "" and "none": off), or -1. */
int kotel_resource_parse_from(const char *v);
/* Rare path (client creation, under no kotel lock; takes the resource
 * lock). The resource of a client with these configuration values: under
 * KOTEL_SERVICE_NAME_FROM, the process resource with service.name set to
 * the chosen value, interned by name (at most KOTEL_RESOURCE_CLIENT_MAX
 * of them; past that, and when the client has no such value or
 * librdkafka's default client.id, the process resource). Immortal: the
 * pointer is the resource's identity, which encoders group by. Borrows
 * the strings. */
const struct kotel_resource *kotel_resource_for_client(const char *client_id,
                                                       const char *group_id);
/* Any thread; the resource of the client @rk (the process resource for a
 * handle kotel does not know): for a signal (logs) that starts from a
 * handle rather than a span. Immortal, as above. */
const struct kotel_resource *kotel_resource_of(const void *rk);
/* Tests: how many per-client resources exist, and how many clients were
 * given the process resource because the table was full. */
size_t kotel_resource_client_count(void);
uint64_t kotel_resource_overflowed(void);

/* Well under the 64 resources one export request tells apart
 * (kotel_otlp_group, kotel_metrics_enc_resources), leaving room for the
 * process resource and, in a fork child, the parent's. */
#define KOTEL_RESOURCE_CLIENT_MAX 32

/* Pure parser for OTEL_RESOURCE_ATTRIBUTES: appends to @kv (capacity @cap)
 * and returns the number of malformed entries. Strings are malloc'd. */
int kotel_resource_parse(const char *v, struct kotel_kv *kv, size_t cap,
                         size_t *n);

#endif
