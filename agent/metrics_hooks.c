#include "metrics_hooks.h"

#include <time.h>

#include "agent.h"
#include "metrics.h"
#include "spans.h"
#include "symbols.h"

void kotel_metrics_sent(struct kotel_client *c, const rd_kafka_message_t *rkm,
                        const uint8_t *trace_id, const uint8_t *span_id,
                        uint64_t start_ns)
{
        struct kotel_mattrs a;
        int64_t us;
        uint64_t ns = 0;

        if (!kotel_metrics_enabled())
                return;
        us = real_rd_kafka_message_latency ? real_rd_kafka_message_latency(rkm)
                                           : -1;
        if (us >= 0)
                ns = (uint64_t)us * 1000;
        else if (start_ns && kotel_now_ns() > start_ns)
                ns = kotel_now_ns() - start_ns;
        a.client     = c;
        a.topic      = kotel_message_topic(rkm);
        a.partition  = rkm->partition;
        a.op         = KOTEL_OP_SEND;
        a.error_type = NULL;
        if (rkm->err) {
                /* A failed message's partition may be unassigned (-1). */
                a.error_type = real_rd_kafka_err2name(rkm->err);
                if (!a.error_type)
                        a.error_type = "_UNKNOWN";
        }
        kotel_metrics_record(KOTEL_M_OP_DURATION, &a, ns, trace_id, span_id);
}

/* The client of @rk: kotel_clients_get() takes the registry's lock, so
 * each thread keeps its last answer while the registry is unchanged (a
 * consumer thread polls one client). Inlined: every consumed message
 * asks. */
static __thread struct {
        const void *rk;
        struct kotel_client *client;
        uint64_t gen;
} client_cache;

static __attribute__((noinline)) struct kotel_client *
client_lookup(const void *rk, uint64_t gen)
{
        client_cache.client = kotel_clients_get(rk);
        client_cache.rk     = rk;
        client_cache.gen    = gen;
        return client_cache.client;
}

static inline struct kotel_client *client_of(const void *rk)
{
        uint64_t gen = kotel_clients_gen();

        if (client_cache.client && rk == client_cache.rk &&
            gen == client_cache.gen)
                return client_cache.client;
        return client_lookup(rk, gen);
}

void kotel_metrics_polled(const void *rk, const char *topic,
                          uint64_t duration_ns, const uint8_t *trace_id,
                          const uint8_t *span_id)
{
        struct kotel_mattrs a = {NULL, topic, -1, KOTEL_OP_POLL, NULL};

        if (!kotel_metrics_enabled())
                return;
        a.client = client_of(rk);
        kotel_metrics_record(KOTEL_M_POLL_DURATION, &a, duration_ns, trace_id,
                             span_id);
}

/* Milliseconds: message timestamps have that resolution, and the coarse
 * clock costs a few ns where CLOCK_REALTIME costs 20. */
static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct kotel_msg_age kotel_metrics_consumed(const void *rk,
                                            const rd_kafka_message_t *m,
                                            uint64_t now_ns,
                                            uint64_t poll_start_ns,
                                            struct kotel_mseries_ref *process)
{
        struct kotel_msg_age age       = {0};
        rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        int64_t ts                     = real_rd_kafka_message_timestamp
                                             ? real_rd_kafka_message_timestamp(m, &type)
                                             : -1;
        bool negative                  = false;
        struct kotel_mattrs a;

        if (ts >= 0 && type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
                age.valid = true;
                age.type  = (uint8_t)type;
                /* The clock the span starts at, when read already. */
                age.ms =
                    (now_ns ? (int64_t)(now_ns / 1000000) : wall_ms()) - ts;
                negative = age.ms < 0;
                if (negative)
                        age.ms = 0;
        }
        *process = (struct kotel_mseries_ref){NULL, NULL, 0};
        if (!kotel_metrics_enabled())
                return age;
        a.client     = client_of(rk);
        a.topic      = kotel_message_topic(m);
        a.partition  = m->partition;
        a.op         = KOTEL_OP_POLL;
        a.error_type = NULL;
        kotel_metrics_record_message(
            &a, age.valid, (uint64_t)age.ms * 1000000ull, poll_start_ns != 0,
            now_ns > poll_start_ns ? now_ns - poll_start_ns : 0, process);
        if (negative) {
                /* Topic and consumer group: a rare event's counter. */
                a.partition = -1;
                a.op        = KOTEL_OP_PROCESS;
                kotel_metrics_record(KOTEL_M_AGE_NEGATIVE, &a, 0, NULL, NULL);
        }
        return age;
}
