/* The exporter's books at shutdown: threads keep submitting spans while
 * another thread shuts the exporter down against a collector that is not
 * there. Every span counted started must end in exactly one of exported,
 * dropped or failed, also those submitted by a thread that saw the
 * exporter running just before shutdown closed the books. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/exporter.h"
#include "tap.h"

#define THREADS 3

static volatile int stop;

static void *submitter(void *arg)
{
        (void)arg;
        while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
                struct kotel_span *s = kotel_span_new();

                if (!s)
                        continue;
                memset(s->trace_id, 1, 16);
                memset(s->span_id, 2, 8);
                s->kind = KOTEL_KIND_PRODUCER;
                s->topic = "t";
                kotel_exporter_count_started();
                kotel_exporter_submit(s);
        }
        return NULL;
}

int main(void)
{
        struct kotel_exporter_stats st;
        struct timespec d = {0, 200 * 1000000L};
        pthread_t th[THREADS];
        uint64_t ended;

        /* Nothing listens on port 9 of 127.0.0.1: every export fails fast
         * and is retried until the (short) deadlines. */
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9", 1);
        setenv("OTEL_BSP_SCHEDULE_DELAY", "10", 1);
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "256", 1);
        setenv("OTEL_BSP_EXPORT_TIMEOUT", "300", 1);
        setenv("KOTEL_SHUTDOWN_TIMEOUT", "100", 1);
        setenv("OTEL_LOG_LEVEL", "none", 1);
        CHECK(kotel_exporter_start() == 0, "exporter starts");
        for (int i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, submitter, NULL);
        nanosleep(&d, NULL);
        kotel_exporter_shutdown(); /* while the others keep submitting */
        nanosleep(&d, NULL);
        __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        /* Let an abandoned worker finish its last attempt (it must not
         * count again). */
        nanosleep(&d, NULL);
        kotel_exporter_get_stats(&st);
        ended = st.exported + st.dropped + st.failed;
        CHECK(st.started > 1000, "the threads submitted spans throughout");
        CHECK(st.exported == 0, "nothing reached a collector that is not there");
        CHECK(ended == st.started, "started == exported + dropped + failed");
        if (ended != st.started)
                printf("# started=%llu exported=%llu dropped=%llu failed=%llu\n",
                       (unsigned long long)st.started,
                       (unsigned long long)st.exported,
                       (unsigned long long)st.dropped,
                       (unsigned long long)st.failed);
        TAP_DONE();
}
