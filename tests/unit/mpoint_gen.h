/* Pseudo-random values for a span-derived metric point (struct
 * kotel_mpoint), everything past its client and topic: partition (or
 * none), operation, error.type (or none), overflow, times, count, sum,
 * buckets and exemplars with and without ids. Shared by the tests that
 * compare the metrics encoders (test_otlp_metrics_enc.c against
 * protobuf-c, tests/tools/metrics_enc_dump.c for protobuf against JSON);
 * @rnd is the caller's generator (a number below its argument), so each
 * keeps its own seed. */
#ifndef KOTEL_MPOINT_GEN_H
#define KOTEL_MPOINT_GEN_H

#include <stdint.h>

#include "exporter/metrics.h"

static inline void gen_mpoint_values(struct kotel_mpoint *p,
                                     uint64_t (*rnd)(uint64_t))
{
        static const char *const errs[] = {NULL, "_MSG_TIMED_OUT",
                                           "UNKNOWN_TOPIC_OR_PART"};

        p->partition  = (int32_t)rnd(5) - 1;
        p->op         = (uint8_t)rnd(3);
        p->error_type = errs[rnd(3)];
        p->overflow   = rnd(10) == 0;
        p->start_ns   = 1700000000000000000ull + rnd(1000000000);
        p->time_ns    = p->start_ns + rnd(60000000000ull);
        p->count      = rnd(4) ? rnd(100000) : 0;
        p->sum_ns     = rnd(4) ? rnd(1ull << 40) : 0;
        for (int b = 0; b < KOTEL_M_BUCKETS; b++) {
                p->buckets[b] = rnd(3) ? rnd(1000) : 0;
                if (rnd(3) == 0) {
                        p->ex[b].valid    = true;
                        p->ex[b].has_ids  = rnd(2);
                        p->ex[b].value_ns = rnd(20000000000ull);
                        p->ex[b].time_ns  = p->start_ns + rnd(1000000);
                        for (int k = 0; k < 16; k++)
                                p->ex[b].trace_id[k] = (uint8_t)rnd(256);
                        for (int k = 0; k < 8; k++)
                                p->ex[b].span_id[k] = (uint8_t)rnd(256);
                }
        }
}

#endif
