/* The log's rate limit: a kind (format string) writes 10 lines, the rest
 * collapse into one line with their count, written at flush after the
 * last collapsed line's text; kotel_log_always is never limited; kinds do
 * not share a budget; errno is kept; and under threads every line is
 * either written or counted in a collapsed line, none lost. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/log.h"
#include "tap.h"

#define THREADS 4
#define PER_THREAD 20000

static int out = -1;

/* Everything written to stderr since the last call, as a new string. */
static char *take_output(void)
{
        off_t n = lseek(out, 0, SEEK_END);
        char *s = calloc(1, (size_t)n + 1);

        if (pread(out, s, (size_t)n, 0) != n)
                s[0] = '\0';
        if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
                s[0] = '\0';
        return s;
}

static int count_lines(const char *s, const char *needle)
{
        int n = 0;

        for (const char *l = s; *l;) {
                const char *e = strchr(l, '\n');
                size_t len    = e ? (size_t)(e - l) : strlen(l);

                if (memmem(l, len, needle, strlen(needle)))
                        n++;
                l += len + (e ? 1 : 0);
        }
        return n;
}

/* The sum of N in every "(repeated N times" of @s. */
static long repeated(const char *s)
{
        long sum = 0;

        for (const char *p = s; (p = strstr(p, "(repeated ")); p++)
                sum += strtol(p + strlen("(repeated "), NULL, 10);
        return sum;
}

static void *hammer(void *arg)
{
        (void)arg;
        for (int i = 0; i < PER_THREAD; i++)
                kotel_log(KOTEL_LOG_WARN, "threaded line %d", i);
        return NULL;
}

int main(void)
{
        pthread_t th[THREADS];
        char *s;

        setenv("OTEL_LOG_LEVEL", "debug", 1);
        out = fileno(tmpfile());
        if (out < 0 || dup2(out, STDERR_FILENO) < 0)
                return 1;
        kotel_log_init();

        for (int i = 0; i < 25; i++)
                kotel_log(KOTEL_LOG_WARN, "collector said %d", i);
        for (int i = 0; i < 3; i++)
                kotel_log(KOTEL_LOG_INFO, "another kind %d", i);
        s = take_output();
        CHECK(count_lines(s, "kotel: warn: collector said") == 10,
              "a kind writes 10 lines, no more");
        CHECK(count_lines(s, "kotel: info: another kind") == 3,
              "another kind has its own budget");
        CHECK(!strstr(s, "(repeated"), "nothing collapsed reported yet");
        free(s);

        errno = EAGAIN;
        kotel_log_flush();
        CHECK(errno == EAGAIN, "flush keeps errno");
        s = take_output();
        CHECK(count_lines(s, "kotel: warn: collector said 24 (repeated 15 "
                             "times in the last ") == 1,
              "flush writes the collapsed lines as one: the last, with their "
              "count");
        CHECK(count_lines(s, "kotel:") == 1, "and nothing else");
        free(s);
        kotel_log_flush();
        s = take_output();
        CHECK(s[0] == '\0', "a count is reported once");
        free(s);

        errno = EINTR;
        for (int i = 0; i < 100; i++)
                kotel_log_always(KOTEL_LOG_INFO, "spans started=%d", i);
        CHECK(errno == EINTR, "kotel_log_always keeps errno");
        kotel_log(KOTEL_LOG_WARN, "collector said %d", 99);
        s = take_output();
        CHECK(count_lines(s, "kotel: info: spans started=") == 100,
              "kotel_log_always is never rate-limited");
        CHECK(count_lines(s, "collector said") == 0,
              "while the kind's window lasts, it stays collapsed");
        free(s);

        kotel_log(KOTEL_LOG_DEBUG, "debug line");
        setenv("OTEL_LOG_LEVEL", "error", 1);
        kotel_log_init();
        kotel_log_always(KOTEL_LOG_INFO, "spans started=0");
        kotel_log(KOTEL_LOG_WARN, "a warning");
        s = take_output();
        CHECK(count_lines(s, "debug line") == 1 &&
                  count_lines(s, "spans") == 0 &&
                  count_lines(s, "a warning") == 0,
              "the level applies to both");
        free(s);
        setenv("OTEL_LOG_LEVEL", "warn", 1);
        kotel_log_init();
        kotel_log_flush();
        free(take_output());

        for (int i = 0; i < THREADS; i++)
                pthread_create(&th[i], NULL, hammer, NULL);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        kotel_log_flush();
        s = take_output();
        CHECK(count_lines(s, "threaded line") - count_lines(s, "(repeated") +
                      repeated(s) ==
                  THREADS * PER_THREAD,
              "under threads every line is written or counted, none lost");
        CHECK(count_lines(s, "threaded line") <= 2 * 10 + 2,
              "and few are written");
        free(s);
        TAP_DONE();
}
