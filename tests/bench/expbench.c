/* expbench: how many spans one exporter thread can encode, compress and
 * send, and the CPU each costs it.
 *
 * Linked with the agent's objects. Builds batches of send spans like the
 * producer path makes them (topic, partition, offset, key, body size,
 * client attributes, the process resource) and, on this one thread, for
 * -s SECONDS per stage:
 *   encode        kotel_otlp_encode_proto
 *   encode+gzip   the same plus kotel_gzip
 *   encode+gzip1  the same with zlib's fastest level instead (for scale)
 *   send          encode, then kotel_transport_post (which compresses when
 *                 configured) to OTEL_EXPORTER_OTLP_ENDPOINT, once with
 *                 OTEL_EXPORTER_OTLP_COMPRESSION=gzip and once with none
 * CPU is this thread's (CLOCK_THREAD_CPUTIME_ID): the collector's own work
 * is not in it, libcurl's and the kernel's sending side are.
 *
 *   expbench [-s SECONDS] [-b BATCH] [-n BATCHES] [-S STAGE]
 * -n runs exactly BATCHES batches per stage instead of SECONDS, and -S
 * only the stage named, for counting instructions under callgrind
 * (scripts/bench.py runs two counts and takes the difference).
 * One "result stage=... spans=N secs=S spans_per_s=R cpu_ns_per_span=C
 * bytes_per_span=B" line per stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "agent/resource.h"
#include "exporter/otlp.h"
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
                strcpy(s->topic, "orders");
                b[i] = s;
        }
        return b;
}

int main(int argc, char **argv)
{
        double seconds = 2;
        size_t batch = 512, batches = 0;
        const char *only           = NULL;
        struct kotel_client client = {.refs = 1};
        struct kotel_span **spans;
        const char *stages[] = {"encode", "encode+gzip", "encode+gzip1",
                                "send-gzip", "send-none"};

        for (int i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "-s"))
                        seconds = atof(argv[i + 1]);
                else if (!strcmp(argv[i], "-b"))
                        batch = (size_t)atol(argv[i + 1]);
                else if (!strcmp(argv[i], "-n"))
                        batches = (size_t)atol(argv[i + 1]);
                else if (!strcmp(argv[i], "-S"))
                        only = argv[i + 1];
        }
        client.client_id      = "kbench";
        client.server_address = "127.0.0.1";
        client.server_port    = 9092;
        client.resource       = kotel_resource_get();
        client.refs           = 1 << 30; /* never freed */
        spans                 = make_batch(batch, &client);

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
                        uint8_t *body = NULL, *gz = NULL;
                        size_t len = 0, gzlen = 0;

                        if (kotel_otlp_encode_proto(spans, batch, &body, &len) <
                            0)
                                return 2;
                        if (!strcmp(stage, "encode+gzip")) {
                                if (kotel_gzip(body, len, &gz, &gzlen) < 0)
                                        return 2;
                                len = gzlen;
                        } else if (!strcmp(stage, "encode+gzip1")) {
                                /* zlib's fastest level through zlib's
                                 * own helper, beside kotel_gzip (which
                                 * uses level 1 too since the change it
                                 * measured): a cross-check. */
                                gzlen = compressBound((uLong)len) + 32;
                                gz    = malloc(gzlen);
                                if (!gz || gzip_fast(body, len, gz, &gzlen) < 0)
                                        return 2;
                                len = gzlen;
                        } else if (t) {
                                struct kotel_send_info info;

                                if (kotel_transport_post(t, body, len, 10000,
                                                         &info) !=
                                    KOTEL_SEND_OK)
                                        failures++;
                        }
                        free(gz);
                        free(body);
                        n += batch;
                        bytes += len;
                } while ((w = clock_s(CLOCK_MONOTONIC) - w0),
                         batches ? n < batches * batch : w < seconds);
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
