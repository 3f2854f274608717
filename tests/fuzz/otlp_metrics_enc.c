/* kotel_metrics_enc_encode, the hand-written OTLP metrics encoder, against
 * the protobuf-c reference (tests/unit/otlp_metrics_ref.h): a request
 * built from the input (up to 5 resources and 8 clients, some sharing a
 * resource, some with none; a fallback resource or none; five metrics of
 * both shapes and temporalities with up to 12 points each: any client or
 * none, topics of any length the span model allows, any partition,
 * operation and error, overflow points, any counts, sums and buckets,
 * exemplars with and without ids) encodes to exactly the same bytes in
 * both, whatever the grouping by resource. One buffer serves every
 * input, as the metrics thread keeps one. */
#include "fuzz.h"
#include "tests/unit/otlp_gen.h"
#include "tests/unit/otlp_metrics_ref.h"

#define MAX_PTS 12
#define N_RES 5
#define N_CLIENTS 8
#define TEXT_MAX 40

static const char *errs[] = {NULL, "_MSG_TIMED_OUT", "UNKNOWN_TOPIC_OR_PART",
                             "_TRANSPORT"};

/* A NUL-terminated text of up to @max - 1 bytes into @dst, or NULL. */
static char *text_or_null(struct gen *g, char *dst, size_t max)
{
        size_t n;

        if (gen_u8(g) & 1)
                return NULL;
        n = gen_len(g, max - 1);
        gen_text(g, dst, n);
        dst[n] = '\0';
        return dst;
}

static void gen_point(struct gen *g, struct kotel_mpoint *p, char *topic,
                      struct kotel_client *clients)
{
        uint8_t c = gen_u8(g) % (N_CLIENTS + 1), f = gen_u8(g);
        size_t tl = gen_len(g, KOTEL_TOPIC_MAX - 1);

        memset(p, 0, sizeof(*p));
        p->client = c < N_CLIENTS ? &clients[c] : NULL;
        gen_text(g, topic, tl);
        topic[tl]     = '\0';
        p->topic      = topic;
        p->partition  = (int32_t)gen_u64(g, 4);
        p->op         = (uint8_t)(f % 4);
        p->error_type = errs[(f >> 2) % 4];
        p->overflow   = (f >> 4) & 1;
        p->start_ns   = gen_u64(g, (f >> 5) & 1 ? 8 : 2);
        p->time_ns    = gen_u64(g, 8);
        p->count      = gen_u64(g, gen_u8(g) % 9);
        p->sum_ns     = gen_u64(g, gen_u8(g) % 9);
        for (int b = 0; b < KOTEL_M_BUCKETS; b++) {
                uint8_t e = gen_u8(g);

                p->buckets[b] = gen_u64(g, e % 4);
                if (!(e & 4))
                        continue;
                p->ex[b].valid    = true;
                p->ex[b].has_ids  = e & 8;
                p->ex[b].value_ns = gen_u64(g, (e >> 4) % 9);
                p->ex[b].time_ns  = gen_u64(g, 8);
                for (int k = 0; k < 16; k++)
                        p->ex[b].trace_id[k] = gen_u8(g);
                for (int k = 0; k < 8; k++)
                        p->ex[b].span_id[k] = gen_u8(g);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct kotel_pbw w;
        static struct kotel_mpoint pts[5][MAX_PTS];
        static char topics[5][MAX_PTS][KOTEL_TOPIC_MAX];
        static char names[N_RES][TEXT_MAX];
        static char groups[N_CLIENTS][TEXT_MAX], servers[N_CLIENTS][TEXT_MAX];
        struct kotel_kv kv[N_RES][2];
        struct kotel_resource res[N_RES];
        struct kotel_client clients[N_CLIENTS];
        const struct kotel_resource *fb;
        struct gen g = {data, size};
        size_t n_res = gen_u8(&g) % (N_RES + 1), n[5];
        uint8_t t;

        for (size_t i = 0; i < n_res; i++) {
                size_t l = gen_len(&g, TEXT_MAX - 1);

                gen_text(&g, names[i], l);
                names[i][l] = '\0';
                kv[i][0]    = (struct kotel_kv){"service.name", names[i], 0};
                kv[i][1] = (struct kotel_kv){"process.pid", NULL,
                                             (int64_t)gen_u64(&g, 4)};
                res[i]   = (struct kotel_resource){1 + (gen_u8(&g) & 1), kv[i]};
        }
        for (size_t i = 0; i < N_CLIENTS; i++) {
                uint8_t r = gen_u8(&g) % (n_res + 1);

                clients[i] = (struct kotel_client){
                    1,
                    "c",
                    text_or_null(&g, groups[i], TEXT_MAX),
                    text_or_null(&g, servers[i], TEXT_MAX),
                    (int)gen_u64(&g, 2),
                    r < n_res ? &res[r] : NULL};
        }
        t  = gen_u8(&g);
        fb = t % (n_res + 1) < n_res ? &res[t % (n_res + 1)] : NULL;
        for (int k = 0; k < 5; k++) {
                n[k] = gen_u8(&g) % (MAX_PTS + 1);
                for (size_t i = 0; i < n[k]; i++)
                        gen_point(&g, &pts[k][i], topics[k][i], clients);
        }
        {
                int tp = 1 + (t >> 7);
                struct kotel_metric_desc ms[5] = {
                    {"messaging.client.operation.duration", "Duration", "s",
                     KOTEL_SHAPE_HISTOGRAM, tp, false, pts[0], n[0], false},
                    {"messaging.client.sent.messages", "", "{message}",
                     KOTEL_SHAPE_COUNTER, tp, true, pts[1], n[1], false},
                    {"messaging.client.consumed.messages", "Consumed",
                     "{message}", KOTEL_SHAPE_COUNTER, tp, false, pts[2], n[2],
                     false},
                    {"kotel.message.age", "Age", "s", KOTEL_SHAPE_HISTOGRAM, tp,
                     false, pts[3], n[3], true},
                    {"kotel.message.age.negative", "", "{message}",
                     KOTEL_SHAPE_COUNTER, tp, true, pts[4], n[4], true},
                };

                FUZZ_ASSERT(ref_same_bytes(&w, ms, 5, fb));
        }
        return 0;
}
