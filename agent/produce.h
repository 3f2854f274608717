/* The producer path: produce wrappers and the on_send/on_acknowledgement
 * interceptors that open and settle one `send {topic}` span per message. */
#ifndef KOTEL_PRODUCE_H
#define KOTEL_PRODUCE_H

#include <librdkafka/rdkafka.h>

#include "exporter/exporter.h"

/* Installs on_send and on_acknowledgement on @rk (from on_new). */
void kotel_produce_install(rd_kafka_t *rk, struct kotel_client *client);
/* Ends, as unacknowledged, every open send span of @rk (NULL: all). */
void kotel_produce_finish_unacked(const void *rk, const char *why);

#endif
