/* gzip for OTLP request bodies, through libdeflate (whole-buffer DEFLATE:
 * no streaming state, about half zlib's instructions at level 1 for the
 * same size on OTLP batches; docs/performance.md).
 *
 * struct kotel_gzip keeps the compressor and the output buffer across
 * requests; zero-initialised is ready to use. Owned by one thread at a time
 * (the exporter's worker); no hidden state. */
#ifndef KOTEL_GZIP_H
#define KOTEL_GZIP_H

#include <stddef.h>
#include <stdint.h>

/* Level 1: OTLP batches are repetitive (the same attribute keys, topics
 * and ids' prefixes in every span), so the fastest level compresses them
 * within a few per cent of the default level for a fraction of the CPU. */
#define KOTEL_GZIP_LEVEL 1

struct libdeflate_compressor;

struct kotel_gzip {
        struct libdeflate_compressor *c;
        uint8_t *buf;
        size_t cap;
};

/* gzip of @in into *@out / *@out_len, valid until the next call or
 * kotel_gzip_free. 0, or -1 on allocation failure. */
int kotel_gzip_compress(struct kotel_gzip *z, const uint8_t *in, size_t len,
                        const uint8_t **out, size_t *out_len);
void kotel_gzip_free(struct kotel_gzip *z);

/* One-shot: gzip @in into a new malloc'd buffer. 0 or -1. */
int kotel_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

#endif
