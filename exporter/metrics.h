/* Metrics: the instruments kotel records (messaging semantic conventions
 * v1.44) and their aggregation.
 *
 * Recording (any thread: app threads, librdkafka's broker threads) takes
 * no lock and allocates nothing: each instrument has a fixed table of
 * series (one per attribute set), found by a hash of the attributes and
 * claimed once with a compare-and-swap. Each thread adds to its own cell
 * of the series (taken once from a pool allocated at start, freed for
 * reuse at the thread's exit) with plain stores, no locked instruction;
 * the collector sums the cells. When the pool is used up, threads add to
 * the series with atomic adds instead. Histograms keep integer
 * nanoseconds. The tables are allocated when metrics start (calloc: their
 * pages stay untouched until a series or a cell lands there).
 *
 * Cardinality: an instrument holds at most KOTEL_METRICS_CARDINALITY_LIMIT
 * attribute sets, the overflow series (otel.metric.overflow=true) among
 * them; measurements past the cap go to the overflow series and are
 * counted.
 *
 * Exemplars: each histogram bucket keeps the last exemplar that the filter
 * (OTEL_METRICS_EXEMPLAR_FILTER) let in, under a per-bucket sequence
 * number; a writer that finds the bucket busy skips (never waits).
 *
 * Reading (kotel_metrics_collect) is for one thread at a time (the
 * metrics exporter's). */
#ifndef KOTEL_METRICS_H
#define KOTEL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

enum kotel_minst {
        /* messaging.client.operation.duration of sends; its counts are
         * also messaging.client.sent.messages. */
        KOTEL_M_OP_DURATION = 0,
        /* messaging.client.consumed.messages (the series' counts), and
         * kotel.message.age (its buckets and sum: only messages with a
         * timestamp land there), one lookup for both. */
        KOTEL_M_CONSUMED,
        KOTEL_M_AGE_NEGATIVE, /* kotel.message.age.negative (counter) */
        /* messaging.client.operation.duration of batch polls (exported
         * with the sends' points, as one metric). */
        KOTEL_M_POLL_DURATION,
        /* messaging.process.duration: a consumed message's processing,
         * from its registration to its end (process span rules). */
        KOTEL_M_PROCESS_DURATION,
        KOTEL_M_N,
};

#define KOTEL_M_BOUNDS 14
#define KOTEL_M_BUCKETS (KOTEL_M_BOUNDS + 1)

enum kotel_exemplar_filter {
        KOTEL_EXEMPLAR_TRACE_BASED = 0,
        KOTEL_EXEMPLAR_ALWAYS_ON,
        KOTEL_EXEMPLAR_ALWAYS_OFF,
};

enum kotel_temporality {
        KOTEL_TEMPORALITY_DELTA      = 1, /* OTLP's values */
        KOTEL_TEMPORALITY_CUMULATIVE = 2,
};

/* The attributes of a measurement. Borrowed for the call only. */
struct kotel_mattrs {
        struct kotel_client *client; /* NULL when unknown */
        const char *topic;           /* NULL when none */
        int32_t partition;           /* < 0: none */
        uint8_t op;                  /* enum kotel_op */
        const char *error_type;      /* NULL: no error */
};

/* Bucket upper bounds in ns, the conventions' seconds. */
extern const uint64_t kotel_m_bounds_ns[KOTEL_M_BOUNDS];

struct kotel_mexemplar {
        bool valid;
        bool has_ids;
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint64_t value_ns;
        uint64_t time_ns; /* wall clock */
};

/* One series as the exporter sees it: a snapshot, over the interval
 * (delta) or since start (cumulative). */
struct kotel_mpoint {
        struct kotel_client *client;
        const char *topic; /* "" when none */
        int32_t partition;
        uint8_t op;
        const char *error_type;
        bool overflow;
        uint64_t start_ns, time_ns; /* wall clock */
        uint64_t count;             /* measurements (a counter's value) */
        uint64_t sum_ns;            /* histograms */
        uint64_t buckets[KOTEL_M_BUCKETS];
        struct kotel_mexemplar ex[KOTEL_M_BUCKETS];
};

struct kotel_metrics_config {
        enum kotel_temporality temporality;
        enum kotel_exemplar_filter exemplar_filter;
        uint32_t cardinality_limit; /* per instrument, overflow included */
        /* Thread cells in the pool (each a thread's share of one series);
         * 0: the default, 4 096. Past them, threads add atomically to the
         * series itself. */
        uint32_t thread_cells;
};

/* Reads OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
 * OTEL_METRICS_EXEMPLAR_FILTER and KOTEL_METRICS_CARDINALITY_LIMIT; bad
 * values are logged and replaced by the defaults. */
void kotel_metrics_config_load(struct kotel_metrics_config *c);

/* Allocates the tables and enables recording. 0 or -1 (out of memory:
 * recording stays off). Once; any thread. */
int kotel_metrics_init(const struct kotel_metrics_config *c);
bool kotel_metrics_enabled(void);

/* Any thread, lock-free, no allocation. @value_ns: a duration (histogram
 * instruments) or ignored (counters add 1). @trace_id/@span_id: the span
 * the measurement belongs to when it is sampled, else NULL. */
void kotel_metrics_record(enum kotel_minst i, const struct kotel_mattrs *a,
                          uint64_t value_ns, const uint8_t *trace_id,
                          const uint8_t *span_id);

/* A series looked up once and recorded into later: a consumed message's
 * messaging.process.duration series is found when processing starts
 * (with the counter's attributes at hand) and recorded when it ends. s
 * NULL: none (metrics off). */
struct kotel_mseries_ref {
        void *s;
        /* The recording thread's own share of s when the ref was made
         * (kotel_metrics_record_message), or NULL: recorded there without
         * a lookup when the same thread records, else into the recording
         * thread's own share. */
        void *c;
        uint32_t gen; /* the tables' generation it belongs to */
};

/* Any thread, lock-free: the series of @a in instrument @i (the overflow
 * series past the cardinality limit, counted then), or none when
 * recording is off. */
struct kotel_mseries_ref kotel_metrics_series(enum kotel_minst i,
                                              const struct kotel_mattrs *a);
/* Any thread, lock-free: kotel_metrics_record() into @r's series; nothing
 * when @r is none or from tables since freed. @at_ns: the wall clock the
 * measurement was taken at, an exemplar's time (0: read the clock). */
void kotel_metrics_record_ref(enum kotel_minst i, struct kotel_mseries_ref r,
                              uint64_t value_ns, const uint8_t *trace_id,
                              const uint8_t *span_id, uint64_t at_ns);

/* Any thread, lock-free: a message delivered by a consume call, all its
 * consumer instruments from one per-thread lookup of @a's client, topic
 * and partition (@a's op and error_type are ignored): KOTEL_M_CONSUMED's
 * count (operation poll), and, when @has_age, its age @age_ns in the same
 * series' histogram; when @timed, the
 * single-message call's duration @poll_ns to KOTEL_M_POLL_DURATION
 * (operation poll, the topic, no partition); and *@process set to the
 * message's KOTEL_M_PROCESS_DURATION series (operation process), or none
 * when metrics are off. */
void kotel_metrics_record_message(const struct kotel_mattrs *a, bool has_age,
                                  uint64_t age_ns, bool timed, uint64_t poll_ns,
                                  struct kotel_mseries_ref *process);

/* One thread at a time. Snapshots instrument @i's series into @out (up to
 * @cap, the cardinality limit is enough) as of wall-clock @now_ns, for
 * the configured temporality (delta: since the last collect, series
 * without new measurements left out). Returns the number of points. */
size_t kotel_metrics_collect(enum kotel_minst i, struct kotel_mpoint *out,
                             size_t cap, uint64_t now_ns);
/* Measurements that went to instrument @i's overflow series, in all. */
uint64_t kotel_metrics_overflowed(enum kotel_minst i);
const struct kotel_metrics_config *kotel_metrics_get_config(void);

/* Stops recording (a fork child); the tables stay. */
void kotel_metrics_disable(void);
/* Benchmarks only: recording again after kotel_metrics_disable(), into
 * the same tables (none: stays off). */
void kotel_metrics_resume(void);
/* Tests only: frees the tables and disables recording. */
void kotel_metrics_reset(void);
/* Tests only: thread cells taken from the pool since init. */
uint32_t kotel_metrics_cells_used(void);
/* Tests only: the calling thread's lookups of its cells that found them
 * in neither its cache nor the series' first cell. */
uint64_t kotel_metrics_cell_misses(void);

#endif
