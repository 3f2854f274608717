/* librdkafka's log lines and error callbacks as log records (exporter/
 * logs_export.h), with the app's own callbacks chained unchanged. */
#ifndef KOTEL_KAFKA_LOG_H
#define KOTEL_KAFKA_LOG_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* on_acknowledgement of a failed delivery (a broker thread, librdkafka's
 * main thread when messages time out, or the producing thread when the
 * partitioner fails): a record of the delivery report's error, facility
 * "DR", carrying the send span's ids (@trace_id, @span_id, @flags), which
 * no librdkafka line does (docs/logs.md). Borrows everything. */
void kotel_kafka_log_delivery_failed(const rd_kafka_t *rk,
                                     struct kotel_client *c,
                                     const uint8_t *trace_id,
                                     const uint8_t *span_id, uint8_t flags,
                                     const rd_kafka_message_t *rkm);

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
