/* A fixed pool of equal-sized slots shared by every thread, so that the
 * hot path takes a span (or a pending record) without malloc.
 *
 * A lock-free LIFO of slot indexes (a Treiber stack whose head carries a
 * generation tag against ABA), over slots handed out in address order the
 * first time: kotel_pool_get() pops the stack, and only when it is empty
 * takes the next never-used slot (@fresh, an atomic counter). It returns a
 * zeroed slot, or NULL when every slot is in use or the pool is not set
 * up: callers then fall back to calloc(), and kotel_pool_put() tells which
 * is which by address. Slots are never returned to the system.
 *
 * Memory: the slots and the stack's links are anonymous mappings that set-up
 * does not write, so the kernel backs only the pages of slots that have been
 * in use at once (LIFO reuse keeps those few and warm): a pool of n slots
 * costs address space for n, memory for its peak use.
 *
 * Under AddressSanitizer the pool stays empty, so that every use after
 * free is still caught. */
#ifndef KOTEL_POOL_H
#define KOTEL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kotel_pool {
        char *base;
        size_t slot_size;
        uint32_t n;
        uint32_t fresh; /* slots [fresh, n) never handed out */
        uint32_t *next; /* next[i]: the slot below i on the stack, + 1 */
        uint64_t head;  /* generation << 32 | (top slot + 1) */
        int claimed;    /* set by the first kotel_pool_init() */
};

/* The bytes a slot for an object of @size takes: @size rounded up to a
 * cache line, so that no two threads' slots share one. */
size_t kotel_pool_slot_size(size_t size);
/* Sets up @p with @n slots of @size bytes; any thread, any number of
 * times: the first call does it (a later one returns 0 at once, after one
 * relaxed load, so callers may call it before each use). Returns 0, or -1
 * (the pool then stays empty). */
int kotel_pool_init(struct kotel_pool *p, size_t size, uint32_t n);
/* Any thread; lock-free. A zeroed slot, or NULL. */
void *kotel_pool_get(struct kotel_pool *p);
/* The same with only its first @zero bytes zeroed (a fresh slot is all
 * zero): for objects whose tail the caller initialises as it fills it. */
void *kotel_pool_get_head(struct kotel_pool *p, size_t zero);
/* Any thread; lock-free. false when @ptr is not one of @p's slots (the
 * caller frees it). */
bool kotel_pool_put(struct kotel_pool *p, void *ptr);

#endif
