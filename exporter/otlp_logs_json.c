/* OTLP/JSON for log records (OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json),
 * per the OTLP JSON mapping as otlp_json.c writes spans: ids as lower-case
 * hex, enums as integers, 64-bit integers as decimal strings,
 * lowerCamelCase field names. The same records, attributes and grouping as
 * the protobuf encoder (otlp_logs_enc.c). */
#include <inttypes.h>
#include <string.h>

#include "otlp.h"
#include "otlp_logs_enc.h"
#include "version.h"

static void kv_str(struct kotel_buf *b, bool *first, const char *key,
                   const char *v)
{
        kotel_buf_puts(b, *first ? "{\"key\":" : ",{\"key\":");
        *first = false;
        kotel_buf_json_str(b, key, strlen(key));
        kotel_buf_puts(b, ",\"value\":{\"stringValue\":");
        kotel_buf_json_str(b, v, strlen(v));
        kotel_buf_puts(b, "}}");
}

static void kv_int(struct kotel_buf *b, bool *first, const char *key,
                   int64_t v)
{
        kotel_buf_printf(b, "%s{\"key\":\"%s\",\"value\":{\"intValue\":\"%" PRId64
                            "\"}}",
                         *first ? "" : ",", key, v);
        *first = false;
}

static void json_record(struct kotel_buf *b, const struct kotel_logrec *r)
{
        bool first = true;

        kotel_buf_puts(b, "{");
        if (r->time_ns)
                kotel_buf_printf(b,
                                 "\"timeUnixNano\":\"%" PRIu64
                                 "\",\"observedTimeUnixNano\":\"%" PRIu64
                                 "\",",
                                 r->time_ns, r->time_ns);
        kotel_buf_printf(b, "\"severityNumber\":%d,\"severityText\":\"%s\","
                            "\"body\":{\"stringValue\":",
                         kotel_logrec_severity(r->level),
                         kotel_logrec_severity_text(r->level));
        kotel_buf_json_str(b, r->body, r->body_len);
        kotel_buf_puts(b, "},\"attributes\":[");
        kv_str(b, &first, "messaging.system", "kafka");
        if (r->client && r->client->client_id && r->client->client_id[0])
                kv_str(b, &first, "messaging.client.id", r->client->client_id);
        if (r->fac[0])
                kv_str(b, &first, KOTEL_LOG_ATTR_FACILITY, r->fac);
        if (r->broker[0]) {
                kv_str(b, &first, KOTEL_LOG_ATTR_BROKER, r->broker);
                if (r->host[0])
                        kv_str(b, &first, "server.address", r->host);
                if (r->port > 0)
                        kv_int(b, &first, "server.port", r->port);
        }
        if (r->has_err) {
                if (r->err_name && r->err_name[0])
                        kv_str(b, &first, "error.type", r->err_name);
                kv_int(b, &first, KOTEL_LOG_ATTR_ERR_CODE, r->err);
        }
        kotel_buf_puts(b, "]");
        if (r->has_ctx) {
                kotel_buf_printf(b, ",\"flags\":%u,\"traceId\":\"",
                                 (unsigned)r->flags);
                kotel_buf_hex(b, r->trace_id, 16);
                kotel_buf_puts(b, "\",\"spanId\":\"");
                kotel_buf_hex(b, r->span_id, 8);
                kotel_buf_puts(b, "\"");
        }
        kotel_buf_puts(b, "}");
}

static void json_resource(struct kotel_buf *b, const struct kotel_resource *r)
{
        bool first = true;

        kotel_buf_puts(b, "\"resource\":{\"attributes\":[");
        for (size_t i = 0; r && i < r->n; i++) {
                if (r->attrs[i].str)
                        kv_str(b, &first, r->attrs[i].key, r->attrs[i].str);
                else
                        kv_int(b, &first, r->attrs[i].key, r->attrs[i].i);
        }
        kotel_buf_puts(b, "]}");
}

static const struct kotel_resource *res_of(const struct kotel_logrec *r)
{
        return r->client ? r->client->resource : NULL;
}

int kotel_logs_enc_json(struct kotel_buf *b, struct kotel_logrec *const *recs,
                        size_t n)
{
        bool first_group = true;

        b->len = 0;
        b->oom = false;
        kotel_buf_puts(b, "{\"resourceLogs\":[");
        for (size_t i = 0; i < n; i++) {
                const struct kotel_resource *res = res_of(recs[i]);
                bool seen = false, first = true;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = res_of(recs[j]) == res;
                if (seen)
                        continue;
                kotel_buf_puts(b, first_group ? "{" : ",{");
                first_group = false;
                json_resource(b, res);
                kotel_buf_puts(b, ",\"scopeLogs\":[{\"scope\":{\"name\":\"" KOTEL_SCOPE_NAME
                                  "\",\"version\":\"" KOTEL_VERSION
                                  "\"},\"logRecords\":[");
                for (size_t j = i; j < n; j++) {
                        if (res_of(recs[j]) != res)
                                continue;
                        if (!first)
                                kotel_buf_puts(b, ",");
                        first = false;
                        json_record(b, recs[j]);
                }
                kotel_buf_puts(b, "]}]}");
        }
        kotel_buf_puts(b, "]}");
        return b->oom ? -1 : 0;
}
