/* commitclient: an ordinary librdkafka consumer (it knows nothing of kotel)
 * that commits offsets in one of several ways, against a mock cluster of
 * its own (in-process, so that it can inject OffsetCommit errors).
 *
 *   commitclient MODE
 *       sync        rd_kafka_commit_message(m, sync) for each message
 *       async       rd_kafka_commit_message(m, async) for each message
 *       commit      rd_kafka_commit(NULL, sync) after the last message
 *       list        rd_kafka_commit(list of two topics, sync), then checks
 *                   that the list is unchanged
 *       queue       rd_kafka_commit_queue(NULL, no queue: sync, with cb)
 *       queueasync  rd_kafka_commit_queue(list, a queue, no cb), then polls
 *                   that queue for the OFFSET_COMMIT event
 *       auto        enable.auto.commit=true, waits for an automatic commit
 *       fail        the broker answers the next OffsetCommit with
 *                   OFFSET_METADATA_TOO_LARGE; rd_kafka_commit(NULL, sync)
 *       nogroup     a consumer without group.id: rd_kafka_commit(list)
 *       revoke      rd_kafka_commit(NULL, sync) in the rebalance callback
 *                   when close revokes the partitions
 *
 * Messages: orders[0] k0 k1, orders[1] k2, audit[0] k3 (one each per
 * produce, explicit partitions). Prints what the app sees, in order:
 * "msg ...", "commit ... err=E", "cb err=E offsets=t:p@o,...",
 * "qcb ...", "event ...", then "done". Exit 2 on a setup failure. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_MSGS 4
#define API_OFFSET_COMMIT 8

static const char *mode;
static int cbs; /* offset_commit_cb calls with offsets */

static void die(const char *what)
{
        fprintf(stderr, "commitclient: %s\n", what);
        exit(2);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_list(const char *what, rd_kafka_resp_err_t err,
                       const rd_kafka_topic_partition_list_t *l)
{
        printf("%s err=%s offsets=", what, rd_kafka_err2name(err));
        for (int i = 0; l && i < l->cnt; i++)
                printf("%s%s:%d@%lld", i ? "," : "", l->elems[i].topic,
                       (int)l->elems[i].partition,
                       (long long)l->elems[i].offset);
        printf("\n");
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        (void)rk, (void)opaque;
        if (offsets && offsets->cnt)
                cbs++;
        print_list("cb", err, offsets);
}

static void queue_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        (void)rk;
        printf("qcb opaque=%s ", (const char *)opaque);
        print_list("qcb", err, offsets);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        (void)opaque;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rd_kafka_assign(rk, parts);
                return;
        }
        print_list("revoke commit", rd_kafka_commit(rk, NULL, 0), NULL);
        rd_kafka_assign(rk, NULL);
}

static rd_kafka_conf_t *conf_for(const char *bootstrap)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];

        if (rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err,
                              sizeof(err)) ||
            rd_kafka_conf_set(c, "client.id", "commitclient", err, sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "log_level", "2", NULL, 0);
        return c;
}

static void produce_all(rd_kafka_t *p)
{
        static const struct {
                const char *topic;
                int partition;
        } where[N_MSGS] = {
            {"orders", 0}, {"orders", 0}, {"orders", 1}, {"audit", 0}};

        for (int i = 0; i < N_MSGS; i++) {
                char key[8], val[16];

                snprintf(key, sizeof(key), "k%d", i);
                snprintf(val, sizeof(val), "payload-%d", i);
                if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(where[i].topic),
                                      RD_KAFKA_V_PARTITION(where[i].partition),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END))
                        die("produce");
        }
        if (rd_kafka_flush(p, 30000))
                die("flush");
}

static rd_kafka_topic_partition_list_t *two_topics(void)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(3);

        rd_kafka_topic_partition_list_add(l, "orders", 0)->offset = 2;
        rd_kafka_topic_partition_list_add(l, "orders", 1)->offset = 1;
        rd_kafka_topic_partition_list_add(l, "audit", 0)->offset  = 1;
        return l;
}

/* Polls @rk until @want offset_commit_cb calls were served (or 30 s). */
static void serve_cbs(rd_kafka_t *rk, int want)
{
        double end = now_s() + 30;

        while (cbs < want && now_s() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

                if (m)
                        rd_kafka_message_destroy(m);
        }
}

static void nogroup(const char *bootstrap)
{
        rd_kafka_conf_t *c                 = conf_for(bootstrap);
        rd_kafka_topic_partition_list_t *l = two_topics();
        char err[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));

        if (!rk)
                die(err);
        print_list("commit list", rd_kafka_commit(rk, l, 0), NULL);
        print_list("commit list async", rd_kafka_commit(rk, l, 1), NULL);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
}

int main(int argc, char **argv)
{
        rd_kafka_topic_partition_list_t *sub;
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_conf_t *c;
        rd_kafka_message_t *last = NULL;
        rd_kafka_t *p, *rk;
        char err[256], bootstrap[256];
        int got = 0;
        double end;

        if (argc != 2)
                die("usage: commitclient MODE");
        mode = argv[1];
        setvbuf(stdout, NULL, _IOLBF, 0);
        c = rd_kafka_conf_new();
        rd_kafka_conf_set(c, "log_level", "2", NULL, 0);
        if (!(p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err))))
                die(err);
        if (!(mc = rd_kafka_mock_cluster_new(p, 1)))
                die("mock cluster");
        if (rd_kafka_mock_topic_create(mc, "orders", 2, 1) ||
            rd_kafka_mock_topic_create(mc, "audit", 1, 1))
                die("topics");
        snprintf(bootstrap, sizeof(bootstrap), "%s",
                 rd_kafka_mock_cluster_bootstraps(mc));
        {
                rd_kafka_conf_t *pc = conf_for(bootstrap);
                rd_kafka_t *prod =
                    rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));

                if (!prod)
                        die(err);
                produce_all(prod);
                rd_kafka_destroy(prod);
        }
        if (!strcmp(mode, "nogroup")) {
                nogroup(bootstrap);
                goto out;
        }

        c = conf_for(bootstrap);
        rd_kafka_conf_set(c, "group.id", "cg", NULL, 0);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_conf_set(c, "enable.auto.commit",
                          strcmp(mode, "auto") ? "false" : "true", NULL, 0);
        rd_kafka_conf_set(c, "auto.commit.interval.ms", "200", NULL, 0);
        rd_kafka_conf_set_offset_commit_cb(c, commit_cb);
        if (!strcmp(mode, "revoke"))
                rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err))))
                die(err);
        rd_kafka_poll_set_consumer(rk);
        sub = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(sub, "orders", RD_KAFKA_PARTITION_UA);
        rd_kafka_topic_partition_list_add(sub, "audit", RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, sub))
                die("subscribe");
        rd_kafka_topic_partition_list_destroy(sub);

        end = now_s() + 60;
        while (got < N_MSGS && now_s() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                got++;
                fprintf(stderr, "msg %s[%d]@%lld\n",
                        rd_kafka_topic_name(m->rkt), (int)m->partition,
                        (long long)m->offset);
                if (!strcmp(mode, "sync") || !strcmp(mode, "async")) {
                        rd_kafka_resp_err_t e = rd_kafka_commit_message(
                            rk, m, !strcmp(mode, "async"));

                        printf("commit_message %s[%d]@%lld err=%s\n",
                               rd_kafka_topic_name(m->rkt), (int)m->partition,
                               (long long)m->offset, rd_kafka_err2name(e));
                }
                /* The last message stays live (and current) for the
                 * commit that follows the loop. */
                if (got < N_MSGS)
                        rd_kafka_message_destroy(m);
                else
                        last = m;
        }
        if (got < N_MSGS)
                die("messages did not arrive");

        if (!strcmp(mode, "async")) {
                serve_cbs(rk, N_MSGS);
        } else if (!strcmp(mode, "commit")) {
                print_list("commit", rd_kafka_commit(rk, NULL, 0), NULL);
        } else if (!strcmp(mode, "list")) {
                rd_kafka_topic_partition_list_t *l = two_topics();

                print_list("commit list", rd_kafka_commit(rk, l, 0), NULL);
                print_list("list after", RD_KAFKA_RESP_ERR_NO_ERROR, l);
                rd_kafka_topic_partition_list_destroy(l);
        } else if (!strcmp(mode, "queue")) {
                print_list("commit_queue",
                           rd_kafka_commit_queue(rk, NULL, NULL, queue_cb,
                                                 (void *)"q1"),
                           NULL);
        } else if (!strcmp(mode, "queueasync")) {
                rd_kafka_topic_partition_list_t *l = two_topics();
                rd_kafka_queue_t *q                = rd_kafka_queue_new(rk);
                rd_kafka_event_t *ev;

                print_list("commit_queue async",
                           rd_kafka_commit_queue(rk, l, q, NULL, NULL), NULL);
                ev = rd_kafka_queue_poll(q, 30000);
                if (!ev)
                        die("no commit event");
                printf("event %s ", rd_kafka_event_name(ev));
                print_list("event", rd_kafka_event_error(ev),
                           rd_kafka_event_topic_partition_list(ev));
                rd_kafka_event_destroy(ev);
                rd_kafka_queue_destroy(q);
                rd_kafka_topic_partition_list_destroy(l);
        } else if (!strcmp(mode, "auto")) {
                serve_cbs(rk, 1);
                printf("auto commits served=%d\n", cbs > 0);
        } else if (!strcmp(mode, "fail")) {
                rd_kafka_mock_push_request_errors(
                    mc, API_OFFSET_COMMIT, 1,
                    RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);
                print_list("commit", rd_kafka_commit(rk, NULL, 0), NULL);
        } else if (strcmp(mode, "sync") && strcmp(mode, "revoke")) {
                die("unknown mode");
        }
        if (last)
                rd_kafka_message_destroy(last);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
out:
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(p);
        printf("done\n");
        return 0;
}
