/* Commit spans: one `commit {topic}` CLIENT span (messaging.operation.type
 * settle) per topic of every offset commit a consumer group makes, manual
 * (rd_kafka_commit, rd_kafka_commit_message, rd_kafka_commit_queue) or
 * automatic (enable.auto.commit, and the final one at close).
 *
 * Where each part of a span comes from:
 *  - its end, the committed partitions and offsets and the result: the
 *    on_commit interceptor, which librdkafka 2.0.2 calls on its main thread
 *    once per finished commit, manual or automatic, with the offsets it
 *    committed (per-partition errors in them) and the request's error
 *    (rdkafka_cgrp.c, rd_kafka_cgrp_op_handle_OffsetCommit: not for a
 *    commit that had nothing to commit, _NO_OFFSET, nor one cut short by
 *    rd_kafka_destroy, _DESTROY);
 *  - the start and the parent of a manual commit: the API's wrapper, on
 *    the app's thread, queues a record (the clock, the thread's current
 *    process context) for its client; on_commit takes the client's oldest
 *    record, since librdkafka serves a group's commits in the order they
 *    were made. A synchronous call takes its record back when it returns
 *    (on_commit runs before librdkafka wakes the caller, so a record still
 *    there belongs to a commit on_commit will never see);
 *  - the start of an automatic commit: when the OffsetCommit request it
 *    answers was sent (on_response_received, on a broker thread just
 *    before on_commit: arrival minus librdkafka's round-trip time). No
 *    response (a commit that failed before it was sent): start = end;
 *  - its links: the process spans of the messages the commit settles
 *    (offsets below the committed one, per partition) that are still open
 *    in the live-message table (msgtab.c);
 *  - a manual commit refused before librdkafka queues it (no consumer
 *    group: __UNKNOWN_GROUP; commit_message of an error message) or that
 *    failed with no on_commit: its wrapper makes the span, with the error.
 * An app that commits asynchronously while enable.auto.commit is on can
 * have an automatic commit take a manual one's record (their order is not
 * known); an asynchronous commit that finds nothing to commit leaves its
 * record for the client's next commit. Both only move a span's start.
 *
 * Locking: one mutex for the records, held for a few stores by app threads
 * (the wrappers), librdkafka's main thread (on_commit) and broker threads
 * (OffsetCommit responses only); never by the exporter. Spans are built
 * and submitted after it is released. */
#include "commit.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ids.h"
#include "msgtab.h"
#include "spans.h"
#include "symbols.h"
#include "tls.h"

#define MAX_CLIENTS 64
#define MAX_PENDING 16
#define MAX_LINKS 64
/* Links are looked for only in a topic's part of a commit of at most this
 * many partitions: the table scan under its lock is O(live messages x
 * partitions). */
#define MAX_LINKED_PARTS 256
#define OFFSETS_MAX 1024    /* kotel.commit.offsets, NUL included */
#define API_OFFSET_COMMIT 8 /* Kafka protocol ApiKey of OffsetCommit */

/* A manual commit in flight: when it was made and in which context. */
struct started {
        uint64_t seq;
        uint64_t start_ns;
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t flags;
        bool has_parent;
};

static struct client_state {
        const void *rk;        /* NULL: free */
        uint64_t req_start_ns; /* last OffsetCommit request sent, 0: none */
        uint32_t n;
        struct started pending[MAX_PENDING]; /* oldest first */
} states[MAX_CLIENTS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_seq;

/* Under the lock: @rk's slot (NULL: a free one). */
static struct client_state *slot_of(const void *rk)
{
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (states[i].rk == rk)
                        return &states[i];
        return NULL;
}

/* Under the lock: @rk's slot, or NULL (no slot; @rk NULL). */
static struct client_state *state_of(const void *rk)
{
        return rk ? slot_of(rk) : NULL;
}

/* Queues a record for a manual commit on @rk; returns its sequence number,
 * 0 when the client has no slot. When the client's queue is full the
 * oldest record goes (its commit will never be seen, or is very late). */
static uint64_t push(const void *rk, uint64_t start_ns)
{
        const struct kotel_tls *t = &kotel_tls;
        struct client_state *cs;
        struct started *p;
        uint64_t seq = 0;

        pthread_mutex_lock(&lock);
        cs = state_of(rk);
        if (cs) {
                if (cs->n == MAX_PENDING) {
                        memmove(&cs->pending[0], &cs->pending[1],
                                (MAX_PENDING - 1) * sizeof(cs->pending[0]));
                        cs->n--;
                }
                p             = &cs->pending[cs->n++];
                seq           = ++next_seq;
                p->seq        = seq;
                p->start_ns   = start_ns;
                p->has_parent = t->has_current && t->current_ctx.valid;
                if (p->has_parent) {
                        memcpy(p->trace_id, t->current_ctx.trace_id, 16);
                        memcpy(p->span_id, t->current_ctx.span_id, 8);
                        p->flags = t->current_ctx.flags;
                }
        }
        pthread_mutex_unlock(&lock);
        return seq;
}

/* Takes record @seq of @rk back into @out if it is still queued. */
static bool take_back(const void *rk, uint64_t seq, struct started *out)
{
        struct client_state *cs;
        bool found = false;

        if (!seq)
                return false;
        pthread_mutex_lock(&lock);
        cs = state_of(rk);
        for (uint32_t i = 0; cs && i < cs->n; i++) {
                if (cs->pending[i].seq != seq)
                        continue;
                *out = cs->pending[i];
                memmove(&cs->pending[i], &cs->pending[i + 1],
                        (cs->n - i - 1) * sizeof(cs->pending[0]));
                cs->n--;
                found = true;
                break;
        }
        pthread_mutex_unlock(&lock);
        return found;
}

/* on_commit: the client's oldest manual record into @out (true), and the
 * send time of the request just answered (0: none), both taken. */
static bool take_oldest(const void *rk, struct started *out, uint64_t *req)
{
        struct client_state *cs;
        bool found = false;

        *req = 0;
        pthread_mutex_lock(&lock);
        cs = state_of(rk);
        if (cs) {
                *req             = cs->req_start_ns;
                cs->req_start_ns = 0;
                if (cs->n) {
                        *out = cs->pending[0];
                        memmove(&cs->pending[0], &cs->pending[1],
                                (cs->n - 1) * sizeof(cs->pending[0]));
                        cs->n--;
                        found = true;
                }
        }
        pthread_mutex_unlock(&lock);
        return found;
}

/* "0:12,3:40": the committed offsets of @idx[0..n) in @elems, malloc'd,
 * cut at OFFSETS_MAX with a final "..."; NULL on allocation failure. */
static char *offsets_text(const rd_kafka_topic_partition_t *elems,
                          const int *idx, size_t n)
{
        char *b    = malloc(OFFSETS_MAX);
        size_t len = 0;

        if (!b)
                return NULL;
        b[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                const rd_kafka_topic_partition_t *e = &elems[idx[i]];
                char one[48];
                int k = snprintf(one, sizeof(one), "%s%" PRId32 ":%" PRId64,
                                 i ? "," : "", e->partition, e->offset);

                if (k < 0)
                        break;
                if (len + (size_t)k + 4 > OFFSETS_MAX) {
                        memcpy(b + len, "...", 4);
                        break;
                }
                memcpy(b + len, one, (size_t)k + 1);
                len += (size_t)k;
        }
        return b;
}

/* The span of one topic's part of a commit: @idx[0..n) index @elems, all
 * of topic @topic (NULL, n == 0: a commit of no known partitions). */
static void topic_span(struct kotel_client *client, const void *rk,
                       const struct kotel_ctx *ctx, const uint8_t *parent,
                       const char *topic,
                       const rd_kafka_topic_partition_t *elems, const int *idx,
                       size_t n, rd_kafka_resp_err_t err, uint64_t start_ns,
                       uint64_t end_ns)
{
        struct kotel_link links[MAX_LINKS];
        struct kotel_span *s = kotel_span_new();
        int32_t *parts       = NULL;
        int64_t *offs        = NULL;
        size_t nl            = 0;

        if (!s)
                return;
        memcpy(s->trace_id, ctx->trace_id, 16);
        memcpy(s->span_id, ctx->span_id, 8);
        s->flags = ctx->flags;
        if (parent) {
                memcpy(s->parent_span_id, parent, 8);
                s->has_parent = true;
        }
        s->kind     = KOTEL_KIND_CLIENT;
        s->op       = KOTEL_OP_COMMIT;
        s->start_ns = start_ns;
        s->end_ns   = end_ns;
        s->client   = kotel_client_ref(client);
        kotel_span_set_topic(s, topic);
        kotel_span_set_tracestate(s, ctx);
        if (n == 1) {
                s->has_partition = true;
                s->partition     = elems[idx[0]].partition;
        }
        if (n)
                s->commit_offsets = offsets_text(elems, idx, n);
        for (size_t i = 0; !err && i < n; i++)
                err = elems[idx[i]].err;
        if (err)
                kotel_span_set_error(s, err, NULL);
        if (n && n <= MAX_LINKED_PARTS &&
            (parts = malloc(n * sizeof(*parts))) &&
            (offs = malloc(n * sizeof(*offs)))) {
                for (size_t i = 0; i < n; i++) {
                        parts[i] = elems[idx[i]].partition;
                        offs[i]  = elems[idx[i]].offset;
                }
                nl = kotel_msgtab_settled(rk, topic, parts, offs, n, links,
                                          MAX_LINKS);
        }
        free(parts);
        free(offs);
        if (nl && kotel_span_reserve_links(s, (uint32_t)nl) == 0) {
                memcpy(s->links, links, nl * sizeof(links[0]));
                s->n_links = (uint32_t)nl;
        }
        kotel_exporter_count_started();
        kotel_exporter_submit(s);
}

/* The spans of one commit of @elems[0..cnt) by @rk: one per topic, in
 * first-seen order, sharing a trace (and a parent when @st has one).
 * @st: the manual commit's record, or NULL (automatic). */
static void emit(struct kotel_client *client, const void *rk,
                 const rd_kafka_topic_partition_t *elems, int cnt,
                 rd_kafka_resp_err_t err, const struct started *st,
                 uint64_t start_ns, uint64_t end_ns)
{
        struct kotel_ctx parent = {0}, ctx;
        const uint8_t *pid      = NULL;
        bool first              = true;
        int *idx;

        if (st && st->has_parent) {
                memcpy(parent.trace_id, st->trace_id, 16);
                memcpy(parent.span_id, st->span_id, 8);
                parent.flags = st->flags;
                parent.valid = true;
                pid          = st->span_id;
        }
        kotel_ctx_new_child(&ctx, pid ? &parent : NULL);
        if (!(ctx.flags & KOTEL_FLAG_SAMPLED))
                return;
        if (cnt <= 0) {
                topic_span(client, rk, &ctx, pid, NULL, NULL, NULL, 0, err,
                           start_ns, end_ns);
                return;
        }
        if (!(idx = malloc((size_t)cnt * sizeof(*idx))))
                return;
        for (int i = 0; i < cnt; i++) {
                const char *topic = elems[i].topic;
                size_t n          = 0;
                bool seen         = false;

                if (!topic)
                        continue;
                for (int j = 0; j < i && !seen; j++)
                        seen = elems[j].topic && !strcmp(elems[j].topic, topic);
                if (seen)
                        continue;
                for (int j = i; j < cnt; j++)
                        if (elems[j].topic && !strcmp(elems[j].topic, topic))
                                idx[n++] = j;
                if (!first)
                        kotel_ids_span(ctx.span_id);
                first = false;
                topic_span(client, rk, &ctx, pid, topic, elems, idx, n, err,
                           start_ns, end_ns);
        }
        free(idx);
}

/* librdkafka's main thread, once per finished commit with offsets. */
static rd_kafka_resp_err_t
on_commit(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
          rd_kafka_resp_err_t err, void *ic_opaque)
{
        int saved       = errno;
        uint64_t end_ns = kotel_now_ns();
        struct started st;
        uint64_t req, start;
        bool manual;

        manual = take_oldest(rk, &st, &req);
        start  = manual ? st.start_ns : req && req <= end_ns ? req : end_ns;
        if (offsets)
                emit(ic_opaque, rk, offsets->elems, offsets->cnt, err,
                     manual ? &st : NULL, start, end_ns);
        errno = saved;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* A broker thread, for every response: only OffsetCommit ones count. */
static rd_kafka_resp_err_t on_response(rd_kafka_t *rk, int sockfd,
                                       const char *brokername, int32_t brokerid,
                                       int16_t api_key, int16_t api_version,
                                       int32_t corr_id, size_t size,
                                       int64_t rtt_us, rd_kafka_resp_err_t err,
                                       void *ic_opaque)
{
        struct client_state *cs;
        uint64_t now;

        (void)sockfd, (void)brokername, (void)brokerid, (void)api_version;
        (void)corr_id, (void)size, (void)err, (void)ic_opaque;
        if (api_key != API_OFFSET_COMMIT || rtt_us < 0)
                return RD_KAFKA_RESP_ERR_NO_ERROR;
        now = kotel_now_ns();
        pthread_mutex_lock(&lock);
        if ((cs = state_of(rk)))
                cs->req_start_ns = now - (uint64_t)rtt_us * 1000u;
        pthread_mutex_unlock(&lock);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void kotel_commit_install(rd_kafka_t *rk, struct kotel_client *client)
{
        struct client_state *cs;

        pthread_mutex_lock(&lock);
        if (!(cs = state_of(rk)))
                cs = slot_of(NULL);
        if (cs) {
                memset(cs, 0, sizeof(*cs));
                cs->rk = rk;
        }
        pthread_mutex_unlock(&lock);
        if (!cs)
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "more than 64 consumers at once: the commit "
                               "spans of the others have no start of their "
                               "own (logged once)");
        real_rd_kafka_interceptor_add_on_commit(rk, "kotel", on_commit, client);
        real_rd_kafka_interceptor_add_on_response_received(rk, "kotel",
                                                           on_response, client);
}

void kotel_commit_forget(const void *rk)
{
        struct client_state *cs;

        pthread_mutex_lock(&lock);
        if ((cs = state_of(rk)))
                memset(cs, 0, sizeof(*cs));
        pthread_mutex_unlock(&lock);
}

void kotel_commit_atfork_prepare(void)
{
        pthread_mutex_lock(&lock);
}

void kotel_commit_atfork_parent(void)
{
        pthread_mutex_unlock(&lock);
}

void kotel_commit_atfork_child(void)
{
        memset(states, 0, sizeof(states));
        pthread_mutex_init(&lock, NULL);
}

/* ---- the APIs ---------------------------------------------------------
 *
 * Each wrapper queues its record, calls the real function and, when the
 * record is still there after a synchronous call (or after any call that
 * failed at once), makes the span itself: on_commit never will. */

/* > 0 inside rd_kafka_commit_message: its nested rd_kafka_commit passes
 * through. Not kotel_tls.in_hook: a commit made in a callback that
 * librdkafka runs inside a consume call (a rebalance callback committing on
 * revoke) is the app's own call and gets its record. The wrappers call no
 * hooked function. */
static __thread int in_commit;

struct call {
        const void *rk;
        uint64_t seq;
        uint64_t start_ns;
};

static void enter(struct call *c, const void *rk)
{
        int saved = errno;

        c->rk       = rk;
        c->start_ns = kotel_now_ns();
        c->seq      = push(rk, c->start_ns);
        errno       = saved;
}

/* After the real call returned @err. @elems[0..cnt): what the app asked to
 * commit (cnt 0: the current assignment, not known here). */
static void leave(struct call *c, rd_kafka_resp_err_t err, bool sync,
                  const rd_kafka_topic_partition_t *elems, int cnt)
{
        int saved = errno;
        struct started st;

        if ((sync || err) && take_back(c->rk, c->seq, &st) && err &&
            err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                emit(kotel_clients_get(c->rk), c->rk, elems, cnt, err, &st,
                     c->start_ns, kotel_now_ns());
        errno = saved;
}

/* Any app thread; borrows @offsets (never changed). */
KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_commit(
    rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets, int async)
{
        rd_kafka_resp_err_t err;
        struct call c;

        if (!KOTEL_REAL(rd_kafka_commit))
                return RD_KAFKA_RESP_ERR__FAIL;
        if (!kotel_agent_ready() || in_commit)
                return real_rd_kafka_commit(rk, offsets, async);
        enter(&c, rk);
        err = real_rd_kafka_commit(rk, offsets, async);
        leave(&c, err, !async, offsets ? offsets->elems : NULL,
              offsets ? offsets->cnt : 0);
        return err;
}

/* Any app thread; borrows @rkmessage. librdkafka's commit_message calls
 * rd_kafka_commit through the PLT: that nested call passes through. */
KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_commit_message(
    rd_kafka_t *rk, const rd_kafka_message_t *rkmessage, int async)
{
        rd_kafka_topic_partition_t one;
        rd_kafka_resp_err_t err;
        struct call c;
        int saved;

        if (!KOTEL_REAL(rd_kafka_commit_message))
                return RD_KAFKA_RESP_ERR__FAIL;
        if (!kotel_agent_ready() || in_commit)
                return real_rd_kafka_commit_message(rk, rkmessage, async);
        enter(&c, rk);
        in_commit++;
        err   = real_rd_kafka_commit_message(rk, rkmessage, async);
        saved = errno;
        in_commit--;
        errno = saved;
        /* What librdkafka commits for it: the next offset. */
        memset(&one, 0, sizeof(one));
        one.topic = rkmessage ? (char *)kotel_message_topic(rkmessage) : NULL;
        one.partition = rkmessage ? rkmessage->partition : -1;
        one.offset    = rkmessage ? rkmessage->offset + 1 : -1;
        leave(&c, err, !async, &one, one.topic ? 1 : 0);
        return err;
}

/* Any app thread; borrows @offsets; @cb and @opaque go to librdkafka
 * unchanged. Synchronous when @rkqu is NULL. */
KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_commit_queue(
    rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
    rd_kafka_queue_t *rkqu,
    void (*cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t *offsets, void *opaque),
    void *opaque)
{
        rd_kafka_resp_err_t err;
        struct call c;

        if (!KOTEL_REAL(rd_kafka_commit_queue))
                return RD_KAFKA_RESP_ERR__FAIL;
        if (!kotel_agent_ready() || in_commit)
                return real_rd_kafka_commit_queue(rk, offsets, rkqu, cb,
                                                  opaque);
        enter(&c, rk);
        err = real_rd_kafka_commit_queue(rk, offsets, rkqu, cb, opaque);
        leave(&c, err, !rkqu, offsets ? offsets->elems : NULL,
              offsets ? offsets->cnt : 0);
        return err;
}
