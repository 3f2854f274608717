#include "inflight.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/pool.h"
#include "ptrmap.h"

#define KOTEL_INFLIGHT_SHARDS 16
#define TOPICS_MAX 4096

static struct shard {
        pthread_mutex_t lock;
        struct kotel_ptrmap map;
        char pad[64];
} shards[KOTEL_INFLIGHT_SHARDS] = {
#define S {PTHREAD_MUTEX_INITIALIZER, {0}, {0}}
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
#undef S
};

static size_t count;

static struct shard *shard_of(const void *rkm)
{
        uintptr_t p = (uintptr_t)rkm;

        return &shards[((p >> 4) ^ (p >> 12)) % KOTEL_INFLIGHT_SHARDS];
}

/* Pending records come from a pool (KOTEL_PENDING_POOL slots), then from
 * malloc: a producer may have many messages in flight. */
#define KOTEL_PENDING_POOL 16384
static struct kotel_pool pending_pool;

struct kotel_pending *kotel_pending_new(void)
{
        struct kotel_pending *p;

        kotel_pool_init(&pending_pool, sizeof(*p), KOTEL_PENDING_POOL);
        p = kotel_pool_get(&pending_pool);
        return p ? p : calloc(1, sizeof(*p));
}

void kotel_pending_free(struct kotel_pending *p)
{
        if (!p)
                return;
        kotel_client_unref(p->client);
        free(p->tracestate);
        if (!kotel_pool_put(&pending_pool, p))
                free(p);
}

int kotel_inflight_put(const void *rkm, struct kotel_pending *p)
{
        struct shard *s = shard_of(rkm);
        struct kotel_pending *old;
        int rc;

        pthread_mutex_lock(&s->lock);
        /* A leftover under the same pointer is a message librdkafka freed
         * without an ack (produce_batch failures): the address was reused. */
        old = kotel_ptrmap_del(&s->map, (uint64_t)(uintptr_t)rkm);
        rc  = kotel_ptrmap_put(&s->map, (uint64_t)(uintptr_t)rkm, p);
        pthread_mutex_unlock(&s->lock);
        if (old) {
                __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED);
                kotel_pending_free(old);
        }
        if (rc == 0)
                __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
        return rc;
}

struct kotel_pending *kotel_inflight_take(const void *rkm)
{
        struct shard *s = shard_of(rkm);
        struct kotel_pending *p;

        if (!__atomic_load_n(&count, __ATOMIC_RELAXED))
                return NULL;
        pthread_mutex_lock(&s->lock);
        p = kotel_ptrmap_del(&s->map, (uint64_t)(uintptr_t)rkm);
        pthread_mutex_unlock(&s->lock);
        if (p)
                __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED);
        return p;
}

size_t kotel_inflight_count(void)
{
        return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

void kotel_inflight_take_client(const void *rk,
                                void (*fn)(struct kotel_pending *))
{
        for (int i = 0; i < KOTEL_INFLIGHT_SHARDS; i++) {
                struct shard *s = &shards[i];
                struct kotel_pending *batch[64];
                size_t n;

                do {
                        n = 0;
                        pthread_mutex_lock(&s->lock);
                        for (size_t j = 0; s->map.slots && j <= s->map.mask &&
                                           n < 64;) {
                                struct kotel_ptrmap_slot *sl = &s->map.slots[j];
                                struct kotel_pending *p      = sl->val;

                                if (sl->key && (!rk || p->rk == rk)) {
                                        /* Deletion shifts later entries into
                                         * slot j: look at it again. */
                                        kotel_ptrmap_del(&s->map, sl->key);
                                        batch[n++] = p;
                                        continue;
                                }
                                j++;
                        }
                        pthread_mutex_unlock(&s->lock);
                        __atomic_sub_fetch(&count, n, __ATOMIC_RELAXED);
                        for (size_t j = 0; j < n; j++)
                                fn(batch[j]);
                } while (n == 64);
        }
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
                                kotel_pending_free(s->map.slots[j].val);
                kotel_ptrmap_free(&s->map);
                pthread_mutex_init(&s->lock, NULL);
        }
        count = 0;
        pthread_mutex_init(&topics_lock, NULL); /* the names stay valid */
}

static struct kotel_ptrmap topics; /* hash(name) -> chain of names */

struct topic {
        struct topic *next;
        char name[];
};

static uint64_t str_hash(const char *s)
{
        uint64_t h = 1469598103934665603ull;

        while (*s)
                h = (h ^ (unsigned char)*s++) * 1099511628211ull;
        return h ? h : 1;
}

const char *kotel_topic_intern(const char *name)
{
        static size_t n_topics;
        uint64_t h = str_hash(name);
        struct topic *t, *head;
        size_t len;

        pthread_mutex_lock(&topics_lock);
        head = kotel_ptrmap_get(&topics, h);
        for (t = head; t; t = t->next)
                if (!strcmp(t->name, name))
                        goto out;
        len = strnlen(name, KOTEL_TOPIC_MAX - 1);
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
