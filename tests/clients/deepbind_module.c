/* deepbind_module.so: a plugin that uses librdkafka (linked against it),
 * for deepbind_host to load with RTLD_DEEPBIND as PHP loads its
 * extensions. It knows nothing of kotel, and does what kclient does with
 * the same configuration (produce -a producev, then consume -a poll), so
 * the two can be compared span for span. Prints kclient's lines. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int delivered;

static const char *traceparent(const rd_kafka_message_t *m, size_t *len)
{
        rd_kafka_headers_t *h = NULL;
        const void *v         = NULL;

        *len = 0;
        if (rd_kafka_message_headers(m, &h) == 0)
                rd_kafka_header_get_last(h, "traceparent", &v, len);
        return v ? (const char *)v : "-";
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        size_t len;
        const char *tp = traceparent(m, &len);

        (void)rk;
        (void)opaque;
        if (!m->err)
                delivered++;
        printf("dr key=%.*s err=%s partition=%d offset=%lld traceparent=%.*s\n",
               (int)m->key_len, (const char *)m->key, rd_kafka_err2name(m->err),
               (int)m->partition, (long long)m->offset, (int)(len ? len : 1), tp);
}

static rd_kafka_conf_t *base_conf(const char *brokers)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();

        rd_kafka_conf_set(c, "bootstrap.servers", brokers, NULL, 0);
        rd_kafka_conf_set(c, "client.id", "kclient", NULL, 0);
        rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
        return c;
}

int module_run(const char *brokers, const char *topic, int count)
{
        rd_kafka_conf_t *c = base_conf(brokers);
        rd_kafka_topic_partition_list_t *l;
        char err[256], key[16], val[32];
        rd_kafka_t *rk;
        time_t deadline;
        int seen = 0;

        rd_kafka_conf_set(c, "linger.ms", "5", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err))))
                return printf("fail %s\n", err), 1;
        for (int i = 0; i < count; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                snprintf(val, sizeof(val), "payload-%d", i);
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_END))
                        return printf("fail producev\n"), 1;
        }
        rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);
        printf("delivered=%d\n", delivered);

        c = base_conf(brokers);
        rd_kafka_conf_set(c, "group.id", "kclient", NULL, 0);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_conf_set(c, "enable.partition.eof", "false", NULL, 0);
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err))))
                return printf("fail %s\n", err), 1;
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        deadline = time(NULL) + 30;
        while (seen < count && time(NULL) < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
                size_t len;
                const char *tp;

                if (!m)
                        continue;
                if (!m->err) {
                        tp = traceparent(m, &len);
                        printf("msg key=%.*s partition=%d offset=%lld traceparent=%.*s\n",
                               (int)m->key_len, (const char *)m->key,
                               (int)m->partition, (long long)m->offset,
                               (int)(len ? len : 1), tp);
                        seen++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        printf("consumed=%d\n", seen);
        fflush(stdout);
        return delivered == count && seen == count ? 0 : 1;
}
