/* Consumer side-table: the context of every consumed message the app still
 * holds, so that a message produced from it joins its trace however it was
 * handed on: by message pointer, payload or key buffer (batches, lists,
 * worker threads, zero-copy forwarding) or by a copied traceparent header.
 *
 * An entry also owns the message's open process span, which ends when the
 * app is done with the message: once the message is destroyed AND the
 * consuming thread has moved on (its next consume call, close, callback
 * return, or thread exit), whichever comes last. That covers C loops (poll,
 * process, destroy, poll), Python (which destroys right after poll, then
 * processes) and hand-offs (the worker's destroy comes last).
 *
 * Locking: one mutex, held only for table operations; spans are submitted
 * after it is released. The exporter never takes it. Capacity is fixed
 * (KOTEL_MAX_LIVE_MESSAGES); when full, a message's process span ends at
 * once and it cannot be found by pointer (counted, logged once).
 *
 * Messages of a batch (consume_batch, consume_batch_queue) follow the same
 * rule: the thread moves on from all of them at its next consume call.
 * Event-array messages end with their event. */
#ifndef KOTEL_MSGTAB_H
#define KOTEL_MSGTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "exporter/exporter.h"
#include "exporter/metrics.h"

struct kotel_live_ref {
        uint32_t idx; /* entry index + 1; 0: none */
        uint32_t gen;
};

struct kotel_live_msg {
        const void *rkm;
        const void *payload;
        const void *key;
        const void *rk;
        const void *owner; /* the event that owns the message, or NULL */
        const struct kotel_ctx *creation; /* the producer's, or NULL */
        const struct kotel_ctx *ctx;      /* the process span's */
        const char *baggage;              /* valid W3C baggage, or NULL */
        struct kotel_span *span;          /* taken; NULL when unsampled */
        bool released;                    /* the thread has moved on already */
        /* messaging.process.duration: recorded from @start_ns (wall
         * clock) to the entry's end, sampled or not; s NULL: not. */
        uint64_t start_ns;
        struct kotel_mseries_ref process;
};

/* A message the thread has moved on from, whose settling waits for the
 * thread's next table operation so that both share one lock. */
struct kotel_live_end {
        struct kotel_live_ref ref; /* idx 0: none */
        bool destroyed;            /* the app is done with it too */
        uint64_t end_ns;           /* when the thread moved on */
};

/* Any thread; takes @m->span on every path. Settles @end first (may be
 * NULL), under the same lock. */
struct kotel_live_ref kotel_msgtab_add(const struct kotel_live_msg *m,
                                       const struct kotel_live_end *end);
/* Any thread: the process context of the live message whose rkm, payload
 * or key pointer is @ptr. When @baggage is not NULL it receives a malloc'd
 * copy of the message's baggage (or NULL); the caller frees it. */
bool kotel_msgtab_find(const void *ptr, struct kotel_ctx *out, char **baggage);
/* Any thread: the process context of the live message created in span
 * @span_id (a traceparent copied from a consumed message's headers);
 * @baggage as for kotel_msgtab_find(). */
bool kotel_msgtab_find_creation(const uint8_t span_id[8], struct kotel_ctx *out,
                                char **baggage);
/* Any thread: links to the process spans (sampled ones: only those carry
 * a topic, partition and offset) of client @rk's live messages of @topic
 * whose offset is below the committed offset @offs[i] of their partition
 * @parts[i] (i < @n): the messages a commit settles. Fills at most @max of
 * @out; returns how many. One pass over the table under its lock. */
size_t kotel_msgtab_settled(const void *rk, const char *topic,
                            const int32_t *parts, const int64_t *offs,
                            size_t n, struct kotel_link *out, size_t max);
/* The app destroyed @rkm. */
void kotel_msgtab_destroyed(const void *rkm);
/* The consuming thread's app destroyed its current message @ref, which
 * the thread's next move-on settles (as destroyed) under the lock of the
 * next table entry. Lock-free: only marks the entry's pointers dead now,
 * so that a buffer reusing their addresses (any thread) is not taken for
 * it; the creation span id stays valid. Should the entry be retired and
 * reused meanwhile (the client swept by another thread's close), the new
 * message only loses its lookups by pointer. */
void kotel_msgtab_ptrs_dead(struct kotel_live_ref ref);
/* The app is done with the message of @ref (event iteration moved on). */
void kotel_msgtab_destroyed_ref(struct kotel_live_ref ref);
/* The consuming thread moved on from @ref. */
void kotel_msgtab_release(struct kotel_live_ref ref);
/* Settles @end alone (release, and destroyed when @end says so), under one
 * lock. */
void kotel_msgtab_end(const struct kotel_live_end *end);
/* The same for the @n refs of @refs (one batch), under one lock. */
void kotel_msgtab_release_many(const struct kotel_live_ref *refs, size_t n);
/* @owner (an event) was destroyed with its messages. */
void kotel_msgtab_destroy_owner(const void *owner);
/* Ends every entry of client @rk (NULL: all), for close/destroy/exit. */
void kotel_msgtab_end_client(const void *rk);
/* At exit: ends every entry if the lock can be had without waiting (the
 * exiting thread may hold it), freeing no string. Returns the number of
 * open spans it could not reach, for the caller to count as dropped. */
size_t kotel_msgtab_end_at_exit(void);
size_t kotel_msgtab_count(void);
/* How many times the table's lock has been taken (tests, benchmarks). */
uint64_t kotel_msgtab_locks(void);
void kotel_msgtab_atfork_prepare(void);
void kotel_msgtab_atfork_parent(void);
void kotel_msgtab_atfork_child(void);

#endif
