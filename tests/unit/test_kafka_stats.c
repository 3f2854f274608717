/* librdkafka's statistics JSON as kotel reads it (exporter/kafka_stats.c):
 * the fields the gauges take from a consumer's and a producer's
 * statistics (the JSON below is cut down from ones librdkafka 2.0.2 wrote
 * here against the mock cluster), what is left out (the unassigned
 * partition, unknown lags, bootstrap and logical brokers, idle brokers),
 * JSON that is malformed, not librdkafka's, too deep or over the 4 MiB
 * cap (a 10 MB one), and the slots: offer, replace, parse on collect,
 * counted drops, the cardinality cap's overflow point, removal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/kafka_stats.h"
#include "tap.h"

static const char consumer_json[] =
    "{\"name\": \"rdkafka#consumer-1\", \"client_id\": \"rdkafka\", "
    "\"type\": \"consumer\", \"ts\": 4637441291, \"msg_cnt\": 0, "
    "\"msg_size\": 0, "
    "\"brokers\": {"
    " \"127.0.0.1:37279/bootstrap\": {\"name\": \"127.0.0.1:37279/bootstrap\","
    "  \"nodeid\": -1, \"nodename\": \"127.0.0.1:37279\", \"source\": "
    "\"learned\", \"rtt\": {\"min\": 90, \"max\": 90, \"avg\": 90, \"cnt\": "
    "1}},"
    " \"127.0.0.1:37279/2\": {\"name\": \"127.0.0.1:37279/2\", \"nodeid\": 2,"
    "  \"nodename\": \"127.0.0.1:37279\", \"source\": \"configured\","
    "  \"rtt\": {\"min\": 100, \"max\": 500000, \"avg\": 250000, \"sum\": "
    "500100,"
    "  \"p99\": 500223, \"cnt\": 2}},"
    " \"127.0.0.1:46527/1\": {\"name\": \"127.0.0.1:46527/1\", \"nodeid\": 1,"
    "  \"nodename\": \"127.0.0.1:46527\", \"source\": \"configured\","
    "  \"rtt\": {\"min\": 0, \"max\": 0, \"avg\": 0, \"cnt\": 0}},"
    " \"GroupCoordinator\": {\"name\": \"GroupCoordinator\", \"nodeid\": 2,"
    "  \"nodename\": \"127.0.0.1:37279\", \"source\": \"logical\","
    "  \"rtt\": {\"min\": 7, \"max\": 7, \"avg\": 7, \"cnt\": 1}}},"
    "\"topics\": {\"lag\": {\"topic\": \"lag\", \"partitions\": {"
    " \"0\": {\"partition\": 0, \"hi_offset\": 8, \"committed_offset\": 5,"
    "  \"consumer_lag\": 3, \"consumer_lag_stored\": 0},"
    " \"1\": {\"partition\": 1, \"hi_offset\": 12, \"committed_offset\": -1001,"
    "  \"consumer_lag\": -1, \"consumer_lag_stored\": 0},"
    " \"-1\": {\"partition\": -1, \"consumer_lag\": -1}}},"
    " \"other\": {\"topic\": \"other\", \"partitions\": {"
    " \"3\": {\"partition\": 3, \"consumer_lag\": 0}}}},"
    "\"cgrp\": {\"state\": \"up\", \"assignment_size\": 2}}";

static const char producer_json[] =
    "{\"name\": \"app#producer-2\", \"client_id\": \"app\", \"type\": "
    "\"producer\", \"msg_cnt\": 9, \"msg_size\": 900, \"msg_max\": 100000,"
    " \"brokers\": {\"[::1]:9092/3\": {\"nodeid\": 3, \"nodename\": "
    "\"[::1]:9092\", \"source\": \"configured\", \"rtt\": {\"avg\": 1500, "
    "\"cnt\": 4}}}, \"topics\": {\"q\": {\"partitions\": {\"0\": "
    "{\"partition\": 0, \"consumer_lag\": 5}}}}}\n";

static bool parses(const char *js)
{
        struct kotel_kstats_snap s;
        int rc = kotel_kafka_stats_parse(js, strlen(js), &s);

        kotel_kafka_stats_snap_free(&s);
        return rc == 0;
}

static char *big_json(size_t size)
{
        static const char head[] = "{\"name\": \"x\", \"type\": \"consumer\", "
                                   "\"pad\": \"";
        char *b                  = malloc(size + 1);

        memcpy(b, head, sizeof(head) - 1);
        memset(b + sizeof(head) - 1, 'a', size - sizeof(head) - 1);
        memcpy(b + size - 2, "\"}", 3);
        return b;
}

static void test_parse(void)
{
        struct kotel_kstats_snap s;
        bool ok;

        CHECK(kotel_kafka_stats_parse(consumer_json, strlen(consumer_json),
                                      &s) == 0,
              "a consumer's statistics parse");
        CHECK(!strcmp(s.name, "rdkafka#consumer-1") && !s.producer,
              "name and type");
        ok = s.n_lags == 2 && !strcmp(s.lags[0].topic, "lag") &&
             s.lags[0].partition == 0 && s.lags[0].lag == 3 &&
             !strcmp(s.lags[1].topic, "other") && s.lags[1].partition == 3 &&
             s.lags[1].lag == 0;
        CHECK(ok, "consumer_lag per partition; unknown (-1) and the "
                  "unassigned partition left out, 0 kept");
        ok = s.n_brokers == 1 && !strcmp(s.brokers[0].host, "127.0.0.1") &&
             s.brokers[0].port == 37279 && s.brokers[0].rtt_avg_s == 0.25;
        CHECK(ok, "broker rtt.avg in seconds; bootstrap, logical and idle "
                  "brokers left out");
        kotel_kafka_stats_snap_free(&s);

        CHECK(kotel_kafka_stats_parse(producer_json, strlen(producer_json),
                                      &s) == 0 &&
                  s.producer && s.msg_cnt == 9 && s.msg_size == 900 &&
                  s.n_lags == 0,
              "a producer's queue (msg_cnt, msg_size); no lag");
        CHECK(s.n_brokers == 1 && !strcmp(s.brokers[0].host, "::1") &&
                  s.brokers[0].port == 9092 && s.brokers[0].rtt_avg_s == 0.0015,
              "a bracketed IPv6 nodename");
        kotel_kafka_stats_snap_free(&s);
}

static void test_bad_json(void)
{
        static const char *const bad[] = {
            "",
            "{",
            "{\"name\": \"x\", \"type\": \"consumer\"",
            "{\"name\": \"x\", \"type\": \"consumer\"} trailing",
            "[1, 2]",
            "\"a string\"",
            "{\"type\": \"consumer\"}",
            "{\"name\": 5, \"type\": \"consumer\"}",
            "{\"name\": \"x\"}",
            "{\"name\": \"x\", \"type\": \"producer\", \"msg_cnt\": \"9\"}",
            "{\"name\": \"x\", \"type\": \"consumer\", \"brokers\": {\"b\": "
            "{\"nodeid\": 1, \"nodename\": \"h:1\", \"rtt\": {\"avg\": 1, "
            "\"cnt\": 1}}}, \"topics\": {\"t\": {\"partitions\": {\"0\": "
            "{\"partition\": 0, \"consumer_lag\": 1}}}}, \"x\": [[[[[[[[[[[[["
            "[[[[[[[[]]]]]]]]]]]]]]]]]]]]}",
        };
        bool ok = true;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                if (parses(bad[i])) {
                        fprintf(stderr, "# parsed: %s\n", bad[i]);
                        ok = false;
                }
        CHECK(ok, "malformed, truncated, trailing garbage, not librdkafka's "
                  "object, too deep: refused");
        CHECK(parses("{\"name\": \"x\", \"type\": \"consumer\", \"topics\": "
                     "{\"t\": 5, \"u\": {\"partitions\": [1]}}, \"brokers\": "
                     "{\"b\": {\"nodeid\": \"1\"}}}"),
              "unexpected shapes inside are skipped, not fatal");
        {
                char *b = big_json(10u << 20), *c = big_json(3u << 20);

                CHECK(!parses(b), "a 10 MB statistics JSON is refused");
                CHECK(parses(c), "a 3 MB one parses");
                free(b);
                free(c);
        }
}

static struct kotel_resource res  = {0, NULL};
static struct kotel_client client = {1,           "rdkafka", "g1",
                                     "127.0.0.1", 9092,      &res};
static struct kotel_gpoint g[KOTEL_KG_N][8];

static void collect(size_t cap, size_t n[KOTEL_KG_N])
{
        struct kotel_gpoint *out[KOTEL_KG_N] = {g[0], g[1], g[2], g[3]};

        kotel_kafka_stats_collect(out, cap, n);
}

static void test_slots(void)
{
        static char a, b, c;
        size_t n[KOTEL_KG_N];
        uint64_t big, bad, over;
        char *huge = big_json(5u << 20);
        char many[2048];
        size_t o;

        CHECK(kotel_kafka_stats_add(&a, &client) &&
                  kotel_kafka_stats_add(&b, &client) && client.refs == 3,
              "two clients get slots (each holds a client reference)");
        kotel_kafka_stats_offer(&c, consumer_json, strlen(consumer_json));
        collect(8, n);
        CHECK(!n[0] && !n[1] && !n[2] && !n[3],
              "nothing offered by a known client: no points");
        kotel_kafka_stats_offer(&a, "{garbage", 8);
        kotel_kafka_stats_offer(&a, consumer_json, strlen(consumer_json));
        kotel_kafka_stats_offer(&b, producer_json, strlen(producer_json));
        collect(8, n);
        CHECK(
            n[KOTEL_KG_LAG] == 2 && g[KOTEL_KG_LAG][0].ival == 3 &&
                !strcmp(g[KOTEL_KG_LAG][0].group, "g1") &&
                !strcmp(g[KOTEL_KG_LAG][0].client_name, "rdkafka#consumer-1") &&
                g[KOTEL_KG_LAG][0].partition == 0 &&
                g[KOTEL_KG_LAG][0].client == &client,
            "lag points with topic, partition, group and client id");
        CHECK(n[KOTEL_KG_QUEUE_MSGS] == 1 &&
                  g[KOTEL_KG_QUEUE_MSGS][0].ival == 9 &&
                  n[KOTEL_KG_QUEUE_BYTES] == 1 &&
                  g[KOTEL_KG_QUEUE_BYTES][0].ival == 900 &&
                  !g[KOTEL_KG_QUEUE_MSGS][0].group,
              "producer queue points");
        CHECK(n[KOTEL_KG_RTT] == 2 && g[KOTEL_KG_RTT][0].is_double &&
                  g[KOTEL_KG_RTT][0].host,
              "an rtt point per broker");
        kotel_kafka_stats_counts(&big, &bad, &over);
        CHECK(bad == 0 && big == 0,
              "a newer JSON replaces one not read yet (the garbage was "
              "never parsed)");
        kotel_kafka_stats_offer(&a, "{garbage", 8);
        kotel_kafka_stats_offer(&b, huge, 5u << 20);
        collect(8, n);
        kotel_kafka_stats_counts(&big, &bad, &over);
        CHECK(bad == 1 && big == 1, "a JSON that does not parse and one over "
                                    "4 MiB are counted");
        CHECK(n[KOTEL_KG_LAG] == 2 && n[KOTEL_KG_QUEUE_MSGS] == 1,
              "the last good values stay");
        /* Ten partitions under a cap of 4: 3 points and the overflow. */
        o = (size_t)snprintf(many, sizeof(many),
                             "{\"name\": \"c\", \"type\": \"consumer\", "
                             "\"topics\": {\"t\": {\"partitions\": {");
        for (int p = 0; p < 10; p++)
                o += (size_t)snprintf(many + o, sizeof(many) - o,
                                      "%s\"%d\": {\"partition\": %d, "
                                      "\"consumer_lag\": %d}",
                                      p ? ", " : "", p, p, 100 + p);
        snprintf(many + o, sizeof(many) - o, "}}}}");
        kotel_kafka_stats_remove(&b);
        kotel_kafka_stats_offer(&a, many, strlen(many));
        collect(4, n);
        kotel_kafka_stats_counts(&big, &bad, &over);
        CHECK(n[KOTEL_KG_LAG] == 4 && !g[KOTEL_KG_LAG][2].overflow &&
                  g[KOTEL_KG_LAG][3].overflow &&
                  g[KOTEL_KG_LAG][3].ival == 109 && over == 7,
              "past the cardinality cap: one overflow point (the last value), "
              "counted");
        CHECK(n[KOTEL_KG_QUEUE_MSGS] == 1 &&
                  g[KOTEL_KG_QUEUE_MSGS][0].ival == 9 && client.refs == 3,
              "a removed client's last values go out once more");
        collect(4, n);
        CHECK(n[KOTEL_KG_QUEUE_MSGS] == 0 && n[KOTEL_KG_LAG] == 4 &&
                  client.refs == 2,
              "then its slot is freed with its reference");
        kotel_kafka_stats_reset();
        CHECK(client.refs == 1, "reset frees every slot");
        {
                static int rks[KOTEL_KSTATS_SLOTS + 1];
                bool all = true;

                for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++)
                        all &= kotel_kafka_stats_add(&rks[i], &client);
                CHECK(all && !kotel_kafka_stats_add(&rks[KOTEL_KSTATS_SLOTS],
                                                    &client),
                      "the table is bounded");
                kotel_kafka_stats_reset();
        }
        free(huge);
}

int main(void)
{
        test_parse();
        test_bad_json();
        test_slots();
        TAP_DONE();
}
