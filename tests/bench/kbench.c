/* kbench: an ordinary librdkafka program (it knows nothing of kotel) that
 * moves messages as fast as it can, for scripts/bench.py to run with and
 * without the agent.
 *
 *   kbench -b BOOTSTRAP produce -a producev|produce -t TOPIC -s SECONDS
 *          [-r RATE] [--rss] [--tp]
 *       100-byte values, 8-byte keys, RD_KAFKA_MSG_F_COPY, flat out (or
 *       paced at RATE msgs/s) for SECONDS, then flush. --rss prints the
 *       resident set once a second. --tp (producev only): the app adds a
 *       55-byte traceparent header to every message itself, as a
 *       propagating agent would (the floor for any such agent).
 *   kbench -b BOOTSTRAP fill -t TOPIC -n COUNT
 *   kbench -b BOOTSTRAP consume -a poll|batch -t TOPIC -n COUNT -g GROUP
 *          [-q QUEUED_MIN] [--prefetch] [-w WORK]
 *       A consumer group draining COUNT messages from the earliest offset
 *       (poll: rd_kafka_consumer_poll; batch: rd_kafka_consume_batch_queue
 *       on the consumer queue, 1000 at a time). -q sets
 *       queued.min.messages (librdkafka 2.0.2 stops fetching for up to a
 *       second once more than that many are queued: docs/performance.md).
 *       --prefetch: after the first message, wait until librdkafka has
 *       fetched the rest into its local queue (the queue stops growing),
 *       and only then start the clock: the timed window is the app thread
 *       taking messages from memory, without the fetcher competing for the
 *       CPUs or the app thread sleeping on an empty queue, so per-message
 *       CPU differences of a few tens of ns stand out of the noise.
 *       -w WORK: the app does WORK rounds of register-only arithmetic per
 *       consumed message (a known cost, timed alone at start and printed
 *       as work_ns=: a control for what whole runs make of a few tens of
 *       ns more on the app thread).
 *   kbench -b BOOTSTRAP forward -t IN -o OUT -n COUNT -g GROUP
 *       consumer_poll -> producev to OUT -> message_destroy, COUNT times,
 *       then flush.
 *
 * Prints one line: "result mode=... msgs=N secs=S rate=R maxrss_kb=K (VmHWM)
 * threads=T kotel_threads=K delivered=D failed=F main_cpu_ms=C
 * main_runqueue_ms=W cpu_app_ns=.. cpu_rdk_ns=.. cpu_exp_ns=.. cpu_other_ns=..
 * cpu_total_ns=.. exp_threads=E" (the main thread's CPU time and time spent
 * runnable but waiting for a CPU, over the timed window; then the CPU time
 * of the timed window by thread class, below). The clock starts at the
 * first message (consumers: after the group join) and stops when the last
 * one is delivered (producers: after flush). */
#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchcpu.h"

#define VALUE_LEN 100

static const char *brokers, *api = "producev", *topic = "bench", *out_topic,
                            *group = "kbench";
static double seconds              = 2, rate;
static long count                  = 100000;
static int show_rss, add_tp;
static long queued_min;
static int prefetch;
static long work;
static double work_ns;
static long delivered, failed;
static char value[VALUE_LEN];

static void die(const char *what)
{
        fprintf(stderr, "kbench: %s\n", what);
        exit(2);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS, or VmHWM (the peak): not ru_maxrss, which a child keeps from
 * its parent across fork and exec (a Python harness's 25 MB would be the
 * floor of every figure). */
static long status_kb(const char *field)
{
        FILE *f  = fopen("/proc/self/status", "r");
        size_t n = strlen(field);
        char line[256];
        long kb = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, field, n))
                        kb = atol(line + n);
        fclose(f);
        return kb;
}

static long rss_kb(void)
{
        return status_kb("VmRSS:");
}

/* Threads in this process, and how many of them are kotel's. */
static void threads(int *all, int *kotel)
{
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;

        *all = *kotel = 0;
        while (d && (e = readdir(d))) {
                char path[300], comm[64] = "";
                FILE *f;

                if (e->d_name[0] == '.')
                        continue;
                (*all)++;
                snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
                         e->d_name);
                f = fopen(path, "r");
                if (f) {
                        if (fgets(comm, sizeof(comm), f) &&
                            strstr(comm, "kotel"))
                                (*kotel)++;
                        fclose(f);
                }
        }
        if (d)
                closedir(d);
}

/* This thread's time on the CPU and waiting for one (runnable but not
 * running), in ns, from /proc/thread-self/schedstat. */
static void sched(unsigned long long *run, unsigned long long *wait)
{
        FILE *f = fopen("/proc/thread-self/schedstat", "r");

        *run = *wait = 0;
        if (f) {
                if (fscanf(f, "%llu %llu", run, wait) != 2)
                        *run = *wait = 0;
                fclose(f);
        }
}

static unsigned long long run0, wait0;

/* CPU time by thread class over the timed window. Each thread's time on
 * the CPU (the first field of /proc/self/task/TID/schedstat, ns) is
 * sampled at the start and at the end of the window (before any client is
 * destroyed); a thread born inside the window counts from 0. The class
 * comes from the thread's name: the main thread is the app, "rdk:*" are
 * librdkafka's, "kotel-exporter" is kotel's exporter. The process total is
 * CLOCK_PROCESS_CPUTIME_ID, which also holds threads that ended inside the
 * window; "other" is the total less the three classes (threads of no class,
 * and any that ended inside the window). */
enum { CL_APP, CL_RDK, CL_EXP, CL_OTHER, CL_N };
#define MAX_TASKS 512

struct task_cpu {
        int tid, cls;
        unsigned long long ns;
};

static struct task_cpu tasks0[MAX_TASKS];
static int ntasks0;
static unsigned long long proc0;

static unsigned long long proc_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ull +
               (unsigned long long)ts.tv_nsec;
}

static int sample_tasks(struct task_cpu *t, int max)
{
        DIR *d = opendir("/proc/self/task");
        int n = 0, me = (int)getpid();
        struct dirent *e;

        while (d && n < max && (e = readdir(d))) {
                char path[300], comm[64] = "";
                unsigned long long ns = 0;
                FILE *f;

                if (e->d_name[0] == '.')
                        continue;
                t[n].tid = atoi(e->d_name);
                snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
                         e->d_name);
                if ((f = fopen(path, "r"))) {
                        if (!fgets(comm, sizeof(comm), f))
                                comm[0] = 0;
                        fclose(f);
                }
                snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat",
                         e->d_name);
                if ((f = fopen(path, "r"))) {
                        if (fscanf(f, "%llu", &ns) != 1)
                                ns = 0;
                        fclose(f);
                }
                t[n].ns  = ns;
                t[n].cls = t[n].tid == me                         ? CL_APP
                           : !strncmp(comm, "rdk:", 4)            ? CL_RDK
                           : !strncmp(comm, "kotel-exporter", 14) ? CL_EXP
                                                                  : CL_OTHER;
                n++;
        }
        if (d)
                closedir(d);
        return n;
}

static void window_start(void)
{
        /* The process window brackets every thread's: its start is read
         * first and its end last, so the total holds each thread's time,
         * including what threads run while /proc is being read. */
        proc0 = proc_cpu_ns();
        sched(&run0, &wait0);
        ntasks0 = sample_tasks(tasks0, MAX_TASKS);
}

static void report(const char *mode, long msgs, double secs)
{
        static struct task_cpu t1[MAX_TASKS];
        unsigned long long run, wait, cls[CL_N] = {0}, total, named;
        int all, kotel, n1, exp_threads = 0;

        n1 = sample_tasks(t1, MAX_TASKS);
        sched(&run, &wait);
        total = proc_cpu_ns() - proc0;
        for (int i = 0; i < n1; i++) {
                unsigned long long before = 0;

                for (int j = 0; j < ntasks0; j++)
                        if (tasks0[j].tid == t1[i].tid)
                                before = tasks0[j].ns;
                if (t1[i].cls != CL_OTHER && t1[i].ns >= before)
                        cls[t1[i].cls] += t1[i].ns - before;
                exp_threads += t1[i].cls == CL_EXP;
        }
        named         = cls[CL_APP] + cls[CL_RDK] + cls[CL_EXP];
        cls[CL_OTHER] = total > named ? total - named : 0;
        threads(&all, &kotel);
        printf("result mode=%s api=%s msgs=%ld secs=%.4f rate=%.1f "
               "maxrss_kb=%ld threads=%d kotel_threads=%d delivered=%ld "
               "failed=%ld main_cpu_ms=%.0f main_runqueue_ms=%.0f "
               "cpu_app_ns=%llu cpu_rdk_ns=%llu cpu_exp_ns=%llu "
               "cpu_other_ns=%llu cpu_total_ns=%llu exp_threads=%d "
               "work_ns=%.1f\n",
               mode, api, msgs, secs, secs > 0 ? msgs / secs : 0.0,
               status_kb("VmHWM:"), all, kotel, delivered, failed,
               (run - run0) / 1e6, (wait - wait0) / 1e6, cls[CL_APP],
               cls[CL_RDK], cls[CL_EXP], cls[CL_OTHER], total, exp_threads,
               work_ns);
        fflush(stdout);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        (void)opaque;
        if (m->err)
                failed++;
        else
                delivered++;
}

static rd_kafka_conf_t *base_conf(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];

        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err,
                              sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "client.id", "kbench", NULL, 0);
        rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
        return c;
}

static rd_kafka_t *producer(void)
{
        rd_kafka_conf_t *c = base_conf();
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
        return rk;
}

static rd_kafka_t *consumer(void)
{
        rd_kafka_conf_t *c = base_conf();
        rd_kafka_topic_partition_list_t *tl;
        char err[256];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(c, "group.id", group, err, sizeof(err)) ||
            rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err,
                              sizeof(err)))
                die(err);
        if (queued_min > 0) {
                char v[32];

                snprintf(v, sizeof(v), "%ld", queued_min);
                if (rd_kafka_conf_set(c, "queued.min.messages", v, err,
                                      sizeof(err)))
                        die(err);
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
        if (!rk)
                die(err);
        rd_kafka_poll_set_consumer(rk);
        tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, tl))
                die("subscribe failed");
        rd_kafka_topic_partition_list_destroy(tl);
        return rk;
}

/* Produces one message; on a full queue serves delivery reports and tries
 * again. */
static const char TRACEPARENT[] =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

static void produce_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, long i,
                        const void *val, size_t len)
{
        char key[16];
        int klen = snprintf(key, sizeof(key), "k%07ld", i % 10000000);

        for (;;) {
                rd_kafka_resp_err_t err;

                if (rkt)
                        err =
                            rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA,
                                             RD_KAFKA_MSG_F_COPY, (void *)val,
                                             len, key, (size_t)klen, NULL) == 0
                                ? RD_KAFKA_RESP_ERR_NO_ERROR
                                : rd_kafka_last_error();
                else if (add_tp)
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(out_topic ? out_topic : topic),
                            RD_KAFKA_V_VALUE((void *)val, len),
                            RD_KAFKA_V_KEY(key, (size_t)klen),
                            RD_KAFKA_V_HEADER("traceparent", TRACEPARENT,
                                              sizeof(TRACEPARENT) - 1),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                else
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(out_topic ? out_topic : topic),
                            RD_KAFKA_V_VALUE((void *)val, len),
                            RD_KAFKA_V_KEY(key, (size_t)klen),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                if (!err)
                        return;
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        die(rd_kafka_err2str(err));
                rd_kafka_poll(rk, 1);
        }
}

static void finish_producer(rd_kafka_t *rk)
{
        if (rd_kafka_flush(rk, 60000))
                die("flush timed out");
}

static int run_produce(void)
{
        rd_kafka_t *rk        = producer();
        rd_kafka_topic_t *rkt = NULL;
        double t0, next_rss, t;
        long n = 0;

        if (!strcmp(api, "produce"))
                rkt = rd_kafka_topic_new(rk, topic, NULL);
        else if (strcmp(api, "producev"))
                die("produce -a: producev or produce");
        if (rkt && add_tp)
                die("--tp: producev only");
        t0       = now_s();
        next_rss = t0;
        window_start();
        for (;;) {
                /* Check the clock every 256 messages only. */
                if (!(n & 255) || rate > 0) {
                        t = now_s();
                        if (t - t0 >= seconds)
                                break;
                        if (show_rss && t >= next_rss) {
                                printf("rss t=%.1f kb=%ld\n", t - t0, rss_kb());
                                fflush(stdout);
                                next_rss += 1.0;
                        }
                        if (rate > 0 && n >= (long)((t - t0) * rate)) {
                                struct timespec ts = {0, 50000};
                                rd_kafka_poll(rk, 0);
                                nanosleep(&ts, NULL);
                                continue;
                        }
                }
                produce_one(rk, rkt, n, value, VALUE_LEN);
                if (!(++n & 1023))
                        rd_kafka_poll(rk, 0);
        }
        finish_producer(rk);
        report("produce", n, now_s() - t0);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return failed ? 1 : 0;
}

static int run_fill(void)
{
        rd_kafka_t *rk = producer();
        double t0      = now_s();

        for (long i = 0; i < count; i++) {
                produce_one(rk, NULL, i, value, VALUE_LEN);
                if (!(i & 1023))
                        rd_kafka_poll(rk, 0);
        }
        finish_producer(rk);
        report("fill", count, now_s() - t0);
        rd_kafka_destroy(rk);
        return failed ? 1 : 0;
}

/* --prefetch: waits until the consumer queue of @rk holds the @left
 * messages still to come, or stops growing for a second. */
static void wait_prefetched(rd_kafka_t *rk, long left)
{
        rd_kafka_queue_t *cq = rd_kafka_queue_get_consumer(rk);
        size_t last = 0, len;
        int still = 0;

        while (still < 10) {
                usleep(100000);
                len = rd_kafka_queue_length(cq);
                if ((long)len >= left)
                        break;
                still = len == last ? still + 1 : 0;
                last  = len;
        }
        rd_kafka_queue_destroy(cq);
}

/* -w: @rounds of a dependent multiply-add chain, in registers (no memory
 * traffic, nothing the compiler can fold away). The chain goes on from
 * the previous call's end, so calls cannot overlap: timed alone, a call
 * costs its whole latency, and in the consume loop at most that. */
static unsigned long long work_acc = 1;

static void do_work(long rounds)
{
        unsigned long long x = work_acc;

        for (long i = 0; i < rounds; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                __asm__ volatile("" : "+r"(x));
        }
        work_acc = x;
}

/* What do_work(work) costs alone: the median of 9 timings of 100 000
 * calls on this thread's CPU clock, in ns per call. */
static double time_work(void)
{
        double t[9];

        for (int k = 0; k < 9; k++) {
                uint64_t t0 = thread_cpu_ns();

                for (int i = 0; i < 100000; i++)
                        do_work(work);
                t[k] = (double)(thread_cpu_ns() - t0) / 100000;
        }
        qsort(t, 9, sizeof(t[0]), cmp_double);
        return t[4];
}

static int run_consume(void)
{
        rd_kafka_t *rk      = consumer();
        rd_kafka_queue_t *q = NULL;
        rd_kafka_message_t *ms[1000];
        double t0 = 0;
        long n    = 0;
        int batch = !strcmp(api, "batch");

        if (!batch && strcmp(api, "poll"))
                die("consume -a: poll or batch");
        if (batch)
                q = rd_kafka_queue_get_consumer(rk);
        if (work)
                work_ns = time_work();
        while (n < count) {
                ssize_t got;

                if (batch) {
                        got = rd_kafka_consume_batch_queue(q, 200, ms, 1000);
                } else {
                        ms[0] = rd_kafka_consumer_poll(rk, 200);
                        got   = ms[0] ? 1 : 0;
                }
                for (ssize_t i = 0; i < got; i++) {
                        if (!ms[i]->err) {
                                if (!n++) {
                                        if (prefetch)
                                                wait_prefetched(rk, count - 1);
                                        t0 = now_s();
                                        window_start();
                                }
                                if (work)
                                        do_work(work);
                        }
                        rd_kafka_message_destroy(ms[i]);
                }
        }
        report("consume", n, now_s() - t0);
        if (q)
                rd_kafka_queue_destroy(q);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}

static int run_forward(void)
{
        rd_kafka_t *in  = consumer();
        rd_kafka_t *out = producer();
        double t0       = 0;
        long n          = 0;

        if (!out_topic)
                die("forward: -o OUT");
        while (n < count) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(in, 200);

                if (!m)
                        continue;
                if (!m->err) {
                        if (!n) {
                                t0 = now_s();
                                window_start();
                        }
                        produce_one(out, NULL, n, m->payload, m->len);
                        if (!(++n & 1023))
                                rd_kafka_poll(out, 0);
                }
                rd_kafka_message_destroy(m);
        }
        finish_producer(out);
        report("forward", n, now_s() - t0);
        rd_kafka_consumer_close(in);
        rd_kafka_destroy(in);
        rd_kafka_destroy(out);
        return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
        const char *mode = NULL;

        memset(value, 'v', sizeof(value));
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--rss")) {
                        show_rss = 1;
                        continue;
                }
                if (!strcmp(a, "--tp")) {
                        add_tp = 1;
                        continue;
                }
                if (!strcmp(a, "--prefetch")) {
                        prefetch = 1;
                        continue;
                }
                if (a[0] != '-') {
                        mode = a;
                        continue;
                }
                if (!v)
                        die("option without a value");
                i++;
                if (!strcmp(a, "-b"))
                        brokers = v;
                else if (!strcmp(a, "-a"))
                        api = v;
                else if (!strcmp(a, "-t"))
                        topic = v;
                else if (!strcmp(a, "-o"))
                        out_topic = v;
                else if (!strcmp(a, "-g"))
                        group = v;
                else if (!strcmp(a, "-s"))
                        seconds = atof(v);
                else if (!strcmp(a, "-r"))
                        rate = atof(v);
                else if (!strcmp(a, "-n"))
                        count = atol(v);
                else if (!strcmp(a, "-q"))
                        queued_min = atol(v);
                else if (!strcmp(a, "-w"))
                        work = atol(v);
                else
                        die("unknown option");
        }
        if (!brokers || !mode)
                die("usage: kbench -b BOOTSTRAP produce|fill|consume|forward "
                    "...");
        if (!strcmp(mode, "produce"))
                return run_produce();
        if (!strcmp(mode, "fill"))
                return run_fill();
        if (!strcmp(mode, "consume"))
                return run_consume();
        if (!strcmp(mode, "forward"))
                return run_forward();
        die("unknown mode");
        return 2;
}
