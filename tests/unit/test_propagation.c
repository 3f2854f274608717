/* traceparent/tracestate/baggage parsing and formatting, including the
 * W3C Trace Context test cases for invalid input. */
#include <string.h>

#include "agent/propagation.h"
#include "tap.h"

static int tp(const char *s)
{
        struct kotel_ctx c;

        return kotel_traceparent_parse(s, strlen(s), &c);
}

int main(void)
{
        struct kotel_ctx c;
        char out[56];
        const char *good =
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        CHECK(kotel_traceparent_parse(good, strlen(good), &c) == 0, "valid v00");
        CHECK(c.valid && c.flags == 1 && c.trace_id[0] == 0x0a &&
                  c.span_id[7] == 0x31,
              "ids and flags parsed");
        kotel_traceparent_format(&c, out);
        CHECK(strcmp(out, good) == 0, "format round-trips");
        CHECK(tp("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00") == 0,
              "unsampled flags");
        CHECK(tp("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01") < 0,
              "upper case rejected");
        CHECK(tp("00-00000000000000000000000000000000-b7ad6b7169203331-01") < 0,
              "zero trace id rejected");
        CHECK(tp("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01") < 0,
              "zero span id rejected");
        CHECK(tp("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") < 0,
              "version ff rejected");
        CHECK(tp("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x") < 0,
              "v00 with trailing data rejected");
        CHECK(tp("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what") == 0,
              "future version with extra field accepted");
        CHECK(tp("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x") < 0,
              "future version without dash rejected");
        CHECK(tp("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0") < 0,
              "short rejected");
        CHECK(tp("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") < 0,
              "bad delimiter rejected");
        CHECK(tp("0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") < 0,
              "non-hex version rejected");
        CHECK(tp("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz") < 0,
              "non-hex flags rejected");
        CHECK(tp("") < 0, "empty rejected");
        CHECK(kotel_traceparent_parse(good, 20, &c) < 0, "truncated length rejected");

        CHECK(kotel_tracestate_valid("rojo=00f067aa0ba902b7", 21), "tracestate simple");
        CHECK(kotel_tracestate_valid("a=1, b@c=2 ,,", 13), "tracestate OWS and empty members");
        CHECK(!kotel_tracestate_valid("Rojo=1", 6), "tracestate upper key rejected");
        CHECK(!kotel_tracestate_valid("a=1,b", 5), "tracestate member without = rejected");
        CHECK(!kotel_tracestate_valid("a=x=y", 5), "tracestate = in value rejected");
        {
                char big[40 * 5 + 1];
                size_t n = 0;
                for (int i = 0; i < 33; i++)
                        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s%c=1",
                                              i ? "," : "", 'a' + (i % 26));
                CHECK(!kotel_tracestate_valid(big, n), "tracestate over 32 members rejected");
        }
        /* Found by the tracestate fuzzer: a repeated key was accepted. */
        CHECK(!kotel_tracestate_valid("foo=1,foo=2", 11),
              "tracestate_duplicate_key_rejected");
        CHECK(!kotel_tracestate_valid("foo=1,foo=1", 11),
              "tracestate duplicate member rejected");
        CHECK(!kotel_tracestate_valid("a@b=1,c=2, a@b=3", 16),
              "tracestate duplicate vendor key rejected");
        CHECK(kotel_tracestate_valid("foo=1,fo=1,foo@x=1", 18),
              "tracestate similar keys accepted");
        CHECK(kotel_baggage_valid("userId=alice,serverNode=DF%2028", 31), "baggage valid");
        CHECK(kotel_baggage_valid("k=v;prop=1", 10), "baggage with property");
        CHECK(!kotel_baggage_valid("=v", 2), "baggage empty key rejected");
        CHECK(!kotel_baggage_valid("k v=1", 5), "baggage space in key rejected");
        {
                /* W3C Baggage: every member of a header up to 8192 bytes
                 * is propagated, however many there are. */
                static char many[8193];
                size_t n = 0;

                for (int i = 0; i < 2048; i++) {
                        many[n++] = (char)('a' + i % 26);
                        many[n++] = '=';
                        many[n++] = '1';
                        many[n++] = ',';
                }
                CHECK(kotel_baggage_valid(many, 8191),
                      "baggage of 2048 members in 8191 bytes valid");
                many[8191] = '2';
                many[8192] = '3';
                CHECK(!kotel_baggage_valid(many, 8193),
                      "baggage over 8192 bytes rejected");
        }
        TAP_DONE();
}
