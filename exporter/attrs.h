/* The attribute list of a span, derived from its fields in one place so that
 * every encoder (OTLP protobuf, OTLP JSON, console) says the same thing. */
#ifndef KOTEL_ATTRS_H
#define KOTEL_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

enum kotel_attr_type { KOTEL_ATTR_STR, KOTEL_ATTR_INT, KOTEL_ATTR_BOOL };

struct kotel_attr {
        const char *key;
        enum kotel_attr_type type;
        const char *s; /* KOTEL_ATTR_STR, not necessarily NUL-terminated */
        size_t slen;
        int64_t i; /* KOTEL_ATTR_INT, or 0/1 for KOTEL_ATTR_BOOL */
};

#define KOTEL_SPAN_ATTRS_MAX 22

/* Scratch space the attributes may point into; lives with the list. */
struct kotel_attr_scratch {
        char partition[16];
};

/* "create_time", "log_append_time" for a span's ts_type (1, 2). */
const char *kotel_ts_type_name(uint8_t t);
/* Fills @out (KOTEL_SPAN_ATTRS_MAX entries); returns the count. The list
 * borrows from @s and @scratch. */
size_t kotel_span_attrs(const struct kotel_span *s, struct kotel_attr *out,
                        struct kotel_attr_scratch *scratch);

/* "send orders": the span name, into @buf (truncated to fit). */
size_t kotel_span_name(const struct kotel_span *s, char *buf, size_t size);

#endif
