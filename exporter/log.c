#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"

static int level = -1;
static int bad_reported;

void kotel_log_init(void)
{
        const char *v = kotel_env_str("OTEL_LOG_LEVEL");
        int l         = KOTEL_LOG_ERROR;
        bool bad      = false;

        if (v && *v) {
                if (!kotel_env_casecmp(v, "none") ||
                    !kotel_env_casecmp(v, "off"))
                        l = KOTEL_LOG_NONE;
                else if (!kotel_env_casecmp(v, "error") ||
                         !kotel_env_casecmp(v, "fatal"))
                        l = KOTEL_LOG_ERROR;
                else if (!kotel_env_casecmp(v, "warn") ||
                         !kotel_env_casecmp(v, "warning"))
                        l = KOTEL_LOG_WARN;
                else if (!kotel_env_casecmp(v, "info"))
                        l = KOTEL_LOG_INFO;
                else if (!kotel_env_casecmp(v, "debug") ||
                         !kotel_env_casecmp(v, "trace") ||
                         !kotel_env_casecmp(v, "all"))
                        l = KOTEL_LOG_DEBUG;
                else
                        bad = true;
        }
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
        /* init() reads the level again; the bad value is reported once. */
        if (bad && !__atomic_exchange_n(&bad_reported, 1, __ATOMIC_RELAXED))
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_LOG_LEVEL: unknown level, using 'error'");
}

bool kotel_log_enabled(enum kotel_log_level l)
{
        int cur = __atomic_load_n(&level, __ATOMIC_RELAXED);

        if (cur < 0) {
                kotel_log_init();
                cur = __atomic_load_n(&level, __ATOMIC_RELAXED);
        }
        return (int)l <= cur;
}

/* Rate limit, by kind: the lines of one format string are one kind. A kind
 * writes up to BURST lines per WINDOW_S-second window; the rest of that
 * window's lines of the kind are collapsed, not lost: the last of them is
 * written once with their number,
 *
 *     kotel: warn: export to URL: ... (repeated 1234 times in the last 10 s)
 *
 * once the window is over (at the next line of any kind, or at
 * kotel_log_sweep, which the exporter thread calls at each wake-up) or at
 * exit (kotel_log_flush, before the counters line). Lines
 * the user needs to diagnose a run are bounded by their callers and go
 * through kotel_log_always, which no limit applies to.
 *
 * Lock-free, for any thread: a kind's slot is claimed by a CAS on its
 * format pointer and kept for good (kinds past SLOTS share the last slot);
 * its counters are relaxed atomics, so racing threads only blur the bound
 * a little. The text of the last collapsed line sits behind a try-flag: a
 * thread that finds it busy does without, never waits. */
#define BURST 10
#define WINDOW_S 10
#define SLOTS 64

struct kind {
        const char *fmt;
        long window;        /* start of the current window, s */
        long since;         /* window of the first line not yet reported */
        unsigned written;   /* lines written in the window */
        unsigned collapsed; /* lines collapsed, not yet reported */
        int busy;           /* try-flag over text */
        char text[512];     /* the last collapsed line, without '\n' */
};

static struct kind kinds[SLOTS + 1];
static long next_sweep;

static long now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (long)ts.tv_sec;
}

static struct kind *kind_of(const char *fmt)
{
        size_t h = ((size_t)fmt >> 3) * 2654435761u;

        for (size_t i = 0; i < SLOTS; i++) {
                struct kind *k  = &kinds[(h + i) % SLOTS];
                const char *cur = __atomic_load_n(&k->fmt, __ATOMIC_ACQUIRE);

                if (!cur && __atomic_compare_exchange_n(&k->fmt, &cur, fmt,
                                                        false, __ATOMIC_ACQ_REL,
                                                        __ATOMIC_ACQUIRE))
                        return k;
                if (cur == fmt)
                        return k;
        }
        return &kinds[SLOTS];
}

static void put_line(char *line, int n)
{
        if (write(STDERR_FILENO, line, (size_t)n) < 0) {
                /* Nowhere left to report it. */
        }
}

/* "kotel: LEVEL: " + the message into @line (@size bytes, room kept for a
 * '\n'); returns the length, '\n' not included. */
static int render(char *line, size_t size, enum kotel_log_level l,
                  const char *fmt, va_list ap)
{
        static const char *names[] = {"", "error", "warn", "info", "debug"};
        int n = snprintf(line, size, "kotel: %s: ", names[l]);

        n += vsnprintf(line + n, size - (size_t)n - 1, fmt, ap);
        return n > (int)size - 2 ? (int)size - 2 : n;
}

/* Writes the collapsed count of @k, if any, as one line. */
static void report(struct kind *k, long now)
{
        unsigned c = __atomic_exchange_n(&k->collapsed, 0, __ATOMIC_ACQ_REL);
        long secs  = now - __atomic_load_n(&k->since, __ATOMIC_RELAXED);
        char line[sizeof(k->text) + 64];
        int n;

        if (!c)
                return;
        if (__atomic_exchange_n(&k->busy, 1, __ATOMIC_ACQUIRE)) {
                /* Being rewritten right now: report it next time. */
                __atomic_add_fetch(&k->collapsed, c, __ATOMIC_RELAXED);
                return;
        }
        n = snprintf(line, sizeof(line),
                     "%s (repeated %u times in the last %ld s)\n", k->text, c,
                     secs > 0 ? secs : 1);
        __atomic_store_n(&k->busy, 0, __ATOMIC_RELEASE);
        put_line(line, n < (int)sizeof(line) ? n : (int)sizeof(line) - 1);
}

/* Starts a new window for @k if its window is over; the thread that
 * starts it reports what the old one collapsed. */
static void roll(struct kind *k, long now)
{
        long w = __atomic_load_n(&k->window, __ATOMIC_RELAXED);

        if (now - w < WINDOW_S ||
            !__atomic_compare_exchange_n(&k->window, &w, now, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                return;
        __atomic_store_n(&k->written, 0, __ATOMIC_RELAXED);
        report(k, now);
}

static void sweep(long now, bool all)
{
        for (size_t i = 0; i <= SLOTS; i++) {
                struct kind *k = &kinds[i];

                if (!__atomic_load_n(&k->collapsed, __ATOMIC_RELAXED))
                        continue;
                if (all)
                        report(k, now);
                else
                        roll(k, now);
        }
}

void kotel_log_atfork_child(void)
{
        /* A thread that held a try-flag at fork does not exist here. */
        for (size_t i = 0; i <= SLOTS; i++)
                __atomic_store_n(&kinds[i].busy, 0, __ATOMIC_RELAXED);
}

void kotel_log_sweep(void)
{
        sweep(now_s(), false);
}

void kotel_log_flush(void)
{
        int saved = errno;

        sweep(now_s(), true);
        errno = saved;
}

static void collapse(struct kind *k, enum kotel_log_level l, const char *fmt,
                     va_list ap)
{
        if (!__atomic_exchange_n(&k->busy, 1, __ATOMIC_ACQUIRE)) {
                render(k->text, sizeof(k->text), l, fmt, ap);
                __atomic_store_n(&k->busy, 0, __ATOMIC_RELEASE);
        }
        if (__atomic_add_fetch(&k->collapsed, 1, __ATOMIC_ACQ_REL) == 1)
                __atomic_store_n(&k->since,
                                 __atomic_load_n(&k->window, __ATOMIC_RELAXED),
                                 __ATOMIC_RELAXED);
}

void kotel_log(enum kotel_log_level l, const char *fmt, ...)
{
        char line[1024];
        int saved = errno;
        long now, ns;
        struct kind *k;
        va_list ap;
        int n;

        if (!kotel_log_enabled(l))
                goto out;
        now = now_s();
        ns  = __atomic_load_n(&next_sweep, __ATOMIC_RELAXED);
        if (now >= ns &&
            __atomic_compare_exchange_n(&next_sweep, &ns, now + 1, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                sweep(now, false);
        k = kind_of(fmt);
        roll(k, now);
        va_start(ap, fmt);
        if (__atomic_add_fetch(&k->written, 1, __ATOMIC_RELAXED) > BURST) {
                collapse(k, l, fmt, ap);
        } else {
                n         = render(line, sizeof(line), l, fmt, ap);
                line[n++] = '\n';
                put_line(line, n);
        }
        va_end(ap);
out:
        errno = saved;
}

void kotel_log_always(enum kotel_log_level l, const char *fmt, ...)
{
        char line[1024];
        int saved = errno;
        va_list ap;
        int n;

        if (kotel_log_enabled(l)) {
                va_start(ap, fmt);
                n = render(line, sizeof(line), l, fmt, ap);
                va_end(ap);
                line[n++] = '\n';
                put_line(line, n);
        }
        errno = saved;
}

const char *kotel_log_value(struct kotel_log_value *q, const char *v)
{
        size_t n = 0;

        for (; v && v[n] && n < KOTEL_LOG_VALUE_MAX; n++)
                q->s[n] = kotel_log_safe_char(v[n]);
        if (v && v[n])
                memcpy(q->s + n, "...", sizeof("..."));
        else
                q->s[n] = '\0';
        return q->s;
}
