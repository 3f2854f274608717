/* consume: what the consumer hook asks librdkafka for per message. With
 * no propagator it reads no header (asking for them makes librdkafka parse
 * them); with propagators it walks the header list once for traceparent,
 * tracestate and baggage, and still picks the last of each (as
 * rd_kafka_header_get_last() would).
 *
 * Linked with the agent's objects; librdkafka is loaded at run time and
 * the agent's real_* pointers for the message and header calls are
 * swapped for counting shims around a fake consumer_poll. */
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/msgtab.h"
#include "agent/symbols.h"
#include "agent/tls.h"
#include "hdr_count.h"
#include "tap.h"

#define BAIL(why)                                                              \
        do {                                                                   \
                printf("Bail out! %s\n", why);                                 \
                return 1;                                                      \
        } while (0)

static rd_kafka_message_t msg;
static rd_kafka_headers_t *hdrs;

static rd_kafka_message_t *fake_poll(rd_kafka_t *rk, int timeout_ms)
{
        (void)rk;
        (void)timeout_ms;
        return &msg;
}

static void fake_destroy(rd_kafka_message_t *m)
{
        (void)m;
}

static rd_kafka_resp_err_t count_headers(const rd_kafka_message_t *m,
                                         rd_kafka_headers_t **out)
{
        (void)m;
        n_headers++;
        *out = hdrs;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}


static void reset(void)
{
        n_headers = n_get_last = n_get_all = 0;
}

static void poll_one(void)
{
        rd_kafka_message_destroy(rd_kafka_consumer_poll(NULL, 0));
}

#define TP_OLD "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"
#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

int main(void)
{
        static const uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3,
                                          0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d,
                                          0x0e, 0x0e, 0x47, 0x36};

        setenv("OTEL_TRACES_EXPORTER", "none", 1);
        setenv("OTEL_PROPAGATORS", "tracecontext,baggage", 1);
        if (!dlopen("librdkafka.so.1", RTLD_NOW | RTLD_GLOBAL))
                BAIL("librdkafka.so.1 not loadable");
        if (!kotel_agent_ready())
                BAIL("agent not ready");
        hdrs = real_rd_kafka_headers_new(8);
        real_rd_kafka_header_add(hdrs, "x-app", -1, "1", 1);
        real_rd_kafka_header_add(hdrs, "traceparent", -1, TP_OLD, -1);
        real_rd_kafka_header_add(hdrs, "baggage", -1, "k=old", -1);
        real_rd_kafka_header_add(hdrs, "traceparent", -1, TP, -1);
        real_rd_kafka_header_add(hdrs, "tracestate", -1, "a=1", -1);
        real_rd_kafka_header_add(hdrs, "baggage", -1, "k=v", -1);
        real_rd_kafka_header_add(hdrs, "y-app", -1, "2", 1);
        real_rd_kafka_consumer_poll   = fake_poll;
        real_rd_kafka_message_destroy = fake_destroy;
        real_rd_kafka_message_headers = count_headers;
        orig_get_last                 = real_rd_kafka_header_get_last;
        real_rd_kafka_header_get_last = count_get_last;
        orig_get_all                  = real_rd_kafka_header_get_all;
        real_rd_kafka_header_get_all  = count_get_all;

        /* Both propagators: one walk, the last of each header. */
        reset();
        poll_one();
        CHECK(n_headers == 1, "headers looked up once");
        CHECK(n_get_last == 0, "no get_last walk per header name");
        CHECK(n_get_all <= 8, "one walk over the 7 headers");
        CHECK(kotel_tls.has_current &&
                  !memcmp(kotel_tls.current_ctx.trace_id, trace, 16),
              "the last traceparent is the creation context");
        CHECK(!strcmp(kotel_tls.current_ctx.tracestate, "a=1"),
              "tracestate kept");
        CHECK(kotel_tls.current_baggage &&
                  !strcmp(kotel_tls.current_baggage, "k=v"),
              "the last baggage is the current one");

        /* Baggage only: the walk still finds it, no traceparent is read. */
        kotel_cfg.tracecontext = false;
        reset();
        poll_one();
        CHECK(n_headers == 1, "baggage only: headers looked up");
        CHECK(kotel_tls.current_baggage &&
                  !strcmp(kotel_tls.current_baggage, "k=v"),
              "baggage only: baggage read");

        /* No propagator: no header is asked for at all. */
        kotel_cfg.baggage = false;
        reset();
        poll_one();
        CHECK(n_headers == 0, "OTEL_PROPAGATORS=none: headers not looked up");
        CHECK(n_get_last + n_get_all == 0, "OTEL_PROPAGATORS=none: none read");
        CHECK(kotel_tls.has_current, "the message still has its process span");

        /* The table lock: the previous message is settled with the next
         * one's entry, and destroying the thread's current message takes
         * no lock (its move-on settles it as destroyed), so a
         * poll-process-destroy loop takes it once per message. */
        {
                uint64_t before = kotel_msgtab_locks();

                for (int i = 0; i < 10; i++)
                        poll_one();
                CHECK(kotel_msgtab_locks() - before == 10,
                      "one table lock per consumed message");
                CHECK(kotel_msgtab_count() == 1,
                      "each message ends when the thread moves on");
        }

        kotel_agent_move_on();
        CHECK(kotel_msgtab_count() == 0, "move-on settles the last one");
        real_rd_kafka_headers_destroy(hdrs);
        TAP_DONE();
}
