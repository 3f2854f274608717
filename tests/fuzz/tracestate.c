/* kotel_tracestate_valid: never reads past the input, and what it accepts
 * obeys W3C Trace Context as implemented: at most KOTEL_TRACESTATE_MAX
 * bytes, 1..32 non-empty members, each key=value with a lowercase key that
 * starts with a letter (or a digit in a tenant@system key), printable
 * values, no key twice. An accepted header is kept in a kotel_ctx and sent
 * on verbatim (consume.c, produce.c), so that copy must still be valid.
 * And it agrees, both ways, with an independent reading of the grammar. */
#include "agent/propagation.h"
#include "fuzz.h"

static bool ows(char c)
{
        return c == ' ' || c == '\t';
}

/* An independent reading of the W3C grammar, for a differential check:
 * list = member *( OWS "," OWS member ), empty members allowed;
 * member = key "=" value; key = lcalpha 0*255 keychar |
 * (lcalpha / DIGIT) 0*240 keychar "@" lcalpha 0*13 keychar;
 * value = 0*255 chr nblk-chr. */
static bool kc(char c, bool first, bool digit_first)
{
        if (c >= 'a' && c <= 'z')
                return true;
        if (c >= '0' && c <= '9')
                return !first || digit_first;
        return !first && (c == '_' || c == '-' || c == '*' || c == '/');
}

static bool ref_key(const char *k, size_t n)
{
        const char *at = memchr(k, '@', n);
        size_t t       = at ? (size_t)(at - k) : n;

        if (!at)
                t = n;
        if (t < 1 || t > (at ? 241u : 256u))
                return false;
        for (size_t i = 0; i < t; i++)
                if (!kc(k[i], i == 0, at != NULL))
                        return false;
        if (!at)
                return true;
        if (n - t - 1 < 1 || n - t - 1 > 14)
                return false;
        for (size_t i = t + 1; i < n; i++)
                if (!kc(k[i], i == t + 1, false))
                        return false;
        return true;
}

static bool ref_valid(const char *s, size_t len)
{
        const char *keys[33];
        size_t klen[33], members = 0;
        const char *p = s, *end = s + len;

        if (len > KOTEL_TRACESTATE_MAX)
                return false;
        while (p <= end) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                const char *b = p, *e = c ? c : end, *eq;

                while (b < e && ows(*b))
                        b++;
                while (e > b && ows(e[-1]))
                        e--;
                if (b < e) {
                        eq = memchr(b, '=', (size_t)(e - b));
                        if (!eq || !ref_key(b, (size_t)(eq - b)))
                                return false;
                        if (e - eq - 1 < 1 || e - eq - 1 > 256 || e[-1] == ' ')
                                return false;
                        for (const char *v = eq + 1; v < e; v++)
                                if (*v < 0x20 || *v > 0x7e || *v == ',' ||
                                    *v == '=')
                                        return false;
                        for (size_t i = 0; i < members; i++)
                                if (klen[i] == (size_t)(eq - b) &&
                                    !memcmp(keys[i], b, klen[i]))
                                        return false;
                        if (members == 32)
                                return false;
                        keys[members]   = b;
                        klen[members++] = (size_t)(eq - b);
                }
                if (!c)
                        break;
                p = c + 1;
        }
        return members > 0;
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
        bool ok       = kotel_tracestate_valid(s, size);

        FUZZ_ASSERT(ok == ref_valid(s, size));
        if (ok)
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
