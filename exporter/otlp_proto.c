/* OTLP/protobuf encoding with the protobuf-c code generated at build time
 * from exporter/proto. All the message structs of one request live in a
 * few arrays sized up front from the batch, so one export makes a handful
 * of allocations however many spans it carries. */
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "log.h"
#include "otlp.h"
#include "version.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    Request;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    Response;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Link Link;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;

#define NAME_MAX_LEN (KOTEL_TOPIC_MAX + 16)

/* Everything one request points into. */
struct arena {
        ResourceSpans *rs;
        ResourceSpans **rs_ptrs;
        ScopeSpans *ss;
        ScopeSpans **ss_ptrs;
        Resource *res;
        Span *spans;
        Span **span_ptrs; /* grouped: group g's spans are contiguous */
        Status *status;
        KeyValue *kv;
        KeyValue **kv_ptrs;
        AnyValue *av;
        Link *links;
        Link **link_ptrs;
        char *names;
        struct kotel_attr_scratch *scratch;
        char *key_copies; /* attribute strings need NUL termination */
        size_t *group;
        size_t *group_fill;
};

static void arena_free(struct arena *a)
{
        free(a->rs);
        free(a->rs_ptrs);
        free(a->ss);
        free(a->ss_ptrs);
        free(a->res);
        free(a->spans);
        free(a->span_ptrs);
        free(a->status);
        free(a->kv);
        free(a->kv_ptrs);
        free(a->av);
        free(a->links);
        free(a->link_ptrs);
        free(a->names);
        free(a->scratch);
        free(a->key_copies);
        free(a->group);
        free(a->group_fill);
}

size_t kotel_otlp_group(struct kotel_span *const *spans, size_t n,
                        size_t *group)
{
        const struct kotel_resource *seen[64];
        size_t n_seen = 0;

        for (size_t i = 0; i < n; i++) {
                const struct kotel_resource *r =
                    spans[i]->client ? spans[i]->client->resource : NULL;
                size_t g;

                for (g = 0; g < n_seen; g++)
                        if (seen[g] == r)
                                break;
                if (g == n_seen) {
                        if (n_seen == sizeof(seen) / sizeof(seen[0])) {
                                /* More resources than a batch should ever
                                 * hold: share the last group's resource
                                 * rather than fail the export. */
                                g = n_seen - 1;
                        } else {
                                seen[n_seen++] = r;
                        }
                }
                group[i] = g;
        }
        return n_seen;
}

static void set_kv(KeyValue *kv, AnyValue *av, const struct kotel_attr *a,
                   char **strbuf)
{
        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(av);
        kv->key   = (char *)a->key;
        kv->value = av;
        switch (a->type) {
        case KOTEL_ATTR_STR:
                memcpy(*strbuf, a->s, a->slen);
                (*strbuf)[a->slen] = '\0';
                av->value_case =
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
                av->string_value = *strbuf;
                *strbuf += a->slen + 1;
                break;
        case KOTEL_ATTR_INT:
                av->value_case =
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
                av->int_value = a->i;
                break;
        case KOTEL_ATTR_BOOL:
                av->value_case =
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
                av->bool_value = a->i != 0;
                break;
        }
}

static void set_resource_kv(KeyValue *kv, AnyValue *av,
                            const struct kotel_kv *r)
{
        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(av);
        kv->key   = (char *)r->key;
        kv->value = av;
        if (r->str) {
                av->value_case =
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
                av->string_value = (char *)r->str;
        } else {
                av->value_case =
                    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
                av->int_value = r->i;
        }
}

/* Upper bound of string bytes the span attributes need copied. */
static size_t attr_bytes(const struct kotel_span *s)
{
        const struct kotel_client *c = s->client;
        size_t b =
            64 + KOTEL_TOPIC_MAX + sizeof(s->key) + KOTEL_ERROR_MAX + 16 * 4;

        if (kotel_span_commit_offsets(s))
                b += strlen(kotel_span_commit_offsets(s)) + 1;

        if (c) {
                b += c->client_id ? strlen(c->client_id) + 1 : 0;
                b += c->group_id ? strlen(c->group_id) + 1 : 0;
                b += c->server_address ? strlen(c->server_address) + 1 : 0;
        }
        if (kotel_span_code(s)) {
                const struct kotel_code_loc *code = kotel_span_code(s);

                b += code->function ? strlen(code->function) + 1 : 0;
                b += code->file ? strlen(code->file) + 1 : 0;
        }
        return b;
}

static void fill_span(Span *ps, const struct kotel_span *s, char *name,
                      Status *st, KeyValue **kvp, KeyValue *kv, AnyValue *av,
                      struct kotel_attr_scratch *scratch, char **strbuf,
                      Link **lp, Link *links)
{
        struct kotel_attr attrs[KOTEL_SPAN_ATTRS_MAX];
        size_t na = kotel_span_attrs(s, attrs, scratch);

        opentelemetry__proto__trace__v1__span__init(ps);
        ps->trace_id.data = (uint8_t *)s->trace_id;
        ps->trace_id.len  = 16;
        ps->span_id.data  = (uint8_t *)s->span_id;
        ps->span_id.len   = 8;
        if (s->has_parent) {
                ps->parent_span_id.data = (uint8_t *)s->parent_span_id;
                ps->parent_span_id.len  = 8;
        }
        if (s->tracestate)
                ps->trace_state = s->tracestate;
        ps->flags = s->flags;
        kotel_span_name(s, name, NAME_MAX_LEN);
        ps->name                 = name;
        ps->kind                 = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
        ps->start_time_unix_nano = s->start_ns;
        ps->end_time_unix_nano   = s->end_ns;
        for (size_t i = 0; i < na; i++) {
                set_kv(&kv[i], &av[i], &attrs[i], strbuf);
                kvp[i] = &kv[i];
        }
        ps->n_attributes = na;
        ps->attributes   = kvp;
        for (uint32_t i = 0; i < s->n_links; i++) {
                opentelemetry__proto__trace__v1__span__link__init(&links[i]);
                links[i].trace_id.data = (uint8_t *)s->links[i].trace_id;
                links[i].trace_id.len  = 16;
                links[i].span_id.data  = (uint8_t *)s->links[i].span_id;
                links[i].span_id.len   = 8;
                links[i].flags         = s->links[i].flags;
                lp[i]                  = &links[i];
        }
        ps->n_links = s->n_links;
        ps->links   = s->n_links ? lp : NULL;
        opentelemetry__proto__trace__v1__status__init(st);
        if (s->status == KOTEL_STATUS_ERROR) {
                st->code =
                    OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
                if (s->status_msg && s->status_msg[0])
                        st->message = (char *)s->status_msg;
                ps->status = st;
        }
}

int kotel_otlp_encode_proto(struct kotel_span *const *spans, size_t n,
                            uint8_t **out, size_t *len)
{
        static char scope_name[]    = KOTEL_SCOPE_NAME;
        static char scope_version[] = KOTEL_VERSION;
        Scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
        Request req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
        struct arena a = {0};
        size_t n_groups, n_links = 0, n_res_kv = 0, str_bytes = 0;
        size_t kv_i = 0, link_i = 0;
        char *strbuf;
        int rc = -1;

        *out = NULL;
        *len = 0;
        for (size_t i = 0; i < n; i++) {
                n_links += spans[i]->n_links;
                str_bytes += attr_bytes(spans[i]);
        }
        a.group      = calloc(n ? n : 1, sizeof(*a.group));
        a.group_fill = calloc(n ? n : 1, sizeof(*a.group_fill));
        if (!a.group || !a.group_fill)
                goto out;
        n_groups = kotel_otlp_group(spans, n, a.group);
        for (size_t g = 0; g < n_groups; g++) {
                /* The first span of each group names its resource. */
                for (size_t i = 0; i < n; i++)
                        if (a.group[i] == g) {
                                const struct kotel_client *c = spans[i]->client;
                                if (c && c->resource)
                                        n_res_kv += c->resource->n;
                                break;
                        }
        }
        a.rs        = calloc(n_groups + 1, sizeof(*a.rs));
        a.rs_ptrs   = calloc(n_groups + 1, sizeof(*a.rs_ptrs));
        a.ss        = calloc(n_groups + 1, sizeof(*a.ss));
        a.ss_ptrs   = calloc(n_groups + 1, sizeof(*a.ss_ptrs));
        a.res       = calloc(n_groups + 1, sizeof(*a.res));
        a.spans     = calloc(n + 1, sizeof(*a.spans));
        a.span_ptrs = calloc(n + 1, sizeof(*a.span_ptrs));
        a.status    = calloc(n + 1, sizeof(*a.status));
        a.kv = calloc(n * KOTEL_SPAN_ATTRS_MAX + n_res_kv + 1, sizeof(*a.kv));
        a.kv_ptrs =
            calloc(n * KOTEL_SPAN_ATTRS_MAX + n_res_kv + 1, sizeof(*a.kv_ptrs));
        a.av = calloc(n * KOTEL_SPAN_ATTRS_MAX + n_res_kv + 1, sizeof(*a.av));
        a.links      = calloc(n_links + 1, sizeof(*a.links));
        a.link_ptrs  = calloc(n_links + 1, sizeof(*a.link_ptrs));
        a.names      = calloc(n + 1, NAME_MAX_LEN);
        a.scratch    = calloc(n + 1, sizeof(*a.scratch));
        a.key_copies = malloc(str_bytes + 1);
        if (!a.rs || !a.rs_ptrs || !a.ss || !a.ss_ptrs || !a.res || !a.spans ||
            !a.span_ptrs || !a.status || !a.kv || !a.kv_ptrs || !a.av ||
            !a.links || !a.link_ptrs || !a.names || !a.scratch || !a.key_copies)
                goto out;
        strbuf        = a.key_copies;
        scope.name    = scope_name;
        scope.version = scope_version;

        /* Count spans per group to lay each group's pointers out together. */
        for (size_t i = 0; i < n; i++)
                a.group_fill[a.group[i]]++;
        for (size_t g = 0, off = 0; g < n_groups; g++) {
                size_t cnt = a.group_fill[g];
                ResourceSpans *rs = &a.rs[g];
                ScopeSpans *ss    = &a.ss[g];
                Resource *res     = &a.res[g];

                opentelemetry__proto__trace__v1__resource_spans__init(rs);
                opentelemetry__proto__trace__v1__scope_spans__init(ss);
                opentelemetry__proto__resource__v1__resource__init(res);
                ss->scope       = &scope;
                ss->spans       = &a.span_ptrs[off];
                ss->n_spans     = 0;
                a.ss_ptrs[g]    = ss;
                rs->scope_spans = &a.ss_ptrs[g];
                rs->n_scope_spans = 1;
                rs->resource    = res;
                a.rs_ptrs[g]    = rs;
                a.group_fill[g] = off;
                off += cnt;
        }
        for (size_t i = 0; i < n; i++) {
                size_t g     = a.group[i];
                ScopeSpans *ss = &a.ss[g];
                Resource *res  = &a.res[g];
                const struct kotel_client *c = spans[i]->client;

                if (ss->n_spans == 0 && c && c->resource) {
                        res->attributes   = &a.kv_ptrs[kv_i];
                        res->n_attributes = c->resource->n;
                        for (size_t r = 0; r < c->resource->n; r++, kv_i++) {
                                set_resource_kv(&a.kv[kv_i], &a.av[kv_i],
                                                &c->resource->attrs[r]);
                                a.kv_ptrs[kv_i] = &a.kv[kv_i];
                        }
                }
                fill_span(&a.spans[i], spans[i], a.names + i * NAME_MAX_LEN,
                          &a.status[i], &a.kv_ptrs[kv_i], &a.kv[kv_i],
                          &a.av[kv_i], &a.scratch[i], &strbuf,
                          &a.link_ptrs[link_i], &a.links[link_i]);
                kv_i += a.spans[i].n_attributes;
                link_i += spans[i]->n_links;
                a.span_ptrs[a.group_fill[g] + ss->n_spans] = &a.spans[i];
                ss->n_spans++;
        }
        req.n_resource_spans = n_groups;
        req.resource_spans   = a.rs_ptrs;
        *len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
        *out = malloc(*len ? *len : 1);
        if (!*out)
                goto out;
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, *out);
        rc = 0;
out:
        arena_free(&a);
        return rc;
}

int kotel_otlp_decode_response(const uint8_t *body, size_t len,
                               int64_t *rejected, char *msg, size_t msg_size)
{
        Response *r;

        *rejected = 0;
        if (msg_size)
                msg[0] = '\0';
        r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
            NULL, len, body);
        if (!r)
                return -1;
        if (r->partial_success) {
                *rejected = r->partial_success->rejected_spans;
                if (r->partial_success->error_message && msg_size) {
                        strncpy(msg, r->partial_success->error_message,
                                msg_size - 1);
                        msg[msg_size - 1] = '\0';
                        /* The collector's text goes into our log line: no
                         * newlines or escape sequences (as for JSON). */
                        for (char *p = msg; *p; p++)
                                *p = kotel_log_safe_char(*p);
                }
        }
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
            r, NULL);
        return 0;
}
