/* OTLP/HTTP transport: one reusable libcurl handle (keep-alive), owned by
 * the exporter thread. Exporter thread only. */
#ifndef KOTEL_TRANSPORT_H
#define KOTEL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "settings.h"

enum kotel_send_result {
        KOTEL_SEND_OK = 0,
        KOTEL_SEND_RETRY, /* 429/502/503/504 or a connection failure */
        KOTEL_SEND_FAIL,  /* anything else: do not retry */
};

#define KOTEL_RESPONSE_CAP (4u << 20)

struct kotel_transport;

struct kotel_send_info {
        long http_status;    /* 0 when no response */
        long retry_after_ms; /* -1 when the server said nothing */
        int64_t rejected;    /* partial_success's rejected count */
        char detail[160];    /* a short reason for logs */
};

/* Borrows @s for the transport's lifetime; NULL on failure. */
struct kotel_transport *kotel_transport_new(const struct kotel_settings *s);
void kotel_transport_free(struct kotel_transport *t);
/* One POST of @body, bounded by @timeout_ms. Borrows @body, which is
 * already gzip'd when the settings ask for it (the header says so). */
enum kotel_send_result kotel_transport_post(struct kotel_transport *t,
                                            const uint8_t *body, size_t len,
                                            long timeout_ms,
                                            struct kotel_send_info *info);
/* One raw response header line (@n bytes, CRLF included, not
 * NUL-terminated) as libcurl hands it over: 0 and *@ms when it is a valid
 * Retry-After, else -1. Pure; for the header callback and fuzzing. */
int kotel_transport_retry_after_line(const char *data, size_t n, time_t now,
                                     long *ms);

#endif
