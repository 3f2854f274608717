/* Exporter configuration from the environment (OTEL_TRACES_EXPORTER,
 * OTEL_BSP_*, OTEL_EXPORTER_OTLP_*), read once when the exporter starts.
 * The traces-specific OTEL_EXPORTER_OTLP_TRACES_* variables win over the
 * generic OTEL_EXPORTER_OTLP_* ones. Invalid values are logged once (never
 * header values, which may carry credentials) and replaced by defaults. */
#ifndef KOTEL_SETTINGS_H
#define KOTEL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum kotel_exporter_kind {
        KOTEL_EXPORTER_OTLP = 0,
        KOTEL_EXPORTER_CONSOLE,
        KOTEL_EXPORTER_NONE,
};

enum kotel_protocol {
        KOTEL_PROTO_HTTP_PROTOBUF = 0,
        KOTEL_PROTO_HTTP_JSON,
        KOTEL_PROTO_GRPC, /* OTLP/gRPC over libcurl's HTTP/2 (grpc.h) */
};

struct kotel_settings {
        enum kotel_exporter_kind kind;
        enum kotel_protocol protocol;
        /* The URL as shown in log lines: userinfo, query and fragment
         * redacted (kotel_settings_url_for_log). Safe to log. */
        char *url;
        /* The URL as requested: it may carry credentials (userinfo, an
         * "?api_key=" query). For libcurl only (transport.c); never log
         * it. */
        char *request_url;
        /* grpc: the URL is https:// (TLS, ALPN h2), else h2c with prior
         * knowledge. */
        bool tls;
        char **headers; /* "Name: value" lines for libcurl */
        size_t n_headers;
        long timeout_ms;
        bool gzip;
        char *ca_file;
        char *client_key;
        char *client_cert;
        long schedule_delay_ms;
        size_t max_queue;
        size_t max_batch;
        long export_timeout_ms; /* 0: no limit */
        long shutdown_timeout_ms;
};

enum kotel_signal {
        KOTEL_SIGNAL_TRACES = 0,
        KOTEL_SIGNAL_METRICS,
        KOTEL_SIGNAL_LOGS,
};

/* Reads the environment; never fails (defaults on every bad value).
 * kotel_settings_load is the traces' settings; _signal picks the signal
 * whose OTEL_EXPORTER_OTLP_<SIGNAL>_* variables (and OTEL_<SIGNAL>_EXPORTER)
 * win over the generic ones, the same precedence for every signal. */
void kotel_settings_load(struct kotel_settings *s);
void kotel_settings_load_signal(struct kotel_settings *s,
                                enum kotel_signal sig);
void kotel_settings_free(struct kotel_settings *s);

/* Pure parsers, exposed for unit tests and fuzzers. */
/* OTEL_EXPORTER_OTLP_HEADERS: "k=v,k2=v2", percent-decoded. Appends valid
 * "k: v" lines to @out; returns the number of malformed entries skipped.
 * An entry naming a reserved header (kotel_settings_header_reserved) is
 * skipped too, not counted, and passed to @refused (when not NULL) with
 * @arg, once per entry. */
typedef void kotel_header_refused_fn(const char *name, void *arg);
int kotel_settings_parse_headers(const char *s, char ***out, size_t *n,
                                 kotel_header_refused_fn *refused, void *arg);
/* true for a header kotel or HTTP framing owns (Content-Length,
 * Transfer-Encoding, Host, Connection, Content-Type, ...), in any case. */
bool kotel_settings_header_reserved(const char *name);
/* The traces URL for a generic OTEL_EXPORTER_OTLP_ENDPOINT base: "/v1/traces"
 * joined to the base's path, before any query or fragment. */
char *kotel_settings_traces_url(const char *base);
/* The same for any signal's @path ("/v1/metrics"). */
char *kotel_settings_signal_url(const char *base, const char *path);
/* @url as a log line may show it: scheme, host, port and path as libcurl
 * parses them; userinfo, query and fragment replaced by REDACTED; control
 * bytes as spaces. A new string, NULL when out of memory. */
#define KOTEL_URL_REDACTED "REDACTED"
char *kotel_settings_url_for_log(const char *url);
/* Retry-After: delay-seconds or an HTTP-date; 0 and *ms on success. */
int kotel_parse_retry_after(const char *v, time_t now, long *ms);

#endif
