#include "msgtab.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ptrmap.h"

/* A message's baggage, shared with the finders that copy it: they take a
 * reference under the lock and copy it after. */
struct bag {
        uint32_t refs;
        char s[];
};

static struct bag *bag_new(const char *s)
{
        size_t n      = strlen(s) + 1;
        struct bag *b = malloc(sizeof(*b) + n);

        if (b) {
                b->refs = 1;
                memcpy(b->s, s, n);
        }
        return b;
}

static void bag_unref(struct bag *b)
{
        if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
                free(b);
}

struct live {
        const void *rkm;
        const void *payload;
        const void *key;
        const void *rk;
        const void *owner;
        uint64_t csid; /* creation span id, 0: none */
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t flags;
        bool in_use;
        bool destroyed;
        bool released;
        bool ptrs_dead; /* atomic: kotel_msgtab_ptrs_dead() */
        uint32_t gen;   /* written under the lock, atomically */
        uint32_t next_free;
        char *tracestate;
        struct bag *baggage;
        struct kotel_span *span;
        uint64_t start_ns;
        struct kotel_mseries_ref process;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct live *entries;
static uint32_t capacity;
static uint32_t used_hwm;  /* entries[0..used_hwm) have been handed out */
static uint32_t free_head; /* index + 1; 0: none */
static size_t live_count;
static struct kotel_ptrmap by_ptr;  /* rkm, payload, key -> index + 1 */
static struct kotel_ptrmap by_csid; /* creation span id -> index + 1 */

/* Lock acquisitions, for tests and benchmarks (counted under the lock). */
static uint64_t n_locks;

static void take_lock(void)
{
        pthread_mutex_lock(&lock);
        n_locks++;
}

uint64_t kotel_msgtab_locks(void)
{
        return __atomic_load_n(&n_locks, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* At exit nothing is freed (the exiting thread may hold the allocator's
 * lock): retired entries keep their strings and their span, reachable,
 * and a span the queue has no room for is counted, not freed. */
static bool exiting;

static void finish_at(struct kotel_span *s, uint64_t end_ns)
{
        if (!s)
                return;
        s->end_ns = end_ns ? end_ns : now_ns();
        if (__atomic_load_n(&exiting, __ATOMIC_RELAXED) &&
            !kotel_exporter_has_room()) {
                kotel_exporter_count_dropped(1);
                return;
        }
        kotel_exporter_submit(s);
}

static void finish(struct kotel_span *s)
{
        finish_at(s, 0);
}

static uint64_t csid_of(const uint8_t id[8])
{
        uint64_t v;

        memcpy(&v, id, 8);
        return v ? v : 1;
}

static void index_put(struct kotel_ptrmap *m, const void *k, uint32_t idx)
{
        if (k)
                kotel_ptrmap_put(m, (uint64_t)(uintptr_t)k,
                                 (void *)(uintptr_t)(idx + 1));
}

/* Removes @k only if it still names entry @idx (keys can collide). */
static void index_del(struct kotel_ptrmap *m, uint64_t k, uint32_t idx)
{
        if (k)
                kotel_ptrmap_del_if(m, k, (void *)(uintptr_t)(idx + 1));
}

/* The message's buffers die with it; its creation span id does not: a
 * traceparent copied from it (Python copies headers, then destroys the
 * message inside poll) must still find the open process span. */
static void unindex_ptrs(struct live *e, uint32_t idx)
{
        index_del(&by_ptr, (uint64_t)(uintptr_t)e->rkm, idx);
        index_del(&by_ptr, (uint64_t)(uintptr_t)e->payload, idx);
        index_del(&by_ptr, (uint64_t)(uintptr_t)e->key, idx);
        e->rkm = e->payload = e->key = NULL;
}

static void unindex(struct live *e, uint32_t idx)
{
        unindex_ptrs(e, idx);
        index_del(&by_csid, e->csid, idx);
        e->csid = 0;
}

/* Frees entry @idx, which ended at @end_ns (0: now), recording its
 * processing's duration; returns its span for the caller to finish
 * unlocked. */
static struct kotel_span *retire(uint32_t idx, uint64_t end_ns)
{
        struct live *e          = &entries[idx];
        struct kotel_span *span = e->span;

        if (e->process.s) {
                /* Lock-free, plain stores into this thread's cell:
                 * cheap enough under the lock. */
                bool sampled = e->flags & KOTEL_FLAG_SAMPLED;
                uint64_t end = end_ns ? end_ns : now_ns();

                kotel_metrics_record_ref(
                    KOTEL_M_PROCESS_DURATION, e->process,
                    end > e->start_ns ? end - e->start_ns : 0,
                    sampled ? e->trace_id : NULL, sampled ? e->span_id : NULL,
                    end);
                e->process.s = NULL;
        }
        unindex(e, idx);
        if (!__atomic_load_n(&exiting, __ATOMIC_RELAXED)) {
                free(e->tracestate);
                bag_unref(e->baggage);
                e->tracestate = NULL;
                e->baggage    = NULL;
                e->span       = NULL;
        }
        e->in_use = false;
        e->owner  = NULL;
        __atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELAXED);
        e->next_free = free_head;
        free_head    = idx + 1;
        __atomic_sub_fetch(&live_count, 1, __ATOMIC_RELAXED);
        return span;
}

static bool ensure_table(void)
{
        if (entries)
                return true;
        capacity = (uint32_t)(kotel_cfg.live_max ? kotel_cfg.live_max : 65536);
        entries  = calloc(capacity, sizeof(*entries));
        return entries != NULL;
}

static struct kotel_span *settle(const struct kotel_live_end *end);

struct kotel_live_ref kotel_msgtab_add(const struct kotel_live_msg *m,
                                       const struct kotel_live_end *end)
{
        struct kotel_live_ref ref = {0, 0};
        struct kotel_span *ended  = NULL;
        struct bag *old_bg        = NULL, *bg;
        char *old_ts              = NULL, *ts;
        struct live *e;
        uint32_t idx;

        /* Copies made before the lock: no allocation is done under it. */
        ts =
            m->ctx->ts_len ? strndup(m->ctx->tracestate, m->ctx->ts_len) : NULL;
        bg = m->baggage ? bag_new(m->baggage) : NULL;
        take_lock();
        ended = settle(end);
        if (!ensure_table())
                goto full;
        if (free_head) {
                idx       = free_head - 1;
                free_head = entries[idx].next_free;
                old_ts    = entries[idx].tracestate; /* kept at exit */
                old_bg    = entries[idx].baggage;
        } else if (used_hwm < capacity) {
                idx = used_hwm++;
        } else {
                goto full;
        }
        e          = &entries[idx];
        e->rkm     = m->rkm;
        e->payload = m->payload;
        e->key     = m->key;
        e->rk      = m->rk;
        e->owner   = m->owner;
        e->csid    = m->creation && m->creation->valid
                         ? csid_of(m->creation->span_id)
                         : 0;
        memcpy(e->trace_id, m->ctx->trace_id, 16);
        memcpy(e->span_id, m->ctx->span_id, 8);
        e->flags      = m->ctx->flags;
        e->tracestate = ts;
        e->baggage    = bg;
        e->span       = m->span;
        e->start_ns   = m->start_ns;
        e->process    = m->process;
        e->in_use     = true;
        e->destroyed  = false;
        __atomic_store_n(&e->ptrs_dead, false, __ATOMIC_RELAXED);
        e->released   = m->released;
        index_put(&by_ptr, e->rkm, idx);
        index_put(&by_ptr, e->payload, idx);
        index_put(&by_ptr, e->key, idx);
        if (e->csid)
                kotel_ptrmap_put(&by_csid, e->csid,
                                 (void *)(uintptr_t)(idx + 1));
        __atomic_add_fetch(&live_count, 1, __ATOMIC_RELAXED);
        ref.idx = idx + 1;
        ref.gen = e->gen;
        pthread_mutex_unlock(&lock);
        free(old_ts);
        bag_unref(old_bg);
        finish_at(ended, end ? end->end_ns : 0);
        return ref;
full:
        pthread_mutex_unlock(&lock);
        free(ts);
        bag_unref(bg);
        finish_at(ended, end ? end->end_ns : 0);
        KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                       "more than KOTEL_MAX_LIVE_MESSAGES consumed messages "
                       "are live; further ones end their process span at "
                       "once and cannot be found when forwarded");
        if (m->process.s) {
                /* Its processing ends now too, as its span does. */
                bool sampled = m->ctx->flags & KOTEL_FLAG_SAMPLED;
                uint64_t now = now_ns();

                kotel_metrics_record_ref(
                    KOTEL_M_PROCESS_DURATION, m->process,
                    now > m->start_ns ? now - m->start_ns : 0,
                    sampled ? m->ctx->trace_id : NULL,
                    sampled ? m->ctx->span_id : NULL, now);
        }
        finish(m->span);
        return ref;
}

static void fill_ctx(const struct live *e, struct kotel_ctx *out)
{
        size_t n = e->tracestate ? strlen(e->tracestate) : 0;

        memcpy(out->trace_id, e->trace_id, 16);
        memcpy(out->span_id, e->span_id, 8);
        out->flags = e->flags;
        out->valid = true;
        if (n > KOTEL_TRACESTATE_MAX)
                n = 0;
        out->ts_len = (uint16_t)n;
        if (n)
                memcpy(out->tracestate, e->tracestate, n);
        out->tracestate[n] = '\0';
}

static bool find_in(struct kotel_ptrmap *m, uint64_t k, struct kotel_ctx *out,
                    char **baggage)
{
        struct bag *bg = NULL;
        uintptr_t v;

        if (baggage)
                *baggage = NULL;
        if (!k || !__atomic_load_n(&live_count, __ATOMIC_RELAXED))
                return false;
        take_lock();
        v = (uintptr_t)kotel_ptrmap_get(m, k);
        /* A destroyed current message's pointers, not yet unindexed: the
         * address now belongs to someone else. */
        if (v && m == &by_ptr &&
            __atomic_load_n(&entries[v - 1].ptrs_dead, __ATOMIC_ACQUIRE))
                v = 0;
        if (v) {
                fill_ctx(&entries[v - 1], out);
                if (baggage && (bg = entries[v - 1].baggage))
                        __atomic_add_fetch(&bg->refs, 1, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&lock);
        if (bg) {
                *baggage = strdup(bg->s);
                bag_unref(bg);
        }
        return v != 0;
}

bool kotel_msgtab_find(const void *ptr, struct kotel_ctx *out, char **baggage)
{
        return find_in(&by_ptr, (uint64_t)(uintptr_t)ptr, out, baggage);
}

bool kotel_msgtab_find_creation(const uint8_t span_id[8], struct kotel_ctx *out,
                                char **baggage)
{
        return find_in(&by_csid, csid_of(span_id), out, baggage);
}

/* Under the lock: whether @e's message is one a commit of @offs[i] in
 * @parts[i] of @topic settles. Its span (owned by the entry until it
 * retires) holds the message's topic, partition and offset. */
static bool settled_by(const struct live *e, const char *topic,
                       const int32_t *parts, const int64_t *offs, size_t n)
{
        const struct kotel_span *s = e->span;

        if (!s || !s->topic || !s->has_partition || !s->has_offset ||
            strcmp(s->topic, topic))
                return false;
        for (size_t i = 0; i < n; i++)
                if (parts[i] == s->partition && s->offset < offs[i])
                        return true;
        return false;
}

size_t kotel_msgtab_settled(const void *rk, const char *topic,
                            const int32_t *parts, const int64_t *offs,
                            size_t n, struct kotel_link *out, size_t max)
{
        size_t found = 0;

        if (!topic || !n || !max ||
            !__atomic_load_n(&live_count, __ATOMIC_RELAXED))
                return 0;
        take_lock();
        for (uint32_t i = 0; entries && i < used_hwm && found < max; i++) {
                const struct live *e = &entries[i];

                if (!e->in_use || e->rk != rk ||
                    !settled_by(e, topic, parts, offs, n))
                        continue;
                memcpy(out[found].trace_id, e->trace_id, 16);
                memcpy(out[found].span_id, e->span_id, 8);
                out[found].flags = e->flags;
                found++;
        }
        pthread_mutex_unlock(&lock);
        return found;
}

/* Under the lock: entry @idx was destroyed (its pointers die now) or
 * released by its thread; the second of the two retires it, and the span
 * is returned for the caller to finish unlocked. */
static struct kotel_span *mark_destroyed(uint32_t idx, uint64_t end_ns)
{
        struct live *e = &entries[idx];

        e->destroyed = true;
        if (e->released)
                return retire(idx, end_ns);
        unindex_ptrs(e, idx);
        return NULL;
}

static struct kotel_span *mark_released(uint32_t idx, uint64_t end_ns)
{
        struct live *e = &entries[idx];

        e->released = true;
        return e->destroyed ? retire(idx, end_ns) : NULL;
}

/* The entry @ref names, if it is still that one. */
static bool ref_live(struct kotel_live_ref ref)
{
        return ref.idx && entries[ref.idx - 1].in_use &&
               entries[ref.idx - 1].gen == ref.gen;
}

void kotel_msgtab_destroyed(const void *rkm)
{
        struct kotel_span *done = NULL;
        uintptr_t v;

        if (!rkm || !__atomic_load_n(&live_count, __ATOMIC_RELAXED))
                return;
        take_lock();
        v = (uintptr_t)kotel_ptrmap_get(&by_ptr, (uint64_t)(uintptr_t)rkm);
        if (v && entries[v - 1].rkm == rkm)
                done = mark_destroyed((uint32_t)v - 1, 0);
        pthread_mutex_unlock(&lock);
        finish(done);
}

void kotel_msgtab_ptrs_dead(struct kotel_live_ref ref)
{
        struct live *e;

        if (!ref.idx || !entries)
                return;
        e = &entries[ref.idx - 1];
        if (__atomic_load_n(&e->gen, __ATOMIC_RELAXED) == ref.gen)
                __atomic_store_n(&e->ptrs_dead, true, __ATOMIC_RELEASE);
}

void kotel_msgtab_destroyed_ref(struct kotel_live_ref ref)
{
        struct kotel_span *done = NULL;

        if (!ref.idx)
                return;
        take_lock();
        if (ref_live(ref))
                done = mark_destroyed(ref.idx - 1, 0);
        pthread_mutex_unlock(&lock);
        finish(done);
}

void kotel_msgtab_release(struct kotel_live_ref ref)
{
        struct kotel_span *done = NULL;

        if (!ref.idx)
                return;
        take_lock();
        if (ref_live(ref))
                done = mark_released(ref.idx - 1, 0);
        pthread_mutex_unlock(&lock);
        finish(done);
}

/* Under the lock: the thread moved on from @end's entry (and the app is
 * done with it when @end says so). Returns the span to finish unlocked. */
static struct kotel_span *settle(const struct kotel_live_end *end)
{
        struct kotel_span *s = NULL;
        uint32_t idx;

        if (!end || !ref_live(end->ref))
                return NULL;
        idx = end->ref.idx - 1;
        if (end->destroyed)
                s = mark_destroyed(idx, end->end_ns);
        if (!s && entries[idx].in_use)
                s = mark_released(idx, end->end_ns);
        return s;
}

void kotel_msgtab_end(const struct kotel_live_end *end)
{
        struct kotel_span *done;

        if (!end->ref.idx)
                return;
        take_lock();
        done = settle(end);
        pthread_mutex_unlock(&lock);
        finish_at(done, end->end_ns);
}

void kotel_msgtab_release_many(const struct kotel_live_ref *refs, size_t n)
{
        struct kotel_span *done[64];
        size_t i = 0;

        while (i < n) {
                size_t m = 0;

                take_lock();
                for (; i < n && m < 64; i++) {
                        struct kotel_span *s;

                        if (!ref_live(refs[i]))
                                continue;
                        s = mark_released(refs[i].idx - 1, 0);
                        if (s)
                                done[m++] = s;
                }
                pthread_mutex_unlock(&lock);
                for (size_t j = 0; j < m; j++)
                        finish(done[j]);
        }
}

/* Retires entries matching @match under the lock, finishing spans in
 * batches outside it. One pass: each batch resumes where the last one
 * stopped (entries freed meanwhile are not in use; entries added meanwhile
 * are new messages, not this sweep's). @locked: the caller holds the lock
 * for the first batch. */
static void sweep_from(bool (*match)(const struct live *, const void *),
                       const void *arg, bool locked)
{
        struct kotel_span *done[64];
        uint32_t i = 0;
        size_t n;

        do {
                n = 0;
                if (!locked)
                        take_lock();
                locked = false;
                for (; i < used_hwm && n < 64; i++)
                        if (entries[i].in_use && match(&entries[i], arg))
                                done[n++] = retire(i, 0);
                pthread_mutex_unlock(&lock);
                for (size_t j = 0; j < n; j++)
                        finish(done[j]);
        } while (n == 64);
}

static void sweep(bool (*match)(const struct live *, const void *),
                  const void *arg)
{
        if (__atomic_load_n(&live_count, __ATOMIC_RELAXED))
                sweep_from(match, arg, false);
}

static bool match_owner(const struct live *e, const void *owner)
{
        return e->owner == owner;
}

static bool match_client(const struct live *e, const void *rk)
{
        return !rk || e->rk == rk;
}

void kotel_msgtab_destroy_owner(const void *owner)
{
        if (owner)
                sweep(match_owner, owner);
}

void kotel_msgtab_end_client(const void *rk)
{
        sweep(match_client, rk);
}

size_t kotel_msgtab_end_at_exit(void)
{
        bool got = false;

        for (int i = 0; i < 100 && !got; i++)
                if (!(got = pthread_mutex_trylock(&lock) == 0))
                        sched_yield();
        if (!got) /* frozen: no thread can end these any more */
                return __atomic_load_n(&live_count, __ATOMIC_RELAXED);
        /* Got it: the exiting thread does not hold it, and any other
         * holder lets go, so the later batches may wait for it. */
        __atomic_store_n(&exiting, true, __ATOMIC_RELAXED);
        sweep_from(match_client, NULL, true);
        return 0;
}

size_t kotel_msgtab_count(void)
{
        return __atomic_load_n(&live_count, __ATOMIC_RELAXED);
}

void kotel_msgtab_atfork_prepare(void)
{
        take_lock();
}

void kotel_msgtab_atfork_parent(void)
{
        pthread_mutex_unlock(&lock);
}

void kotel_msgtab_atfork_child(void)
{
        /* The child keeps no consumer state of the parent's. */
        for (uint32_t i = 0; entries && i < used_hwm; i++)
                if (entries[i].in_use) {
                        kotel_span_free(entries[i].span);
                        free(entries[i].tracestate);
                        bag_unref(entries[i].baggage);
                }
        free(entries);
        entries    = NULL;
        used_hwm   = 0;
        free_head  = 0;
        live_count = 0;
        kotel_ptrmap_free(&by_ptr);
        kotel_ptrmap_free(&by_csid);
        pthread_mutex_init(&lock, NULL);
}
