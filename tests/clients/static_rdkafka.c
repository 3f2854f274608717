/* static_rdkafka: a librdkafka producer with librdkafka linked in
 * statically (librdkafka.a), as Go's and Rust's default builds are: no
 * librdkafka.so among its libraries, so LD_PRELOAD cannot reach it. For
 * kotel-run --check (tests/integration/test_kotel_run.py).
 *
 *   static_rdkafka BOOTSTRAP TOPIC    produces one message, flushes */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];
        rd_kafka_t *rk;

        if (argc != 3)
                return 2;
        rd_kafka_conf_set(c, "bootstrap.servers", argv[1], NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk) {
                printf("fail %s\n", err);
                return 1;
        }
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]),
                          RD_KAFKA_V_VALUE("static", 6), RD_KAFKA_V_END);
        printf("left=%d version=%s\n", rd_kafka_flush(rk, 10000) ? 1 : 0,
               rd_kafka_version_str());
        rd_kafka_destroy(rk);
        return 0;
}
