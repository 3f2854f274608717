/* Commit spans: `commit {topic}` for every offset commit of a consumer
 * group, manual or automatic (see commit.c). */
#ifndef KOTEL_COMMIT_H
#define KOTEL_COMMIT_H

#include <librdkafka/rdkafka.h>

#include "exporter/exporter.h"

/* The app thread inside rd_kafka_new (on_new) of a consumer: adds the
 * on_commit and on_response_received interceptors to @rk. Borrows
 * @client for the client's life. */
void kotel_commit_install(rd_kafka_t *rk, struct kotel_client *client);
/* After rd_kafka_destroy of @rk: drops what kotel still holds for it. */
void kotel_commit_forget(const void *rk);
/* pthread_atfork handlers: the child keeps no commit record of the
 * parent's. */
void kotel_commit_atfork_prepare(void);
void kotel_commit_atfork_parent(void);
void kotel_commit_atfork_child(void);

#endif
