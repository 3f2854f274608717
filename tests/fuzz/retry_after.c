/* Retry-After, as the transport's header callback sees it: a raw header
 * line (any bytes, CRLF or not). An accepted value is a whole number of
 * seconds between 0 and a day; delay-seconds come back exactly (clamped);
 * and an IMF-fixdate built from the input's first bytes as an offset from
 * "now" comes back as that offset (0 in the past, a day at most). */
#include <time.h>

#include "exporter/settings.h"
#include "exporter/transport.h"
#include "fuzz.h"

#define NOW ((time_t)1764000000) /* 2025-11-24, a fixed "now" */
#define DAY_MS (86400L * 1000)

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static void check_date(const uint8_t *data)
{
        int32_t off;
        time_t when;
        struct tm tm;
        char line[96];
        size_t n;
        long ms = -7;

        memcpy(&off, data, sizeof(off));
        off %= 3 * 86400; /* +-3 days: past, within the cap, beyond it */
        when = NOW + off;
        gmtime_r(&when, &tm);
        n = strftime(line, sizeof(line),
                     "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        FUZZ_ASSERT(n > 0);
        FUZZ_ASSERT(kotel_transport_retry_after_line(line, n, NOW, &ms) == 0);
        FUZZ_ASSERT(ms == (off <= 0 ? 0 : off >= 86400 ? DAY_MS : off * 1000L));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *copy = malloc(size ? size : 1), *s;
        long ms    = -7;

        memcpy(copy, data, size);
        if (kotel_transport_retry_after_line(copy, size, NOW, &ms) == 0)
                FUZZ_ASSERT(ms >= 0 && ms <= DAY_MS && ms % 1000 == 0);
        else
                FUZZ_ASSERT(ms == -7);
        free(copy);

        /* The value alone, as a C string. */
        s  = fuzz_cstr(data, size);
        ms = -7;
        if (kotel_parse_retry_after(s, NOW, &ms) == 0) {
                FUZZ_ASSERT(ms >= 0 && ms <= DAY_MS && ms % 1000 == 0);
                if (all_digits(s) && strlen(s) < 6)
                        FUZZ_ASSERT(
                            ms == (atol(s) > 86400 ? DAY_MS : atol(s) * 1000));
        } else {
                FUZZ_ASSERT(ms == -7);
                FUZZ_ASSERT(!all_digits(s));
        }
        free(s);
        if (size >= 4)
                check_date(data);
        return 0;
}
