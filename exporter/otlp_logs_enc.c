#include "otlp_logs_enc.h"

#include <string.h>

#include "otlp.h"
#include "otlp_common.h"

/* Field tags (field << 3 | wire type), in the order protobuf-c writes
 * them: by field number. */
#define T_REQ_RL 0x0a      /* ExportLogsServiceRequest.resource_logs = 1 */
#define T_SL_RECORD 0x12   /* ScopeLogs.log_records = 2 */
#define T_LR_TIME 0x09     /* LogRecord.time_unix_nano = 1, fixed64 */
#define T_LR_SEV_NUM 0x10  /* severity_number = 2 */
#define T_LR_SEV_TEXT 0x1a /* severity_text = 3 */
#define T_LR_BODY 0x2a     /* body = 5 (AnyValue) */
#define T_LR_ATTR 0x32     /* attributes = 6 */
#define T_LR_FLAGS 0x45    /* flags = 8, fixed32 */
#define T_LR_TRACE 0x4a    /* trace_id = 9 */
#define T_LR_SPAN 0x52     /* span_id = 10 */
#define T_LR_OBSERVED 0x59 /* observed_time_unix_nano = 11, fixed64 */

static void attr_str(struct kotel_pbw *w, const char *k, const char *v)
{
        size_t kl = strlen(k), vl = strlen(v);
        uint8_t *o;

        if ((o = kotel_pbw_room(w, 24 + kl + vl)))
                kotel_pbw_commit(
                    w, kotel_otlp_kv_str(o, T_LR_ATTR, k, kl, v, vl));
}

static void attr_int(struct kotel_pbw *w, const char *k, int64_t v)
{
        size_t kl = strlen(k);
        uint8_t *o;

        if ((o = kotel_pbw_room(w, 29 + kl)))
                kotel_pbw_commit(w, kotel_otlp_kv_int(o, T_LR_ATTR, k, kl, v));
}

static void put_record(struct kotel_pbw *w, const struct kotel_logrec *r)
{
        size_t b   = kotel_pbw_msg_open(w, T_SL_RECORD);
        int sev    = kotel_logrec_severity(r->level);
        size_t bl  = r->body_len;
        uint8_t *o = kotel_pbw_room(w, 32 + bl);

        if (!o)
                return;
        if (r->time_ns) {
                *o++ = T_LR_TIME;
                o    = kotel_pb_put_fixed64(o, r->time_ns);
        }
        if (sev) {
                *o++ = T_LR_SEV_NUM;
                o    = kotel_pb_put_varint(o, (uint64_t)sev);
        }
        kotel_pbw_commit(w, o);
        kotel_pbw_str(w, T_LR_SEV_TEXT, kotel_logrec_severity_text(r->level));
        if ((o = kotel_pbw_room(w, 16 + bl))) {
                *o++ = T_LR_BODY;
                o    = kotel_pb_put_varint(o, kotel_pb_len_field_size(
                                                  KOTEL_OTLP_AV_STRING, bl));
                o = kotel_pb_put_len_field(o, KOTEL_OTLP_AV_STRING, r->body,
                                           bl);
                kotel_pbw_commit(w, o);
        }
        attr_str(w, "messaging.system", "kafka");
        if (r->client && r->client->client_id && r->client->client_id[0])
                attr_str(w, "messaging.client.id", r->client->client_id);
        if (r->fac[0])
                attr_str(w, KOTEL_LOG_ATTR_FACILITY, r->fac);
        if (r->broker[0]) {
                attr_str(w, KOTEL_LOG_ATTR_BROKER, r->broker);
                if (r->host[0])
                        attr_str(w, "server.address", r->host);
                if (r->port > 0)
                        attr_int(w, "server.port", r->port);
        }
        if (r->has_err) {
                if (r->err_name && r->err_name[0])
                        attr_str(w, "error.type", r->err_name);
                attr_int(w, KOTEL_LOG_ATTR_ERR_CODE, r->err);
        }
        if (r->has_ctx && (o = kotel_pbw_room(w, 48))) {
                if (r->flags) {
                        *o++ = T_LR_FLAGS;
                        o    = kotel_pb_put_fixed32(o, r->flags);
                }
                o = kotel_pb_put_len_field(o, T_LR_TRACE, r->trace_id, 16);
                o = kotel_pb_put_len_field(o, T_LR_SPAN, r->span_id, 8);
                kotel_pbw_commit(w, o);
        }
        if (r->time_ns && (o = kotel_pbw_room(w, 9))) {
                *o++ = T_LR_OBSERVED;
                kotel_pbw_commit(w, kotel_pb_put_fixed64(o, r->time_ns));
        }
        kotel_pbw_msg_close(w, b);
}

static const struct kotel_resource *res_of(const struct kotel_logrec *r)
{
        return r->client ? r->client->resource : NULL;
}

int kotel_logs_enc_encode(struct kotel_pbw *w,
                          struct kotel_logrec *const *recs, size_t n)
{
        w->len = 0;
        w->oom = false;
        /* Resource groups in first-seen order: a record opens its group
         * when no earlier record had its resource. */
        for (size_t i = 0; i < n; i++) {
                const struct kotel_resource *res = res_of(recs[i]);
                struct kotel_otlp_scope sc;
                bool seen = false;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = res_of(recs[j]) == res;
                if (seen)
                        continue;
                if (kotel_otlp_scope_open(w, T_REQ_RL, res, &sc) < 0)
                        return -1;
                for (size_t j = i; j < n; j++)
                        if (res_of(recs[j]) == res)
                                put_record(w, recs[j]);
                kotel_otlp_scope_close(w, &sc);
        }
        return w->oom ? -1 : 0;
}
