/* Sampler decisions: names, ratio 0/1/0.5 (statistically), parent-based
 * rules and argument validation. */
#include <stdlib.h>

#include "agent/ids.h"
#include "agent/sampler.h"
#include "tap.h"

static int sampled_of(const struct kotel_sampler *s, int n)
{
        uint8_t id[16];
        int k = 0;

        for (int i = 0; i < n; i++) {
                kotel_ids_trace(id);
                k += kotel_sampler_decide(s, NULL, id);
        }
        return k;
}

int main(void)
{
        struct kotel_sampler s;
        struct kotel_ctx on = {.valid = true, .flags = KOTEL_FLAG_SAMPLED};
        struct kotel_ctx off = {.valid = true, .flags = 0};
        struct kotel_ctx bad = {.valid = false, .flags = KOTEL_FLAG_SAMPLED};
        uint8_t id[16] = {0};
        double r;
        int k;

        setenv("OTEL_LOG_LEVEL", "none", 1);
        kotel_sampler_init(&s, NULL, NULL);
        CHECK(s.parent_based && s.root == KOTEL_SAMPLER_ALWAYS_ON,
              "default is parentbased_always_on");
        CHECK(kotel_sampler_decide(&s, NULL, id), "default samples roots");
        CHECK(!kotel_sampler_decide(&s, &off, id), "default follows an unsampled parent");
        CHECK(kotel_sampler_decide(&s, &on, id), "default follows a sampled parent");
        CHECK(kotel_sampler_decide(&s, &bad, id), "invalid parent is a root");

        kotel_sampler_init(&s, "always_off", NULL);
        CHECK(!kotel_sampler_decide(&s, NULL, id) && !kotel_sampler_decide(&s, &on, id),
              "always_off ignores a sampled parent");
        kotel_sampler_init(&s, "always_on", NULL);
        CHECK(kotel_sampler_decide(&s, &off, id), "always_on ignores an unsampled parent");

        kotel_sampler_init(&s, "traceidratio", "0");
        CHECK(sampled_of(&s, 10000) == 0, "ratio 0 samples nothing");
        kotel_sampler_init(&s, "traceidratio", "1");
        CHECK(sampled_of(&s, 10000) == 10000, "ratio 1 samples everything");
        kotel_sampler_init(&s, "traceidratio", "0.5");
        k = sampled_of(&s, 20000);
        /* Binomial(20000, 0.5): sd ~71; 0.45..0.55 is > 14 sd. */
        CHECK(k > 9000 && k < 11000, "ratio 0.5 samples about half");
        kotel_sampler_init(&s, "traceidratio", "0.1");
        k = sampled_of(&s, 20000);
        CHECK(k > 1600 && k < 2400, "ratio 0.1 samples about a tenth");
        CHECK(!kotel_sampler_decide(&s, &on, (uint8_t[16]){[8] = 0xff}),
              "traceidratio is not parent-based");
        {
                uint8_t lo[16] = {0}, hi[16] = {0};

                lo[15] = 1;
                for (int i = 8; i < 16; i++)
                        hi[i] = 0xff;
                kotel_sampler_init(&s, "traceidratio", "0.5");
                CHECK(kotel_sampler_decide(&s, NULL, lo) && !kotel_sampler_decide(&s, NULL, hi),
                      "decision is a pure function of the id's low 8 bytes");
        }

        kotel_sampler_init(&s, "parentbased_traceidratio", "0");
        CHECK(s.parent_based && !kotel_sampler_decide(&s, NULL, id),
              "parentbased_traceidratio 0: roots unsampled");
        CHECK(kotel_sampler_decide(&s, &on, id), "... but a sampled parent is followed");
        kotel_sampler_init(&s, "parentbased_always_off", NULL);
        CHECK(!kotel_sampler_decide(&s, NULL, id) && kotel_sampler_decide(&s, &on, id),
              "parentbased_always_off");

        kotel_sampler_init(&s, "bogus", "0");
        CHECK(s.parent_based && s.root == KOTEL_SAMPLER_ALWAYS_ON,
              "unknown name falls back to the default");
        kotel_sampler_init(&s, "traceidratio", "1.5");
        CHECK(s.root == KOTEL_SAMPLER_RATIO && s.ratio == 1.0, "ratio > 1 falls back to 1");
        kotel_sampler_init(&s, "traceidratio", "half");
        CHECK(s.ratio == 1.0, "non-number ratio falls back to 1");
        kotel_sampler_init(&s, "traceidratio", NULL);
        CHECK(s.ratio == 1.0, "missing ratio is 1");
        CHECK(kotel_sampler_parse_ratio("0.25", &r) == 0 && r == 0.25, "parse 0.25");
        CHECK(kotel_sampler_parse_ratio("-0.1", &r) < 0, "negative rejected");
        CHECK(kotel_sampler_parse_ratio("0.5x", &r) < 0, "trailing junk rejected");
        CHECK(kotel_sampler_parse_ratio("nan", &r) < 0, "nan rejected");
        CHECK(kotel_sampler_parse_ratio("", &r) < 0, "empty rejected");
        TAP_DONE();
}
