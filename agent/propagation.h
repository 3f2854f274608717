/* W3C Trace Context (traceparent, tracestate) and W3C Baggage, parsed
 * strictly: anything malformed is treated as absent. These functions take
 * untrusted bytes from other producers' message headers, so they check
 * every length and never read past @len. Pure; any thread. */
#ifndef KOTEL_PROPAGATION_H
#define KOTEL_PROPAGATION_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

#define KOTEL_TRACEPARENT_LEN 55
#define KOTEL_BAGGAGE_MAX 8192

/* 0 and @out's ids/flags set (valid = true), or -1. */
int kotel_traceparent_parse(const char *s, size_t len, struct kotel_ctx *out);
/* Writes the 55 characters and a NUL into @out. */
void kotel_traceparent_format(const struct kotel_ctx *c, char out[56]);
/* true when @s (not NUL-terminated) is a valid tracestate of at most
 * KOTEL_TRACESTATE_MAX bytes and 32 list members. */
bool kotel_tracestate_valid(const char *s, size_t len);
/* true when @s is a valid W3C baggage header of at most KOTEL_BAGGAGE_MAX
 * (8192) bytes. There is no limit on the number of members: W3C Baggage
 * requires every member of a header up to 8192 bytes to be propagated (the
 * 180-member cap was an earlier draft's). */
bool kotel_baggage_valid(const char *s, size_t len);

#endif
