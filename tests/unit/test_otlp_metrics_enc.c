/* The hand-written OTLP metrics encoder writes exactly the bytes protobuf-c
 * writes for the same ExportMetricsServiceRequest: pseudo-random metrics
 * (histograms with and without exemplars, with and without trace ids,
 * counters, overflow points, points with and without client, topic,
 * partition, error), both temporalities, a metric with no points, and a
 * request large enough (over 2 MiB) that the reserved length prefixes
 * must grow; one buffer reused across all of it. Clients with resources
 * of their own (KOTEL_SERVICE_NAME_FROM) make one ResourceMetrics each,
 * first seen first, points without a client going with the fallback
 * resource; past 64 resources the last group takes the rest. Gauges (librdkafka's
 * statistics) too: integer and double points, overflow points, points
 * with and without each attribute, a value of 0 (a oneof member is
 * written whatever its value). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpoint_gen.h"
#include "otlp_metrics_ref.h"
#include "tap.h"

static struct kotel_kv res_attrs[] = {
    {"service.name", "billing", 0},
    {"process.pid", NULL, 4242},
    {"telemetry.sdk.name", "kotel", 0},
};
static struct kotel_resource resource = {3, res_attrs};
/* KOTEL_SERVICE_NAME_FROM's per-client resources. */
static struct kotel_kv res_a_attrs[] = {
    {"service.name", "c1", 0},
    {"process.pid", NULL, 4242},
    {"telemetry.sdk.name", "kotel", 0},
};
static struct kotel_kv res_b_attrs[] = {
    {"service.name", "orders-group", 0},
    {"process.pid", NULL, 4242},
    {"telemetry.sdk.name", "kotel", 0},
};
static struct kotel_resource res_a = {3, res_a_attrs};
static struct kotel_resource res_b = {3, res_b_attrs};
static struct kotel_client clients[3] = {
    {1, "c1", NULL, "broker-1.example", 9092, &resource},
    {1, "c2", "orders-group", "10.0.0.7", 19092, &resource},
    {1, "c3", "g", NULL, 0, &resource},
};

/* One resource for every client (KOTEL_SERVICE_NAME_FROM off), or two of
 * three clients with a resource of their own. */
static void per_client_resources(bool on)
{
        clients[0].resource = on ? &res_a : &resource;
        clients[1].resource = on ? &res_b : &resource;
}
static const char *topics[] = {"", "orders", "a-much-longer-topic-name.v2"};

static void gen_point(struct kotel_mpoint *p, bool with_client)
{
        memset(p, 0, sizeof(*p));
        p->client     = with_client ? &clients[rnd(3)] : NULL;
        p->topic      = topics[rnd(3)];
        gen_mpoint_values(p, rnd);
}

static bool same_bytes(struct kotel_pbw *w, const struct kotel_metric_desc *ms,
                       size_t n, const struct kotel_resource *r)
{
        bool ok = ref_same_bytes(w, ms, n, r);

        if (!ok)
                fprintf(stderr, "# mine %zu bytes differ from protobuf-c's\n",
                        w->len);
        return ok;
}

static const char *names[] = {NULL, "rdkafka#consumer-1", "app#producer-12"};
static const char *hosts[]  = {NULL, "127.0.0.1", "broker-7.example"};

static void gen_gpoint(struct kotel_gpoint *p, bool with_client)
{
        memset(p, 0, sizeof(*p));
        p->client      = with_client ? &clients[rnd(3)] : NULL;
        p->topic       = rnd(3) ? topics[1 + rnd(2)] : NULL;
        p->partition   = (int32_t)rnd(5) - 1;
        p->group       = rnd(2) ? "orders-group" : NULL;
        p->client_name = names[rnd(3)];
        p->host        = hosts[rnd(3)];
        p->port        = (int)rnd(3) * 9092;
        p->overflow    = rnd(10) == 0;
        p->is_double   = rnd(2);
        p->ival        = rnd(4) ? (int64_t)rnd(1ull << 40) - (1ll << 39) : 0;
        p->dval        = rnd(4) ? (double)rnd(1000000) / 1e6 : 0;
        p->time_ns     = rnd(8) ? 1700000000000000000ull + rnd(1ull << 40) : 0;
}

int main(void)
{
        struct kotel_pbw w = {0};
        static struct kotel_mpoint pts[5][12000];
        bool all  = true;
        int multi = 0;

        for (int round = 0; round < 300; round++) {
                size_t n[5]      = {rnd(6), rnd(6), rnd(6), rnd(6), rnd(6)};
                bool with_client = round % 5 != 0;
                struct kotel_metric_desc ms[5] = {
                    {"messaging.client.operation.duration", "Duration", "s",
                     KOTEL_SHAPE_HISTOGRAM, 1 + (round & 1), false, pts[0],
                     n[0], false},
                    {"messaging.client.sent.messages", "", "{message}",
                     KOTEL_SHAPE_COUNTER, 1 + (round & 1), true, pts[1], n[1],
                     false},
                    {"messaging.client.consumed.messages", "Consumed",
                     "{message}", KOTEL_SHAPE_COUNTER, 1 + (round & 1), false,
                     pts[2], n[2], false},
                    {"kotel.message.age", "Age", "s", KOTEL_SHAPE_HISTOGRAM,
                     1 + (round & 1), false, pts[3], n[3], true},
                    {"kotel.message.age.negative", "", "{message}",
                     KOTEL_SHAPE_COUNTER, 1 + (round & 1), true, pts[4], n[4],
                     true},
                };

                per_client_resources(round % 3 == 1);
                for (int k = 0; k < 5; k++)
                        for (size_t i = 0; i < n[k]; i++)
                                gen_point(&pts[k][i], with_client);
                /* The fallback (for points without a client) is the
                 * process resource, or none. */
                all &= same_bytes(&w, ms, 5, round % 7 ? &resource : NULL);
                if (round % 3 == 1 && n[0] + n[1] + n[2] + n[3] + n[4] > 4 &&
                    with_client) {
                        struct kotel_metrics_groups g;

                        kotel_metrics_enc_resources(ms, 5, NULL, 0, &resource, &g);
                        multi += g.n > 1;
                }
        }
        per_client_resources(false);
        CHECK(all, "300 random requests, a third of them with per-client "
                   "resources: the same bytes as protobuf-c");
        CHECK(multi > 50, "over 50 of them have more than one "
                          "ResourceMetrics");
        {
                static struct kotel_gpoint gp[4][64];
                struct kotel_gauge_desc gs[4] = {
                    {"messaging.kafka.consumer.lag", "Lag", "{message}", gp[0], 0},
                    {"messaging.kafka.producer.queue.messages", "", "{message}",
                     gp[1], 0},
                    {"messaging.kafka.producer.queue.size", "Bytes", "By",
                     gp[2], 0},
                    {"messaging.kafka.broker.rtt", "RTT", "s", gp[3], 0},
                };

                all    = true;
                ref_gs = gs;
                ref_ng = 4;
                for (int round = 0; round < 200; round++) {
                        bool with_client = round % 4 != 0;
                        size_t total     = 0;
                        size_t n1        = rnd(3);
                        struct kotel_metric_desc ms[1] = {
                            {"messaging.client.consumed.messages", "Consumed",
                             "{message}", KOTEL_SHAPE_COUNTER, 2, false,
                             pts[2], n1, false},
                        };

                        /* Every other round, the clients have resources
                         * of their own: gauges are grouped too. */
                        per_client_resources(round % 2 == 1);
                        for (size_t i = 0; i < n1; i++)
                                gen_point(&pts[2][i], with_client);
                        for (int k = 0; k < 4; k++) {
                                gs[k].n = rnd(8);
                                total += gs[k].n;
                                for (size_t i = 0; i < gs[k].n; i++)
                                        gen_gpoint(&gp[k][i], with_client);
                        }
                        all &= same_bytes(&w, ms, 1,
                                          with_client && (total + n1)
                                              ? &resource
                                              : NULL);
                }
                per_client_resources(false);
                CHECK(all, "200 random requests with gauges, half of them with "
                           "per-client resources: the same bytes as protobuf-c");
                ref_gs = NULL;
                ref_ng = 0;
        }
        {
                struct kotel_metric_desc ms[2] = {
                    {"h", "", "s", KOTEL_SHAPE_HISTOGRAM, 2, false, pts[0],
                     9000, false},
                    {"c", "", "", KOTEL_SHAPE_COUNTER, 1, false, pts[1], 0,
                     false},
                };

                for (size_t i = 0; i < 9000; i++)
                        gen_point(&pts[0][i], true);
                CHECK(same_bytes(&w, ms, 2, &resource),
                      "a request over 2 MiB (length prefixes of 4 bytes): "
                      "the same bytes as protobuf-c");
                CHECK(w.len > (2u << 20), "that request is over 2 MiB");
        }
        CHECK(same_bytes(&w, NULL, 0, NULL),
              "no metrics: the same bytes as protobuf-c");
        CHECK(same_bytes(&w, NULL, 0, &resource),
              "no metrics, a fallback resource: the same bytes as protobuf-c");
        {
                /* More resources than a request tells apart (64): the
                 * last group takes the rest, and stays byte-identical. */
                enum { N = 70 };
                static struct kotel_kv kv[N];
                static struct kotel_resource res[N];
                static struct kotel_client many[N];
                static char names[N][16];
                struct kotel_metric_desc ms[1] = {
                    {"c", "", "", KOTEL_SHAPE_COUNTER, 2, false, pts[0],
                     2 * N, false},
                };
                struct kotel_metrics_groups g;

                for (int i = 0; i < N; i++) {
                        snprintf(names[i], sizeof(names[i]), "svc-%d", i);
                        kv[i]   = (struct kotel_kv){"service.name", names[i], 0};
                        res[i]  = (struct kotel_resource){1, &kv[i]};
                        many[i] = (struct kotel_client){1, names[i], NULL,
                                                        NULL, 0, &res[i]};
                }
                for (int i = 0; i < 2 * N; i++) {
                        gen_point(&pts[0][i], true);
                        pts[0][i].client = &many[(i * 3) % N];
                }
                CHECK(same_bytes(&w, ms, 1, &resource),
                      "70 resources in one request: the same bytes as "
                      "protobuf-c");
                kotel_metrics_enc_resources(ms, 1, NULL, 0, &resource, &g);
                CHECK(g.n == 64 && g.capped,
                      "they make 64 ResourceMetrics, the last taking the rest");
        }
        kotel_pbw_free(&w);
        free(tree);
        TAP_DONE();
}
