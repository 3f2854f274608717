/* Shared by the libFuzzer targets in tests/fuzz/: an invariant check that
 * crashes (so libFuzzer saves the input), and a NUL-terminated copy of the
 * input for parsers that take C strings. */
#ifndef KOTEL_FUZZ_H
#define KOTEL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                      \
        do {                                                                   \
                if (!(cond)) {                                                 \
                        fprintf(stderr, "invariant failed: %s (%s:%d)\n",      \
                                #cond, __FILE__, __LINE__);                    \
                        abort();                                               \
                }                                                              \
        } while (0)

/* A malloc'd, NUL-terminated copy of @data (embedded NULs kept: C-string
 * parsers see a prefix, as they would from getenv()). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* A collector's message as kotel returns it for its log: NUL-terminated
 * within @cap bytes, no control bytes, no DEL. */
static inline void fuzz_check_log_text(const char *msg, size_t cap)
{
        size_t n = strnlen(msg, cap);

        FUZZ_ASSERT(n < cap);
        for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
}

/* Self-diagnostics off unless asked for: the parsers log every bad value. */
static inline void fuzz_quiet(void)
{
        setenv("OTEL_LOG_LEVEL", getenv("KOTEL_FUZZ_LOG") ? "debug" : "none",
               1);
}

#endif
