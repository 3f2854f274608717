/* produce: what on_send asks librdkafka for per message. It looks the
 * message's headers up once and walks them once (traceparent, tracestate,
 * baggage), whether the app passed headers or not, and still replaces the
 * app's traceparent and keeps the app's baggage.
 *
 * Linked with the agent's objects; librdkafka is loaded at run time. The
 * producer has no broker: messages stay queued and are purged at the end.
 * The agent's real_* pointers for the header calls are swapped for
 * counting shims around each produce call. An acknowledged error's name
 * and text are interned and shared by the spans of the same error, not
 * allocated per span; text of the agent's own is the span's. */
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/spans.h"
#include "agent/symbols.h"
#include "hdr_count.h"
#include "tap.h"

#define BAIL(why)                                                              \
        do {                                                                   \
                printf("Bail out! %s\n", why);                                 \
                return 1;                                                      \
        } while (0)

static __typeof__(rd_kafka_message_headers) *orig_headers;

static rd_kafka_resp_err_t count_headers(const rd_kafka_message_t *m,
                                         rd_kafka_headers_t **out)
{
        n_headers++;
        return orig_headers(m, out);
}

static void error_text(void)
{
        struct kotel_span *a = kotel_span_new(), *b = kotel_span_new();
        struct kotel_span *c = kotel_span_new(), *d = kotel_span_new();

        kotel_span_set_error(a, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, NULL);
        CHECK(a->status == KOTEL_STATUS_ERROR && a->error_type &&
                  !strcmp(a->error_type, "_MSG_TIMED_OUT") && a->status_msg &&
                  !strcmp(a->status_msg, "Local: Message timed out"),
              "error: librdkafka's name and text");
        CHECK(!a->error_owned, "interned, not allocated");
        kotel_span_set_error(b, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, NULL);
        CHECK(b->error_type == a->error_type &&
                  b->status_msg == a->status_msg && !b->error_owned,
              "the same error again: the same strings");
        kotel_span_set_error(c, RD_KAFKA_RESP_ERR__PURGE_QUEUE, NULL);
        CHECK(!strcmp(c->error_type, "_PURGE_QUEUE") && !c->error_owned &&
                  c->error_type != a->error_type,
              "another error: its own name");
        kotel_span_set_error(d, RD_KAFKA_RESP_ERR__DESTROY, "client destroyed");
        CHECK(!strcmp(d->error_type, "_DESTROY") && !d->error_owned &&
                  d->status_msg && !strcmp(d->status_msg, "client destroyed"),
              "the agent's own text (a literal): pointed at, not copied, so "
              "the exit path allocates nothing");
        kotel_span_free(a);
        kotel_span_free(b);
        kotel_span_free(c);
        kotel_span_free(d);
}

static void counting(bool on)
{
        real_rd_kafka_message_headers = on ? count_headers : orig_headers;
        real_rd_kafka_header_get_last = on ? count_get_last : orig_get_last;
        real_rd_kafka_header_get_all  = on ? count_get_all : orig_get_all;
        n_headers = n_get_last = n_get_all = 0;
}

#define APP_TP "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"

int main(void)
{
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t err;
        const void *v;
        size_t len;
        char errstr[256];
        rd_kafka_t *rk;

        setenv("OTEL_TRACES_EXPORTER", "none", 1);
        setenv("OTEL_PROPAGATORS", "tracecontext,baggage", 1);
        if (!dlopen("librdkafka.so.1", RTLD_NOW | RTLD_GLOBAL))
                BAIL("librdkafka.so.1 not loadable");
        if (!kotel_agent_ready())
                BAIL("agent not ready");
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, real_rd_kafka_conf_new(), errstr,
                          sizeof(errstr));
        if (!rk)
                BAIL(errstr);
        orig_headers  = real_rd_kafka_message_headers;
        orig_get_last = real_rd_kafka_header_get_last;
        orig_get_all  = real_rd_kafka_header_get_all;

        /* The app's own headers: a traceparent to replace, a baggage to
         * keep, and others. */
        h = real_rd_kafka_headers_new(4);
        real_rd_kafka_header_add(h, "x-app", -1, "1", 1);
        real_rd_kafka_header_add(h, "traceparent", -1, APP_TP, -1);
        real_rd_kafka_header_add(h, "baggage", -1, "k=v", -1);
        counting(true);
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
                                RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_END);
        CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produced with headers");
        CHECK(n_headers == 1, "app headers: looked up once");
        CHECK(n_get_last == 0, "app headers: no get_last walk per name");
        CHECK(n_get_all <= 4, "app headers: one walk over the 3 headers");
        counting(false);
        CHECK(orig_get_last(h, "traceparent", &v, &len) == 0 && len == 55 &&
                  memcmp(v, APP_TP, 55) != 0,
              "the app's traceparent is replaced by the send span's");
        CHECK(orig_get_last(h, "baggage", &v, &len) == 0 && len == 3 &&
                  !memcmp(v, "k=v", 3),
              "the app's baggage is kept");

        /* No headers of the app's own. */
        counting(true);
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
                                RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END);
        CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produced without headers");
        CHECK(n_headers == 1, "no headers: looked up once");
        CHECK(n_get_last == 0 && n_get_all == 0, "no headers: none read");
        counting(false);

        ((__typeof__(rd_kafka_purge) *)dlsym(RTLD_DEFAULT, "rd_kafka_purge"))(
            rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_destroy(rk);
        error_text();
        TAP_DONE();
}
