#include "otlp_common.h"

#include <string.h>

#define KOTEL_OTLP_RESOURCE_ATTR 0x0a /* Resource.attributes = 1 */

long kotel_otlp_put_resource(struct kotel_pbw *w, uint32_t tag,
                             const struct kotel_resource *r)
{
        size_t body = 0, bound = 16, off = w->len;
        uint8_t *o;

        for (size_t i = 0; r && i < r->n; i++) {
                size_t klen = strlen(r->attrs[i].key);
                size_t av =
                    r->attrs[i].str
                        ? kotel_pb_len_field_size(KOTEL_OTLP_AV_STRING,
                                                  strlen(r->attrs[i].str))
                        : 1 + kotel_pb_varint_size((uint64_t)r->attrs[i].i);

                body += 1 + kotel_pb_varint_size(kotel_otlp_kv_size(klen, av)) +
                        kotel_otlp_kv_size(klen, av);
        }
        bound += body;
        if (!(o = kotel_pbw_room(w, bound)))
                return -1;
        *o++ = (uint8_t)tag;
        o    = kotel_pb_put_varint(o, body);
        for (size_t i = 0; r && i < r->n; i++) {
                const struct kotel_kv *kv = &r->attrs[i];

                if (kv->str)
                        o = kotel_otlp_kv_str(o, KOTEL_OTLP_RESOURCE_ATTR,
                                              kv->key, strlen(kv->key), kv->str,
                                              strlen(kv->str));
                else
                        o = kotel_otlp_kv_int(o, KOTEL_OTLP_RESOURCE_ATTR,
                                              kv->key, strlen(kv->key), kv->i);
        }
        kotel_pbw_commit(w, o);
        return (long)off;
}

const char *kotel_resource_service_name(const struct kotel_resource *r)
{
        for (size_t i = 0; r && i < r->n; i++)
                if (r->attrs[i].str && !strcmp(r->attrs[i].key, "service.name"))
                        return r->attrs[i].str;
        return NULL;
}
