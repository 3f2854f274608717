/* exporter/pool.c: every slot handed out once, zeroed, foreign pointers
 * refused, no slot owned by two threads at once under contention, and a
 * large pool that costs only the slots used. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/pool.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
/* The pool is off under ASan (pool.h): every slot would hide a use after
 * free. Nothing to test here. */
int main(void)
{
        struct kotel_pool p;

        memset(&p, 0, sizeof(p));
        CHECK(kotel_pool_init(&p, 64, 8) < 0 && kotel_pool_get(&p) == NULL,
              "the pool stays empty under ASan");
        TAP_DONE();
}
#else

#define SLOTS 64
#define THREADS 4
#define ROUNDS 200000

struct item {
        uint64_t owner;
        uint64_t round;
        char pad[40];
};

static struct kotel_pool shared;
static int clashes, empties;

static void *churn(void *arg)
{
        uint64_t me = (uint64_t)(uintptr_t)arg;
        struct item *held[4];

        for (uint64_t r = 0; r < ROUNDS; r++) {
                int n = 0;

                for (int k = 0; k < 1 + (int)(r % 4); k++) {
                        struct item *it = kotel_pool_get(&shared);

                        if (!it) {
                                __atomic_add_fetch(&empties, 1, __ATOMIC_RELAXED);
                                continue;
                        }
                        if (it->owner || it->round)
                                __atomic_add_fetch(&clashes, 1, __ATOMIC_RELAXED);
                        it->owner = me;
                        it->round = r + 1;
                        held[n++] = it;
                }
                for (int k = 0; k < n; k++) {
                        if (held[k]->owner != me || held[k]->round != r + 1)
                                __atomic_add_fetch(&clashes, 1, __ATOMIC_RELAXED);
                        kotel_pool_put(&shared, held[k]);
                }
        }
        return NULL;
}

static struct kotel_pool raced;
static int raced_fails;

static void *init_raced(void *arg)
{
        (void)arg;
        if (kotel_pool_init(&raced, sizeof(struct item), SLOTS) != 0)
                __atomic_add_fetch(&raced_fails, 1, __ATOMIC_RELAXED);
        return NULL;
}

/* A pool of 4 M slots (256 MB of address space) used to write its whole
 * free list (16 MB) at set-up: the cost grew with the size asked for, not
 * with the slots used. */
static void test_large_pool_is_lazy(void)
{
        enum { HELD = 2000 };
        static struct kotel_pool big;
        static struct item *held[HELD];
        long before = tap_resident_bytes(), after;
        int ok      = 1;

        CHECK(kotel_pool_init(&big, sizeof(struct item), 4u << 20) == 0,
              "init a pool of 4 M slots");
        after = tap_resident_bytes();
        CHECK(before > 0 && after - before < 4L << 20,
              "pool_large_init_is_lazy: under 4 MB resident after init");
        if (after - before >= 4L << 20)
                printf("# resident grew by %ld bytes\n", after - before);
        for (int i = 0; i < HELD; i++) {
                held[i] = kotel_pool_get(&big);
                ok &= held[i] != NULL && held[i]->owner == 0;
                if (held[i])
                        held[i]->owner = (uint64_t)i + 1;
        }
        for (int i = 0; i < HELD; i++)
                ok &= held[i]->owner == (uint64_t)i + 1 &&
                      kotel_pool_put(&big, held[i]);
        CHECK(ok, "the large pool hands out zeroed slots and takes them back");
        CHECK(tap_resident_bytes() - before < 4L << 20,
              "and only the slots used are resident (2000 x 64 bytes)");
}

int main(void)
{
        struct kotel_pool p;
        struct item *got[SLOTS + 1], outside;
        pthread_t th[THREADS];
        int distinct = 1, zeroed = 1;

        test_large_pool_is_lazy();
        memset(&p, 0, sizeof(p));
        CHECK(kotel_pool_get(&p) == NULL, "a pool never set up is empty");
        CHECK(!kotel_pool_put(&p, &outside), "and takes nothing back");
        CHECK(kotel_pool_init(&p, sizeof(struct item), SLOTS) == 0, "init");
        for (int i = 0; i < SLOTS; i++) {
                got[i] = kotel_pool_get(&p);
                if (!got[i])
                        break;
                for (size_t b = 0; b < sizeof(struct item); b++)
                        zeroed &= ((char *)got[i])[b] == 0;
                memset(got[i], 0xab, sizeof(struct item));
                for (int j = 0; j < i; j++)
                        distinct &= got[j] != got[i];
        }
        CHECK(got[SLOTS - 1] != NULL, "every slot can be taken");
        CHECK(distinct, "no slot is handed out twice");
        CHECK(zeroed, "slots come zeroed");
        CHECK(kotel_pool_get(&p) == NULL, "then the pool is empty");
        CHECK(!kotel_pool_put(&p, &outside), "a pointer from elsewhere is refused");
        for (int i = 0; i < SLOTS; i++)
                kotel_pool_put(&p, got[i]);
        got[SLOTS] = kotel_pool_get(&p);
        CHECK(got[SLOTS] == got[SLOTS - 1], "last in, first out");
        CHECK(got[SLOTS]->owner == 0, "and zeroed again");
        {
                /* get_head: only the head of a reused slot is cleared. */
                unsigned char *h = (unsigned char *)got[SLOTS];
                size_t half      = sizeof(struct item) / 2;
                int head = 1, tail = 1;

                memset(h, 0xcd, sizeof(struct item));
                kotel_pool_put(&p, h);
                CHECK(kotel_pool_get_head(&p, half) == (void *)h,
                      "get_head takes the same slot back");
                for (size_t b = 0; b < sizeof(struct item); b++) {
                        head &= b >= half || h[b] == 0;
                        tail &= b < half || h[b] == 0xcd;
                }
                CHECK(head && tail, "get_head zeroes the head, not the tail");
        }
        CHECK(kotel_pool_init(&p, sizeof(struct item), SLOTS) == 0 &&
                  kotel_pool_get(&p) != got[SLOTS],
              "a second init keeps the pool as it is");

        /* Set-up raced by several threads: one pool, SLOTS slots. */
        for (int i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, init_raced, NULL);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        {
                int n = 0;

                while (kotel_pool_get(&raced))
                        n++;
                CHECK(raced_fails == 0 && n == SLOTS,
                      "concurrent set-up makes one pool of SLOTS slots");
        }

        memset(&shared, 0, sizeof(shared));
        kotel_pool_init(&shared, sizeof(struct item), SLOTS / 4);
        for (int i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1));
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        CHECK(clashes == 0, "no slot is ever owned by two threads at once");
        {
                int n = 0;

                while (kotel_pool_get(&shared))
                        n++;
                CHECK(n == SLOTS / 4, "every slot is back after the churn");
        }
        TAP_DONE();
}
#endif
