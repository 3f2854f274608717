/* Counting shims for librdkafka's header getters, for the unit tests that
 * pin how many header lookups a hook makes (test_consume, test_produce):
 * each forwards to the real getter saved in orig_get_last / orig_get_all
 * and counts the call. The test swaps the agent's real_* pointers for
 * them. */
#ifndef KOTEL_HDR_COUNT_H
#define KOTEL_HDR_COUNT_H

#include <librdkafka/rdkafka.h>

static int n_headers, n_get_last, n_get_all;
static __typeof__(rd_kafka_header_get_last) *orig_get_last;
static __typeof__(rd_kafka_header_get_all) *orig_get_all;

static rd_kafka_resp_err_t count_get_last(const rd_kafka_headers_t *h,
                                          const char *name, const void **v,
                                          size_t *len)
{
        n_get_last++;
        return orig_get_last(h, name, v, len);
}

static rd_kafka_resp_err_t count_get_all(const rd_kafka_headers_t *h,
                                         size_t idx, const char **name,
                                         const void **v, size_t *len)
{
        n_get_all++;
        return orig_get_all(h, idx, name, v, len);
}

#endif
