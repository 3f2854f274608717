#include "env.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>

#include "log.h"

int kotel_env_ncasecmp(const char *a, const char *b, size_t n)
{
        for (; n; a++, b++, n--) {
                int d = kotel_env_tolower((unsigned char)*a) -
                        kotel_env_tolower((unsigned char)*b);

                if (d || !*a)
                        return d;
        }
        return 0;
}

int kotel_env_casecmp(const char *a, const char *b)
{
        return kotel_env_ncasecmp(a, b, SIZE_MAX);
}

/* The "C" locale object: glibc hands out a static one for "C" (no
 * allocation, never freed), so this cannot fail in practice; NULL falls
 * back to the global locale. */
static locale_t c_locale(void)
{
        static locale_t loc;
        locale_t l = __atomic_load_n(&loc, __ATOMIC_ACQUIRE);

        if (!l) {
                l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
                __atomic_store_n(&loc, l, __ATOMIC_RELEASE);
        }
        return l;
}

int kotel_env_parse_double(const char *s, double *out)
{
        locale_t l = c_locale();
        char *end;
        double r;
        int saved = errno;

        if (!s || !*s)
                return -1;
        errno = 0;
        r     = l ? strtod_l(s, &end, l) : strtod(s, &end);
        if (errno || end == s || *end) {
                errno = saved;
                return -1;
        }
        errno = saved;
        *out  = r;
        return 0;
}

const char *kotel_env_str(const char *name)
{
        /* secure_getenv: a set-uid or set-gid program (AT_SECURE) sees no
         * variable at all, so its invoker cannot steer kotel, whichever
         * way kotel was loaded (the agent also stays off there, see
         * agent.c). */
        const char *v = secure_getenv(name);

        return v && *v ? v : NULL;
}

int kotel_env_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
        char *end;
        long long v;
        int saved = errno;

        while (*s == ' ' || *s == '\t')
                s++;
        /* strtoll would skip newlines and other spaces too, which are
         * refused after the number: the same blanks on both sides. */
        if (!kotel_env_isdigit(*s) && *s != '-' && *s != '+')
                return -1;
        errno = 0;
        v     = c_locale() ? strtoll_l(s, &end, 10, c_locale())
                           : strtoll(s, &end, 10);
        if (errno || end == s) {
                errno = saved;
                return -1;
        }
        while (*end == ' ' || *end == '\t')
                end++;
        errno = saved;
        if (*end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

int kotel_env_parse_bool(const char *s, bool *out)
{
        if (!kotel_env_casecmp(s, "true"))
                *out = true;
        else if (!kotel_env_casecmp(s, "false"))
                *out = false;
        else
                return -1;
        return 0;
}

int64_t kotel_env_int(const char *name, int64_t def, int64_t min, int64_t max)
{
        const char *v = kotel_env_str(name);
        struct kotel_log_value q;
        int64_t out;

        if (!v)
                return def;
        if (kotel_env_parse_int(v, min, max, &out) == 0)
                return out;
        kotel_log(KOTEL_LOG_ERROR,
                  "%s: '%s' is not an integer in [%lld, %lld], using %lld",
                  name, kotel_log_value(&q, v), (long long)min, (long long)max,
                  (long long)def);
        return def;
}

bool kotel_env_bool(const char *name, bool def)
{
        const char *v = kotel_env_str(name);
        struct kotel_log_value q;
        bool out;

        if (!v)
                return def;
        if (kotel_env_parse_bool(v, &out) == 0)
                return out;
        kotel_log(KOTEL_LOG_ERROR, "%s: '%s' is not true or false, using %s",
                  name, kotel_log_value(&q, v), def ? "true" : "false");
        return def;
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = kotel_env_tolower(c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

char *kotel_percent_decode(const char *in, size_t len)
{
        char *out = malloc(len + 1);
        size_t o  = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (in[i] == '%') {
                        int hi, lo;

                        if (i + 2 >= len)
                                goto bad;
                        hi = hexval((unsigned char)in[i + 1]);
                        lo = hexval((unsigned char)in[i + 2]);
                        /* "%00" would end the C string early and cut
                         * the value short without a word: malformed. */
                        if (hi < 0 || lo < 0 || (hi | lo) == 0)
                                goto bad;
                        out[o++] = (char)(hi * 16 + lo);
                        i += 2;
                } else {
                        out[o++] = in[i];
                }
        }
        out[o] = '\0';
        return out;
bad:
        free(out);
        return NULL;
}
