#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/exporter.h"

int kotel_sampler_parse_ratio(const char *arg, double *out)
{
        double r;

        /* Locale-independent: "0.5" under an app's decimal-comma locale. */
        if (kotel_env_parse_double(arg, &r) < 0 || !(r >= 0.0 && r <= 1.0))
                return -1;
        *out = r;
        return 0;
}

static void set_ratio(struct kotel_sampler *s, double r)
{
        s->ratio        = r;
        s->ratio_is_one = r >= 1.0;
        s->threshold    = r >= 1.0 ? UINT64_MAX : (uint64_t)ldexp(r, 64);
}

void kotel_sampler_init(struct kotel_sampler *s, const char *name,
                        const char *arg)
{
        struct kotel_log_value q;
        double r = 1.0;

        memset(s, 0, sizeof(*s));
        s->root         = KOTEL_SAMPLER_ALWAYS_ON;
        s->parent_based = true;
        set_ratio(s, 1.0);
        if (!name)
                return;
        if (!strcmp(name, "always_on")) {
                s->parent_based = false;
        } else if (!strcmp(name, "always_off")) {
                s->parent_based = false;
                s->root         = KOTEL_SAMPLER_ALWAYS_OFF;
        } else if (!strcmp(name, "traceidratio")) {
                s->parent_based = false;
                s->root         = KOTEL_SAMPLER_RATIO;
        } else if (!strcmp(name, "parentbased_always_on")) {
        } else if (!strcmp(name, "parentbased_always_off")) {
                s->root = KOTEL_SAMPLER_ALWAYS_OFF;
        } else if (!strcmp(name, "parentbased_traceidratio")) {
                s->root = KOTEL_SAMPLER_RATIO;
        } else {
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_TRACES_SAMPLER: '%s' is not supported; using "
                          "parentbased_always_on",
                          kotel_log_value(&q, name));
                return;
        }
        if (s->root == KOTEL_SAMPLER_RATIO) {
                if (arg && kotel_sampler_parse_ratio(arg, &r) < 0) {
                        kotel_log(KOTEL_LOG_ERROR,
                                  "OTEL_TRACES_SAMPLER_ARG: '%s' is not a "
                                  "number in [0, 1]; using 1.0",
                                  kotel_log_value(&q, arg));
                        r = 1.0;
                }
                set_ratio(s, r);
        }
}

bool kotel_sampler_decide(const struct kotel_sampler *s,
                          const struct kotel_ctx *parent,
                          const uint8_t trace_id[16])
{
        uint64_t low = 0;

        if (s->parent_based && parent && parent->valid)
                return (parent->flags & KOTEL_FLAG_SAMPLED) != 0;
        switch (s->root) {
        case KOTEL_SAMPLER_ALWAYS_ON:
                return true;
        case KOTEL_SAMPLER_ALWAYS_OFF:
                return false;
        case KOTEL_SAMPLER_RATIO:
                if (s->ratio_is_one)
                        return true;
                /* The trace id's last 8 bytes, big-endian, as the random
                 * part: any SDK using the same rule makes the same call. */
                for (int i = 8; i < 16; i++)
                        low = (low << 8) | trace_id[i];
                return low < s->threshold;
        }
        return true;
}
