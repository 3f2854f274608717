#include "settings.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "log.h"
#include "queue.h"
#include "span.h"

#define DEFAULT_BASE "http://localhost:4318"
#define DEFAULT_GRPC_BASE "http://localhost:4317"
/* KOTEL_QUEUE_MEMORY_LIMIT's default: about 360 000 queued spans. */
#define DEFAULT_QUEUE_MEMORY (INT64_C(256) << 20)

/* The signal-specific variable names (traces, metrics, logs); the generic
 * OTEL_EXPORTER_OTLP_* ones are the fallback for both. */
enum {
        N_ENDPOINT,
        N_PROTOCOL,
        N_HEADERS,
        N_COMPRESSION,
        N_TIMEOUT,
        N_CERTIFICATE,
        N_CLIENT_KEY,
        N_CLIENT_CERT,
        N_EXPORTER,
        N_PATH,
        N_INSECURE,
        N_GRPC_PATH,
        N_MAX
};

/* A signal's row: its variables, its OTLP/HTTP path, and its OTLP/gRPC
 * method (@SVC: "trace.v1.TraceService"). A new signal adds a row. */
#define SIGNAL_NAMES(S, s, EXP, SVC)                                           \
        {"OTEL_EXPORTER_OTLP_" S "_ENDPOINT",                                  \
         "OTEL_EXPORTER_OTLP_" S "_PROTOCOL",                                  \
         "OTEL_EXPORTER_OTLP_" S "_HEADERS",                                   \
         "OTEL_EXPORTER_OTLP_" S "_COMPRESSION",                               \
         "OTEL_EXPORTER_OTLP_" S "_TIMEOUT",                                   \
         "OTEL_EXPORTER_OTLP_" S "_CERTIFICATE",                               \
         "OTEL_EXPORTER_OTLP_" S "_CLIENT_KEY",                                \
         "OTEL_EXPORTER_OTLP_" S "_CLIENT_CERTIFICATE",                        \
         EXP,                                                                  \
         "/v1/" s,                                                             \
         "OTEL_EXPORTER_OTLP_" S "_INSECURE",                                  \
         "/opentelemetry.proto.collector." SVC "/Export"}

static const char *const signal_names[][N_MAX] = {
    [KOTEL_SIGNAL_TRACES] =
        SIGNAL_NAMES("TRACES", "traces", "OTEL_TRACES_EXPORTER",
                     "trace.v1.TraceService"),
    [KOTEL_SIGNAL_METRICS] =
        SIGNAL_NAMES("METRICS", "metrics", "OTEL_METRICS_EXPORTER",
                     "metrics.v1.MetricsService"),
    [KOTEL_SIGNAL_LOGS] = SIGNAL_NAMES("LOGS", "logs", "OTEL_LOGS_EXPORTER",
                                       "logs.v1.LogsService"),
};

/* The signal-specific variable if set, else the generic one. */
static const char *pick(const char *traces, const char *generic,
                        const char **which)
{
        const char *v = kotel_env_str(traces);

        *which = traces;
        if (!v) {
                v      = kotel_env_str(generic);
                *which = generic;
        }
        return v;
}

static bool valid_url(const char *u)
{
        return (!kotel_env_ncasecmp(u, "http://", 7) && u[7]) ||
               (!kotel_env_ncasecmp(u, "https://", 8) && u[8]);
}

char *kotel_settings_traces_url(const char *base)
{
        return kotel_settings_signal_url(base, "/v1/traces");
}

char *kotel_settings_signal_url(const char *base, const char *path)
{
        /* The path ends where the query or the fragment starts: the
         * signal's path goes there, "?api_key=..." stays after it. */
        size_t n      = strlen(base);
        size_t at     = strcspn(base, "?#");
        const char *h = strstr(base, "://");
        size_t keep   = at;
        size_t pl     = strlen(path);
        char *u       = malloc(n + pl + 1);

        if (!u)
                return NULL;
        if (h && keep > (size_t)(h + 3 - base) && base[keep - 1] == '/')
                keep--;
        memcpy(u, base, keep);
        memcpy(u + keep, path, pl);
        memcpy(u + keep + pl, base + at, n - at + 1);
        return u;
}

/* Appends @s, through the log's safe-character rule, to @b. */
static void put_safe(char *b, size_t *o, const char *s)
{
        for (; *s; s++)
                b[(*o)++] = kotel_log_safe_char(*s);
}

char *kotel_settings_url_for_log(const char *url)
{
        CURLU *h     = curl_url();
        char *scheme = NULL, *user = NULL, *pw = NULL, *opts = NULL;
        char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
        char *frag = NULL, *out = NULL;
        size_t o = 0;

        /* What libcurl connects to, from its own parser; a URL it cannot
         * parse is not shown at all (the request fails anyway). */
        if (!h || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
                out = strdup("(malformed URL, not shown)");
                goto out_free;
        }
        curl_url_get(h, CURLUPART_USER, &user, 0);
        curl_url_get(h, CURLUPART_PASSWORD, &pw, 0);
        curl_url_get(h, CURLUPART_OPTIONS, &opts, 0);
        curl_url_get(h, CURLUPART_PORT, &port, 0);
        curl_url_get(h, CURLUPART_PATH, &path, 0);
        curl_url_get(h, CURLUPART_QUERY, &query, 0);
        curl_url_get(h, CURLUPART_FRAGMENT, &frag, 0);
        out = malloc(strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) +
                     (path ? strlen(path) : 0) + 64);
        if (!out)
                goto out_free;
        put_safe(out, &o, scheme);
        put_safe(out, &o, "://");
        if (user || pw || opts)
                put_safe(out, &o, KOTEL_URL_REDACTED "@");
        put_safe(out, &o, host);
        if (port) {
                put_safe(out, &o, ":");
                put_safe(out, &o, port);
        }
        if (path)
                put_safe(out, &o, path);
        if (query)
                put_safe(out, &o, "?" KOTEL_URL_REDACTED);
        if (frag)
                put_safe(out, &o, "#" KOTEL_URL_REDACTED);
        out[o] = '\0';
out_free:
        curl_free(scheme);
        curl_free(user);
        curl_free(pw);
        curl_free(opts);
        curl_free(host);
        curl_free(port);
        curl_free(path);
        curl_free(query);
        curl_free(frag);
        curl_url_cleanup(h);
        return out;
}

static void trim(const char **b, const char **e)
{
        while (*b < *e && kotel_env_isspace((unsigned char)**b))
                (*b)++;
        while (*e > *b && kotel_env_isspace((unsigned char)(*e)[-1]))
                (*e)--;
}

/* An HTTP header name is a token (RFC 9110); a value has no control bytes
 * (CR/LF would let a value inject further headers). */
static bool valid_header(const char *k, const char *v)
{
        if (!*k)
                return false;
        for (const char *p = k; *p; p++)
                if (!kotel_env_isalpha((unsigned char)*p) &&
                    !kotel_env_isdigit((unsigned char)*p) &&
                    !strchr("!#$%&'*+-.^_`|~", *p))
                        return false;
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        if (*p != '\t')
                                return false;
        return true;
}

/* Headers that HTTP/1.1 message framing and connection handling own, and
 * those kotel sets itself: a user's Content-Length=0 or Transfer-Encoding
 * would make the collector read the body as the next request on the
 * kept-alive connection, a Content-Type or Content-Encoding would
 * contradict the body kotel sends. */
static const char *const reserved_headers[] = {
    "Content-Length", "Transfer-Encoding",
    "Host",           "Connection",
    "Keep-Alive",     "Proxy-Connection",
    "Upgrade",        "TE",
    "Trailer",        "Expect",
    "Content-Type",   "Content-Encoding",
    "User-Agent",
};

bool kotel_settings_header_reserved(const char *name)
{
        for (size_t i = 0;
             i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
                if (!kotel_env_casecmp(name, reserved_headers[i]))
                        return true;
        return false;
}

int kotel_settings_parse_headers(const char *s, char ***out, size_t *n,
                                 kotel_header_refused_fn *refused, void *arg)
{
        int bad = 0;

        while (*s) {
                const char *end = strchr(s, ',');
                const char *eq, *kb, *ke, *vb, *ve;
                char *k = NULL, *v = NULL, *line, **grown;

                if (!end)
                        end = s + strlen(s);
                eq = memchr(s, '=', (size_t)(end - s));
                kb = s;
                ke = eq ? eq : end;
                trim(&kb, &ke);
                if (!eq) {
                        if (ke > kb)
                                bad++;
                        goto next;
                }
                vb = eq + 1;
                ve = end;
                trim(&vb, &ve);
                k = kotel_percent_decode(kb, (size_t)(ke - kb));
                v = kotel_percent_decode(vb, (size_t)(ve - vb));
                if (!k || !v || !valid_header(k, v)) {
                        bad++;
                        goto next_free;
                }
                if (kotel_settings_header_reserved(k)) {
                        if (refused)
                                refused(k, arg);
                        goto next_free;
                }
                line  = malloc(strlen(k) + strlen(v) + 3);
                grown = realloc(*out, (*n + 1) * sizeof(**out));
                if (!line || !grown) {
                        free(line);
                        if (grown)
                                *out = grown;
                        bad++;
                        goto next_free;
                }
                *out = grown;
                strcpy(line, k);
                strcat(line, ": ");
                strcat(line, v);
                (*out)[(*n)++] = line;
next_free:
                free(k);
                free(v);
next:
                s = *end ? end + 1 : end;
        }
        return bad;
}

/* true when @v is 1*DIGIT, then optional blanks. */
static bool all_digits(const char *v)
{
        const char *p = v;

        while (*p >= '0' && *p <= '9')
                p++;
        if (p == v)
                return false;
        while (*p == ' ' || *p == '\t')
                p++;
        return !*p;
}

/* RFC 9110: Retry-After = HTTP-date / delay-seconds. A delay is clamped to
 * a day, even one too long for an int64 (as RFC 9111 1.2.2 says for
 * delta-seconds: the server asked for a long wait, not for none); a date
 * in the past means now. */
int kotel_parse_retry_after(const char *v, time_t now, long *ms)
{
        int64_t secs;
        time_t when;
        bool alpha = false;

        while (*v == ' ' || *v == '\t')
                v++;
        if (kotel_env_parse_int(v, 0, INT64_MAX, &secs) == 0) {
                *ms = (long)(secs > 86400 ? 86400 : secs) * 1000;
                return 0;
        }
        if (all_digits(v)) {
                *ms = 86400L * 1000;
                return 0;
        }
        for (const char *p = v; *p; p++)
                alpha |= kotel_env_isalpha((unsigned char)*p) != 0;
        if (!alpha)
                return -1; /* "-5", "1.5": neither form */
        when = curl_getdate(v, NULL);
        if (when == (time_t)-1)
                return -1;
        if (when <= now)
                *ms = 0;
        else if (when - now > 86400)
                *ms = 86400L * 1000;
        else
                *ms = (long)(when - now) * 1000;
        return 0;
}

static char *dup_or_null(const char *v)
{
        return v ? strdup(v) : NULL;
}

static void load_kind(struct kotel_settings *s, const char *const *nm)
{
        const char *v = kotel_env_str(nm[N_EXPORTER]);
        struct kotel_log_value q;

        s->kind = KOTEL_EXPORTER_OTLP;
        if (!v || !kotel_env_casecmp(v, "otlp"))
                return;
        if (!kotel_env_casecmp(v, "console"))
                s->kind = KOTEL_EXPORTER_CONSOLE;
        else if (!kotel_env_casecmp(v, "none"))
                s->kind = KOTEL_EXPORTER_NONE;
        else
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: '%s' is not one of otlp, console, none; "
                          "using otlp",
                          nm[N_EXPORTER], kotel_log_value(&q, v));
}

static void load_protocol(struct kotel_settings *s, const char *const *nm)
{
        const char *which;
        const char *v = pick(nm[N_PROTOCOL],
                             "OTEL_EXPORTER_OTLP_PROTOCOL", &which);
        struct kotel_log_value q;

        s->protocol = KOTEL_PROTO_HTTP_PROTOBUF;
        if (!v || !strcmp(v, "http/protobuf"))
                return;
        if (!strcmp(v, "http/json"))
                s->protocol = KOTEL_PROTO_HTTP_JSON;
        else if (!strcmp(v, "grpc"))
                s->protocol = KOTEL_PROTO_GRPC;
        else
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: '%s' is not http/protobuf, http/json or "
                          "grpc; using http/protobuf",
                          which, kotel_log_value(&q, v));
}

/* OTLP/gRPC's URL: the endpoint's scheme, userinfo, host and port with
 * the signal's method path (gRPC's path is fixed: the endpoint's own path,
 * query and fragment are dropped). An endpoint without a scheme
 * ("collector:4317") is http:// when OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE
 * is true, else https://; a scheme decides by itself. NULL when @v is not
 * usable. */
static char *grpc_url(const char *v, const char *const *nm, bool insecure)
{
        const char *sep    = strstr(v, "://");
        const char *scheme = "", *auth, *end;
        size_t sl, al, pl = strlen(nm[N_GRPC_PATH]);
        char *u;

        if (sep) {
                if (!valid_url(v))
                        return NULL;
                auth = sep + 3;
        } else {
                scheme = insecure ? "http://" : "https://";
                auth   = v;
        }
        end = auth + strcspn(auth, "/?#");
        if (end == auth)
                return NULL;
        sl = strlen(scheme);
        al = (size_t)(end - v);
        u  = malloc(sl + al + pl + 1);
        if (!u)
                return NULL;
        memcpy(u, scheme, sl);
        memcpy(u + sl, v, al);
        memcpy(u + sl + al, nm[N_GRPC_PATH], pl + 1);
        return u;
}

/* The signal's endpoint if set and usable, else the generic one, else
 * the default; OTLP/gRPC joins no /v1/ path to either. */
static void load_grpc_url(struct kotel_settings *s, const char *const *nm)
{
        const char *names[2] = {nm[N_ENDPOINT], "OTEL_EXPORTER_OTLP_ENDPOINT"};
        const char *which;
        const char *ins = pick(nm[N_INSECURE], "OTEL_EXPORTER_OTLP_INSECURE",
                               &which);
        bool insecure   = false;

        if (ins && kotel_env_parse_bool(ins, &insecure) < 0) {
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: not true or false; using false", which);
                insecure = false;
        }
        for (int i = 0; i < 2; i++) {
                const char *v = kotel_env_str(names[i]);

                if (!v)
                        continue;
                s->request_url = grpc_url(v, nm, insecure);
                if (s->request_url)
                        break;
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: not an http(s) URL nor host:port, ignored",
                          names[i]);
        }
        if (!s->request_url)
                s->request_url = grpc_url(DEFAULT_GRPC_BASE, nm, insecure);
        s->tls = s->request_url &&
                 !kotel_env_ncasecmp(s->request_url, "https://", 8);
}

static void load_url(struct kotel_settings *s, const char *const *nm)
{
        const char *v = kotel_env_str(nm[N_ENDPOINT]);

        if (s->protocol == KOTEL_PROTO_GRPC) {
                load_grpc_url(s, nm);
                return;
        }

        if (v) {
                if (valid_url(v)) {
                        s->request_url = strdup(v);
                        return;
                }
                kotel_log(KOTEL_LOG_ERROR, "%s: not an http(s) URL, ignored",
                          nm[N_ENDPOINT]);
        }
        v = kotel_env_str("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (v && !valid_url(v)) {
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL, "
                          "using " DEFAULT_BASE);
                v = NULL;
        }
        s->request_url =
            kotel_settings_signal_url(v ? v : DEFAULT_BASE, nm[N_PATH]);
}

static void refuse_header(const char *name, void *arg)
{
        struct kotel_log_value q;

        kotel_log(KOTEL_LOG_ERROR,
                  "%s: '%s' is set by kotel or by HTTP framing, not from the "
                  "environment; entry refused (value not shown)",
                  (const char *)arg, kotel_log_value(&q, name));
}

/* gRPC owns the grpc-* metadata names (grpc-timeout, grpc-encoding...):
 * refused like the framing headers, one line each. */
static void refuse_grpc_headers(struct kotel_settings *s, const char *which)
{
        size_t o = 0;

        for (size_t i = 0; i < s->n_headers; i++) {
                if (kotel_env_ncasecmp(s->headers[i], "grpc-", 5)) {
                        s->headers[o++] = s->headers[i];
                        continue;
                }
                s->headers[i][strcspn(s->headers[i], ":")] = '\0';
                refuse_header(s->headers[i], (void *)which);
                free(s->headers[i]);
        }
        s->n_headers = o;
}

static void load_headers(struct kotel_settings *s, const char *const *nm)
{
        const char *which;
        const char *v = pick(nm[N_HEADERS],
                             "OTEL_EXPORTER_OTLP_HEADERS", &which);
        int bad;

        if (!v)
                return;
        bad = kotel_settings_parse_headers(v, &s->headers, &s->n_headers,
                                           refuse_header, (void *)which);
        if (s->protocol == KOTEL_PROTO_GRPC)
                refuse_grpc_headers(s, which);
        if (bad)
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: %d malformed entr%s skipped (expected "
                          "key=value pairs separated by commas; values not "
                          "shown)",
                          which, bad, bad == 1 ? "y" : "ies");
}

static void load_compression(struct kotel_settings *s, const char *const *nm)
{
        const char *which;
        const char *v = pick(nm[N_COMPRESSION],
                             "OTEL_EXPORTER_OTLP_COMPRESSION", &which);
        struct kotel_log_value q;

        s->gzip = false;
        if (!v || !kotel_env_casecmp(v, "none"))
                return;
        if (!kotel_env_casecmp(v, "gzip"))
                s->gzip = true;
        else
                kotel_log(KOTEL_LOG_ERROR,
                          "%s: '%s' is not gzip or none; using none", which,
                          kotel_log_value(&q, v));
}

static long pick_int(const char *traces, const char *generic, long def,
                     long min, long max)
{
        const char *which;

        if (!pick(traces, generic, &which))
                return def;
        return (long)kotel_env_int(which, def, min, max);
}

/* Caps the queue so that the spans it holds when full, with their cells,
 * fit in KOTEL_QUEUE_MEMORY_LIMIT bytes. */
static void cap_queue_memory(struct kotel_settings *s)
{
        int64_t limit = kotel_env_int("KOTEL_QUEUE_MEMORY_LIMIT",
                                      DEFAULT_QUEUE_MEMORY, INT64_C(1) << 20,
                                      INT64_C(1) << 40);
        size_t per    = kotel_span_bytes() + kotel_queue_item_bytes();
        size_t cap    = (size_t)limit / per;

        if (s->max_queue <= cap)
                return;
        kotel_log(KOTEL_LOG_ERROR,
                  "OTEL_BSP_MAX_QUEUE_SIZE=%zu takes up to %zu bytes (%zu a "
                  "span), over KOTEL_QUEUE_MEMORY_LIMIT=%lld; the queue holds "
                  "%zu spans",
                  s->max_queue, s->max_queue * per, per, (long long)limit, cap);
        s->max_queue = cap;
}

void kotel_settings_load(struct kotel_settings *s)
{
        kotel_settings_load_signal(s, KOTEL_SIGNAL_TRACES);
}

void kotel_settings_load_signal(struct kotel_settings *s,
                                enum kotel_signal sig)
{
        const char *const *nm = signal_names[sig];
        const char *which;

        memset(s, 0, sizeof(*s));
        load_kind(s, nm);
        load_protocol(s, nm);
        load_url(s, nm);
        s->url =
            s->request_url ? kotel_settings_url_for_log(s->request_url) : NULL;
        load_headers(s, nm);
        load_compression(s, nm);
        s->timeout_ms  = pick_int(nm[N_TIMEOUT], "OTEL_EXPORTER_OTLP_TIMEOUT",
                                  10000, 1, 3600L * 1000);
        s->ca_file     = dup_or_null(
            pick(nm[N_CERTIFICATE], "OTEL_EXPORTER_OTLP_CERTIFICATE", &which));
        s->client_key  = dup_or_null(
            pick(nm[N_CLIENT_KEY], "OTEL_EXPORTER_OTLP_CLIENT_KEY", &which));
        s->client_cert = dup_or_null(pick(
            nm[N_CLIENT_CERT], "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &which));
        s->schedule_delay_ms =
            (long)kotel_env_int("OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 3600L * 1000);
        s->max_queue =
            (size_t)kotel_env_int("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, 1 << 24);
        cap_queue_memory(s);
        s->max_batch = (size_t)kotel_env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                                             512, 1, 1 << 24);
        if (s->max_batch > s->max_queue) {
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_BSP_MAX_EXPORT_BATCH_SIZE exceeds "
                          "OTEL_BSP_MAX_QUEUE_SIZE; using the queue size");
                s->max_batch = s->max_queue;
        }
        s->export_timeout_ms = (long)kotel_env_int("OTEL_BSP_EXPORT_TIMEOUT",
                                                   30000, 0, 3600L * 1000);
        s->shutdown_timeout_ms = (long)kotel_env_int("KOTEL_SHUTDOWN_TIMEOUT",
                                                     5000, 0, 600L * 1000);
}

void kotel_settings_free(struct kotel_settings *s)
{
        for (size_t i = 0; i < s->n_headers; i++)
                free(s->headers[i]);
        free(s->headers);
        free(s->url);
        free(s->request_url);
        free(s->ca_file);
        free(s->client_key);
        free(s->client_cert);
        memset(s, 0, sizeof(*s));
}
