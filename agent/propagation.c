#include "propagation.h"

#include <string.h>

/* Lower-case hex digit values + 1; 0 for anything else (upper case is
 * invalid in traceparent). A table: this runs for every consumed message. */
#define HX(c, v) [c] = (v) + 1
static const uint8_t hexval[256] = {
    HX('0', 0),   HX('1', 1),   HX('2', 2),   HX('3', 3),   HX('4', 4),
    HX('5', 5),   HX('6', 6),   HX('7', 7),   HX('8', 8),   HX('9', 9),
    HX('a', 10),  HX('b', 11),  HX('c', 12),  HX('d', 13),  HX('e', 14),
    HX('f', 15),
};
#undef HX

/* @n bytes from 2 * @n hex digits; false on a bad digit or (for ids, n > 1)
 * an all-zero value. */
static bool parse_hex(const char *s, size_t n, uint8_t *out)
{
        const unsigned char *u = (const unsigned char *)s;
        unsigned bad = 0, any = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned hi = hexval[u[2 * i]], lo = hexval[u[2 * i + 1]];

                bad |= (hi == 0) | (lo == 0);
                out[i] = (uint8_t)((hi - 1) << 4 | ((lo - 1) & 0xf));
                any |= out[i];
        }
        return !bad && (any || n == 1);
}

int kotel_traceparent_parse(const char *s, size_t len, struct kotel_ctx *out)
{
        uint8_t version, tid[16], sid[8], flags;

        /* Tolerate surrounding optional whitespace (RFC 9110 OWS). */
        while (len && (*s == ' ' || *s == '\t'))
                s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        if (len < KOTEL_TRACEPARENT_LEN)
                return -1;
        if (!parse_hex(s, 1, &version) || version == 0xff)
                return -1;
        /* Version 00 is exactly 55 characters; a later version may append
         * fields after a dash, which this version ignores. */
        if (version == 0 && len != KOTEL_TRACEPARENT_LEN)
                return -1;
        if (len > KOTEL_TRACEPARENT_LEN && s[KOTEL_TRACEPARENT_LEN] != '-')
                return -1;
        if (s[2] != '-' || s[35] != '-' || s[52] != '-')
                return -1;
        /* Into locals, not a whole struct kotel_ctx: zeroing one meant
         * zeroing its tracestate buffer too, at every consumed message. */
        if (!parse_hex(s + 3, 16, tid) || !parse_hex(s + 36, 8, sid) ||
            !parse_hex(s + 53, 1, &flags))
                return -1;
        memcpy(out->trace_id, tid, 16);
        memcpy(out->span_id, sid, 8);
        /* Only the sampled bit is defined; keep others off for version 00
         * so that we never propagate bits we do not understand. */
        out->flags  = flags & KOTEL_FLAG_SAMPLED;
        out->valid  = true;
        out->ts_len = 0;
        return 0;
}

/* Each byte's two lowercase hex characters: one load per byte. */
static const char hex2[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static char *put_hex(char *p, const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++, p += 2)
                memcpy(p, &hex2[2 * b[i]], 2);
        return p;
}

void kotel_traceparent_format(const struct kotel_ctx *c, char out[56])
{
        char *p = out;

        memcpy(p, "00-", 3);
        p    = put_hex(p + 3, c->trace_id, 16);
        *p++ = '-';
        p    = put_hex(p, c->span_id, 8);
        *p++ = '-';
        p    = put_hex(p, &c->flags, 1);
        *p   = '\0';
}

static bool lcalpha(unsigned char c)
{
        return c >= 'a' && c <= 'z';
}

static bool key_char(unsigned char c)
{
        return lcalpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '*' || c == '/';
}

/* simple-key = lcalpha 0*255(keychar); multi-tenant-key =
 * tenant-id "@" system-id, tenant-id = (lcalpha / DIGIT) 0*240(keychar),
 * system-id = lcalpha 0*13(keychar). */
static bool ts_key_valid(const char *k, size_t n)
{
        const char *at = memchr(k, '@', n);

        if (!n)
                return false;
        if (!at) {
                if (n > 256 || !lcalpha((unsigned char)k[0]))
                        return false;
                for (size_t i = 1; i < n; i++)
                        if (!key_char((unsigned char)k[i]))
                                return false;
                return true;
        }
        {
                size_t tn = (size_t)(at - k), sn = n - tn - 1;

                if (tn < 1 || tn > 241 || sn < 1 || sn > 14)
                        return false;
                if (!lcalpha((unsigned char)k[0]) &&
                    !(k[0] >= '0' && k[0] <= '9'))
                        return false;
                for (size_t i = 1; i < tn; i++)
                        if (!key_char((unsigned char)k[i]))
                                return false;
                if (!lcalpha((unsigned char)at[1]))
                        return false;
                for (size_t i = 2; i <= sn; i++)
                        if (!key_char((unsigned char)at[i]))
                                return false;
        }
        return true;
}

/* value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr;
 * nblk-chr = %x21-2B / %x2D-3C / %x3E-7E */
static bool ts_value_valid(const char *v, size_t n)
{
        if (n < 1 || n > 256 || v[n - 1] == ' ')
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
                        return false;
        }
        return true;
}

/* W3C: a key appears at most once; a list with a repeated key is invalid
 * (the Trace Context test suite drops "foo=1,foo=2"). */
static bool ts_key_seen(const char *const *keys, const size_t *klen, size_t n,
                        const char *k, size_t kn)
{
        for (size_t i = 0; i < n; i++)
                if (klen[i] == kn && !memcmp(keys[i], k, kn))
                        return true;
        return false;
}

bool kotel_tracestate_valid(const char *s, size_t len)
{
        const char *keys[32];
        size_t klen[32];
        size_t members = 0, i = 0;

        if (len > KOTEL_TRACESTATE_MAX)
                return false;
        while (i <= len) {
                size_t start = i, end, eq;

                while (i < len && s[i] != ',')
                        i++;
                end = i;
                /* OWS around list members; empty members are allowed. */
                while (start < end && (s[start] == ' ' || s[start] == '\t'))
                        start++;
                while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                        end--;
                if (end > start) {
                        const char *m = s + start;
                        const char *e = memchr(m, '=', end - start);

                        if (!e)
                                return false;
                        eq = (size_t)(e - m);
                        if (!ts_key_valid(m, eq) ||
                            !ts_value_valid(e + 1, end - start - eq - 1))
                                return false;
                        if (members == 32 ||
                            ts_key_seen(keys, klen, members, m, eq))
                                return false;
                        keys[members]   = m;
                        klen[members++] = eq;
                }
                i++;
        }
        return members > 0;
}

static bool token_char(unsigned char c)
{
        return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static bool baggage_octet(unsigned char c)
{
        return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
               (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
               (c >= 0x5d && c <= 0x7e) || c == '%';
}

bool kotel_baggage_valid(const char *s, size_t len)
{
        size_t i = 0;

        if (len == 0 || len > KOTEL_BAGGAGE_MAX)
                return false;
        while (i <= len) {
                size_t start = i, end;

                while (i < len && s[i] != ',')
                        i++;
                end = i;
                while (start < end && (s[start] == ' ' || s[start] == '\t'))
                        start++;
                while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                        end--;
                {
                        /* key OWS "=" OWS value *( OWS ";" OWS property ) */
                        size_t k = start, eq;

                        while (k < end && token_char((unsigned char)s[k]))
                                k++;
                        if (k == start)
                                return false;
                        eq = k;
                        while (eq < end && (s[eq] == ' ' || s[eq] == '\t'))
                                eq++;
                        if (eq >= end || s[eq] != '=')
                                return false;
                        eq++;
                        while (eq < end && (s[eq] == ' ' || s[eq] == '\t'))
                                eq++;
                        while (eq < end && s[eq] != ';') {
                                if (!baggage_octet((unsigned char)s[eq]) &&
                                    !(s[eq] == ' ' || s[eq] == '\t'))
                                        return false;
                                eq++;
                        }
                        /* Properties: accept printable ASCII without ','. */
                        for (; eq < end; eq++)
                                if ((unsigned char)s[eq] < 0x20 ||
                                    (unsigned char)s[eq] > 0x7e)
                                        return false;
                }
                i++;
        }
        return true;
}
