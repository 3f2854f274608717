/* kotel_otlp_decode_response: a collector's ExportTraceServiceResponse
 * (protobuf), any bytes. The message it returns is NUL-terminated within
 * the caller's buffer, safe to log (no control bytes), empty with
 * rejected = 0 on garbage; and a response encoded here from the input
 * (rejected from the first 8 bytes, the rest as error_message) decodes to
 * the same count and a sanitised prefix of the message. */
#include "exporter/otlp.h"
#include "fuzz.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    Response;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess
    Partial;

static void round_trip(const uint8_t *data, size_t size)
{
        Response r =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        Partial p =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        char *text  = fuzz_cstr(data + 8, size - 8), msg[128];
        int64_t rej = -1;
        uint8_t *buf;
        size_t len, n;

        memcpy(&p.rejected_spans, data, 8);
        p.error_message   = text;
        r.partial_success = &p;
        len =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
                &r);
        buf = malloc(len ? len : 1);
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
            &r, buf);
        FUZZ_ASSERT(
            kotel_otlp_decode_response(buf, len, &rej, msg, sizeof(msg)) == 0);
        FUZZ_ASSERT(rej == p.rejected_spans);
        fuzz_check_log_text(msg, sizeof(msg));
        n = strlen(text) < sizeof(msg) - 1 ? strlen(text) : sizeof(msg) - 1;
        FUZZ_ASSERT(strlen(msg) == n);
        for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT(msg[i] == text[i] ||
                            ((unsigned char)text[i] < 0x20 || text[i] == 0x7f));
        free(buf);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t caps[] = {128, 1, 2, 17};
        char msg[128];
        int64_t rej;

        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
                memset(msg, 'x', sizeof(msg));
                rej = -99;
                if (kotel_otlp_decode_response(data, size, &rej, msg,
                                               caps[c]) == 0) {
                        fuzz_check_log_text(msg, caps[c]);
                } else {
                        FUZZ_ASSERT(rej == 0 && msg[0] == '\0');
                }
        }
        if (size >= 8)
                round_trip(data, size);
        return 0;
}
