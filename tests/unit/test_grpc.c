/* OTLP/gRPC's wire pieces (exporter/grpc.c): grpc-status, grpc-message
 * and grpc-status-details-bin lines as libcurl hands them over, the
 * RetryInfo inside google.rpc.Status (malformed and hostile input too),
 * the message framing, and which codes OTLP retries. The bytes below are
 * google.rpc.Status messages laid out by hand from the published schema;
 * test_exporter_grpc checks the same parsing against what @grpc/grpc-js
 * sends. */
#include <stdint.h>
#include <string.h>

#include "exporter/grpc.h"
#include "exporter/log.h"
#include "tap.h"

static void line(struct kotel_grpc_status *st, const char *s)
{
        kotel_grpc_header_line(st, s, strlen(s));
}

static void test_status_lines(void)
{
        struct kotel_grpc_status st;

        kotel_grpc_status_reset(&st);
        CHECK(st.code == -1 && st.retry_delay_ms == -1 && !st.message[0], "reset");
        line(&st, "content-type: application/grpc\r\n");
        CHECK(st.code == -1, "other headers ignored");
        line(&st, "grpc-status: 14\r\n");
        CHECK(st.code == 14, "grpc-status");
        line(&st, "Grpc-Status:0\r\n");
        CHECK(st.code == 0, "any case, no blank");
        line(&st, "grpc-status: 1x\r\n");
        line(&st, "grpc-status: \r\n");
        line(&st, "grpc-status: 12345\r\n");
        line(&st, "grpc-statusx: 3\r\n");
        CHECK(st.code == 0, "malformed grpc-status ignored");
        line(&st, "grpc-message: slow%20down\r\n");
        CHECK(!strcmp(st.message, "slow down"), "grpc-message percent-decoded");
        line(&st, "grpc-message: 100%zz\r\n");
        CHECK(!strcmp(st.message, "100%zz"), "undecodable grpc-message shown raw");
        line(&st, "grpc-message: a%0Ab%1Bc\r\n");
        CHECK(!strchr(st.message, '\n') && !strchr(st.message, 0x1b) &&
                  st.message[0] == 'a' && st.message[4] == 'c',
              "control bytes in grpc-message made safe");
        {
                char big[600] = "grpc-message: ";
                memset(big + 14, 'm', 500);
                strcpy(big + 514, "\r\n");
                line(&st, big);
                CHECK(strlen(st.message) == sizeof(st.message) - 1, "grpc-message cut");
        }
}

/* Status{code 8, message "x", details [Any{RetryInfo{2.5 s}}]}. */
#define DETAILS_B64                                                            \
        "CAgSAXgaNgoodHlwZS5nb29nbGVhcGlzLmNvbS9nb29nbGUucnBjLlJldHJ5SW5mbxIK" \
        "CggIAhCAyrXuAQ"

static void test_details(void)
{
        struct kotel_grpc_status st;
        static const char url[] = "type.googleapis.com/google.rpc.RetryInfo";
        uint8_t msg[128];
        size_t n = 0;
        long ms  = -7;

        kotel_grpc_status_reset(&st);
        line(&st, "grpc-status-details-bin: " DETAILS_B64 "\r\n");
        CHECK(st.retry_delay_ms == 2500, "RetryInfo from unpadded base64");
        kotel_grpc_status_reset(&st);
        line(&st, "grpc-status-details-bin: " DETAILS_B64 "==\r\n");
        CHECK(st.retry_delay_ms == 2500, "padded base64");
        kotel_grpc_status_reset(&st);
        line(&st, "grpc-status-details-bin: CAgSAXgaNgoodHlw!!\r\n");
        CHECK(st.retry_delay_ms == -1, "bad base64 ignored");
        line(&st, "grpc-status-details-bin: CAgSCXNsb3cgZG93bhoCEgA=\r\n");
        CHECK(st.retry_delay_ms == -1, "Any without a type: no delay");

        /* Status{details [Any{url, RetryInfo{Duration{seconds S}}}]} */
        msg[n++] = 0x1a;
        msg[n++] = (uint8_t)(2 + sizeof(url) - 1 + 2 + 2 + 11);
        msg[n++] = 0x0a;
        msg[n++] = (uint8_t)(sizeof(url) - 1);
        memcpy(msg + n, url, sizeof(url) - 1);
        n += sizeof(url) - 1;
        msg[n++] = 0x12;
        msg[n++] = 13; /* RetryInfo */
        msg[n++] = 0x0a;
        msg[n++] = 11; /* Duration: seconds as a 10-byte varint */
        msg[n++] = 0x08;
        /* -1 as int64: ten bytes */
        memset(msg + n, 0xff, 9);
        msg[n + 9] = 0x01;
        n += 10;
        CHECK(kotel_grpc_status_details(msg, n, &ms) == 0 && ms == 0,
              "negative delay: 0");
        CHECK(kotel_grpc_status_details(msg, n - 1, &ms) == -1, "truncated: -1");
        msg[n - 10] = 0x80; /* seconds = 2^63 - ... : huge positive */
        for (int i = 1; i < 9; i++)
                msg[n - 10 + i] = 0xff;
        msg[n - 1] = 0x00;
        ms = -7;
        CHECK(kotel_grpc_status_details(msg, n, &ms) == 0 && ms == 86400L * 1000,
              "huge delay clamped to a day");
        msg[4 + 10] = 'X'; /* another type */
        CHECK(kotel_grpc_status_details(msg, n, &ms) == 1, "other detail: none");
        {
                static const uint8_t loop[] = {0x1a, 0x7f, 0x0a};
                static const uint8_t group[] = {0x0b, 0x0c};
                static const uint8_t longvar[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                  0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
                CHECK(kotel_grpc_status_details(loop, sizeof(loop), &ms) == -1,
                      "length past the end");
                CHECK(kotel_grpc_status_details(group, sizeof(group), &ms) == -1,
                      "groups refused");
                CHECK(kotel_grpc_status_details(longvar, sizeof(longvar), &ms) == -1,
                      "varint over 10 bytes");
                CHECK(kotel_grpc_status_details(NULL, 0, &ms) == 1, "empty: none");
        }
}

static void test_framing(void)
{
        uint8_t buf[16];
        const uint8_t *m;
        size_t mn;

        kotel_grpc_frame_prefix(buf, true, 0x01020304);
        CHECK(buf[0] == 1 && buf[1] == 1 && buf[2] == 2 && buf[3] == 3 && buf[4] == 4,
              "prefix: flag and big-endian length");
        kotel_grpc_frame_prefix(buf, false, 3);
        memcpy(buf + 5, "abc", 3);
        CHECK(kotel_grpc_unframe(buf, 8, &m, &mn) == 0 && mn == 3 && m == buf + 5,
              "unframe");
        CHECK(kotel_grpc_unframe(buf, 7, &m, &mn) == -1, "short message");
        CHECK(kotel_grpc_unframe(buf, 9, &m, &mn) == -1, "trailing bytes");
        CHECK(kotel_grpc_unframe(buf, 4, &m, &mn) == -1, "short prefix");
        buf[0] = 1;
        CHECK(kotel_grpc_unframe(buf, 8, &m, &mn) == 1, "compressed");
        buf[0] = 2;
        CHECK(kotel_grpc_unframe(buf, 8, &m, &mn) == -1, "bad flag");
}

static void test_codes(void)
{
        static const int retry[] = {KOTEL_GRPC_CANCELLED, KOTEL_GRPC_DEADLINE_EXCEEDED,
                                    KOTEL_GRPC_ABORTED, KOTEL_GRPC_OUT_OF_RANGE,
                                    KOTEL_GRPC_UNAVAILABLE, KOTEL_GRPC_DATA_LOSS};
        int n_retry = 0;

        for (int c = 0; c <= 16; c++)
                n_retry += kotel_grpc_retryable(c, false);
        CHECK(n_retry == 6, "six codes retried without retry info");
        for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
                CHECK(kotel_grpc_retryable(retry[i], false), kotel_grpc_code_name(retry[i]));
        CHECK(!kotel_grpc_retryable(KOTEL_GRPC_RESOURCE_EXHAUSTED, false) &&
                  kotel_grpc_retryable(KOTEL_GRPC_RESOURCE_EXHAUSTED, true),
              "RESOURCE_EXHAUSTED only with retry info");
        CHECK(!kotel_grpc_retryable(KOTEL_GRPC_INVALID_ARGUMENT, true), "retry info alone");
        CHECK(!kotel_grpc_retryable(99, true) && !kotel_grpc_code_name(99) &&
                  !kotel_grpc_code_name(-1),
              "unknown codes");
        CHECK(!strcmp(kotel_grpc_code_name(16), "UNAUTHENTICATED"), "names");
        CHECK(kotel_grpc_code_from_http(503) == KOTEL_GRPC_UNAVAILABLE &&
                  kotel_grpc_code_from_http(429) == KOTEL_GRPC_UNAVAILABLE &&
                  kotel_grpc_code_from_http(401) == KOTEL_GRPC_UNAUTHENTICATED &&
                  kotel_grpc_code_from_http(404) == KOTEL_GRPC_UNIMPLEMENTED &&
                  kotel_grpc_code_from_http(400) == KOTEL_GRPC_INTERNAL &&
                  kotel_grpc_code_from_http(500) == KOTEL_GRPC_UNKNOWN,
              "HTTP status mapping");
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        test_status_lines();
        test_details();
        test_framing();
        test_codes();
        TAP_DONE();
}
