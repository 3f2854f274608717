#include "gzip.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

int kotel_gzip_compress(struct kotel_gzip *z, const uint8_t *in, size_t len,
                        const uint8_t **out, size_t *out_len)
{
        size_t bound, n;

        *out     = NULL;
        *out_len = 0;
        if (!z->c && !(z->c = libdeflate_alloc_compressor(KOTEL_GZIP_LEVEL)))
                return -1;
        bound = libdeflate_gzip_compress_bound(z->c, len);
        if (bound > z->cap) {
                uint8_t *p = realloc(z->buf, bound);

                if (!p)
                        return -1;
                z->buf = p;
                z->cap = bound;
        }
        /* Cannot fail with the bound's room; 0 would mean it did. */
        n = libdeflate_gzip_compress(z->c, in, len, z->buf, z->cap);
        if (n == 0)
                return -1;
        *out     = z->buf;
        *out_len = n;
        return 0;
}

void kotel_gzip_free(struct kotel_gzip *z)
{
        if (z->c)
                libdeflate_free_compressor(z->c);
        free(z->buf);
        memset(z, 0, sizeof(*z));
}

int kotel_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
        struct kotel_gzip z = {0};
        const uint8_t *gz;
        int rc = kotel_gzip_compress(&z, in, len, &gz, out_len);

        *out = NULL;
        if (rc == 0) {
                /* Hand the buffer over instead of copying it. */
                *out  = z.buf;
                z.buf = NULL;
        }
        kotel_gzip_free(&z);
        return rc;
}
