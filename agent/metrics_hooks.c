#include "metrics_hooks.h"

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

void kotel_metrics_consumed(struct kotel_client *c, const rd_kafka_message_t *m)
{
        struct kotel_mattrs a;

        if (!kotel_metrics_enabled())
                return;
        a.client     = c;
        a.topic      = kotel_message_topic(m);
        a.partition  = m->partition;
        a.op         = KOTEL_OP_POLL;
        a.error_type = NULL;
        kotel_metrics_record(KOTEL_M_CONSUMED, &a, 0, NULL, NULL);
}
