/* librdkafka's log lines and errors, captured for every client kotel sees.
 *
 * Where: kotel's on_new (client.c) calls kotel_kafka_log_install with the
 * client's own configuration, the struct copy rd_kafka_new made of the
 * app's (rk->rk_conf). There kotel reads the app's log_cb and error_cb
 * (rd_kafka_conf_get prints a pointer property as "%p"), puts its own in
 * their place on that copy and keeps the app's in a slot of a fixed table
 * to chain to. The app's configuration object is never touched.
 *
 * log_cb: librdkafka calls the copy's log_cb exactly where it would have
 * called the app's: on the thread that logs, or, with log.queue=true, from
 * the poll that serves the log queue on the app's thread; only for lines
 * under the client's log_level (rd_kafka_log_buf filters before the call),
 * with log.thread.name's prefix already in the line. kotel's callback
 * captures the line, then calls the app's with the same arguments. The
 * app's "log_cb" when it set none is librdkafka's default,
 * rd_kafka_log_print, read from the configuration like any other: so
 * librdkafka's printing to stderr happens as before, from the same call.
 * An app that set log_cb to NULL gets nothing printed, as before.
 *
 * error_cb: only replaced when the app set one. Setting one where the app
 * had none would change what the app sees, since an error_cb turns on
 * RD_KAFKA_EVENT_ERROR in enabled_events (rd_kafka_new), and librdkafka
 * 2.0.2 routes errors by it:
 *   - rd_kafka_op_err (rdkafka_op.h; "N/N brokers are down", most errors):
 *     without EVENT_ERROR, an "ERROR" line logged at once on the raising
 *     thread and no op; with it, an op on the main queue that only a poll
 *     delivers, and no line;
 *   - errors enqueued as ops directly (a broker's connection failure,
 *     rd_kafka_q_op_err): served by a poll either way; without an error_cb
 *     rd_kafka_poll_cb logs them as an "ERROR" line ("<client name>:
 *     <reason>") on the polling thread;
 *   - a fatal error is logged at debug level without EVENT_ERROR, at
 *     LOG_EMERG with it (rd_kafka_set_fatal_error0).
 * So without the app's error_cb, errors reach kotel as those ERROR lines
 * (no error code: librdkafka's line has none).
 *
 * Log level: kotel never raises it, unless KOTEL_KAFKA_LOG_LEVEL asks to
 * (then the copy's log_level is raised, and lines above the level the app
 * had are captured but not passed to the app's callback). Not with
 * log.queue=true: the extra lines would be ops on the app's queue, seen by
 * its event loop and counted by rd_kafka_poll.
 *
 * Trace context: a line carries the ids of the span in progress on the
 * thread that runs the callback: the process span of the message the
 * thread is processing (tls.h: current). librdkafka's own threads have
 * none.
 *
 * The table: install and forget (app threads, in rd_kafka_new and after
 * rd_kafka_destroy) take install_lock; the callbacks (any thread) only
 * scan the slots up to the high-water mark, reading a slot's key with
 * acquire after install filled it and published the key with release. */
#include "kafka_log.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "agent.h"
#include "exporter/logs_export.h"
#include "symbols.h"
#include "tls.h"

#define SLOTS_MAX 1024

typedef void log_cb_fn(const rd_kafka_t *rk, int level, const char *fac,
                       const char *buf);
typedef void error_cb_fn(rd_kafka_t *rk, int err, const char *reason,
                         void *opaque);

struct slot {
        const void *rk; /* NULL: never used */
        struct kotel_client *client; /* reference; NULL once forgotten */
        log_cb_fn *app_log_cb;       /* may be NULL: the app wanted none */
        error_cb_fn *app_error_cb;
        int app_level; /* lines above it are not the app's (-1: no cap) */
        bool dead;     /* its client was destroyed: the slot is free */
};

static struct slot slots[SLOTS_MAX];
static size_t used; /* high-water mark, read with acquire */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int kotel_level = -2; /* KOTEL_KAFKA_LOG_LEVEL; -1 unset */

static struct slot *find(const void *rk)
{
        size_t n = __atomic_load_n(&used, __ATOMIC_ACQUIRE);

        /* A slot being refilled has a NULL key for a moment. */
        if (!rk)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (__atomic_load_n(&slots[i].rk, __ATOMIC_ACQUIRE) == rk)
                        return &slots[i];
        return NULL;
}

static bool conf_get(const rd_kafka_conf_t *conf, const char *name, char *buf,
                     size_t size)
{
        size_t sz = size;

        return real_rd_kafka_conf_get(conf, name, buf, &sz) ==
               RD_KAFKA_CONF_OK;
}

/* A pointer property: "%p" when set, CONF_INVALID when NULL. */
static void *conf_ptr(const rd_kafka_conf_t *conf, const char *name)
{
        char buf[64];

        if (!conf_get(conf, name, buf, sizeof(buf)))
                return NULL;
        return (void *)(uintptr_t)strtoull(buf, NULL, 16);
}

static int conf_int(const rd_kafka_conf_t *conf, const char *name, int def)
{
        char buf[32], *end;
        long v;

        if (!conf_get(conf, name, buf, sizeof(buf)))
                return def;
        v = strtol(buf, &end, 10);
        return end != buf && !*end ? (int)v : def;
}

static bool copy_tok(char *dst, size_t size, const char *s, size_t n)
{
        if (!n || n >= size)
                return false;
        memcpy(dst, s, n);
        dst[n] = '\0';
        return true;
}

bool kotel_kafka_log_parse_broker(const char *line, const char *name,
                                  char *broker, char *host, size_t size,
                                  int *port)
{
        const char *p = line, *end, *h, *hend, *colon, *slash, *q;
        size_t nl = name ? strlen(name) : 0;
        long v;

        broker[0] = host[0] = '\0';
        *port               = 0;
        if (!strncmp(p, "[thrd:", 6) && (q = strstr(p, "]: ")))
                p = q + 3;
        if (nl && !strncmp(p, name, nl) && p[nl] == ':' && p[nl + 1] == ' ')
                p += nl + 2;
        if (!(end = strstr(p, ": ")))
                return false;
        for (q = p; q < end; q++)
                if (*q == ' ' || (unsigned char)*q < 0x21 ||
                    (unsigned char)*q > 0x7e)
                        return false;
        /* The node id or "bootstrap" after the last '/'. */
        slash = NULL;
        for (q = p; q < end; q++)
                if (*q == '/')
                        slash = q;
        if (!slash || slash + 1 == end)
                return false;
        for (q = slash + 1; q < end; q++)
                if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                      (*q >= 'A' && *q <= 'Z') || *q == '_' || *q == '-'))
                        return false;
        h = p;
        if ((q = strstr(p, "://")) && q < slash)
                h = q + 3;
        if (*h == '[') {
                hend = memchr(h, ']', (size_t)(slash - h));
                if (!hend || hend[1] != ':')
                        return false;
                colon = hend + 1;
                h++;
        } else {
                colon = NULL;
                for (q = h; q < slash; q++)
                        if (*q == ':')
                                colon = q;
                if (!colon)
                        return false;
                hend = colon;
        }
        if (colon + 1 == slash)
                return false;
        v = 0;
        for (q = colon + 1; q < slash; q++) {
                if (*q < '0' || *q > '9' || v > 65535)
                        return false;
                v = v * 10 + (*q - '0');
        }
        if (v <= 0 || v > 65535 || hend == h)
                return false;
        if (!copy_tok(broker, size, p, (size_t)(end - p)) ||
            !copy_tok(host, size, h, (size_t)(hend - h))) {
                broker[0] = host[0] = '\0';
                return false;
        }
        *port = (int)v;
        return true;
}

/* The span in progress on this thread, if any. */
static void take_ctx(struct kotel_logrec *r)
{
        const struct kotel_tls *t = &kotel_tls;

        if (!t->has_current || !t->current_ctx.valid)
                return;
        memcpy(r->trace_id, t->current_ctx.trace_id, 16);
        memcpy(r->span_id, t->current_ctx.span_id, 8);
        r->flags   = t->current_ctx.flags;
        r->has_ctx = true;
}

static void capture(struct slot *s, const rd_kafka_t *rk, int level,
                    const char *fac, const char *buf, bool has_err, int err)
{
        size_t len = strnlen(buf, KOTEL_LOGREC_BODY_MAX);
        struct kotel_logrec *r;
        struct kotel_client *c;
        struct timespec ts;

        if (!(r = kotel_logs_new(len)))
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        r->level   = (uint8_t)(level < 0 ? 0 : level > 7 ? 7 : level);
        snprintf(r->fac, sizeof(r->fac), "%s", fac ? fac : "");
        memcpy(r->body, buf, r->body_len);
        r->body[r->body_len] = '\0';
        if (has_err) {
                r->has_err  = true;
                r->err      = err;
                r->err_name = real_rd_kafka_err2name(err);
        }
        kotel_kafka_log_parse_broker(r->body, rk ? real_rd_kafka_name(rk) : NULL,
                                     r->broker, r->host, sizeof(r->broker),
                                     &r->port);
        c = __atomic_load_n(&s->client, __ATOMIC_ACQUIRE);
        r->client = c ? kotel_client_ref(c) : NULL;
        take_ctx(r);
        kotel_logs_submit(r);
}

/* Any thread librdkafka logs from (see the top). */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        struct slot *s = find(rk);
        int saved      = errno;

        if (!s)
                return; /* not reached: installed only with a slot */
        capture(s, rk, level, fac, buf, false, 0);
        errno = saved;
        if (s->app_log_cb && (s->app_level < 0 || level <= s->app_level))
                s->app_log_cb(rk, level, fac, buf);
}

/* The thread serving the client's error op (rd_kafka_poll and kin). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct slot *s = find(rk);
        int saved      = errno;

        if (!s)
                return; /* not reached: installed only with a slot */
        capture(s, rk, err == RD_KAFKA_RESP_ERR__FATAL ? LOG_CRIT : LOG_ERR,
                "ERROR", reason ? reason : "", true, err);
        errno = saved;
        if (s->app_error_cb)
                s->app_error_cb(rk, err, reason, opaque);
}

/* ---- where log_cb lives in a configuration -----------------------------
 *
 * rd_kafka_conf_set_log_cb marks the property modified, and with
 * debug=conf rd_kafka_new (after on_new) dumps the modified properties: an
 * app that set no log_cb would see one more line, "log_cb = 0x...", than
 * without kotel. So kotel writes its pointer into the copy's field
 * directly, leaving the modified bit as the app left it (an app that set
 * its own log_cb sees the line with and without kotel, kotel's pointer in
 * it: the one difference, in a value no two runs share). The
 * field's offset is learnt once: the one 8-byte aligned place in a fresh
 * configuration holding the default (rd_kafka_log_print, as
 * rd_kafka_conf_get reports it) that rd_kafka_conf_set_log_cb changes to
 * the value set. If it cannot be told, the setter is used. */

static size_t log_cb_off;
static bool log_cb_off_ok;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe_sentinel(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf)
{
        (void)rk, (void)level, (void)fac, (void)buf;
}

static void *conf_ptr(const rd_kafka_conf_t *conf, const char *name);

static void probe_log_cb(void)
{
        rd_kafka_conf_t *p = real_rd_kafka_conf_new();
        void *dflt, *want = (void *)probe_sentinel, *v;
        size_t n, found = 0, off = 0;

        if (!p)
                return;
        dflt = conf_ptr(p, "log_cb");
        n    = malloc_usable_size(p);
        for (size_t i = 0; dflt && i + sizeof(void *) <= n; i += 8) {
                memcpy(&v, (char *)p + i, sizeof(v));
                if (v == dflt) {
                        found++;
                        off = i;
                }
        }
        if (found == 1) {
                real_rd_kafka_conf_set_log_cb(p, probe_sentinel);
                memcpy(&v, (char *)p + off, sizeof(v));
                if (v == want && conf_ptr(p, "log_cb") == want) {
                        log_cb_off    = off;
                        log_cb_off_ok = true;
                }
        }
        real_rd_kafka_conf_destroy(p);
}

static void set_log_cb(rd_kafka_conf_t *copy, log_cb_fn *fn)
{
        void *v = (void *)fn;

        pthread_once(&probe_once, probe_log_cb);
        if (log_cb_off_ok)
                memcpy((char *)copy + log_cb_off, &v, sizeof(v));
        else
                real_rd_kafka_conf_set_log_cb(copy, fn);
}

void kotel_kafka_log_delivery_failed(const rd_kafka_t *rk,
                                     struct kotel_client *c,
                                     const uint8_t *trace_id,
                                     const uint8_t *span_id, uint8_t flags,
                                     const rd_kafka_message_t *rkm)
{
        const char *topic = rkm->rkt ? real_rd_kafka_topic_name(rkm->rkt) : "";
        struct kotel_logrec *r;
        struct timespec ts;
        char buf[512];
        int n;

        (void)rk;
        if (!kotel_logs_enabled())
                return;
        n = snprintf(buf, sizeof(buf), "Delivery failed: %s [%d]: %s",
                     topic ? topic : "", (int)rkm->partition,
                     real_rd_kafka_err2str(rkm->err));
        if (n < 0 || !(r = kotel_logs_new(strnlen(buf, sizeof(buf)))))
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        r->level   = LOG_ERR;
        snprintf(r->fac, sizeof(r->fac), "DR");
        memcpy(r->body, buf, r->body_len);
        r->body[r->body_len] = '\0';
        r->has_err           = true;
        r->err               = rkm->err;
        r->err_name          = real_rd_kafka_err2name(rkm->err);
        r->client            = c ? kotel_client_ref(c) : NULL;
        memcpy(r->trace_id, trace_id, 16);
        memcpy(r->span_id, span_id, 8);
        r->flags   = flags;
        r->has_ctx = true;
        kotel_logs_submit(r);
}

static int kotel_log_level(void)
{
        int v = __atomic_load_n(&kotel_level, __ATOMIC_ACQUIRE);

        if (v == -2) {
                v = (int)kotel_env_int("KOTEL_KAFKA_LOG_LEVEL", -1, 0, 7);
                __atomic_store_n(&kotel_level, v, __ATOMIC_RELEASE);
        }
        return v;
}

static struct slot *take_slot(const void *rk)
{
        struct slot *s = find(rk);

        for (size_t i = 0; !s && i < used; i++)
                if (slots[i].dead)
                        s = &slots[i];
        if (!s && used < SLOTS_MAX)
                s = &slots[used];
        return s;
}

void kotel_kafka_log_install(const rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                             struct kotel_client *c)
{
        rd_kafka_conf_t *copy = (rd_kafka_conf_t *)conf;
        int app_level, want = kotel_log_level();
        char dbg[8];
        bool log_queue, raise;
        struct slot *s;
        char lvl[12];

        if (!kotel_logs_enabled() || !rk || !conf)
                return;
        app_level = conf_int(conf, "log_level", 6);
        /* rd_kafka_new turns log_level to debug after on_new when debug
         * contexts are set: the app's effective level. */
        if (conf_get(conf, "debug", dbg, sizeof(dbg)) && dbg[0])
                app_level = LOG_DEBUG;
        log_queue = conf_get(conf, "log.queue", dbg, sizeof(dbg)) &&
                    !strcmp(dbg, "true");
        raise     = want > app_level && !log_queue;
        pthread_mutex_lock(&install_lock);
        s = take_slot(rk);
        if (!s) {
                pthread_mutex_unlock(&install_lock);
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "more than %d clients: the logs of later "
                               "ones are not captured",
                               SLOTS_MAX);
                return;
        }
        __atomic_store_n(&s->rk, NULL, __ATOMIC_RELEASE);
        s->app_log_cb   = (log_cb_fn *)conf_ptr(conf, "log_cb");
        s->app_error_cb = (error_cb_fn *)conf_ptr(conf, "error_cb");
        s->app_level    = raise ? app_level : -1;
        s->dead         = false;
        if (s->client)
                kotel_client_unref(s->client);
        s->client = c ? kotel_client_ref(c) : NULL;
        __atomic_store_n(&s->rk, rk, __ATOMIC_RELEASE);
        if (s == &slots[used])
                __atomic_store_n(&used, used + 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&install_lock);
        /* The slot is published before librdkafka can call kotel's. */
        set_log_cb(copy, log_cb);
        if (s->app_error_cb)
                real_rd_kafka_conf_set_error_cb(copy, error_cb);
        if (raise) {
                char err[128];

                snprintf(lvl, sizeof(lvl), "%d", want);
                real_rd_kafka_conf_set(copy, "log_level", lvl, err,
                                       sizeof(err));
        }
}

void kotel_kafka_log_forget(const void *rk)
{
        struct slot *s;
        struct kotel_client *c = NULL;

        pthread_mutex_lock(&install_lock);
        if ((s = find(rk))) {
                c = s->client;
                __atomic_store_n(&s->client, NULL, __ATOMIC_RELEASE);
                s->dead = true;
        }
        pthread_mutex_unlock(&install_lock);
        if (c)
                kotel_client_unref(c);
}
