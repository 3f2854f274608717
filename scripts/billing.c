/* billing: the demo's last service. An ordinary librdkafka consumer-group
 * program that knows nothing of kotel: it reads enriched orders and "bills"
 * each one, printing a line per invoice, until SIGINT or SIGTERM; then it
 * leaves the group and exits 0.
 *
 *   billing -b BOOTSTRAP -t TOPIC [-g GROUP]
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t running = 1;

static void stop(int sig)
{
        running = 0;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char err[256];

        if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "billing: %s\n", err);
                exit(2);
        }
}

static void bill(const rd_kafka_message_t *m)
{
        printf("billing: invoiced order %.*s from %s [%d] at offset %lld: "
               "%.*s\n",
               (int)m->key_len, m->key ? (const char *)m->key : "",
               rd_kafka_topic_name(m->rkt), (int)m->partition,
               (long long)m->offset, (int)m->len,
               m->payload ? (const char *)m->payload : "");
        fflush(stdout);
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = NULL, *group = "billing";
        rd_kafka_topic_partition_list_t *topics;
        struct sigaction sa = {.sa_handler = stop};
        rd_kafka_conf_t *conf;
        rd_kafka_resp_err_t err;
        char errstr[512];
        rd_kafka_t *rk;
        int opt;

        while ((opt = getopt(argc, argv, "b:t:g:")) != -1) {
                if (opt == 'b')
                        brokers = optarg;
                else if (opt == 't')
                        topic = optarg;
                else if (opt == 'g')
                        group = optarg;
                else
                        break;
        }
        if (!brokers || !topic) {
                fprintf(stderr, "usage: billing -b BOOTSTRAP -t TOPIC "
                                "[-g GROUP]\n");
                return 2;
        }
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", brokers);
        set(conf, "group.id", group);
        set(conf, "client.id", "billing");
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "log_level", "3");
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "billing: %s\n", errstr);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                fprintf(stderr, "billing: subscribe: %s\n",
                        rd_kafka_err2str(err));
                rd_kafka_destroy(rk);
                return 1;
        }

        while (running) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (m->err)
                        fprintf(stderr, "billing: %s\n",
                                rd_kafka_message_errstr(m));
                else
                        bill(m);
                rd_kafka_message_destroy(m);
        }

        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}
