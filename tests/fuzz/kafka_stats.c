/* kotel_kafka_stats_parse: librdkafka's statistics JSON as the stats
 * callback hands it over, any bytes, not NUL-terminated. On success every
 * kept value is one the gauges may export (a name, lags >= 0, partitions
 * >= 0, a topic per lag, hosts, ports in 0..65535, round trips >= 0); on
 * failure nothing is kept. And a statistics object built here from the
 * input (a lag from the first 8 bytes, the rest as an escaped topic name)
 * parses back to that lag and topic. */
#include <inttypes.h>

#include "exporter/kafka_stats.h"
#include "fuzz.h"

static void round_trip(const uint8_t *data, size_t size)
{
        struct kotel_kstats_snap s;
        uint64_t raw;
        int64_t lag;
        char *body = malloc(160 + 2 * size), want[4096];
        size_t o, w = 0;

        memcpy(&raw, data, 8);
        lag = (int64_t)(raw >> 1);
        o   = (size_t)sprintf(body, "{\"name\":\"c#consumer-1\",\"type\":"
                                      "\"consumer\",\"topics\":{\"");
        for (size_t i = 8; i < size && w + 1 < sizeof(want); i++) {
                char c =
                    data[i] < 0x20 || data[i] >= 0x7f ? '_' : (char)data[i];

                if (c == '"' || c == '\\')
                        body[o++] = '\\';
                body[o++] = c;
                want[w++] = c;
        }
        want[w] = '\0';
        o += (size_t)sprintf(body + o,
                             "\":{\"partitions\":{\"0\":{\"partition\":7,"
                             "\"consumer_lag\":%" PRId64 "}}}}}",
                             lag);
        FUZZ_ASSERT(kotel_kafka_stats_parse(body, o, &s) == 0);
        FUZZ_ASSERT(s.n_lags == 1 && s.lags[0].lag == lag &&
                    s.lags[0].partition == 7 && !strcmp(s.lags[0].topic, want));
        kotel_kafka_stats_snap_free(&s);
        free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kotel_kstats_snap s;
        char *copy = malloc(size ? size : 1);

        memcpy(copy, data, size);
        if (kotel_kafka_stats_parse(copy, size, &s) == 0) {
                FUZZ_ASSERT(s.name);
                FUZZ_ASSERT(!s.producer || (!s.n_lags));
                for (size_t i = 0; i < s.n_lags; i++)
                        FUZZ_ASSERT(s.lags[i].topic && s.lags[i].lag >= 0 &&
                                    s.lags[i].partition >= 0);
                for (size_t i = 0; i < s.n_brokers; i++)
                        FUZZ_ASSERT(s.brokers[i].host &&
                                    s.brokers[i].port >= 0 &&
                                    s.brokers[i].port < 65536 &&
                                    s.brokers[i].rtt_avg_s >= 0);
        } else {
                FUZZ_ASSERT(!s.name && !s.n_lags && !s.n_brokers && !s.lags &&
                            !s.brokers);
        }
        kotel_kafka_stats_snap_free(&s);
        free(copy);
        if (size >= 8)
                round_trip(data, size);
        return 0;
}
