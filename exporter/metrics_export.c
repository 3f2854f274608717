#include "metrics_export.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "env.h"
#include "gzip.h"
#include "kafka_stats.h"
#include "log.h"
#include "metrics.h"
#include "otlp_common.h"
#include "otlp_metrics_enc.h"
#include "otlp_metrics_json.h"
#include "settings.h"
#include "signal_export.h"
#include "transport.h"

enum {
        D_OP_DURATION,
        D_SENT,
        D_CONSUMED,
        D_PROCESS_DURATION,
        D_AGE,
        D_AGE_NEGATIVE,
        D_N
};

static struct {
        struct kotel_sigx x; /* state, wake, done, shutdown deadline */
        struct kotel_settings set;
        struct kotel_metrics_config cfg;
        long interval_ms, timeout_ms;
        struct kotel_transport *t;
        struct kotel_pbw out;
        struct kotel_buf json; /* http/json's request */
        struct kotel_gzip gz;
        struct kotel_mpoint *pts[KOTEL_M_N];
        struct kotel_mpoint *dur; /* sends' and polls' durations */
        struct kotel_mpoint *age; /* kotel.message.age's points */
        uint64_t overflow_logged[KOTEL_M_N];
        struct kotel_gpoint *gauges[KOTEL_KG_N]; /* kafka_stats.h */
        uint64_t kstats_logged[3];
        uint64_t exports, failures;
        const struct kotel_resource *resource; /* the process's */
} mx;

void kotel_metrics_set_resource(const struct kotel_resource *r)
{
        __atomic_store_n(&mx.resource, r, __ATOMIC_RELEASE);
}

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void console_point(const char *name, const struct kotel_mpoint *p,
                          bool hist)
{
        struct kotel_log_value q;
        const char *svc;

        fprintf(stderr,
                "kotel: metric '%s'%s topic=%s partition=%d op=%s%s%s "
                "count=%" PRIu64,
                name, p->overflow ? " otel.metric.overflow=true" : "",
                p->topic && p->topic[0] ? p->topic : "-", p->partition,
                kotel_op_name(p->op), p->error_type ? " error.type=" : "",
                p->error_type ? p->error_type : "", p->count);
        if (hist)
                fprintf(stderr, " sum_s=%.6f", (double)p->sum_ns / 1e9);
        if (p->client &&
            (svc = kotel_resource_service_name(p->client->resource)))
                fprintf(stderr, " service.name=%s", kotel_log_value(&q, svc));
        fputc('\n', stderr);
}

static void log_overflow(void)
{
        static const char *names[KOTEL_M_N] = {
            "messaging.client.operation.duration",
            "messaging.client.consumed.messages (and kotel.message.age)",
            "kotel.message.age.negative",
            "messaging.client.operation.duration (poll)",
            "messaging.process.duration"};

        for (int i = 0; i < KOTEL_M_N; i++) {
                uint64_t n = kotel_metrics_overflowed(i);

                if (n == mx.overflow_logged[i])
                        continue;
                kotel_log(KOTEL_LOG_WARN,
                          "%s: %" PRIu64 " measurements (%" PRIu64
                          " in all) went to the overflow series "
                          "(otel.metric.overflow=true): more attribute sets "
                          "than KOTEL_METRICS_CARDINALITY_LIMIT=%u",
                          names[i], n - mx.overflow_logged[i], n,
                          mx.cfg.cardinality_limit);
                mx.overflow_logged[i] = n;
        }
}

/* What kafka_stats dropped since the last look, one line each. */
static void log_kstats(void)
{
        static const char *what[3] = {
            "statistics JSON over 4 MiB dropped (not parsed)",
            "statistics JSON that did not parse (or was not librdkafka's "
            "statistics object) dropped",
            "gauge points went to the overflow series "
            "(otel.metric.overflow=true): more attribute sets than "
            "KOTEL_METRICS_CARDINALITY_LIMIT"};
        uint64_t now[3];

        kotel_kafka_stats_counts(&now[0], &now[1], &now[2]);
        for (int i = 0; i < 3; i++) {
                if (now[i] == mx.kstats_logged[i])
                        continue;
                kotel_log(KOTEL_LOG_WARN,
                          "kafka statistics: %" PRIu64 " %s (%" PRIu64
                          " in all)",
                          now[i] - mx.kstats_logged[i], what[i], now[i]);
                mx.kstats_logged[i] = now[i];
        }
}

static void console_gauge(const char *name, const struct kotel_gpoint *p)
{
        fprintf(stderr, "kotel: metric '%s'%s client=%s topic=%s partition=%d "
                        "server=%s value=",
                name, p->overflow ? " otel.metric.overflow=true" : "",
                p->client_name ? p->client_name : "-",
                p->topic ? p->topic : "-", p->partition,
                p->host ? p->host : "-");
        if (p->is_double)
                fprintf(stderr, "%.6f\n", p->dval);
        else
                fprintf(stderr, "%" PRId64 "\n", p->ival);
}

/* messaging.client.operation.duration's points: the sends' and the
 * polls' (two tables, so that sent.messages is the sends' counts alone),
 * their overflow series merged into one. Returns the count in mx.dur. */
static size_t merge_durations(size_t n_send, size_t n_poll)
{
        struct kotel_mpoint *over = NULL;
        size_t n                  = 0;

        for (int k = 0; k < 2; k++) {
                const struct kotel_mpoint *p =
                    mx.pts[k ? KOTEL_M_POLL_DURATION : KOTEL_M_OP_DURATION];

                for (size_t i = 0; i < (k ? n_poll : n_send); i++) {
                        if (!p[i].overflow || !over) {
                                mx.dur[n] = p[i];
                                if (p[i].overflow)
                                        over = &mx.dur[n];
                                n++;
                                continue;
                        }
                        over->count += p[i].count;
                        over->sum_ns += p[i].sum_ns;
                        if (p[i].start_ns < over->start_ns)
                                over->start_ns = p[i].start_ns;
                        for (int b = 0; b < KOTEL_M_BUCKETS; b++) {
                                over->buckets[b] += p[i].buckets[b];
                                if (!over->ex[b].valid)
                                        over->ex[b] = p[i].ex[b];
                        }
                }
        }
        return n;
}

/* kotel.message.age's points: the consumed series' histograms (only
 * messages with a timestamp are in their buckets), those with any. */
static size_t ages(size_t n_consumed)
{
        size_t n = 0;

        for (size_t i = 0; i < n_consumed; i++) {
                const struct kotel_mpoint *p = &mx.pts[KOTEL_M_CONSUMED][i];
                uint64_t c                   = 0;

                for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                        c += p->buckets[b];
                if (!c)
                        continue;
                mx.age[n]       = *p;
                mx.age[n].count = c;
                n++;
        }
        return n;
}

/* The request for @d in the configured protocol, in mx's buffers. */
static int encode(const struct kotel_metric_desc *d,
                  const struct kotel_gauge_desc *g, const uint8_t **body,
                  size_t *len)
{
        const struct kotel_resource *res =
            __atomic_load_n(&mx.resource, __ATOMIC_ACQUIRE);

        if (mx.set.protocol == KOTEL_PROTO_HTTP_JSON) {
                if (kotel_metrics_json_encode(&mx.json, d, D_N, g, KOTEL_KG_N,
                                              res) < 0)
                        return -1;
                *body = (const uint8_t *)mx.json.p;
                *len  = mx.json.len;
                return 0;
        }
        if (kotel_metrics_enc_encode_all(&mx.out, d, D_N, g, KOTEL_KG_N,
                                         res) < 0)
                return -1;
        *body = mx.out.p;
        *len  = mx.out.len;
        return 0;
}

/* One collection and export, bounded by @deadline (mono). */
static void export_once(uint64_t deadline)
{
        uint64_t now = wall_ns();
        size_t cap   = mx.cfg.cardinality_limit;
        size_t n_op  = kotel_metrics_collect(
             KOTEL_M_OP_DURATION, mx.pts[KOTEL_M_OP_DURATION], cap, now);
        size_t n_co  = kotel_metrics_collect(KOTEL_M_CONSUMED,
                                             mx.pts[KOTEL_M_CONSUMED], cap, now);
        size_t n_age = ages(n_co);
        size_t n_neg = kotel_metrics_collect(
            KOTEL_M_AGE_NEGATIVE, mx.pts[KOTEL_M_AGE_NEGATIVE], cap, now);
        size_t n_poll = kotel_metrics_collect(
            KOTEL_M_POLL_DURATION, mx.pts[KOTEL_M_POLL_DURATION], cap, now);
        size_t n_dur  = merge_durations(n_op, n_poll);
        size_t n_proc = kotel_metrics_collect(
            KOTEL_M_PROCESS_DURATION, mx.pts[KOTEL_M_PROCESS_DURATION], cap,
            now);
        size_t ng[KOTEL_KG_N];
        const uint8_t *body;
        size_t len;
        int64_t rejected; /* not used: an export counts whole */

        kotel_kafka_stats_collect(mx.gauges, cap, ng);
        log_overflow();
        log_kstats();
        if (!n_dur && !n_co && !n_age && !n_neg && !n_proc &&
            !ng[KOTEL_KG_LAG] && !ng[KOTEL_KG_QUEUE_MSGS] && !ng[KOTEL_KG_RTT])
                return;
        {
                struct kotel_metric_desc d[D_N] = {
                    [D_OP_DURATION]  = {"messaging.client.operation.duration",
                                        "Duration of messaging operation "
                                         "initiated by a producer or consumer "
                                         "client.",
                                        "s", KOTEL_SHAPE_HISTOGRAM,
                                        mx.cfg.temporality, false, mx.dur,
                                        n_dur, false},
                    [D_SENT]         = {"messaging.client.sent.messages",
                                        "Number of messages producer attempted "
                                                "to send to the broker.",
                                        "{message}", KOTEL_SHAPE_COUNTER,
                                        mx.cfg.temporality, true,
                                        mx.pts[KOTEL_M_OP_DURATION], n_op,
                                        false},
                    [D_CONSUMED]     = {"messaging.client.consumed.messages",
                                        "Number of messages that were delivered "
                                            "to the application.",
                                        "{message}", KOTEL_SHAPE_COUNTER,
                                        mx.cfg.temporality, true,
                                        mx.pts[KOTEL_M_CONSUMED], n_co,
                                        false},
                    [D_PROCESS_DURATION] = {"messaging.process.duration",
                                            "Duration of processing "
                                            "operation.",
                                            "s", KOTEL_SHAPE_HISTOGRAM,
                                            mx.cfg.temporality, false,
                                            mx.pts[KOTEL_M_PROCESS_DURATION],
                                            n_proc, false},
                    [D_AGE]          = {"kotel.message.age",
                                        "A consumed message's age when its "
                                                 "processing starts: now minus the "
                                                 "message's timestamp (create or "
                                                 "log-append time).",
                                        "s", KOTEL_SHAPE_HISTOGRAM, mx.cfg.temporality,
                                        false, mx.age, n_age, true},
                    [D_AGE_NEGATIVE] = {"kotel.message.age.negative",
                                        "Consumed messages whose timestamp "
                                        "was in the future (recorded with "
                                        "age 0).",
                                        "{message}", KOTEL_SHAPE_COUNTER,
                                        mx.cfg.temporality, false,
                                        mx.pts[KOTEL_M_AGE_NEGATIVE], n_neg,
                                        true},
                };
                /* librdkafka's statistics (docs/metrics.md). */
                struct kotel_gauge_desc g[KOTEL_KG_N] = {
                    [KOTEL_KG_LAG]         = {"messaging.kafka.consumer.lag",
                                              "Messages between a partition's "
                                                      "committed offset and its high "
                                                      "watermark (librdkafka's "
                                                      "consumer_lag).",
                                              "{message}", mx.gauges[KOTEL_KG_LAG],
                                              ng[KOTEL_KG_LAG]},
                    [KOTEL_KG_QUEUE_MSGS]  = {"messaging.kafka.producer.queue."
                                              "messages",
                                              "Messages in the producer's queues, "
                                              "not yet delivered (librdkafka's "
                                              "msg_cnt).",
                                              "{message}",
                                              mx.gauges[KOTEL_KG_QUEUE_MSGS],
                                              ng[KOTEL_KG_QUEUE_MSGS]},
                    [KOTEL_KG_QUEUE_BYTES] = {"messaging.kafka.producer.queue."
                                              "size",
                                              "Bytes of the messages in the "
                                              "producer's queues (librdkafka's "
                                              "msg_size).",
                                              "By",
                                              mx.gauges[KOTEL_KG_QUEUE_BYTES],
                                              ng[KOTEL_KG_QUEUE_BYTES]},
                    [KOTEL_KG_RTT]         = {"messaging.kafka.broker.rtt",
                                              "Average round-trip time of "
                                              "requests to a broker over the last "
                                              "statistics interval (librdkafka's "
                                              "rtt.avg).",
                                              "s", mx.gauges[KOTEL_KG_RTT],
                                              ng[KOTEL_KG_RTT]},
                };

                if (mx.set.kind == KOTEL_EXPORTER_CONSOLE) {
                        for (int k = 0; k < D_N; k++)
                                for (size_t i = 0; i < d[k].n; i++)
                                        console_point(
                                            d[k].name, &d[k].pts[i],
                                            d[k].shape ==
                                                KOTEL_SHAPE_HISTOGRAM);
                        for (int k = 0; k < KOTEL_KG_N; k++)
                                for (size_t i = 0; i < g[k].n; i++)
                                        console_gauge(g[k].name, &g[k].pts[i]);
                        fflush(stderr);
                        return;
                }
                if (encode(d, g, &body, &len) < 0) {
                        kotel_log(KOTEL_LOG_ERROR, "metrics export: out of "
                                                   "memory while encoding");
                        return;
                }
        }
        if (mx.set.gzip && kotel_gzip_compress(&mx.gz, body, len, &body, &len))
                return;
        if (!mx.t)
                return;
        if (kotel_sigx_post(&mx.x, mx.t, &mx.set, "metrics", body, len,
                            deadline, &rejected))
                mx.exports++;
        else
                mx.failures++;
}

static void *worker(void *arg)
{
        uint64_t next = mono_ns() + (uint64_t)mx.interval_ms * 1000000ull;

        (void)arg;
        pthread_setname_np(pthread_self(), "kotel-metrics");
        for (;;) {
                uint64_t sd, d;

                kotel_sigx_wait_until(&mx.x.wake, next);
                sd = kotel_sigx_deadline(&mx.x);
                if (!sd && mono_ns() < next)
                        continue;
                next = mono_ns() + (uint64_t)mx.interval_ms * 1000000ull;
                d    = mono_ns() + (uint64_t)mx.timeout_ms * 1000000ull;
                if (sd && sd < d)
                        d = sd;
                export_once(d);
                if (sd)
                        break;
        }
        kotel_log(KOTEL_LOG_DEBUG,
                  "metrics exports ok=%" PRIu64 " failed=%" PRIu64, mx.exports,
                  mx.failures);
        sem_post(&mx.x.done);
        return NULL;
}

void kotel_metrics_start(void)
{
        if (!kotel_sigx_configure(&mx.x, "OTEL_METRICS_EXPORTER",
                                  KOTEL_SIGNAL_METRICS, &mx.set))
                return;
        kotel_metrics_config_load(&mx.cfg);
        mx.interval_ms = (long)kotel_env_int("OTEL_METRIC_EXPORT_INTERVAL",
                                             60000, 1, 24L * 3600 * 1000);
        mx.timeout_ms = (long)kotel_env_int("OTEL_METRIC_EXPORT_TIMEOUT", 30000,
                                            1, 3600L * 1000);
        for (int i = 0; i < KOTEL_M_N; i++)
                mx.pts[i] = calloc(mx.cfg.cardinality_limit, sizeof(**mx.pts));
        mx.dur = calloc(2 * (size_t)mx.cfg.cardinality_limit, sizeof(*mx.dur));
        for (int i = 0; i < KOTEL_M_N; i++)
                if (!mx.pts[i])
                        goto fail;
        mx.age = calloc(mx.cfg.cardinality_limit, sizeof(*mx.age));
        for (int i = 0; i < KOTEL_KG_N; i++)
                if (!(mx.gauges[i] = calloc(mx.cfg.cardinality_limit,
                                            sizeof(**mx.gauges))))
                        goto fail;
        if (!mx.dur || !mx.age || kotel_metrics_init(&mx.cfg) < 0)
                goto fail;
        if (mx.set.kind == KOTEL_EXPORTER_OTLP &&
            !(mx.t = kotel_sigx_transport(&mx.set)))
                goto fail;
        if (kotel_sigx_run(&mx.x, worker) < 0)
                goto fail;
        kotel_log(KOTEL_LOG_DEBUG,
                  "metrics exporter started: %s to %s every "
                  "%ld ms",
                  mx.set.kind == KOTEL_EXPORTER_CONSOLE ? "console" : "otlp",
                  mx.set.url, mx.interval_ms);
        return;
fail:
        kotel_metrics_reset();
        kotel_log_always(KOTEL_LOG_ERROR, "metrics exporter could not start; "
                                          "metrics will not be exported");
}

void kotel_metrics_shutdown_begin(uint64_t deadline_ns)
{
        kotel_sigx_stop_begin(&mx.x, deadline_ns);
}

void kotel_metrics_shutdown_wait(uint64_t deadline_ns)
{
        kotel_sigx_stop_wait(&mx.x, deadline_ns);
}

void kotel_metrics_atfork_child(void)
{
        /* The thread did not survive: no more recording, no exit flush. */
        kotel_sigx_atfork_child(&mx.x);
        kotel_metrics_disable();
}
