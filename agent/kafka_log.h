/* librdkafka's log lines and error callbacks as log records (exporter/
 * logs_export.h), with the app's own callbacks chained unchanged. */
#ifndef KOTEL_KAFKA_LOG_H
#define KOTEL_KAFKA_LOG_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "exporter/span.h"

/* From the on_new interceptor, the app thread inside rd_kafka_new:
 * installs kotel's log (and, when the app has one, error) callback on
 * @conf, the client's own copy of the app's configuration, remembering
 * the app's to chain to. Borrows @conf; takes a reference to @c (may be
 * NULL). Does nothing when logs are off. */
void kotel_kafka_log_install(const rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                             struct kotel_client *c);
/* After the real rd_kafka_destroy (no librdkafka thread of @rk is left):
 * drops the client reference; the app's callbacks stay known for @rk's
 * address until another client takes its place. */
void kotel_kafka_log_forget(const void *rk);

/* Pure, for unit tests: the broker a librdkafka line names, after an
 * optional "[thrd:...]: " prefix and an optional "@name: " (the client's
 * name, librdkafka's error lines): "host:port/id: ..." or
 * "proto://host:port/id: ...". true and @broker (the "host:port/id"
 * token, scheme kept), @host and @port filled when it does; buffers of
 * @size bytes. */
bool kotel_kafka_log_parse_broker(const char *line, const char *name,
                                  char *broker, char *host, size_t size,
                                  int *port);

#endif
