/* OTLP/JSON encoding, per the OTLP specification's JSON mapping: ids as
 * lower-case hex, enums as integers, 64-bit integers as decimal strings,
 * lowerCamelCase field names. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "buf.h"
#include "log.h"
#include "otlp.h"
#include "version.h"

static void json_kv_str(struct kotel_buf *b, const char *key, const char *v,
                        size_t len)
{
        kotel_buf_puts(b, "{\"key\":");
        kotel_buf_json_str(b, key, strlen(key));
        kotel_buf_puts(b, ",\"value\":{\"stringValue\":");
        kotel_buf_json_str(b, v, len);
        kotel_buf_puts(b, "}}");
}

static void json_attrs(struct kotel_buf *b, const struct kotel_span *s)
{
        struct kotel_attr attrs[KOTEL_SPAN_ATTRS_MAX];
        struct kotel_attr_scratch scratch;
        size_t n = kotel_span_attrs(s, attrs, &scratch);

        kotel_buf_puts(b, "\"attributes\":[");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        kotel_buf_puts(b, ",");
                switch (attrs[i].type) {
                case KOTEL_ATTR_STR:
                        json_kv_str(b, attrs[i].key, attrs[i].s, attrs[i].slen);
                        break;
                case KOTEL_ATTR_INT:
                        kotel_buf_printf(b,
                                         "{\"key\":\"%s\",\"value\":{"
                                         "\"intValue\":\"%" PRId64 "\"}}",
                                         attrs[i].key, attrs[i].i);
                        break;
                case KOTEL_ATTR_BOOL:
                        kotel_buf_printf(b,
                                         "{\"key\":\"%s\",\"value\":{"
                                         "\"boolValue\":%s}}",
                                         attrs[i].key,
                                         attrs[i].i ? "true" : "false");
                        break;
                }
        }
        kotel_buf_puts(b, "]");
}

static void json_span(struct kotel_buf *b, const struct kotel_span *s)
{
        char name[KOTEL_TOPIC_MAX + 16];
        size_t nlen = kotel_span_name(s, name, sizeof(name));

        kotel_buf_puts(b, "{\"traceId\":\"");
        kotel_buf_hex(b, s->trace_id, 16);
        kotel_buf_puts(b, "\",\"spanId\":\"");
        kotel_buf_hex(b, s->span_id, 8);
        kotel_buf_puts(b, "\"");
        if (s->has_parent) {
                kotel_buf_puts(b, ",\"parentSpanId\":\"");
                kotel_buf_hex(b, s->parent_span_id, 8);
                kotel_buf_puts(b, "\"");
        }
        if (s->tracestate) {
                kotel_buf_puts(b, ",\"traceState\":");
                kotel_buf_json_str(b, s->tracestate, strlen(s->tracestate));
        }
        kotel_buf_printf(b, ",\"flags\":%u,\"name\":", (unsigned)s->flags);
        kotel_buf_json_str(b, name, nlen);
        kotel_buf_printf(b,
                         ",\"kind\":%u,\"startTimeUnixNano\":\"%" PRIu64
                         "\",\"endTimeUnixNano\":\"%" PRIu64 "\",",
                         (unsigned)s->kind, s->start_ns, s->end_ns);
        json_attrs(b, s);
        if (s->n_links) {
                kotel_buf_puts(b, ",\"links\":[");
                for (uint32_t i = 0; i < s->n_links; i++) {
                        kotel_buf_puts(b, i ? ",{\"traceId\":\"" : "{\"traceId\":\"");
                        kotel_buf_hex(b, s->links[i].trace_id, 16);
                        kotel_buf_puts(b, "\",\"spanId\":\"");
                        kotel_buf_hex(b, s->links[i].span_id, 8);
                        kotel_buf_printf(b, "\",\"flags\":%u}",
                                         (unsigned)s->links[i].flags);
                }
                kotel_buf_puts(b, "]");
        }
        if (s->status == KOTEL_STATUS_ERROR) {
                kotel_buf_puts(b, ",\"status\":{\"code\":2");
                if (s->status_msg && s->status_msg[0]) {
                        kotel_buf_puts(b, ",\"message\":");
                        kotel_buf_json_str(b, s->status_msg,
                                           strlen(s->status_msg));
                }
                kotel_buf_puts(b, "}");
        }
        kotel_buf_puts(b, "}");
}

void kotel_otlp_json_resource(struct kotel_buf *b,
                              const struct kotel_resource *r)
{
        kotel_buf_puts(b, "\"resource\":{\"attributes\":[");
        for (size_t i = 0; r && i < r->n; i++) {
                if (i)
                        kotel_buf_puts(b, ",");
                if (r->attrs[i].str)
                        json_kv_str(b, r->attrs[i].key, r->attrs[i].str,
                                    strlen(r->attrs[i].str));
                else
                        kotel_buf_printf(b,
                                         "{\"key\":\"%s\",\"value\":{"
                                         "\"intValue\":\"%" PRId64 "\"}}",
                                         r->attrs[i].key, r->attrs[i].i);
        }
        kotel_buf_puts(b, "]}");
}

int kotel_otlp_encode_json(struct kotel_span *const *spans, size_t n,
                           uint8_t **out, size_t *len)
{
        struct kotel_buf b = {0};
        size_t *group      = calloc(n ? n : 1, sizeof(*group));
        size_t n_groups;

        *out = NULL;
        *len = 0;
        if (!group)
                return -1;
        n_groups = kotel_otlp_group(spans, n, group);
        kotel_buf_puts(&b, "{\"resourceSpans\":[");
        for (size_t g = 0; g < n_groups; g++) {
                bool first = true;

                kotel_buf_puts(&b, g ? ",{" : "{");
                for (size_t i = 0; i < n; i++) {
                        if (group[i] != g)
                                continue;
                        if (first) {
                                kotel_otlp_json_resource(&b, spans[i]->client
                                                      ? spans[i]->client->resource
                                                      : NULL);
                                kotel_buf_puts(&b,
                                               ",\"scopeSpans\":[{\"scope\":{"
                                               "\"name\":\"" KOTEL_SCOPE_NAME
                                               "\",\"version\":\"" KOTEL_VERSION
                                               "\"},\"spans\":[");
                        } else {
                                kotel_buf_puts(&b, ",");
                        }
                        first = false;
                        json_span(&b, spans[i]);
                }
                kotel_buf_puts(&b, "]}]}");
        }
        kotel_buf_puts(&b, "]}");
        free(group);
        if (b.oom) {
                kotel_buf_free(&b);
                return -1;
        }
        *out = (uint8_t *)b.p;
        *len = b.len;
        return 0;
}

/* rejectedSpans: an int64 in the JSON mapping is a decimal string, but a
 * number is accepted too; json-c saturates both at INT64_MAX (a count
 * cut short would be ten times too small). Negative counts are 0. */
static int64_t json_count(struct json_object *v)
{
        int saved = errno;
        int64_t n = 0;

        if (json_object_is_type(v, json_type_string) ||
            json_object_is_type(v, json_type_int) ||
            json_object_is_type(v, json_type_double))
                n = json_object_get_int64(v);
        errno = saved;
        return n > 0 ? n : 0;
}

int kotel_otlp_decode_response_json(const uint8_t *body, size_t len,
                                    int64_t *rejected, char *msg,
                                    size_t msg_size)
{
        struct json_tokener *tok;
        struct json_object *root, *ps, *v;
        size_t end;
        int rc = -1;

        *rejected = 0;
        if (msg_size)
                msg[0] = '\0';
        if (len > INT32_MAX || !(tok = json_tokener_new()))
                return -1;
        root = json_tokener_parse_ex(tok, (const char *)body, (int)len);
        end  = root ? json_tokener_get_parse_end(tok) : 0;
        while (end < len && (body[end] == ' ' || body[end] == '\n' ||
                             body[end] == '\r' || body[end] == '\t'))
                end++;
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            end != len || !json_object_is_type(root, json_type_object))
                goto out;
        rc = 0;
        /* {"partialSuccess":{...}}; a bare {"rejectedSpans":...} too. */
        if (!json_object_object_get_ex(root, "partialSuccess", &ps) ||
            !json_object_is_type(ps, json_type_object))
                ps = root;
        /* The signal's own count: spans, data points or log records
         * (each response holds one of them). */
        if (json_object_object_get_ex(ps, "rejectedSpans", &v) ||
            json_object_object_get_ex(ps, "rejectedDataPoints", &v) ||
            json_object_object_get_ex(ps, "rejectedLogRecords", &v))
                *rejected = json_count(v);
        if (json_object_object_get_ex(ps, "errorMessage", &v) &&
            json_object_is_type(v, json_type_string) && msg_size) {
                const char *m = json_object_get_string(v);
                size_t n      = (size_t)json_object_get_string_len(v), o = 0;

                for (size_t i = 0; i < n && o + 1 < msg_size; i++)
                        msg[o++] = kotel_log_safe_char(m[i]);
                msg[o] = '\0';
        }
out:
        json_object_put(root);
        json_tokener_free(tok);
        return rc;
}
