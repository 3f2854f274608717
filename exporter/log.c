#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"

#define LINES_PER_SECOND 20

static int level = -1;
static long window_sec;
static int window_lines;
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

/* A racy budget is fine: it only bounds the volume roughly. */
static bool within_budget(void)
{
        struct timespec ts;
        long now;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        now = (long)ts.tv_sec;
        if (__atomic_load_n(&window_sec, __ATOMIC_RELAXED) != now) {
                __atomic_store_n(&window_sec, now, __ATOMIC_RELAXED);
                __atomic_store_n(&window_lines, 0, __ATOMIC_RELAXED);
        }
        return __atomic_add_fetch(&window_lines, 1, __ATOMIC_RELAXED) <=
               LINES_PER_SECOND;
}

void kotel_log(enum kotel_log_level l, const char *fmt, ...)
{
        static const char *names[] = {"", "error", "warn", "info", "debug"};
        char line[1024];
        int saved = errno;
        int n;
        va_list ap;

        if (!kotel_log_enabled(l) || !within_budget())
                goto out;
        n = snprintf(line, sizeof(line), "kotel: %s: ", names[l]);
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (n > (int)sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        if (write(STDERR_FILENO, line, (size_t)n) < 0) {
                /* Nowhere left to report it. */
        }
out:
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
