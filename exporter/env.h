/* Environment-variable parsing shared by agent/ and exporter/.
 *
 * Every parser validates: a malformed value gets one clear log line naming
 * the variable, and the caller's default is used. Values are never logged
 * for variables that may carry secrets (the caller says which). */
#ifndef KOTEL_ENV_H
#define KOTEL_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The variable's value, or NULL when unset or empty. */
const char *kotel_env_str(const char *name);
/* Integer in [min, max]; @def when unset or invalid. */
int64_t kotel_env_int(const char *name, int64_t def, int64_t min, int64_t max);
/* "true"/"false" (case-insensitive); @def when unset or invalid. */
bool kotel_env_bool(const char *name, bool def);
/* Pure parsers behind the above, for tests and fuzzing: return 0 or -1. */
int kotel_env_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
int kotel_env_parse_bool(const char *s, bool *out);

/* Percent-decodes @len bytes of @in into a new string; NULL when malformed
 * (a bad escape, or "%00": the result is a C string) or out of memory. */
char *kotel_percent_decode(const char *in, size_t len);

#endif
