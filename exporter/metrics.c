#include "metrics.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "env.h"
#include "log.h"

#define DEFAULT_CARDINALITY 2000
#define MAX_CARDINALITY (1u << 20)
/* Thread cells (below): 4 096 x 1 KiB, calloc'd, so the pages a process
 * never claims stay untouched. */
#define DEFAULT_THREAD_CELLS 4096

const uint64_t kotel_m_bounds_ns[KOTEL_M_BOUNDS] = {
    5000000ull,    10000000ull,   25000000ull,   50000000ull,    75000000ull,
    100000000ull,  250000000ull,  500000000ull,  750000000ull,   1000000000ull,
    2500000000ull, 5000000000ull, 7500000000ull, 10000000000ull,
};

enum { SLOT_EMPTY = 0, SLOT_FILLING, SLOT_READY };

/* An exemplar cell: seq is odd while written, even when stable; every
 * field an atomic word so that a torn read is detected, not undefined. */
struct ex_cell {
        uint64_t seq;
        uint64_t tid[2], sid;
        uint64_t value_ns, time_ns;
        uint64_t has_ids;
};

/* A series' values: what a measurement adds to. */
struct vals {
        uint64_t count, sum_ns;
        uint64_t buckets[KOTEL_M_BUCKETS];
};

/* One thread's own share of one series' values. A thread that records
 * into a series claims a cell of it once and from then on adds there with
 * a plain load and store (no locked instruction: an uncontended atomic
 * add still costs ~20 cycles, and threads adding to one series would
 * also bounce its cache line); the collector reads the series' values as
 * the sum of its cells and of the shared fallback. Cells are never taken
 * from a series: a thread's exit frees its cells for the next thread that
 * records there, which keeps adding to the same running totals. */
struct cell {
        uint64_t owner;    /* the owning thread's token; 0: free */
        struct cell *next; /* the series' cells: pushed, never removed */
        struct cell *mine; /* the owner's other cells (owner only) */
        struct vals v;
        /* The owner's exemplars: one writer, no compare-and-swap; the
         * collector takes each bucket's newest of all cells. */
        struct ex_cell ex[KOTEL_M_BUCKETS];
} __attribute__((aligned(64))); /* one thread's lines to itself */

struct series {
        int state;
        uint32_t hash;
        /* Set once while FILLING, read-only after. */
        struct kotel_client *client; /* a reference */
        int32_t partition;
        uint8_t op;
        bool overflow;
        const char *error_type; /* rd_kafka_err2name's static string */
        uint64_t start_ns;
        char topic[KOTEL_TOPIC_MAX + 1];
        /* Recording threads: their own cells, or, when none is left,
         * atomic adds here. */
        struct cell *cells;
        /* The first cell claimed here, set once: its owner (the series'
         * only recording thread, commonly: a partition's broker thread)
         * finds its cell here when its cache has lost it. */
        struct cell *first;
        struct vals v;
        struct ex_cell ex[KOTEL_M_BUCKETS];
        /* The collecting thread only: what the last collect saw. */
        uint64_t last_count, last_sum_ns, last_buckets[KOTEL_M_BUCKETS];
        uint64_t last_time_ns;
};

struct inst {
        struct series *slots;
        uint32_t mask;
        uint32_t used; /* regular series claimed */
        uint64_t overflowed;
        struct series overflow;
};

static struct {
        int enabled;
        uint32_t gen; /* changes when the tables are made or freed */
        struct kotel_metrics_config cfg;
        struct inst inst[KOTEL_M_N];
        struct cell *cells; /* the pool of thread cells */
        uint32_t ncells;
        uint32_t cells_used; /* taken from the pool, in all */
} m;

static pthread_key_t cells_key;
static pthread_once_t cells_once = PTHREAD_ONCE_INIT;

static uint64_t wall_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kotel_metrics_config_load(struct kotel_metrics_config *c)
{
        const char *v =
            kotel_env_str("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE");
        struct kotel_log_value q;

        c->temporality = KOTEL_TEMPORALITY_CUMULATIVE;
        /* lowmemory: delta for synchronous counters and histograms, which
         * is all kotel records. */
        if (v && (!kotel_env_casecmp(v, "delta") ||
                  !kotel_env_casecmp(v, "lowmemory")))
                c->temporality = KOTEL_TEMPORALITY_DELTA;
        else if (v && kotel_env_casecmp(v, "cumulative"))
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "
                          "'%s' is not one of cumulative, delta, lowmemory; "
                          "using cumulative",
                          kotel_log_value(&q, v));
        v                  = kotel_env_str("OTEL_METRICS_EXEMPLAR_FILTER");
        c->exemplar_filter = KOTEL_EXEMPLAR_TRACE_BASED;
        if (v && !kotel_env_casecmp(v, "always_on"))
                c->exemplar_filter = KOTEL_EXEMPLAR_ALWAYS_ON;
        else if (v && !kotel_env_casecmp(v, "always_off"))
                c->exemplar_filter = KOTEL_EXEMPLAR_ALWAYS_OFF;
        else if (v && kotel_env_casecmp(v, "trace_based"))
                kotel_log(KOTEL_LOG_ERROR,
                          "OTEL_METRICS_EXEMPLAR_FILTER: '%s' is not one of "
                          "trace_based, always_on, always_off; using "
                          "trace_based",
                          kotel_log_value(&q, v));
        /* 2: one attribute set and the overflow series. */
        c->cardinality_limit =
            (uint32_t)kotel_env_int("KOTEL_METRICS_CARDINALITY_LIMIT",
                                    DEFAULT_CARDINALITY, 2, MAX_CARDINALITY);
}

static void cells_release(void *arg);

static void cells_key_create(void)
{
        pthread_key_create(&cells_key, cells_release);
}

int kotel_metrics_init(const struct kotel_metrics_config *c)
{
        uint32_t cap = 16;
        uint64_t now = wall_ns();

        if (__atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE))
                return 0;
        m.cfg = *c;
        if (!m.cfg.thread_cells)
                m.cfg.thread_cells = DEFAULT_THREAD_CELLS;
        pthread_once(&cells_once, cells_key_create);
        /* Without cells threads add atomically: slower, still exact. */
        m.cells      = calloc(m.cfg.thread_cells, sizeof(*m.cells));
        m.ncells     = m.cells ? m.cfg.thread_cells : 0;
        m.cells_used = 0;
        /* Open addressing at most half full. */
        while (cap < 2 * c->cardinality_limit)
                cap <<= 1;
        for (int i = 0; i < KOTEL_M_N; i++) {
                struct inst *in = &m.inst[i];

                in->slots = calloc(cap, sizeof(*in->slots));
                if (!in->slots) {
                        kotel_log_always(KOTEL_LOG_ERROR,
                                         "out of memory: metrics disabled");
                        kotel_metrics_reset();
                        return -1;
                }
                in->mask                  = cap - 1;
                in->overflow.overflow     = true;
                in->overflow.partition    = -1;
                in->overflow.start_ns     = now;
                in->overflow.last_time_ns = now;
                in->overflow.state        = SLOT_READY;
        }
        __atomic_add_fetch(&m.gen, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&m.enabled, 1, __ATOMIC_RELEASE);
        return 0;
}

bool kotel_metrics_enabled(void)
{
        return __atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE) != 0;
}

const struct kotel_metrics_config *kotel_metrics_get_config(void)
{
        return &m.cfg;
}

void kotel_metrics_disable(void)
{
        __atomic_store_n(&m.enabled, 0, __ATOMIC_RELEASE);
}

void kotel_metrics_resume(void)
{
        if (m.inst[0].slots)
                __atomic_store_n(&m.enabled, 1, __ATOMIC_RELEASE);
}

void kotel_metrics_reset(void)
{
        __atomic_store_n(&m.enabled, 0, __ATOMIC_RELEASE);
        for (int i = 0; i < KOTEL_M_N; i++) {
                struct inst *in = &m.inst[i];

                for (uint32_t s = 0; in->slots && s <= in->mask; s++)
                        if (in->slots[s].client)
                                kotel_client_unref(in->slots[s].client);
                free(in->slots);
                memset(in, 0, sizeof(*in));
        }
        free(m.cells);
        m.cells  = NULL;
        m.ncells = 0;
        __atomic_add_fetch(&m.gen, 1, __ATOMIC_RELAXED);
}

uint32_t kotel_metrics_cells_used(void)
{
        uint32_t n = __atomic_load_n(&m.cells_used, __ATOMIC_RELAXED);

        return n < m.ncells ? n : m.ncells;
}

static uint32_t hash_attrs(const struct kotel_mattrs *a)
{
        uint64_t h = 14695981039346656037ull;

        for (const char *p = a->topic; p && *p; p++)
                h = (h ^ (uint8_t)*p) * 1099511628211ull;
        h ^= (uint64_t)(uintptr_t)a->client * 0x9e3779b97f4a7c15ull;
        h ^= ((uint64_t)(uint32_t)a->partition << 8 | a->op) *
             0xc2b2ae3d27d4eb4full;
        h ^= (uint64_t)(uintptr_t)a->error_type * 0x165667b19e3779f9ull;
        h ^= h >> 29;
        return (uint32_t)h;
}

static bool same(const struct series *s, uint32_t h,
                 const struct kotel_mattrs *a)
{
        return s->hash == h && s->client == a->client &&
               s->partition == a->partition && s->op == a->op &&
               s->error_type == a->error_type &&
               !strcmp(s->topic, a->topic ? a->topic : "");
}

/* Fills the claimed slot @s with @a's attributes and publishes it. */
static void fill(struct series *s, uint32_t h, const struct kotel_mattrs *a)
{
        size_t n = a->topic ? strnlen(a->topic, KOTEL_TOPIC_MAX) : 0;

        s->hash       = h;
        s->client     = a->client ? kotel_client_ref(a->client) : NULL;
        s->partition  = a->partition;
        s->op         = a->op;
        s->error_type = a->error_type;
        memcpy(s->topic, a->topic ? a->topic : "", n);
        s->topic[n]     = '\0';
        s->start_ns     = wall_ns();
        s->last_time_ns = s->start_ns;
        __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
}

/* The regular series each thread found last, per instrument, and the
 * attributes it was asked for: a thread records one client's topic and
 * partition again and again (a broker thread acknowledges a partition's
 * messages in runs; a consumer thread polls one topic), so the hash and
 * the probe are skipped when the attributes are the same pointers. The
 * topic is compared by content too: a name's address may be reused by
 * another topic's. */
static __thread struct last {
        uint32_t gen;
        int32_t partition;
        uint8_t op;
        struct kotel_client *client;
        const char *topic;
        const char *error_type;
        struct series *s;
} last[KOTEL_M_N];

static struct series *find_slow(struct inst *in, const struct kotel_mattrs *a);

/* The series for @a in instrument @i: found, claimed, or the overflow
 * series. */
static struct series *find(enum kotel_minst i, const struct kotel_mattrs *a)
{
        struct last *l = &last[i];
        uint32_t gen   = __atomic_load_n(&m.gen, __ATOMIC_RELAXED);
        struct series *s;

        if (l->s && l->gen == gen && l->client == a->client &&
            l->topic == a->topic && l->partition == a->partition &&
            l->op == a->op && l->error_type == a->error_type &&
            (!a->topic || !strcmp(l->s->topic, a->topic)))
                return l->s;
        s = find_slow(&m.inst[i], a);
        if (s == &m.inst[i].overflow) {
                l->s = NULL; /* each measurement there is counted */
                return s;
        }
        l->gen        = gen;
        l->client     = a->client;
        l->topic      = a->topic;
        l->partition  = a->partition;
        l->op         = a->op;
        l->error_type = a->error_type;
        l->s          = s;
        return s;
}

static struct series *find_slow(struct inst *in, const struct kotel_mattrs *a)
{
        uint32_t h = hash_attrs(a);

        for (uint32_t n = 0, i = h & in->mask; n <= in->mask;
             n++, i            = (i + 1) & in->mask) {
                struct series *s = &in->slots[i];
                int st           = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

                if (st == SLOT_EMPTY) {
                        /* One regular series fewer than the limit: the
                         * overflow series counts towards it. */
                        if (__atomic_load_n(&in->used, __ATOMIC_RELAXED) + 1 >=
                            m.cfg.cardinality_limit)
                                break;
                        if (__atomic_compare_exchange_n(
                                &s->state, &st, SLOT_FILLING, false,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                                if (__atomic_add_fetch(&in->used, 1,
                                                       __ATOMIC_RELAXED) >=
                                    m.cfg.cardinality_limit) {
                                        /* Lost the race for the last one:
                                         * the slot stays claimed, empty of
                                         * data, never matched (hash 0 and
                                         * a topic no name has). */
                                        s->topic[0] = '\1';
                                        __atomic_store_n(&s->state, SLOT_READY,
                                                         __ATOMIC_RELEASE);
                                        break;
                                }
                                fill(s, h, a);
                                return s;
                        }
                }
                while (st == SLOT_FILLING) {
                        sched_yield();
                        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
                }
                if (same(s, h, a))
                        return s;
        }
        __atomic_add_fetch(&in->overflowed, 1, __ATOMIC_RELAXED);
        return &in->overflow;
}

/* The consumer instruments' series of the (client, topic, partition) a
 * thread consumed last, and this thread's cells of them: a consumer
 * thread takes one partition's messages in runs, so one comparison of the
 * key replaces three cached lookups (find() compares six fields and the
 * topic each) and three lookups of a cell (the cell cache below is
 * direct-mapped: with many partitions, two of a message's series can
 * share a way and evict each other at every message). Series in the
 * overflow are never kept here, as in find(). */
static __thread struct {
        uint32_t gen;
        int32_t partition;
        struct kotel_client *client;
        const char *topic;
        struct series *consumed, *process, *poll;
        /* NULL: the pool was used up, add to the series. */
        struct cell *consumed_c, *process_c, *poll_c;
} cons;

/* This thread's cells: the ones it owns (released at its exit), and a
 * small direct-mapped cache from series to cell (a cell NULL there: the
 * pool was used up, add to the series itself). Behind the cache, each
 * series' first cell (struct series): a thread recording into more
 * series than the cache holds (a broker thread acknowledging many
 * partitions) still finds its cells without the slow path. */
#define CELL_WAYS 16
static __thread struct {
        uint32_t gen;
        /* Non-NULL from the first claim on: the exit destructor is
         * registered then. */
        struct cell *mine;
        struct {
                const struct series *s;
                struct cell *c;
        } way[CELL_WAYS];
} tc;
/* cell_slow calls on this thread (tests). */
static __thread uint64_t cell_misses;

static inline unsigned way_of(const struct series *s)
{
        return (unsigned)(((uintptr_t)s * 0x9e3779b97f4a7c15ull) >> 60);
}

/* The thread's token: the address of its own cache, unique among live
 * threads. */
static inline uint64_t token(void)
{
        return (uint64_t)(uintptr_t)&tc;
}

/* Whether @c (a cell of some series s, or NULL) is the calling thread's
 * share of s: a cell stays with its series, and its owner changes only by
 * the owner's release and another thread's claim, so an owner that is
 * this thread means the cell is its own (claimed at this generation: the
 * tables and their cells are made anew at each). */
static inline bool mine(const struct cell *c)
{
        return c && __atomic_load_n(&c->owner, __ATOMIC_RELAXED) == token();
}

/* Thread exit (pthread key destructor): the thread's cells go back to
 * their series, free for another thread; their values stay. Also when a
 * later destructor records again: that claims a cell anew and re-arms. */
static void cells_release(void *arg)
{
        struct cell *next;

        (void)arg;
        if (tc.gen == __atomic_load_n(&m.gen, __ATOMIC_RELAXED))
                for (struct cell *c = tc.mine; c; c = next) {
                        /* Read before the release: from then on another
                         * thread may claim the cell and rewrite it. */
                        next = c->mine;
                        /* Release: the next owner sees these values. */
                        __atomic_store_n(&c->owner, 0, __ATOMIC_RELEASE);
                }
        memset(&tc, 0, sizeof(tc));
        memset(&cons, 0, sizeof(cons)); /* it points into those cells */
}

/* The calling thread's cell of @s: its own, a free one of @s claimed, or
 * a new one from the pool pushed onto @s; NULL when the pool is used up.
 * Cached in way @w. */
static __attribute__((noinline)) struct cell *cell_slow(struct series *s,
                                                         unsigned w,
                                                         uint32_t gen)
{
        uint64_t me = token();
        struct cell *c, *head;
        uint32_t idx;

        cell_misses++;
        if (tc.gen != gen) {
                /* The tables were made anew: nothing cached is valid. */
                memset(&tc, 0, sizeof(tc));
                tc.gen = gen;
        }
        head = __atomic_load_n(&s->cells, __ATOMIC_ACQUIRE);
        for (c = head; c; c = c->next)
                if (__atomic_load_n(&c->owner, __ATOMIC_RELAXED) == me)
                        goto found;
        for (c = head; c; c = c->next) {
                uint64_t free_ = 0;

                if (!__atomic_load_n(&c->owner, __ATOMIC_RELAXED) &&
                    __atomic_compare_exchange_n(&c->owner, &free_, me, false,
                                                __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED))
                        goto claimed;
        }
        idx = __atomic_load_n(&m.cells_used, __ATOMIC_RELAXED) < m.ncells
                  ? __atomic_fetch_add(&m.cells_used, 1, __ATOMIC_RELAXED)
                  : m.ncells;
        if (idx >= m.ncells) {
                c = NULL;
                goto found;
        }
        c = &m.cells[idx];
        __atomic_store_n(&c->owner, me, __ATOMIC_RELAXED);
        /* Release: a thread that sees the cell on the list sees it zeroed
         * and owned. */
        do
                c->next = head;
        while (!__atomic_compare_exchange_n(&s->cells, &head, c, true,
                                            __ATOMIC_RELEASE,
                                            __ATOMIC_ACQUIRE));
claimed:
        if (!tc.mine)
                pthread_setspecific(cells_key, &tc);
        c->mine = tc.mine;
        tc.mine = c;
        if (!__atomic_load_n(&s->first, __ATOMIC_RELAXED)) {
                struct cell *none = NULL;

                __atomic_compare_exchange_n(&s->first, &none, c, false,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        }
found:
        tc.way[w].s = s;
        tc.way[w].c = c;
        return c;
}

/* Where the calling thread adds a measurement of @s: its cell (plain
 * stores), or NULL: the series itself (atomic adds). */
static inline struct cell *cell_of(struct series *s)
{
        uint32_t gen = __atomic_load_n(&m.gen, __ATOMIC_RELAXED);
        unsigned w   = way_of(s);
        struct cell *c;

        if (tc.way[w].s == s && tc.gen == gen)
                return tc.way[w].c;
        /* The series' first cell, if it is this thread's. */
        c = __atomic_load_n(&s->first, __ATOMIC_RELAXED);
        if (mine(c))
                return c;
        return cell_slow(s, w, gen);
}

uint64_t kotel_metrics_cell_misses(void)
{
        return cell_misses;
}

/* Adds @v to the owner's @p: a plain load and store (atomic, relaxed:
 * the collector reads it meanwhile). */
static inline void own_add(uint64_t *p, uint64_t v)
{
        __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v,
                         __ATOMIC_RELAXED);
}

static inline void shared_add(uint64_t *p, uint64_t v)
{
        __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

/* Adds @v to @p, which the calling thread owns when @own. */
static inline void bump(uint64_t *p, uint64_t v, bool own)
{
        if (own)
                own_add(p, v);
        else
                shared_add(p, v);
}

/* A measurement @value_ns into @v: its count, sum and bucket (one branch
 * on @own for the three); returns the bucket. */
static inline unsigned bucket_of(uint64_t v);
static inline unsigned add_hist(struct vals *v, bool own, uint64_t value_ns)
{
        unsigned b = bucket_of(value_ns);

        if (own) {
                own_add(&v->count, 1);
                own_add(&v->sum_ns, value_ns);
                own_add(&v->buckets[b], 1);
        } else {
                shared_add(&v->count, 1);
                shared_add(&v->sum_ns, value_ns);
                shared_add(&v->buckets[b], 1);
        }
        return b;
}

/* Out of line: the common measurement has none, and inlined it makes
 * every recording save and restore registers. */
static __attribute__((noinline)) void put_exemplar(struct ex_cell *c,
                                                   uint64_t value_ns,
                                                   const uint8_t *trace_id,
                                                   const uint8_t *span_id,
                                                   uint64_t at_ns, bool own)
{
        uint64_t seq  = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
        uint64_t t[2] = {0, 0}, sp = 0;

        if (own)
                /* The only writer: no other thread to exclude. The field
                 * stores below are releases, so none is seen before this
                 * odd sequence. */
                __atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELAXED);
        else if ((seq & 1) ||
                 !__atomic_compare_exchange_n(&c->seq, &seq, seq + 1, false,
                                              __ATOMIC_ACQUIRE,
                                              __ATOMIC_RELAXED))
                return; /* another thread is writing it: skip */
        if (trace_id) {
                memcpy(t, trace_id, 16);
                memcpy(&sp, span_id, 8);
        }
        /* Release: a reader whose acquire load sees one of these values
         * then sees the odd sequence too, and retries (without it, on a
         * weakly ordered CPU a new value could pass with old ids). */
        __atomic_store_n(&c->tid[0], t[0], __ATOMIC_RELEASE);
        __atomic_store_n(&c->tid[1], t[1], __ATOMIC_RELEASE);
        __atomic_store_n(&c->sid, sp, __ATOMIC_RELEASE);
        __atomic_store_n(&c->has_ids, trace_id != NULL, __ATOMIC_RELEASE);
        __atomic_store_n(&c->value_ns, value_ns, __ATOMIC_RELEASE);
        __atomic_store_n(&c->time_ns, at_ns ? at_ns : wall_ns(),
                         __ATOMIC_RELEASE);
        __atomic_store_n(&c->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Whether a measurement offers an exemplar (OTEL_METRICS_EXEMPLAR_FILTER):
 * @trace_id is its sampled span's, or NULL. */
static inline bool wants_exemplar(const uint8_t *trace_id)
{
        return m.cfg.exemplar_filter == KOTEL_EXEMPLAR_ALWAYS_ON ||
               (m.cfg.exemplar_filter == KOTEL_EXEMPLAR_TRACE_BASED &&
                trace_id);
}

/* The bounds padded to 16 with bounds no value exceeds, for bucket_of. */
static const uint64_t bounds16[16] = {
    5000000ull,    10000000ull,    25000000ull,   50000000ull,
    75000000ull,   100000000ull,   250000000ull,  500000000ull,
    750000000ull,  1000000000ull,  2500000000ull, 5000000000ull,
    7500000000ull, 10000000000ull, UINT64_MAX,    UINT64_MAX,
};

/* The bucket of @v: the number of bounds below it; past the first, by a
 * four-step binary search without branches (a linear scan takes up to 14
 * compares and mispredicts where values spread). */
static inline unsigned bucket_of(uint64_t v)
{
        unsigned b = 0;

        /* Most durations a consumer records fall in the first. */
        if (v <= bounds16[0])
                return 0;
        b += (unsigned)(v > bounds16[b + 7]) << 3;
        b += (unsigned)(v > bounds16[b + 3]) << 2;
        b += (unsigned)(v > bounds16[b + 1]) << 1;
        b += (unsigned)(v > bounds16[b]);
        return b;
}

/* Adds a measurement to series @s of instrument @i. Inlined: the
 * instrument is then known where it is constant. */
static inline __attribute__((always_inline)) void record_into(enum kotel_minst i, struct series *s,
                               uint64_t value_ns, const uint8_t *trace_id,
                               const uint8_t *span_id, uint64_t at_ns)
{
        struct cell *c = cell_of(s);
        struct vals *v = c ? &c->v : &s->v;
        unsigned b;

        if (i == KOTEL_M_CONSUMED || i == KOTEL_M_AGE_NEGATIVE) {
                bump(&v->count, 1, c != NULL);
                return;
        }
        b = add_hist(v, c != NULL, value_ns);
        if (wants_exemplar(trace_id))
                put_exemplar(c ? &c->ex[b] : &s->ex[b], value_ns, trace_id,
                             span_id, at_ns, c != NULL);
}

void kotel_metrics_record(enum kotel_minst i, const struct kotel_mattrs *a,
                          uint64_t value_ns, const uint8_t *trace_id,
                          const uint8_t *span_id)
{
        if (!__atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE) ||
            (unsigned)i >= KOTEL_M_N)
                return;
        record_into(i, find(i, a), value_ns, trace_id, span_id, 0);
}

struct kotel_mseries_ref kotel_metrics_series(enum kotel_minst i,
                                              const struct kotel_mattrs *a)
{
        struct kotel_mseries_ref r = {NULL, NULL, 0};

        if (!__atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE) ||
            (unsigned)i >= KOTEL_M_N)
                return r;
        r.gen = __atomic_load_n(&m.gen, __ATOMIC_RELAXED);
        r.s   = find(i, a);
        return r;
}

static __attribute__((noinline)) void
record_ref_slow(enum kotel_minst i, struct series *s, uint64_t value_ns,
                const uint8_t *trace_id, const uint8_t *span_id, uint64_t at_ns)
{
        record_into(i, s, value_ns, trace_id, span_id, at_ns);
}

void kotel_metrics_record_ref(enum kotel_minst i, struct kotel_mseries_ref r,
                              uint64_t value_ns, const uint8_t *trace_id,
                              const uint8_t *span_id, uint64_t at_ns)
{
        struct series *s = r.s;
        struct cell *c   = r.c;
        unsigned b;

        if (!s || (unsigned)i >= KOTEL_M_N ||
            !__atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE) ||
            __atomic_load_n(&m.gen, __ATOMIC_RELAXED) != r.gen)
                return;
        /* The common case first, in few registers: a histogram recorded
         * by the thread whose cell the ref carries. */
        if (i == KOTEL_M_CONSUMED || i == KOTEL_M_AGE_NEGATIVE || !mine(c)) {
                record_ref_slow(i, s, value_ns, trace_id, span_id, at_ns);
                return;
        }
        b = add_hist(&c->v, true, value_ns);
        if (wants_exemplar(trace_id))
                put_exemplar(&c->ex[b], value_ns, trace_id, span_id, at_ns,
                             true);
}

/* A consumed message into @v: its count, and its age in the histogram
 * (only messages with a timestamp land there, so the count is not the
 * buckets' sum). */
static inline void add_consumed(struct vals *v, bool own, bool has_age,
                                uint64_t age_ns)
{
        if (has_age) {
                add_hist(v, own, age_ns);
                return;
        }
        bump(&v->count, 1, own);
}

/* A miss of the consumer cache: looks up @a's three series and this
 * thread's cells of them. */
static __attribute__((noinline)) void cons_fill(const struct kotel_mattrs *a,
                                                uint32_t gen)
{
        struct kotel_mattrs k = *a;
        struct series *cs;

        k.op            = KOTEL_OP_POLL;
        k.error_type    = NULL;
        cs              = find(KOTEL_M_CONSUMED, &k);
        k.op            = KOTEL_OP_PROCESS;
        cons.process    = find(KOTEL_M_PROCESS_DURATION, &k);
        k.op            = KOTEL_OP_POLL;
        k.partition     = -1;
        cons.poll       = find(KOTEL_M_POLL_DURATION, &k);
        cons.gen        = gen;
        cons.client     = a->client;
        cons.topic      = a->topic;
        cons.partition  = a->partition;
        cons.consumed   = cs;
        cons.consumed_c = cell_of(cs);
        cons.process_c  = cell_of(cons.process);
        cons.poll_c     = cell_of(cons.poll);
}

/* The timed single poll's duration into its series (inlined: the
 * single-message consumer, the common one, times every call). */
static inline __attribute__((always_inline)) void record_poll(uint64_t poll_ns)
{
        struct cell *c = cons.poll_c;
        unsigned b = add_hist(c ? &c->v : &cons.poll->v, c != NULL, poll_ns);

        if (wants_exemplar(NULL))
                put_exemplar(c ? &c->ex[b] : &cons.poll->ex[b], poll_ns, NULL,
                             NULL, 0, c != NULL);
}

void kotel_metrics_record_message(const struct kotel_mattrs *a, bool has_age,
                                  uint64_t age_ns, bool timed, uint64_t poll_ns,
                                  struct kotel_mseries_ref *process)
{
        uint32_t gen = __atomic_load_n(&m.gen, __ATOMIC_RELAXED);
        struct series *cs;
        struct cell *c;

        process->s = NULL;
        process->c = NULL;
        if (!__atomic_load_n(&m.enabled, __ATOMIC_ACQUIRE))
                return;
        cs = cons.consumed;
        if (!cs || cons.gen != gen || cons.client != a->client ||
            cons.topic != a->topic || cons.partition != a->partition ||
            (a->topic && strcmp(cs->topic, a->topic))) {
                cons_fill(a, gen);
                cs = cons.consumed;
                if (cs == &m.inst[KOTEL_M_CONSUMED].overflow ||
                    cons.process ==
                        &m.inst[KOTEL_M_PROCESS_DURATION].overflow ||
                    cons.poll == &m.inst[KOTEL_M_POLL_DURATION].overflow)
                        /* Each measurement there is counted: look up
                         * again next time. */
                        cons.consumed = NULL;
        }
        if (timed)
                record_poll(poll_ns);
        c = cons.consumed_c;
        add_consumed(c ? &c->v : &cs->v, c != NULL, has_age, age_ns);
        process->s   = cons.process;
        process->c   = cons.process_c;
        process->gen = gen;
}

static bool read_exemplar(struct ex_cell *c, struct kotel_mexemplar *e)
{
        uint64_t s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE), s2;
        uint64_t t[2], sp;

        /* Acquire loads throughout: the second read of seq cannot move
         * before the fields (a fence would do too, but TSan cannot see
         * fences). */
        if (!s1 || (s1 & 1))
                return false;
        t[0]        = __atomic_load_n(&c->tid[0], __ATOMIC_ACQUIRE);
        t[1]        = __atomic_load_n(&c->tid[1], __ATOMIC_ACQUIRE);
        sp          = __atomic_load_n(&c->sid, __ATOMIC_ACQUIRE);
        e->has_ids  = __atomic_load_n(&c->has_ids, __ATOMIC_ACQUIRE) != 0;
        e->value_ns = __atomic_load_n(&c->value_ns, __ATOMIC_ACQUIRE);
        e->time_ns  = __atomic_load_n(&c->time_ns, __ATOMIC_ACQUIRE);
        s2          = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        if (s1 != s2)
                return false;
        memcpy(e->trace_id, t, 16);
        memcpy(e->span_id, &sp, 8);
        return true;
}

/* Bucket @b's newest exemplar of @s: the series' own (the atomic
 * fallback's) or one of its cells'. */
static bool newest_exemplar(struct series *s, int b, struct kotel_mexemplar *e)
{
        struct kotel_mexemplar x;
        bool found = read_exemplar(&s->ex[b], e);

        for (struct cell *c = __atomic_load_n(&s->cells, __ATOMIC_ACQUIRE); c;
             c              = c->next)
                if (read_exemplar(&c->ex[b], &x) &&
                    (!found || x.time_ns > e->time_ns)) {
                        *e    = x;
                        found = true;
                }
        return found;
}

/* @s's values as of now: its own (the atomic fallback) and its cells'. */
static void totals(struct series *s, struct vals *t)
{
        const uint64_t *src = (const uint64_t *)&s->v;
        uint64_t *dst       = (uint64_t *)t;
        const size_t n      = sizeof(*t) / sizeof(uint64_t);

        for (size_t k = 0; k < n; k++)
                dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
        /* Acquire: a cell seen here is seen zeroed or with its values. */
        for (struct cell *c = __atomic_load_n(&s->cells, __ATOMIC_ACQUIRE); c;
             c              = c->next) {
                src = (const uint64_t *)&c->v;
                for (size_t k = 0; k < n; k++)
                        dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
        }
}

/* Snapshots @s into @p; false when delta and nothing new. @hist: every
 * measurement of the instrument lands in a bucket, so the point's count is
 * the sum of its buckets as read (the count read apart would differ from
 * it while threads record, and OTLP requires them equal). */
static bool snap(struct series *s, struct kotel_mpoint *p, uint64_t now,
                 bool hist)
{
        bool delta = m.cfg.temporality == KOTEL_TEMPORALITY_DELTA;
        struct vals t;
        uint64_t count;

        totals(s, &t);
        count = t.count;

        memset(p, 0, sizeof(*p));
        p->client     = s->client;
        p->topic      = s->topic;
        p->partition  = s->partition;
        p->op         = s->op;
        p->error_type = s->error_type;
        p->overflow   = s->overflow;
        p->time_ns    = now;
        p->start_ns   = delta ? s->last_time_ns : s->start_ns;
        p->count      = count - (delta ? s->last_count : 0);
        p->sum_ns     = t.sum_ns;
        if (delta)
                p->sum_ns -= s->last_sum_ns;
        s->last_sum_ns += p->sum_ns * delta;
        for (int b = 0; b < KOTEL_M_BUCKETS; b++) {
                uint64_t v = t.buckets[b];

                p->buckets[b] = v - (delta ? s->last_buckets[b] : 0);
                if (delta)
                        s->last_buckets[b] = v;
                /* Delta: only exemplars of this interval. */
                if (newest_exemplar(s, b, &p->ex[b]))
                        p->ex[b].valid =
                            !delta || p->ex[b].time_ns > s->last_time_ns;
        }
        if (hist) {
                p->count = 0;
                for (int b = 0; b < KOTEL_M_BUCKETS; b++)
                        p->count += p->buckets[b];
        }
        if (delta) {
                s->last_count   = count;
                s->last_time_ns = now;
        }
        return !delta || p->count;
}

size_t kotel_metrics_collect(enum kotel_minst i, struct kotel_mpoint *out,
                             size_t cap, uint64_t now_ns)
{
        struct inst *in = &m.inst[i];
        size_t n        = 0;
        /* kotel_metrics_record puts every other instrument's measurement
         * in a bucket; the consumed series' buckets hold only ages. */
        bool hist = i != KOTEL_M_CONSUMED && i != KOTEL_M_AGE_NEGATIVE;

        if (!kotel_metrics_enabled() || (unsigned)i >= KOTEL_M_N)
                return 0;
        for (uint32_t k = 0; k <= in->mask && n < cap; k++) {
                struct series *s = &in->slots[k];

                if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
                        SLOT_READY ||
                    s->topic[0] == '\1')
                        continue;
                if (snap(s, &out[n], now_ns, hist))
                        n++;
        }
        /* Listed once a measurement went there (its count is positive
         * from then on). */
        if (n < cap && __atomic_load_n(&in->overflowed, __ATOMIC_RELAXED) &&
            snap(&in->overflow, &out[n], now_ns, hist))
                n++;
        return n;
}

uint64_t kotel_metrics_overflowed(enum kotel_minst i)
{
        return (unsigned)i < KOTEL_M_N
                   ? __atomic_load_n(&m.inst[i].overflowed, __ATOMIC_RELAXED)
                   : 0;
}
