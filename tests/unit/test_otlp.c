/* OTLP encoders: a batch with spans from two different resources (and one
 * with none) encodes to one request with a ResourceSpans per resource, as
 * decoded back by protobuf-c; the JSON encoder says the same; response
 * decoding handles partial success (of traces and of logs) and garbage; gzip round-trips, also
 * with its compressor and buffer reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exporter/otlp.h"
#include "exporter/gzip.h"
#include "tap.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest Req;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans RS;
typedef Opentelemetry__Proto__Trace__V1__Span PSpan;
typedef Opentelemetry__Proto__Common__V1__KeyValue KV;

static struct kotel_kv kv_a[] = {{"service.name", "svc-a", 0}, {"process.pid", NULL, 11}};
static struct kotel_kv kv_b[] = {{"service.name", "svc-b", 0}};
static const struct kotel_resource res_a = {2, kv_a}, res_b = {1, kv_b};

static struct kotel_client *client(const struct kotel_resource *r, const char *id,
                                   const char *group)
{
        struct kotel_client *c = kotel_client_new();

        c->client_id      = strdup(id);
        c->group_id       = group ? strdup(group) : NULL;
        c->server_address = strdup("broker");
        c->server_port    = 9092;
        c->resource       = r;
        return c;
}

static struct kotel_span *span(struct kotel_client *c, uint8_t id, enum kotel_op op)
{
        struct kotel_span *s = kotel_span_new();

        memset(s->trace_id, 0xa0 + id, 16);
        memset(s->span_id, id, 8);
        s->kind   = op == KOTEL_OP_SEND ? KOTEL_KIND_PRODUCER : KOTEL_KIND_CONSUMER;
        s->op     = op;
        s->client = kotel_client_ref(c);
        {
                static char names[256][16]; /* a span points at its topic */

                snprintf(names[id], sizeof(names[id]), "topic-%u", id);
                s->topic = names[id];
        }
        s->has_partition = true;
        s->partition     = id;
        s->has_offset    = true;
        s->offset        = 1000 + id;
        s->start_ns      = 1000;
        s->end_ns        = 2000 + id;
        kotel_span_reserve_links(s, 1);
        return s;
}

static const char *str_attr(KV **kv, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(kv[i]->key, key) && kv[i]->value->value_case ==
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
                        return kv[i]->value->string_value;
        return NULL;
}

static int64_t int_attr(KV **kv, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(kv[i]->key, key))
                        return kv[i]->value->int_value;
        return -1;
}

static void check_group(RS *rs, const char *svc, size_t n_spans, const uint8_t *ids)
{
        PSpan **sp = rs->scope_spans[0]->spans;
        int ok     = rs->n_scope_spans == 1 && rs->scope_spans[0]->n_spans == n_spans;
        char name[64];

        snprintf(name, sizeof(name), "resource %s: %zu spans", svc ? svc : "(none)",
                 n_spans);
        CHECK(ok && (svc ? rs->resource &&
                               !strcmp(str_attr(rs->resource->attributes,
                                                rs->resource->n_attributes,
                                                "service.name"),
                                       svc)
                         : rs->resource->n_attributes == 0),
              name);
        for (size_t i = 0; ok && i < n_spans; i++) {
                ok &= sp[i]->span_id.len == 8 && sp[i]->span_id.data[0] == ids[i];
                ok &= sp[i]->trace_id.len == 16 && sp[i]->trace_id.data[0] == 0xa0 + ids[i];
                ok &= int_attr(sp[i]->attributes, sp[i]->n_attributes,
                               "messaging.kafka.offset") == 1000 + ids[i];
                ok &= sp[i]->end_time_unix_nano == 2000u + ids[i];
        }
        snprintf(name, sizeof(name), "resource %s: its spans, in order",
                 svc ? svc : "(none)");
        CHECK(ok, name);
}

static void test_two_resources(struct kotel_span **s, size_t n)
{
        uint8_t *body;
        size_t len;
        Req *r;

        CHECK(kotel_otlp_encode_proto(s, n, &body, &len) == 0 && len > 0,
              "protobuf encode");
        r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, len, body);
        CHECK(r && r->n_resource_spans == 3, "decodes: 3 ResourceSpans");
        if (!r || r->n_resource_spans != 3)
                return;
        check_group(r->resource_spans[0], "svc-a", 2, (const uint8_t[]){1, 3});
        check_group(r->resource_spans[1], "svc-b", 2, (const uint8_t[]){2, 4});
        check_group(r->resource_spans[2], NULL, 1, (const uint8_t[]){5});
        CHECK(int_attr(r->resource_spans[0]->resource->attributes,
                       r->resource_spans[0]->resource->n_attributes,
                       "process.pid") == 11,
              "integer resource attribute");
        PSpan *b = r->resource_spans[1]->scope_spans[0]->spans[0];
        CHECK(!strcmp(b->name, "poll topic-2") &&
                  !strcmp(str_attr(b->attributes, b->n_attributes,
                                   "messaging.consumer.group.name"),
                          "grp") &&
                  b->n_links == 3 && b->links[2]->span_id.data[0] == 0x77,
              "span name, group and links of the second resource's span");
        PSpan *e = r->resource_spans[0]->scope_spans[0]->spans[1];
        CHECK(e->status && e->status->code == 2 && !strcmp(e->status->message, "boom") &&
                  !strcmp(e->trace_state, "k=v") && e->parent_span_id.len == 8,
              "status, tracestate and parent");
        CHECK(!strcmp(r->resource_spans[0]->scope_spans[0]->scope->name, "kotel"),
              "scope name");
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
        free(body);
}

static size_t count_of(const char *hay, const char *needle)
{
        size_t n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_json(struct kotel_span **s, size_t n)
{
        uint8_t *body;
        size_t len;
        char *j;

        CHECK(kotel_otlp_encode_json(s, n, &body, &len) == 0, "json encode");
        j = strndup((char *)body, len);
        CHECK(count_of(j, "\"resource\":") == 3 && count_of(j, "\"svc-a\"") == 1 &&
                  count_of(j, "\"svc-b\"") == 1,
              "json: one resource object per resource");
        CHECK(count_of(j, "\"spanId\":\"0101010101010101\"") == 1 &&
                  count_of(j, "\"traceId\":\"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\"") == 1,
              "json: hex ids");
        CHECK(count_of(j, "{\"key\":\"messaging.kafka.offset\",\"value\":{\"intValue\":\"1001\"}}") == 1,
              "json: 64-bit ints as strings");
        free(j);
        free(body);
}

static void test_many_resources(void)
{
        enum { N = 70 };
        struct kotel_resource res[N];
        struct kotel_kv kv[N];
        char names[N][16];
        struct kotel_client *c[N];
        struct kotel_span *s[N];
        uint8_t *body;
        size_t len, total = 0;
        Req *r;

        for (int i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "svc-%d", i);
                kv[i]  = (struct kotel_kv){"service.name", names[i], 0};
                res[i] = (struct kotel_resource){1, &kv[i]};
                c[i]   = client(&res[i], "c", NULL);
                s[i]   = span(c[i], (uint8_t)(i + 1), KOTEL_OP_SEND);
        }
        CHECK(kotel_otlp_encode_proto(s, N, &body, &len) == 0,
              "70 resources in one batch encode");
        r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, len, body);
        for (size_t g = 0; r && g < r->n_resource_spans; g++)
                total += r->resource_spans[g]->scope_spans[0]->n_spans;
        CHECK(r && r->n_resource_spans == 64 && total == N,
              "past 64 resources: grouped, no span lost");
        if (r)
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
                    r, NULL);
        free(body);
        for (int i = 0; i < N; i++) {
                kotel_span_free(s[i]);
                kotel_client_unref(c[i]);
        }
}

static void test_responses(void)
{
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        uint8_t buf[256] = {0};
        size_t len;
        int64_t rej = -1;
        char msg[64];
        const char *js = "{\"partialSuccess\":{\"rejectedSpans\":\"2\","
                         "\"errorMessage\":\"too \\\"old\\\"\"}}";

        CHECK(kotel_otlp_decode_response(buf, 0, &rej, msg, sizeof(msg)) == 0 &&
                  rej == 0 && !msg[0],
              "empty response: full success");
        ps.rejected_spans  = 3;
        ps.error_message   = "bad spans";
        resp.partial_success = &ps;
        len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
            &resp, buf);
        CHECK(kotel_otlp_decode_response(buf, len, &rej, msg, sizeof(msg)) == 0 &&
                  rej == 3 && !strcmp(msg, "bad spans"),
              "protobuf partial success");
        /* Found by the response_proto fuzzer: the protobuf message reached
         * the log with its newlines and escape sequences. */
        ps.error_message = "line1\nline2\x1b[31m\x7f";
        len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
            &resp, buf);
        CHECK(kotel_otlp_decode_response(buf, len, &rej, msg, sizeof(msg)) == 0 &&
                  !strcmp(msg, "line1 line2 [31m "),
              "proto_response_message_control_bytes_blanked");
        CHECK(kotel_otlp_decode_response_json(
                  (const uint8_t *)"{\"errorMessage\":\"a\x7f\x01" "b\"}", 23, &rej,
                  msg, sizeof(msg)) == 0 &&
                  !strcmp(msg, "a  b"),
              "json response message control bytes blanked");
        CHECK(kotel_otlp_decode_response((const uint8_t *)"garbage", 7, &rej, msg,
                                         sizeof(msg)) < 0,
              "protobuf garbage rejected");
        /* The logs exporter reads its response (over HTTP and, unframed,
         * over gRPC) with the same decoder: ExportLogsPartialSuccess's
         * rejected_log_records and error_message are fields 1 and 2, as
         * rejected_spans and error_message are. */
        {
                Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse lr =
                    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
                Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess lps =
                    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;

                lps.rejected_log_records = 5;
                lps.error_message        = "records too old";
                lr.partial_success       = &lps;
                len = opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(
                    &lr, buf);
                CHECK(kotel_otlp_decode_response(buf, len, &rej, msg, sizeof(msg)) == 0 &&
                          rej == 5 && !strcmp(msg, "records too old"),
                      "logs response partial success (rejected_log_records)");
        }
        /* And over http/json, where each signal names its count. */
        {
                static const char *const jl[] = {
                    "{\"partialSuccess\":{\"rejectedLogRecords\":\"4\","
                    "\"errorMessage\":\"late\"}}",
                    "{\"partialSuccess\":{\"rejectedDataPoints\":4,"
                    "\"errorMessage\":\"late\"}}",
                };

                for (size_t i = 0; i < sizeof(jl) / sizeof(jl[0]); i++)
                        CHECK(kotel_otlp_decode_response_json(
                                  (const uint8_t *)jl[i], strlen(jl[i]), &rej, msg,
                                  sizeof(msg)) == 0 &&
                                  rej == 4 && !strcmp(msg, "late"),
                              i ? "json partial success of metrics (rejectedDataPoints)"
                                : "json partial success of logs (rejectedLogRecords)");
        }
        CHECK(kotel_otlp_decode_response_json((const uint8_t *)js, strlen(js), &rej,
                                              msg, sizeof(msg)) == 0 &&
                  rej == 2 && !strcmp(msg, "too \"old\""),
              "json partial success");
        /* Found by the response_json fuzzer: the 19th digit was dropped,
         * so INT64_MAX came back as INT64_MAX / 10. */
        {
                static const char *const big[] = {
                    "{\"rejectedSpans\":\"9223372036854775807\"}",
                    "{\"rejectedSpans\":\"9223372036854775808\"}",
                    "{\"rejectedSpans\":99999999999999999999999}",
                };
                bool ok = true;

                for (int i = 0; i < 3; i++)
                        ok &= kotel_otlp_decode_response_json(
                                  (const uint8_t *)big[i], strlen(big[i]), &rej,
                                  msg, sizeof(msg)) == 0 &&
                              rej == INT64_MAX;
                ok &= kotel_otlp_decode_response_json(
                          (const uint8_t *)"{\"rejectedSpans\":\"922337203685477580\"}",
                          38, &rej, msg, sizeof(msg)) == 0 &&
                      rej == 922337203685477580LL;
                CHECK(ok, "json_rejected_spans_saturates_at_int64_max");
        }
        CHECK(kotel_otlp_decode_response_json((const uint8_t *)"{}", 2, &rej, msg,
                                              sizeof(msg)) == 0 &&
                  rej == 0,
              "json empty object");
        CHECK(kotel_otlp_decode_response_json((const uint8_t *)"garbage", 7, &rej,
                                              msg, sizeof(msg)) < 0,
              "json garbage rejected");
        /* Since json-c reads them: the whole body must be one object,
         * escapes are decoded, and a negative count is no count. */
        {
                static const char *const bad[] = {"{} x", "[1]", "{\"a\":",
                                                  "\"str\"", ""};
                bool ok = true;

                for (int i = 0; i < 5; i++)
                        ok &= kotel_otlp_decode_response_json(
                                  (const uint8_t *)bad[i], strlen(bad[i]), &rej,
                                  msg, sizeof(msg)) < 0;
                CHECK(ok, "json_response_not_one_object_rejected");
        }
        js = " {\"partialSuccess\":{\"rejectedSpans\":\"-4\","
             "\"errorMessage\":\"\\u0041\\n\\u00e9\"}}\n";
        CHECK(kotel_otlp_decode_response_json((const uint8_t *)js, strlen(js), &rej,
                                              msg, sizeof(msg)) == 0 &&
                  rej == 0 && !strcmp(msg, "A \xc3\xa9"),
              "json_response_escapes_decoded_negative_count_zero");
}

static void test_gzip(void)
{
        uint8_t in[5000], *gz, out[6000];
        size_t gz_len;
        uLongf out_len = sizeof(out);
        z_stream z     = {0};

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t)(i % 7);
        CHECK(kotel_gzip(in, sizeof(in), &gz, &gz_len) == 0 && gz_len < sizeof(in) &&
                  gz[0] == 0x1f && gz[1] == 0x8b,
              "gzip: smaller, gzip magic");
        inflateInit2(&z, 16 + MAX_WBITS);
        z.next_in   = gz;
        z.avail_in  = (uInt)gz_len;
        z.next_out  = out;
        z.avail_out = (uInt)out_len;
        CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == sizeof(in) &&
                  !memcmp(in, out, sizeof(in)),
              "gzip: inflates back");
        inflateEnd(&z);
        free(gz);
}

/* One compressor and output buffer reused across requests of different
 * sizes (as the exporter thread reuses them): every output is a gzip
 * member that zlib inflates back to its own input. */
static void test_gzip_reuse(void)
{
        static uint8_t in[200000], out[200000];
        static const size_t sizes[] = {150000, 10, 0, 200000 - 3, 5000};
        struct kotel_gzip z         = {0};
        bool ok                     = true;
        uint64_t x                  = 88172645463325252ull;

        /* Random bytes do not compress: each output is about as large as
         * its input, so a buffer kept from a smaller request is too small
         * for a larger one. */
        for (size_t i = 0; i < sizeof(in); i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                in[i] = (uint8_t)x;
        }
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                const uint8_t *gz;
                size_t gz_len;
                z_stream d = {0};

                if (kotel_gzip_compress(&z, in + k, sizes[k], &gz, &gz_len) <
                    0) {
                        ok = false;
                        break;
                }
                inflateInit2(&d, 16 + MAX_WBITS);
                d.next_in   = (Bytef *)gz;
                d.avail_in  = (uInt)gz_len;
                d.next_out  = out;
                d.avail_out = sizeof(out);
                ok &= inflate(&d, Z_FINISH) == Z_STREAM_END &&
                      d.avail_in == 0 && d.total_out == sizes[k] &&
                      !memcmp(out, in + k, sizes[k]);
                inflateEnd(&d);
        }
        kotel_gzip_free(&z);
        CHECK(ok,
              "gzip: one compressor reused for 5 requests, each inflates back");
}

int main(void)
{
        struct kotel_client *a = client(&res_a, "ca", NULL);
        struct kotel_client *b = client(&res_b, "cb", "grp");
        struct kotel_span *s[5];

        setvbuf(stdout, NULL, _IOLBF, 0);
        s[0] = span(a, 1, KOTEL_OP_SEND);
        s[1] = span(b, 2, KOTEL_OP_POLL);
        s[2] = span(a, 3, KOTEL_OP_SEND);
        s[3] = span(b, 4, KOTEL_OP_PROCESS);
        s[4] = span(NULL, 5, KOTEL_OP_SEND);
        kotel_span_reserve_links(s[1], 3);
        s[1]->n_links = 3;
        memset(s[1]->links[2].span_id, 0x77, 8);
        memset(s[1]->links[2].trace_id, 0x78, 16);
        s[2]->status = KOTEL_STATUS_ERROR;
        kotel_span_set_error_text(s[2], "", "boom");
        s[2]->tracestate = strdup("k=v");
        s[2]->has_parent = true;
        memset(s[2]->parent_span_id, 9, 8);
        test_two_resources(s, 5);
        test_json(s, 5);
        for (int i = 0; i < 5; i++)
                kotel_span_free(s[i]);
        kotel_client_unref(a);
        kotel_client_unref(b);
        test_many_resources();
        test_responses();
        test_gzip();
        test_gzip_reuse();
        TAP_DONE();
}
