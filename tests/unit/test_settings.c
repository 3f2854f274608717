/* Exporter configuration: the pure parsers (headers, percent-decoding,
 * endpoint paths, Retry-After, integers) and the environment rules (traces-
 * specific variables win, bad values fall back to defaults). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter/env.h"
#include "exporter/log.h"
#include "exporter/settings.h"
#include "exporter/span.h"
#include "tap.h"

extern char **environ;

static void clear_env(void)
{
        for (int again = 1; again;) {
                again = 0;
                for (char **e = environ; *e; e++)
                        if (!strncmp(*e, "OTEL_", 5) || !strncmp(*e, "KOTEL_", 6)) {
                                char name[256];
                                size_t n = strcspn(*e, "=");
                                snprintf(name, sizeof(name), "%.*s", (int)n, *e);
                                unsetenv(name);
                                again = 1;
                                break;
                        }
        }
}

/* The names the parser refused, comma-separated. */
static char refused_names[256];

static void note_refused(const char *name, void *arg)
{
        if (refused_names[0])
                strcat(refused_names, ",");
        strcat(refused_names, name);
}

static int headers_eq(const char *in, int want_bad, const char *const *want)
{
        char **h = NULL;
        size_t n = 0, w = 0;
        int bad = kotel_settings_parse_headers(in, &h, &n, note_refused, NULL);
        int ok  = bad == want_bad;

        while (want[w])
                w++;
        ok &= n == w;
        for (size_t i = 0; ok && i < n; i++)
                ok &= !strcmp(h[i], want[i]);
        for (size_t i = 0; i < n; i++)
                free(h[i]);
        free(h);
        return ok;
}

static void test_headers(void)
{
        CHECK(headers_eq("a=b,c=d", 0, (const char *[]){"a: b", "c: d", NULL}),
              "two headers");
        CHECK(headers_eq(" api-key = s3cr%3Dt , x-tenant=acme%20corp", 0,
                         (const char *[]){"api-key: s3cr=t", "x-tenant: acme corp", NULL}),
              "trimmed and percent-decoded");
        CHECK(headers_eq("Authorization=Basic abc==", 0,
                         (const char *[]){"Authorization: Basic abc==", NULL}),
              "value keeps later '='");
        CHECK(headers_eq("bad,=v,k=%zz,x=y", 3, (const char *[]){"x: y", NULL}),
              "malformed entries skipped and counted");
        CHECK(headers_eq("k=v%0D%0AInjected: x", 1, (const char *[]){NULL}),
              "CR/LF in a value rejected (no header injection)");
        CHECK(headers_eq("bad key=v", 1, (const char *[]){NULL}),
              "space in a name rejected");
        CHECK(headers_eq("", 0, (const char *[]){NULL}) &&
                  headers_eq(",,", 0, (const char *[]){NULL}),
              "empty entries ignored");
        refused_names[0] = '\0';
        CHECK(headers_eq("a=1,Content-Length=0", 0,
                         (const char *[]){"a: 1", NULL}) &&
                  !strcmp(refused_names, "Content-Length"),
              "Content-Length refused, the other kept");
        refused_names[0] = '\0';
        CHECK(
            headers_eq(
                "transfer-encoding=chunked,HOST=evil,content-type=text/plain,"
                "Content-Encoding=br,CONNECTION=close,keep-alive=5,"
                "proxy-connection=x,upgrade=h2c,te=trailers,trailer=x,"
                "expect=100-continue,User-Agent=me,x-tenant=blue,"
                "Content%2DLength=1",
                0, (const char *[]){"x-tenant: blue", NULL}) &&
                !strcmp(refused_names,
                        "transfer-encoding,HOST,content-type,Content-Encoding,"
                        "CONNECTION,keep-alive,proxy-connection,upgrade,te,"
                        "trailer,expect,User-Agent,Content-Length"),
            "every framing or kotel-owned header refused in any case, "
            "also percent-encoded; one call each");
        refused_names[0] = '\0';
        CHECK(headers_eq(
                  "Content-Lengthy=1,X-Host=h,Hosts=2,content-types=3", 0,
                  (const char *[]){"Content-Lengthy: 1", "X-Host: h",
                                   "Hosts: 2", "content-types: 3", NULL}) &&
                  !refused_names[0],
              "names that only contain a reserved one are kept");
        CHECK(kotel_settings_header_reserved("cOnTeNt-LeNgTh") &&
                  !kotel_settings_header_reserved("authorization"),
              "reserved names compare case-insensitively");
}

static int decodes(const char *in, size_t len, const char *want)
{
        char *out = kotel_percent_decode(in, len);
        int ok    = want ? out && !strcmp(out, want) : out == NULL;

        free(out);
        return ok;
}

static void test_percent(void)
{
        CHECK(decodes("a%2Cb", 5, "a,b"), "%2C");
        CHECK(decodes("%41%62", 6, "Ab"), "upper and lower hex");
        CHECK(decodes("plain", 5, "plain"), "no escapes");
        CHECK(decodes("abc", 2, "ab"), "length bounded");
        CHECK(decodes("%", 1, NULL) && decodes("%4", 2, NULL) &&
                  decodes("%gg", 3, NULL),
              "truncated or non-hex escapes rejected");
        CHECK(decodes("%41", 2, NULL), "escape cut by the length rejected");
        /* Found by the baggage fuzzer: "%00" decoded to a NUL that silently
         * cut the value ("a%00b" became "a"). */
        CHECK(decodes("a%00b", 5, NULL), "percent_decode_nul_rejected");
        CHECK(headers_eq("k=a%00b,x=y", 1, (const char *[]){"x: y", NULL}),
              "header with %00 skipped as malformed");
        CHECK(decodes("%01", 3, "\x01"), "other control escapes still decode");
}

static int url_is(const char *base, const char *want)
{
        char *u = kotel_settings_traces_url(base);
        int ok  = u && !strcmp(u, want);

        free(u);
        return ok;
}

static void test_urls(void)
{
        CHECK(url_is("http://h:4318", "http://h:4318/v1/traces"), "host:port");
        CHECK(url_is("http://h:4318/", "http://h:4318/v1/traces"), "trailing slash");
        CHECK(url_is("https://h/base", "https://h/base/v1/traces"), "base path");
        CHECK(url_is("https://h/base/", "https://h/base/v1/traces"),
              "base path with slash");
        CHECK(url_is("http://h:4318?api_key=k",
                     "http://h:4318/v1/traces?api_key=k"),
              "path inserted before the query");
        CHECK(url_is("http://h:4318/?api_key=k",
                     "http://h:4318/v1/traces?api_key=k"),
              "path inserted before the query, after a slash");
        CHECK(url_is("http://h/base?a=1&b=2#frag",
                     "http://h/base/v1/traces?a=1&b=2#frag"),
              "base path, query and fragment");
        CHECK(url_is("http://h/b/#f", "http://h/b/v1/traces#f"),
              "path inserted before the fragment");
        CHECK(url_is("http://u:p@h:1/x?q", "http://u:p@h:1/x/v1/traces?q"),
              "userinfo kept as given");
        CHECK(url_is("http://h/a?next=/b/", "http://h/a/v1/traces?next=/b/"),
              "a slash in the query is not the path's");
}

static int shown_as(const char *url, const char *want)
{
        char *u = kotel_settings_url_for_log(url);
        int ok  = u && !strcmp(u, want);

        if (!ok)
                printf("# %s shown as %s, not %s\n", url, u ? u : "NULL", want);
        free(u);
        return ok;
}

static void test_url_for_log(void)
{
        CHECK(shown_as("http://h:4318/v1/traces", "http://h:4318/v1/traces"),
              "nothing to hide");
        CHECK(shown_as("http://user:secret@h:4318/v1/traces",
                       "http://REDACTED@h:4318/v1/traces"),
              "user and password hidden");
        CHECK(shown_as("https://token@h/v1/traces",
                       "https://REDACTED@h/v1/traces"),
              "a user alone hidden");
        CHECK(shown_as("http://:pw@h/v1/traces", "http://REDACTED@h/v1/traces"),
              "a password alone hidden");
        CHECK(shown_as("http://h:4318/v1/traces?api_key=k3y&x=1",
                       "http://h:4318/v1/traces?REDACTED"),
              "query hidden");
        CHECK(shown_as("http://u:p%40ss@h/p/v1/traces?k=v#frag",
                       "http://REDACTED@h/p/v1/traces?REDACTED#REDACTED"),
              "userinfo, query and fragment hidden");
        CHECK(shown_as("http://[::1]:4318/v1/traces?k",
                       "http://[::1]:4318/v1/traces?REDACTED"),
              "IPv6 host");
        CHECK(shown_as("http://u:pa?ss@h/v1/traces",
                       "(malformed URL, not shown)"),
              "a URL libcurl cannot parse is not shown");
        {
                char *u =
                    kotel_settings_url_for_log("http://h/v1/\x1b[2J\ntraces");
                bool clean = u != NULL;

                for (const char *p = u; p && *p; p++)
                        clean &= (unsigned char)*p >= 0x20 && *p != 0x7f;
                CHECK(clean, "no control byte reaches the line");
                free(u);
        }
}

static int retry_is(const char *v, time_t now, long want)
{
        long ms = -12345;
        int rc  = kotel_parse_retry_after(v, now, &ms);

        return want < 0 ? rc < 0 : rc == 0 && ms == want;
}

static void test_retry_after(void)
{
        time_t now = 1700000000, later = now + 120;
        char date[64];
        struct tm tm;

        CHECK(retry_is("5", now, 5000) && retry_is(" 0 ", now, 0), "seconds");
        CHECK(retry_is("100000", now, 86400000L), "huge delays clamped to a day");
        /* Found by the retry_after fuzzer: a delay too long for an int64
         * was ignored, so the exporter retried after its 200 ms backoff
         * instead of waiting as long as it may. */
        CHECK(retry_is("99999999999999999999", now, 86400000L) &&
                  retry_is("744444444444444444444444450 ", now, 86400000L),
              "retry_after_overflow_clamped_to_a_day");
        CHECK(retry_is("-99999999999999999999", now, -1) &&
                  retry_is("99999999999999999999x", now, -1),
              "overflowing non-delays still rejected");
        CHECK(retry_is("-1", now, -1) && retry_is("1.5", now, -1) &&
                  retry_is("", now, -1) && retry_is("soon", now, -1),
              "not a delay nor a date");
        gmtime_r(&later, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        CHECK(retry_is(date, now, 120000), "IMF-fixdate 2 minutes ahead");
        CHECK(retry_is(date, later + 50, 0), "a date in the past means now");
        strftime(date, sizeof(date), "%d %b %Y %H:%M:%S GMT", &tm);
        CHECK(retry_is(date, now + 110, 10000), "a date starting with a digit");
        strftime(date, sizeof(date), "%A, %d-%b-%y %H:%M:%S GMT", &tm);
        CHECK(retry_is(date, now, 120000), "obsolete RFC 850 date");
}

static void test_int(void)
{
        int64_t v = 0;

        errno = 42;
        CHECK(kotel_env_parse_int("42", 0, 100, &v) == 0 && v == 42, "42");
        CHECK(errno == 42, "errno preserved");
        CHECK(kotel_env_parse_int(" 7 ", 0, 100, &v) == 0 && v == 7, "blanks");
        CHECK(kotel_env_parse_int("-3", -5, 5, &v) == 0 && v == -3, "negative");
        CHECK(kotel_env_parse_int("x", 0, 100, &v) < 0 &&
                  kotel_env_parse_int("5x", 0, 100, &v) < 0 &&
                  kotel_env_parse_int("", 0, 100, &v) < 0,
              "garbage rejected");
        CHECK(kotel_env_parse_int("101", 0, 100, &v) < 0 &&
                  kotel_env_parse_int("-1", 0, 100, &v) < 0,
              "out of range rejected");
        CHECK(kotel_env_parse_int("99999999999999999999", 0, INT64_MAX, &v) < 0,
              "overflow rejected");
        /* Found by the env_scalars fuzzer: "\n5" was accepted ("5\n" was
         * not), strtoll() skipping any leading space. */
        CHECK(kotel_env_parse_int("\n5", 0, 100, &v) < 0 &&
                  kotel_env_parse_int("\v5", 0, 100, &v) < 0 &&
                  kotel_env_parse_int("5\n", 0, 100, &v) < 0,
              "env_int_newline_rejected_both_sides");
        CHECK(kotel_env_parse_int("\t+5\t", 0, 100, &v) == 0 && v == 5,
              "tabs and a plus sign accepted");
}

static struct kotel_settings load(void)
{
        struct kotel_settings s;

        kotel_settings_load(&s);
        return s;
}

static void test_defaults(void)
{
        struct kotel_settings s;

        clear_env();
        s = load();
        CHECK(s.kind == KOTEL_EXPORTER_OTLP && s.protocol == KOTEL_PROTO_HTTP_PROTOBUF,
              "default: otlp, http/protobuf");
        CHECK(!strcmp(s.request_url, "http://localhost:4318/v1/traces"),
              "default URL");
        CHECK(s.timeout_ms == 10000 && !s.gzip && s.n_headers == 0,
              "default timeout 10 s, no compression, no headers");
        CHECK(s.schedule_delay_ms == 5000 && s.max_queue == 2048 &&
                  s.max_batch == 512 && s.export_timeout_ms == 30000 &&
                  s.shutdown_timeout_ms == 5000,
              "BSP defaults 5000/2048/512/30000, shutdown 5000");
        CHECK(!s.ca_file && !s.client_key && !s.client_cert, "no TLS files");
        kotel_settings_free(&s);

        setenv("OTEL_BSP_SCHEDULE_DELAY", "soon", 1);
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "-4", 1);
        setenv("OTEL_BSP_EXPORT_TIMEOUT", "0", 1);
        setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0", 1);
        setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli", 1);
        setenv("OTEL_TRACES_EXPORTER", "zipkin", 1);
        s = load();
        CHECK(s.schedule_delay_ms == 5000 && s.max_queue == 2048,
              "bad BSP values fall back to defaults");
        CHECK(s.export_timeout_ms == 0, "OTEL_BSP_EXPORT_TIMEOUT=0: no limit");
        CHECK(s.timeout_ms == 10000, "timeout 0 rejected");
        CHECK(!s.gzip && s.kind == KOTEL_EXPORTER_OTLP,
              "unknown compression/exporter fall back");
        kotel_settings_free(&s);

        clear_env();
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "10", 1);
        setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50", 1);
        s = load();
        CHECK(s.max_queue == 10 && s.max_batch == 10, "batch capped by queue");
        kotel_settings_free(&s);
}

static void test_precedence(void)
{
        struct kotel_settings s;

        clear_env();
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://gen:1/base", 1);
        setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", 1);
        setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=generic", 1);
        setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
        setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1234", 1);
        setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/gen/ca.pem", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://gen:1/base/v1/traces"),
              "generic endpoint gets /v1/traces");
        CHECK(s.protocol == KOTEL_PROTO_HTTP_PROTOBUF, "generic protocol");
        CHECK(s.n_headers == 1 && !strcmp(s.headers[0], "a: generic"),
              "generic headers");
        CHECK(s.gzip && s.timeout_ms == 1234 && !strcmp(s.ca_file, "/gen/ca.pem"),
              "generic compression, timeout, certificate");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tr:2/custom", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=traces", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "4321", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/tr/ca.pem", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/tr/key.pem", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/tr/cert.pem", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://tr:2/custom"),
              "traces endpoint used as is");
        CHECK(s.protocol == KOTEL_PROTO_HTTP_JSON, "traces protocol wins");
        CHECK(s.n_headers == 1 && !strcmp(s.headers[0], "b: traces"),
              "traces headers win");
        CHECK(!s.gzip && s.timeout_ms == 4321 && !strcmp(s.ca_file, "/tr/ca.pem"),
              "traces compression, timeout, certificate win");
        CHECK(!strcmp(s.client_key, "/tr/key.pem") &&
                  !strcmp(s.client_cert, "/tr/cert.pem"),
              "client key and certificate");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://tr/x", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://gen:1/base/v1/traces"),
              "invalid traces endpoint ignored for the generic one");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://localhost:4318/v1/traces"),
              "invalid generic endpoint: the default");
        kotel_settings_free(&s);
        clear_env();
}

/* Metrics: the same rules with OTEL_EXPORTER_OTLP_METRICS_* and
 * OTEL_METRICS_EXPORTER, and neither signal reads the other's variables. */
static void test_metrics_signal(void)
{
        struct kotel_settings s;

        clear_env();
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://gen:1/base?k=v", 1);
        setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=generic", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=traces", 1);
        setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "4321", 1);
        setenv("OTEL_TRACES_EXPORTER", "console", 1);
        kotel_settings_load_signal(&s, KOTEL_SIGNAL_METRICS);
        CHECK(!strcmp(s.request_url, "http://gen:1/base/v1/metrics?k=v"),
              "metrics: generic endpoint gets /v1/metrics before the query");
        CHECK(s.n_headers == 1 && !strcmp(s.headers[0], "a: generic") &&
                  s.timeout_ms == 10000 && s.kind == KOTEL_EXPORTER_OTLP,
              "metrics ignore the traces' headers, timeout and exporter");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:3/x", 1);
        setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "c=metrics", 1);
        setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip", 1);
        setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "777", 1);
        setenv("OTEL_METRICS_EXPORTER", "none", 1);
        kotel_settings_load_signal(&s, KOTEL_SIGNAL_METRICS);
        CHECK(!strcmp(s.request_url, "http://m:3/x") && s.n_headers == 1 &&
                  !strcmp(s.headers[0], "c: metrics") && s.gzip &&
                  s.timeout_ms == 777 && s.kind == KOTEL_EXPORTER_NONE,
              "metrics-specific variables win");
        kotel_settings_free(&s);
        s = load();
        CHECK(!strcmp(s.request_url, "http://gen:1/base/v1/traces?k=v") &&
                  !strcmp(s.headers[0], "b: traces") && s.timeout_ms == 4321 &&
                  !s.gzip && s.kind == KOTEL_EXPORTER_CONSOLE,
              "traces ignore the metrics' variables");
        kotel_settings_free(&s);
        clear_env();
}

/* Loads the settings with OTEL_LOG_LEVEL=error and stderr captured into
 * @log (NUL-terminated, truncated to @size). */
static struct kotel_settings load_logged(char *log, size_t size)
{
        struct kotel_settings s;
        FILE *tmp = tmpfile();
        int saved = dup(2);
        size_t n  = 0;

        setenv("OTEL_LOG_LEVEL", "error", 1);
        kotel_log_init();
        fflush(stderr);
        dup2(fileno(tmp), 2);
        kotel_settings_load(&s);
        dup2(saved, 2);
        close(saved);
        setenv("OTEL_LOG_LEVEL", "none", 1);
        kotel_log_init();
        rewind(tmp);
        n      = fread(log, 1, size - 1, tmp);
        log[n] = '\0';
        fclose(tmp);
        return s;
}

/* OTEL_BSP_MAX_QUEUE_SIZE=16777216 could hold about 12 GB of spans; the
 * queue is capped by KOTEL_QUEUE_MEMORY_LIMIT (default 256 MiB), with one
 * line saying so. A span takes at least sizeof(struct kotel_span), and
 * under twice that with its queue cells. */
static void test_queue_memory(void)
{
        const size_t span = sizeof(struct kotel_span);
        struct kotel_settings s;
        char log[2048], want[64];

        clear_env();
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100000", 1);
        s = load_logged(log, sizeof(log));
        CHECK(s.max_queue == 100000 && !log[0],
              "a queue within the default budget is kept, silently");
        kotel_settings_free(&s);

        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "16777216", 1);
        setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16777216", 1);
        s = load_logged(log, sizeof(log));
        CHECK(s.max_queue < 16777216 && s.max_queue * span <= 256u << 20 &&
                  s.max_queue * 2 * span > 256u << 20,
              "queue_memory_cap_default: 16 M spans capped to 256 MiB");
        snprintf(want, sizeof(want), "the queue holds %zu spans", s.max_queue);
        CHECK(strstr(log, "OTEL_BSP_MAX_QUEUE_SIZE=16777216") &&
                  strstr(log, "KOTEL_QUEUE_MEMORY_LIMIT=268435456") &&
                  strstr(log, want),
              "the cap is logged: both variables and the spans kept");
        CHECK(s.max_batch == s.max_queue, "the batch is capped by the capped queue");
        kotel_settings_free(&s);

        clear_env();
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", "16777216", 1);
        setenv("KOTEL_QUEUE_MEMORY_LIMIT", "1048576", 1);
        s = load_logged(log, sizeof(log));
        CHECK(s.max_queue * span <= 1u << 20 && s.max_queue * 2 * span > 1u << 20,
              "KOTEL_QUEUE_MEMORY_LIMIT=1048576: about 1 MiB of spans");
        CHECK(strstr(log, "KOTEL_QUEUE_MEMORY_LIMIT") != NULL, "logged");
        kotel_settings_free(&s);

        setenv("KOTEL_QUEUE_MEMORY_LIMIT", "20000000000", 1);
        s = load_logged(log, sizeof(log));
        CHECK(s.max_queue == 16777216 && !log[0],
              "a budget of 20 GB holds 16 M spans");
        kotel_settings_free(&s);

        setenv("KOTEL_QUEUE_MEMORY_LIMIT", "lots", 1);
        s = load_logged(log, sizeof(log));
        CHECK(strstr(log, "KOTEL_QUEUE_MEMORY_LIMIT:") && strstr(log, "lots") &&
                  s.max_queue * span <= 256u << 20 &&
                  s.max_queue * 2 * span > 256u << 20,
              "a bad budget: one line, and the default budget");
        kotel_settings_free(&s);
        clear_env();
}

/* The settings keep the URL to request and the URL to log apart. */
static void test_endpoint_credentials(void)
{
        struct kotel_settings s;

        clear_env();
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT",
               "http://u:s3cret@gen:1/base/?api_key=k3y", 1);
        s = load();
        CHECK(!strcmp(s.request_url,
                      "http://u:s3cret@gen:1/base/v1/traces?api_key=k3y"),
              "generic endpoint: requested with credentials and query");
        CHECK(!strcmp(s.url, "http://REDACTED@gen:1/base/v1/traces?REDACTED"),
              "generic endpoint: logged without them");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
               "https://tok@tr:2/x?sig=abc", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "https://tok@tr:2/x?sig=abc"),
              "traces endpoint: requested as is");
        CHECK(!strcmp(s.url, "https://REDACTED@tr:2/x?REDACTED"),
              "traces endpoint: logged without credentials");
        kotel_settings_free(&s);
        clear_env();
}

#define TRACE_METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define METRICS_METHOD                                                         \
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

/* The grpc protocol's endpoint rules: no /v1/ path, the signal's method;
 * a scheme decides TLS, else OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE. */
static void test_grpc(void)
{
        struct kotel_settings s;

        clear_env();
        setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
        s = load();
        CHECK(s.protocol == KOTEL_PROTO_GRPC, "grpc");
        CHECK(!strcmp(s.request_url, "http://localhost:4317" TRACE_METHOD) && !s.tls,
              "grpc default endpoint");
        kotel_settings_free(&s);
        kotel_settings_load_signal(&s, KOTEL_SIGNAL_METRICS);
        CHECK(!strcmp(s.request_url, "http://localhost:4317" METRICS_METHOD),
              "grpc metrics method");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://u:p@col:443/ignored?q=1#f", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "https://u:p@col:443" TRACE_METHOD) && s.tls,
              "grpc endpoint path, query and fragment replaced");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "col:4317", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "https://col:4317" TRACE_METHOD) && s.tls,
              "no scheme: TLS unless insecure");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_INSECURE", "TRUE", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://col:4317" TRACE_METHOD) && !s.tls,
              "no scheme, insecure: h2c");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false", 1);
        s = load();
        CHECK(s.tls, "per-signal insecure wins");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "maybe", 1);
        s = load();
        CHECK(s.tls, "bad insecure: false");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://plain:4317", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://plain:4317" TRACE_METHOD) && !s.tls,
              "a scheme wins over insecure");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://plain:4317" TRACE_METHOD),
              "bad signal endpoint: the generic one");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "/nohost", 1);
        s = load();
        CHECK(!strcmp(s.request_url, "http://localhost:4317" TRACE_METHOD),
              "no usable endpoint: the default");
        kotel_settings_free(&s);

        setenv("OTEL_EXPORTER_OTLP_HEADERS", "grpc-timeout=1S,x-a=1,GRPC-Encoding=br", 1);
        s = load();
        CHECK(s.n_headers == 1 && !strcmp(s.headers[0], "x-a: 1"), "grpc-* refused");
        kotel_settings_free(&s);
        setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", 1);
        s = load();
        CHECK(s.n_headers == 3, "grpc-* kept on OTLP/HTTP");
        kotel_settings_free(&s);
        clear_env();
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        setenv("OTEL_LOG_LEVEL", "none", 1);
        kotel_log_init();
        test_headers();
        test_percent();
        test_urls();
        test_url_for_log();
        test_endpoint_credentials();
        test_retry_after();
        test_int();
        test_defaults();
        test_precedence();
        test_metrics_signal();
        test_queue_memory();
        test_grpc();
        TAP_DONE();
}
