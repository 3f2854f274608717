#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct kotel_buf *b, size_t more)
{
        size_t cap;
        char *p;

        if (b->oom)
                return false;
        if (b->len + more + 1 <= b->cap)
                return true;
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + more + 1)
                cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
                b->oom = true;
                return false;
        }
        b->p   = p;
        b->cap = cap;
        return true;
}

void kotel_buf_append(struct kotel_buf *b, const void *data, size_t len)
{
        if (!reserve(b, len))
                return;
        memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = '\0';
}

void kotel_buf_puts(struct kotel_buf *b, const char *s)
{
        kotel_buf_append(b, s, strlen(s));
}

void kotel_buf_printf(struct kotel_buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !reserve(b, (size_t)n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void kotel_buf_hex(struct kotel_buf *b, const uint8_t *data, size_t len)
{
        static const char hex[] = "0123456789abcdef";

        if (!reserve(b, len * 2))
                return;
        for (size_t i = 0; i < len; i++) {
                b->p[b->len++] = hex[data[i] >> 4];
                b->p[b->len++] = hex[data[i] & 15];
        }
        b->p[b->len] = '\0';
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
        size_t n;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return n;
}

void kotel_buf_json_str(struct kotel_buf *b, const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;

        kotel_buf_append(b, "\"", 1);
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq(u + i, len - i);

                if (n == 0) {
                        kotel_buf_puts(b, "\\ufffd");
                        i++;
                } else if (n > 1) {
                        kotel_buf_append(b, u + i, n);
                        i += n;
                } else {
                        if (u[i] == '"' || u[i] == '\\') {
                                char esc[2] = {'\\', (char)u[i]};
                                kotel_buf_append(b, esc, 2);
                        } else if (u[i] < 0x20 || u[i] == 0x7f) {
                                kotel_buf_printf(b, "\\u%04x", u[i]);
                        } else {
                                kotel_buf_append(b, u + i, 1);
                        }
                        i++;
                }
        }
        kotel_buf_append(b, "\"", 1);
}

void kotel_buf_free(struct kotel_buf *b)
{
        free(b->p);
        memset(b, 0, sizeof(*b));
}
