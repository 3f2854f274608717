/* A local Kafka broker for tests and the demo: librdkafka's mock cluster,
 * which speaks the real protocol on 127.0.0.1. Prints the bootstrap
 * address on its first line, then runs until SIGTERM/SIGINT or until its
 * standard input closes (so it never outlives the harness that started
 * it).
 *
 *   mockbroker [-b brokers] [-t topic:partitions]...
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        int brokers = 1;
        rd_kafka_t *rk;
        sigset_t set;
        int opt;

        while ((opt = getopt(argc, argv, "b:t:")) != -1)
                if (opt == 'b')
                        brokers = atoi(optarg);
        rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mockbroker: %s\n", errstr);
                return 1;
        }
        mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) {
                fprintf(stderr, "mockbroker: cannot create the mock cluster\n");
                return 1;
        }
        optind = 1;
        while ((opt = getopt(argc, argv, "b:t:")) != -1) {
                char *colon;
                int parts = 1;

                if (opt != 't')
                        continue;
                colon = strchr(optarg, ':');
                if (colon) {
                        *colon = '\0';
                        parts  = atoi(colon + 1);
                }
                if (rd_kafka_mock_topic_create(mc, optarg, parts, 1)) {
                        fprintf(stderr, "mockbroker: cannot create %s\n", optarg);
                        return 1;
                }
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        for (;;) {
                struct timespec ts = {0, 200 * 1000 * 1000};
                struct pollfd pfd  = {.fd = 0, .events = POLLIN};
                char buf[256];

                if (sigtimedwait(&set, NULL, &ts) > 0)
                        break;
                if (poll(&pfd, 1, 0) > 0 &&
                    ((pfd.revents & (POLLHUP | POLLERR)) ||
                     ((pfd.revents & POLLIN) && read(0, buf, sizeof(buf)) <= 0)))
                        break;
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
