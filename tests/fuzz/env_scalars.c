/* The scalar environment parsers: integers (every duration, size and
 * count is one, in milliseconds or units), booleans, OTEL_PROPAGATORS, and
 * OTEL_TRACES_SAMPLER with its argument. The first byte picks the parser;
 * the rest, up to a NUL, is the value (for the sampler, the name, then
 * after the first NUL the argument). Each is checked against a small
 * independent reading of the grammar it promises. */
#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "agent/config.h"
#include "agent/sampler.h"
#include "exporter/env.h"
#include "fuzz.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s;
        unsigned sel;

        if (size < 1)
                return 0;
        sel = data[0];
        s   = fuzz_cstr(data + 1, size - 1);
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
        case 3: {
                size_t n = strlen(s);

                check_sampler(s, n + 1 < size ? s + n + 1 : NULL);
                break;
        }
        }
        free(s);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_quiet();
        return 0;
}
