/* exitclient: a librdkafka producer for the exit and destroy tests (it
 * knows nothing of kotel).
 *
 *   exitclient -b BOOTSTRAP -t TOPIC sigexit
 *       produce flat out (producev, no flush) until SIGTERM, whose handler
 *       calls exit(0); prints "producing" once the first messages are in
 *   exitclient -b BOOTSTRAP -t TOPIC -n COUNT [-H] unacked destroy|exit
 *       queue COUNT messages to a broker that never answers, print
 *       "queued", then either time rd_kafka_destroy() without a flush
 *       ("destroy_ms=<ms>") and return, or return from main with the
 *       producer still alive ("exit_at_ns=<CLOCK_MONOTONIC ns>", so the
 *       caller can time the exit itself); -H gives every message a
 *       traceparent header of its own, as kotel would (the benchmark's
 *       baseline without kotel does the same librdkafka work)
 *
 * Exit code 0 unless something failed ("fail ..." on stdout). */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *brokers, *topic = "t";
static long count = 1;
static int with_header;

#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static rd_kafka_t *producer(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set(c, "bootstrap.servers", brokers, NULL, 0);
        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        /* Room for every message: never a QUEUE_FULL. */
        rd_kafka_conf_set(c, "queue.buffering.max.messages", "10000000", NULL,
                          0);
        rd_kafka_conf_set(c, "queue.buffering.max.kbytes", "2097151", NULL, 0);
        rd_kafka_conf_set(c, "message.timeout.ms", "600000", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk) {
                printf("fail rd_kafka_new: %s\n", err);
                exit(1);
        }
        return rk;
}

static int produce_one(rd_kafka_t *rk, long i)
{
        char key[32];

        snprintf(key, sizeof(key), "k%ld", i);
        if (with_header)
                return rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE("v", 1),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADER("traceparent", TRACEPARENT, -1),
                    RD_KAFKA_V_END);
        return rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
}

static void on_term(int sig)
{
        (void)sig;
        exit(0); /* not async-signal-safe, but programs do it */
}

static _Noreturn void cmd_sigexit(void)
{
        rd_kafka_t *rk = producer();

        signal(SIGTERM, on_term);
        for (long i = 0;; i++) {
                if (produce_one(rk, i))
                        rd_kafka_poll(rk, 0);
                if (i == 1000) {
                        printf("producing\n");
                        fflush(stdout);
                }
                if (i % 1000 == 0)
                        rd_kafka_poll(rk, 0);
        }
}

static int cmd_unacked(const char *how)
{
        rd_kafka_t *rk = producer();
        uint64_t t0;

        for (long i = 0; i < count; i++)
                if (produce_one(rk, i)) {
                        printf("fail produce %ld\n", i);
                        return 1;
                }
        printf("queued %ld\n", count);
        fflush(stdout);
        if (!strcmp(how, "destroy")) {
                t0 = mono_ns();
                rd_kafka_destroy(rk);
                printf("destroy_ms=%.1f\n", (double)(mono_ns() - t0) / 1e6);
        } else {
                printf("exit_at_ns=%llu\n", (unsigned long long)mono_ns());
        }
        fflush(stdout);
        return 0;
}

int main(int argc, char **argv)
{
        const char *cmd = NULL, *how = NULL;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "-b") && v)
                        brokers = argv[++i];
                else if (!strcmp(a, "-t") && v)
                        topic = argv[++i];
                else if (!strcmp(a, "-n") && v)
                        count = atol(argv[++i]);
                else if (!strcmp(a, "-H"))
                        with_header = 1;
                else if (!cmd)
                        cmd = a;
                else if (!how)
                        how = a;
        }
        if (!brokers || !cmd) {
                fprintf(stderr, "usage: exitclient -b BROKERS [-t TOPIC] "
                                "[-n COUNT] sigexit|unacked destroy|exit\n");
                return 2;
        }
        if (!strcmp(cmd, "sigexit"))
                cmd_sigexit();
        if (!strcmp(cmd, "unacked") && how &&
            (!strcmp(how, "destroy") || !strcmp(how, "exit")))
                return cmd_unacked(how);
        fprintf(stderr, "unknown command\n");
        return 2;
}
