/* kotel_trace_enc_encode, the hand-written OTLP trace encoder, against the
 * protobuf-c reference (kotel_otlp_encode_proto): a batch of spans built
 * from the input (tests/unit/otlp_gen.h: resources, clients and every span
 * field, present or absent, at any length the span model allows) encodes
 * to exactly the same bytes in both. One encoder serves every input, as
 * the exporter's worker keeps one across batches. */
#include "fuzz.h"
#include "tests/unit/otlp_gen.h"

#define MAX_SPANS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct kotel_trace_enc enc;
        struct kotel_span *spans[MAX_SPANS];
        struct gen g = {data, size};
        struct gen_world w;
        size_t n;

        gen_world_init(&g, &w);
        n = gen_u8(&g) % (MAX_SPANS + 1);
        for (size_t i = 0; i < n; i++)
                spans[i] = gen_span(&g, &w);
        FUZZ_ASSERT(gen_same_bytes(&enc, spans, n, NULL));
        for (size_t i = 0; i < n; i++)
                kotel_span_free(spans[i]);
        gen_world_free(&w);
        return 0;
}
