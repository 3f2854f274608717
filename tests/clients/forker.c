/* forker: a librdkafka program that forks, for the exporter's fork and
 * lifecycle tests under LD_PRELOAD (it knows nothing of kotel).
 *
 *   forker -b BOOTSTRAP -t TOPIC -n COUNT [-c CHILDREN] [-s SLEEP_MS] MODE
 *     produce   produce COUNT messages and exit
 *     hold      produce COUNT, print "ready", wait for stdin to close
 *     fork      produce COUNT (the parent's backlog), sleep SLEEP_MS, fork
 *               CHILDREN children that each produce COUNT with their own
 *               producer and exit(0); wait for them; produce COUNT more
 *     forkidle  produce COUNT, fork a child that never touches librdkafka
 *               and calls exit(3); exit with the child's status
 *     exec      produce COUNT, fork, the child execs "forker ... produce"
 *
 * Message keys are "<pid>-<i>", so tests can tell who produced what. Every
 * process prints "pid=<pid> role=<parent|child>" and "fail ..." lines on
 * errors; the exit code is 0 unless something failed. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *brokers, *topic = "t";
static int count = 1, children = 1, sleep_ms;

static int produce(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256], key[64];
        rd_kafka_t *rk;
        int bad = 0;

        rd_kafka_conf_set(c, "bootstrap.servers", brokers, NULL, 0);
        rd_kafka_conf_set(c, "linger.ms", "5", NULL, 0);
        rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk) {
                printf("fail rd_kafka_new: %s\n", err);
                return 1;
        }
        for (int i = 0; i < count; i++) {
                snprintf(key, sizeof(key), "%d-%d", (int)getpid(), i);
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END)) {
                        printf("fail produce\n");
                        bad = 1;
                }
        }
        if (rd_kafka_flush(rk, 30000)) {
                printf("fail flush\n");
                bad = 1;
        }
        rd_kafka_destroy(rk);
        return bad;
}

static int wait_child(pid_t pid)
{
        int st;

        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_fork(void)
{
        pid_t pids[64];
        int bad = produce();
        struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
        for (int i = 0; i < children && i < 64; i++) {
                fflush(stdout);
                pids[i] = fork();
                if (pids[i] == 0) {
                        printf("pid=%d role=child\n", (int)getpid());
                        exit(produce());
                }
        }
        for (int i = 0; i < children && i < 64; i++) {
                int rc = wait_child(pids[i]);
                if (rc) {
                        printf("fail child %d exited %d\n", (int)pids[i], rc);
                        bad = 1;
                }
        }
        return bad | produce();
}

static int do_exec(char **argv)
{
        pid_t pid;
        char n[16];
        int bad = produce();

        snprintf(n, sizeof(n), "%d", count);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                execl(argv[0], argv[0], "-b", brokers, "-t", topic, "-n", n,
                      "produce", (char *)NULL);
                _exit(127);
        }
        if (wait_child(pid)) {
                printf("fail exec'd child\n");
                bad = 1;
        }
        return bad;
}

int main(int argc, char **argv)
{
        int opt, bad;
        const char *mode;
        char buf[64];

        setvbuf(stdout, NULL, _IOLBF, 0);
        while ((opt = getopt(argc, argv, "b:t:n:c:s:")) != -1) {
                switch (opt) {
                case 'b': brokers = optarg; break;
                case 't': topic = optarg; break;
                case 'n': count = atoi(optarg); break;
                case 'c': children = atoi(optarg); break;
                case 's': sleep_ms = atoi(optarg); break;
                default: return 2;
                }
        }
        if (!brokers || optind >= argc)
                return 2;
        mode = argv[optind];
        printf("pid=%d role=parent\n", (int)getpid());
        if (!strcmp(mode, "produce"))
                return produce();
        if (!strcmp(mode, "hold")) {
                bad = produce();
                printf("ready\n");
                while (fgets(buf, sizeof(buf), stdin))
                        ;
                return bad;
        }
        if (!strcmp(mode, "fork"))
                return do_fork();
        if (!strcmp(mode, "exec"))
                return do_exec(argv);
        if (!strcmp(mode, "forkidle")) {
                pid_t pid;

                bad = produce();
                fflush(stdout);
                pid = fork();
                if (pid == 0)
                        exit(3);
                return bad ? 1 : wait_child(pid);
        }
        return 2;
}
