/* A span context as it travels: the ids, the W3C trace-flags, and the
 * tracestate that rides along with the traceparent. */
#ifndef KOTEL_CTX_H
#define KOTEL_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define KOTEL_TRACESTATE_MAX 512
#define KOTEL_FLAG_SAMPLED 0x01

struct kotel_ctx {
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t flags;
        bool valid;
        uint16_t ts_len; /* 0: no tracestate */
        char tracestate[KOTEL_TRACESTATE_MAX + 1];
};

static inline bool kotel_ctx_sampled(const struct kotel_ctx *c)
{
        return c->valid && (c->flags & KOTEL_FLAG_SAMPLED);
}

/* Copies the ids and flags only (cheap; tracestate is left empty). */
static inline void kotel_ctx_copy_ids(struct kotel_ctx *dst,
                                      const struct kotel_ctx *src)
{
        memcpy(dst->trace_id, src->trace_id, 16);
        memcpy(dst->span_id, src->span_id, 8);
        dst->flags  = src->flags;
        dst->valid  = src->valid;
        dst->ts_len = 0;
}

static inline void kotel_ctx_copy(struct kotel_ctx *dst,
                                  const struct kotel_ctx *src)
{
        kotel_ctx_copy_ids(dst, src);
        dst->ts_len = src->ts_len;
        if (src->ts_len)
                memcpy(dst->tracestate, src->tracestate, src->ts_len);
        dst->tracestate[src->ts_len] = '\0';
}

#endif
