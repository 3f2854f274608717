/* Producer side-table: one compact record per produced message whose send
 * span is open, keyed by the rd_kafka_message_t pointer that on_send and
 * on_acknowledgement both see. The full span is built only when the
 * message is settled, so a producer with 100k messages queued in
 * librdkafka holds 100k small records, not 100k spans.
 *
 * Locking: KOTEL_INFLIGHT_SHARDS mutexes, picked by pointer hash, so the
 * producing thread (put) and broker threads (take) rarely meet. No lock is
 * held across anything but the map operation; the exporter never takes
 * one. */
#ifndef KOTEL_INFLIGHT_H
#define KOTEL_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "exporter/exporter.h"

struct kotel_pending {
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t parent_span_id[8];
        uint8_t flags;
        bool has_parent;
        uint64_t start_ns;
        const void *rk;
        struct kotel_client *client; /* a reference */
        const char *topic;           /* interned, immortal */
        char *tracestate;            /* malloc'd, or NULL */
};

/* Any thread; takes @p on success (0); on -1 the caller keeps it. */
int kotel_inflight_put(const void *rkm, struct kotel_pending *p);
/* Any thread; the record for @rkm, removed, or NULL. */
struct kotel_pending *kotel_inflight_take(const void *rkm);
/* Removes every record of client @rk and passes each to @fn (which takes
 * it). For rd_kafka_destroy() and exit. @rk NULL: all records. */
void kotel_inflight_take_client(const void *rk,
                                void (*fn)(struct kotel_pending *));
size_t kotel_inflight_count(void);
/* Any thread: a zeroed record (pool, else calloc), or NULL. */
struct kotel_pending *kotel_pending_new(void);
void kotel_pending_free(struct kotel_pending *p);
/* pthread_atfork handlers. */
void kotel_inflight_atfork_prepare(void);
void kotel_inflight_atfork_parent(void);
void kotel_inflight_atfork_child(void);

/* Topic names interned for the life of the process (bounded). */
const char *kotel_topic_intern(const char *name);

#endif
