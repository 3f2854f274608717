// callsite: what recording the call site (code.* attributes) costs a
// sampled send span, on the producing thread.
//
// Run under LD_PRELOAD=libkotel.so with KOTEL_CODE_ATTRIBUTES=true and then
// false (scripts/bench_callsite.py rotates them): the per-call difference
// is the call site's cost. Two ways of producing:
//   direct  rd_kafka_producev from the program's own code (a C program
//           calling librdkafka's C API): the wrapper's return address is
//           the call site;
//   cpp     RdKafka::Producer::produce (librdkafka++, which calls
//           rd_kafka_producev): libunwind walks past librdkafka++.
// No broker (a closed port): messages queue and are purged every
// PURGE_EVERY calls, outside the timed region.
//
//   callsite direct|cpp CALLS
// prints "result mode=M calls=N p50_ns=.. mean_ns=..".
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define PURGE_EVERY 20000

static inline uint64_t now_ns()
{
        return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

__attribute__((noinline)) static rd_kafka_resp_err_t
produce_direct(rd_kafka_t *rk, const char *val, size_t len)
{
        return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"),
                                 RD_KAFKA_V_VALUE((void *)val, len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END);
}

__attribute__((noinline)) static RdKafka::ErrorCode
produce_cpp(RdKafka::Producer *p, const char *val, size_t len)
{
        return p->produce("bench", RdKafka::Topic::PARTITION_UA,
                          RdKafka::Producer::RK_MSG_COPY, (void *)val, len,
                          NULL, 0, 0, NULL);
}

int main(int argc, char **argv)
{
        if (argc != 3 || (strcmp(argv[1], "direct") && strcmp(argv[1], "cpp"))) {
                fprintf(stderr, "usage: callsite direct|cpp CALLS\n");
                return 2;
        }
        bool cpp = !strcmp(argv[1], "cpp");
        long calls = atol(argv[2]);
        std::string errstr;
        RdKafka::Conf *conf = RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL);
        conf->set("bootstrap.servers", "127.0.0.1:1", errstr);
        conf->set("queue.buffering.max.messages", "1000000", errstr);
        conf->set("log_level", "0", errstr);
        RdKafka::Producer *p = RdKafka::Producer::create(conf, errstr);
        if (!p) {
                fprintf(stderr, "create: %s\n", errstr.c_str());
                return 1;
        }
        rd_kafka_t *rk = p->c_ptr();
        std::vector<uint32_t> t;
        t.reserve((size_t)calls);
        char val[100];
        memset(val, 'v', sizeof(val));
        for (long i = 0; i < calls; i++) {
                if (i && i % PURGE_EVERY == 0)
                        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
                uint64_t a = now_ns();
                bool ok = cpp ? produce_cpp(p, val, sizeof(val)) ==
                                    RdKafka::ERR_NO_ERROR
                              : produce_direct(rk, val, sizeof(val)) ==
                                    RD_KAFKA_RESP_ERR_NO_ERROR;
                uint64_t b = now_ns();
                if (!ok) {
                        fprintf(stderr, "produce failed at %ld\n", i);
                        return 1;
                }
                t.push_back((uint32_t)(b - a));
        }
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
        double sum = 0;
        for (uint32_t x : t)
                sum += x;
        std::vector<uint32_t> s = t;
        std::nth_element(s.begin(), s.begin() + (long)s.size() / 2, s.end());
        printf("result mode=%s calls=%ld p50_ns=%u mean_ns=%.1f\n", argv[1],
               calls, s[s.size() / 2], sum / (double)t.size());
        delete p;
        delete conf;
        return 0;
}
