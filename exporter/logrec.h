/* A log record: one line librdkafka logged, or one error it reported, as
 * kotel exports it (an OTLP LogRecord). Built on the thread that saw the
 * line (a librdkafka thread, or the app's inside a poll), handed to the
 * logs exporter (logs_export.h) and freed there. One allocation: the body
 * follows the struct. */
#ifndef KOTEL_LOGREC_H
#define KOTEL_LOGREC_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"

/* librdkafka's facility names are at most 15 bytes (rko_u.log.fac). */
#define KOTEL_LOGREC_FAC_MAX 16
#define KOTEL_LOGREC_BROKER_MAX 128
/* librdkafka formats a line into 2048 bytes (rd_kafka_log0). */
#define KOTEL_LOGREC_BODY_MAX 2048

struct kotel_logrec {
        uint64_t time_ns; /* wall clock when kotel saw it */
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t flags; /* W3C trace-flags of the span in progress */
        bool has_ctx;  /* a span was in progress on the emitting thread */
        uint8_t level; /* syslog level 0-7, as librdkafka gives it */
        bool has_err;  /* from the error callback: err and err_name set */
        int32_t err;
        const char *err_name;        /* librdkafka's static name, or NULL */
        struct kotel_client *client; /* a reference, or NULL */
        char fac[KOTEL_LOGREC_FAC_MAX];
        /* "host:port/id" as the line names it, "" when it names none; with
         * its host and port apart (port 0: none). */
        char broker[KOTEL_LOGREC_BROKER_MAX];
        char host[KOTEL_LOGREC_BROKER_MAX];
        int port;
        uint32_t body_len;
        char body[]; /* body_len bytes and a NUL */
};

/* OTel SeverityNumber for a syslog level (the log data model's mapping):
 * 7 debug DEBUG(5), 6 info INFO(9), 5 notice INFO2(10), 4 warning WARN(13),
 * 3 err ERROR(17), 2 crit FATAL(21), 1 alert FATAL2(22), 0 emerg
 * FATAL3(23). Out of range: UNSPECIFIED (0). */
static inline int kotel_logrec_severity(int level)
{
        static const uint8_t map[8] = {23, 22, 21, 17, 13, 10, 9, 5};

        return level >= 0 && level < 8 ? map[level] : 0;
}

/* The syslog keyword of a level, as the severity text (the source's own
 * name for it); "" out of range. */
static inline const char *kotel_logrec_severity_text(int level)
{
        static const char *const txt[8] = {"emerg",   "alert",  "crit",
                                           "err",     "warning", "notice",
                                           "info",    "debug"};

        return level >= 0 && level < 8 ? txt[level] : "";
}

#endif
