/* Per-thread agent state. Plain __thread storage: the hot path reads it
 * without a call; kotel_tls_arm() registers a destructor the first time a
 * thread holds something that must be settled at thread exit. */
#ifndef KOTEL_TLS_H
#define KOTEL_TLS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "ctx.h"
#include "msgtab.h"

struct kotel_tls {
        int in_hook; /* > 0 while inside a wrapper: nested calls pass through */
        bool armed;
        /* Where the app called the outermost wrapper (a return address;
         * KOTEL_CALLSITE_MARK), for the code.* attributes. */
        void *caller;

        /* The message being produced: the app's own buffers (before any
         * RD_KAFKA_MSG_F_COPY), for finding the consumed message they
         * came from. */
        bool have_app_ptrs;
        const void *app_payload;
        const void *app_key;

        /* produce_batch in progress on this thread. */
        rd_kafka_message_t *batch;
        int batch_cnt;
        int batch_cursor;
        int batch_flags;
        const void **batch_rkm; /* internal message per index, or NULL */

        /* The consumed message this thread is processing. */
        struct kotel_live_ref current;
        bool has_current;
        bool current_ends_on_move; /* event iteration: next() ends it */
        const void *current_owner; /* its event, for event iteration */
        /* The current message itself until the app destroys it (NULL for
         * event messages, which the app does not destroy), and whether it
         * has: that destroy takes no table lock (kotel_msgtab_ptrs_dead);
         * the move-on settles the entry as destroyed. */
        const void *current_rkm;
        bool current_destroyed;
        struct kotel_ctx current_ctx;
        char *current_baggage; /* malloc'd, or NULL */
        /* The message a consume wrapper moved on from before its real call:
         * settled with the next message's table entry, under one lock, or
         * when the wrapper leaves. */
        bool defer_end;
        struct kotel_live_end pending;

        /* The messages of this thread's last consume_batch(_queue): they
         * are released, like the current one, when the thread moves on. */
        struct kotel_live_ref *batch_refs;
        uint32_t batch_refs_n;
        uint32_t batch_refs_cap;

        /* The event most recently polled, and its client. */
        const void *event;
        const void *event_rk;
};

extern __thread struct kotel_tls kotel_tls;

/* Registers the thread-exit destructor for this thread (once). */
void kotel_tls_arm(void);

#endif
