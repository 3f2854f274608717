/* Statistics for the gauges (exporter/kafka_stats.h): the on_new part.
 *
 * librdkafka emits statistics every statistics.interval.ms as an op on the
 * client's main queue, so they reach whoever serves that queue: the stats
 * callback (rd_kafka_poll, or consumer_poll once the main queue is
 * forwarded to the consumer's), on the app's thread, or an
 * RD_KAFKA_EVENT_STATS event (rd_kafka_queue_poll on the main queue).
 *
 * With KOTEL_KAFKA_STATS on, on_new (the app thread in rd_kafka_new, with
 * the client's struct copy of the configuration, before librdkafka reads
 * the interval or starts its threads) sets kotel's stats callback on the
 * copy, and the interval too when the app left it 0. The app's own
 * configuration object is not touched.
 *   - The app asked for statistics (interval > 0): its interval is kept;
 *     kotel's callback copies the JSON for the exporter, then calls the
 *     app's callback (if any) with the same arguments and returns what it
 *     returns (1: the app keeps the JSON). Events go to the app as before;
 *     kotel reads a copy of each on the way (kotel_stats_filter_event).
 *   - It did not: the app saw no statistics without kotel, so it sees none
 *     with kotel: the callback does not call the app's (even if it set
 *     one) and returns 0 (librdkafka frees the JSON), and a statistics
 *     event is destroyed by kotel inside rd_kafka_queue_poll, which polls
 *     again for the rest of the app's timeout. A client with a background
 *     event callback would get the events on librdkafka's background
 *     thread, where kotel cannot take them out: it gets no statistics
 *     from kotel (logged once).
 *
 * The callback looks the client up in a small lock-free table (rk -> the
 * app's callback), and hands the JSON to the exporter module, which only
 * copies it there: the parsing is the metrics exporter thread's. */
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "kafka_stats.h"
#include "metrics.h"
#include "symbols.h"

#define DEFAULT_INTERVAL_MS 5000
#define MAX_INTERVAL_MS (24L * 3600 * 1000)

typedef int(stats_cb_t)(rd_kafka_t *rk, char *json, size_t len, void *opaque);

struct entry {
        const void *rk; /* claimed with a compare-and-swap; NULL: free */
        stats_cb_t *app_cb;
        bool app_asked; /* the app's own interval was > 0 */
};

static struct entry entries[KOTEL_KSTATS_SLOTS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool enabled;
static int interval_ms;

static void load(void)
{
        const char *sw = kotel_env_str("KOTEL_KAFKA_STATS");
        const char *iv = kotel_env_str("KOTEL_KAFKA_STATS_INTERVAL_MS");
        bool on        = kotel_env_bool("KOTEL_KAFKA_STATS", false), given;
        int64_t v;

        interval_ms =
            (int)kotel_env_int("KOTEL_KAFKA_STATS_INTERVAL_MS",
                               DEFAULT_INTERVAL_MS, 1, MAX_INTERVAL_MS);
        /* A valid interval turns statistics on, unless a valid
         * KOTEL_KAFKA_STATS says otherwise. */
        given = sw && kotel_env_parse_bool(sw, &(bool){false}) == 0;
        if (!given && iv &&
            kotel_env_parse_int(iv, 1, MAX_INTERVAL_MS, &v) == 0)
                on = true;
        if (on && !kotel_metrics_enabled()) {
                kotel_log(KOTEL_LOG_ERROR,
                          "KOTEL_KAFKA_STATS: metrics are off "
                          "(OTEL_METRICS_EXPORTER), so librdkafka's "
                          "statistics are not enabled");
                on = false;
        }
        if (on)
                kotel_log(KOTEL_LOG_DEBUG,
                          "librdkafka statistics every %d ms for clients "
                          "without their own statistics.interval.ms",
                          interval_ms);
        __atomic_store_n(&enabled, on, __ATOMIC_RELEASE);
}

static struct entry *find(const void *rk)
{
        for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++)
                if (__atomic_load_n(&entries[i].rk, __ATOMIC_ACQUIRE) == rk)
                        return &entries[i];
        return NULL;
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        struct entry *e = find(rk);
        int saved       = errno;

        kotel_kafka_stats_offer(rk, json, len);
        errno = saved;
        if (e && e->app_asked && e->app_cb)
                return e->app_cb(rk, json, len, opaque);
        return 0;
}

/* A pointer property as rd_kafka_conf_get prints it ("%p"), or NULL. */
static void *conf_ptr(const rd_kafka_conf_t *conf, const char *name)
{
        char buf[64];
        size_t size = sizeof(buf);
        void *p     = NULL;

        if (real_rd_kafka_conf_get(conf, name, buf, &size) !=
                RD_KAFKA_CONF_OK ||
            sscanf(buf, "%p", &p) != 1)
                return NULL;
        return p;
}

static int conf_int(const rd_kafka_conf_t *conf, const char *name)
{
        char buf[32];
        size_t size = sizeof(buf);
        int v       = 0;

        if (real_rd_kafka_conf_get(conf, name, buf, &size) !=
                RD_KAFKA_CONF_OK ||
            sscanf(buf, "%d", &v) != 1)
                return 0;
        return v;
}

void kotel_stats_install(rd_kafka_t *rk, rd_kafka_conf_t *conf,
                         struct kotel_client *c)
{
        struct entry *e = NULL;
        int app_interval;
        char iv[24];

        pthread_once(&once, load);
        if (!enabled || !c)
                return;
        app_interval = conf_int(conf, "statistics.interval.ms");
        if (!app_interval && conf_ptr(conf, "background_event_cb")) {
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "KOTEL_KAFKA_STATS: a client with a background "
                               "event callback gets no statistics from kotel "
                               "(they would reach that callback)");
                return;
        }
        for (int i = 0; i < KOTEL_KSTATS_SLOTS && !e; i++) {
                const void *none = NULL;

                if (__atomic_compare_exchange_n(&entries[i].rk, &none, rk,
                                                false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_RELAXED))
                        e = &entries[i];
        }
        if (!e || !kotel_kafka_stats_add(rk, c)) {
                if (e)
                        __atomic_store_n(&e->rk, NULL, __ATOMIC_RELEASE);
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "KOTEL_KAFKA_STATS: more than %d clients; the "
                               "others get no statistics",
                               KOTEL_KSTATS_SLOTS);
                return;
        }
        *(void **)&e->app_cb = conf_ptr(conf, "stats_cb");
        e->app_asked         = app_interval > 0;
        snprintf(iv, sizeof(iv), "%d", interval_ms);
        /* The client's copy only (see above); an int and a pointer, so
         * neither call allocates nor fails on a valid configuration. (An
         * app's on_conf_set interceptor, if any, sees the interval set:
         * rd_kafka_conf_set calls them; nothing else does.) */
        if (!e->app_asked &&
            real_rd_kafka_conf_set(conf, "statistics.interval.ms", iv, NULL,
                                   0) != RD_KAFKA_CONF_OK) {
                kotel_stats_forget(rk);
                return;
        }
        real_rd_kafka_conf_set_stats_cb(conf, stats_cb);
}

void kotel_stats_forget(const void *rk)
{
        struct entry *e;

        if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) || !(e = find(rk)))
                return;
        kotel_kafka_stats_remove(rk);
        e->app_cb    = NULL;
        e->app_asked = false;
        __atomic_store_n(&e->rk, NULL, __ATOMIC_RELEASE);
}

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t kotel_stats_poll_start(int timeout_ms)
{
        return timeout_ms > 0 && __atomic_load_n(&enabled, __ATOMIC_ACQUIRE)
                   ? mono_ns()
                   : 0;
}

rd_kafka_event_t *kotel_stats_filter_event(rd_kafka_queue_t *rkqu,
                                           rd_kafka_event_t *ev, int timeout_ms,
                                           uint64_t t0_ns)
{
        while (ev && __atomic_load_n(&enabled, __ATOMIC_ACQUIRE) &&
               real_rd_kafka_event_type(ev) == RD_KAFKA_EVENT_STATS) {
                const void *rk   = kotel_handles_rk(rkqu);
                struct entry *e  = rk ? find(rk) : NULL;
                const char *json = real_rd_kafka_event_stats(ev);
                int left         = timeout_ms;

                if (!e)
                        break;
                if (json)
                        kotel_kafka_stats_offer(rk, json, strlen(json));
                if (e->app_asked)
                        break;
                real_rd_kafka_event_destroy(ev);
                if (timeout_ms > 0) {
                        uint64_t spent = (mono_ns() - t0_ns) / 1000000ull;

                        left = spent >= (uint64_t)timeout_ms
                                   ? 0
                                   : timeout_ms - (int)spent;
                }
                ev = real_rd_kafka_queue_poll(rkqu, left);
        }
        return ev;
}
