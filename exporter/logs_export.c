/* The logs exporter's queue, admission and worker.
 *
 * Admission (any thread, lock-free): a record is allocated only while the
 * exporter runs, the per-second budget (KOTEL_LOGS_MAX_PER_SECOND) has room
 * and the queue is not full; anything else is counted dropped, so a flood
 * of librdkafka lines (debug=all) costs a few atomics each, never memory
 * past the queue's bound, never a wait. The queue is exporter/queue.c's
 * bounded MPSC ring; a push that fills a batch posts lx.x.wake, at most once
 * per batch (lx.kick), as the span exporter does.
 *
 * The worker wakes every OTEL_BLRP_SCHEDULE_DELAY ms (or on a full
 * batch), takes up to OTEL_BLRP_MAX_EXPORT_BATCH_SIZE records, encodes
 * them (otlp_logs_enc.c, or otlp_logs_json.c for http/json) and posts them through its own transport to
 * <endpoint>/v1/logs, retrying retryable failures with backoff within
 * OTEL_BLRP_EXPORT_TIMEOUT; console prints one line a record instead.
 *
 * Shutdown: the exiting thread sets the deadline and posts lx.x.wake; the
 * worker drains what is queued, every request bounded by the deadline,
 * and posts lx.x.done; the exiting thread waits for that until the deadline
 * only. Records pushed after the drain stay in the ring (reachable; the
 * process is ending). */
#include "logs_export.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "console.h"
#include "env.h"
#include "gzip.h"
#include "log.h"
#include "otlp_logs_enc.h"
#include "queue.h"
#include "signal_export.h"
#include "transport.h"

static struct {
        struct kotel_sigx x; /* state, wake, done, shutdown deadline */
        struct kotel_settings set;
        long schedule_ms, export_timeout_ms;
        size_t max_batch;
        int64_t per_second; /* 0: no limit */
        struct kotel_queue q;
        bool queue_ready;
        int kick;
        struct kotel_transport *t;
        struct kotel_pbw out;
        struct kotel_buf json;
        struct kotel_gzip gz;
        struct kotel_logrec **batch;
        /* The rate budget's current second (CLOCK_MONOTONIC) and count. */
        uint64_t rate_sec;
        uint64_t rate_n;
        struct kotel_logs_stats stats;
} lx;

static void count(uint64_t *c, uint64_t n)
{
        __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

bool kotel_logs_enabled(void)
{
        return kotel_sigx_running(&lx.x);
}

void kotel_logrec_free(struct kotel_logrec *r)
{
        if (!r)
                return;
        if (r->client)
                kotel_client_unref(r->client);
        free(r);
}

/* The per-second budget: approximate under races (two threads may both
 * start a new second), never blocking. */
static bool within_rate(void)
{
        uint64_t sec, cur;

        if (!lx.per_second)
                return true;
        sec = kotel_clock_ns() / 1000000000ull;
        cur = __atomic_load_n(&lx.rate_sec, __ATOMIC_RELAXED);
        if (cur != sec &&
            __atomic_compare_exchange_n(&lx.rate_sec, &cur, sec, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                __atomic_store_n(&lx.rate_n, 0, __ATOMIC_RELAXED);
        return __atomic_fetch_add(&lx.rate_n, 1, __ATOMIC_RELAXED) <
               (uint64_t)lx.per_second;
}

struct kotel_logrec *kotel_logs_new(size_t body_len)
{
        struct kotel_logrec *r;

        if (!kotel_logs_enabled())
                return NULL;
        if (!within_rate() || kotel_queue_size(&lx.q) >= lx.q.capacity) {
                count(&lx.stats.dropped, 1);
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "log records dropped (queue full or over "
                               "KOTEL_LOGS_MAX_PER_SECOND); the counts are "
                               "logged at exit");
                return NULL;
        }
        if (body_len > KOTEL_LOGREC_BODY_MAX)
                body_len = KOTEL_LOGREC_BODY_MAX;
        r = calloc(1, sizeof(*r) + body_len + 1);
        if (!r) {
                count(&lx.stats.dropped, 1);
                return NULL;
        }
        r->body_len = (uint32_t)body_len;
        return r;
}

void kotel_logs_submit(struct kotel_logrec *r)
{
        if (!r)
                return;
        if (!kotel_logs_enabled() || !kotel_queue_push(&lx.q, r)) {
                count(&lx.stats.dropped, 1);
                kotel_logrec_free(r);
                return;
        }
        count(&lx.stats.submitted, 1);
        if (kotel_queue_size(&lx.q) >= lx.max_batch &&
            !__atomic_exchange_n(&lx.kick, 1, __ATOMIC_ACQ_REL))
                sem_post(&lx.x.wake);
}

static uint64_t shutdown_deadline(void)
{
        return kotel_sigx_deadline(&lx.x);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
        static const char d[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i]     = d[b[i] >> 4];
                out[2 * i + 1] = d[b[i] & 15];
        }
        out[2 * n] = '\0';
}

/* OTEL_LOGS_EXPORTER=console: one line a record on stderr, written with
 * one fwrite so that it reaches stderr in one piece. */
static void console_record(const struct kotel_logrec *r)
{
        char line[KOTEL_LOGREC_BODY_MAX + 512], tid[33], sid[17];
        int o = 0;

#define P(...) kotel_console_appendf(line, sizeof(line), &o, __VA_ARGS__)
        P("kotel: log severity=%d(%s) facility=%s",
          kotel_logrec_severity(r->level), kotel_logrec_severity_text(r->level),
          r->fac[0] ? r->fac : "-");
        if (r->client && r->client->client_id)
                P(" client.id=%s", r->client->client_id);
        if (r->broker[0])
                P(" broker=%s", r->broker);
        if (r->has_err)
                P(" error.type=%s code=%d", r->err_name ? r->err_name : "-",
                  (int)r->err);
        if (r->has_ctx) {
                hex(tid, r->trace_id, 16);
                hex(sid, r->span_id, 8);
                P(" trace=%s span=%s", tid, sid);
        }
        P(" body='%s'\n", r->body);
#undef P
        if (o >= (int)sizeof(line)) {
                o            = (int)sizeof(line);
                line[o - 2] = '\'';
                line[o - 1] = '\n';
        }
        fwrite(line, 1, (size_t)o, stderr);
}

static void export_batch(size_t n, uint64_t deadline)
{
        const uint8_t *body;
        size_t len;
        int64_t rejected = 0;

        if (lx.set.kind == KOTEL_EXPORTER_CONSOLE) {
                for (size_t i = 0; i < n; i++)
                        console_record(lx.batch[i]);
                count(&lx.stats.exported, n);
                return;
        }
        if (lx.set.protocol == KOTEL_PROTO_HTTP_JSON
                ? kotel_logs_enc_json(&lx.json, lx.batch, n) < 0
                : kotel_logs_enc_encode(&lx.out, lx.batch, n) < 0) {
                kotel_log(KOTEL_LOG_ERROR,
                          "logs export: out of memory while encoding");
                count(&lx.stats.failed, n);
                return;
        }
        body = lx.set.protocol == KOTEL_PROTO_HTTP_JSON ? (uint8_t *)lx.json.p
                                                        : lx.out.p;
        len  = lx.set.protocol == KOTEL_PROTO_HTTP_JSON ? lx.json.len
                                                        : lx.out.len;
        if (lx.set.gzip &&
            kotel_gzip_compress(&lx.gz, body, len, &body, &len) < 0) {
                count(&lx.stats.failed, n);
                return;
        }
        if (lx.t && kotel_sigx_post(&lx.x, lx.t, &lx.set, "logs", body, len,
                                    deadline, &rejected)) {
                /* A partial success's rejected records are failed ones;
                 * a count out of range (untrusted) is ignored. */
                size_t bad = rejected > 0 && (uint64_t)rejected <= n
                                 ? (size_t)rejected
                                 : 0;

                count(&lx.stats.exported, n - bad);
                count(&lx.stats.failed, bad);
        } else {
                count(&lx.stats.failed, n);
        }
}

/* Takes up to a batch off the queue, exports and frees it; the number
 * taken. */
static size_t export_some(void)
{
        uint64_t sd = shutdown_deadline();
        uint64_t d =
            lx.export_timeout_ms
                ? kotel_clock_ns() + (uint64_t)lx.export_timeout_ms * 1000000ull
                : UINT64_MAX;
        size_t n = 0;
        void *p;

        while (n < lx.max_batch && (p = kotel_queue_pop(&lx.q)))
                lx.batch[n++] = p;
        if (!n)
                return 0;
        if (sd && sd < d)
                d = sd;
        export_batch(n, d);
        for (size_t i = 0; i < n; i++)
                kotel_logrec_free(lx.batch[i]);
        return n;
}

static void *worker(void *arg)
{
        (void)arg;
        pthread_setname_np(pthread_self(), "kotel-logs");
        for (;;) {
                uint64_t sd;

                kotel_sigx_wait_until(&lx.x.wake,
                               kotel_clock_ns() +
                                   (uint64_t)lx.schedule_ms * 1000000ull);
                __atomic_store_n(&lx.kick, 0, __ATOMIC_RELEASE);
                sd = shutdown_deadline();
                /* Full batches go at once; a partial one ends the round. */
                while (export_some() == lx.max_batch &&
                       (!sd || kotel_clock_ns() < sd))
                        ;
                if (sd) {
                        /* Past the deadline: what is left is dropped. */
                        while (kotel_clock_ns() < sd && export_some())
                                ;
                        break;
                }
        }
        sem_post(&lx.x.done);
        return NULL;
}

static void load_blrp(void)
{
        lx.schedule_ms = (long)kotel_env_int("OTEL_BLRP_SCHEDULE_DELAY", 1000,
                                             1, 3600L * 1000);
        lx.export_timeout_ms = (long)kotel_env_int("OTEL_BLRP_EXPORT_TIMEOUT",
                                                   30000, 0, 3600L * 1000);
        lx.set.max_queue = (size_t)kotel_env_int("OTEL_BLRP_MAX_QUEUE_SIZE",
                                                 2048, 1, 1 << 20);
        lx.max_batch     = (size_t)kotel_env_int(
            "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", 512, 1, 1 << 20);
        if (lx.max_batch > lx.set.max_queue) {
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE exceeds "
                          "OTEL_BLRP_MAX_QUEUE_SIZE; using the queue size");
                lx.max_batch = lx.set.max_queue;
        }
        lx.per_second =
            kotel_env_int("KOTEL_LOGS_MAX_PER_SECOND", 1000, 0, 1 << 30);
}

static void reset(void)
{
        if (lx.t)
                kotel_transport_free(lx.t);
        lx.t = NULL;
        if (lx.queue_ready)
                kotel_queue_destroy(&lx.q);
        lx.queue_ready = false;
        free(lx.batch);
        lx.batch = NULL;
}

void kotel_logs_start(void)
{
        if (!kotel_sigx_configure(&lx.x, "OTEL_LOGS_EXPORTER",
                                  KOTEL_SIGNAL_LOGS, &lx.set))
                return;
        load_blrp();
        lx.batch = calloc(lx.max_batch, sizeof(*lx.batch));
        if (!lx.batch || kotel_queue_init(&lx.q, lx.set.max_queue) < 0)
                goto fail;
        lx.queue_ready = true;
        if (lx.set.kind == KOTEL_EXPORTER_OTLP &&
            !(lx.t = kotel_sigx_transport(&lx.set)))
                goto fail;
        if (kotel_sigx_run(&lx.x, worker) < 0)
                goto fail;
        kotel_log(KOTEL_LOG_DEBUG, "logs exporter started: %s to %s",
                  lx.set.kind == KOTEL_EXPORTER_CONSOLE ? "console" : "otlp",
                  lx.set.url);
        return;
fail:
        reset();
        kotel_log_always(KOTEL_LOG_ERROR, "logs exporter could not start; "
                                          "librdkafka's logs will not be "
                                          "exported");
}

void kotel_logs_shutdown_begin(uint64_t deadline_ns)
{
        kotel_sigx_stop_begin(&lx.x, deadline_ns);
}

void kotel_logs_shutdown_wait(uint64_t deadline_ns)
{
        struct kotel_logs_stats s;

        if (!kotel_sigx_stop_wait(&lx.x, deadline_ns))
                return;
        kotel_logs_get_stats(&s);
        if (s.submitted || s.dropped)
                kotel_log(KOTEL_LOG_DEBUG,
                          "log records submitted=%" PRIu64
                          " exported=%" PRIu64 " dropped=%" PRIu64
                          " failed=%" PRIu64,
                          s.submitted, s.exported, s.dropped, s.failed);
}

void kotel_logs_atfork_child(void)
{
        /* The thread did not survive: the child captures nothing; the
         * parent exports what its queue holds. */
        kotel_sigx_atfork_child(&lx.x);
}

void kotel_logs_get_stats(struct kotel_logs_stats *out)
{
        out->submitted = __atomic_load_n(&lx.stats.submitted, __ATOMIC_RELAXED);
        out->exported  = __atomic_load_n(&lx.stats.exported, __ATOMIC_RELAXED);
        out->dropped   = __atomic_load_n(&lx.stats.dropped, __ATOMIC_RELAXED);
        out->failed    = __atomic_load_n(&lx.stats.failed, __ATOMIC_RELAXED);
}
