/* kotel_traceparent_parse/format: never reads past the input; what parses
 * has non-zero ids and only the sampled flag, formats back to the same
 * lowercase version-00 string, and re-parses to the same context. The
 * first 25 bytes, taken as ids and flags, must survive format -> parse. */
#include "agent/propagation.h"
#include "fuzz.h"

static bool all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static bool is_ows(uint8_t c)
{
        return c == ' ' || c == '\t';
}

static void parsed(const uint8_t *data, size_t size, const struct kotel_ctx *c)
{
        struct kotel_ctx again;
        char out[56];
        size_t b = 0, e = size;

        FUZZ_ASSERT(c->valid);
        FUZZ_ASSERT(!all_zero(c->trace_id, 16) && !all_zero(c->span_id, 8));
        FUZZ_ASSERT((c->flags & ~KOTEL_FLAG_SAMPLED) == 0);
        while (b < e && is_ows(data[b]))
                b++;
        while (e > b && is_ows(data[e - 1]))
                e--;
        FUZZ_ASSERT(e - b >= KOTEL_TRACEPARENT_LEN);
        FUZZ_ASSERT(memcmp(data + b, "ff", 2) != 0);
        if (!memcmp(data + b, "00", 2))
                FUZZ_ASSERT(e - b == KOTEL_TRACEPARENT_LEN);
        kotel_traceparent_format(c, out);
        FUZZ_ASSERT(strlen(out) == KOTEL_TRACEPARENT_LEN);
        /* Same ids, lowercase in, lowercase out: the string comes back
         * whenever it was version 00 with flags 00 or 01. */
        FUZZ_ASSERT(!memcmp(out + 3, data + b + 3, 49));
        if (!memcmp(data + b, "00", 2) && (!memcmp(data + b + 53, "00", 2) ||
                                           !memcmp(data + b + 53, "01", 2)))
                FUZZ_ASSERT(!memcmp(out, data + b, KOTEL_TRACEPARENT_LEN));
        FUZZ_ASSERT(kotel_traceparent_parse(out, strlen(out), &again) == 0);
        FUZZ_ASSERT(!memcmp(again.trace_id, c->trace_id, 16) &&
                    !memcmp(again.span_id, c->span_id, 8) &&
                    again.flags == c->flags);
}

static void from_bytes(const uint8_t *data)
{
        struct kotel_ctx c = {0}, back;
        char out[56];
        bool zero;

        memcpy(c.trace_id, data, 16);
        memcpy(c.span_id, data + 16, 8);
        c.flags = data[24];
        c.valid = true;
        zero    = all_zero(c.trace_id, 16) || all_zero(c.span_id, 8);
        kotel_traceparent_format(&c, out);
        for (size_t i = 0; i < KOTEL_TRACEPARENT_LEN; i++)
                FUZZ_ASSERT(out[i] == '-' || (out[i] >= '0' && out[i] <= '9') ||
                            (out[i] >= 'a' && out[i] <= 'f'));
        if (kotel_traceparent_parse(out, KOTEL_TRACEPARENT_LEN, &back) < 0) {
                FUZZ_ASSERT(zero);
                return;
        }
        FUZZ_ASSERT(!zero);
        FUZZ_ASSERT(!memcmp(back.trace_id, c.trace_id, 16) &&
                    !memcmp(back.span_id, c.span_id, 8) &&
                    back.flags == (c.flags & KOTEL_FLAG_SAMPLED));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* An exact-size heap copy: ASan catches any read past @size. */
        char *copy = malloc(size ? size : 1);
        struct kotel_ctx c;

        memcpy(copy, data, size);
        memset(&c, 0xa5, sizeof(c));
        if (kotel_traceparent_parse(copy, size, &c) == 0)
                parsed(data, size, &c);
        if (size >= 25)
                from_bytes(data);
        free(copy);
        return 0;
}
