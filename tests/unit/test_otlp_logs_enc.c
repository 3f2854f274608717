/* The hand-written OTLP logs encoder writes exactly the bytes protobuf-c
 * writes for the same ExportLogsServiceRequest: pseudo-random records
 * (every syslog level and one out of range, with and without client,
 * facility, broker, port, error, span context, trace flags, time; empty
 * and 2048-byte bodies), records of two resources interleaved (grouped in
 * first-seen order), no records, and a request over 2 MiB (length
 * prefixes that must grow); one buffer reused across all of it. Also
 * kotel_kafka_log_parse_broker on librdkafka's line shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kafka_log.h"
#include "otlp.h"
#include "otlp_logs_enc.h"
#include "tap.h"
#include "version.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "pbc_tree.h"

#define PB(x) Opentelemetry__Proto__Logs__V1__##x

/* The mapping docs/logs.md documents, written out again. */
static const int sev[8]         = {23, 22, 21, 17, 13, 10, 9, 5};
static const char *const txt[8] = {"emerg", "alert", "crit", "err",
                                   "warning", "notice", "info", "debug"};

static PB(LogRecord) * record(const struct kotel_logrec *r)
{
        PB(LogRecord) *x = calloc(1, sizeof(*x));
        KV **a           = calloc(10, sizeof(*a));
        size_t n         = 0;

        opentelemetry__proto__logs__v1__log_record__init(x);
        x->time_unix_nano          = r->time_ns;
        x->observed_time_unix_nano = r->time_ns;
        x->severity_number         = r->level < 8 ? sev[r->level] : 0;
        x->severity_text           = (char *)(r->level < 8 ? txt[r->level] : "");
        x->body                    = av_str(r->body);
        a[n++]                     = kv_str("messaging.system", "kafka");
        if (r->client && r->client->client_id && r->client->client_id[0])
                a[n++] = kv_str("messaging.client.id", r->client->client_id);
        if (r->fac[0])
                a[n++] = kv_str("kotel.kafka.log.facility", r->fac);
        if (r->broker[0]) {
                a[n++] = kv_str("kotel.kafka.broker", r->broker);
                if (r->host[0])
                        a[n++] = kv_str("server.address", r->host);
                if (r->port > 0)
                        a[n++] = kv_int("server.port", r->port);
        }
        if (r->has_err) {
                if (r->err_name && r->err_name[0])
                        a[n++] = kv_str("error.type", r->err_name);
                a[n++] = kv_int("kotel.kafka.error.code", r->err);
        }
        x->attributes   = a;
        x->n_attributes = n;
        if (r->has_ctx) {
                x->flags         = r->flags;
                x->trace_id.data = (uint8_t *)r->trace_id;
                x->trace_id.len  = 16;
                x->span_id.data  = (uint8_t *)r->span_id;
                x->span_id.len   = 8;
        }
        return x;
}

static const struct kotel_resource *res_of(const struct kotel_logrec *r)
{
        return r->client ? r->client->resource : NULL;
}

static uint8_t *reference(struct kotel_logrec *const *recs, size_t n,
                          size_t *len)
{
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
        Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
            OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
        uint8_t *out;

        scope.name       = KOTEL_SCOPE_NAME;
        scope.version    = KOTEL_VERSION;
        req.resource_logs = calloc(n + 1, sizeof(void *));
        for (size_t i = 0; i < n; i++) {
                const struct kotel_resource *r = res_of(recs[i]);
                PB(ResourceLogs) *rl;
                PB(ScopeLogs) *sl;
                Opentelemetry__Proto__Resource__V1__Resource *res;
                bool seen = false;

                for (size_t j = 0; j < i; j++)
                        seen |= res_of(recs[j]) == r;
                if (seen)
                        continue;
                rl  = calloc(1, sizeof(*rl));
                sl  = calloc(1, sizeof(*sl));
                res = calloc(1, sizeof(*res));
                opentelemetry__proto__logs__v1__resource_logs__init(rl);
                opentelemetry__proto__logs__v1__scope_logs__init(sl);
                opentelemetry__proto__resource__v1__resource__init(res);
                res->attributes = calloc(r ? r->n + 1 : 1, sizeof(void *));
                for (size_t k = 0; r && k < r->n; k++)
                        res->attributes[res->n_attributes++] =
                            r->attrs[k].str
                                ? kv_str(r->attrs[k].key, r->attrs[k].str)
                                : kv_int(r->attrs[k].key, r->attrs[k].i);
                sl->scope       = &scope;
                sl->log_records = calloc(n + 1, sizeof(void *));
                for (size_t j = i; j < n; j++)
                        if (res_of(recs[j]) == r)
                                sl->log_records[sl->n_log_records++] =
                                    record(recs[j]);
                rl->resource    = res;
                rl->scope_logs  = calloc(1, sizeof(void *));
                rl->scope_logs[0] = sl;
                rl->n_scope_logs  = 1;
                req.resource_logs[req.n_resource_logs++] = rl;
        }
        *len =
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
                &req);
        out = malloc(*len + 1);
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(
            &req, out);
        tree_free();
        return out;
}

#undef calloc

static struct kotel_kv res_attrs[] = {
    {"service.name", "billing", 0},
    {"process.pid", NULL, 4242},
};
static struct kotel_kv res2_attrs[] = {{"service.name", "other", 0}};
static struct kotel_resource resource  = {2, res_attrs};
static struct kotel_resource resource2 = {1, res2_attrs};
static struct kotel_client clients[3] = {
    {1, "c1", NULL, "broker-1.example", 9092, &resource},
    {1, "", "g", NULL, 0, &resource},
    {1, "c3", "g", NULL, 0, &resource2},
};
static const char *facs[]   = {"", "FAIL", "ERROR", "CONFWARN", "DR"};
static const char *names[]  = {NULL, "_TRANSPORT", "", "_MSG_TIMED_OUT"};
static const char *brokers[] = {"", "127.0.0.1:9092/bootstrap",
                                "kafka-0.example:19092/1"};

static struct kotel_logrec *gen(size_t body_len)
{
        struct kotel_logrec *r = calloc(1, sizeof(*r) + body_len + 1);
        size_t b               = rnd(3);

        r->time_ns = rnd(4) ? 1700000000000000000ull + rnd(1ull << 40) : 0;
        r->level   = (uint8_t)rnd(9); /* 8: out of range */
        r->client  = rnd(5) ? &clients[rnd(3)] : NULL;
        snprintf(r->fac, sizeof(r->fac), "%s", facs[rnd(5)]);
        snprintf(r->broker, sizeof(r->broker), "%s", brokers[b]);
        if (b)
                snprintf(r->host, sizeof(r->host), "%s",
                         b == 1 ? "127.0.0.1" : "kafka-0.example");
        r->port = b && rnd(4) ? (int)rnd(65536) : 0;
        if ((r->has_err = rnd(2))) {
                r->err      = (int32_t)rnd(400) - 200;
                r->err_name = names[rnd(4)];
        }
        if ((r->has_ctx = rnd(2))) {
                for (int k = 0; k < 16; k++)
                        r->trace_id[k] = (uint8_t)rnd(256);
                for (int k = 0; k < 8; k++)
                        r->span_id[k] = (uint8_t)rnd(256);
                r->flags = (uint8_t)rnd(2);
        }
        r->body_len = (uint32_t)body_len;
        for (size_t i = 0; i < body_len; i++)
                r->body[i] = (char)(' ' + rnd(95));
        return r;
}

static bool same_bytes(struct kotel_pbw *w, struct kotel_logrec *const *recs,
                       size_t n)
{
        size_t len;
        uint8_t *ref = reference(recs, n, &len);
        bool ok = kotel_logs_enc_encode(w, recs, n) == 0 && w->len == len &&
                  !memcmp(w->p, ref, len);

        if (!ok)
                fprintf(stderr, "# mine %zu bytes, protobuf-c %zu\n", w->len,
                        len);
        free(ref);
        return ok;
}

static void free_all(struct kotel_logrec **recs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(recs[i]);
}

static bool broker_is(const char *line, const char *name, const char *want,
                      const char *host, int port)
{
        char b[128], h[128];
        int p;
        bool ok = kotel_kafka_log_parse_broker(line, name, b, h, sizeof(b), &p);

        if (!want)
                return !ok && !b[0] && !h[0] && p == 0;
        return ok && !strcmp(b, want) && !strcmp(h, host) && p == port;
}

int main(void)
{
        struct kotel_pbw w = {0};
        static struct kotel_logrec *recs[1200];
        bool all = true;

        for (int round = 0; round < 300; round++) {
                size_t n = rnd(12);

                for (size_t i = 0; i < n; i++)
                        recs[i] = gen(rnd(4) ? rnd(300) : rnd(2) ? 0 : 2048);
                all &= same_bytes(&w, recs, n);
                free_all(recs, n);
        }
        CHECK(all, "300 random requests: the same bytes as protobuf-c");
        for (size_t i = 0; i < 1200; i++)
                recs[i] = gen(2048);
        CHECK(same_bytes(&w, recs, 1200),
              "a request over 2 MiB: the same bytes as protobuf-c");
        CHECK(w.len > (2u << 20), "that request is over 2 MiB");
        free_all(recs, 1200);
        CHECK(same_bytes(&w, NULL, 0), "no records: the same bytes");
        kotel_pbw_free(&w);
        free(tree);

        CHECK(broker_is("[thrd:127.0.0.1:9092/bootstrap]: 127.0.0.1:9092/"
                        "bootstrap: Connect to ipv4#127.0.0.1:9092 failed",
                        "rdkafka#producer-1", "127.0.0.1:9092/bootstrap",
                        "127.0.0.1", 9092),
              "a broker thread's line names its broker");
        CHECK(broker_is("[thrd:app]: rdkafka#producer-1: 127.0.0.1:1/1: "
                        "Connect failed",
                        "rdkafka#producer-1", "127.0.0.1:1/1", "127.0.0.1", 1),
              "an ERROR line: the client's name is skipped");
        CHECK(broker_is("sasl_ssl://kafka-0.example:9093/3: Disconnected",
                        NULL, "sasl_ssl://kafka-0.example:9093/3",
                        "kafka-0.example", 9093),
              "a scheme is kept in the broker, not in the host");
        CHECK(broker_is("[::1]:9092/bootstrap: Connect failed", NULL,
                        "[::1]:9092/bootstrap", "::1", 9092),
              "an IPv6 broker");
        CHECK(broker_is("[thrd:main]: 1/1 brokers are down", NULL, NULL, NULL,
                        0),
              "\"1/1 brokers are down\" names no broker");
        CHECK(broker_is(":0/internal: Enter main broker thread", NULL, NULL,
                        NULL, 0),
              "the internal broker (no host) is none");
        CHECK(broker_is("Group \"g\": join with 1 subscribed topic(s)", NULL,
                        NULL, NULL, 0),
              "a line with spaces before its colon names none");
        CHECK(broker_is("host:99999/1: x", NULL, NULL, NULL, 0),
              "a port over 65535 is none");
        CHECK(broker_is("host:9092/: x", NULL, NULL, NULL, 0),
              "no node id: none");
        CHECK(broker_is("no colon at all", NULL, NULL, NULL, 0),
              "a line without \": \": none");
        TAP_DONE();
}
