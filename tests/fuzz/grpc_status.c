/* OTLP/gRPC's response parsing (exporter/grpc.c), any bytes: as a header or
 * trailer line (grpc-status, grpc-message, grpc-status-details-bin), as a
 * binary google.rpc.Status and as a framed response body. The status keeps
 * a code of -1 or 0..999, a log-safe message and a retry delay of -1 or
 * within a day; the Status parser agrees with the line parser on the same
 * bytes base64-encoded. */
#include <openssl/evp.h>

#include "exporter/grpc.h"
#include "fuzz.h"

static void check(const struct kotel_grpc_status *st)
{
        FUZZ_ASSERT(st->code >= -1 && st->code <= 999);
        fuzz_check_log_text(st->message, sizeof(st->message));
        FUZZ_ASSERT(st->retry_delay_ms >= -1 &&
                    st->retry_delay_ms <= 86400L * 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = {"grpc-status: ", "grpc-message: ",
                                            "grpc-status-details-bin: ", ""};
        struct kotel_grpc_status st;
        const uint8_t *m;
        size_t mn;
        long ms = -5;
        int rc;

        fuzz_quiet();
        kotel_grpc_status_reset(&st);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                size_t nl = strlen(names[i]);
                char *line = malloc(nl + size + 2);

                memcpy(line, names[i], nl);
                memcpy(line + nl, data, size);
                memcpy(line + nl + size, "\r\n", 2);
                kotel_grpc_header_line(&st, line, nl + size + 2);
                check(&st);
                free(line);
        }
        rc = kotel_grpc_status_details(data, size, &ms);
        FUZZ_ASSERT(rc >= -1 && rc <= 1);
        if (rc == 0)
                FUZZ_ASSERT(ms >= 0 && ms <= 86400L * 1000);
        if (size <= 3000) {
                /* The same bytes through the header line's base64. */
                char b64[4 * 1001 + 64] = "grpc-status-details-bin: ";
                size_t o = strlen(b64);
                int n = EVP_EncodeBlock((unsigned char *)b64 + o, data, (int)size);

                kotel_grpc_status_reset(&st);
                kotel_grpc_header_line(&st, b64, o + (size_t)n);
                check(&st);
                FUZZ_ASSERT(rc == 0 ? st.retry_delay_ms == ms
                                    : st.retry_delay_ms == -1);
        }
        rc = kotel_grpc_unframe(data, size, &m, &mn);
        FUZZ_ASSERT(rc >= -1 && rc <= 1);
        if (rc >= 0)
                FUZZ_ASSERT(m == data + KOTEL_GRPC_PREFIX &&
                            mn == size - KOTEL_GRPC_PREFIX);
        return 0;
}
