/* exporter/span.c: a span taken from the pool again after use has every
 * field before its text arrays zeroed and empty text (topic, error type,
 * status message), though the arrays' tails are not cleared. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/span.h"
#include "tap.h"

int main(void)
{
        struct kotel_span *s, *t;
        int head = 1;

        kotel_span_pool_init(2);
        s = kotel_span_new();
        if (!s) {
                printf("Bail out! no span\n");
                return 1;
        }
        memset(s, 0x5a, sizeof(*s));
        s->client     = NULL; /* what kotel_span_free releases */
        s->tracestate = NULL;
        s->links      = NULL;
        s->topic       = strdup("orders");
        s->topic_owned = true;
        strcpy(s->error_type, "msg_timed_out");
        strcpy(s->status_msg, "Local: Message timed out");
        kotel_span_free(s);
        t = kotel_span_new();
        for (size_t b = 0; b < offsetof(struct kotel_span, error_type); b++)
                head &= ((unsigned char *)t)[b] == 0;
        CHECK(head, "every field before the text arrays is zero");
        CHECK(!t->topic && !t->topic_owned, "no topic");
        CHECK(t->error_type[0] == '\0' && t->status_msg[0] == '\0',
              "error type and status message are empty");
        CHECK(!t->has_key && t->key_len == 0 && t->n_links == 0 && !t->client &&
                  !t->tracestate,
              "no key, links, client or tracestate");
        kotel_span_free(t);
        TAP_DONE();
}
