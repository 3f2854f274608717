/* The hand-written OTLP trace encoder writes exactly the bytes of the
 * protobuf-c reference (kotel_otlp_encode_proto) for: pseudo-random
 * batches covering every span, client and resource field present and
 * absent (otlp_gen.h); sweeps that put every kind of length prefix on both
 * sides of the varint boundaries 127/128, 16383/16384 and 2097151/2097152
 * (checked, not assumed: the test records which lengths it produced);
 * more resources than kotel_otlp_group tells apart; an empty batch; and
 * one encoder reused across all of it, as the exporter reuses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_gen.h"
#include "tap.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    Req;

/* Which boundary lengths a test has seen, per kind of message. */
enum {
        SEEN_KV,
        SEEN_RESOURCE,
        SEEN_SPAN,
        SEEN_SCOPE_SPANS,
        SEEN_RS,
        SEEN_KINDS
};
static const size_t edges[] = {127, 128, 16383, 16384, 2097151, 2097152};
#define N_EDGES (sizeof(edges) / sizeof(edges[0]))
static bool seen[SEEN_KINDS][N_EDGES];

static void note(int kind, size_t len)
{
        for (size_t i = 0; i < N_EDGES; i++)
                if (len == edges[i])
                        seen[kind][i] = true;
}

/* Records the sizes of every nested message of the request @body. */
static void note_sizes(const uint8_t *body, size_t len)
{
        Req *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, len, body);

        if (!r)
                return;
        for (size_t i = 0; i < r->n_resource_spans; i++) {
                Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
                    r->resource_spans[i];

                note(
                    SEEN_RS,
                    opentelemetry__proto__trace__v1__resource_spans__get_packed_size(
                        rs));
                note(
                    SEEN_RESOURCE,
                    opentelemetry__proto__resource__v1__resource__get_packed_size(
                        rs->resource));
                for (size_t k = 0; k < rs->resource->n_attributes; k++)
                        note(
                            SEEN_KV,
                            opentelemetry__proto__common__v1__key_value__get_packed_size(
                                rs->resource->attributes[k]));
                for (size_t j = 0; j < rs->n_scope_spans; j++) {
                        Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                            rs->scope_spans[j];

                        note(
                            SEEN_SCOPE_SPANS,
                            opentelemetry__proto__trace__v1__scope_spans__get_packed_size(
                                ss));
                        for (size_t s = 0; s < ss->n_spans; s++) {
                                Opentelemetry__Proto__Trace__V1__Span *sp =
                                    ss->spans[s];

                                note(
                                    SEEN_SPAN,
                                    opentelemetry__proto__trace__v1__span__get_packed_size(
                                        sp));
                                for (size_t k = 0; k < sp->n_attributes; k++)
                                        note(
                                            SEEN_KV,
                                            opentelemetry__proto__common__v1__key_value__get_packed_size(
                                                sp->attributes[k]));
                        }
                }
        }
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
}

static struct kotel_trace_enc enc;
static size_t mismatches;

static void compare(struct kotel_span *const *spans, size_t n, bool sizes)
{
        size_t len;

        if (!gen_same_bytes(&enc, spans, n, &len)) {
                mismatches++;
                return;
        }
        if (sizes) {
                const uint8_t *body;

                kotel_trace_enc_encode(&enc, spans, n, &body, &len);
                note_sizes(body, len);
        }
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint8_t rand8(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint8_t)(rng >> 24);
}

static void test_random(void)
{
        static uint8_t bytes[16384];
        size_t batches = 0, spans = 0;
        char name[96];

        mismatches = 0;
        for (int it = 0; it < 2000; it++) {
                struct kotel_span *b[48];
                struct gen_world w;
                struct gen g = {bytes, sizeof(bytes)};
                size_t n;

                for (size_t i = 0; i < sizeof(bytes); i++)
                        bytes[i] = rand8();
                gen_world_init(&g, &w);
                n = gen_u8(&g) % 48;
                for (size_t i = 0; i < n; i++)
                        b[i] = gen_span(&g, &w);
                compare(b, n, true);
                for (size_t i = 0; i < n; i++)
                        kotel_span_free(b[i]);
                gen_world_free(&w);
                batches++;
                spans += n;
        }
        snprintf(name, sizeof(name),
                 "%zu random batches (%zu spans): byte-identical to protobuf-c",
                 batches, spans);
        CHECK(mismatches == 0, name);
}

static struct kotel_resource one_res(struct kotel_kv *kv, const char *key,
                                     const char *val)
{
        kv->key = key;
        kv->str = val;
        kv->i   = 0;
        return (struct kotel_resource){1, kv};
}

/* One span with every attribute, its sizes moved by the given lengths. */
static struct kotel_span *full_span(struct kotel_client *c, size_t topic,
                                    size_t key, uint32_t links)
{
        struct kotel_span *s = kotel_span_new();

        memset(s->trace_id, 0x11, 16);
        memset(s->span_id, 0x22, 8);
        memset(s->parent_span_id, 0x33, 8);
        s->has_parent    = true;
        s->flags         = 1;
        s->kind          = KOTEL_KIND_CONSUMER;
        s->op            = KOTEL_OP_POLL;
        s->status        = KOTEL_STATUS_ERROR;
        s->has_partition = true;
        s->partition     = 7;
        s->has_offset    = true;
        s->offset        = 1234567;
        s->has_key       = key > 0;
        s->key_len       = (uint16_t)key;
        memset(s->key, 'k', key);
        s->tombstone     = true;
        s->has_body_size = true;
        s->body_size     = 100;
        s->batch_count   = 3;
        s->start_ns      = 1700000000000000000ull;
        s->end_ns        = s->start_ns + 5;
        {
                char *t = malloc(topic + 1);

                memset(t, 't', topic);
                t[topic]       = '\0';
                s->topic       = t;
                s->topic_owned = true;
        }
        kotel_span_set_error_text(s, "broker_not_available",
                                  "Local: Broker transport failure");
        s->tracestate     = strdup("vendor=value");
        s->client         = kotel_client_ref(c);
        if (kotel_span_reserve_links(s, links) == 0 && links) {
                s->n_links = links;
                for (uint32_t i = 0; i < links; i++) {
                        memset(s->links[i].trace_id, (int)i, 16);
                        memset(s->links[i].span_id, (int)i + 1, 8);
                        s->links[i].flags = 0;
                }
        }
        return s;
}

/* The encoded size of full_span's span body, per protobuf-c. */
static size_t span_size(struct kotel_client *c, uint32_t links, size_t key)
{
        struct kotel_span *s = full_span(c, 6, key, links);
        uint8_t *body;
        size_t len, size = 0;
        Req *r;

        if (kotel_otlp_encode_proto(&s, 1, &body, &len) == 0) {
                r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                    NULL, len, body);
                if (r)
                        size =
                            opentelemetry__proto__trace__v1__span__get_packed_size(
                                r->resource_spans[0]->scope_spans[0]->spans[0]);
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
                    r, NULL);
                free(body);
        }
        kotel_span_free(s);
        return size;
}

static void test_boundaries(void)
{
        struct kotel_kv kv;
        struct kotel_resource res;
        struct kotel_client c = {.refs           = 1 << 20,
                                 .group_id       = "g",
                                 .client_id      = "c",
                                 .server_address = "h",
                                 .server_port    = 9092};
        char val[300];
        static const char *kind_names[] = {"key-value", "resource", "span",
                                           "scope-spans", "resource-spans"};

        mismatches = 0;
        memset(seen, 0, sizeof(seen));
        /* Key-values and the resource across 127/128: a resource value of
         * growing length, and a topic of growing length. */
        for (size_t n = 0; n < 200; n++) {
                struct kotel_span *s;

                memset(val, 'v', n);
                val[n]     = '\0';
                res        = one_res(&kv, "service.name", val);
                c.resource = &res;
                s          = full_span(&c, n % (KOTEL_TOPIC_MAX + 1), 1, 0);
                compare(&s, 1, true);
                kotel_span_free(s);
        }
        res        = one_res(&kv, "service.name", "svc");
        c.resource = &res;
        /* A span, its scope-spans and resource-spans across 16383/16384
         * and 2097151/2097152: 30 bytes a link, and the key moves the size
         * one byte at a time, so every size near the targets is hit. */
        for (size_t t = 0; t < 3; t++) {
                static const size_t target[] = {16384, 2097152};
                size_t base                  = span_size(&c, 0, 1);

                if (t == 2 || base == 0)
                        break;
                for (size_t d = target[t] - 110; d < target[t] + 10; d++) {
                        uint32_t links       = (uint32_t)((d - base) / 30);
                        size_t key           = 1 + (d - base) % 30;
                        struct kotel_span *s = full_span(&c, 6, key, links);

                        compare(&s, 1, true);
                        kotel_span_free(s);
                }
        }
        CHECK(mismatches == 0, "boundary sweeps: byte-identical to protobuf-c");
        for (int k = 0; k < SEEN_KINDS; k++)
                for (size_t i = 0; i < N_EDGES; i++) {
                        char name[96];

                        /* Spans are 128 bytes at least; a resource or
                         * key-value never reaches 16 KiB here. */
                        if ((k == SEEN_SPAN || k == SEEN_SCOPE_SPANS ||
                             k == SEEN_RS)
                                ? edges[i] < 16383
                                : edges[i] > 128)
                                continue;
                        snprintf(name, sizeof(name),
                                 "a %s of exactly %zu bytes was encoded",
                                 kind_names[k], edges[i]);
                        CHECK(seen[k][i], name);
                }
}

/* More resources than kotel_otlp_group tells apart (64): the rest share
 * the last group, in both encoders alike. */
static void test_many_resources(void)
{
        enum { N = 70 };
        static struct kotel_kv kv[N];
        static struct kotel_resource res[N];
        static struct kotel_client c[N];
        static char names[N][16];
        struct kotel_span *s[N];

        mismatches = 0;
        for (int i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "svc-%d", i);
                res[i] = one_res(&kv[i], "service.name", names[i]);
                c[i]   = (struct kotel_client){.refs      = 1 << 20,
                                               .client_id = names[i],
                                               .resource  = &res[i]};
                s[i]   = full_span(&c[i], 5, 3, i % 3);
        }
        compare(s, N, false);
        CHECK(mismatches == 0, "70 resources in one batch: byte-identical");
        for (int i = 0; i < N; i++)
                kotel_span_free(s[i]);
}

static void test_empty(void)
{
        const uint8_t *body;
        size_t len = 1;

        CHECK(kotel_trace_enc_encode(&enc, NULL, 0, &body, &len) == 0 &&
                  len == 0,
              "an empty batch is an empty request");
}

int main(void)
{
        test_empty();
        test_random();
        test_boundaries();
        test_many_resources();
        kotel_trace_enc_free(&enc);
        TAP_DONE();
}
