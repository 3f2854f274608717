/* OTLP/gRPC's wire pieces for transport.c, which carries a unary gRPC call
 * as one libcurl HTTP/2 POST: the 5-byte message framing, the status from
 * grpc-status / grpc-message / grpc-status-details-bin (header or trailer
 * lines, as libcurl hands both to the header callback), google.rpc.Status's
 * RetryInfo, and which codes OTLP retries. No gRPC library: kotel makes one
 * unary call per batch, and libcurl already speaks HTTP/2.
 *
 * Pure functions over caller-owned state: any thread, no locks; exposed
 * for unit tests and fuzzers. */
#ifndef KOTEL_GRPC_H
#define KOTEL_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum kotel_grpc_code {
        KOTEL_GRPC_OK                  = 0,
        KOTEL_GRPC_CANCELLED           = 1,
        KOTEL_GRPC_UNKNOWN             = 2,
        KOTEL_GRPC_INVALID_ARGUMENT    = 3,
        KOTEL_GRPC_DEADLINE_EXCEEDED   = 4,
        KOTEL_GRPC_NOT_FOUND           = 5,
        KOTEL_GRPC_ALREADY_EXISTS      = 6,
        KOTEL_GRPC_PERMISSION_DENIED   = 7,
        KOTEL_GRPC_RESOURCE_EXHAUSTED  = 8,
        KOTEL_GRPC_FAILED_PRECONDITION = 9,
        KOTEL_GRPC_ABORTED             = 10,
        KOTEL_GRPC_OUT_OF_RANGE        = 11,
        KOTEL_GRPC_UNIMPLEMENTED       = 12,
        KOTEL_GRPC_INTERNAL            = 13,
        KOTEL_GRPC_UNAVAILABLE         = 14,
        KOTEL_GRPC_DATA_LOSS           = 15,
        KOTEL_GRPC_UNAUTHENTICATED     = 16,
};

/* Length-Prefixed-Message's prefix: compressed flag, 4-byte big-endian
 * length. */
#define KOTEL_GRPC_PREFIX 5

/* What a response said about the call's outcome. */
struct kotel_grpc_status {
        int code;           /* -1 until a valid grpc-status line */
        char message[128];  /* grpc-message, percent-decoded, log-safe */
        long retry_delay_ms; /* RetryInfo.retry_delay; -1 when absent */
};

void kotel_grpc_status_reset(struct kotel_grpc_status *st);

/* One raw header or trailer line (@n bytes, CRLF included, not
 * NUL-terminated): grpc-status, grpc-message and grpc-status-details-bin
 * update @st; anything else (or a malformed value) leaves it alone. */
void kotel_grpc_header_line(struct kotel_grpc_status *st, const char *data,
                            size_t n);

/* google.rpc.Status (binary) from grpc-status-details-bin: 0 and
 * *@delay_ms when one of its details is a google.rpc.RetryInfo with a
 * retry_delay (clamped to [0, a day]); 1 when it parsed but holds none;
 * -1 when malformed. */
int kotel_grpc_status_details(const uint8_t *p, size_t n, long *delay_ms);

/* Writes the prefix of a message of @len bytes into @out. */
void kotel_grpc_frame_prefix(uint8_t out[KOTEL_GRPC_PREFIX], bool compressed,
                             uint32_t len);

/* The one message of a unary response body: 0 and its bytes in @msg, @mlen
 * (pointing into @body); 1 when the message is compressed (kotel asks for none);
 * -1 when the framing is broken or the body holds more than one message. */
int kotel_grpc_unframe(const uint8_t *body, size_t len, const uint8_t **msg,
                       size_t *mlen);

/* The gRPC code an HTTP status other than 200 stands for
 * (grpc/doc/http-grpc-status-mapping.md). */
int kotel_grpc_code_from_http(long http_status);

/* OTLP's retryable codes; RESOURCE_EXHAUSTED only when the server said
 * when to retry (@retry_info). */
bool kotel_grpc_retryable(int code, bool retry_info);

/* "UNAVAILABLE"; "code 42" style names are the caller's for unknown
 * codes (NULL here). */
const char *kotel_grpc_code_name(int code);

#endif
