/* Pure parsers of the configuration: OTEL_PROPAGATORS and
 * OTEL_RESOURCE_ATTRIBUTES. */
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/resource.h"
#include "tap.h"

static const char *val(const struct kotel_kv *kv, size_t n, const char *k)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(kv[i].key, k))
                        return kv[i].str;
        return NULL;
}

static void clear(struct kotel_kv *kv, size_t *n)
{
        for (size_t i = 0; i < *n; i++) {
                free((char *)kv[i].key);
                free((char *)kv[i].str);
        }
        *n = 0;
}

int main(void)
{
        bool tc, bg;
        struct kotel_kv kv[8];
        size_t n = 0;
        int bad;

        CHECK(kotel_config_parse_propagators("tracecontext,baggage", &tc, &bg) == 0 &&
                  tc && bg,
              "tracecontext,baggage");
        CHECK(kotel_config_parse_propagators("tracecontext", &tc, &bg) == 0 && tc && !bg,
              "tracecontext only");
        CHECK(kotel_config_parse_propagators("baggage", &tc, &bg) == 0 && !tc && bg,
              "baggage only");
        CHECK(kotel_config_parse_propagators("none", &tc, &bg) == 0 && !tc && !bg,
              "none");
        CHECK(kotel_config_parse_propagators(" tracecontext , b3 ,xray", &tc, &bg) == 2 &&
                  tc && !bg,
              "unknown entries counted, known ones kept, spaces trimmed");
        CHECK(kotel_config_parse_propagators(",,", &tc, &bg) == 0 && !tc && !bg,
              "empty entries ignored");

        bad = kotel_resource_parse("a=b,c=d%20e", kv, 8, &n);
        CHECK(bad == 0 && n == 2, "two pairs");
        CHECK(!strcmp(val(kv, n, "a"), "b") && !strcmp(val(kv, n, "c"), "d e"),
              "values percent-decoded");
        clear(kv, &n);
        bad = kotel_resource_parse(" k%2Cx = v%3D1 , team=a%2Cb", kv, 8, &n);
        CHECK(bad == 0 && n == 2 && !strcmp(val(kv, n, "k,x"), "v=1") &&
                  !strcmp(val(kv, n, "team"), "a,b"),
              "keys decoded too, whitespace trimmed");
        clear(kv, &n);
        /* Found by the resource_attrs fuzzer: once the list was full, a
         * later duplicate was dropped instead of replacing the value. */
        bad = kotel_resource_parse("a=1,b=2,c=3,a=late,d=4", kv, 3, &n);
        CHECK(bad == 1 && n == 3 && !strcmp(val(kv, n, "a"), "late") &&
                  !strcmp(val(kv, n, "b"), "2") && !strcmp(val(kv, n, "c"), "3"),
              "resource_duplicate_wins_when_full");
        clear(kv, &n);
        bad = kotel_resource_parse("k=a%00b,ok=1", kv, 8, &n);
        CHECK(bad == 1 && n == 1 && !strcmp(val(kv, n, "ok"), "1"),
              "resource value with %00 skipped, not truncated");
        clear(kv, &n);
        bad = kotel_resource_parse("novalue,=v,k=%zz,ok=1", kv, 8, &n);
        CHECK(bad == 3 && n == 1 && !strcmp(val(kv, n, "ok"), "1"),
              "missing '=', empty key and bad escape skipped and counted");
        clear(kv, &n);
        bad = kotel_resource_parse("k=1,k=2", kv, 8, &n);
        CHECK(bad == 0 && n == 1 && !strcmp(val(kv, n, "k"), "2"), "later duplicate wins");
        clear(kv, &n);
        bad = kotel_resource_parse("e=", kv, 8, &n);
        CHECK(bad == 0 && n == 1 && !strcmp(val(kv, n, "e"), ""), "empty value allowed");
        clear(kv, &n);
        bad = kotel_resource_parse("a=1,b=2,c=3", kv, 2, &n);
        CHECK(bad == 1 && n == 2, "capacity respected; overflow counted");
        clear(kv, &n);
        bad = kotel_resource_parse("", kv, 8, &n);
        CHECK(bad == 0 && n == 0, "empty string");
        TAP_DONE();
}
