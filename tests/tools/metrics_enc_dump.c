/* metrics_enc_dump: pseudo-random metrics requests, each written by both
 * metrics encoders, for tests/integration/test_metrics_json.py to check
 * that the JSON encoder says exactly what the protobuf one (itself
 * checked byte for byte against protobuf-c) says: the test parses each
 * JSON body with protobuf's JSON parser and compares the two messages.
 *
 *   metrics_enc_dump SEED COUNT
 *
 * Writes, per request, "P <len>\n<protobuf>J <len>\n<json>". The points
 * have clients with resources of their own or shared, none, overflow,
 * exemplars with and without ids, and topics, group ids and service names
 * with quotes, backslashes, control bytes and non-ASCII text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "otlp_metrics_enc.h"
#include "otlp_metrics_json.h"
#include "pbwire.h"
#include "tests/unit/mpoint_gen.h"

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return n ? rng % n : rng;
}

static const char *texts[] = {"", "orders", "we\"ird\\topic", "tab\there",
                              "nl\nand\x01", "\xe5\x90\x8d-\xc3\xa9",
                              "a-much-longer-topic-name.v2"};
#define N_TEXTS (sizeof(texts) / sizeof(texts[0]))

static struct kotel_kv proc_kv[] = {
    {"service.name", "host", 0},
    {"process.pid", NULL, 4242},
    {"host.name", "h\"ost", 0},
};
static struct kotel_resource proc = {3, proc_kv};
static struct kotel_kv own_kv[4][3];
static struct kotel_resource own[4];
static struct kotel_client clients[6];

static void setup(void)
{
        for (int i = 0; i < 4; i++) {
                own_kv[i][0] = (struct kotel_kv){"service.name", texts[2 + i], 0};
                own_kv[i][1] = proc_kv[1];
                own_kv[i][2] = proc_kv[2];
                own[i]       = (struct kotel_resource){3, own_kv[i]};
        }
        for (int i = 0; i < 6; i++)
                clients[i] = (struct kotel_client){
                    1,
                    "c",
                    i & 1 ? (char *)texts[i % N_TEXTS] : NULL,
                    i % 3 ? "broker-1.example" : NULL,
                    i % 3 == 1 ? 9092 : 0,
                    i < 4 ? &own[i] : &proc};
}

static void gen_point(struct kotel_mpoint *p)
{
        memset(p, 0, sizeof(*p));
        p->client     = rnd(6) ? &clients[rnd(6)] : NULL;
        p->topic      = texts[rnd(N_TEXTS)];
        gen_mpoint_values(p, rnd);
}

int main(int argc, char **argv)
{
        static struct kotel_mpoint pts[5][8];
        struct kotel_pbw w = {0};
        struct kotel_buf j = {0};
        int count;

        if (argc != 3)
                return 2;
        rng   = strtoull(argv[1], NULL, 10) * 2654435761u + 88172645463325252ull;
        count = atoi(argv[2]);
        setup();
        for (int round = 0; round < count; round++) {
                size_t n[5] = {rnd(8), rnd(8), rnd(8), rnd(8), rnd(8)};
                int t       = 1 + (round & 1);
                struct kotel_metric_desc ms[5] = {
                    {"messaging.client.operation.duration", "Duration", "s",
                     KOTEL_SHAPE_HISTOGRAM, t, false, pts[0], n[0], false},
                    {"messaging.client.sent.messages", "", "{message}",
                     KOTEL_SHAPE_COUNTER, t, true, pts[1], n[1], false},
                    {"messaging.client.consumed.messages", "Con\"sumed",
                     "{message}", KOTEL_SHAPE_COUNTER, t, false, pts[2], n[2],
                     false},
                    {"kotel.message.age", "Age", "s", KOTEL_SHAPE_HISTOGRAM, t,
                     false, pts[3], n[3], true},
                    {"kotel.message.age.negative", "", "{message}",
                     KOTEL_SHAPE_COUNTER, t, true, pts[4], n[4], true},
                };
                const struct kotel_resource *fb = round % 5 ? &proc : NULL;

                for (int k = 0; k < 5; k++)
                        for (size_t i = 0; i < n[k]; i++)
                                gen_point(&pts[k][i]);
                if (kotel_metrics_enc_encode(&w, ms, 5, fb) < 0 ||
                    kotel_metrics_json_encode(&j, ms, 5, NULL, 0, fb) < 0)
                        return 1;
                printf("P %zu\n", w.len);
                fwrite(w.p, 1, w.len, stdout);
                printf("J %zu\n", j.len);
                fwrite(j.p, 1, j.len, stdout);
        }
        kotel_pbw_free(&w);
        kotel_buf_free(&j);
        return fflush(stdout) ? 1 : 0;
}
