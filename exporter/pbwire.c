#include "pbwire.h"

#include <stdlib.h>

bool kotel_pbw_grow(struct kotel_pbw *w, size_t more)
{
        size_t cap;
        uint8_t *p;

        if (w->oom)
                return false;
        if (w->cap - w->len >= more)
                return true;
        if (more > SIZE_MAX / 2 - w->len)
                goto out_oom;
        cap = w->cap ? w->cap : 4096;
        while (cap - w->len < more)
                cap *= 2;
        p = realloc(w->p, cap);
        if (!p)
                goto out_oom;
        w->p   = p;
        w->cap = cap;
        return true;
out_oom:
        w->oom = true;
        return false;
}

void kotel_pbw_free(struct kotel_pbw *w)
{
        free(w->p);
        memset(w, 0, sizeof(*w));
}

uint8_t *kotel_pbw_len_close(uint8_t *body, uint8_t *end, size_t guess)
{
        size_t len  = (size_t)(end - body);
        size_t need = kotel_pb_varint_size(len);

        if (need != guess) {
                memmove(body - guess + need, body, len);
                body = body - guess + need;
                end  = body + len;
        }
        kotel_pb_put_varint(body - need, len);
        return end;
}

size_t kotel_fmt_u64(char *buf, uint64_t v)
{
        char tmp[20];
        size_t n = 0;

        do {
                tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        memcpy(buf, tmp + sizeof(tmp) - n, n);
        return n;
}
