/* kotel_resource_parse (OTEL_RESOURCE_ATTRIBUTES): bounded by its
 * capacity, no key twice, no empty key, the same pairs as a reading entry
 * by entry (a later duplicate wins); and what it returns, written back
 * as a fully percent-encoded list, parses to the same attributes in the
 * same order with nothing malformed. */
#include "agent/resource.h"
#include "exporter/span.h"
#include "fuzz.h"

#define CAP 56 /* what build() in agent/resource.c leaves for the user */

static void free_kv(struct kotel_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free((char *)kv[i].key);
                free((char *)kv[i].str);
        }
}

static size_t encode(char *o, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n                = 0;

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_') {
                        o[n++] = (char)c;
                } else {
                        o[n++] = '%';
                        o[n++] = hex[c >> 4];
                        o[n++] = hex[c & 15];
                }
        }
        return n;
}

/* The documented semantics, entry by entry: each comma-separated entry
 * parsed alone, a later duplicate replaces the value, a new key beyond
 * the capacity is dropped. The result must hold the same pairs. */
static void check_reference(const char *s, const struct kotel_kv *kv, size_t n)
{
        struct kotel_kv ref[CAP];
        size_t nr  = 0;
        char *copy = strdup(s), *p = copy;

        for (;;) {
                char *comma = strchr(p, ',');
                struct kotel_kv one[1];
                size_t n1 = 0, j;

                if (comma)
                        *comma = '\0';
                if (kotel_resource_parse(p, one, 1, &n1) == 0 && n1 == 1) {
                        for (j = 0; j < nr; j++)
                                if (!strcmp(ref[j].key, one[0].key))
                                        break;
                        if (j < nr) {
                                free((char *)ref[j].str);
                                ref[j].str = one[0].str;
                                free((char *)one[0].key);
                        } else if (nr < CAP) {
                                ref[nr++] = one[0];
                        } else {
                                free_kv(one, 1);
                        }
                }
                if (!comma)
                        break;
                p = comma + 1;
        }
        FUZZ_ASSERT(nr == n);
        for (size_t i = 0; i < nr; i++) {
                size_t j;

                for (j = 0; j < n; j++)
                        if (!strcmp(ref[i].key, kv[j].key))
                                break;
                FUZZ_ASSERT(j < n && !strcmp(ref[i].str, kv[j].str));
        }
        free_kv(ref, nr);
        free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_cstr(data, size), *list;
        struct kotel_kv kv[CAP], kv2[CAP];
        size_t n = 0, n2 = 0, o = 0;
        int bad;

        bad = kotel_resource_parse(s, kv, CAP, &n);
        FUZZ_ASSERT(bad >= 0 && n <= CAP);
        for (size_t i = 0; i < n; i++) {
                FUZZ_ASSERT(kv[i].key && kv[i].key[0] && kv[i].str);
                for (size_t j = 0; j < i; j++)
                        FUZZ_ASSERT(strcmp(kv[i].key, kv[j].key));
        }
        check_reference(s, kv, n);
        list = malloc(3 * size + n + 1);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        list[o++] = ',';
                o += encode(list + o, kv[i].key);
                list[o++] = '=';
                o += encode(list + o, kv[i].str);
        }
        list[o] = '\0';
        FUZZ_ASSERT(kotel_resource_parse(list, kv2, CAP, &n2) == 0);
        FUZZ_ASSERT(n2 == n);
        for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT(!strcmp(kv[i].key, kv2[i].key) &&
                            !strcmp(kv[i].str, kv2[i].str));
        free_kv(kv, n);
        free_kv(kv2, n2);
        free(list);
        free(s);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_quiet();
        return 0;
}
