/* The producer path.
 *
 * on_send runs on the producing thread inside every produce API, before
 * the partitioner. It picks the parent (a valid traceparent already in the
 * headers, else the consumed message this produce forwards, else the
 * thread's current message, else none), injects the send span's context
 * into the headers, and, when sampled, fills the send span with all that
 * is known at send time and keeps it in the in-flight table under the
 * message pointer. on_acknowledgement (a broker thread, or the producing
 * thread when the partitioner fails) takes the span, stores partition,
 * offset, error and end time, and submits it. The wrappers only tell on_send which
 * buffers the app passed (before RD_KAFKA_MSG_F_COPY copies them) and
 * settle what librdkafka never acks (produce_batch failures). */
#include "produce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "callsite.h"
#include "inflight.h"
#include "kafka_log.h"
#include "msgtab.h"
#include "metrics_hooks.h"
#include "spans.h"
#include "symbols.h"
#include "tls.h"

/* The topic name of @rkt interned (else a copy, *@owned set: the intern
 * table is full); a one-entry per-thread cache makes the common case (same
 * topic again) a pointer and string compare. */
static const char *topic_of(const rd_kafka_message_t *rkm, bool *owned)
{
        static __thread const void *cached_rkt;
        static __thread const char *cached_name;
        const char *name = kotel_message_topic(rkm), *t;

        *owned = false;
        if (!name)
                return NULL;
        if (cached_rkt == rkm->rkt && cached_name && !strcmp(cached_name, name))
                return cached_name;
        t = kotel_topic_hold(name, owned);
        if (t && !*owned) {
                cached_rkt  = rkm->rkt;
                cached_name = t;
        }
        return t;
}

/* Which entry of the produce_batch array on_send is looking at: messages
 * are created in array order, skipping ones that failed before creation. */
static int batch_index(const rd_kafka_message_t *rkm)
{
        struct kotel_tls *t = &kotel_tls;

        for (int i = t->batch_cursor; i < t->batch_cnt; i++) {
                const rd_kafka_message_t *a = &t->batch[i];

                if (a->len == rkm->len && a->key_len == rkm->key_len &&
                    a->_private == rkm->_private &&
                    ((t->batch_flags & RD_KAFKA_MSG_F_COPY) ||
                     a->payload == rkm->payload)) {
                        t->batch_cursor = i + 1;
                        return i;
                }
        }
        return -1;
}

/* What on_send changed in the headers of the message a produce wrapper is
 * producing, so that a synchronous failure (the partitioner acks it before
 * the produce call returns, and the app keeps its headers object) can hand
 * the app back its headers as they were: a retry with the same object then
 * sees the app's own traceparent again, not our failed span's. */
#define UNDO_VAL_MAX 256
static __thread struct undo {
        const void *rkm; /* NULL: nothing to undo */
        bool had_tp, ts_replaced, had_ts, bg_added;
        uint16_t tp_len, ts_len;
        char tp[UNDO_VAL_MAX];
        char ts[KOTEL_TRACESTATE_MAX];
} undo;

/* What on_send reads of the message once, before it changes anything:
 * its headers (NULL: none) and the propagation headers among them. */
struct send_view {
        rd_kafka_headers_t *hdrs;
        struct kotel_prop_headers found;
};

static void view_of(rd_kafka_message_t *rkm, struct send_view *v)
{
        if (real_rd_kafka_message_headers(rkm, &v->hdrs) || !v->hdrs)
                v->hdrs = NULL;
        kotel_headers_find(v->hdrs, &v->found, true);
}

/* Saves @h into @buf; false when absent. */
static bool save_header(const struct kotel_prop_hdr *h, char *buf,
                        size_t size, uint16_t *len)
{
        if (!h->seen || !h->v || h->len > size)
                return false;
        memcpy(buf, h->v, h->len);
        *len = (uint16_t)h->len;
        return true;
}

/* Only headers the app passed in need their values saved: without any,
 * undoing is removing what on_send added. */
static void undo_record(rd_kafka_message_t *rkm, const struct send_view *v)
{
        undo.rkm = NULL;
        if (!kotel_tls.in_hook)
                return; /* not inside a produce wrapper: nothing to undo */
        undo.had_tp = kotel_cfg.tracecontext &&
                      save_header(&v->found.tp, undo.tp, sizeof(undo.tp),
                                  &undo.tp_len);
        undo.ts_replaced = kotel_cfg.tracecontext;
        undo.had_ts      = undo.ts_replaced &&
                      save_header(&v->found.ts, undo.ts, sizeof(undo.ts),
                                  &undo.ts_len);
        undo.bg_added = !v->found.bg.seen;
        undo.rkm      = rkm;
}

/* on_ack of a message that failed inside the produce call. */
static void undo_apply(rd_kafka_message_t *rkm)
{
        rd_kafka_headers_t *hdrs = NULL;

        undo.rkm = NULL;
        if (real_rd_kafka_message_headers(rkm, &hdrs) || !hdrs)
                return;
        if (kotel_cfg.tracecontext) {
                real_rd_kafka_header_remove(hdrs, "traceparent");
                if (undo.had_tp)
                        real_rd_kafka_header_add(hdrs, "traceparent", -1,
                                                 undo.tp, undo.tp_len);
        }
        if (undo.ts_replaced) {
                real_rd_kafka_header_remove(hdrs, "tracestate");
                if (undo.had_ts)
                        real_rd_kafka_header_add(hdrs, "tracestate", -1,
                                                 undo.ts, undo.ts_len);
        }
        if (undo.bg_added)
                real_rd_kafka_header_remove(hdrs, "baggage");
}

static bool forward_parent(const void *payload, const void *key,
                           struct kotel_ctx *out, char **baggage)
{
        return (payload && kotel_msgtab_find(payload, out, baggage)) ||
               (key && kotel_msgtab_find(key, out, baggage));
}

/* Sets @parent and, when the parent is a consumed message, *@baggage to a
 * malloc'd copy of that message's baggage (or NULL). */
static void choose_parent(const struct send_view *v, const void *payload,
                          const void *key, struct kotel_ctx *parent,
                          char **baggage)
{
        struct kotel_ctx hp;

        parent->valid = false;
        *baggage      = NULL;
        if (kotel_headers_parse(&v->found, &hp)) {
                /* Headers copied from a consumed message carry that
                 * message's creation context: parent to its process span
                 * instead, so the chain reads send -> process -> send. */
                if (!kotel_msgtab_find_creation(hp.span_id, parent, baggage))
                        kotel_ctx_copy(parent, &hp);
                return;
        }
        if (forward_parent(payload, key, parent, baggage))
                return;
        if (kotel_tls.has_current) {
                kotel_ctx_copy(parent, &kotel_tls.current_ctx);
                if (kotel_tls.current_baggage)
                        *baggage = strdup(kotel_tls.current_baggage);
        }
}

static rd_kafka_resp_err_t on_send(rd_kafka_t *rk, rd_kafka_message_t *rkm,
                                   void *ic_opaque)
{
        struct kotel_tls *t    = &kotel_tls;
        struct kotel_client *c = ic_opaque;
        const void *payload    = rkm->payload;
        const void *key        = rkm->key;
        struct kotel_ctx parent, ctx;
        struct kotel_span *s;
        struct send_view v;
        char *baggage = NULL;
        int saved     = errno;
        int bi        = -1;

        if (t->batch) {
                bi = batch_index(rkm);
                if (bi >= 0) {
                        payload = t->batch[bi].payload;
                        key     = t->batch[bi].key;
                }
        } else if (t->have_app_ptrs) {
                payload = t->app_payload;
                key     = t->app_key;
        }
        view_of(rkm, &v);
        choose_parent(&v, payload, key, &parent, &baggage);
        kotel_ctx_new_child(&ctx, &parent);
        undo_record(rkm, &v); /* before the values it saves change */
        if (kotel_headers_inject(rkm, &v.hdrs, &v.found, &ctx) < 0)
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN, "could not add the traceparent "
                                               "header to a produced message");
        if (baggage && kotel_headers_add_baggage(rkm, &v.hdrs, &v.found,
                                                 baggage) < 0)
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN, "could not add the baggage "
                                               "header to a produced message");
        free(baggage);
        if (!(ctx.flags & KOTEL_FLAG_SAMPLED))
                goto out;
        /* The span is filled here with all that is known at send time, so
         * that the acknowledgement only adds where the message went. */
        s = kotel_span_new();
        if (!s)
                goto out;
        memcpy(s->trace_id, ctx.trace_id, 16);
        memcpy(s->span_id, ctx.span_id, 8);
        if (parent.valid) {
                memcpy(s->parent_span_id, parent.span_id, 8);
                s->has_parent = true;
        }
        s->flags       = ctx.flags;
        s->kind        = KOTEL_KIND_PRODUCER;
        s->op          = KOTEL_OP_SEND;
        s->start_ns    = kotel_now_ns();
        s->code_ip     = kotel_callsite_capture();
        s->client      = kotel_client_ref(c);
        s->inflight.rk = rk;
        s->topic       = topic_of(rkm, &s->topic_owned);
        if (ctx.ts_len)
                s->tracestate = strndup(ctx.tracestate, ctx.ts_len);
        kotel_span_set_body(s, rkm);
        if (kotel_inflight_put(rkm, s) < 0) {
                kotel_span_free(s);
                goto out;
        }
        kotel_exporter_count_started();
        if (bi >= 0 && t->batch_rkm)
                t->batch_rkm[bi] = rkm;
out:
        errno = saved;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Ends send span @s, taken out of the in-flight table: where @m went
 * (partition and offset; @m may be NULL: the message is gone), @err, the
 * end time. Allocates nothing when @why is a literal (the exit path). */
static void finish_span(struct kotel_span *s, const rd_kafka_message_t *m,
                        rd_kafka_resp_err_t err, const char *why)
{
        s->end_ns           = kotel_now_ns();
        s->inflight.rk      = NULL;
        s->inflight.next    = NULL;
        if (m)
                kotel_span_set_position(s, m);
        if (err) {
                /* A failed message has no offset, whatever the field holds
                 * (the app's own array for produce_batch). */
                s->has_offset = false;
                kotel_span_set_error(s, err, why);
        }
}

/* Ends and submits send span @s; takes it. @m may be NULL. */
static void settle(struct kotel_span *s, const rd_kafka_message_t *m,
                   rd_kafka_resp_err_t err, const char *why)
{
        finish_span(s, m, err, why);
        kotel_exporter_submit(s);
}

static rd_kafka_resp_err_t on_ack(rd_kafka_t *rk, rd_kafka_message_t *rkm,
                                  void *ic_opaque)
{
        struct kotel_tls *t = &kotel_tls;
        struct kotel_span *p;
        int saved = errno;

        (void)ic_opaque;
        if (rkm->err && rkm == undo.rkm && t->in_hook)
                undo_apply(rkm);
        p = kotel_inflight_take(rkm);
        /* produce_batch's partitioner failure acks the app's array entry,
         * not the message on_send saw. */
        if (!p && t->batch && rkm >= t->batch && rkm < t->batch + t->batch_cnt &&
            t->batch_rkm) {
                int i = (int)(rkm - t->batch);
                if (t->batch_rkm[i]) {
                        p               = kotel_inflight_take(t->batch_rkm[i]);
                        t->batch_rkm[i] = NULL;
                }
        }
        kotel_metrics_sent(ic_opaque, rkm, p ? p->trace_id : NULL,
                           p ? p->span_id : NULL, p ? p->start_ns : 0);
        if (p && rkm->err)
                kotel_kafka_log_delivery_failed(rk, p->client, p->trace_id,
                                                p->span_id, p->flags, rkm);
        if (p)
                settle(p, rkm, rkm->err, NULL);
        errno = saved;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void kotel_produce_install(rd_kafka_t *rk, struct kotel_client *client)
{
        real_rd_kafka_interceptor_add_on_send(rk, "kotel", on_send, client);
        real_rd_kafka_interceptor_add_on_acknowledgement(rk, "kotel", on_ack,
                                                         client);
}

/* Settling what librdkafka will never ack (rd_kafka_destroy, exit) is
 * bounded by the shutdown deadline and by the exporter's room: past the
 * deadline, or once the queue is full (the spans would only be dropped),
 * the remaining records are counted as dropped without building their
 * spans. The clock is read once per UNACKED_CLOCK_EVERY records. Returns
 * the number dropped. */
#define UNACKED_CLOCK_EVERY 256

static uint64_t settle_taken(struct kotel_inflight_taken *t, const char *why,
                             uint64_t deadline_ns, bool at_exit)
{
        uint32_t n = 0;
        struct kotel_span *s;

        /* At exit this allocates and frees nothing (the exiting thread may
         * hold the allocator's lock): @why is a literal, and what is not
         * submitted stays in @t, kept by the caller. */
        (void)at_exit;
        while (t->n && kotel_exporter_has_room() &&
               (n++ % UNACKED_CLOCK_EVERY || kotel_mono_ns() < deadline_ns) &&
               (s = kotel_inflight_next(t)) != NULL)
                settle(s, NULL, RD_KAFKA_RESP_ERR__DESTROY, why);
        return t->n;
}

void kotel_produce_finish_unacked(const void *rk, const char *why)
{
        struct kotel_inflight_taken t = {0};
        uint64_t start                = kotel_mono_ns(),
                 deadline             = kotel_exporter_deadline_ns();
        uint64_t dropped;
        size_t n;

        kotel_inflight_take_client(rk, &t);
        if (!(n = t.n))
                return;
        dropped = settle_taken(&t, why, deadline, false);
        kotel_exporter_count_dropped(dropped);
        kotel_inflight_free_taken(&t);
        kotel_log(KOTEL_LOG_DEBUG,
                  "rd_kafka_destroy: %zu unacknowledged messages, %" PRIu64
                  " send spans ended, %" PRIu64 " counted dropped, in %" PRIu64
                  " us",
                  n, n - dropped, dropped, (kotel_mono_ns() - start) / 1000);
}

void kotel_produce_finish_at_exit(const char *why, uint64_t deadline_ns)
{
        struct kotel_inflight_taken t = {0};
        uint64_t start                = kotel_mono_ns();
        bool take        = kotel_exporter_has_room() && start < deadline_ns;
        size_t left      = kotel_inflight_close_at_exit(take, &t);
        size_t n         = t.n;
        uint64_t dropped = settle_taken(&t, why, deadline_ns, true);

        kotel_exporter_count_dropped(dropped + left);
        kotel_inflight_keep_taken(&t);
        if (n + left)
                kotel_log(KOTEL_LOG_DEBUG,
                          "exit: %zu unacknowledged messages, %" PRIu64
                          " send spans ended, %" PRIu64
                          " counted dropped, in %" PRIu64 " us",
                          n + left, n - dropped, dropped + left,
                          (kotel_mono_ns() - start) / 1000);
}

/* ---- wrappers ------------------------------------------------------- */

KOTEL_EXPORT int rd_kafka_produce(rd_kafka_topic_t *rkt, int32_t partition,
                                  int msgflags, void *payload, size_t len,
                                  const void *key, size_t keylen,
                                  void *msg_opaque)
{
        struct kotel_tls *t = &kotel_tls;
        int rc;

        if (!KOTEL_REAL(rd_kafka_produce))
                return -1;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_produce(rkt, partition, msgflags, payload,
                                             len, key, keylen, msg_opaque);
        KOTEL_CALLSITE_MARK(t);
        t->in_hook++;
        t->have_app_ptrs = true;
        t->app_payload   = payload;
        t->app_key       = key;
        rc = real_rd_kafka_produce(rkt, partition, msgflags, payload, len, key,
                                   keylen, msg_opaque);
        t->have_app_ptrs = false;
        undo.rkm         = NULL;
        t->in_hook--;
        return rc;
}

KOTEL_EXPORT rd_kafka_error_t *rd_kafka_produceva(rd_kafka_t *rk,
                                                 const rd_kafka_vu_t *vus,
                                                 size_t cnt)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_error_t *err;

        if (!KOTEL_REAL(rd_kafka_produceva))
                return NULL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_produceva(rk, vus, cnt);
        KOTEL_CALLSITE_MARK(t);
        t->in_hook++;
        t->have_app_ptrs = true;
        t->app_payload   = NULL;
        t->app_key       = NULL;
        for (size_t i = 0; i < cnt; i++) {
                if (vus[i].vtype == RD_KAFKA_VTYPE_VALUE)
                        t->app_payload = vus[i].u.mem.ptr;
                else if (vus[i].vtype == RD_KAFKA_VTYPE_KEY)
                        t->app_key = vus[i].u.mem.ptr;
        }
        err              = real_rd_kafka_produceva(rk, vus, cnt);
        t->have_app_ptrs = false;
        undo.rkm         = NULL;
        t->in_hook--;
        return err;
}

/* producev is variadic, and C cannot forward "...". The wrapper reads the
 * arguments once, as producev reads them (up to END, or up to a vtype
 * producev does not know, where it stops), to learn the app's value and
 * key pointers for on_send; then it calls the real producev with the same
 * arguments. So the return value, rd_kafka_last_error(), errno, header
 * ownership and the order in which errors are found (a fatal error or the
 * transactional state first, then the arguments, the topic, the size, the
 * queue, the partition) are producev's own, whatever the agent's state.
 *
 * The arguments are passed back as 8-byte words. On an LP64 ABI (x86-64
 * and aarch64 System V) every vtype argument (int, int32_t, int64_t,
 * size_t, ssize_t, pointers) occupies one 8-byte integer slot, in
 * registers or on the stack alike, and producev's va_arg reads the same
 * value back from it. Words past the last argument are zero,
 * RD_KAFKA_VTYPE_END, never read. */
_Static_assert(sizeof(void *) == 8 && sizeof(long) == 8 &&
                   sizeof(int64_t) == 8 && sizeof(size_t) == 8,
               "rd_kafka_producev forwarding assumes an LP64 ABI");

#define WORDS_MAX 1024 /* ~250 VTYPE_HEADERs (4 words each); see below */

struct args {
        uintptr_t *w, small[64];
        size_t n, cap;
        const void *payload, *key;
};

static bool args_room(struct args *a, size_t more)
{
        uintptr_t *w;

        if (a->n + more <= a->cap)
                return true;
        if (a->cap >= WORDS_MAX)
                return false;
        w = malloc(WORDS_MAX * sizeof(*w));
        if (!w)
                return false;
        memcpy(w, a->w, a->n * sizeof(*w));
        a->w   = w;
        a->cap = WORDS_MAX;
        return true;
}

/* Reads what producev will read; false if more than WORDS_MAX words. The
 * count, the array and the two pointers are kept in locals (registers)
 * while reading, not in @a, which is only written at the end. */
static bool args_read(struct args *a, va_list ap)
{
        const void *payload = NULL, *key = NULL;
        uintptr_t *w        = a->w;
        size_t n = a->n, cap = a->cap;
        rd_kafka_vtype_t vtype;
        bool ok = true;

        for (;;) {
                if (n + 4 > cap) {
                        a->n = n;
                        if (!args_room(a, 4)) {
                                ok = false;
                                break;
                        }
                        w   = a->w;
                        cap = a->cap;
                }
                vtype  = va_arg(ap, rd_kafka_vtype_t);
                w[n++] = (uintptr_t)vtype;
                switch (vtype) {
                case RD_KAFKA_VTYPE_TOPIC:
                case RD_KAFKA_VTYPE_RKT:
                case RD_KAFKA_VTYPE_OPAQUE:
                case RD_KAFKA_VTYPE_HEADERS:
                        w[n++] = (uintptr_t)va_arg(ap, void *);
                        continue;
                case RD_KAFKA_VTYPE_PARTITION:
                        w[n++] = (uintptr_t)(intptr_t)va_arg(ap, int32_t);
                        continue;
                case RD_KAFKA_VTYPE_MSGFLAGS:
                        w[n++] = (uintptr_t)(intptr_t)va_arg(ap, int);
                        continue;
                case RD_KAFKA_VTYPE_TIMESTAMP:
                        w[n++] = (uintptr_t)va_arg(ap, int64_t);
                        continue;
                case RD_KAFKA_VTYPE_VALUE:
                        payload = va_arg(ap, void *);
                        w[n++]  = (uintptr_t)payload;
                        w[n++]  = (uintptr_t)va_arg(ap, size_t);
                        continue;
                case RD_KAFKA_VTYPE_KEY:
                        key    = va_arg(ap, void *);
                        w[n++] = (uintptr_t)key;
                        w[n++] = (uintptr_t)va_arg(ap, size_t);
                        continue;
                case RD_KAFKA_VTYPE_HEADER:
                        w[n++] = (uintptr_t)va_arg(ap, const char *);
                        w[n++] = (uintptr_t)va_arg(ap, const void *);
                        w[n++] = (uintptr_t)va_arg(ap, ssize_t);
                        continue;
                default: /* END, or unknown: producev stops here too */
                        break;
                }
                break;
        }
        a->n       = n;
        a->payload = payload;
        a->key     = key;
        return ok;
}

#define W4(i) w[i], w[i + 1], w[i + 2], w[i + 3]
#define W16(i) W4(i), W4(i + 4), W4(i + 8), W4(i + 12)
#define W64(i) W16(i), W16(i + 16), W16(i + 32), W16(i + 48)
#define W256(i) W64(i), W64(i + 64), W64(i + 128), W64(i + 192)
#define W1024(i) W256(i), W256(i + 256), W256(i + 512), W256(i + 768)

static rd_kafka_resp_err_t call_producev(rd_kafka_t *rk, struct args *a)
{
        uintptr_t *w = a->w;
        size_t size  = a->n <= 16 ? 16 : a->n <= 64 ? 64 : WORDS_MAX;

        memset(w + a->n, 0, (size - a->n) * sizeof(*w));
        if (size == 16)
                return real_rd_kafka_producev(rk, W16(0));
        if (size == 64)
                return real_rd_kafka_producev(rk, W64(0));
        return real_rd_kafka_producev(rk, W1024(0));
}

/* Any app thread; borrows everything producev borrows. More than
 * WORDS_MAX words of arguments (over ~250 VTYPE_HEADERs, 4 words each)
 * cannot be forwarded: RD_KAFKA_RESP_ERR__INVALID_ARG, the message not
 * produced. */
KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_producev(rd_kafka_t *rk, ...)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_resp_err_t err;
        bool ok, traced;
        struct args a;
        va_list ap;
        int saved;

        if (!KOTEL_REAL(rd_kafka_producev))
                return RD_KAFKA_RESP_ERR__FAIL;
        /* Field by field: an initialiser would zero all 64 words of the
         * array first (~70 instructions a call); only the words read are
         * written, and call_producev zeroes the rest it passes. */
        a.w       = a.small;
        a.n       = 0;
        a.cap     = 64;
        a.payload = NULL;
        a.key     = NULL;
        va_start(ap, rk);
        ok = args_read(&a, ap);
        va_end(ap);
        if (!ok) {
                if (a.w != a.small)
                        free(a.w);
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "rd_kafka_producev with more than %d argument "
                               "words: not forwarded",
                               WORDS_MAX);
                return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        traced = kotel_agent_ready() && !t->in_hook;
        if (traced) {
                KOTEL_CALLSITE_MARK(t);
                t->in_hook++;
                t->have_app_ptrs = true;
                t->app_payload   = a.payload;
                t->app_key       = a.key;
        }
        err = call_producev(rk, &a);
        if (traced) {
                t->have_app_ptrs = false;
                undo.rkm         = NULL;
                t->in_hook--;
        }
        if (a.w != a.small) {
                saved = errno;
                free(a.w);
                errno = saved;
        }
        return err;
}

KOTEL_EXPORT int rd_kafka_produce_batch(rd_kafka_topic_t *rkt,
                                        int32_t partition, int msgflags,
                                        rd_kafka_message_t *rkmessages,
                                        int message_cnt)
{
        struct kotel_tls *t = &kotel_tls;
        int saved, good;

        if (!KOTEL_REAL(rd_kafka_produce_batch))
                return 0;
        if (!kotel_agent_ready() || message_cnt <= 0 || t->in_hook)
                return real_rd_kafka_produce_batch(rkt, partition, msgflags,
                                                   rkmessages, message_cnt);
        KOTEL_CALLSITE_MARK(t);
        t->in_hook++;
        t->batch        = rkmessages;
        t->batch_cnt    = message_cnt;
        t->batch_cursor = 0;
        t->batch_flags  = msgflags;
        t->batch_rkm    = calloc((size_t)message_cnt, sizeof(*t->batch_rkm));
        good = real_rd_kafka_produce_batch(rkt, partition, msgflags, rkmessages,
                                           message_cnt);
        saved = errno;
        /* Entries that failed after on_send and were never acked (an
         * unknown explicit partition): settle their spans here. */
        for (int i = 0; t->batch_rkm && i < message_cnt; i++) {
                struct kotel_span *p;

                if (!t->batch_rkm[i] || !rkmessages[i].err)
                        continue;
                p = kotel_inflight_take(t->batch_rkm[i]);
                if (p)
                        settle(p, &rkmessages[i], rkmessages[i].err, NULL);
        }
        free(t->batch_rkm);
        undo.rkm     = NULL;
        t->batch_rkm = NULL;
        t->batch     = NULL;
        t->batch_cnt = 0;
        t->in_hook--;
        errno = saved;
        return good;
}
