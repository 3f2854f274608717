/* Head sampling per OTEL_TRACES_SAMPLER: always_on, always_off,
 * traceidratio and their parentbased_ forms. Pure; any thread. */
#ifndef KOTEL_SAMPLER_H
#define KOTEL_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

enum kotel_sampler_kind {
        KOTEL_SAMPLER_ALWAYS_ON = 0,
        KOTEL_SAMPLER_ALWAYS_OFF,
        KOTEL_SAMPLER_RATIO,
};

struct kotel_sampler {
        enum kotel_sampler_kind root;
        bool parent_based;
        double ratio;        /* [0, 1] */
        uint64_t threshold;  /* sampled when the id's low 64 bits < this */
        bool ratio_is_one;
};

/* Parses name and argument; logs and falls back to the defaults
 * (parentbased_always_on; ratio 1.0) on invalid input. */
void kotel_sampler_init(struct kotel_sampler *s, const char *name,
                        const char *arg);
/* @parent may be NULL or invalid (a root). */
bool kotel_sampler_decide(const struct kotel_sampler *s,
                          const struct kotel_ctx *parent,
                          const uint8_t trace_id[16]);
/* Returns 0 and sets *out for a ratio string in [0, 1], else -1. */
int kotel_sampler_parse_ratio(const char *arg, double *out);

#endif
