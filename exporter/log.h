/* Self-diagnostics: lines to stderr, gated by OTEL_LOG_LEVEL.
 *
 * Every line starts with "kotel: " so that users can grep it out of the
 * app's own stderr. Log calls are safe from any thread; they never take a
 * lock and write each line with one write(2), so lines do not interleave.
 * kotel_log() is rate-limited by kind (format string): past 10 lines in
 * 10 s, a kind's lines are collapsed into one with their count, so a
 * failure that repeats per message or per batch cannot flood the app's
 * stderr. kotel_log_always() is for the lines a user needs to diagnose a
 * run (the counters line, the shutdown outcome, the first failure of each
 * kind); its callers bound how often they use it. */
#ifndef KOTEL_LOG_H
#define KOTEL_LOG_H

#include <stdbool.h>

enum kotel_log_level {
        KOTEL_LOG_NONE  = 0,
        KOTEL_LOG_ERROR = 1,
        KOTEL_LOG_WARN  = 2,
        KOTEL_LOG_INFO  = 3,
        KOTEL_LOG_DEBUG = 4,
};

/* Any thread; reads OTEL_LOG_LEVEL once. */
void kotel_log_init(void);
bool kotel_log_enabled(enum kotel_log_level level);
/* Any thread; lock-free; preserves errno. Rate-limited by @fmt. */
void kotel_log(enum kotel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Any thread; lock-free; preserves errno. Never rate-limited: only for
 * lines whose caller bounds their number (once, once per streak, at
 * exit). */
void kotel_log_always(enum kotel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Any thread; writes the collapsed count of every kind whose window is
 * over (kotel_log_sweep), or of every kind (kotel_log_flush, at exit,
 * before the counters line). */
void kotel_log_sweep(void);
void kotel_log_flush(void);
/* In a fork child, before any other thread starts. */
void kotel_log_atfork_child(void);

/* @c as it may appear in a log line quoting untrusted text (a collector's
 * message): control bytes and DEL become spaces, so that no newline or
 * terminal escape reaches the app's stderr. */
static inline char kotel_log_safe_char(char c)
{
        return (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c;
}

/* A value from outside (an environment variable, a URL) quoted in a log
 * line: at most KOTEL_LOG_VALUE_MAX bytes, each through
 * kotel_log_safe_char, "..." when cut. Every echo of such a value goes
 * through it, so that no value can forge a line or drive the terminal:
 *
 *     struct kotel_log_value q;
 *     kotel_log(..., "%s: '%s' is not ...", name, kotel_log_value(&q, v));
 */
#define KOTEL_LOG_VALUE_MAX 64
struct kotel_log_value {
        char s[KOTEL_LOG_VALUE_MAX + sizeof("...")];
};
/* Any thread; borrows @v; returns @q->s. */
const char *kotel_log_value(struct kotel_log_value *q, const char *v);

/* Log a line at most once per process for the flag @once points at. */
#define KOTEL_LOG_ONCE(level, ...)                                             \
        do {                                                                   \
                static int kotel_once_flag_;                                   \
                if (!__atomic_exchange_n(&kotel_once_flag_, 1,                 \
                                         __ATOMIC_RELAXED))                    \
                        kotel_log_always(level, __VA_ARGS__);                  \
        } while (0)

#endif
