/* kotel_baggage_valid, and percent-encoding as a baggage value carries it.
 * An accepted header is non-empty, at most KOTEL_BAGGAGE_MAX bytes (any
 * number of members), and every member is a token key, "=", then a value without
 * control bytes or commas; kotel forwards it verbatim (strndup), so the
 * copy is valid too. And any byte string, percent-encoded with only
 * baggage-octets, makes a valid "k=<value>" that kotel_percent_decode
 * turns back into the same bytes. */
#include "agent/propagation.h"
#include "exporter/env.h"
#include "fuzz.h"

static bool ows(char c)
{
        return c == ' ' || c == '\t';
}

static bool tchar(unsigned char c)
{
        return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static void check_accepted(const char *s, size_t len)
{
        size_t members = 0, i = 0;
        char *copy;

        FUZZ_ASSERT(len >= 1 && len <= KOTEL_BAGGAGE_MAX);
        while (i <= len) {
                size_t b = i, e, k;

                while (i < len && s[i] != ',')
                        i++;
                e = i++;
                while (b < e && ows(s[b]))
                        b++;
                for (k = b; k < e && tchar((unsigned char)s[k]); k++)
                        ;
                FUZZ_ASSERT(k > b);
                while (k < e && ows(s[k]))
                        k++;
                FUZZ_ASSERT(k < e && s[k] == '=');
                for (; k < e; k++)
                        FUZZ_ASSERT(((unsigned char)s[k] >= 0x20 &&
                                     (unsigned char)s[k] <= 0x7e) ||
                                    s[k] == '\t');
                members++;
        }
        FUZZ_ASSERT(members >= 1);
        copy = strndup(s, len);
        FUZZ_ASSERT(copy && strlen(copy) == len);
        FUZZ_ASSERT(kotel_baggage_valid(copy, strlen(copy)));
        free(copy);
}

static bool baggage_octet(unsigned char c)
{
        return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
               (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
               (c >= 0x5d && c <= 0x7e);
}

/* "k=" and @data percent-encoded; '%' itself is always encoded. */
static void encode_round_trip(const uint8_t *data, size_t size)
{
        static const char hex[] = "0123456789ABCDEF";
        char *enc               = malloc(2 + 3 * size + 1), *dec;
        size_t o                = 0;

        enc[o++] = 'k';
        enc[o++] = '=';
        for (size_t i = 0; i < size; i++) {
                if (baggage_octet(data[i]) && data[i] != '%') {
                        enc[o++] = (char)data[i];
                } else {
                        enc[o++] = '%';
                        enc[o++] = hex[data[i] >> 4];
                        enc[o++] = hex[data[i] & 15];
                }
        }
        enc[o] = '\0';
        if (o <= KOTEL_BAGGAGE_MAX)
                FUZZ_ASSERT(kotel_baggage_valid(enc, o));
        dec = kotel_percent_decode(enc + 2, o - 2);
        /* A decoded NUL cannot live in a C string: refused, not cut. */
        if (memchr(data, '\0', size)) {
                FUZZ_ASSERT(dec == NULL);
        } else {
                FUZZ_ASSERT(dec && strlen(dec) == size &&
                            !memcmp(dec, data, size));
        }
        free(dec);
        free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;

        if (kotel_baggage_valid(s, size))
                check_accepted(s, size);
        if (size > 1) {
                char *half = malloc(size / 2);

                memcpy(half, data, size / 2);
                (void)kotel_baggage_valid(half, size / 2);
                free(half);
        }
        /* Arbitrary text as a percent-decoder input, too. */
        {
                char *d = kotel_percent_decode(s, size);

                if (d)
                        FUZZ_ASSERT(strlen(d) <= size);
                free(d);
        }
        encode_round_trip(data, size);
        return 0;
}
