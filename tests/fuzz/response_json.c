/* kotel_otlp_decode_response_json: a collector's OTLP/JSON response, any
 * bytes, not NUL-terminated. rejected is never negative, the message is
 * NUL-terminated within the caller's buffer and has no control bytes; and
 * a response built here from the input (a count from the first 8 bytes,
 * the rest as errorMessage, quotes and backslashes escaped) decodes to the
 * same count and message prefix. */
#include <inttypes.h>

#include "exporter/otlp.h"
#include "fuzz.h"

static void round_trip(const uint8_t *data, size_t size)
{
        uint64_t raw;
        int64_t count, rej = -1;
        char *body = malloc(96 + 2 * size), msg[128], want[128];
        size_t o, w = 0;

        memcpy(&raw, data, 8);
        count = (int64_t)(raw >> 1);
        o     = (size_t)sprintf(body,
                                "{\"partialSuccess\":{\"rejectedSpans\":\"%" PRId64
                                "\",\"errorMessage\":\"",
                                count);
        for (size_t i = 8; i < size; i++) {
                char c =
                    data[i] < 0x20 || data[i] == 0x7f ? ' ' : (char)data[i];

                if (c == '"' || c == '\\')
                        body[o++] = '\\';
                body[o++] = c;
                if (w + 1 < sizeof(want))
                        want[w++] = c;
        }
        want[w] = '\0';
        memcpy(body + o, "\"}}", 3);
        o += 3;
        FUZZ_ASSERT(kotel_otlp_decode_response_json((uint8_t *)body, o, &rej,
                                                    msg, sizeof(msg)) == 0);
        FUZZ_ASSERT(rej == count);
        /* The message may itself contain "rejectedSpans": only the count
         * found first is promised, so compare the message only. */
        FUZZ_ASSERT(!strcmp(msg, want));
        free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t caps[] = {128, 1, 2, 17};
        uint8_t *copy              = malloc(size ? size : 1);
        char msg[128];
        int64_t rej;

        memcpy(copy, data, size);
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
                memset(msg, 'x', sizeof(msg));
                rej = -99;
                if (kotel_otlp_decode_response_json(copy, size, &rej, msg,
                                                    caps[c]) == 0) {
                        FUZZ_ASSERT(rej >= 0);
                        fuzz_check_log_text(msg, caps[c]);
                } else {
                        FUZZ_ASSERT(rej == 0 && msg[0] == '\0');
                }
        }
        free(copy);
        if (size >= 8)
                round_trip(data, size);
        return 0;
}
