/* A growable byte buffer that remembers allocation failure, so encoders
 * can append without checking every call and test once at the end. */
#ifndef KOTEL_BUF_H
#define KOTEL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kotel_buf {
        char *p;
        size_t len;
        size_t cap;
        bool oom;
};

void kotel_buf_append(struct kotel_buf *b, const void *data, size_t len);
void kotel_buf_puts(struct kotel_buf *b, const char *s);
void kotel_buf_printf(struct kotel_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Lower-case hex of @len bytes. */
void kotel_buf_hex(struct kotel_buf *b, const uint8_t *data, size_t len);
/* A JSON string literal with quotes; invalid UTF-8 becomes U+FFFD. */
void kotel_buf_json_str(struct kotel_buf *b, const char *s, size_t len);
void kotel_buf_free(struct kotel_buf *b);

#endif
