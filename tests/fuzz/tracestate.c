/* kotel_tracestate_valid: never reads past the input, and what it accepts
 * obeys W3C Trace Context as implemented: at most KOTEL_TRACESTATE_MAX
 * bytes, 1..32 non-empty members, each key=value with a lowercase key that
 * starts with a letter (or a digit in a tenant@system key), printable
 * values, no key twice. An accepted header is kept in a kotel_ctx and sent
 * on verbatim (consume.c, produce.c), so that copy must still be valid. */
#include "agent/propagation.h"
#include "fuzz.h"

static bool ows(char c)
{
        return c == ' ' || c == '\t';
}

static void check_accepted(const char *s, size_t len)
{
        const char *keys[64];
        size_t klen[64], members = 0, i = 0;
        struct kotel_ctx c = {0}, d;

        FUZZ_ASSERT(len <= KOTEL_TRACESTATE_MAX);
        while (i <= len) {
                size_t b = i, e;
                const char *eq;

                while (i < len && s[i] != ',')
                        i++;
                e = i++;
                while (b < e && ows(s[b]))
                        b++;
                while (e > b && ows(s[e - 1]))
                        e--;
                if (b == e)
                        continue;
                eq = memchr(s + b, '=', e - b);
                FUZZ_ASSERT(eq && eq > s + b && eq < s + e - 1);
                FUZZ_ASSERT((s[b] >= 'a' && s[b] <= 'z') ||
                            (s[b] >= '0' && s[b] <= '9' &&
                             memchr(s + b, '@', (size_t)(eq - s - b))));
                for (const char *p = s + b; p < s + e; p++)
                        FUZZ_ASSERT(*p >= 0x20 && *p <= 0x7e && *p != ',');
                for (const char *p = s + b; p < eq; p++)
                        FUZZ_ASSERT(!(*p >= 'A' && *p <= 'Z') && *p != ' ');
                FUZZ_ASSERT(members < 32);
                keys[members] = s + b;
                klen[members] = (size_t)(eq - s - b);
                for (size_t k = 0; k < members; k++)
                        FUZZ_ASSERT(klen[k] != klen[members] ||
                                    memcmp(keys[k], keys[members], klen[k]));
                members++;
        }
        FUZZ_ASSERT(members >= 1);

        /* As kotel_headers_extract() stores it, then as a span copies it. */
        memcpy(c.tracestate, s, len);
        c.ts_len          = (uint16_t)len;
        c.tracestate[len] = '\0';
        kotel_ctx_copy(&d, &c);
        FUZZ_ASSERT(d.ts_len == len && !memcmp(d.tracestate, s, len) &&
                    d.tracestate[len] == '\0');
        FUZZ_ASSERT(kotel_tracestate_valid(d.tracestate, d.ts_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;

        if (kotel_tracestate_valid(s, size))
                check_accepted(s, size);
        /* A prefix, in an exact-size heap block: judged without reading
         * past its end (ASan watches the block's edge). */
        if (size > 1) {
                char *half = malloc(size / 2);

                memcpy(half, data, size / 2);
                (void)kotel_tracestate_valid(half, size / 2);
                free(half);
        }
        return 0;
}
