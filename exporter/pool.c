#include "pool.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define KOTEL_POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KOTEL_POOL_OFF 1
#endif
#endif

int kotel_pool_init(struct kotel_pool *p, size_t size, uint32_t n)
{
        size_t slot = (size + 63) & ~(size_t)63; /* no false sharing */
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
        base = calloc(n, slot);
        next = calloc(n, sizeof(*next));
        if (!base || !next) {
                free(base);
                free(next);
                return -1;
        }
        for (uint32_t i = 0; i < n; i++)
                next[i] = i; /* slot i sits on slot i - 1 (0: bottom) */
        p->slot_size = slot;
        p->n         = n;
        p->next      = next;
        /* base, then head: a thread that sees either sees the rest. */
        __atomic_store_n(&p->base, base, __ATOMIC_RELEASE);
        __atomic_store_n(&p->head, (uint64_t)n, __ATOMIC_RELEASE);
        return 0;
}

void *kotel_pool_get(struct kotel_pool *p)
{
        uint64_t old = __atomic_load_n(&p->head, __ATOMIC_ACQUIRE), new;
        uint32_t top;
        void *slot;

        do {
                top = (uint32_t)old;
                if (!top)
                        return NULL;
                /* Another thread may take and give back this slot
                 * meanwhile; the generation makes the exchange fail then. */
                new = ((old >> 32) + 1) << 32 |
                      __atomic_load_n(&p->next[top - 1], __ATOMIC_RELAXED);
        } while (!__atomic_compare_exchange_n(&p->head, &old, new, true,
                                              __ATOMIC_ACQUIRE,
                                              __ATOMIC_ACQUIRE));
        slot = p->base + (size_t)(top - 1) * p->slot_size;
        memset(slot, 0, p->slot_size);
        return slot;
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
