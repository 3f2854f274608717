/* The instruments (exporter/metrics.c): exact counts, bucket counts and
 * sums when 8 threads record at once into shared and private series;
 * cumulative and delta collection; the cardinality cap and the overflow
 * series; the exemplar filters (trace_based keeps only sampled
 * measurements, always_on all, always_off none) and an exemplar in the
 * bucket its value fell in; a consumed message's three instruments from
 * one per-thread lookup; every bucket bound; thread cells: a thread's
 * exit frees its cells for the next thread, which adds to the same
 * totals (cumulative and delta), and when the pool is used up threads
 * add to the series itself, still exactly; a thread recording into more
 * series than its cell cache holds finds its cells without the slow
 * path. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"

#define THREADS 8
#define PER 20000

static struct kotel_client client = {1, "c", "g", "h", 9092, NULL};
static const char *topics[]       = {"shared", "t1", "t2", "t3", "t4",
                                     "t5",     "t6", "t7", "t8"};

static void *hammer(void *arg)
{
        long id = (long)arg;

        for (int i = 0; i < PER; i++) {
                struct kotel_mattrs a = {&client, topics[i % 2 ? 0 : 1 + id], 0,
                                         KOTEL_OP_SEND, NULL};

                uint8_t tid[16] = {(uint8_t)id, 1}, sid[8] = {(uint8_t)i, 2};

                /* 3 ms: bucket 0; 60 ms: bucket 4; every 4th sampled
                 * (an exemplar candidate). */
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a,
                                     i % 3 ? 3000000 : 60000000,
                                     i % 4 ? NULL : tid, i % 4 ? NULL : sid);
                kotel_metrics_record(KOTEL_M_CONSUMED, &a, 0, NULL, NULL);
        }
        return NULL;
}

static void setup(enum kotel_temporality t, enum kotel_exemplar_filter f,
                  uint32_t limit)
{
        struct kotel_metrics_config c = {t, f, limit, 0};

        kotel_metrics_reset();
        kotel_metrics_init(&c);
}

static struct kotel_mpoint pts[64];

static const struct kotel_mpoint *find(size_t n, const char *topic)
{
        for (size_t i = 0; i < n; i++)
                if (!pts[i].overflow && !strcmp(pts[i].topic, topic))
                        return &pts[i];
        return NULL;
}

static void test_threads(void)
{
        pthread_t th[THREADS];
        size_t n;
        uint64_t count = 0, b0 = 0, b4 = 0, sum = 0, cons = 0;
        bool ok = true, counts_match = true;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 2000);
        for (long i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, hammer, (void *)i);
        /* The exporter collects while the threads record (cumulative:
         * collecting takes nothing away). */
        for (int k = 0; k < 200; k++) {
                size_t m =
                    kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1000);

                for (size_t i = 0; i < m; i++) {
                        uint64_t in_buckets = 0;

                        for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                                in_buckets += pts[i].buckets[b];
                        counts_match &= in_buckets == pts[i].count;
                }
                for (size_t i = 0; i < m; i++)
                        for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                                ok &= !pts[i].ex[b].valid ||
                                      (pts[i].ex[b].has_ids &&
                                       pts[i].ex[b].trace_id[1] == 1 &&
                                       pts[i].ex[b].span_id[1] == 2 &&
                                       pts[i].ex[b].value_ns ==
                                           (b ? 60000000u : 3000000u));
        }
        CHECK(ok, "exemplars read while written are whole: ids and value "
                  "of one measurement, in its bucket");
        CHECK(counts_match, "every point collected while threads record has "
                            "its count equal to the sum of its buckets");
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1000);
        CHECK(n == 1 + THREADS, "one series per attribute set, none twice");
        for (size_t i = 0; i < n; i++) {
                count += pts[i].count;
                b0 += pts[i].buckets[0];
                b4 += pts[i].buckets[4];
                sum += pts[i].sum_ns;
                ok &= !pts[i].overflow && pts[i].client == &client;
        }
        CHECK(ok, "every series carries its client, none overflowed");
        CHECK(count == THREADS * PER, "histogram counts: every measurement");
        CHECK(b0 + b4 == count, "every measurement in its bucket");
        CHECK(b4 == THREADS * ((PER + 2) / 3), "60 ms in (0.05, 0.075]");
        CHECK(sum == b0 * 3000000 + b4 * 60000000, "sum exact (integer ns)");
        CHECK(find(n, "shared")->count == THREADS * PER / 2,
              "the shared series got every thread's half");
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1000);
        for (size_t i = 0; i < n; i++)
                cons += pts[i].count;
        CHECK(cons == THREADS * PER, "counter: every measurement");
        CHECK(find(n, "t1")->count == PER / 2, "a private series' count");
}

static void test_temporality(void)
{
        struct kotel_mattrs a = {&client, "t", 3, KOTEL_OP_SEND, NULL};
        uint64_t start;
        size_t n;

        setup(KOTEL_TEMPORALITY_DELTA, KOTEL_EXEMPLAR_TRACE_BASED, 100);
        for (int i = 0; i < 5; i++)
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 1000, NULL, NULL);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 2000);
        CHECK(n == 1 && pts[0].count == 5 && pts[0].sum_ns == 5000,
              "delta: the first interval");
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 3000);
        CHECK(n == 0, "delta: a series with nothing new is left out");
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 2000, NULL, NULL);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 4000);
        CHECK(n == 1 && pts[0].count == 1 && pts[0].sum_ns == 2000 &&
                  pts[0].buckets[0] == 1 && pts[0].start_ns == 3000 &&
                  pts[0].time_ns == 4000,
              "delta: only the new measurement, from the last collect on");

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 100);
        for (int i = 0; i < 5; i++)
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 1000, NULL, NULL);
        kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 2000);
        start = pts[0].start_ns;
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 1000, NULL, NULL);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 3000);
        CHECK(n == 1 && pts[0].count == 6 && pts[0].sum_ns == 6000 &&
                  pts[0].start_ns == start && start > 3000,
              "cumulative: totals since the series started (its own start "
              "time, the wall clock when it was created)");
}

static void test_overflow(void)
{
        char names[10][8];
        size_t n;
        uint64_t all                 = 0;
        const struct kotel_mpoint *o = NULL;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 4);
        for (int i = 0; i < 10; i++) {
                struct kotel_mattrs a = {&client, names[i], 0, KOTEL_OP_SEND,
                                         NULL};

                snprintf(names[i], sizeof(names[i]), "o%u", (unsigned)i % 10u);
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 1, NULL, NULL);
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 1, NULL, NULL);
        }
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1);
        for (size_t i = 0; i < n; i++) {
                all += pts[i].count;
                if (pts[i].overflow)
                        o = &pts[i];
        }
        CHECK(n == 4, "the limit counts the overflow series: 3 + 1");
        CHECK(o && o->count == 14 && !o->client && !o->topic[0],
              "the overflow series holds the other 7 sets' measurements, "
              "without their attributes");
        CHECK(all == 20, "no measurement lost");
        CHECK(kotel_metrics_overflowed(KOTEL_M_OP_DURATION) == 14,
              "overflowed measurements are counted");
        CHECK(find(n, "o0") && find(n, "o2") && !find(n, "o3"),
              "the first attribute sets keep their series");
}

static int exemplars(size_t n)
{
        int e = 0;

        for (size_t i = 0; i < n; i++)
                for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                        e += pts[i].ex[b].valid;
        return e;
}

static void test_exemplars(void)
{
        static const uint8_t tid[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                        9, 10, 11, 12, 13, 14, 15, 16};
        static const uint8_t sid[8]  = {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2};
        struct kotel_mattrs a        = {&client, "x", 0, KOTEL_OP_SEND, NULL};
        size_t n;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 10);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 3000000, NULL, NULL);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 600000000, tid, sid);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1);
        CHECK(exemplars(n) == 1 && pts[0].ex[8].valid && pts[0].ex[8].has_ids &&
                  !memcmp(pts[0].ex[8].trace_id, tid, 16) &&
                  !memcmp(pts[0].ex[8].span_id, sid, 8) &&
                  pts[0].ex[8].value_ns == 600000000,
              "trace_based: the sampled measurement, in its bucket "
              "(0.5, 0.75], with its ids; the unsampled one none");
        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_ALWAYS_ON, 10);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 3000000, NULL, NULL);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 600000000, tid, sid);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1);
        CHECK(exemplars(n) == 2 && !pts[0].ex[0].has_ids,
              "always_on: both, the unsampled one without ids");
        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_ALWAYS_OFF, 10);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 600000000, tid, sid);
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1);
        CHECK(n == 1 && exemplars(n) == 0, "always_off: none");
}

/* A consumed message: one series for the counter and the age histogram;
 * a message without a timestamp is counted, not aged. */
static void test_consumed_and_age(void)
{
        struct kotel_mattrs a = {&client, "c", 1, KOTEL_OP_POLL, NULL};
        uint64_t aged         = 0;
        struct kotel_mseries_ref r;
        size_t n;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 10);
        kotel_metrics_record_message(&a, true, 3000000000ull, false, 0, &r);
        kotel_metrics_record_message(&a, true, 0, false, 0, &r);
        kotel_metrics_record_message(&a, false, 0, false, 0, &r);
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1);
        for (int b = 0; n == 1 && b < KOTEL_M_BUCKETS; b++)
                aged += pts[0].buckets[b];
        CHECK(n == 1 && pts[0].count == 3, "every consumed message counted");
        CHECK(aged == 2 && pts[0].buckets[0] == 1 && pts[0].buckets[11] == 1 &&
                  pts[0].sum_ns == 3000000000ull,
              "only messages with a timestamp aged: 0 s in the first "
              "bucket, 3 s in (2.5, 5]");
}

/* A consumer thread's message: its three instruments from one cached
 * lookup, threads sharing a series and keeping their own. */
static void *consume_hammer(void *arg)
{
        long id = (long)arg;

        for (int i = 0; i < PER; i++) {
                struct kotel_mattrs a = {&client, topics[i % 2 ? 0 : 1 + id],
                                         i % 2 ? 0 : 1, KOTEL_OP_POLL, NULL};
                struct kotel_mseries_ref r;

                /* Age 3 ms or 3 s; the poll 1 us, timed every other. */
                kotel_metrics_record_message(&a, i % 3 != 0,
                                             i % 5 ? 3000000 : 3000000000ull,
                                             i % 2, 1000, &r);
                kotel_metrics_record_ref(KOTEL_M_PROCESS_DURATION, r, 60000000,
                                         NULL, NULL, 0);
        }
        return NULL;
}

static uint64_t total(enum kotel_minst i, uint64_t *sum, uint64_t *b11)
{
        size_t n   = kotel_metrics_collect(i, pts, 64, 1);
        uint64_t c = 0;

        *sum = *b11 = 0;
        for (size_t k = 0; k < n; k++) {
                c += pts[k].count;
                *sum += pts[k].sum_ns;
                *b11 += pts[k].buckets[11];
        }
        return c;
}

static void test_record_message(void)
{
        pthread_t th[THREADS];
        uint64_t aged = 0, old = 0, sum, b11, c;
        size_t n;
        bool ok               = true;
        char name[2][8]       = {"x", "x"};
        struct kotel_mattrs a = {&client, name[0], 2, KOTEL_OP_POLL, NULL};
        struct kotel_mseries_ref r;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 2000);
        for (long i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, consume_hammer, (void *)i);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        for (int i = 0; i < PER; i++)
                if (i % 3) {
                        aged++;
                        old += !(i % 5);
                }
        c = total(KOTEL_M_CONSUMED, &sum, &b11);
        CHECK(c == THREADS * PER, "consumed: every message counted");
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1);
        for (size_t k = 0; k < n; k++)
                ok &= pts[k].partition ==
                          (strcmp(pts[k].topic, "shared") ? 1 : 0) &&
                      pts[k].op == KOTEL_OP_POLL;
        CHECK(n == 1 + THREADS && ok,
              "consumed: one series per topic and partition, operation poll");
        CHECK(b11 == THREADS * old &&
                  sum == THREADS *
                             (old * 3000000000ull + (aged - old) * 3000000ull),
              "age: only messages with a timestamp, 3 s in (2.5, 5], sum "
              "exact");
        c  = total(KOTEL_M_PROCESS_DURATION, &sum, &b11);
        n  = kotel_metrics_collect(KOTEL_M_PROCESS_DURATION, pts, 64, 1);
        ok = n == 1 + THREADS;
        for (size_t k = 0; k < n; k++)
                ok &= pts[k].op == KOTEL_OP_PROCESS &&
                      pts[k].buckets[4] == pts[k].count;
        CHECK(c == THREADS * PER && sum == c * 60000000 && ok,
              "process: every message, in the series the lookup returned "
              "(operation process, 60 ms in (0.05, 0.075])");
        c  = total(KOTEL_M_POLL_DURATION, &sum, &b11);
        n  = kotel_metrics_collect(KOTEL_M_POLL_DURATION, pts, 64, 1);
        ok = n == 1 + THREADS;
        for (size_t k = 0; k < n; k++)
                ok &= pts[k].partition == -1 && pts[k].op == KOTEL_OP_POLL &&
                      pts[k].buckets[0] == pts[k].count;
        CHECK(c == THREADS * PER / 2 && sum == c * 1000 && ok,
              "poll: only timed calls, one series per topic, no partition");

        /* The same address, another topic's name: not the cached series. */
        kotel_metrics_record_message(&a, false, 0, false, 0, &r);
        memcpy(name[0], "y", 2);
        kotel_metrics_record_message(&a, false, 0, false, 0, &r);
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1);
        CHECK(find(n, "x") && find(n, "x")->count == 1 && find(n, "y") &&
                  find(n, "y")->count == 1,
              "a topic name at a reused address gets its own series");

        /* Limit 2: one regular series, the rest overflow, each counted. */
        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 2);
        a.topic = "p";
        kotel_metrics_record_message(&a, false, 0, true, 5, &r);
        a.topic = "q";
        for (int i = 0; i < 3; i++)
                kotel_metrics_record_message(&a, false, 0, true, 5, &r);
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1);
        CHECK(n == 2 && find(n, "p")->count == 1 && pts[1].overflow &&
                  pts[1].count == 3 &&
                  kotel_metrics_overflowed(KOTEL_M_CONSUMED) == 3,
              "over the limit: the overflow series, every message counted");
        c = total(KOTEL_M_POLL_DURATION, &sum, &b11);
        CHECK(c == 4 && kotel_metrics_overflowed(KOTEL_M_POLL_DURATION) == 3,
              "and each poll duration");

        /* Tables made anew: the thread's cached series are not used. */
        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 10);
        kotel_metrics_record_message(&a, false, 0, false, 0, &r);
        n = kotel_metrics_collect(KOTEL_M_CONSUMED, pts, 64, 1);
        CHECK(n == 1 && pts[0].count == 1 && r.s,
              "after a reset: the new tables' series");
        kotel_metrics_reset();
        kotel_metrics_record_message(&a, false, 0, false, 0, &r);
        CHECK(!r.s, "metrics off: no process series");
}

/* Each bucket's upper bound is inclusive: a bound in its bucket, one
 * more in the next. */
static void test_bucket_bounds(void)
{
        struct kotel_mattrs a = {&client, "b", 0, KOTEL_OP_SEND, NULL};
        size_t n;
        bool ok = true;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_ALWAYS_OFF, 10);
        for (int b = 0; b < KOTEL_M_BOUNDS; b++) {
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a,
                                     kotel_m_bounds_ns[b], NULL, NULL);
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a,
                                     kotel_m_bounds_ns[b] + 1, NULL, NULL);
        }
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 0, NULL, NULL);
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, UINT64_MAX / 4, NULL,
                             NULL);
        n  = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 1);
        ok = n == 1;
        for (int b = 1; ok && b < KOTEL_M_BOUNDS; b++)
                ok &= pts[0].buckets[b] == 2;
        CHECK(ok && pts[0].buckets[0] == 2 &&
                  pts[0].buckets[KOTEL_M_BOUNDS] == 2,
              "every bound in its own bucket, one more in the next");
}

/* A consumed message's ref, handed to other threads that record its
 * processing: the ref carries the consuming thread's cell, and a thread
 * that does not own it adds to its own cell instead. */
static struct kotel_mseries_ref handed;

static void *record_handed(void *arg)
{
        for (long i = 0; i < (long)arg; i++)
                kotel_metrics_record_ref(KOTEL_M_PROCESS_DURATION, handed,
                                         3000000, NULL, NULL, 0);
        return NULL;
}

static void test_handed_ref(void)
{
        struct kotel_metrics_config cfg = {KOTEL_TEMPORALITY_CUMULATIVE,
                                           KOTEL_EXEMPLAR_TRACE_BASED, 100, 0};
        struct kotel_mattrs c = {&client, "handed", 2, KOTEL_OP_POLL, NULL};
        pthread_t th[THREADS];
        uint64_t sum, b11;
        uint32_t used;

        kotel_metrics_reset();
        kotel_metrics_init(&cfg);
        kotel_metrics_record_message(&c, false, 0, false, 0, &handed);
        used = kotel_metrics_cells_used();
        CHECK(handed.s && handed.c && used == 3,
              "the ref carries the consuming thread's cell");
        for (long i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, record_handed, (void *)PER);
        record_handed((void *)PER);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        /* A thread done before the next starts frees its cell for it. */
        CHECK(kotel_metrics_cells_used() > used &&
                  kotel_metrics_cells_used() <= used + THREADS,
              "the other threads recorded into cells of their own");
        CHECK(total(KOTEL_M_PROCESS_DURATION, &sum, &b11) ==
                      (uint64_t)(THREADS + 1) * PER &&
                  sum == (uint64_t)(THREADS + 1) * PER * 3000000ull,
              "handed refs: exact totals");
}

/* A thread that records @arg measurements of 2 ms into one series and
 * one consumed message per measurement. */
static void *record_n(void *arg)
{
        struct kotel_mattrs a = {&client, "cells", 7, KOTEL_OP_SEND, NULL};
        struct kotel_mattrs c = {&client, "cells", 7, KOTEL_OP_POLL, NULL};
        struct kotel_mseries_ref r;

        for (long i = 0; i < (long)arg; i++) {
                kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 2000000, NULL,
                                     NULL);
                kotel_metrics_record_message(&c, true, 2000000, true, 1000, &r);
                kotel_metrics_record_ref(KOTEL_M_PROCESS_DURATION, r, 2000000,
                                         NULL, NULL, 0);
        }
        return NULL;
}

/* A thread that records one sampled process duration of 2 ms taken at
 * wall clock @arg, with the time's low byte as its span id. */
static void *record_sampled(void *arg)
{
        struct kotel_mattrs c = {&client, "ex", 1, KOTEL_OP_POLL, NULL};
        uint64_t at           = (uint64_t)(uintptr_t)arg;
        uint8_t tid[16] = {9}, sid[8] = {(uint8_t)at};
        struct kotel_mseries_ref r;

        kotel_metrics_record_message(&c, false, 0, false, 0, &r);
        kotel_metrics_record_ref(KOTEL_M_PROCESS_DURATION, r, 2000000, tid, sid,
                                 at);
        return NULL;
}

static void run_thread(long n)
{
        pthread_t th;

        pthread_create(&th, NULL, record_n, (void *)n);
        pthread_join(th, NULL);
}

static void test_thread_cells(void)
{
        struct kotel_metrics_config cfg = {KOTEL_TEMPORALITY_DELTA,
                                           KOTEL_EXEMPLAR_TRACE_BASED, 100, 0};
        uint32_t used;
        uint64_t sum, b11;
        pthread_t th[THREADS];
        size_t n;

        kotel_metrics_reset();
        kotel_metrics_init(&cfg);
        run_thread(1000);
        used = kotel_metrics_cells_used();
        /* The send's series, and the consumed, poll and process ones. */
        CHECK(used == 4, "a thread takes one cell per series it records "
                         "into");
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 2000);
        CHECK(n == 1 && pts[0].count == 1000 && pts[0].sum_ns == 2000000000ull &&
                  pts[0].buckets[0] == 1000,
              "delta: the exited thread's cell is collected");
        CHECK(total(KOTEL_M_PROCESS_DURATION, &sum, &b11) == 1000 &&
                  total(KOTEL_M_POLL_DURATION, &sum, &b11) == 1000 &&
                  total(KOTEL_M_CONSUMED, &sum, &b11) == 1000,
              "delta: the consumer instruments' cells likewise");
        run_thread(500);
        run_thread(250);
        CHECK(kotel_metrics_cells_used() == used,
              "the next threads reuse the cells the exited ones freed");
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 3000);
        CHECK(n == 1 && pts[0].count == 750 && pts[0].sum_ns == 1500000000ull,
              "delta: only what the later threads added to the reused cell");
        CHECK(total(KOTEL_M_PROCESS_DURATION, &sum, &b11) == 750 &&
                  total(KOTEL_M_POLL_DURATION, &sum, &b11) == 750 &&
                  total(KOTEL_M_CONSUMED, &sum, &b11) == 750,
              "delta: and the consumer instruments' reused cells");

        /* Exemplars live in the recording thread's cell, and the bucket's
         * exemplar is the newest of its cells', whatever their order: this
         * thread keeps its cell (7000), the second thread's cell is the
         * list's head and is reused by the third (5000, then 6000). */
        {
                pthread_t t1, t2;

                cfg.temporality = KOTEL_TEMPORALITY_CUMULATIVE;
                kotel_metrics_reset();
                kotel_metrics_init(&cfg);
                record_sampled((void *)(uintptr_t)7000);
                pthread_create(&t1, NULL, record_sampled, (void *)(uintptr_t)5000);
                pthread_join(t1, NULL);
                pthread_create(&t2, NULL, record_sampled, (void *)(uintptr_t)6000);
                pthread_join(t2, NULL);
                n = kotel_metrics_collect(KOTEL_M_PROCESS_DURATION, pts, 64,
                                          9000);
                /* Two threads' cells of the consumed, poll and process
                 * series (a consumed message claims all three). */
                CHECK(kotel_metrics_cells_used() == 6 && n == 1 &&
                          pts[0].count == 3 && pts[0].ex[0].valid &&
                          pts[0].ex[0].time_ns == 7000 &&
                          pts[0].ex[0].span_id[0] == (uint8_t)7000 &&
                          pts[0].ex[0].trace_id[0] == 9,
                      "the bucket's exemplar is the newest of its cells'");
        }

        /* A pool of 3 cells: the first thread takes them, the others add
         * atomically to the series themselves, as do threads that find
         * the pool used up while others still hold their cells. */
        cfg.thread_cells = 3;
        kotel_metrics_reset();
        kotel_metrics_init(&cfg);
        for (long i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, record_n, (void *)PER);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        CHECK(kotel_metrics_cells_used() == 3, "the pool is used up");
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 2000);
        CHECK(n == 1 && pts[0].count == (uint64_t)THREADS * PER &&
                  pts[0].sum_ns == (uint64_t)THREADS * PER * 2000000ull,
              "cells and atomic adds together: exact totals");
        CHECK(total(KOTEL_M_CONSUMED, &sum, &b11) == (uint64_t)THREADS * PER &&
                  total(KOTEL_M_PROCESS_DURATION, &sum, &b11) ==
                      (uint64_t)THREADS * PER,
              "the consumer instruments too");
}

/* A broker thread acknowledging many partitions records into more series
 * than its cell cache holds. */
enum { PARTS = 48, ROUNDS = 100 };

static void ack_rounds(int rounds)
{
        for (int r = 0; r < rounds; r++)
                for (int p = 0; p < PARTS; p++) {
                        struct kotel_mattrs a = {&client, "acks", p,
                                                 KOTEL_OP_SEND, NULL};

                        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, 3000000,
                                             NULL, NULL);
                }
}

static void *ack_thread(void *arg)
{
        uint64_t *misses = arg;

        ack_rounds(ROUNDS);
        *misses = kotel_metrics_cell_misses();
        return NULL;
}

static void test_many_series(void)
{
        uint64_t base, claimed, other = 0;
        pthread_t th;
        size_t n;
        bool exact = true;

        setup(KOTEL_TEMPORALITY_CUMULATIVE, KOTEL_EXEMPLAR_TRACE_BASED, 2000);
        base = kotel_metrics_cell_misses();
        ack_rounds(1);
        claimed = kotel_metrics_cell_misses() - base;
        CHECK(claimed == PARTS && kotel_metrics_cells_used() == PARTS,
              "a thread claims one cell per series, once");
        ack_rounds(ROUNDS);
        CHECK(kotel_metrics_cell_misses() - base == claimed,
              "48 series, 16 cache ways: the series' first cell finds the "
              "thread's own without the slow path");
        /* Another thread, on the same series: their first cells are this
         * thread's, so it claims cells of its own and adds there. */
        pthread_create(&th, NULL, ack_thread, &other);
        pthread_join(th, NULL);
        CHECK(other >= PARTS && kotel_metrics_cells_used() == 2 * PARTS,
              "a second thread on the same series claims cells of its own");
        n = kotel_metrics_collect(KOTEL_M_OP_DURATION, pts, 64, 2000);
        for (size_t k = 0; k < n; k++)
                exact = exact && pts[k].count == 2 * ROUNDS + 1 &&
                        pts[k].buckets[0] == 2 * ROUNDS + 1;
        CHECK(n == PARTS && exact, "both threads' adds: exact per series");
}

static void test_config(void)
{
        struct kotel_metrics_config c;

        setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "LowMemory",
               1);
        setenv("OTEL_METRICS_EXEMPLAR_FILTER", "always_off", 1);
        setenv("KOTEL_METRICS_CARDINALITY_LIMIT", "50", 1);
        kotel_metrics_config_load(&c);
        CHECK(c.temporality == KOTEL_TEMPORALITY_DELTA &&
                  c.exemplar_filter == KOTEL_EXEMPLAR_ALWAYS_OFF &&
                  c.cardinality_limit == 50,
              "lowmemory is delta for counters and histograms; filter; limit");
        setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "weekly",
               1);
        setenv("OTEL_METRICS_EXEMPLAR_FILTER", "maybe", 1);
        setenv("KOTEL_METRICS_CARDINALITY_LIMIT", "1", 1);
        kotel_metrics_config_load(&c);
        CHECK(c.temporality == KOTEL_TEMPORALITY_CUMULATIVE &&
                  c.exemplar_filter == KOTEL_EXEMPLAR_TRACE_BASED &&
                  c.cardinality_limit == 2000,
              "bad values: the defaults");
}

int main(void)
{
        test_threads();
        test_temporality();
        test_overflow();
        test_exemplars();
        test_consumed_and_age();
        test_record_message();
        test_bucket_bounds();
        test_thread_cells();
        test_handed_ref();
        test_many_series();
        test_config();
        kotel_metrics_reset();
        TAP_DONE();
}
