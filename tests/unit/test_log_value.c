/* Log lines that quote an outside value (kotel_log_value): every parser
 * that echoes an environment value in its warning turns newlines, CRs,
 * ESC and every other control byte into spaces, so that a value cannot
 * forge a "kotel:" line or drive the terminal; long values are cut. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"
#include "exporter/log.h"
#include "exporter/settings.h"
#include "tap.h"

/* Every byte from 0x01 to 0x1f, and DEL, around a forged line. */
static char forged[64];

static void make_forged(void)
{
        size_t n = 0;

        n += (size_t)snprintf(forged, sizeof(forged),
                              "x\nkotel: info: ok\r\x1b[2J");
        for (int c = 1; c < 0x20 && n < sizeof(forged) - 2; c++)
                forged[n++] = (char)c;
        forged[n++] = 0x7f;
        forged[n]   = '\0';
}

/* What kotel wrote to stderr while @fn ran. */
static char *captured(void (*fn)(void))
{
        char path[] = "/tmp/kotel-test-log-XXXXXX";
        int fd = mkstemp(path), saved = dup(2);
        static char out[8192];
        ssize_t n;

        unlink(path);
        fflush(stderr);
        dup2(fd, 2);
        fn();
        dup2(saved, 2);
        close(saved);
        n = pread(fd, out, sizeof(out) - 1, 0);
        close(fd);
        out[n > 0 ? n : 0] = '\0';
        return out;
}

static void load_config(void)
{
        kotel_config_load();
}

static void load_settings(void)
{
        struct kotel_settings s;

        kotel_settings_load(&s);
        kotel_settings_free(&s);
}

/* One line, naming @var, with no byte below 0x20 but its final newline,
 * no DEL, and the forged text in it as spaces. */
static int one_safe_line(const char *out, const char *var)
{
        size_t n = strlen(out);

        if (!n || out[n - 1] != '\n' || !strstr(out, var) ||
            strncmp(out, "kotel: error: ", 14))
                return 0;
        for (size_t i = 0; i + 1 < n; i++)
                if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
                        return 0;
        return strstr(out, "'x kotel: info: ok  [2J") != NULL;
}

static const struct {
        const char *var;
        const char *other; /* a variable the parser needs first */
        const char *other_value;
        void (*load)(void);
} cases[] = {
    {"OTEL_SDK_DISABLED", NULL, NULL, load_config},
    {"OTEL_TRACES_SAMPLER", NULL, NULL, load_config},
    {"OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_SAMPLER", "traceidratio",
     load_config},
    {"KOTEL_PROCESS_PARENT", NULL, NULL, load_config},
    {"KOTEL_MAX_LIVE_MESSAGES", NULL, NULL, load_config},
    {"OTEL_TRACES_EXPORTER", NULL, NULL, load_settings},
    {"OTEL_EXPORTER_OTLP_PROTOCOL", NULL, NULL, load_settings},
    {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", NULL, NULL, load_settings},
    {"OTEL_EXPORTER_OTLP_COMPRESSION", NULL, NULL, load_settings},
    {"OTEL_EXPORTER_OTLP_TIMEOUT", NULL, NULL, load_settings},
    {"OTEL_BSP_MAX_QUEUE_SIZE", NULL, NULL, load_settings},
    {"KOTEL_SHUTDOWN_TIMEOUT", NULL, NULL, load_settings},
    {"KOTEL_QUEUE_MEMORY_LIMIT", NULL, NULL, load_settings},
};

int main(void)
{
        struct kotel_log_value q;
        char longv[200];

        make_forged();
        setenv("OTEL_LOG_LEVEL", "error", 1);
        kotel_log_init();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *out;

                if (cases[i].other)
                        setenv(cases[i].other, cases[i].other_value, 1);
                setenv(cases[i].var, forged, 1);
                out = captured(cases[i].load);
                if (!one_safe_line(out, cases[i].var))
                        printf("# %s wrote: %s\n", cases[i].var, out);
                CHECK(one_safe_line(out, cases[i].var),
                      "the parser's warning quotes the value safely");
                unsetenv(cases[i].var);
                if (cases[i].other)
                        unsetenv(cases[i].other);
        }

        CHECK(!strcmp(kotel_log_value(&q, "a\tb\x1b"
                                          "c"),
                      "a b c"),
              "a tab and ESC become spaces");
        CHECK(!strcmp(kotel_log_value(&q, ""), ""), "empty");
        CHECK(!strcmp(kotel_log_value(&q, NULL), ""), "NULL");
        CHECK(!strcmp(kotel_log_value(&q, "caf\xc3\xa9"), "caf\xc3\xa9"),
              "UTF-8 is kept");
        memset(longv, 'v', sizeof(longv) - 1);
        longv[sizeof(longv) - 1] = '\0';
        kotel_log_value(&q, longv);
        CHECK(strlen(q.s) == KOTEL_LOG_VALUE_MAX + 3 &&
                  !strcmp(q.s + KOTEL_LOG_VALUE_MAX, "..."),
              "a long value is cut with ...");
        longv[KOTEL_LOG_VALUE_MAX] = '\0';
        CHECK(!strcmp(kotel_log_value(&q, longv), longv),
              "a value of exactly the limit is whole");
        TAP_DONE();
}
