/* What recording a consumed message's metrics costs the consuming thread
 * (issue 10's target: at most 50 ns per message on the app thread): the
 * two calls kotel's consumer hooks make per message into the instruments
 * (exporter/metrics.c), kotel_metrics_record_message() when the message is
 * delivered (consumed counter, age, the single poll's duration) and
 * kotel_metrics_record_ref() when its processing ends (process duration),
 * in a loop, timed by each thread's own CPU clock. "off" runs the same
 * loop with recording off (each call one load), so on minus off is what
 * the instruments add. The agent's glue around them (the client and topic
 * of the message, its timestamp, the clock reads) is counted by callgrind
 * instead (docs/performance.md, Method).
 *
 *   metricsbench [-n MSGS] [-r ROUNDS] [-t THREADS] [-S] [-x]
 *
 * -t: threads recording at once, each its own partition's series, or with
 * -S all one series (the case where shared counters bounce between
 * cores). -x: every message sampled, so its process duration offers an
 * exemplar (with the end time the agent has read already), as at 100 %
 * sampling. Prints one line per mode, "result mode=on|off threads=T
 * shared=0|1 sampled=0|1 ns=MEDIAN", the median over the rounds of the
 * threads' mean ns per message. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchcpu.h"
#include "metrics.h"

#define MAX_THREADS 16

static struct kotel_client client = {1, "bench", "g", "localhost", 9092, NULL};
static long msgs                  = 2000000;
static int shared, sampled;

/* One consumer thread's messages: @arg its index in, its ns per message
 * out (through the same slot). */
static void *consume(void *arg)
{
        double *slot          = arg;
        int id                = (int)*slot;
        struct kotel_mattrs a = {&client, "orders", shared ? 0 : id,
                                 KOTEL_OP_POLL, NULL};
        uint8_t tid[16]       = {1, 2, 3}, sid[8] = {4, 5, 6};
        uint64_t t0           = thread_cpu_ns();

        for (long i = 0; i < msgs; i++) {
                struct kotel_mseries_ref process;

                /* Values spread over the first buckets like a consumer's:
                 * ages of a few ms, polls and processing of us to ms. */
                kotel_metrics_record_message(&a, true,
                                             2000000ull + (uint64_t)(i & 7) *
                                                              1000000ull,
                                             true, 3000ull + (uint64_t)(i & 3),
                                             &process);
                kotel_metrics_record_ref(KOTEL_M_PROCESS_DURATION, process,
                                         (uint64_t)(i & 15) * 1000000ull,
                                         sampled ? tid : NULL,
                                         sampled ? sid : NULL, t0 + (uint64_t)i);
        }
        *slot = (double)(thread_cpu_ns() - t0) / (double)msgs;
        return NULL;
}

static double run(int threads)
{
        pthread_t th[MAX_THREADS];
        double ns[MAX_THREADS], sum = 0;

        for (int i = 0; i < threads; i++) {
                ns[i] = i;
                pthread_create(&th[i], NULL, consume, &ns[i]);
        }
        for (int i = 0; i < threads; i++) {
                pthread_join(th[i], NULL);
                sum += ns[i];
        }
        return sum / threads;
}

int main(int argc, char **argv)
{
        struct kotel_metrics_config cfg = {
            .temporality       = KOTEL_TEMPORALITY_CUMULATIVE,
            .exemplar_filter   = KOTEL_EXEMPLAR_TRACE_BASED,
            .cardinality_limit = 2000,
        };
        int rounds = 7, threads = 1, o;
        double on[64], off[64];

        while ((o = getopt(argc, argv, "n:r:t:Sx")) != -1) {
                switch (o) {
                case 'n': msgs = atol(optarg); break;
                case 'r': rounds = atoi(optarg); break;
                case 't': threads = atoi(optarg); break;
                case 'S': shared = 1; break;
                case 'x': sampled = 1; break;
                default:
                        fprintf(stderr, "usage: %s [-n MSGS] [-r ROUNDS] "
                                        "[-t THREADS] [-S] [-x]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (msgs < 1 || rounds < 1 || rounds > 64 || threads < 1 ||
            threads > MAX_THREADS) {
                fprintf(stderr, "metricsbench: bad -n, -r or -t\n");
                return 2;
        }
        /* Alternate the modes round by round: the machine's load drifts
         * over both alike. Each "on" round starts from fresh tables. */
        for (int r = 0; r < rounds; r++) {
                kotel_metrics_reset();
                off[r] = run(threads);
                if (kotel_metrics_init(&cfg) < 0)
                        return 1;
                on[r] = run(threads);
        }
        kotel_metrics_reset();
        qsort(on, (size_t)rounds, sizeof(*on), cmp_double);
        qsort(off, (size_t)rounds, sizeof(*off), cmp_double);
        printf("result mode=on threads=%d shared=%d sampled=%d ns=%.1f\n",
               threads, shared, sampled, on[rounds / 2]);
        printf("result mode=off threads=%d shared=%d sampled=%d ns=%.1f\n",
               threads, shared, sampled, off[rounds / 2]);
        return 0;
}
