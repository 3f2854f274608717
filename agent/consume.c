/* The consumer path.
 *
 * Every consume API is wrapped (not on_consume, which in 2.0.2 fires for
 * batch messages that are then purged and never returned): after the real
 * call returns, each message handed to the app (err == 0) gets a
 * `process {topic}` span and an entry in the side-table (msgtab.h). Batch
 * APIs and event arrays add one `poll {topic}` span per non-empty batch,
 * linked to every message's creation context. Empty polls, error-only
 * polls and partition EOFs make no span.
 *
 * Span ends (msgtab.h): the single-message APIs make the message the
 * thread's current one, settled by the next consume call and destroy,
 * whichever is last; batch messages likewise, though none becomes the
 * current one unless the batch holds just one (which of several a produce
 * call forwards is unknown: only pointers and copied headers link them);
 * event messages end at the next iteration or event destroy; callback
 * messages when the callback returns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "callsite.h"
#include "config.h"
#include "metrics_hooks.h"
#include "msgtab.h"
#include "spans.h"
#include "stats.h"
#include "symbols.h"
#include "tls.h"

enum end_rule {
        END_ON_MOVE,    /* thread-current until the next consume call */
        END_ON_BATCH,   /* batch: released at the next consume call too,
                         * but not the thread's current message */
        END_ON_DESTROY, /* event array: when the app destroys the event */
        END_ON_NEXT,    /* event iteration: at the next message */
};

/* Remembers @ref for the thread's next move-on. If no room can be made,
 * the message is released now: its span then ends at destroy. */
static void hold_batch_ref(struct kotel_tls *t, struct kotel_live_ref ref)
{
        if (!ref.idx)
                return;
        if (t->batch_refs_n == t->batch_refs_cap) {
                uint32_t cap = t->batch_refs_cap ? t->batch_refs_cap * 2 : 64;
                struct kotel_live_ref *r =
                    realloc(t->batch_refs, cap * sizeof(*r));

                if (!r) {
                        kotel_msgtab_release(ref);
                        return;
                }
                t->batch_refs     = r;
                t->batch_refs_cap = cap;
        }
        t->batch_refs[t->batch_refs_n++] = ref;
        kotel_tls_arm();
}

/* Starts the process span of @m (err == 0) and registers it. @now_ns:
 * the wall clock when the consume call returned, or 0 (read here when a
 * span or the process duration needs it). @poll_start_ns: when a timed
 * single-message call began (its duration is recorded with the message's
 * other metrics, up to @now_ns), or 0. */
static void start_process(const void *rk, rd_kafka_message_t *m,
                          const void *owner, enum end_rule rule,
                          struct kotel_ctx *creation_out, uint64_t now_ns,
                          uint64_t poll_start_ns)
{
        struct kotel_tls *t       = &kotel_tls;
        rd_kafka_headers_t *hdrs  = NULL;
        struct kotel_ctx creation = {0}, ctx;
        struct kotel_span *span   = NULL;
        struct kotel_live_msg lm;
        struct kotel_live_ref ref;
        char *baggage = NULL;
        bool as_parent;
        struct kotel_mseries_ref process;
        /* Every message, sampled or not: the metrics, and its age. */
        struct kotel_msg_age age = kotel_metrics_consumed(rk, m, now_ns, poll_start_ns, &process);

        /* Asking for the headers makes librdkafka parse them: only when a
         * propagator reads them. */
        if ((kotel_cfg.tracecontext || kotel_cfg.baggage) &&
            real_rd_kafka_message_headers(m, &hdrs) ==
                RD_KAFKA_RESP_ERR_NO_ERROR)
                kotel_headers_read(hdrs, &creation, &baggage);
        as_parent = creation.valid &&
                    kotel_cfg.process_parent == KOTEL_PROCESS_PARENT_PARENT;
        kotel_ctx_new_child(&ctx, as_parent ? &creation : NULL);
        if (!as_parent && creation.valid) {
                /* A new root keeps the producer's tracestate all the same. */
                memcpy(ctx.tracestate, creation.tracestate, creation.ts_len);
                ctx.ts_len                  = creation.ts_len;
                ctx.tracestate[ctx.ts_len] = '\0';
        }
        if (ctx.flags & KOTEL_FLAG_SAMPLED)
                span = kotel_span_new();
        if (!now_ns && (span || process.s))
                now_ns = kotel_now_ns();
        if (span) {
                memcpy(span->trace_id, ctx.trace_id, 16);
                memcpy(span->span_id, ctx.span_id, 8);
                span->flags    = ctx.flags;
                span->kind     = KOTEL_KIND_CONSUMER;
                span->op       = KOTEL_OP_PROCESS;
                span->start_ns = now_ns;
                span->code_ip  = kotel_callsite_capture();
                span->client   = kotel_client_ref(kotel_clients_get(rk));
                if (as_parent) {
                        memcpy(span->parent_span_id, creation.span_id, 8);
                        span->has_parent = true;
                }
                if (creation.valid) {
                        kotel_span_reserve_links(span, 1);
                        memcpy(span->links[0].trace_id, creation.trace_id, 16);
                        memcpy(span->links[0].span_id, creation.span_id, 8);
                        span->links[0].flags = creation.flags;
                        span->n_links        = 1;
                }
                kotel_span_set_topic(span, kotel_message_topic(m));
                kotel_span_set_message(span, m);
                kotel_span_set_tracestate(span, &ctx);
                span->ts_type = age.valid ? age.type : 0;
                span->age_ms  = age.ms;
                kotel_exporter_count_started();
        }
        lm = (struct kotel_live_msg){
            .rkm      = m,
            .payload  = m->payload,
            .key      = m->key,
            .rk       = rk,
            .owner    = owner,
            .creation = creation.valid ? &creation : NULL,
            .ctx      = &ctx,
            .baggage  = baggage,
            .span     = span,
            .released = rule == END_ON_DESTROY,
            .start_ns = now_ns,
            .process  = process,
        };
        ref = kotel_msgtab_add(&lm, t->pending.ref.idx ? &t->pending : NULL);
        t->pending.ref.idx = 0;
        if (creation_out)
                kotel_ctx_copy_ids(creation_out, &creation);
        if (rule == END_ON_DESTROY) {
                free(baggage);
                return;
        }
        if (rule == END_ON_BATCH) {
                free(baggage);
                hold_batch_ref(t, ref);
                return;
        }
        free(t->current_baggage);
        t->current_baggage      = baggage; /* the thread's move_on frees it */
        t->current              = ref;
        t->has_current          = true;
        t->current_ends_on_move = rule == END_ON_NEXT;
        t->current_owner        = owner;
        t->current_rkm          = rule == END_ON_MOVE ? m : NULL;
        t->current_destroyed    = false;
        kotel_ctx_copy(&t->current_ctx, &ctx);
        kotel_tls_arm();
}

/* The client behind a consume call made on a queue or topic handle. */
static const void *rk_of_handle(const void *handle)
{
        return kotel_handles_rk(handle);
}

/* One `poll {topic}` span over the @n messages of a batch (only those with
 * err == 0 count), linked to each message's creation context. */
static void batch_spans(const void *rk, rd_kafka_message_t **msgs, size_t n,
                        uint64_t start_ns, const void *owner)
{
        struct kotel_ctx *creations;
        struct kotel_span *poll = NULL;
        size_t good = 0, links = 0;
        const char *topic = NULL;
        enum end_rule rule;
        bool one_topic    = true;

        for (size_t i = 0; i < n; i++) {
                if (!msgs[i] || msgs[i]->err)
                        continue;
                good++;
                if (!topic)
                        topic = kotel_message_topic(msgs[i]);
                else if (one_topic) {
                        const char *tn = kotel_message_topic(msgs[i]);
                        one_topic      = tn && !strcmp(tn, topic);
                }
        }
        if (!good)
                return;
        /* A batch of one (Python's consume(1)) is unambiguous: that
         * message is the thread's current one, as after a poll. */
        rule = owner ? END_ON_DESTROY
                     : good == 1 ? END_ON_MOVE : END_ON_BATCH;
        creations = calloc(good, sizeof(*creations));
        for (size_t i = 0, j = 0; i < n; i++) {
                if (!msgs[i] || msgs[i]->err)
                        continue;
                start_process(rk, msgs[i], owner, rule,
                              creations ? &creations[j++] : NULL, 0, 0);
        }
        {
                struct kotel_ctx ctx;

                kotel_ctx_new_child(&ctx, NULL);
                if (ctx.flags & KOTEL_FLAG_SAMPLED)
                        poll = kotel_span_new();
                if (poll) {
                        memcpy(poll->trace_id, ctx.trace_id, 16);
                        memcpy(poll->span_id, ctx.span_id, 8);
                        poll->flags       = ctx.flags;
                        poll->kind        = KOTEL_KIND_CLIENT;
                        poll->op          = KOTEL_OP_POLL;
                        poll->start_ns    = start_ns;
                        poll->batch_count = (uint32_t)good;
                        poll->code_ip     = kotel_callsite_capture();
                        poll->client      = kotel_client_ref(kotel_clients_get(rk));
                        if (one_topic)
                                kotel_span_set_topic(poll, topic);
                        for (size_t i = 0; creations && i < good; i++)
                                links += creations[i].valid;
                        if (links && kotel_span_reserve_links(poll, (uint32_t)links) == 0)
                                for (size_t i = 0; i < good; i++) {
                                        struct kotel_link *l;
                                        if (!creations[i].valid)
                                                continue;
                                        l = &poll->links[poll->n_links++];
                                        memcpy(l->trace_id, creations[i].trace_id, 16);
                                        memcpy(l->span_id, creations[i].span_id, 8);
                                        l->flags = creations[i].flags;
                                }
                        poll->end_ns = kotel_now_ns();
                        kotel_exporter_count_started();
                        kotel_metrics_polled(rk, one_topic ? topic : NULL,
                                             poll->end_ns - start_ns,
                                             poll->trace_id, poll->span_id);
                        kotel_exporter_submit(poll);
                } else {
                        kotel_metrics_polled(rk, one_topic ? topic : NULL,
                                             kotel_now_ns() - start_ns, NULL,
                                             NULL);
                }
        }
        free(creations);
}

/* Common entry of every consume wrapper: the thread moves on from its
 * previous message, which is settled with the next message's table entry
 * (one lock for both), or by leave() when no message comes. Only ever
 * called from the exported wrappers themselves. */
static inline __attribute__((always_inline)) void enter(struct kotel_tls *t)
{
        /* Inlined, so this is the wrapper's own return address. */
        KOTEL_CALLSITE_MARK(t);
        t->in_hook++;
        t->defer_end = true;
        kotel_agent_move_on();
        t->defer_end = false;
}

static void leave(struct kotel_tls *t)
{
        kotel_agent_settle();
        t->in_hook--;
}

/* The wall clock before a single-message consume call when metrics are
 * on (its duration is recorded), else 0. After enter(): the previous
 * message's processing ended when this call began, and enter() read the
 * clock for it just now, so that reading is the start (one clock read
 * fewer per message). */
static uint64_t single_start(const struct kotel_tls *t)
{
        if (!kotel_metrics_enabled())
                return 0;
        return t->pending.ref.idx && t->pending.end_ns ? t->pending.end_ns
                                                       : kotel_now_ns();
}

/* A single-message consume call that began at @start_ns (0: not timed)
 * returned @m: the call's duration to messaging.client.operation.duration
 * (operation poll; no span: the process span is the message's), and its
 * process span, which starts at the call's end. */
static void single(const void *rk, rd_kafka_message_t *m, uint64_t start_ns)
{
        if (!m || m->err)
                return;
        /* The duration is recorded with the message's metrics: one series
         * lookup for all of them. */
        start_process(rk, m, NULL, END_ON_MOVE, NULL,
                      start_ns ? kotel_now_ns() : 0, start_ns);
}

KOTEL_EXPORT rd_kafka_message_t *rd_kafka_consumer_poll(rd_kafka_t *rk,
                                                        int timeout_ms)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_message_t *m;
        uint64_t start;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consumer_poll))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consumer_poll(rk, timeout_ms);
        enter(t);
        start = single_start(t);
        m     = real_rd_kafka_consumer_poll(rk, timeout_ms);
        saved = errno;
        single(rk, m, start);
        leave(t);
        errno = saved;
        return m;
}

KOTEL_EXPORT rd_kafka_message_t *rd_kafka_consume(rd_kafka_topic_t *rkt,
                                                  int32_t partition,
                                                  int timeout_ms)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_message_t *m;
        uint64_t start;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consume))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consume(rkt, partition, timeout_ms);
        enter(t);
        start = single_start(t);
        m     = real_rd_kafka_consume(rkt, partition, timeout_ms);
        saved = errno;
        single(rk_of_handle(rkt), m, start);
        leave(t);
        errno = saved;
        return m;
}

KOTEL_EXPORT rd_kafka_message_t *rd_kafka_consume_queue(rd_kafka_queue_t *rkqu,
                                                        int timeout_ms)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_message_t *m;
        uint64_t start;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consume_queue))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consume_queue(rkqu, timeout_ms);
        enter(t);
        start = single_start(t);
        m     = real_rd_kafka_consume_queue(rkqu, timeout_ms);
        saved = errno;
        single(rk_of_handle(rkqu), m, start);
        leave(t);
        errno = saved;
        return m;
}

KOTEL_EXPORT ssize_t rd_kafka_consume_batch(rd_kafka_topic_t *rkt,
                                            int32_t partition, int timeout_ms,
                                            rd_kafka_message_t **rkmessages,
                                            size_t rkmessages_size)
{
        struct kotel_tls *t = &kotel_tls;
        uint64_t start;
        ssize_t n;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consume_batch))
                return -1;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consume_batch(rkt, partition, timeout_ms,
                                                   rkmessages, rkmessages_size);
        enter(t);
        start = kotel_now_ns();
        n     = real_rd_kafka_consume_batch(rkt, partition, timeout_ms,
                                            rkmessages, rkmessages_size);
        saved = errno;
        if (n > 0)
                batch_spans(rk_of_handle(rkt), rkmessages, (size_t)n, start, NULL);
        leave(t);
        errno = saved;
        return n;
}

KOTEL_EXPORT ssize_t rd_kafka_consume_batch_queue(rd_kafka_queue_t *rkqu,
                                                  int timeout_ms,
                                                  rd_kafka_message_t **rkmessages,
                                                  size_t rkmessages_size)
{
        struct kotel_tls *t = &kotel_tls;
        uint64_t start;
        ssize_t n;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consume_batch_queue))
                return -1;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consume_batch_queue(rkqu, timeout_ms,
                                                         rkmessages,
                                                         rkmessages_size);
        enter(t);
        start = kotel_now_ns();
        n     = real_rd_kafka_consume_batch_queue(rkqu, timeout_ms, rkmessages,
                                                  rkmessages_size);
        saved = errno;
        if (n > 0)
                batch_spans(rk_of_handle(rkqu), rkmessages, (size_t)n, start, NULL);
        leave(t);
        errno = saved;
        return n;
}

/* consume_callback*: our trampoline runs around the app's callback, which
 * sees the same message, opaque and order. */
struct trampoline {
        void (*cb)(rd_kafka_message_t *, void *);
        void *opaque;
        const void *rk;
};

static void trampoline(rd_kafka_message_t *m, void *arg)
{
        struct trampoline *tr = arg;
        struct kotel_tls *t   = &kotel_tls;
        int depth             = t->in_hook;
        int saved             = errno;

        kotel_agent_move_on();
        if (m && !m->err)
                start_process(tr->rk, m, NULL, END_ON_NEXT, NULL, 0, 0);
        errno = saved;
        /* The app's code runs outside the hook: its own produce calls must
         * be traced as usual. */
        t->in_hook = 0;
        tr->cb(m, tr->opaque);
        t->in_hook = depth;
        saved      = errno;
        /* librdkafka frees the message when the callback returns. */
        kotel_agent_move_on();
        errno = saved;
}

KOTEL_EXPORT int rd_kafka_consume_callback(
    rd_kafka_topic_t *rkt, int32_t partition, int timeout_ms,
    void (*consume_cb)(rd_kafka_message_t *rkmessage, void *commit_opaque),
    void *commit_opaque)
{
        struct kotel_tls *t = &kotel_tls;
        struct trampoline tr;
        int rc, saved;

        if (!KOTEL_REAL(rd_kafka_consume_callback))
                return -1;
        if (!kotel_agent_ready() || t->in_hook || !consume_cb)
                return real_rd_kafka_consume_callback(rkt, partition, timeout_ms,
                                                      consume_cb, commit_opaque);
        enter(t);
        tr = (struct trampoline){consume_cb, commit_opaque, rk_of_handle(rkt)};
        rc = real_rd_kafka_consume_callback(rkt, partition, timeout_ms,
                                            trampoline, &tr);
        saved = errno;
        leave(t);
        errno = saved;
        return rc;
}

KOTEL_EXPORT int rd_kafka_consume_callback_queue(
    rd_kafka_queue_t *rkqu, int timeout_ms,
    void (*consume_cb)(rd_kafka_message_t *rkmessage, void *commit_opaque),
    void *commit_opaque)
{
        struct kotel_tls *t = &kotel_tls;
        struct trampoline tr;
        int rc, saved;

        if (!KOTEL_REAL(rd_kafka_consume_callback_queue))
                return -1;
        if (!kotel_agent_ready() || t->in_hook || !consume_cb)
                return real_rd_kafka_consume_callback_queue(rkqu, timeout_ms,
                                                            consume_cb,
                                                            commit_opaque);
        enter(t);
        tr = (struct trampoline){consume_cb, commit_opaque, rk_of_handle(rkqu)};
        rc = real_rd_kafka_consume_callback_queue(rkqu, timeout_ms, trampoline,
                                                  &tr);
        saved = errno;
        leave(t);
        errno = saved;
        return rc;
}

KOTEL_EXPORT void rd_kafka_message_destroy(rd_kafka_message_t *rkmessage)
{
        if (!KOTEL_REAL(rd_kafka_message_destroy))
                return;
        /* Before the free: afterwards the address may be reused at once. */
        if (rkmessage && kotel_agent_ready()) {
                struct kotel_tls *t = &kotel_tls;
                int saved           = errno;

                if (t->has_current && t->current_rkm == rkmessage) {
                        /* The thread's current message (a poll loop, or
                         * Python's destroy inside poll): the move-on
                         * settles it with the next message's table entry,
                         * so one table lock per message, not two. */
                        kotel_msgtab_ptrs_dead(t->current);
                        t->current_rkm       = NULL;
                        t->current_destroyed = true;
                } else {
                        kotel_msgtab_destroyed(rkmessage);
                }
                errno = saved;
        }
        real_rd_kafka_message_destroy(rkmessage);
}

/* ---- event API ------------------------------------------------------ */

KOTEL_EXPORT rd_kafka_event_t *rd_kafka_queue_poll(rd_kafka_queue_t *rkqu,
                                                   int timeout_ms)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_event_t *ev;
        uint64_t t0;
        int saved;

        if (!KOTEL_REAL(rd_kafka_queue_poll))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_queue_poll(rkqu, timeout_ms);
        enter(t);
        t0    = kotel_stats_poll_start(timeout_ms);
        ev    = real_rd_kafka_queue_poll(rkqu, timeout_ms);
        /* Statistics kotel asked for are not the app's (stats.c). */
        ev    = kotel_stats_filter_event(rkqu, ev, timeout_ms, t0);
        saved = errno;
        if (ev) {
                t->event    = ev;
                t->event_rk = rk_of_handle(rkqu);
        }
        leave(t);
        errno = saved;
        return ev;
}

static const void *rk_of_event(const rd_kafka_event_t *ev)
{
        return kotel_tls.event == ev ? kotel_tls.event_rk : NULL;
}

KOTEL_EXPORT const rd_kafka_message_t *
rd_kafka_event_message_next(rd_kafka_event_t *rkev)
{
        struct kotel_tls *t = &kotel_tls;
        const rd_kafka_message_t *m;
        int saved;

        if (!KOTEL_REAL(rd_kafka_event_message_next))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook || !rkev ||
            real_rd_kafka_event_type(rkev) != RD_KAFKA_EVENT_FETCH)
                return real_rd_kafka_event_message_next(rkev);
        enter(t);
        m     = real_rd_kafka_event_message_next(rkev);
        saved = errno;
        if (m && !m->err)
                start_process(rk_of_event(rkev), (rd_kafka_message_t *)m, rkev,
                              END_ON_NEXT, NULL, 0, 0);
        leave(t);
        errno = saved;
        return m;
}

KOTEL_EXPORT size_t rd_kafka_event_message_array(rd_kafka_event_t *rkev,
                                                 const rd_kafka_message_t **rkmessages,
                                                 size_t size)
{
        struct kotel_tls *t = &kotel_tls;
        uint64_t start;
        size_t n;
        int saved;

        if (!KOTEL_REAL(rd_kafka_event_message_array))
                return 0;
        if (!kotel_agent_ready() || t->in_hook || !rkev ||
            real_rd_kafka_event_type(rkev) != RD_KAFKA_EVENT_FETCH)
                return real_rd_kafka_event_message_array(rkev, rkmessages, size);
        enter(t);
        start = kotel_now_ns();
        n     = real_rd_kafka_event_message_array(rkev, rkmessages, size);
        saved = errno;
        if (n > 0)
                batch_spans(rk_of_event(rkev), (rd_kafka_message_t **)rkmessages,
                            n, start, rkev);
        leave(t);
        errno = saved;
        return n;
}

KOTEL_EXPORT void rd_kafka_event_destroy(rd_kafka_event_t *rkev)
{
        struct kotel_tls *t = &kotel_tls;

        if (!KOTEL_REAL(rd_kafka_event_destroy))
                return;
        if (rkev && kotel_agent_ready() && !t->in_hook) {
                int saved = errno;

                /* The event's messages die with it; the thread's other
                 * messages (another event's, a batch's) do not. */
                if (t->has_current && t->current_ends_on_move &&
                    t->current_owner == rkev)
                        kotel_agent_end_current();
                kotel_msgtab_destroy_owner(rkev);
                if (t->event == rkev)
                        t->event = NULL;
                errno = saved;
        }
        real_rd_kafka_event_destroy(rkev);
}
