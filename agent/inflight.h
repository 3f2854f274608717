/* Producer side-table: the open send span of each produced message,
 * keyed by the rd_kafka_message_t pointer that on_send and
 * on_acknowledgement both see. on_send fills the span with everything
 * known at send time, so the acknowledgement (a broker thread) only takes
 * it, stores partition, offset, error and end time, and submits it: no
 * record is copied into a span there. The price is memory: a message in
 * flight holds a span slot (320 bytes, from the span pool while it has
 * room) rather than a 96-byte record.
 *
 * Locking: KOTEL_INFLIGHT_SHARDS mutexes, picked by pointer hash, so the
 * producing thread (put) and broker threads (take) rarely meet. No lock is
 * held across anything but the map operation (rd_kafka_destroy's sweep of
 * one shard included); the exporter never takes one.
 *
 * Exit: the thread calling exit() may hold a shard lock (a signal handler
 * that calls exit() interrupted on_send), so the exit path only tries the
 * locks, closes the shards it gets, and counts what it cannot reach. */
#ifndef KOTEL_INFLIGHT_H
#define KOTEL_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "exporter/exporter.h"
#include "ptrmap.h"

/* Any thread; takes send span @s of client @s->inflight.rk on success
 * (0); on -1 the caller keeps it. */
int kotel_inflight_put(const void *rkm, struct kotel_span *s);
/* Any thread; the span for @rkm, removed, or NULL. */
struct kotel_span *kotel_inflight_take(const void *rkm);
#define KOTEL_INFLIGHT_SHARDS 16

/* Spans taken out of the side-table in bulk (rd_kafka_destroy, exit):
 * whole shard maps where one client had a shard to itself, else a list. */
struct kotel_inflight_taken {
        struct kotel_ptrmap maps[KOTEL_INFLIGHT_SHARDS];
        struct kotel_span *list; /* through inflight.next */
        size_t n; /* records left in it */
        int map_i;
        size_t slot_i;
};

/* App thread: moves every span of client @rk into @t (zeroed by the
 * caller): O(1) per shard that only @rk used since it was last empty, one
 * pass over the others. Waits for the shard locks. */
void kotel_inflight_take_client(const void *rk, struct kotel_inflight_taken *t);
/* The next span of @t, which the caller takes, or NULL. */
struct kotel_span *kotel_inflight_next(struct kotel_inflight_taken *t);
/* Frees what is left in @t (on a thread of its own when that is much) and
 * empties @t. Not at exit. */
void kotel_inflight_free_taken(struct kotel_inflight_taken *t);
/* At exit: closes every shard whose lock can be had without waiting (the
 * exiting thread may hold one), first moving its records into @t when
 * @take; a closed shard takes no record in and gives none out. Returns the
 * number of records left in the shards (closed, or frozen by a holder that
 * never returns), for the caller to count as dropped. */
size_t kotel_inflight_close_at_exit(bool take, struct kotel_inflight_taken *t);
/* At exit: keeps what is left in @t reachable, never freed. */
void kotel_inflight_keep_taken(struct kotel_inflight_taken *t);
/* At exit: keeps span @s reachable until the process is gone, instead of
 * kotel_span_free() (the exiting thread may hold the allocator's lock).
 * Lock-free. */
void kotel_inflight_keep_at_exit(struct kotel_span *s);
size_t kotel_inflight_count(void);
/* pthread_atfork handlers. */
void kotel_inflight_atfork_prepare(void);
void kotel_inflight_atfork_parent(void);
void kotel_inflight_atfork_child(void);

/* Topic names (and librdkafka's error names and texts, spans.c) interned
 * for the life of the process (bounded: NULL once the table is full, or on
 * allocation failure). */
const char *kotel_topic_intern(const char *name);
/* @name interned, or else (table full) a malloc'd copy with *@owned set,
 * counted in kotel_topic_copies(); NULL only when @name is NULL or out of
 * memory. Either is NUL-terminated, at most KOTEL_TOPIC_MAX - 1 bytes. */
const char *kotel_topic_hold(const char *name, bool *owned);
/* How many topic names had to be copied because the table was full. */
uint64_t kotel_topic_copies(void);

#endif
