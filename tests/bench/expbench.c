/* expbench: how many spans one exporter thread can encode, compress and
 * send, and the CPU each costs it.
 *
 * Linked with the agent's objects. Builds batches of send spans like the
 * producer path makes them (topic, partition, offset, key, body size,
 * client attributes, the process resource) and, on this one thread, for
 * -s SECONDS per stage:
 *   encode            kotel_trace_enc_encode (what the exporter uses)
 *   encode-protobuf-c kotel_otlp_encode_proto (the reference, for scale)
 *   encode+gzip       encode plus kotel_gzip_compress (libdeflate, level 1)
 *   encode+zlib1      encode plus zlib at level 1 (for scale: size, cost)
 *   send-gzip         encode, gzip, then kotel_transport_post to
 *                     OTEL_EXPORTER_OTLP_ENDPOINT
 *   send-none         the same without compression
 * The encoder and gzip state are reused from batch to batch, as the
 * exporter thread reuses them.
 * CPU is this thread's (CLOCK_THREAD_CPUTIME_ID): the collector's own work
 * is not in it, libcurl's and the kernel's sending side are.
 *
 *   expbench [-s SECONDS] [-b BATCH] [-n BATCHES] [-S STAGE] [-m]
 * One "result stage=... spans=N secs=S spans_per_s=R cpu_ns_per_span=C
 * bytes_per_span=B" line per stage. -n runs exactly BATCHES batches per
 * stage instead of for SECONDS, -S only the stage named: for counting
 * instructions, each batch's work is one call of one_batch(), e.g.
 *   valgrind --tool=callgrind --toggle-collect=one_batch \
 *       build/bench/expbench -n 20 -S send-none
 * counts exactly the per-batch work (divide by 20 x BATCH spans). -m
 * builds a mixed batch instead (make_mixed_batch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "agent/resource.h"
#include "exporter/gzip.h"
#include "exporter/otlp.h"
#include "exporter/otlp_trace_enc.h"
#include "exporter/settings.h"
#include "exporter/transport.h"

static double clock_s(clockid_t c)
{
        struct timespec ts;

        clock_gettime(c, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* gzip at level 1 into @out (capacity *@out_len). */
static int gzip_fast(const uint8_t *in, size_t len, uint8_t *out,
                     size_t *out_len)
{
        z_stream z = {0};

        if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
                return -1;
        z.next_in   = (Bytef *)in;
        z.avail_in  = (uInt)len;
        z.next_out  = out;
        z.avail_out = (uInt)*out_len;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
                deflateEnd(&z);
                return -1;
        }
        *out_len = z.total_out;
        deflateEnd(&z);
        return 0;
}

static struct kotel_span **make_batch(size_t n, struct kotel_client *c)
{
        struct kotel_span **b = calloc(n, sizeof(*b));
        uint64_t x            = 0x9e3779b97f4a7c15ull;

        for (size_t i = 0; i < n; i++) {
                struct kotel_span *s = kotel_span_new();

                for (int j = 0; j < 16; j++)
                        s->trace_id[j] =
                            (uint8_t)((x = x * 6364136223846793005ull + 1) >>
                                      56);
                for (int j = 0; j < 8; j++)
                        s->span_id[j] =
                            (uint8_t)((x = x * 6364136223846793005ull + 1) >>
                                      56);
                s->flags         = 1;
                s->kind          = KOTEL_KIND_PRODUCER;
                s->op            = KOTEL_OP_SEND;
                s->start_ns      = 1700000000000000000ull + i * 1000;
                s->end_ns        = s->start_ns + 2500000;
                s->client        = kotel_client_ref(c);
                s->has_partition = true;
                s->partition     = (int32_t)(i % 8);
                s->has_offset    = true;
                s->offset        = (int64_t)(123456 + i);
                s->has_key       = true;
                s->key_len =
                    (uint16_t)snprintf(s->key, sizeof(s->key), "k%07zu", i);
                s->has_body_size = true;
                s->body_size     = 100;
                s->topic         = "orders";
                b[i] = s;
        }
        return b;
}

static uint64_t rnd(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* -m: a mixed batch, closer to a service that produces and consumes:
 * sends to three topics over 12 partitions with random 36-character keys
 * and body sizes, process spans (consumer group, a parent) and every 25th
 * span a poll over 10 messages (10 links); 1 in 50 sends failed; random
 * ids and durations throughout. */
static struct kotel_span **make_mixed_batch(size_t n, struct kotel_client *p,
                                            struct kotel_client *c)
{
        static const char *topics[] = {"orders", "payments",
                                       "inventory-updates"};
        struct kotel_span **b       = calloc(n, sizeof(*b));
        uint64_t x                  = 0x9e3779b97f4a7c15ull;

        for (size_t i = 0; i < n; i++) {
                struct kotel_span *s = kotel_span_new();
                uint64_t r           = rnd(&x);

                for (int j = 0; j < 16; j++)
                        s->trace_id[j] = (uint8_t)rnd(&x);
                for (int j = 0; j < 8; j++)
                        s->span_id[j] = (uint8_t)rnd(&x);
                s->flags    = 1;
                s->start_ns = 1700000000000000000ull + i * 7919 + r % 5000;
                s->end_ns   = s->start_ns + 100000 + rnd(&x) % 20000000;
                s->topic         = topics[r % 3];
                s->has_partition = true;
                s->partition     = (int32_t)(rnd(&x) % 12);
                if (i % 25 == 24) {
                        s->kind          = KOTEL_KIND_CLIENT;
                        s->op            = KOTEL_OP_POLL;
                        s->client        = kotel_client_ref(c);
                        s->batch_count   = 10;
                        s->has_partition = false;
                        kotel_span_reserve_links(s, 10);
                        s->n_links = 10;
                        for (int l = 0; l < 10; l++) {
                                for (int j = 0; j < 16; j++)
                                        s->links[l].trace_id[j] =
                                            (uint8_t)rnd(&x);
                                for (int j = 0; j < 8; j++)
                                        s->links[l].span_id[j] =
                                            (uint8_t)rnd(&x);
                                s->links[l].flags = 1;
                        }
                        b[i] = s;
                        continue;
                }
                s->has_offset = true;
                s->offset     = (int64_t)(1000000 + rnd(&x) % 100000);
                s->has_key    = true;
                s->key_len    = 36;
                for (int j = 0; j < 36; j++)
                        s->key[j] = j == 8 || j == 13 || j == 18 || j == 23
                                        ? '-'
                                        : "0123456789abcdef"[rnd(&x) % 16];
                s->has_body_size = true;
                s->body_size     = 50 + rnd(&x) % 2000;
                if (i % 2) {
                        s->kind       = KOTEL_KIND_CONSUMER;
                        s->op         = KOTEL_OP_PROCESS;
                        s->client     = kotel_client_ref(c);
                        s->has_parent = true;
                        for (int j = 0; j < 8; j++)
                                s->parent_span_id[j] = (uint8_t)rnd(&x);
                } else {
                        s->kind   = KOTEL_KIND_PRODUCER;
                        s->op     = KOTEL_OP_SEND;
                        s->client = kotel_client_ref(p);
                        if (i % 50 == 0) {
                                s->has_offset = false;
                                s->status     = KOTEL_STATUS_ERROR;
                                kotel_span_set_error_text(
                                    s, "msg_timed_out",
                                    "Local: Message timed out");
                        }
                }
                b[i] = s;
        }
        return b;
}

static struct kotel_trace_enc enc;
static struct kotel_gzip gzs;

/* One batch of @stage: encoded, maybe compressed, maybe sent. The
 * unit callgrind counts (--toggle-collect=one_batch). */
__attribute__((noinline)) static int one_batch(const char *stage,
                                               struct kotel_transport *t,
                                               struct kotel_span **spans,
                                               size_t batch, size_t *out_len,
                                               size_t *failures)
{
        uint8_t *ref = NULL, *gz = NULL;
        const uint8_t *body;
        size_t len = 0, gzlen = 0;

        if (!strcmp(stage, "encode-protobuf-c")) {
                if (kotel_otlp_encode_proto(spans, batch, &ref, &len) < 0)
                        return -1;
                free(ref);
                *out_len = len;
                return 0;
        }
        if (kotel_trace_enc_encode(&enc, spans, batch, &body, &len) < 0)
                return -1;
        if (!strcmp(stage, "encode+gzip") || !strcmp(stage, "send-gzip")) {
                if (kotel_gzip_compress(&gzs, body, len, &body, &len) < 0)
                        return -1;
        } else if (!strcmp(stage, "encode+zlib1")) {
                gzlen = compressBound((uLong)len) + 32;
                gz    = malloc(gzlen);
                if (!gz || gzip_fast(body, len, gz, &gzlen) < 0)
                        return -1;
                len = gzlen;
                free(gz);
        }
        if (t) {
                struct kotel_send_info info;

                if (kotel_transport_post(t, body, len, 10000, &info) !=
                    KOTEL_SEND_OK)
                        (*failures)++;
        }
        *out_len = len;
        return 0;
}

int main(int argc, char **argv)
{
        double seconds             = 2;
        size_t batch               = 512;
        size_t nbatches            = 0;
        const char *only           = NULL;
        struct kotel_client client = {.refs = 1}, consumer = {.refs = 1};
        bool mixed = false;
        struct kotel_span **spans;
        const char *stages[] = {"encode",      "encode-protobuf-c",
                                "encode+gzip", "encode+zlib1",
                                "send-gzip",   "send-none"};

        for (int i = 1; i < argc; i++) {
                const char *v = i + 1 < argc ? argv[i + 1] : "0";

                if (!strcmp(argv[i], "-m"))
                        mixed = true;
                else if (!strcmp(argv[i], "-s"))
                        seconds = atof(v), i++;
                else if (!strcmp(argv[i], "-b"))
                        batch = (size_t)atol(v), i++;
                else if (!strcmp(argv[i], "-n"))
                        nbatches = (size_t)atol(v), i++;
                else if (!strcmp(argv[i], "-S"))
                        only = v, i++;
        }
        client.client_id      = "kbench";
        client.server_address = "127.0.0.1";
        client.server_port    = 9092;
        client.resource       = kotel_resource_get();
        client.refs           = 1 << 30; /* never freed */
        consumer              = client;
        consumer.client_id    = "billing-1";
        consumer.group_id     = "billing";
        spans = mixed ? make_mixed_batch(batch, &client, &consumer)
                      : make_batch(batch, &client);

        for (size_t st = 0; st < sizeof(stages) / sizeof(*stages); st++) {
                const char *stage = stages[st];
                struct kotel_settings set;
                struct kotel_transport *t = NULL;
                double w0, c0, w, c;
                size_t n = 0, bytes = 0, failures = 0;

                if (only && strcmp(only, stage))
                        continue;

                if (!strncmp(stage, "send", 4)) {
                        setenv("OTEL_EXPORTER_OTLP_COMPRESSION",
                               strcmp(stage, "send-gzip") ? "none" : "gzip", 1);
                        kotel_settings_load(&set);
                        t = kotel_transport_new(&set);
                        if (!t) {
                                fprintf(stderr, "expbench: no transport\n");
                                return 2;
                        }
                }
                w0 = clock_s(CLOCK_MONOTONIC);
                c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
                do {
                        size_t len;

                        if (one_batch(stage, t, spans, batch, &len, &failures) <
                            0)
                                return 2;
                        n += batch;
                        bytes += len;
                } while (nbatches
                             ? n < nbatches * batch
                             : (w = clock_s(CLOCK_MONOTONIC) - w0) < seconds);
                w = clock_s(CLOCK_MONOTONIC) - w0;
                c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
                printf(
                    "result stage=%s batch=%zu spans=%zu secs=%.3f "
                    "spans_per_s=%.0f cpu_ns_per_span=%.1f "
                    "cpu_spans_per_s=%.0f bytes_per_span=%.1f failures=%zu\n",
                    stage, batch, n, w, n / w, c * 1e9 / (double)n,
                    (double)n / c, (double)bytes / (double)n, failures);
                fflush(stdout);
                if (t) {
                        kotel_transport_free(t);
                        kotel_settings_free(&set);
                }
        }
        return 0;
}
