/* The whole environment reading, through getenv() as in the library:
 * kotel_config_load() and kotel_settings_load() over a fuzzed set of OTEL_*
 * and KOTEL_* variables, then the documented bounds on what they chose:
 * among them, "/v1/traces" joined before the generic endpoint's query (for
 * grpc: the method path in place of path, query and fragment), a
 * logged URL that shows no userinfo, query or fragment and no control
 * byte, and no header that HTTP framing or kotel owns.
 * Input: lines "<c><value>", where the byte <c> picks the variable. */
#include <strings.h>

#include "agent/config.h"
#include "exporter/settings.h"
#include "fuzz.h"

static const char *const vars[] = {
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "KOTEL_PROCESS_PARENT",
    "KOTEL_MAX_LIVE_MESSAGES",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "KOTEL_SHUTDOWN_TIMEOUT",
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

/* What a log line shows of the endpoint: no control byte; nothing after a
 * '?' or '#' but REDACTED; before the host, only REDACTED@. */
static void check_logged_url(const char *u)
{
        const char *host, *at;

        FUZZ_ASSERT(u);
        fuzz_check_log_text(u, strlen(u) + 1);
        if (!strcmp(u, "(malformed URL, not shown)"))
                return;
        host = strstr(u, "://");
        FUZZ_ASSERT(host);
        host += 3;
        for (const char *p = strpbrk(u, "?#"); p; p = strpbrk(p + 1, "?#"))
                FUZZ_ASSERT(!strncmp(p + 1, KOTEL_URL_REDACTED,
                                     strlen(KOTEL_URL_REDACTED)));
        at = strchr(host, '@');
        if (at && at < host + strcspn(host, "/?#"))
                FUZZ_ASSERT(!strncmp(host, KOTEL_URL_REDACTED "@",
                                     strlen(KOTEL_URL_REDACTED) + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_cstr(data, size), *line, *save = NULL;
        struct kotel_settings set;

        for (size_t i = 0; i < NVARS; i++)
                unsetenv(vars[i]);
        for (line = strtok_r(s, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
                setenv(vars[(unsigned char)line[0] % NVARS], line + 1, 1);

        kotel_config_load();
        FUZZ_ASSERT(kotel_cfg.live_max >= 16 && kotel_cfg.live_max <= 1 << 22);
        FUZZ_ASSERT(kotel_cfg.sampler.ratio >= 0 &&
                    kotel_cfg.sampler.ratio <= 1);
        FUZZ_ASSERT(kotel_cfg.process_parent == KOTEL_PROCESS_PARENT_PARENT ||
                    kotel_cfg.process_parent == KOTEL_PROCESS_PARENT_LINK);

        kotel_settings_load(&set);
        FUZZ_ASSERT(set.request_url &&
                    (!strncasecmp(set.request_url, "http://", 7) ||
                     !strncasecmp(set.request_url, "https://", 8)));
        if (set.protocol == KOTEL_PROTO_GRPC) {
                /* gRPC's method path, whatever the endpoint had after its
                 * authority; TLS exactly for https. */
                static const char m[] =
                    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
                size_t n = strlen(set.request_url);

                FUZZ_ASSERT(n > sizeof(m) - 1 &&
                            !strcmp(set.request_url + n - (sizeof(m) - 1), m));
                FUZZ_ASSERT(!strpbrk(set.request_url, "?#"));
                FUZZ_ASSERT(set.tls == !strncasecmp(set.request_url, "https://", 8));
        } else if (!getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
                size_t at = strcspn(set.request_url, "?#");

                FUZZ_ASSERT(at >= 10 && !strncmp(set.request_url + at - 10,
                                                 "/v1/traces", 10));
        }
        check_logged_url(set.url);
        FUZZ_ASSERT(set.timeout_ms >= 1 && set.timeout_ms <= 3600L * 1000);
        FUZZ_ASSERT(set.schedule_delay_ms >= 1 &&
                    set.schedule_delay_ms <= 3600L * 1000);
        FUZZ_ASSERT(set.max_queue >= 1 && set.max_queue <= 1 << 24);
        FUZZ_ASSERT(set.max_batch >= 1 && set.max_batch <= set.max_queue);
        FUZZ_ASSERT(set.export_timeout_ms >= 0 &&
                    set.export_timeout_ms <= 3600L * 1000);
        FUZZ_ASSERT(set.shutdown_timeout_ms >= 0 &&
                    set.shutdown_timeout_ms <= 600L * 1000);
        for (size_t i = 0; i < set.n_headers; i++) {
                char name[256];
                size_t len = strcspn(set.headers[i], ":");

                FUZZ_ASSERT(!strpbrk(set.headers[i], "\r\n"));
                if (len < sizeof(name)) {
                        memcpy(name, set.headers[i], len);
                        name[len] = '\0';
                        FUZZ_ASSERT(!kotel_settings_header_reserved(name));
                }
        }
        kotel_settings_free(&set);
        free(s);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_quiet();
        return 0;
}
