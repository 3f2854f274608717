#include "pool.h"

#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define KOTEL_POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KOTEL_POOL_OFF 1
#endif
#endif

size_t kotel_pool_slot_size(size_t size)
{
        return (size + 63) & ~(size_t)63;
}

/* Zero pages the kernel backs on first touch (calloc() may hand out heap
 * memory it clears, touching all of it). NULL on failure. */
static void *map_lazy(size_t len)
{
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

        return m == MAP_FAILED ? NULL : m;
}

int kotel_pool_init(struct kotel_pool *p, size_t size, uint32_t n)
{
        size_t slot = kotel_pool_slot_size(size);
        char *base;
        uint32_t *next;

#ifdef KOTEL_POOL_OFF
        return -1;
#endif
        /* One caller claims the set-up; the others (and a fork child,
         * which inherits the pool) leave it as it is. */
        if (__atomic_load_n(&p->claimed, __ATOMIC_RELAXED) ||
            __atomic_exchange_n(&p->claimed, 1, __ATOMIC_ACQ_REL))
                return 0;
        if (!n || n > UINT32_MAX - 1)
                return -1;
        base = map_lazy((size_t)n * slot);
        next = map_lazy((size_t)n * sizeof(*next));
        if (!base || !next) {
                if (base)
                        munmap(base, (size_t)n * slot);
                if (next)
                        munmap(next, (size_t)n * sizeof(*next));
                return -1;
        }
        p->slot_size = slot;
        p->n         = n;
        p->next      = next;
        p->fresh     = 0;
        p->head      = 0; /* the stack starts empty */
        /* base last: a thread that sees it sees the rest. */
        __atomic_store_n(&p->base, base, __ATOMIC_RELEASE);
        return 0;
}

/* A slot never handed out before, or NULL when none is left. */
static void *take_fresh(struct kotel_pool *p, char *base)
{
        uint32_t i = __atomic_load_n(&p->fresh, __ATOMIC_RELAXED);

        /* The load keeps @fresh from creeping past n once the pool is used
         * up; racing threads overshoot it by at most one each. */
        if (i >= p->n)
                return NULL;
        i = __atomic_fetch_add(&p->fresh, 1, __ATOMIC_RELAXED);
        return i < p->n ? base + (size_t)i * p->slot_size : NULL;
}

static void *pool_get(struct kotel_pool *p, size_t zero)
{
        char *base = __atomic_load_n(&p->base, __ATOMIC_ACQUIRE);
        uint64_t old, new;
        uint32_t top;
        void *slot;

        if (!base)
                return NULL;
        old = __atomic_load_n(&p->head, __ATOMIC_ACQUIRE);
        do {
                top = (uint32_t)old;
                if (!top)
                        return take_fresh(p, base); /* fresh: still zero */
                /* Another thread may take and give back this slot
                 * meanwhile; the generation makes the exchange fail then. */
                new = ((old >> 32) + 1) << 32 |
                      __atomic_load_n(&p->next[top - 1], __ATOMIC_RELAXED);
        } while (!__atomic_compare_exchange_n(&p->head, &old, new, true,
                                              __ATOMIC_ACQUIRE,
                                              __ATOMIC_ACQUIRE));
        slot = base + (size_t)(top - 1) * p->slot_size;
        memset(slot, 0, zero < p->slot_size ? zero : p->slot_size);
        return slot;
}

void *kotel_pool_get(struct kotel_pool *p)
{
        return pool_get(p, p->slot_size);
}

void *kotel_pool_get_head(struct kotel_pool *p, size_t zero)
{
        return pool_get(p, zero);
}

bool kotel_pool_put(struct kotel_pool *p, void *ptr)
{
        char *base = __atomic_load_n(&p->base, __ATOMIC_ACQUIRE);
        char *c    = ptr;
        uint64_t old, new;
        uint32_t i;

        if (!base || c < base || c >= base + (size_t)p->n * p->slot_size)
                return false;
        i   = (uint32_t)((size_t)(c - base) / p->slot_size);
        old = __atomic_load_n(&p->head, __ATOMIC_RELAXED);
        do {
                __atomic_store_n(&p->next[i], (uint32_t)old, __ATOMIC_RELAXED);
                new = ((old >> 32) + 1) << 32 | (i + 1);
        } while (!__atomic_compare_exchange_n(&p->head, &old, new, true,
                                              __ATOMIC_RELEASE,
                                              __ATOMIC_RELAXED));
        return true;
}
