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

/* Locale-independent text rules. Configuration is read at the first
 * librdkafka call, often after the app's setlocale(LC_ALL, ""), and must
 * mean the same under every locale: under de_DE strtod stops at "0.5"'s
 * point, under tr_TR strcasecmp("LINK", "link") differs (I folds to a
 * dotless i), under a Latin-1 locale isalpha(0xe4) holds. Every parser in
 * kotel uses these instead of <ctype.h>, strcasecmp and strtod. */
static inline bool kotel_env_isdigit(int c)
{
        return c >= '0' && c <= '9';
}
static inline bool kotel_env_isalpha(int c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool kotel_env_isspace(int c)
{
        return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int kotel_env_tolower(int c)
{
        return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}
/* ASCII-only strcasecmp / strncasecmp. */
int kotel_env_casecmp(const char *a, const char *b);
int kotel_env_ncasecmp(const char *a, const char *b, size_t n);
/* A number as strtod reads it in the "C" locale (a decimal point, never a
 * comma), the whole string: 0 and *@out, or -1. Preserves errno. */
int kotel_env_parse_double(const char *s, double *out);

/* The variable's value, or NULL when unset or empty, or when the process
 * runs in secure-execution mode (set-uid, set-gid, file capabilities):
 * every variable kotel reads goes through here. */
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
