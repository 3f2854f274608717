/* conbench: what metrics cost the consuming thread per message, measured
 * in one process (issue 10's target: at most 50 ns on the app thread).
 *
 * Linked with the agent's objects, like hotpath, so its
 * rd_kafka_consumer_poll and rd_kafka_message_destroy are the agent's
 * wrappers. A real consumer (made by the agent's rd_kafka_new) first
 * fetches -n messages from the broker; then the agent's
 * real_rd_kafka_consumer_poll is swapped for a shim that hands those
 * messages out again and again, and real_rd_kafka_message_destroy for
 * one that keeps them. The timed loop is so the agent's whole consumer
 * path over real librdkafka messages (their timestamps, headers and
 * topics), without the fetcher, the broker or other processes taking
 * turns in it, which on two shared cores move a run's CPU per message by
 * more than the tens of ns compared here.
 *
 * Blocks of 1000 messages alternate metrics recording on and off
 * (kotel_metrics_disable/resume: the hooks then take the path they take
 * under OTEL_METRICS_EXPORTER=none), in pairs whose order alternates too,
 * each timed by the thread's own CPU clock: the machine's drift hits both
 * modes alike. What is the same in both modes (the metrics thread, the
 * tables) costs the consuming thread nothing per message.
 *
 *   conbench -b BROKERS -t TOPIC [-n MSGS] [-p PAIRS]
 *
 * The environment picks the agent's configuration (OTEL_TRACES_SAMPLER,
 * the endpoint, ...); metrics must be on, as they are by default. Prints
 * "result msgs=N pairs=P on_ns=.. off_ns=.. diff_ns=.. q1_ns=.. q3_ns=..":
 * on and off are the medians of the blocks' CPU ns per message, diff the
 * median of each pair's on less off, q1 and q3 its quartiles. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/symbols.h"
#include "benchcpu.h"
#include "metrics.h"

#define BLOCK 1000

static rd_kafka_message_t **msgs;
static long nmsgs, next_msg;
static __typeof__(rd_kafka_consumer_poll) *orig_poll;
static __typeof__(rd_kafka_message_destroy) *orig_destroy;

static rd_kafka_message_t *shim_poll(rd_kafka_t *rk, int timeout_ms)
{
        rd_kafka_message_t *m = msgs[next_msg];

        (void)rk;
        (void)timeout_ms;
        if (++next_msg == nmsgs)
                next_msg = 0;
        return m;
}

static void shim_destroy(rd_kafka_message_t *m)
{
        (void)m;
}

static void die(const char *what)
{
        fprintf(stderr, "conbench: %s\n", what);
        exit(2);
}

static rd_kafka_t *consumer(const char *brokers, const char *topic)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *tl;
        char err[256], group[64];
        rd_kafka_t *rk;

        snprintf(group, sizeof(group), "conbench-%d", (int)getpid());
        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err,
                              sizeof(err)) ||
            rd_kafka_conf_set(c, "group.id", group, err, sizeof(err)) ||
            rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err,
                              sizeof(err)) ||
            rd_kafka_conf_set(c, "enable.auto.commit", "false", err,
                              sizeof(err)) ||
            rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err)))
                die(err);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
        if (!rk)
                die(err);
        rd_kafka_poll_set_consumer(rk);
        tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, tl))
                die("subscribe failed");
        rd_kafka_topic_partition_list_destroy(tl);
        return rk;
}

/* One block of messages through the agent's consumer path: CPU ns per
 * message. */
static double block(rd_kafka_t *rk)
{
        static volatile size_t sink;
        uint64_t t0 = thread_cpu_ns();

        for (int i = 0; i < BLOCK; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);

                sink += m->len;
                rd_kafka_message_destroy(m);
        }
        return (double)(thread_cpu_ns() - t0) / BLOCK;
}

static double quantile(double *v, long n, double q)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return v[(long)(q * (double)(n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = NULL;
        long pairs = 400, idle = 0;
        double *on, *off, *diff;
        rd_kafka_t *rk;
        int o;

        nmsgs = 20000;
        while ((o = getopt(argc, argv, "b:t:n:p:")) != -1) {
                switch (o) {
                case 'b': brokers = optarg; break;
                case 't': topic = optarg; break;
                case 'n': nmsgs = atol(optarg); break;
                case 'p': pairs = atol(optarg); break;
                default:
                        fprintf(stderr, "usage: %s -b BROKERS -t TOPIC "
                                        "[-n MSGS] [-p PAIRS]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (!brokers || !topic || nmsgs < BLOCK || pairs < 1)
                die("-b and -t are required; -n at least 1000, -p at least 1");
        msgs = calloc((size_t)nmsgs, sizeof(*msgs));
        on   = calloc((size_t)pairs, sizeof(*on));
        off  = calloc((size_t)pairs, sizeof(*off));
        diff = calloc((size_t)pairs, sizeof(*diff));
        if (!msgs || !on || !off || !diff)
                die("out of memory");
        if (!kotel_agent_ready() || !kotel_symbols_resolve())
                die("the agent is off or librdkafka was not resolved");
        rk = consumer(brokers, topic);
        /* librdkafka's own poll: the fetch is not what is measured. */
        for (long got = 0; got < nmsgs;) {
                rd_kafka_message_t *m = real_rd_kafka_consumer_poll(rk, 1000);

                if (!m) {
                        if (++idle > 60)
                                die("no messages for 60 s");
                        continue;
                }
                if (m->err) {
                        real_rd_kafka_message_destroy(m);
                        continue;
                }
                msgs[got++] = m;
        }
        if (!kotel_metrics_enabled())
                die("metrics are off (OTEL_METRICS_EXPORTER)");
        orig_poll                     = real_rd_kafka_consumer_poll;
        orig_destroy                  = real_rd_kafka_message_destroy;
        real_rd_kafka_consumer_poll   = shim_poll;
        real_rd_kafka_message_destroy = shim_destroy;
        /* Warm-up: every message once in each mode (series, cells and
         * caches made, pages touched). */
        for (long i = 0; i < nmsgs / BLOCK; i++)
                block(rk);
        kotel_metrics_disable();
        for (long i = 0; i < nmsgs / BLOCK; i++)
                block(rk);
        for (long p = 0; p < pairs; p++) {
                if (p & 1) {
                        off[p] = block(rk);
                        kotel_metrics_resume();
                        on[p] = block(rk);
                } else {
                        kotel_metrics_resume();
                        on[p] = block(rk);
                        kotel_metrics_disable();
                        off[p] = block(rk);
                }
                kotel_metrics_disable();
                diff[p] = on[p] - off[p];
        }
        kotel_metrics_resume();
        real_rd_kafka_consumer_poll   = orig_poll;
        real_rd_kafka_message_destroy = orig_destroy;
        printf("result msgs=%ld pairs=%ld on_ns=%.1f off_ns=%.1f "
               "diff_ns=%.1f q1_ns=%.1f q3_ns=%.1f\n",
               nmsgs, pairs, quantile(on, pairs, 0.5),
               quantile(off, pairs, 0.5), quantile(diff, pairs, 0.5),
               quantile(diff, pairs, 0.25), quantile(diff, pairs, 0.75));
        fflush(stdout);
        for (long i = 0; i < nmsgs; i++)
                rd_kafka_message_destroy(msgs[i]);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}
