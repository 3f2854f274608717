/* OTEL_TRACES_EXPORTER=console: one line a span on stderr.
 *
 * Exporter thread only (called from exporter.c's export_batch with a batch
 * the worker took off the queue); borrows the spans, owns no state. Each
 * span is formatted into one buffer and written with one fwrite (stderr is
 * unbuffered), so that its line reaches stderr in one piece. */
#include "console.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "attrs.h"
#include "log.h"
#include "otlp_common.h"

void kotel_console_appendf(char *line, size_t cap, int *o, const char *fmt,
                           ...)
{
        va_list ap;

        if (*o >= (int)cap)
                return;
        va_start(ap, fmt);
        *o += vsnprintf(line + *o, cap - (size_t)*o, fmt, ap);
        va_end(ap);
}

/* Exporter thread; borrows @spans. */
void kotel_console_export(struct kotel_span *const *spans, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct kotel_span *s = spans[i];
                struct kotel_attr attrs[KOTEL_SPAN_ATTRS_MAX];
                struct kotel_attr_scratch scratch;
                size_t na = kotel_span_attrs(s, attrs, &scratch);
                char name[KOTEL_TOPIC_MAX + 16], line[2048];
                static const char *kinds[] = {"UNSPECIFIED", "INTERNAL",
                                              "SERVER",      "CLIENT",
                                              "PRODUCER",    "CONSUMER"};
                int o                      = 0;
                struct kotel_log_value q;
                const char *svc;

                kotel_span_name(s, name, sizeof(name));
#define P(...) kotel_console_appendf(line, sizeof(line), &o, __VA_ARGS__)
                P("kotel: span '%s' kind=%s trace=", name,
                  s->kind <= 5 ? kinds[s->kind] : "?");
                for (int b = 0; b < 16; b++)
                        P("%02x", s->trace_id[b]);
                P(" span=");
                for (int b = 0; b < 8; b++)
                        P("%02x", s->span_id[b]);
                if (s->has_parent) {
                        P(" parent=");
                        for (int b = 0; b < 8; b++)
                                P("%02x", s->parent_span_id[b]);
                }
                P(" duration_us=%" PRIu64,
                  s->end_ns > s->start_ns ? (s->end_ns - s->start_ns) / 1000
                                          : 0);
                if (s->status == KOTEL_STATUS_ERROR)
                        P(" status=ERROR");
                if (s->n_links)
                        P(" links=%u", s->n_links);
                for (size_t a = 0; a < na; a++) {
                        if (attrs[a].type == KOTEL_ATTR_STR)
                                P(" %s=%.*s", attrs[a].key, (int)attrs[a].slen,
                                  attrs[a].s);
                        else if (attrs[a].type == KOTEL_ATTR_BOOL)
                                P(" %s=%s", attrs[a].key,
                                  attrs[a].i ? "true" : "false");
                        else
                                P(" %s=%" PRId64, attrs[a].key, attrs[a].i);
                }
                /* Which service: with KOTEL_SERVICE_NAME_FROM, clients of
                 * one process have different ones. */
                if (s->client &&
                    (svc = kotel_resource_service_name(s->client->resource)))
                        P(" service.name=%s", kotel_log_value(&q, svc));
#undef P
                if (o >= (int)sizeof(line) - 1)
                        o = (int)sizeof(line) - 2;
                line[o++] = '\n';
                fwrite(line, 1, (size_t)o, stderr);
        }
        fflush(stderr);
}
