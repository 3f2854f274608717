/* statsclient: a plain librdkafka program (it knows nothing of kotel) for
 * the statistics tests (tests/integration/test_kafka_stats.py).
 *
 *   statsclient -b B consume -t T -c C -u STOP
 *       subscribes (group statsclient-T, no auto commit, earliest),
 *       consumes C messages with consumer_poll (main queue forwarded to the
 *       consumer's), commits them synchronously, pauses its partitions and
 *       keeps polling until the file STOP exists: the rest is its backlog.
 *   statsclient -b B produce -t T -n N -s SIZE -u STOP
 *       produces N messages of SIZE bytes (meant for a broker that does not
 *       answer, so they stay queued), polls until STOP exists, purges.
 *   statsclient -b B appcb [-i MS] -d SECONDS [-o DIR]
 *       a producer with its own stats callback (and statistics.interval.ms
 *       MS when given) that rd_kafka_polls for SECONDS; each call is
 *       written to DIR/stats-K.json; odd calls keep the JSON (return 1,
 *       freed later with rd_kafka_mem_free). Prints "calls=K opaque_ok=1".
 *   statsclient -b B events [-i MS] -d SECONDS
 *       a producer on the event API (rd_kafka_conf_set_events with STATS)
 *       that polls its main queue for SECONDS; prints "stats_events=K".
 *       Exit 3 when a statistics event came without an interval. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *brokers, *topic = "t", *stop_file, *out_dir;
static int count = 1, consume_n = 1, size = 100, interval_ms = -1;
static double seconds = 2;
static int calls, opaque_ok = 1;
static char *kept[4096];
static int n_kept;
static int opaque_mark;

static void die(const char *what)
{
        fprintf(stderr, "statsclient: %s\n", what);
        exit(2);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stopped(double deadline)
{
        return (stop_file && access(stop_file, F_OK) == 0) ||
               now_s() > deadline;
}

static rd_kafka_conf_t *base_conf(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256], iv[24];

        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err,
                              sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        if (interval_ms >= 0) {
                snprintf(iv, sizeof(iv), "%d", interval_ms);
                if (rd_kafka_conf_set(c, "statistics.interval.ms", iv, err,
                                      sizeof(err)))
                        die(err);
        }
        return c;
}

static int cmd_consume(void)
{
        rd_kafka_conf_t *c = base_conf();
        rd_kafka_topic_partition_list_t *l, *a = NULL;
        double deadline = now_s() + 60;
        char err[256], group[300];
        rd_kafka_t *rk;
        int seen = 0;

        snprintf(group, sizeof(group), "statsclient-%s", topic);
        rd_kafka_conf_set(c, "group.id", group, NULL, 0);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_conf_set(c, "enable.auto.commit", "false", NULL, 0);
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err))))
                die(err);
        rd_kafka_poll_set_consumer(rk);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, l))
                die("subscribe");
        rd_kafka_topic_partition_list_destroy(l);
        while (seen < consume_n && now_s() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (!m->err && seen < consume_n) {
                        seen++;
                        printf("msg partition=%d offset=%lld\n",
                               (int)m->partition, (long long)m->offset);
                }
                rd_kafka_message_destroy(m);
        }
        /* Committed offsets (what consumer_lag counts from), then no more
         * fetching: the rest stays the backlog. */
        if (rd_kafka_commit(rk, NULL, 0))
                die("commit");
        if (rd_kafka_assignment(rk, &a) || rd_kafka_pause_partitions(rk, a))
                die("pause");
        rd_kafka_topic_partition_list_destroy(a);
        printf("committed consumed=%d\n", seen);
        fflush(stdout);
        while (!stopped(deadline)) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

                if (m) {
                        if (!m->err)
                                die("a message after the pause");
                        rd_kafka_message_destroy(m);
                }
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return seen == consume_n ? 0 : 1;
}

static int cmd_produce(void)
{
        rd_kafka_conf_t *c = base_conf();
        double deadline    = now_s() + 60;
        char err[256], *payload = malloc((size_t)size);
        rd_kafka_t *rk;

        if (!payload)
                die("malloc");
        memset(payload, 'x', (size_t)size);
        rd_kafka_conf_set(c, "message.timeout.ms", "0", NULL, 0);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err))))
                die(err);
        for (int i = 0; i < count; i++)
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_VALUE(payload, (size_t)size),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END))
                        die("producev");
        printf("queued=%d\n", count);
        fflush(stdout);
        while (!stopped(deadline))
                rd_kafka_poll(rk, 100);
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 0);
        rd_kafka_destroy(rk);
        free(payload);
        return 0;
}

static int app_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        int k = calls++;

        (void)rk;
        if (opaque != &opaque_mark || strlen(json) != len)
                opaque_ok = 0;
        if (out_dir) {
                char path[512];
                FILE *f;

                snprintf(path, sizeof(path), "%s/stats-%d.json", out_dir, k);
                if ((f = fopen(path, "w"))) {
                        fwrite(json, 1, len, f);
                        fclose(f);
                }
        }
        if (k % 2 && n_kept < (int)(sizeof(kept) / sizeof(*kept))) {
                kept[n_kept++] = json;
                return 1; /* the app keeps it */
        }
        return 0;
}

static int cmd_appcb(void)
{
        rd_kafka_conf_t *c = base_conf();
        double deadline    = now_s() + seconds;
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set_stats_cb(c, app_stats_cb);
        rd_kafka_conf_set_opaque(c, &opaque_mark);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err))))
                die(err);
        while (now_s() < deadline)
                rd_kafka_poll(rk, 50);
        rd_kafka_destroy(rk);
        /* Each kept JSON is still the app's, whole, until freed. */
        for (int i = 0; i < n_kept; i++) {
                size_t n = strlen(kept[i]);

                if (!n || kept[i][0] != '{' || kept[i][n - 1] != '}')
                        opaque_ok = 0;
                rd_kafka_mem_free(NULL, kept[i]);
        }
        printf("calls=%d kept=%d opaque_ok=%d\n", calls, n_kept, opaque_ok);
        return 0;
}

static int cmd_events(void)
{
        rd_kafka_conf_t *c = base_conf();
        double deadline    = now_s() + seconds;
        rd_kafka_queue_t *q;
        char err[256];
        rd_kafka_t *rk;
        int stats = 0;

        rd_kafka_conf_set_events(c,
                                 RD_KAFKA_EVENT_STATS | RD_KAFKA_EVENT_ERROR);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err))))
                die(err);
        q = rd_kafka_queue_get_main(rk);
        while (now_s() < deadline) {
                rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);

                if (!ev)
                        continue;
                if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_STATS) {
                        const char *js = rd_kafka_event_stats(ev);

                        if (!js || js[0] != '{')
                                die("statistics event without JSON");
                        stats++;
                }
                rd_kafka_event_destroy(ev);
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        printf("stats_events=%d\n", stats);
        return interval_ms <= 0 && stats ? 3 : 0;
}

int main(int argc, char **argv)
{
        const char *cmd = NULL;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "-b") && v)
                        brokers = argv[++i];
                else if (!strcmp(a, "-t") && v)
                        topic = argv[++i];
                else if (!strcmp(a, "-n") && v)
                        count = atoi(argv[++i]);
                else if (!strcmp(a, "-c") && v)
                        consume_n = atoi(argv[++i]);
                else if (!strcmp(a, "-s") && v)
                        size = atoi(argv[++i]);
                else if (!strcmp(a, "-i") && v)
                        interval_ms = atoi(argv[++i]);
                else if (!strcmp(a, "-d") && v)
                        seconds = atof(argv[++i]);
                else if (!strcmp(a, "-u") && v)
                        stop_file = argv[++i];
                else if (!strcmp(a, "-o") && v)
                        out_dir = argv[++i];
                else if (a[0] != '-' && !cmd)
                        cmd = a;
                else
                        die("bad arguments");
        }
        if (!brokers || !cmd)
                die("usage: statsclient -b B consume|produce|appcb|events ...");
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!strcmp(cmd, "consume"))
                return cmd_consume();
        if (!strcmp(cmd, "produce"))
                return cmd_produce();
        if (!strcmp(cmd, "appcb"))
                return cmd_appcb();
        if (!strcmp(cmd, "events"))
                return cmd_events();
        die("unknown command");
        return 2;
}
