/* The exporter thread and its lifecycle.
 *
 * This file owns the queue, the state machine, the worker's loop and the
 * counters; the worker hands each batch it takes off the queue to
 * console.c (OTEL_TRACES_EXPORTER=console) or to sender.c (OTLP: encode,
 * POST, retry with backoff, log how exports fare; its state is ex.send),
 * and settles the counts they return.
 *
 * State machine (ex.state, atomic): IDLE -> STARTING -> RUNNING ->
 * STOPPING -> STOPPED; STARTING -> DISABLED when the exporter cannot run.
 * Producers only push while RUNNING; anything else drops and counts.
 *
 * Wake-ups: the worker sleeps on ex.wake with the schedule delay as timeout.
 * A producer whose push makes a full batch posts ex.wake, but only if no
 * kick is pending (ex.kick exchange), so at most one sem_post per batch
 * reaches the kernel, never one per span.
 *
 * Accounting: every span handed to an exporter that runs ends in exactly
 * one counter (with OTEL_TRACES_EXPORTER=none, or an exporter that could
 * not start, spans are counted started only). ex.pending counts
 * spans accepted by the queue and not yet settled (queued or in the
 * worker's hands). The worker settles a batch (exported/failed, pending -=
 * n) under ex.settle_lock, a lock held only for those few additions and
 * never by app threads, which only touch atomics.
 *
 * Shutdown: the exiting thread flips RUNNING -> STOPPING, sets the
 * deadline, posts ex.wake, and waits on ex.done until that deadline. The
 * worker drains the queue with every request bounded by the deadline. If
 * the deadline passes first (blackholed collector) the exiting thread, under
 * ex.settle_lock, counts what is still pending as dropped, closes pending
 * (PENDING_CLOSED: a span submitted later is counted dropped by its own
 * thread) and marks the worker abandoned, so that a late result is not
 * counted twice; then it returns: exit never hangs.
 *
 * Flush (kotel_exporter_flush_by, when the app's last client is gone): the
 * app thread sets ex.flush_req and posts ex.wake; the worker, seeing the
 * request, exports everything queued at wake-up (as when the schedule delay
 * expires) and posts ex.flushed. The app thread waits on ex.flushed until
 * nothing is pending or its deadline passes, whichever is first; a flush
 * that ran out of time (collector unreachable) makes later ones return at
 * once until an export succeeds again, so an app that closes clients in a
 * loop is not held up by the deadline each time.
 *
 * Fork: the child has no worker. Its queue forgets the parent's spans (the
 * parent exports them), counters restart at zero, and the exporter starts
 * again with the child's first span. */
#include "symbolize.h"
#include "exporter.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console.h"
#include "queue.h"
#include "sender.h"
#include "settings.h"
#include "transport.h"

enum {
        ST_IDLE = 0,
        ST_STARTING,
        ST_RUNNING,
        ST_STOPPING,
        ST_STOPPED,
        ST_DISABLED,
};

static struct {
        int state;
        int kick;
        int flush_req;  /* an app thread waits for a flush (see above) */
        bool flush_late; /* the last flush ran out of time */
        bool queue_ready;
        bool abandoned; /* under settle_lock: shutdown gave up waiting */
        struct kotel_settings set;
        struct kotel_queue q;
        sem_t wake;
        sem_t done;
        sem_t flushed;
        pthread_t thread;
        pthread_mutex_t settle_lock;
        uint64_t deadline_ns; /* shutdown deadline, CLOCK_MONOTONIC */
        uint64_t pending;     /* queued or in the worker's hands */
        struct kotel_exporter_stats stats;
        /* The worker's batch array and HTTP client, for a fork child to
         * keep (below). */
        struct kotel_span **worker_batch;
        struct kotel_transport *worker_transport;
        /* In a fork child: the parent worker's batch (with the spans it
         * held) and HTTP client. Not freed: the client's connection (and
         * its TLS state) is the parent's, and cleaning it up could write to
         * it; kept here so that they stay reachable, not leaked. */
        struct kotel_span **orphan_batch;
        struct kotel_transport *orphan_transport;
        /* Exporter thread: the OTLP send path's backoff, failure log and
         * encoder (sender.c). */
        struct kotel_sender send;
} ex = {.settle_lock = PTHREAD_MUTEX_INITIALIZER};

/* ex.pending after shutdown has counted what was left: later arrivals
 * see a value at least this and count themselves. */
#define PENDING_CLOSED (UINT64_C(1) << 62)

static void count(uint64_t *c, uint64_t n)
{
        __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* Waits on @sem until posted or @ms pass (CLOCK_MONOTONIC, so a wall-clock
 * jump neither stalls nor hurries the worker). */
static void sem_wait_ms(sem_t *sem, long ms)
{
        uint64_t until =
            kotel_clock_ns() + (uint64_t)(ms > 0 ? ms : 0) * 1000000ull;
        struct timespec ts = {.tv_sec  = (time_t)(until / 1000000000ull),
                              .tv_nsec = (long)(until % 1000000000ull)};

        while (sem_clockwait(sem, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
                ;
}

void kotel_exporter_count_started(void)
{
        count(&ex.stats.started, 1);
}

void kotel_exporter_get_stats(struct kotel_exporter_stats *out)
{
        out->started  = __atomic_load_n(&ex.stats.started, __ATOMIC_RELAXED);
        out->exported = __atomic_load_n(&ex.stats.exported, __ATOMIC_RELAXED);
        out->dropped  = __atomic_load_n(&ex.stats.dropped, __ATOMIC_RELAXED);
        out->failed   = __atomic_load_n(&ex.stats.failed, __ATOMIC_RELAXED);
        out->retried  = __atomic_load_n(&ex.stats.retried, __ATOMIC_RELAXED);
}

void kotel_exporter_submit(struct kotel_span *s)
{
        int st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);

        if (st == ST_IDLE) {
                /* A fork child's first span. */
                kotel_exporter_start();
                st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);
        }
        if (st != ST_RUNNING) {
                if (st != ST_DISABLED)
                        count(&ex.stats.dropped, 1);
                kotel_span_free(s);
                return;
        }
        if (ex.set.kind == KOTEL_EXPORTER_NONE) {
                kotel_span_free(s);
                return;
        }
        /* pending first: shutdown must never see a queued span that
         * pending does not cover. A thread that saw RUNNING just before
         * shutdown closed the books finds PENDING_CLOSED here and counts
         * its span itself: each span is counted by one side, once. */
        if (__atomic_add_fetch(&ex.pending, 1, __ATOMIC_SEQ_CST) >=
            PENDING_CLOSED) {
                count(&ex.stats.dropped, 1);
                kotel_span_free(s);
                return;
        }
        if (!kotel_queue_push(&ex.q, s)) {
                uint64_t v = __atomic_load_n(&ex.pending, __ATOMIC_SEQ_CST);

                /* Take our count back, unless shutdown has closed the
                 * books meanwhile: then it counted this span already. */
                while (v < PENDING_CLOSED &&
                       !__atomic_compare_exchange_n(&ex.pending, &v, v - 1,
                                                    false, __ATOMIC_SEQ_CST,
                                                    __ATOMIC_SEQ_CST))
                        ;
                if (v < PENDING_CLOSED)
                        count(&ex.stats.dropped, 1);
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "span queue full (OTEL_BSP_MAX_QUEUE_SIZE=%zu): "
                               "dropping spans; the counts are logged at exit",
                               ex.q.capacity);
                kotel_span_free(s);
                return;
        }
        if (kotel_queue_size(&ex.q) >= ex.set.max_batch &&
            !__atomic_exchange_n(&ex.kick, 1, __ATOMIC_ACQ_REL))
                sem_post(&ex.wake);
}

/* Exporter thread: @n spans taken off the queue are settled, @exported of
 * them accepted and @failed given up on (exported + failed <= n; the rest
 * of a batch the collector took without counting is exported). */
static void settle(size_t n, size_t exported, size_t failed)
{
        pthread_mutex_lock(&ex.settle_lock);
        if (exported)
                __atomic_store_n(&ex.flush_late, false, __ATOMIC_RELAXED);
        if (!ex.abandoned) {
                count(&ex.stats.exported, exported);
                count(&ex.stats.failed, failed);
                __atomic_sub_fetch(&ex.pending, n, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&ex.settle_lock);
}

static bool stopping(void)
{
        int st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);

        return st == ST_STOPPING || st == ST_STOPPED;
}

static void export_batch(struct kotel_transport *t, struct kotel_span **spans,
                         size_t n)
{
        size_t exported = 0, failed = 0;

        kotel_symbolize_spans(spans, n);
        if (ex.set.kind == KOTEL_EXPORTER_CONSOLE) {
                kotel_console_export(spans, n);
                exported = n;
        } else {
                kotel_sender_export(&ex.send, t, spans, n, &exported, &failed);
        }
        for (size_t i = 0; i < n; i++)
                kotel_span_free(spans[i]);
        settle(n, exported, failed);
}

/* Pops up to one batch; returns its size. */
static size_t take_batch(struct kotel_span **batch)
{
        size_t n = 0;
        struct kotel_span *s;

        while (n < ex.set.max_batch && (s = kotel_queue_pop(&ex.q)) != NULL)
                batch[n++] = s;
        return n;
}

/* Exports what is queued: full batches, and when the schedule delay
 * expired (@timed) or at exit (@stop) also what was there at wake-up. */
static void drain(struct kotel_transport *t, struct kotel_span **batch,
                  bool timed, bool stop)
{
        size_t due = timed || stop ? kotel_queue_size(&ex.q) : 0;
        size_t n;

        while (due || stop || kotel_queue_size(&ex.q) >= ex.set.max_batch) {
                /* Past the shutdown deadline, what is left stays queued:
                 * shutdown counts it as dropped (unsent), not failed. */
                if (stop && kotel_clock_ms_left(__atomic_load_n(
                                &ex.deadline_ns, __ATOMIC_ACQUIRE)) <= 0)
                        break;
                if ((n = take_batch(batch)) == 0)
                        break;
                export_batch(t, batch, n);
                due = due > n ? due - n : 0;
        }
}

static void *worker(void *arg)
{
        struct kotel_transport *t = NULL;
        struct kotel_span **batch = calloc(ex.set.max_batch, sizeof(*batch));

        (void)arg;
        pthread_setname_np(pthread_self(), "kotel-exporter");
        if (ex.set.kind == KOTEL_EXPORTER_OTLP) {
                t = kotel_transport_new(&ex.set);
                if (!t)
                        kotel_log_always(KOTEL_LOG_ERROR,
                                         "cannot set up the HTTP client; "
                                         "spans will be counted as failed");
        }
        if (!batch)
                kotel_log_always(KOTEL_LOG_ERROR, "out of memory: spans will "
                                                  "not be exported");
        ex.worker_batch     = batch;
        ex.worker_transport = t;
        for (;;) {
                uint64_t woke = kotel_clock_ns(), slept;
                bool stop, flush;

                sem_wait_ms(&ex.wake, ex.set.schedule_delay_ms);
                kotel_log_sweep();
                __atomic_store_n(&ex.kick, 0, __ATOMIC_RELEASE);
                slept = kotel_clock_ns() - woke;
                stop  = stopping();
                flush = __atomic_exchange_n(&ex.flush_req, 0, __ATOMIC_ACQ_REL);
                if (batch)
                        drain(t, batch,
                              flush || slept >= (uint64_t)ex.set
                                                        .schedule_delay_ms *
                                                    1000000ull,
                              stop);
                if (flush)
                        sem_post(&ex.flushed);
                if (stop)
                        break;
        }
        ex.worker_batch     = NULL;
        ex.worker_transport = NULL;
        kotel_transport_free(t);
        free(batch);
        kotel_sender_free(&ex.send);
        sem_post(&ex.done);
        return NULL;
}

/* The worker starts with every signal blocked: the app's signals must go to
 * the app's threads, and a SIGPIPE from a closed collector socket must not
 * kill the process. */
static int start_thread(void)
{
        sigset_t all, old;
        int rc;

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&ex.thread, NULL, worker, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc == 0)
                pthread_detach(ex.thread);
        return rc == 0 ? 0 : -1;
}

/* GnuTLS comes in with libcurl's dependencies (librtmp), initialises
 * itself from a constructor and deinitialises from a destructor at exit,
 * freeing memory: a second reference on its global init makes that
 * destructor only drop the count. Looked up, not linked: it is there only
 * when libcurl brought it. */
static void hold_gnutls(void)
{
        int (*global_init)(void);

        *(void **)&global_init = dlsym(RTLD_DEFAULT, "gnutls_global_init");
        if (global_init)
                global_init();
}

int kotel_exporter_start(void)
{
        int st = ST_IDLE;

        if (!__atomic_compare_exchange_n(&ex.state, &st, ST_STARTING, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                while (st == ST_STARTING) {
                        sched_yield();
                        st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);
                }
                return st == ST_RUNNING ? 0 : -1;
        }
        kotel_settings_free(&ex.set);
        kotel_settings_load(&ex.set);
        kotel_sender_start(&ex.send, &ex.set, &ex.stats.retried,
                           &ex.deadline_ns, stopping, kotel_clock_ns() | 1);
        /* Room for a full queue plus the spans still open or being built,
         * the producers' in-flight send spans among them (capped: beyond
         * it, spans come from malloc; only touched slots take memory). */
        kotel_span_pool_init(ex.set.max_queue + 20480 < 49152
                                 ? (uint32_t)ex.set.max_queue + 20480
                                 : 49152);
        if (ex.set.kind == KOTEL_EXPORTER_NONE) {
                __atomic_store_n(&ex.state, ST_RUNNING, __ATOMIC_RELEASE);
                return 0;
        }
        if (ex.queue_ready)
                kotel_queue_destroy(&ex.q);
        ex.queue_ready = false;
        if (kotel_queue_init(&ex.q, ex.set.max_queue) < 0)
                goto out_disable;
        ex.queue_ready = true;
        /* libcurl initialises OpenSSL, which then registers an atexit
         * cleanup: work the app's exit would not do without kotel, that
         * frees memory (so waits on the malloc lock a signal handler
         * calling exit() may hold) and tears down state our worker may
         * still use. Claim OpenSSL's one-time at-exit registration first,
         * without the handler; curl_global_cleanup is never called. */
        OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
        hold_gnutls();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                goto out_disable;
        sem_init(&ex.wake, 0, 0);
        sem_init(&ex.done, 0, 0);
        sem_init(&ex.flushed, 0, 0);
        if (start_thread() < 0)
                goto out_disable;
        __atomic_store_n(&ex.state, ST_RUNNING, __ATOMIC_RELEASE);
        kotel_log(KOTEL_LOG_DEBUG, "exporter started: %s to %s",
                  ex.set.kind == KOTEL_EXPORTER_CONSOLE ? "console" : "otlp",
                  ex.set.url);
        return 0;
out_disable:
        kotel_log_always(KOTEL_LOG_ERROR, "exporter could not start; spans "
                                          "will not be exported");
        __atomic_store_n(&ex.state, ST_DISABLED, __ATOMIC_RELEASE);
        return -1;
}

static void log_stats(void)
{
        struct kotel_exporter_stats s;

        kotel_exporter_get_stats(&s);
        /* What the rate limit collapsed comes first, the counters last. */
        kotel_log_flush();
        kotel_log_always(KOTEL_LOG_INFO,
                         "spans started=%" PRIu64 " exported=%" PRIu64
                         " dropped=%" PRIu64 " failed=%" PRIu64
                         " retried=%" PRIu64,
                         s.started, s.exported, s.dropped, s.failed, s.retried);
}

/* KOTEL_SHUTDOWN_TIMEOUT, capped by OTEL_BSP_EXPORT_TIMEOUT unless that is
 * 0 (no limit). */
static long shutdown_limit_ms(void)
{
        long limit = ex.set.shutdown_timeout_ms;

        if (ex.set.export_timeout_ms && ex.set.export_timeout_ms < limit)
                limit = ex.set.export_timeout_ms;
        return limit;
}

uint64_t kotel_exporter_deadline_ns(void)
{
        return kotel_clock_ns() + (uint64_t)shutdown_limit_ms() * 1000000ull;
}

bool kotel_exporter_has_room(void)
{
        return __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE) == ST_RUNNING &&
               ex.set.kind != KOTEL_EXPORTER_NONE &&
               kotel_queue_size(&ex.q) < ex.q.capacity;
}

void kotel_exporter_count_dropped(uint64_t n)
{
        int st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);

        /* As kotel_exporter_submit() counts a span it cannot take. */
        if (n && st != ST_IDLE && st != ST_DISABLED &&
            ex.set.kind != KOTEL_EXPORTER_NONE)
                count(&ex.stats.dropped, n);
}

void kotel_exporter_flush_by(uint64_t deadline_ns)
{
        int saved = errno;

        if (__atomic_load_n(&ex.state, __ATOMIC_ACQUIRE) != ST_RUNNING ||
            ex.set.kind == KOTEL_EXPORTER_NONE ||
            __atomic_load_n(&ex.flush_late, __ATOMIC_RELAXED))
                goto out;
        while (__atomic_load_n(&ex.pending, __ATOMIC_ACQUIRE) != 0 &&
               __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE) == ST_RUNNING) {
                long left = kotel_clock_ms_left(deadline_ns);

                if (left <= 0) {
                        __atomic_store_n(&ex.flush_late, true,
                                         __ATOMIC_RELAXED);
                        kotel_log(KOTEL_LOG_WARN,
                                  "flush after the last client: spans still "
                                  "queued at the deadline");
                        break;
                }
                __atomic_store_n(&ex.flush_req, 1, __ATOMIC_RELEASE);
                sem_post(&ex.wake);
                /* At most the schedule delay per round: a post consumed by
                 * another flusher only costs one more round. */
                sem_wait_ms(&ex.flushed, left < ex.set.schedule_delay_ms
                                             ? left
                                             : ex.set.schedule_delay_ms);
        }
out:
        errno = saved;
}

void kotel_exporter_shutdown(void)
{
        kotel_exporter_shutdown_by(kotel_exporter_deadline_ns());
}

void kotel_exporter_shutdown_by(uint64_t deadline_ns)
{
        int st = ST_RUNNING;
        long limit;
        uint64_t left;

        if (!__atomic_compare_exchange_n(&ex.state, &st, ST_STOPPING, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return;
        if (ex.set.kind == KOTEL_EXPORTER_NONE) {
                __atomic_store_n(&ex.state, ST_STOPPED, __ATOMIC_RELEASE);
                log_stats();
                return;
        }
        limit = shutdown_limit_ms();
        __atomic_store_n(&ex.deadline_ns, deadline_ns, __ATOMIC_RELEASE);
        sem_post(&ex.wake);
        sem_wait_ms(&ex.done, kotel_clock_ms_left(deadline_ns));
        __atomic_store_n(&ex.state, ST_STOPPED, __ATOMIC_RELEASE);
        /* Whatever the worker did not settle in time is lost: count it, and
         * stop the worker from counting it again if it finishes late. */
        pthread_mutex_lock(&ex.settle_lock);
        ex.abandoned = true;
        left =
            __atomic_exchange_n(&ex.pending, PENDING_CLOSED, __ATOMIC_SEQ_CST);
        count(&ex.stats.dropped, left);
        pthread_mutex_unlock(&ex.settle_lock);
        if (left)
                kotel_log_always(KOTEL_LOG_WARN,
                                 "%" PRIu64 " spans unsent at exit (shutdown "
                                 "deadline %ld ms)",
                                 left, limit);
        log_stats();
}

static void drop_span(void *p)
{
        kotel_span_free(p);
}

void kotel_exporter_atfork_child(void)
{
        int st = __atomic_load_n(&ex.state, __ATOMIC_ACQUIRE);

        /* The worker thread did not survive the fork; its transport (and
         * its socket, shared with the parent) is abandoned, not closed, and
         * the batch it held is the parent's to export. The settle lock may
         * have been held by it. */
        pthread_mutex_init(&ex.settle_lock, NULL);
        kotel_log_atfork_child();
        if (ex.worker_batch || ex.worker_transport) {
                ex.orphan_batch     = ex.worker_batch;
                ex.orphan_transport = ex.worker_transport;
        }
        ex.worker_batch     = NULL;
        ex.worker_transport = NULL;
        kotel_sender_atfork_child(&ex.send);
        if (ex.queue_ready)
                kotel_queue_reset(&ex.q, drop_span);
        memset(&ex.stats, 0, sizeof(ex.stats));
        ex.pending     = 0;
        ex.abandoned   = false;
        ex.kick        = 0;
        ex.flush_req   = 0;
        ex.flush_late  = false;
        ex.deadline_ns = 0;
        if (st != ST_IDLE)
                __atomic_store_n(&ex.state, ST_IDLE, __ATOMIC_RELEASE);
}
