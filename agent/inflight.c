#include "inflight.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ptrmap.h"

#define TOPICS_MAX 4096
/* More records than this are freed by a thread of their own. */
#define REAP_INLINE_MAX 4096

/* sole_rk of a shard that holds (or held, since it was last empty)
 * records of more than one client. */
#define MIXED ((const void *)-1)

static struct shard {
        pthread_mutex_t lock;
        struct kotel_ptrmap map;
        const void *sole_rk; /* the one client with records here, or MIXED */
        bool closed;         /* at exit: no record goes in or out any more */
        char pad[64];
} shards[KOTEL_INFLIGHT_SHARDS] = {
#define S {PTHREAD_MUTEX_INITIALIZER, {0}, NULL, false, {0}}
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
#undef S
};

/* Records in the maps. Changed only under the shard lock of the record,
 * so that a shard closed at exit leaves exactly its records counted. */
static size_t count;

/* At exit, records taken out of the maps are not freed (the exiting
 * thread may hold the malloc lock free() would wait on): they are kept
 * here, reachable, until the process is gone. */
static struct kotel_span *kept_at_exit;
static struct kotel_inflight_taken kept_taken;

static struct shard *shard_of(const void *rkm)
{
        uintptr_t p = (uintptr_t)rkm;

        return &shards[((p >> 4) ^ (p >> 12)) % KOTEL_INFLIGHT_SHARDS];
}

int kotel_inflight_put(const void *rkm, struct kotel_span *p)
{
        struct shard *s = shard_of(rkm);
        struct kotel_span *old;
        int rc;

        pthread_mutex_lock(&s->lock);
        if (s->closed) {
                pthread_mutex_unlock(&s->lock);
                return -1;
        }
        /* A leftover under the same pointer is a message librdkafka freed
         * without an ack (produce_batch failures): the address was reused.
         * It is replaced in the same probe. */
        rc = kotel_ptrmap_swap(&s->map, (uint64_t)(uintptr_t)rkm, p,
                               (void **)&old);
        if (s->map.count - (rc == 0) == 0)
                s->sole_rk = p->inflight.rk;
        else if (s->sole_rk != p->inflight.rk)
                s->sole_rk = MIXED;
        if (old)
                __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED);
        if (rc == 0)
                __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->lock);
        kotel_span_free(old);
        return rc;
}

struct kotel_span *kotel_inflight_take(const void *rkm)
{
        struct shard *s = shard_of(rkm);
        struct kotel_span *p;

        if (!__atomic_load_n(&count, __ATOMIC_RELAXED))
                return NULL;
        pthread_mutex_lock(&s->lock);
        /* A closed shard's records were counted at exit: leave them. */
        p = s->closed ? NULL
                      : kotel_ptrmap_del(&s->map, (uint64_t)(uintptr_t)rkm);
        if (p)
                __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->lock);
        return p;
}

size_t kotel_inflight_count(void)
{
        return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

/* Shard @s, locked: unlinks every record of @rk into @t's list, in one
 * pass over the slots. Deleting slot j shifts later members of its run
 * into j, so j is looked at again; a member that wraps around to the end
 * of the table was looked at already and did not match. */
static void unlink_client(struct shard *s, const void *rk,
                          struct kotel_inflight_taken *t)
{
        struct kotel_ptrmap *m = &s->map;
        size_t n               = 0;

        for (size_t j = 0; m->slots && j <= m->mask;) {
                struct kotel_ptrmap_slot *sl = &m->slots[j];
                struct kotel_span *p         = sl->val;

                if (j + 8 <= m->mask)
                        __builtin_prefetch(m->slots[j + 8].val);
                if (!sl->key || p->inflight.rk != rk) {
                        j++;
                        continue;
                }
                kotel_ptrmap_del(m, sl->key);
                p->inflight.next = t->list;
                t->list          = p;
                n++;
        }
        t->n += n;
        __atomic_sub_fetch(&count, n, __ATOMIC_RELAXED);
}

/* Shard @s, locked: moves its whole map into @t, in O(1). */
static void detach(struct shard *s, struct kotel_inflight_taken *t)
{
        int i = (int)(s - shards);

        t->maps[i] = s->map;
        t->n += s->map.count;
        __atomic_sub_fetch(&count, s->map.count, __ATOMIC_RELAXED);
        memset(&s->map, 0, sizeof(s->map));
        s->sole_rk = NULL;
}

void kotel_inflight_take_client(const void *rk, struct kotel_inflight_taken *t)
{
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++) {
                struct shard *s = &shards[i];

                pthread_mutex_lock(&s->lock);
                if (s->map.count && (!rk || s->sole_rk == rk))
                        detach(s, t);
                else if (s->map.count && s->sole_rk == MIXED)
                        unlink_client(s, rk, t);
                pthread_mutex_unlock(&s->lock);
        }
}

struct kotel_span *kotel_inflight_next(struct kotel_inflight_taken *t)
{
        struct kotel_span *p = t->list;

        if (p) {
                t->list          = p->inflight.next;
                p->inflight.next = NULL;
                t->n--;
                return p;
        }
        for (; t->map_i < KOTEL_INFLIGHT_SHARDS; t->map_i++, t->slot_i = 0) {
                struct kotel_ptrmap *m = &t->maps[t->map_i];

                while (m->slots && t->slot_i <= m->mask) {
                        struct kotel_ptrmap_slot *sl = &m->slots[t->slot_i++];

                        if (t->slot_i + 8 <= m->mask)
                                __builtin_prefetch(m->slots[t->slot_i + 8].val);
                        if (sl->key) {
                                t->n--;
                                return sl->val;
                        }
                }
        }
        return NULL;
}

static void reap(struct kotel_inflight_taken *t)
{
        struct kotel_span *p;

        while ((p = kotel_inflight_next(t)) != NULL)
                kotel_span_free(p);
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++)
                kotel_ptrmap_free(&t->maps[i]);
}

static void *reaper(void *arg)
{
        pthread_setname_np(pthread_self(), "kotel-reaper");
        reap(arg);
        free(arg);
        return NULL;
}

void kotel_inflight_free_taken(struct kotel_inflight_taken *t)
{
        struct kotel_inflight_taken *copy = NULL;
        sigset_t all, old;
        pthread_t th;
        int rc = -1;

        /* Millions of records cost a second of cache misses to free:
         * not on the thread that called rd_kafka_destroy(). */
        if (t->n > REAP_INLINE_MAX)
                copy = malloc(sizeof(*copy));
        if (copy) {
                *copy = *t;
                sigfillset(&all);
                pthread_sigmask(SIG_SETMASK, &all, &old);
                rc = pthread_create(&th, NULL, reaper, copy);
                pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (rc == 0) {
                pthread_detach(th);
        } else {
                free(copy);
                reap(t);
        }
        memset(t, 0, sizeof(*t));
}

/* The exiting thread may hold a shard lock itself (exit() from a signal
 * handler that interrupted on_send): try a while, never wait. */
static bool trylock_at_exit(pthread_mutex_t *lock)
{
        for (int i = 0; i < 100; i++) {
                if (pthread_mutex_trylock(lock) == 0)
                        return true;
                sched_yield();
        }
        return false;
}

size_t kotel_inflight_close_at_exit(bool take, struct kotel_inflight_taken *t)
{
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++) {
                struct shard *s = &shards[i];

                if (!trylock_at_exit(&s->lock))
                        continue; /* frozen: its holder never returns */
                if (take && s->map.count)
                        detach(s, t);
                s->closed = true;
                pthread_mutex_unlock(&s->lock);
        }
        /* What is left sits in closed or frozen shards: no thread can take
         * it out any more. */
        return __atomic_exchange_n(&count, 0, __ATOMIC_RELAXED);
}

void kotel_inflight_keep_taken(struct kotel_inflight_taken *t)
{
        kept_taken = *t;
        /* kept_taken is never read: without this barrier the compiler may
         * drop the store, and LeakSanitizer then reports what it keeps. */
        __asm__ volatile("" : : "r"(&kept_taken) : "memory");
        memset(t, 0, sizeof(*t));
}

void kotel_inflight_keep_at_exit(struct kotel_span *p)
{
        struct kotel_span *head = __atomic_load_n(&kept_at_exit, __ATOMIC_RELAXED);

        do
                p->inflight.next = head;
        while (!__atomic_compare_exchange_n(
            &kept_at_exit, &head, p, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Topic names (kotel_topic_intern, below). */
static pthread_mutex_t topics_lock = PTHREAD_MUTEX_INITIALIZER;

void kotel_inflight_atfork_prepare(void)
{
        pthread_mutex_lock(&topics_lock);
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++)
                pthread_mutex_lock(&shards[i].lock);
}

void kotel_inflight_atfork_parent(void)
{
        for (int i = KOTEL_INFLIGHT_SHARDS - 1; i >= 0; i--)
                pthread_mutex_unlock(&shards[i].lock);
        pthread_mutex_unlock(&topics_lock);
}

void kotel_inflight_atfork_child(void)
{
        /* The parent's messages are not the child's to trace: the
         * librdkafka threads that would ack them do not exist here. */
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++) {
                struct shard *s = &shards[i];

                for (size_t j = 0; s->map.slots && j <= s->map.mask; j++)
                        if (s->map.slots[j].key)
                                kotel_span_free(s->map.slots[j].val);
                kotel_ptrmap_free(&s->map);
                pthread_mutex_init(&s->lock, NULL);
                s->closed  = false;
                s->sole_rk = NULL;
        }
        count = 0;
        pthread_mutex_init(&topics_lock, NULL); /* the names stay valid */
}

static struct kotel_ptrmap topics; /* hash(name) -> chain of names */

struct topic {
        struct topic *next;
        char name[];
};

/* The hash of @s's first @len bytes (never 0: the map's empty key). */
static uint64_t str_hash(const char *s, size_t len)
{
        uint64_t h = 1469598103934665603ull;

        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
        return h ? h : 1;
}

const char *kotel_topic_intern(const char *name)
{
        static size_t n_topics;
        /* A name is kept cut to KOTEL_TOPIC_MAX - 1 bytes, so it is looked
         * up cut too: a longer one finds its own entry again. */
        size_t len = strnlen(name, KOTEL_TOPIC_MAX - 1);
        uint64_t h = str_hash(name, len);
        struct topic *t, *head;

        pthread_mutex_lock(&topics_lock);
        head = kotel_ptrmap_get(&topics, h);
        for (t = head; t; t = t->next)
                if (!strncmp(t->name, name, len) && t->name[len] == '\0')
                        goto out;
        t   = n_topics < TOPICS_MAX ? malloc(sizeof(*t) + len + 1) : NULL;
        if (t) {
                memcpy(t->name, name, len);
                t->name[len] = '\0';
                t->next      = head;
                if (kotel_ptrmap_put(&topics, h, t) < 0) {
                        free(t);
                        t = NULL;
                } else {
                        n_topics++;
                }
        }
out:
        pthread_mutex_unlock(&topics_lock);
        return t ? t->name : NULL;
}

static uint64_t topic_copies;

const char *kotel_topic_hold(const char *name, bool *owned)
{
        const char *t;

        *owned = false;
        if (!name)
                return NULL;
        if ((t = kotel_topic_intern(name)))
                return t;
        /* Past the table's bound a span still keeps its topic: a copy of
         * its own, freed with it. */
        t = strndup(name, KOTEL_TOPIC_MAX - 1);
        if (t) {
                *owned = true;
                __atomic_fetch_add(&topic_copies, 1, __ATOMIC_RELAXED);
        }
        return t;
}

uint64_t kotel_topic_copies(void)
{
        return __atomic_load_n(&topic_copies, __ATOMIC_RELAXED);
}
