/* inflight: rd_kafka_destroy's bulk take (whole shards for a client that
 * had them to itself, one pass over shared ones, exactly its records),
 * the reaper that frees a large take off the calling thread, and the exit
 * path: shards closed without waiting, a shard whose lock the exiting
 * thread holds left alone and counted, closed shards taking nothing in or
 * out. The records are the send spans themselves (their client in
 * inflight.rk, the taken list through inflight.next). Topic names: past
 * the intern table's bound a span still keeps its topic, as a copy of its
 * own, counted and freed with it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/inflight.h"
#include "agent/spans.h"
#include "tap.h"

#define N 20000

static struct kotel_client client = {.refs = 1};

static void put(const void *rkm, const void *rk)
{
        struct kotel_span *p = kotel_span_new();

        p->inflight.rk = rk;
        p->client      = kotel_client_ref(&client);
        if (kotel_inflight_put(rkm, p) < 0)
                kotel_span_free(p);
}

static size_t drain(struct kotel_inflight_taken *t, const void *rk,
                    bool *all_rk)
{
        struct kotel_span *p;
        size_t n = 0;

        *all_rk = true;
        while ((p = kotel_inflight_next(t)) != NULL) {
                *all_rk = *all_rk && p->inflight.rk == rk &&
                          !p->inflight.next;
                kotel_span_free(p);
                n++;
        }
        return n;
}

static bool refs_settle_to(int want)
{
        for (int i = 0; i < 2000; i++) {
                if (__atomic_load_n(&client.refs, __ATOMIC_ACQUIRE) == want)
                        return true;
                nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        return false;
}

static void topics_past_the_bound(void)
{
        char name[32];
        const char *a, *b, *t;
        bool owned, kept = true, interned = true;
        struct kotel_span *s;

        /* A name past KOTEL_TOPIC_MAX - 1 bytes is kept cut, and found
         * again (it used to be added anew each time, filling the table). */
        {
                char long_name[300];

                memset(long_name, 'x', sizeof(long_name) - 1);
                long_name[sizeof(long_name) - 1] = '\0';
                a = kotel_topic_intern(long_name);
                b = kotel_topic_intern(long_name);
                CHECK(a && a == b && strlen(a) == KOTEL_TOPIC_MAX - 1,
                      "a name too long is interned cut, once");
        }
        a = kotel_topic_intern("orders");
        b = kotel_topic_intern("orders");
        CHECK(a && a == b && !strcmp(a, "orders"), "a name is interned once");
        for (int i = 0; i < 5000; i++) {
                snprintf(name, sizeof(name), "topic-%d", i);
                t = kotel_topic_hold(name, &owned);
                kept &= t && !strcmp(t, name);
                if (i < 4000)
                        interned &= !owned;
                if (owned)
                        free((char *)t);
        }
        CHECK(kept, "5000 distinct names each held, past the table's bound");
        CHECK(interned, "the first 4000 interned");
        CHECK(kotel_topic_copies() > 0 && kotel_topic_copies() <= 1000,
              "the ones past the bound copied and counted");
        t = kotel_topic_hold("orders", &owned);
        CHECK(t == a && !owned, "a name interned before stays interned");

        s = kotel_span_new();
        kotel_span_set_topic(s, "late-topic");
        CHECK(s->topic && !strcmp(s->topic, "late-topic") && s->topic_owned,
              "a span past the bound keeps its topic, its own copy");
        kotel_span_free(s); /* frees the copy: ASan/valgrind check */
        s = kotel_span_new();
        kotel_span_set_topic(s, "orders");
        CHECK(s->topic == a && !s->topic_owned, "an interned topic is shared");
        kotel_span_free(s);
}

int main(void)
{
        static char msgs[3 * N];
        char rk1, rk2, rk3;
        struct kotel_inflight_taken t;
        struct kotel_span *p;
        bool all_rk;
        size_t n;

        setenv("OTEL_TRACES_EXPORTER", "none", 1);
        setenv("OTEL_LOG_LEVEL", "none", 1);

        /* One client alone: its shards move out whole. */
        for (int i = 0; i < N; i++)
                put(&msgs[i], &rk1);
        CHECK(kotel_inflight_count() == N, "records in");
        memset(&t, 0, sizeof(t));
        kotel_inflight_take_client(&rk1, &t);
        CHECK(t.n == N && kotel_inflight_count() == 0,
              "a lone client's take is whole");
        CHECK(drain(&t, &rk1, &all_rk) == N && all_rk && t.n == 0,
              "every record once, all the client's");
        kotel_inflight_free_taken(&t);

        /* Two clients sharing shards, a third elsewhere (none: every shard
         * is shared): one pass takes exactly the client's records. */
        for (int i = 0; i < N; i++)
                put(&msgs[i], i % 2 ? &rk1 : &rk2);
        memset(&t, 0, sizeof(t));
        kotel_inflight_take_client(&rk3, &t);
        CHECK(t.n == 0 && kotel_inflight_count() == N,
              "a client with no records takes none");
        kotel_inflight_take_client(&rk1, &t);
        CHECK(t.n == N / 2 && kotel_inflight_count() == N / 2, "half taken");
        CHECK(drain(&t, &rk1, &all_rk) == N / 2 && all_rk,
              "exactly rk1's records");
        n = 0;
        for (int i = 0; i < N; i++) {
                p = kotel_inflight_take(&msgs[i]);
                n += p && p->inflight.rk == &rk2 && i % 2 == 0;
                kotel_span_free(p);
        }
        CHECK(n == N / 2 && kotel_inflight_count() == 0,
              "the other client's records all still there, by message");
        CHECK(client.refs == 1, "every record freed (client references)");

        /* A large take is freed by a thread of its own. */
        for (int i = 0; i < 3 * N; i++)
                put(&msgs[i], &rk1);
        memset(&t, 0, sizeof(t));
        kotel_inflight_take_client(&rk1, &t);
        CHECK(t.n == 3 * N, "large take");
        kotel_inflight_free_taken(&t);
        CHECK(t.n == 0 && !t.list, "the take is emptied at once");
        CHECK(refs_settle_to(1), "the reaper frees every record");

        /* Exit, with the exiting thread holding every shard lock (as the
         * fork handler takes them): nothing waits, all is counted. */
        for (int i = 0; i < 100; i++)
                put(&msgs[i], &rk1);
        kotel_inflight_atfork_prepare();
        memset(&t, 0, sizeof(t));
        n = kotel_inflight_close_at_exit(true, &t);
        CHECK(n == 100 && t.n == 0, "held shards are left alone and counted");
        kotel_inflight_atfork_parent();
        kotel_inflight_atfork_child(); /* a fresh table for the next case */

        /* Exit with the locks free: shards close after their records move
         * out; a closed shard takes nothing in and gives nothing out. */
        for (int i = 0; i < 100; i++)
                put(&msgs[i], i % 2 ? &rk1 : &rk2);
        memset(&t, 0, sizeof(t));
        n = kotel_inflight_close_at_exit(true, &t);
        CHECK(n == 0 && t.n == 100, "every record taken at exit");
        p = kotel_span_new();
        CHECK(kotel_inflight_put(&msgs[200], p) < 0,
              "a closed shard refuses a record");
        kotel_span_free(p);
        while ((p = kotel_inflight_next(&t)) != NULL)
                kotel_inflight_keep_at_exit(p);
        kotel_inflight_keep_taken(&t);
        CHECK(kotel_inflight_take(&msgs[0]) == NULL &&
                  kotel_inflight_count() == 0,
              "and gives none out");
        n = kotel_inflight_close_at_exit(false, &t);
        CHECK(n == 0, "closing twice counts nothing twice");
        topics_past_the_bound();
        TAP_DONE();
}
