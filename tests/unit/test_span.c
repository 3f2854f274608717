/* exporter/span.c: a span taken from the pool again after use has every
 * field before its key zeroed (no topic, no error text), though the key's
 * bytes are not cleared; an error's type and status message are cut to
 * their limits, and replaced (not leaked) when set again. A client from
 * kotel_client_new() has one reference, alone in its cache line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/span.h"
#include "tap.h"

int main(void)
{
        struct kotel_span *s, *t;
        char long_text[300];
        int head = 1;

        kotel_span_pool_init(2);
        s = kotel_span_new();
        if (!s) {
                printf("Bail out! no span\n");
                return 1;
        }
        memset(s, 0x5a, sizeof(*s));
        s->client         = NULL; /* what kotel_span_free releases */
        s->tracestate     = NULL;
        s->has_body_size  = false; /* commit_offsets is the span's */
        s->commit_offsets = strdup("0:12,3:40");
        s->links          = NULL;
        s->error_type     = NULL;
        s->error_owned    = false;
        s->topic          = strdup("orders");
        s->topic_owned    = true;
        CHECK(kotel_span_set_error_text(s, "msg_timed_out",
                                        "Local: Message timed out") == 0 &&
                  !strcmp(s->error_type, "msg_timed_out") &&
                  !strcmp(s->status_msg, "Local: Message timed out"),
              "error type and status message set");
        kotel_span_free(s);
        t = kotel_span_new();
        for (size_t b = 0; b < offsetof(struct kotel_span, key); b++)
                head &= ((unsigned char *)t)[b] == 0;
        CHECK(head, "every field before the key is zero");
        CHECK(!t->topic && !t->topic_owned, "no topic");
        CHECK(!t->error_type && !t->status_msg, "no error type or message");
        CHECK(!t->has_key && t->key_len == 0 && t->n_links == 0 && !t->client &&
                  !t->tracestate && !t->commit_offsets,
              "no key, links, client, tracestate or commit offsets");

        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        kotel_span_set_error_text(t, long_text, long_text);
        CHECK(strlen(t->error_type) == KOTEL_ERROR_MAX - 1 &&
                  strlen(t->status_msg) == KOTEL_STATUS_MSG_MAX - 1,
              "error type and message cut to their limits");
        kotel_span_set_error_text(t, "broker_not_available", NULL);
        CHECK(!strcmp(t->error_type, "broker_not_available") && !t->status_msg,
              "set again: the new type, no message (the old block freed)");
        kotel_span_free(t);

        {
                struct kotel_client *c = kotel_client_new();

                CHECK(c && c->refs == 1 && !c->client_id && !c->group_id &&
                          !c->server_address && !c->resource,
                      "a new client: one reference, no fields");
                /* The count taken and dropped per span shares no cache line
                 * with the fields the exporter reads, nor with the heap. */
                CHECK(c && (uintptr_t)c % 64 == 0 &&
                          offsetof(struct kotel_client, client_id) >= 64 &&
                          sizeof(*c) % 64 == 0,
                      "its count alone in its 64-byte line");
                kotel_client_unref(c);
        }
        TAP_DONE();
}
