/* The scalar environment parsers: integers (every duration, size and
 * count is one, in milliseconds or units), booleans, OTEL_PROPAGATORS, and
 * OTEL_TRACES_SAMPLER with its argument. The first byte picks the parser;
 * the rest, up to a NUL, is the value (for the sampler, the name, then
 * after the first NUL the argument). Each is checked against a small
 * independent reading of the grammar it promises, and each gives the same
 * answer under the app's locale: the C locale, and de_DE.UTF-8 (decimal
 * comma) and tr_TR.UTF-8 (I folds to a dotless i) when they can be loaded
 * (from LOCPATH, else from build/locale/ next to this binary, where the
 * integration tests compile them). Every value, quoted for a log line by
 * kotel_log_value, carries no control byte. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <sanitizer/lsan_interface.h>
#include <strings.h>

#include "agent/config.h"
#include "agent/sampler.h"
#include "exporter/env.h"
#include "exporter/log.h"
#include "fuzz.h"

/* The app's locales each check runs under; [0] is the C locale. */
static locale_t locales[3];
static int n_locales;

static const int64_t ranges[][2] = {
    {0, INT64_MAX}, {1, 3600L * 1000},      {0, 600L * 1000}, {16, 1 << 22},
    {1, 1 << 24},   {INT64_MIN, INT64_MAX}, {-5, 5},          {0, 0},
};

static bool ows(char c)
{
        return c == ' ' || c == '\t';
}

/* OWS [+-] 1*DIGIT OWS, in range: the value, or false. */
static bool ref_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
        bool neg   = false;
        __int128 v = 0;
        const char *d;

        while (ows(*s))
                s++;
        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        for (d = s; *s >= '0' && *s <= '9'; s++)
                if (v <= (__int128)INT64_MAX + 1)
                        v = v * 10 + (*s - '0');
        if (s == d)
                return false;
        while (ows(*s))
                s++;
        if (*s)
                return false;
        v = neg ? -v : v;
        if (v < min || v > max)
                return false;
        *out = (int64_t)v;
        return true;
}

static void check_int(const char *s, unsigned sel)
{
        int64_t min = ranges[sel % 8][0], max = ranges[sel % 8][1];
        int64_t got = 0x5a5a, want = 0;
        bool ok = kotel_env_parse_int(s, min, max, &got) == 0;

        FUZZ_ASSERT(ok == ref_int(s, min, max, &want));
        if (ok)
                FUZZ_ASSERT(got == want);
        else
                FUZZ_ASSERT(got == 0x5a5a);
}

static void check_bool(const char *s)
{
        bool b = false;
        int rc = kotel_env_parse_bool(s, &b);

        if (!strcasecmp(s, "true"))
                FUZZ_ASSERT(rc == 0 && b);
        else if (!strcasecmp(s, "false"))
                FUZZ_ASSERT(rc == 0 && !b);
        else
                FUZZ_ASSERT(rc < 0);
}

static void check_propagators(const char *s)
{
        bool tc, bg, tc2, bg2;
        int bad = kotel_config_parse_propagators(s, &tc, &bg), entries = 1;
        char *up = strdup(s);

        for (const char *p = s; *p; p++)
                entries += *p == ',';
        FUZZ_ASSERT(bad >= 0 && bad <= entries);
        /* Names are case-insensitive. */
        for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        FUZZ_ASSERT(kotel_config_parse_propagators(up, &tc2, &bg2) == bad);
        FUZZ_ASSERT(tc2 == tc && bg2 == bg);
        if (tc)
                FUZZ_ASSERT(strcasestr(s, "tracecontext"));
        if (bg)
                FUZZ_ASSERT(strcasestr(s, "baggage"));
        free(up);
}

static void check_sampler(const char *name, const char *arg)
{
        struct kotel_sampler smp;
        struct kotel_ctx parent = {.valid = true, .flags = KOTEL_FLAG_SAMPLED};
        uint8_t zero[16]        = {0}, ones[16];
        double r;

        if (kotel_sampler_parse_ratio(arg, &r) == 0)
                FUZZ_ASSERT(r >= 0.0 && r <= 1.0);
        kotel_sampler_init(&smp, name, arg);
        FUZZ_ASSERT(smp.ratio >= 0.0 && smp.ratio <= 1.0);
        FUZZ_ASSERT(smp.root <= KOTEL_SAMPLER_RATIO);
        memset(ones, 0xff, sizeof(ones));
        /* The smallest id is sampled by any ratio above 0, the largest by
         * none below 1; a sampled parent wins when parent-based. */
        if (smp.root == KOTEL_SAMPLER_RATIO && smp.ratio > 0x1p-60)
                FUZZ_ASSERT(kotel_sampler_decide(&smp, NULL, zero));
        if (smp.root == KOTEL_SAMPLER_RATIO && smp.ratio < 1.0)
                FUZZ_ASSERT(!kotel_sampler_decide(&smp, NULL, ones));
        if (smp.root == KOTEL_SAMPLER_RATIO && smp.ratio == 0.0)
                FUZZ_ASSERT(!kotel_sampler_decide(&smp, NULL, zero));
        if (smp.parent_based)
                FUZZ_ASSERT(kotel_sampler_decide(&smp, &parent, ones));
}

/* Each parser's full answer under the current locale, as one number. */
static double answer(const char *s, unsigned sel, const char *arg)
{
        int64_t i = 0x5a5a;
        bool b = false, tc = false, bg = false;
        double r = -1;
        struct kotel_sampler smp;

        switch (sel % 4) {
        case 0:
                return kotel_env_parse_int(s, ranges[sel / 4 % 8][0],
                                           ranges[sel / 4 % 8][1], &i) == 0
                           ? (double)i
                           : -0.5;
        case 1:
                return kotel_env_parse_bool(s, &b) * 2 + b;
        case 2:
                return kotel_config_parse_propagators(s, &tc, &bg) * 4 +
                       tc * 2 + bg;
        default:
                kotel_sampler_init(&smp, s, arg);
                return (kotel_sampler_parse_ratio(arg, &r) == 0 ? r : -1) +
                       smp.ratio * 10 + smp.root * 100 +
                       smp.parent_based * 1000;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kotel_log_value q;
        const char *arg;
        char *s;
        unsigned sel;
        size_t n;

        if (size < 1)
                return 0;
        sel = data[0];
        s   = fuzz_cstr(data + 1, size - 1);
        n   = strlen(s);
        arg = n + 1 < size ? s + n + 1 : NULL;
        fuzz_check_log_text(kotel_log_value(&q, s), sizeof(q.s));
        for (size_t i = 0; i < KOTEL_LOG_VALUE_MAX && s[i]; i++)
                FUZZ_ASSERT(q.s[i] == kotel_log_safe_char(s[i]));
        if (n_locales > 1) {
                double want;

                uselocale(locales[0]);
                want = answer(s, sel, arg);
                for (int l = 1; l < n_locales; l++) {
                        double got;

                        uselocale(locales[l]);
                        got = answer(s, sel, arg);
                        FUZZ_ASSERT(got == want || (isnan(got) && isnan(want)));
                }
                uselocale(LC_GLOBAL_LOCALE);
        }
        switch (sel % 4) {
        case 0:
                check_int(s, sel / 4);
                break;
        case 1:
                check_bool(s);
                break;
        case 2:
                check_propagators(s);
                break;
        case 3:
                check_sampler(s, arg);
                break;
        }
        free(s);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char *const names[] = {"de_DE.UTF-8", "tr_TR.UTF-8"};
        char path[4096];

        fuzz_quiet();
        if (!getenv("LOCPATH") && *argc > 0) {
                char *slash;

                snprintf(path, sizeof(path), "%s", (*argv)[0]);
                slash = strrchr(path, '/');
                if (slash)
                        slash[1] = '\0';
                else
                        path[0] = '\0';
                strncat(path, "../locale", sizeof(path) - strlen(path) - 1);
                setenv("LOCPATH", path, 0);
        }
        locales[n_locales++] = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        /* glibc's newlocale leaks its copy of LOCPATH (argz_add_sep), once
         * per call: not kotel's, and only here. */
        __lsan_disable();
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                locale_t l = newlocale(LC_ALL_MASK, names[i], (locale_t)0);

                if (l)
                        locales[n_locales++] = l;
        }
        __lsan_enable();
        if (n_locales == 1)
                fprintf(stderr, "env_scalars: no de_DE/tr_TR locale; the "
                                "locale-invariance check is off\n");
        return 0;
}
