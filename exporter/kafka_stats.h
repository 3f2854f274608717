/* librdkafka's statistics as gauges: consumer lag per partition, the
 * producer's queued messages and bytes, broker round-trip time.
 *
 * Hand-off: librdkafka calls a client's stats callback from whichever app
 * thread serves the client's main queue (rd_kafka_poll, or consumer_poll
 * once rd_kafka_poll_set_consumer forwarded it), so that thread only copies
 * the JSON into the client's slot (kotel_kafka_stats_offer: one malloc and
 * memcpy per statistics interval, one atomic exchange, no lock; a copy the
 * exporter has not read yet is replaced and freed). The metrics exporter's
 * thread parses the latest copy of each client with json-c when it
 * collects (kotel_kafka_stats_collect), keeps the values, exports a
 * destroyed client's last values once more and then frees its slot. A JSON over
 * KOTEL_KSTATS_MAX_BYTES is not copied; one that does not parse is dropped:
 * both are counted and logged by the exporter thread.
 *
 * Slots: a fixed table (KOTEL_KSTATS_SLOTS); FREE -> LIVE (the app thread
 * of rd_kafka_new claims it with a compare-and-swap) -> DEAD (the app
 * thread of rd_kafka_destroy) -> FREE (the exporter thread, after freeing
 * what the slot held). */
#ifndef KOTEL_KAFKA_STATS_H
#define KOTEL_KAFKA_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_metrics_enc.h"
#include "span.h"

#define KOTEL_KSTATS_MAX_BYTES (4u << 20)
#define KOTEL_KSTATS_SLOTS 256

/* One partition's lag as librdkafka reports it. */
struct kotel_kstats_lag {
        char *topic;
        int32_t partition;
        int64_t lag; /* consumer_lag: high watermark - committed offset */
};

struct kotel_kstats_broker {
        char *host; /* nodename's host */
        int port;
        double rtt_avg_s; /* rtt.avg of the last window, seconds */
};

/* What kotel keeps of one statistics JSON. */
struct kotel_kstats_snap {
        char *name; /* the handle's name ("rdkafka#consumer-1") */
        bool producer;
        int64_t msg_cnt, msg_size; /* producer queue (msg_cnt, msg_size) */
        struct kotel_kstats_lag *lags;
        size_t n_lags;
        struct kotel_kstats_broker *brokers;
        size_t n_brokers;
};

/* Any thread. Parses @json (@len bytes, need not be NUL-terminated) into
 * @out (emptied first; free with kotel_kafka_stats_snap_free). 0, or -1
 * when it is over KOTEL_KSTATS_MAX_BYTES, does not parse or is not
 * librdkafka's statistics object (@out is then empty). Partitions with an
 * unknown lag (-1) and brokers without round trips are left out. */
int kotel_kafka_stats_parse(const char *json, size_t len,
                            struct kotel_kstats_snap *out);
void kotel_kafka_stats_snap_free(struct kotel_kstats_snap *s);

/* The app thread in rd_kafka_new: gives @rk a slot; takes a reference on
 * @c. false when the table is full (the client's statistics are not
 * read). */
bool kotel_kafka_stats_add(const void *rk, struct kotel_client *c);
/* The app thread after rd_kafka_destroy: @rk's slot is freed by the
 * exporter thread. */
void kotel_kafka_stats_remove(const void *rk);
/* The thread running @rk's stats callback; lock-free; borrows @json. */
void kotel_kafka_stats_offer(const void *rk, const char *json, size_t len);

/* The gauges, one array of points each (see kotel_kafka_stats_collect). */
enum kotel_kstats_gauge {
        KOTEL_KG_LAG = 0,
        KOTEL_KG_QUEUE_MSGS,
        KOTEL_KG_QUEUE_BYTES,
        KOTEL_KG_RTT,
        KOTEL_KG_N,
};

/* The metrics exporter's thread only. Parses what clients offered since
 * the last call, frees the slots of destroyed clients, and writes each
 * gauge's points into @out[g] (room for @cap each: at most @cap - 1
 * regular points and one overflow point, whose value is the last point
 * past the cap). @n[g] gets the counts. The points borrow the slots'
 * strings until the next call. */
void kotel_kafka_stats_collect(struct kotel_gpoint *out[KOTEL_KG_N], size_t cap,
                               size_t n[KOTEL_KG_N]);
/* The exporter's thread: JSONs dropped so far (over the size cap, did
 * not parse), points past the cardinality cap. */
void kotel_kafka_stats_counts(uint64_t *too_big, uint64_t *bad,
                              uint64_t *overflowed);
/* Tests only: empties every slot. */
void kotel_kafka_stats_reset(void);

#endif
