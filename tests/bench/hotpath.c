/* hotpath: what the agent itself costs the producing thread per message.
 *
 * Linked with the agent's objects (like the unit tests) and librdkafka, so
 * its rd_kafka_producev is the agent's wrapper, exactly as under
 * LD_PRELOAD. The agent reaches librdkafka only through its real_*
 * pointers; this program swaps some of them for timing shims:
 *
 *   real_rd_kafka_producev, real_rd_kafka_produceva
 *                              time librdkafka's produce work (which
 *                              calls the agent's on_send inside)
 *   real_rd_kafka_interceptor_add_on_send
 *                              wraps the agent's on_send in a timer
 *   header/topic functions     times librdkafka's header work that on_send
 *                              asks for (headers_new, header_add, ...)
 *
 * Per call, agent-owned = total - librdkafka's produce work - librdkafka's
 * header work, with the timers' own cost (calibrated at start) taken out.
 * The producer has no broker: messages queue in librdkafka and are purged
 * every PURGE_EVERY calls (outside the timed region), so the in-flight
 * table holds up to that many records, as in a busy producer.
 *
 *   hotpath [-n CALLS] [-a producev|produce]
 *                           the environment picks the agent configuration
 *                           (OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER, ...)
 *
 * Prints "result ... agent_p50_ns=.. agent_p99_ns=.. ..." and
 * "threads kotel=N". */
#include <dirent.h>
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "agent/agent.h"
#include "agent/symbols.h"

#define PURGE_EVERY 20000

static inline uint64_t tick(void)
{
        uint64_t t;

        _mm_lfence();
        t = __rdtsc();
        _mm_lfence();
        return t;
}

/* Per call accumulators (this program is single-threaded on the hot path;
 * on_send runs on the producing thread). */
static uint64_t acc_real, acc_onsend, acc_lib;
static unsigned n_lib, n_onsend, n_real;

#define SHIM(ret, name, params, args)                                          \
        static __typeof__(name) *orig_##name;                                  \
        static ret shim_##name params                                          \
        {                                                                      \
                uint64_t t0 = tick();                                          \
                ret r       = orig_##name args;                                \
                acc_lib += tick() - t0;                                        \
                n_lib++;                                                       \
                return r;                                                      \
        }

SHIM(rd_kafka_resp_err_t, rd_kafka_message_headers,
     (const rd_kafka_message_t *m, rd_kafka_headers_t **h), (m, h))
SHIM(rd_kafka_headers_t *, rd_kafka_headers_new, (size_t n), (n))
SHIM(rd_kafka_resp_err_t, rd_kafka_header_remove,
     (rd_kafka_headers_t * h, const char *name), (h, name))
SHIM(rd_kafka_resp_err_t, rd_kafka_header_add,
     (rd_kafka_headers_t * h, const char *name, ssize_t nl, const void *v,
      ssize_t vl),
     (h, name, nl, v, vl))
SHIM(rd_kafka_resp_err_t, rd_kafka_header_get_last,
     (const rd_kafka_headers_t *h, const char *name, const void **v,
      size_t *vl),
     (h, name, v, vl))
SHIM(rd_kafka_resp_err_t, rd_kafka_header_get_all,
     (const rd_kafka_headers_t *h, size_t idx, const char **name,
      const void **v, size_t *vl),
     (h, idx, name, v, vl))
SHIM(const char *, rd_kafka_topic_name, (const rd_kafka_topic_t *rkt), (rkt))

static __typeof__(rd_kafka_message_set_headers) *orig_set_headers;
static void shim_set_headers(rd_kafka_message_t *m, rd_kafka_headers_t *h)
{
        uint64_t t0 = tick();

        orig_set_headers(m, h);
        acc_lib += tick() - t0;
        n_lib++;
}

static __typeof__(rd_kafka_produceva) *orig_produceva;
static rd_kafka_error_t *shim_produceva(rd_kafka_t *rk,
                                        const rd_kafka_vu_t *vus, size_t cnt)
{
        uint64_t t0         = tick();
        rd_kafka_error_t *e = orig_produceva(rk, vus, cnt);

        acc_real += tick() - t0;
        n_real++;
        return e;
}

/* The agent forwards producev's arguments as at least 16 8-byte words
 * (agent/produce.c: call_producev); this program's calls need no more. */
static __typeof__(rd_kafka_producev) *orig_producev;
static rd_kafka_resp_err_t shim_producev(rd_kafka_t *rk, ...)
{
        uintptr_t w[16];
        rd_kafka_resp_err_t err;
        uint64_t t0;
        va_list ap;

        va_start(ap, rk);
        for (int i = 0; i < 16; i++)
                w[i] = va_arg(ap, uintptr_t);
        va_end(ap);
        t0 = tick();
        err =
            orig_producev(rk, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
                          w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]);
        acc_real += tick() - t0;
        n_real++;
        return err;
}

static __typeof__(rd_kafka_produce) *orig_produce;
static int shim_produce(rd_kafka_topic_t *rkt, int32_t part, int flags,
                        void *payload, size_t len, const void *key,
                        size_t keylen, void *opaque)
{
        uint64_t t0 = tick();
        int r =
            orig_produce(rkt, part, flags, payload, len, key, keylen, opaque);

        acc_real += tick() - t0;
        n_real++;
        return r;
}

static rd_kafka_interceptor_f_on_send_t *agent_on_send;
static rd_kafka_resp_err_t timed_on_send(rd_kafka_t *rk, rd_kafka_message_t *m,
                                         void *opaque)
{
        uint64_t t0           = tick();
        rd_kafka_resp_err_t e = agent_on_send(rk, m, opaque);

        acc_onsend += tick() - t0;
        n_onsend++;
        return e;
}

static __typeof__(rd_kafka_interceptor_add_on_send) *orig_add_on_send;
static rd_kafka_resp_err_t shim_add_on_send(rd_kafka_t *rk, const char *name,
                                            rd_kafka_interceptor_f_on_send_t *f,
                                            void *opaque)
{
        agent_on_send = f;
        return orig_add_on_send(rk, name, timed_on_send, opaque);
}

/* Calibration targets: the timers around a function that does nothing. */
static __attribute__((noinline)) int noop(int x)
{
        __asm__ volatile("" : "+r"(x));
        return x;
}

static __attribute__((noinline)) int shim_noop(int x)
{
        uint64_t t0 = tick();
        int r       = noop(x);

        acc_lib += tick() - t0;
        return r;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
        qsort(v, n, sizeof(*v), cmp_u64);
        return v[(size_t)(p * (double)(n - 1))];
}

static double ns_per_tick;

static void calibrate_clock(void)
{
        struct timespec a, b;
        uint64_t t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &a);
        t0 = tick();
        do
                clock_gettime(CLOCK_MONOTONIC, &b);
        while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 2e8);
        t1          = tick();
        ns_per_tick = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
                      (double)(t1 - t0);
}

/* p: what a timer pair reads around nothing; P: what a timed call adds to
 * an enclosing timer. */
static void calibrate_timers(double *p, double *P)
{
        enum { N = 200000 };
        static uint64_t in[N], outer_shim[N], outer_plain[N];

        for (int i = 0; i < N; i++) {
                uint64_t t0 = tick(), t1;

                acc_lib = 0;
                shim_noop(i);
                t1            = tick();
                outer_shim[i] = t1 - t0;
                in[i]         = acc_lib;
                t0            = tick();
                noop(i);
                outer_plain[i] = tick() - t0;
        }
        /* The noop's own cost is in both; what a shim adds on top of it: */
        *P = (double)pct(outer_shim, N, 0.5) - (double)pct(outer_plain, N, 0.5);
        /* p as the inner reading minus the plain call cost inside it, which
         * is about the plain pair's reading minus an empty pair's. */
        {
                static uint64_t empty[N];

                for (int i = 0; i < N; i++) {
                        uint64_t t0 = tick();
                        empty[i]    = tick() - t0;
                }
                *p = (double)pct(in, N, 0.5) -
                     ((double)pct(outer_plain, N, 0.5) -
                      (double)pct(empty, N, 0.5));
        }
}

static int kotel_threads(void)
{
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int k = 0;

        while (d && (e = readdir(d))) {
                char path[300], comm[64] = "";
                FILE *f;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
                         e->d_name);
                if ((f = fopen(path, "r"))) {
                        if (fgets(comm, sizeof(comm), f) &&
                            strstr(comm, "kotel"))
                                k++;
                        fclose(f);
                }
        }
        if (d)
                closedir(d);
        return k;
}

int main(int argc, char **argv)
{
        long n          = 200000;
        const char *api = "producev";
        uint64_t *agent, *total, *lib;
        __typeof__(rd_kafka_producev) *direct_producev;
        __typeof__(rd_kafka_produce) *direct_produce;
        rd_kafka_topic_t *rkt, *rkt2;
        bool legacy;
        double p, P, sum_agent = 0;
        rd_kafka_conf_t *conf;
        char err[256], value[100];
        const char *label = getenv("HOTPATH_LABEL");
        rd_kafka_t *rk;
        bool on;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "-n"))
                        n = atol(argv[i + 1]);
                else if (!strcmp(argv[i], "-a"))
                        api = argv[i + 1];
        }
        agent = calloc((size_t)n, sizeof(*agent));
        total = calloc((size_t)n, sizeof(*total));
        lib   = calloc((size_t)n, sizeof(*lib));
        memset(value, 'v', sizeof(value));
        calibrate_clock();
        calibrate_timers(&p, &P);
        on = kotel_agent_ready(); /* resolves real_*, reads the config */
        if (!kotel_symbols_resolve()) {
                fprintf(stderr, "hotpath: librdkafka not resolved\n");
                return 2;
        }
#define SWAP(name)                                                             \
        orig_##name = real_##name;                                             \
        real_##name = shim_##name;
        SWAP(rd_kafka_message_headers)
        SWAP(rd_kafka_headers_new)
        SWAP(rd_kafka_header_remove)
        SWAP(rd_kafka_header_add)
        SWAP(rd_kafka_header_get_last)
        SWAP(rd_kafka_header_get_all)
        SWAP(rd_kafka_topic_name)
#undef SWAP
        orig_set_headers                  = real_rd_kafka_message_set_headers;
        real_rd_kafka_message_set_headers = shim_set_headers;
        orig_produceva                    = real_rd_kafka_produceva;
        real_rd_kafka_produceva           = shim_produceva;
        orig_producev                     = real_rd_kafka_producev;
        real_rd_kafka_producev            = shim_producev;
        orig_produce                      = real_rd_kafka_produce;
        real_rd_kafka_produce             = shim_produce;
        orig_add_on_send = real_rd_kafka_interceptor_add_on_send;
        real_rd_kafka_interceptor_add_on_send = shim_add_on_send;
        direct_producev = (__typeof__(rd_kafka_producev) *)dlsym(
            RTLD_NEXT, "rd_kafka_producev");
        direct_produce = (__typeof__(rd_kafka_produce) *)dlsym(
            RTLD_NEXT, "rd_kafka_produce");
        legacy = !strcmp(api, "produce");

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", NULL,
                          0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "hotpath: %s\n", err);
                return 2;
        }
        rkt = rd_kafka_topic_new(rk, "bench", NULL);
        for (long i = -PURGE_EVERY; i < n; i++) {
                char key[16];
                int klen = snprintf(key, sizeof(key), "k%07ld", i < 0 ? -i : i);
                uint64_t t0, t1;

                if (i % PURGE_EVERY == 0) {
                        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
                        rd_kafka_poll(rk, 0);
                }
                acc_real = acc_onsend = acc_lib = 0;
                n_lib = n_onsend = n_real = 0;
                t0                        = tick();
                if (legacy)
                        rd_kafka_produce(
                            rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                            value, sizeof(value), key, (size_t)klen, NULL);
                else
                        rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC("bench"),
                            RD_KAFKA_V_VALUE(value, sizeof(value)),
                            RD_KAFKA_V_KEY(key, (size_t)klen),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                t1 = tick();
                if (i < 0)
                        continue; /* warm-up */
                {
                        /* Raw readings: T total, R real producev (holds
                         * on_send), O on_send (holds the header calls), L
                         * the header calls. A shim's reading holds p of its
                         * timers' cost and adds P to the reading around it:
                         *   T = p + wrapper + R + (P - p)
                         *   R = p + librdkafka + O + (P - p)
                         *   O = p + on_send code + L + n_lib (P - p)
                         *   L = n_lib p + header work */
                        double T = (double)(t1 - t0), R = (double)acc_real;
                        double O = (double)acc_onsend, L = (double)acc_lib;
                        double a = n_real ? T - R - P : T - p;
                        double k;

                        if (n_onsend)
                                a += O - p - L - n_lib * (P - p);
                        k = n_real
                                ? (n_onsend ? R - O - P : R - p) + L - n_lib * p
                                : 0;
                        if (a < 0)
                                a = 0;
                        agent[i] = (uint64_t)(a * ns_per_tick + 0.5);
                        lib[i] = k > 0 ? (uint64_t)(k * ns_per_tick + 0.5) : 0;
                        total[i] =
                            (uint64_t)((T - p -
                                        (n_real + n_onsend + n_lib) * (P - p)) *
                                           ns_per_tick +
                                       0.5);
                        sum_agent += a * ns_per_tick;
                }
        }
        {
                /* librdkafka's producev alone, for scale: a client made
                 * with the real rd_kafka_new has none of the agent's
                 * interceptors. */
                enum { M = 50000 };
                static uint64_t d[M], h[M];
                double d50, h50;
                rd_kafka_conf_t *c2 = rd_kafka_conf_new();
                rd_kafka_t *rk2;

                rd_kafka_conf_set(c2, "log_level", "0", NULL, 0);
                rd_kafka_conf_set(c2, "queue.buffering.max.messages", "1000000",
                                  NULL, 0);
                rk2 =
                    real_rd_kafka_new(RD_KAFKA_PRODUCER, c2, err, sizeof(err));
                if (!rk2) {
                        fprintf(stderr, "hotpath: %s\n", err);
                        return 2;
                }
                rkt2 = real_rd_kafka_topic_new(rk2, "bench", NULL);
                /* A/B without shims: blocks of calls through the agent's
                 * wrapper on rk (its interceptors too, when tracing) and
                 * straight into librdkafka on rk2, alternating, so drift in
                 * the machine's load hits both alike. */
                real_rd_kafka_produceva       = orig_produceva;
                real_rd_kafka_producev        = orig_producev;
                real_rd_kafka_produce         = orig_produce;
                real_rd_kafka_message_headers = orig_rd_kafka_message_headers;
                real_rd_kafka_headers_new     = orig_rd_kafka_headers_new;
                real_rd_kafka_header_remove   = orig_rd_kafka_header_remove;
                real_rd_kafka_header_add      = orig_rd_kafka_header_add;
                real_rd_kafka_header_get_last = orig_rd_kafka_header_get_last;
                real_rd_kafka_header_get_all  = orig_rd_kafka_header_get_all;
                real_rd_kafka_topic_name      = orig_rd_kafka_topic_name;
                real_rd_kafka_message_set_headers = orig_set_headers;
                for (long i = 0; i < 2 * M; i++) {
                        bool hooked = (i / 1000) & 1;
                        uint64_t t0;

                        if (i % PURGE_EVERY == 0) {
                                rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
                                rd_kafka_purge(rk2, RD_KAFKA_PURGE_F_QUEUE);
                                rd_kafka_poll(rk, 0);
                        }
                        t0 = tick();
                        if (legacy)
                                (hooked ? rd_kafka_produce : direct_produce)(
                                    hooked ? rkt : rkt2, RD_KAFKA_PARTITION_UA,
                                    RD_KAFKA_MSG_F_COPY, value, sizeof(value),
                                    "k0000000", 8, NULL);
                        else
                                (hooked ? rd_kafka_producev : direct_producev)(
                                    hooked ? rk : rk2,
                                    RD_KAFKA_V_TOPIC("bench"),
                                    RD_KAFKA_V_VALUE(value, sizeof(value)),
                                    RD_KAFKA_V_KEY("k0000000", 8),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
                        (hooked ? h : d)[i / 2000 * 1000 + i % 1000] =
                            (uint64_t)(((double)(tick() - t0) - p) *
                                       ns_per_tick * 10);
                }
                d50 = pct(d, M, 0.5) / 10.0;
                h50 = pct(h, M, 0.5) / 10.0;
                printf("result api=%s label=%s tracing=%d calls=%ld "
                       "agent_p50_ns=%llu "
                       "agent_p99_ns=%llu agent_mean_ns=%.1f total_p50_ns=%llu "
                       "total_p99_ns=%llu librdkafka_p50_ns=%llu "
                       "direct_p50_ns=%.1f hooked_p50_ns=%.1f ab_diff_ns=%.1f "
                       "timer_pair_ticks=%.1f "
                       "timer_nested_ticks=%.1f ns_per_tick=%.4f "
                       "kotel_threads=%d\n",
                       api, label ? label : "-", on, n,
                       (unsigned long long)pct(agent, (size_t)n, 0.5),
                       (unsigned long long)pct(agent, (size_t)n, 0.99),
                       sum_agent / (double)n,
                       (unsigned long long)pct(total, (size_t)n, 0.5),
                       (unsigned long long)pct(total, (size_t)n, 0.99),
                       (unsigned long long)pct(lib, (size_t)n, 0.5), d50, h50,
                       h50 - d50, p, P, ns_per_tick, kotel_threads());
                rd_kafka_purge(rk2, RD_KAFKA_PURGE_F_QUEUE);
                rd_kafka_topic_destroy(rkt2);
                real_rd_kafka_destroy(rk2);
        }
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}
