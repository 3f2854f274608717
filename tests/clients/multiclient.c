/* multiclient: a plain librdkafka program (it knows nothing of kotel)
 * hosting several clients in one process, as a Kafka Connect worker or a
 * stream-processing job runner does:
 *
 *   multiclient -b B -t T -n N [-d CONTEXTS]
 *       producer "orders-svc" (client.id) sends N messages keyed a0..,
 *       producer "billing-svc" sends N keyed b0.., both to T; then a
 *       consumer with group.id "audit-group" and librdkafka's default
 *       client.id reads the 2N back with consumer_poll. Prints "dr" and
 *       "msg" lines (key=K) and "done". -d sets librdkafka's debug
 *       contexts on every client (each then logs its own lines). */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *brokers, *topic, *debug;
static int count = 1;

static void die(const char *what)
{
        fprintf(stderr, "multiclient: %s\n", what);
        exit(2);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        printf("dr key=%.*s err=%s\n", (int)m->key_len,
               m->key ? (const char *)m->key : "", rd_kafka_err2name(m->err));
}

static rd_kafka_conf_t *conf(const char *client_id)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];

        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err,
                              sizeof(err)))
                die(err);
        if (client_id &&
            rd_kafka_conf_set(c, "client.id", client_id, err, sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
        if (debug && rd_kafka_conf_set(c, "debug", debug, err, sizeof(err)))
                die(err);
        return c;
}

static rd_kafka_t *producer(const char *client_id)
{
        rd_kafka_conf_t *c = conf(client_id);
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
        return rk;
}

static void produce(rd_kafka_t *rk, char prefix)
{
        for (int i = 0; i < count; i++) {
                char key[32], val[32];

                snprintf(key, sizeof(key), "%c%d", prefix, i);
                snprintf(val, sizeof(val), "payload-%d", i);
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END))
                        die("producev");
        }
}

static void consume(void)
{
        rd_kafka_conf_t *c = conf(NULL);
        rd_kafka_topic_partition_list_t *t;
        char err[256];
        rd_kafka_t *rk;
        int got = 0;
        time_t until;

        if (rd_kafka_conf_set(c, "group.id", "audit-group", err, sizeof(err)) ||
            rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err,
                              sizeof(err)))
                die(err);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
        if (!rk)
                die(err);
        rd_kafka_poll_set_consumer(rk);
        t = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, t))
                die("subscribe");
        rd_kafka_topic_partition_list_destroy(t);
        until = time(NULL) + 60;
        while (got < 2 * count && time(NULL) < until) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (!m->err) {
                        printf("msg key=%.*s\n", (int)m->key_len,
                               (const char *)m->key);
                        got++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (got < 2 * count)
                die("not every message came back");
}

int main(int argc, char **argv)
{
        rd_kafka_t *a, *b;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "-b"))
                        brokers = argv[i + 1];
                else if (!strcmp(argv[i], "-t"))
                        topic = argv[i + 1];
                else if (!strcmp(argv[i], "-n"))
                        count = atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "-d"))
                        debug = argv[i + 1];
                else
                        die("usage: multiclient -b B -t T -n N [-d CONTEXTS]");
        }
        if (!brokers || !topic || count < 1)
                die("usage: multiclient -b B -t T -n N [-d CONTEXTS]");
        setvbuf(stdout, NULL, _IOLBF, 0);
        a = producer("orders-svc");
        b = producer("billing-svc");
        produce(a, 'a');
        produce(b, 'b');
        if (rd_kafka_flush(a, 30000) || rd_kafka_flush(b, 30000))
                die("flush");
        consume();
        rd_kafka_destroy(a);
        rd_kafka_destroy(b);
        printf("done\n");
        return 0;
}
