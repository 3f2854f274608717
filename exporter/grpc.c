/* OTLP/gRPC's wire pieces; see grpc.h. Everything a server sends is
 * untrusted: each parser bounds every length by the bytes it has, and a
 * malformed value is ignored, not guessed at. */
#include "grpc.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "log.h"

#define RETRY_INFO_URL "type.googleapis.com/google.rpc.RetryInfo"
#define DAY_MS (86400L * 1000)
/* grpc-status-details-bin is read up to this (base64), more is ignored. */
#define DETAILS_MAX 4096

void kotel_grpc_status_reset(struct kotel_grpc_status *st)
{
        st->code           = -1;
        st->message[0]     = '\0';
        st->retry_delay_ms = -1;
}

/* A protobuf reader over untrusted bytes: each call returns false on
 * malformed input (a varint past the end or over 10 bytes, a length past
 * the end). */
struct rd {
        const uint8_t *p, *end;
};

static bool rd_varint(struct rd *r, uint64_t *v)
{
        *v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
                if (r->p == r->end)
                        return false;
                *v |= (uint64_t)(*r->p & 0x7f) << shift;
                if (!(*r->p++ & 0x80))
                        return true;
        }
        return false;
}

/* The next field: its number, wire type, and for a LEN field its bytes;
 * fields of other types are skipped over. */
static bool rd_field(struct rd *r, uint32_t *field, int *wire,
                     const uint8_t **b, size_t *n, uint64_t *varint)
{
        uint64_t tag, len;

        if (!rd_varint(r, &tag) || tag >> 3 == 0 || tag >> 3 > UINT32_MAX)
                return false;
        *field = (uint32_t)(tag >> 3);
        *wire  = (int)(tag & 7);
        switch (*wire) {
        case 0:
                return rd_varint(r, varint);
        case 1:
        case 5: {
                size_t w = *wire == 1 ? 8 : 4;
                if ((size_t)(r->end - r->p) < w)
                        return false;
                r->p += w;
                return true;
        }
        case 2:
                if (!rd_varint(r, &len) || len > (uint64_t)(r->end - r->p))
                        return false;
                *b = r->p;
                *n = (size_t)len;
                r->p += len;
                return true;
        default:
                return false; /* groups: not in these messages */
        }
}

/* google.protobuf.Duration {int64 seconds = 1; int32 nanos = 2;} in ms,
 * clamped to [0, a day]. */
static bool duration_ms(const uint8_t *p, size_t n, long *ms)
{
        struct rd r       = {p, p + n};
        int64_t secs      = 0;
        int64_t nanos     = 0;

        while (r.p < r.end) {
                uint32_t f;
                int w;
                const uint8_t *b;
                size_t bn;
                uint64_t v = 0;

                if (!rd_field(&r, &f, &w, &b, &bn, &v))
                        return false;
                if (f == 1 && w == 0)
                        secs = (int64_t)v;
                else if (f == 2 && w == 0)
                        nanos = (int32_t)v;
        }
        if (secs < 0 || (secs == 0 && nanos < 0))
                *ms = 0;
        else if (secs >= DAY_MS / 1000)
                *ms = DAY_MS;
        else
                *ms = (long)secs * 1000 + (long)(nanos > 0 ? nanos / 1000000 : 0);
        return true;
}

/* google.protobuf.Any {string type_url = 1; bytes value = 2;}: when it is
 * a RetryInfo {Duration retry_delay = 1;} with a delay, 0 and *@ms; 1 when
 * it is something else; -1 when malformed. */
static int any_retry_info(const uint8_t *p, size_t n, long *ms)
{
        struct rd r = {p, p + n};
        const uint8_t *url = NULL, *val = NULL;
        size_t url_n = 0, val_n = 0;

        while (r.p < r.end) {
                uint32_t f;
                int w;
                const uint8_t *b = NULL;
                size_t bn        = 0;
                uint64_t v;

                if (!rd_field(&r, &f, &w, &b, &bn, &v))
                        return -1;
                if (f == 1 && w == 2) {
                        url   = b;
                        url_n = bn;
                } else if (f == 2 && w == 2) {
                        val   = b;
                        val_n = bn;
                }
        }
        if (!url || url_n != strlen(RETRY_INFO_URL) ||
            memcmp(url, RETRY_INFO_URL, url_n))
                return 1;
        r.p   = val;
        r.end = val ? val + val_n : NULL;
        while (val && r.p < r.end) {
                uint32_t f;
                int w;
                const uint8_t *b = NULL;
                size_t bn        = 0;
                uint64_t v;

                if (!rd_field(&r, &f, &w, &b, &bn, &v))
                        return -1;
                if (f == 1 && w == 2)
                        return duration_ms(b, bn, ms) ? 0 : -1;
        }
        return 1; /* a RetryInfo without a delay says nothing */
}

int kotel_grpc_status_details(const uint8_t *p, size_t n, long *delay_ms)
{
        /* google.rpc.Status {int32 code = 1; string message = 2;
         * repeated google.protobuf.Any details = 3;} */
        struct rd r = {p, p + n};
        int found   = 1;

        while (r.p < r.end) {
                uint32_t f;
                int w;
                const uint8_t *b = NULL;
                size_t bn        = 0;
                uint64_t v;
                long ms;
                int rc;

                if (!rd_field(&r, &f, &w, &b, &bn, &v))
                        return -1;
                if (f != 3 || w != 2)
                        continue;
                rc = any_retry_info(b, bn, &ms);
                if (rc < 0)
                        return -1;
                if (rc == 0 && found) {
                        *delay_ms = ms;
                        found     = 0;
                }
        }
        return found;
}

/* Base64 (standard alphabet; gRPC may leave the padding out) through
 * OpenSSL. Returns the decoded length or -1. @out holds 3/4 of @n + 3. */
static long base64_decode(const char *in, size_t n, uint8_t *out)
{
        char buf[DETAILS_MAX + 4];
        size_t pad = 0;
        int len;

        /* Padding, present or not, is put back in full: EVP_DecodeBlock
         * wants whole quanta and counts the padding's zero bytes in. */
        while (n && in[n - 1] == '=')
                n--;
        if (n > DETAILS_MAX || n % 4 == 1)
                return -1;
        memcpy(buf, in, n);
        while (n % 4) {
                buf[n++] = '=';
                pad++;
        }
        len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)n);
        if (len < 0 || (size_t)len < pad)
                return -1;
        return len - (long)pad;
}

/* @data/@n without its line end, and its value after "name:" when the
 * name matches (case-insensitive), trimmed; NULL otherwise. */
static const char *header_value(const char *data, size_t n, const char *name,
                                size_t *vlen)
{
        size_t nl = strlen(name);

        while (n && (data[n - 1] == '\r' || data[n - 1] == '\n'))
                n--;
        if (n <= nl || data[nl] != ':' || kotel_env_ncasecmp(data, name, nl))
                return NULL;
        data += nl + 1;
        n -= nl + 1;
        while (n && (*data == ' ' || *data == '\t')) {
                data++;
                n--;
        }
        while (n && (data[n - 1] == ' ' || data[n - 1] == '\t'))
                n--;
        *vlen = n;
        return data;
}

void kotel_grpc_header_line(struct kotel_grpc_status *st, const char *data,
                            size_t n)
{
        const char *v;
        size_t vn;

        if ((v = header_value(data, n, "grpc-status", &vn))) {
                int code = 0;

                if (!vn || vn > 3)
                        return;
                for (size_t i = 0; i < vn; i++) {
                        if (!kotel_env_isdigit((unsigned char)v[i]))
                                return;
                        code = code * 10 + (v[i] - '0');
                }
                st->code = code;
        } else if ((v = header_value(data, n, "grpc-message", &vn))) {
                /* Undecodable ("%zz", "%00"): shown raw, as gRPC says. */
                char *dec     = kotel_percent_decode(v, vn);
                const char *m = dec ? dec : v;
                size_t mn     = dec ? strlen(dec) : vn;
                size_t i;

                for (i = 0; i < mn && i + 1 < sizeof(st->message); i++)
                        st->message[i] = kotel_log_safe_char(m[i]);
                st->message[i] = '\0';
                free(dec);
        } else if ((v = header_value(data, n, "grpc-status-details-bin",
                                     &vn))) {
                uint8_t bin[DETAILS_MAX / 4 * 3 + 3];
                long len = base64_decode(v, vn, bin);
                long ms;

                if (len >= 0 &&
                    kotel_grpc_status_details(bin, (size_t)len, &ms) == 0)
                        st->retry_delay_ms = ms;
        }
}

void kotel_grpc_frame_prefix(uint8_t out[KOTEL_GRPC_PREFIX], bool compressed,
                             uint32_t len)
{
        out[0] = compressed ? 1 : 0;
        out[1] = (uint8_t)(len >> 24);
        out[2] = (uint8_t)(len >> 16);
        out[3] = (uint8_t)(len >> 8);
        out[4] = (uint8_t)len;
}

int kotel_grpc_unframe(const uint8_t *body, size_t len, const uint8_t **msg,
                       size_t *mlen)
{
        uint32_t n;

        if (len < KOTEL_GRPC_PREFIX || body[0] > 1)
                return -1;
        n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
            (uint32_t)body[3] << 8 | body[4];
        if ((size_t)n != len - KOTEL_GRPC_PREFIX)
                return -1;
        *msg  = body + KOTEL_GRPC_PREFIX;
        *mlen = n;
        return body[0] ? 1 : 0;
}

int kotel_grpc_code_from_http(long http_status)
{
        switch (http_status) {
        case 400:
                return KOTEL_GRPC_INTERNAL;
        case 401:
                return KOTEL_GRPC_UNAUTHENTICATED;
        case 403:
                return KOTEL_GRPC_PERMISSION_DENIED;
        case 404:
                return KOTEL_GRPC_UNIMPLEMENTED;
        case 429:
        case 502:
        case 503:
        case 504:
                return KOTEL_GRPC_UNAVAILABLE;
        default:
                return KOTEL_GRPC_UNKNOWN;
        }
}

bool kotel_grpc_retryable(int code, bool retry_info)
{
        switch (code) {
        case KOTEL_GRPC_CANCELLED:
        case KOTEL_GRPC_DEADLINE_EXCEEDED:
        case KOTEL_GRPC_ABORTED:
        case KOTEL_GRPC_OUT_OF_RANGE:
        case KOTEL_GRPC_UNAVAILABLE:
        case KOTEL_GRPC_DATA_LOSS:
                return true;
        case KOTEL_GRPC_RESOURCE_EXHAUSTED:
                return retry_info;
        default:
                return false;
        }
}

const char *kotel_grpc_code_name(int code)
{
        static const char *const names[] = {
            "OK",                 "CANCELLED",         "UNKNOWN",
            "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS",     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION", "ABORTED",          "OUT_OF_RANGE",
            "UNIMPLEMENTED",      "INTERNAL",          "UNAVAILABLE",
            "DATA_LOSS",          "UNAUTHENTICATED",
        };

        return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0]))
                   ? names[code]
                   : NULL;
}
