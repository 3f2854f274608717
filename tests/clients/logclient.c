/* logclient: an ordinary librdkafka program (it knows nothing of kotel)
 * whose log and error callbacks the log tests count, run with and without
 * kotel.
 *
 *   logclient -b BOOTSTRAP [--log-cb] [--error-cb] [--log-queue]
 *             [-X key=value]... MODE
 *     --log-cb:   a log_cb printing "log LEVEL FAC|LINE" (stdout)
 *     --error-cb: an error_cb printing "error NAME|REASON"
 *     --log-queue: log.queue=true and rd_kafka_set_log_queue(main queue):
 *                 lines are served by rd_kafka_poll on this thread
 *     -X: any configuration property (applied in order)
 *   MODE:
 *     conf    create a producer, poll once, destroy it
 *     dead    produce one message to topic "t" and poll until its delivery
 *             report ("dr NAME"); BOOTSTRAP is where nothing listens
 *     group   consume topic "t" in group "logs" until one message arrives
 *             (the test produced it), then close
 *     inspan DEAD   consume one message of topic "t", and while processing
 *             it poll a second producer whose bootstrap is DEAD (nothing
 *             listens) until its error callback has fired ("inspan done")
 *
 * Each callback line is printed as it comes (a mutex keeps lines whole),
 * stdout flushed at exit. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int want_log_cb, want_error_cb, log_queue;
static const char *sets[64];
static int n_sets;
static volatile int errors_seen, dr_done;

static void die(const char *what)
{
        fprintf(stderr, "logclient: %s\n", what);
        exit(2);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        (void)rk;
        pthread_mutex_lock(&out_lock);
        printf("log %d %s|%s\n", level, fac, buf);
        pthread_mutex_unlock(&out_lock);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *op)
{
        (void)rk, (void)op;
        pthread_mutex_lock(&out_lock);
        printf("error %s|%s\n", rd_kafka_err2name(err), reason);
        errors_seen++;
        pthread_mutex_unlock(&out_lock);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        (void)rk, (void)op;
        pthread_mutex_lock(&out_lock);
        printf("dr %s\n", rd_kafka_err2name(m->err));
        dr_done = 1;
        pthread_mutex_unlock(&out_lock);
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
        char err[512];

        if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
                die(err);
}

static rd_kafka_conf_t *make_conf(const char *bootstrap)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();

        set(c, "bootstrap.servers", bootstrap);
        if (want_log_cb)
                rd_kafka_conf_set_log_cb(c, on_log);
        if (want_error_cb)
                rd_kafka_conf_set_error_cb(c, on_error);
        if (log_queue)
                set(c, "log.queue", "true");
        for (int i = 0; i < n_sets; i++) {
                char kv[512], *eq;

                snprintf(kv, sizeof(kv), "%s", sets[i]);
                if (!(eq = strchr(kv, '=')))
                        die("-X wants key=value");
                *eq = '\0';
                set(c, kv, eq + 1);
        }
        return c;
}

static rd_kafka_t *make(rd_kafka_type_t type, rd_kafka_conf_t *c)
{
        char err[512];
        rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));

        if (!rk)
                die(err);
        if (log_queue) {
                rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);

                rd_kafka_set_log_queue(rk, q);
                rd_kafka_queue_destroy(q);
        }
        return rk;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mode_dead(const char *bootstrap)
{
        rd_kafka_conf_t *c = make_conf(bootstrap);
        rd_kafka_t *rk;
        double end;

        rd_kafka_conf_set_dr_msg_cb(c, on_dr);
        rk = make(RD_KAFKA_PRODUCER, c);
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
                              RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END))
                die("producev");
        end = now_s() + 60;
        while (!dr_done && now_s() < end)
                rd_kafka_poll(rk, 100);
        /* A few more polls: errors raised meanwhile are served. */
        for (int i = 0; i < 5; i++)
                rd_kafka_poll(rk, 100);
        rd_kafka_destroy(rk);
        return dr_done ? 0 : 1;
}

static int mode_conf(const char *bootstrap)
{
        rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, make_conf(bootstrap));

        rd_kafka_poll(rk, 0);
        rd_kafka_destroy(rk);
        return 0;
}

static rd_kafka_t *subscribe(const char *bootstrap)
{
        rd_kafka_conf_t *c = make_conf(bootstrap);
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_t *rk;

        set(c, "group.id", "logs");
        set(c, "auto.offset.reset", "earliest");
        rk = make(RD_KAFKA_CONSUMER, c);
        rd_kafka_poll_set_consumer(rk);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, "t", RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, l))
                die("subscribe");
        rd_kafka_topic_partition_list_destroy(l);
        return rk;
}

static rd_kafka_message_t *one_message(rd_kafka_t *rk)
{
        double end = now_s() + 60;

        while (now_s() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (!m->err)
                        return m;
                rd_kafka_message_destroy(m);
        }
        return NULL;
}

static int mode_group(const char *bootstrap)
{
        rd_kafka_t *rk         = subscribe(bootstrap);
        rd_kafka_message_t *m = one_message(rk);

        pthread_mutex_lock(&out_lock);
        printf("group %s\n", m ? "message" : "nothing");
        pthread_mutex_unlock(&out_lock);
        if (m)
                rd_kafka_message_destroy(m);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return m ? 0 : 1;
}

static int mode_inspan(const char *bootstrap, const char *dead)
{
        rd_kafka_t *rk = subscribe(bootstrap), *p;
        rd_kafka_message_t *m = one_message(rk);
        double end;

        if (!m)
                die("no message");
        /* Processing the message: the process span is current here. */
        p   = make(RD_KAFKA_PRODUCER, make_conf(dead));
        end = now_s() + 60;
        while (!errors_seen && now_s() < end)
                rd_kafka_poll(p, 100);
        pthread_mutex_lock(&out_lock);
        printf("inspan %s\n", errors_seen ? "done" : "no error");
        pthread_mutex_unlock(&out_lock);
        rd_kafka_destroy(p);
        rd_kafka_message_destroy(m);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return errors_seen ? 0 : 1;
}

int main(int argc, char **argv)
{
        const char *bootstrap = NULL;
        int i, rc;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-b") && i + 1 < argc)
                        bootstrap = argv[++i];
                else if (!strcmp(argv[i], "-X") && i + 1 < argc && n_sets < 64)
                        sets[n_sets++] = argv[++i];
                else if (!strcmp(argv[i], "--log-cb"))
                        want_log_cb = 1;
                else if (!strcmp(argv[i], "--error-cb"))
                        want_error_cb = 1;
                else if (!strcmp(argv[i], "--log-queue"))
                        log_queue = 1;
                else
                        die("unknown option");
        }
        if (!bootstrap || i >= argc)
                die("usage: logclient -b BOOTSTRAP [options] MODE");
        if (!strcmp(argv[i], "conf"))
                rc = mode_conf(bootstrap);
        else if (!strcmp(argv[i], "dead"))
                rc = mode_dead(bootstrap);
        else if (!strcmp(argv[i], "group"))
                rc = mode_group(bootstrap);
        else if (!strcmp(argv[i], "inspan") && i + 1 < argc)
                rc = mode_inspan(bootstrap, argv[i + 1]);
        else
                die("unknown mode");
        fflush(stdout);
        return rc;
}
