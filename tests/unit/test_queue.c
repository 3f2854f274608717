/* The span queue: exact capacity (the ring is rounded up to a power of two,
 * the limit is not), FIFO order, wrap-around, reset after fork, many
 * producers against one consumer with nothing lost or duplicated, and a
 * large queue that costs nothing until it is used. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "exporter/queue.h"
#include "tap.h"

#define PRODUCERS 4
#define PER_PRODUCER 200000

static struct kotel_queue mq;
static uint64_t push_failed[PRODUCERS];
static int producers_done;

static void *producer(void *arg)
{
        uintptr_t id = (uintptr_t)arg;

        for (uintptr_t i = 1; i <= PER_PRODUCER; i++)
                if (!kotel_queue_push(&mq, (void *)((id << 32) | i)))
                        push_failed[id]++;
        __atomic_add_fetch(&producers_done, 1, __ATOMIC_RELEASE);
        return NULL;
}

/* Pops until every producer is done and the queue is empty; checks that
 * each producer's items come out in order, none twice. */
static void consume_all(uint64_t *popped, int *order_ok, size_t *max_size)
{
        uintptr_t last[PRODUCERS] = {0};

        for (;;) {
                int done  = __atomic_load_n(&producers_done, __ATOMIC_ACQUIRE);
                void *p   = kotel_queue_pop(&mq);
                size_t sz = kotel_queue_size(&mq);

                if (sz > *max_size)
                        *max_size = sz;
                if (!p) {
                        if (done == PRODUCERS && !kotel_queue_pop(&mq) &&
                            kotel_queue_size(&mq) == 0)
                                break;
                        continue;
                }
                uintptr_t v = (uintptr_t)p, id = v >> 32, seq = v & 0xffffffffu;
                if (id >= PRODUCERS || seq <= last[id])
                        *order_ok = 0;
                else
                        last[id] = seq;
                (*popped)++;
        }
}

static void test_threads(void)
{
        pthread_t th[PRODUCERS];
        uint64_t popped = 0, failed = 0;
        int order_ok    = 1;
        size_t max_size = 0;

        kotel_queue_init(&mq, 1000);
        for (uintptr_t i = 0; i < PRODUCERS; i++)
                pthread_create(&th[i], NULL, producer, (void *)i);
        consume_all(&popped, &order_ok, &max_size);
        for (int i = 0; i < PRODUCERS; i++) {
                pthread_join(th[i], NULL);
                failed += push_failed[i];
        }
        CHECK(order_ok, "threads: each producer's items in order, none twice");
        CHECK(popped + failed == (uint64_t)PRODUCERS * PER_PRODUCER,
              "threads: every push either popped or refused");
        CHECK(popped > 0, "threads: items went through");
        CHECK(max_size <= 1000 + PRODUCERS,
              "threads: size never far past capacity (transient increments)");
        CHECK(kotel_queue_size(&mq) == 0, "threads: empty at the end");
        kotel_queue_destroy(&mq);
}

static void test_capacity(void)
{
        struct kotel_queue q;
        int ok = 1;

        CHECK(kotel_queue_init(&q, 5) == 0, "init capacity 5");
        for (uintptr_t i = 1; i <= 5; i++)
                ok &= kotel_queue_push(&q, (void *)i);
        CHECK(ok, "5 pushes fit");
        CHECK(!kotel_queue_push(&q, (void *)6), "6th push refused (ring is 8)");
        CHECK(kotel_queue_size(&q) == 5, "size 5");
        CHECK(kotel_queue_pop(&q) == (void *)1, "FIFO: 1 first");
        CHECK(kotel_queue_push(&q, (void *)6), "room again after one pop");
        CHECK(!kotel_queue_push(&q, (void *)7), "and full again");
        for (uintptr_t i = 2; i <= 6; i++)
                ok &= kotel_queue_pop(&q) == (void *)i;
        CHECK(ok, "FIFO: 2..6");
        CHECK(kotel_queue_pop(&q) == NULL, "empty pops NULL");
        kotel_queue_destroy(&q);

        kotel_queue_init(&q, 1);
        CHECK(kotel_queue_push(&q, (void *)1) && !kotel_queue_push(&q, (void *)2),
              "capacity 1 holds exactly one");
        kotel_queue_destroy(&q);

        kotel_queue_init(&q, 3);
        ok = 1;
        for (uintptr_t i = 1; i <= 10000; i++) {
                ok &= kotel_queue_push(&q, (void *)i);
                ok &= kotel_queue_push(&q, (void *)(i + 1000000));
                ok &= kotel_queue_pop(&q) == (void *)i;
                ok &= kotel_queue_pop(&q) == (void *)(i + 1000000);
        }
        CHECK(ok, "wrap-around many times keeps order");
        kotel_queue_destroy(&q);
}

static int drops;

static void count_drop(void *p)
{
        (void)p;
        drops++;
}

static void test_reset(void)
{
        struct kotel_queue q;

        kotel_queue_init(&q, 4);
        kotel_queue_push(&q, (void *)1);
        kotel_queue_push(&q, (void *)2);
        kotel_queue_push(&q, (void *)3);
        kotel_queue_pop(&q);
        /* A producer that claimed a cell and died (forked away) before
         * publishing: tail moved, count raised, seq never published. */
        __atomic_add_fetch(&q.count, 1, __ATOMIC_RELAXED);
        q.tail++;
        kotel_queue_reset(&q, count_drop);
        CHECK(drops == 2, "reset drops the published items");
        CHECK(kotel_queue_size(&q) == 0, "reset empties");
        CHECK(kotel_queue_pop(&q) == NULL, "nothing to pop after reset");
        int ok = 1;
        for (uintptr_t i = 1; i <= 4; i++)
                ok &= kotel_queue_push(&q, (void *)i);
        CHECK(ok && !kotel_queue_push(&q, (void *)5),
              "full capacity usable after reset, and no more");
        CHECK(kotel_queue_pop(&q) == (void *)1, "order restarts after reset");
        kotel_queue_destroy(&q);
}

/* OTEL_BSP_MAX_QUEUE_SIZE=16777216 used to cost 256 MB of ring at start-up
 * (every cell's sequence number written by init), before any span. */
static void test_large_queue_is_lazy(void)
{
        struct kotel_queue q;
        long before = tap_resident_bytes(), after;
        int ok      = 1;

        CHECK(kotel_queue_init(&q, 1 << 24) == 0, "init a 16 M queue");
        after = tap_resident_bytes();
        CHECK(before > 0 && after - before < 8L << 20,
              "queue_large_init_is_lazy: under 8 MB resident after init");
        if (after - before >= 8L << 20)
                printf("# resident grew by %ld bytes\n", after - before);
        for (uintptr_t i = 1; i <= 10000; i++)
                ok &= kotel_queue_push(&q, (void *)i);
        for (uintptr_t i = 1; i <= 10000; i++)
                ok &= kotel_queue_pop(&q) == (void *)i;
        CHECK(ok && kotel_queue_pop(&q) == NULL, "the large queue works");
        CHECK(tap_resident_bytes() - before < 8L << 20,
              "and only the cells used are resident (10000 x 16 bytes)");
        kotel_queue_destroy(&q);
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        test_large_queue_is_lazy();
        test_capacity();
        test_reset();
        test_threads();
        TAP_DONE();
}
