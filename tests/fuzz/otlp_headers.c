/* kotel_settings_parse_headers (OTEL_EXPORTER_OTLP_HEADERS) and the
 * percent-decoding under it. Every line it hands libcurl is "name: value"
 * with a token name and a value with no control byte but tab (a CR or LF
 * would inject headers), never one that HTTP framing or kotel owns
 * (Content-Length, Host, ...: refused, each reported once, by its decoded
 * name); lines + malformed + refused entries never exceed the entries; and
 * the lines, written back fully percent-encoded, parse to the same lines
 * with nothing refused. */
#include "exporter/env.h"
#include "exporter/settings.h"
#include "fuzz.h"

static size_t encode(char *o, const char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n                = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-') {
                        o[n++] = (char)c;
                } else {
                        o[n++] = '%';
                        o[n++] = hex[c >> 4];
                        o[n++] = hex[c & 15];
                }
        }
        return n;
}

static bool tchar(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void count_refused(const char *name, void *arg)
{
        FUZZ_ASSERT(kotel_settings_header_reserved(name));
        ++*(size_t *)arg;
}

static void free_lines(char **h, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(h[i]);
        free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s  = fuzz_cstr(data, size), *list;
        char **h = NULL, **h2 = NULL;
        size_t n = 0, n2 = 0, o = 0, entries = 1, refused = 0, refused2 = 0;
        int bad;

        for (const char *p = s; *p; p++)
                entries += *p == ',';
        bad = kotel_settings_parse_headers(s, &h, &n, count_refused, &refused);
        FUZZ_ASSERT(bad >= 0 && (size_t)bad + n + refused <= entries);
        list = malloc(3 * size + n + 1);
        for (size_t i = 0; i < n; i++) {
                const char *colon = strstr(h[i], ": ");

                FUZZ_ASSERT(colon && colon > h[i]);
                {
                        char name[256];
                        size_t len = (size_t)(colon - h[i]);

                        if (len < sizeof(name)) {
                                memcpy(name, h[i], len);
                                name[len] = '\0';
                                FUZZ_ASSERT(
                                    !kotel_settings_header_reserved(name));
                        }
                }
                for (const char *p = h[i]; p < colon; p++)
                        FUZZ_ASSERT(tchar((unsigned char)*p));
                for (const char *p = colon + 2; *p; p++)
                        FUZZ_ASSERT(((unsigned char)*p >= 0x20 && *p != 0x7f) ||
                                    *p == '\t');
                if (i)
                        list[o++] = ',';
                o += encode(list + o, h[i], (size_t)(colon - h[i]));
                list[o++] = '=';
                o += encode(list + o, colon + 2, strlen(colon + 2));
        }
        list[o] = '\0';
        FUZZ_ASSERT(kotel_settings_parse_headers(list, &h2, &n2, count_refused,
                                                 &refused2) == 0);
        FUZZ_ASSERT(n2 == n && refused2 == 0);
        for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT(!strcmp(h[i], h2[i]));
        free_lines(h, n);
        free_lines(h2, n2);
        free(list);
        free(s);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_quiet();
        return 0;
}
