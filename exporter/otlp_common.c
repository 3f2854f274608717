#include "otlp_common.h"

#include <string.h>

#include "otlp.h"
#include "version.h"

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

#define KOTEL_OTLP_RX_RESOURCE 0x0a /* Resource<X>.resource = 1 */
#define KOTEL_OTLP_RX_SCOPE_X 0x12  /* Resource<X>.scope_<x> = 2 */
#define KOTEL_OTLP_SX_SCOPE 0x0a    /* Scope<X>.scope = 1 */
#define KOTEL_OTLP_SCOPE_NAME 0x0a  /* InstrumentationScope.name = 1 */
#define KOTEL_OTLP_SCOPE_VER 0x12   /* InstrumentationScope.version = 2 */

int kotel_otlp_scope_open(struct kotel_pbw *w, uint32_t tag,
                          const struct kotel_resource *r,
                          struct kotel_otlp_scope *s)
{
        size_t scope;

        s->resource_x = kotel_pbw_msg_open(w, tag);
        if (kotel_otlp_put_resource(w, KOTEL_OTLP_RX_RESOURCE, r) < 0)
                return -1;
        s->scope_x = kotel_pbw_msg_open(w, KOTEL_OTLP_RX_SCOPE_X);
        scope      = kotel_pbw_msg_open(w, KOTEL_OTLP_SX_SCOPE);
        kotel_pbw_str(w, KOTEL_OTLP_SCOPE_NAME, KOTEL_SCOPE_NAME);
        kotel_pbw_str(w, KOTEL_OTLP_SCOPE_VER, KOTEL_VERSION);
        kotel_pbw_msg_close(w, scope);
        return 0;
}

void kotel_otlp_scope_close(struct kotel_pbw *w,
                            const struct kotel_otlp_scope *s)
{
        kotel_pbw_msg_close(w, s->scope_x);
        kotel_pbw_msg_close(w, s->resource_x);
}
