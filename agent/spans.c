#include "spans.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ids.h"
#include "inflight.h"
#include "propagation.h"
#include "symbols.h"

static void take(struct kotel_prop_hdr *f, const void *v, size_t len)
{
        f->v    = v;
        f->len  = len;
        f->seen = true;
}

void kotel_headers_find(const rd_kafka_headers_t *hdrs,
                        struct kotel_prop_headers *out, bool baggage)
{
        const char *name;
        const void *v;
        size_t len;

        memset(out, 0, sizeof(*out));
        if (!hdrs)
                return;
        /* One walk: librdkafka's get_last() walks the whole list once per
         * name. The last header of each name wins, as with get_last(). */
        for (size_t i = 0;
             real_rd_kafka_header_get_all(hdrs, i, &name, &v, &len) ==
             RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
                if (name[0] == 't') {
                        if (!strcmp(name, "traceparent"))
                                take(&out->tp, v, len);
                        else if (!strcmp(name, "tracestate"))
                                take(&out->ts, v, len);
                } else if (baggage && name[0] == 'b' &&
                           !strcmp(name, "baggage")) {
                        take(&out->bg, v, len);
                }
        }
}

bool kotel_headers_parse(const struct kotel_prop_headers *f,
                         struct kotel_ctx *out)
{
        out->valid  = false;
        out->ts_len = 0;
        if (!kotel_cfg.tracecontext || !f->tp.seen)
                return false;
        if (!f->tp.v || kotel_traceparent_parse(f->tp.v, f->tp.len, out) < 0) {
                out->valid = false;
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "a message carries an invalid traceparent "
                               "header; treated as absent (logged once)");
                return false;
        }
        if (f->ts.seen && f->ts.v) {
                if (kotel_tracestate_valid(f->ts.v, f->ts.len)) {
                        memcpy(out->tracestate, f->ts.v, f->ts.len);
                        out->ts_len                = (uint16_t)f->ts.len;
                        out->tracestate[f->ts.len] = '\0';
                } else {
                        KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                                       "a message carries an invalid "
                                       "tracestate header; dropped (logged "
                                       "once)");
                }
        }
        return true;
}

static char *baggage_of(const struct kotel_prop_hdr *bg)
{
        if (!bg->seen || !bg->v)
                return NULL;
        if (!kotel_baggage_valid(bg->v, bg->len)) {
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "a message carries an invalid baggage header; "
                               "not propagated (logged once)");
                return NULL;
        }
        return strndup(bg->v, bg->len);
}

bool kotel_headers_read(const rd_kafka_headers_t *hdrs, struct kotel_ctx *out,
                        char **baggage)
{
        struct kotel_prop_headers f;
        bool want_bg = baggage && kotel_cfg.baggage;
        bool ok;

        out->valid  = false;
        out->ts_len = 0;
        if (baggage)
                *baggage = NULL;
        if (!hdrs || (!kotel_cfg.tracecontext && !want_bg))
                return false;
        kotel_headers_find(hdrs, &f, want_bg);
        ok = kotel_headers_parse(&f, out);
        if (want_bg)
                *baggage = baggage_of(&f.bg);
        return ok;
}

/* The message's headers, made and attached when it has none. */
static rd_kafka_headers_t *headers_of(rd_kafka_message_t *rkm,
                                      rd_kafka_headers_t **hdrs, size_t n)
{
        if (!*hdrs) {
                *hdrs = real_rd_kafka_headers_new(n);
                if (*hdrs)
                        real_rd_kafka_message_set_headers(rkm, *hdrs);
        }
        return *hdrs;
}

int kotel_headers_add_baggage(rd_kafka_message_t *rkm,
                              rd_kafka_headers_t **hdrs,
                              const struct kotel_prop_headers *f,
                              const char *bg)
{
        if (!bg || !kotel_cfg.baggage || f->bg.seen)
                return 0;
        if (!headers_of(rkm, hdrs, 1))
                return -1;
        return real_rd_kafka_header_add(*hdrs, "baggage", -1, bg, -1) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR
                   ? 0
                   : -1;
}

int kotel_headers_inject(rd_kafka_message_t *rkm, rd_kafka_headers_t **hdrs,
                         const struct kotel_prop_headers *f,
                         const struct kotel_ctx *c)
{
        char tp[56];

        if (!kotel_cfg.tracecontext)
                return 0;
        if (!headers_of(rkm, hdrs, 2))
                return -1;
        kotel_traceparent_format(c, tp);
        /* Remove first: a retried produce with the same headers object
         * must not end up with two traceparents. */
        if (f->tp.seen)
                real_rd_kafka_header_remove(*hdrs, "traceparent");
        if (real_rd_kafka_header_add(*hdrs, "traceparent", -1, tp,
                                     KOTEL_TRACEPARENT_LEN) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
                return -1;
        /* A tracestate belongs to its traceparent: one left by the app
         * (copied headers without a valid traceparent) must not travel
         * with ours. */
        if (f->ts.seen)
                real_rd_kafka_header_remove(*hdrs, "tracestate");
        if (c->ts_len)
                real_rd_kafka_header_add(*hdrs, "tracestate", -1, c->tracestate,
                                         c->ts_len);
        return 0;
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf && n >= 2 && (s[1] & 0xc0) == 0x80)
                return 2;
        if (s[0] >= 0xe0 && s[0] <= 0xef && n >= 3 && (s[1] & 0xc0) == 0x80 &&
            (s[2] & 0xc0) == 0x80) {
                unsigned cp = (unsigned)(s[0] & 0x0f) << 12 |
                              (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
                return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4 && n >= 4 && (s[1] & 0xc0) == 0x80 &&
            (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
                unsigned cp = (unsigned)(s[0] & 0x07) << 18 |
                              (unsigned)(s[1] & 0x3f) << 12 |
                              (unsigned)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
                return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
        }
        return 0;
}

bool kotel_key_printable(const void *key, size_t len)
{
        const unsigned char *s = key;

        if (!key || len == 0 || len >= KOTEL_KEY_MAX)
                return false;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_len(s + i, len - i);

                if (!n || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f)))
                        return false;
                i += n;
        }
        return true;
}

void kotel_span_set_topic(struct kotel_span *s, const char *topic)
{
        static __thread const char *cached;
        bool owned;

        if (!topic)
                return;
        if (cached && !strcmp(cached, topic)) {
                s->topic = cached;
                return;
        }
        s->topic       = kotel_topic_hold(topic, &owned);
        s->topic_owned = owned;
        if (s->topic && !owned)
                cached = s->topic;
}

void kotel_span_set_position(struct kotel_span *s,
                             const rd_kafka_message_t *m)
{
        if (m->partition >= 0) {
                s->has_partition = true;
                s->partition     = m->partition;
        }
        if (m->offset >= 0) {
                s->has_offset = true;
                s->offset     = m->offset;
        }
}

void kotel_span_set_message(struct kotel_span *s, const rd_kafka_message_t *m)
{
        kotel_span_set_position(s, m);
        kotel_span_set_body(s, m);
}

void kotel_span_set_body(struct kotel_span *s, const rd_kafka_message_t *m)
{
        if (kotel_key_printable(m->key, m->key_len)) {
                memcpy(s->key, m->key, m->key_len);
                s->key_len = (uint16_t)m->key_len;
                s->has_key = true;
        }
        s->tombstone     = m->payload == NULL;
        s->has_body_size = true;
        s->body_size     = m->payload ? m->len : 0;
}

/* @src cut to @size - 1 bytes, interned (NULL: the table is full). */
static const char *intern_cut(const char *src, size_t size)
{
        char b[KOTEL_STATUS_MSG_MAX];
        size_t n = strnlen(src, size - 1);

        memcpy(b, src, n);
        b[n] = '\0';
        return kotel_topic_intern(b);
}

void kotel_span_set_error(struct kotel_span *s, rd_kafka_resp_err_t err,
                          const char *msg)
{
        static __thread int cached_err;
        static __thread const char *cached_type, *cached_msg;
        const char *name, *str, *t, *m = NULL;

        s->status = KOTEL_STATUS_ERROR;
        if (!msg && cached_type && (int)err == cached_err) {
                s->error_type = cached_type;
                s->status_msg = cached_msg;
                return;
        }
        name = real_rd_kafka_err2name(err);
        if (!name)
                name = "_UNKNOWN";
        if (msg) {
                /* The agent's own words, a literal; librdkafka's names are
                 * static too: both are pointed at, never copied, since the
                 * exit path (which allocates nothing and takes no lock it
                 * may wait on) settles spans with them. */
                if (strlen(name) < KOTEL_ERROR_MAX &&
                    strlen(msg) < KOTEL_STATUS_MSG_MAX) {
                        if (s->error_owned)
                                free((char *)s->error_type);
                        s->error_owned = false;
                        s->error_type  = name;
                        s->status_msg  = msg;
                } else {
                        kotel_span_set_error_text(s, name, msg);
                }
                return;
        }
        str = real_rd_kafka_err2str(err);
        t   = intern_cut(name, KOTEL_ERROR_MAX);
        if (str)
                m = intern_cut(str, KOTEL_STATUS_MSG_MAX);
        if (!t || (str && !m)) { /* the intern table is full */
                kotel_span_set_error_text(s, name, str);
                return;
        }
        s->error_type = cached_type = t;
        s->status_msg = cached_msg = m;
        cached_err                 = (int)err;
}

void kotel_span_set_tracestate(struct kotel_span *s, const struct kotel_ctx *c)
{
        if (c->ts_len)
                s->tracestate = strndup(c->tracestate, c->ts_len);
}

void kotel_ctx_new_child(struct kotel_ctx *out, const struct kotel_ctx *parent)
{
        bool sampled;

        if (parent && parent->valid) {
                memcpy(out->trace_id, parent->trace_id, 16);
                out->ts_len = parent->ts_len;
                memcpy(out->tracestate, parent->tracestate, parent->ts_len);
        } else {
                kotel_ids_trace(out->trace_id);
                out->ts_len = 0;
        }
        out->tracestate[out->ts_len] = '\0';
        kotel_ids_span(out->span_id);
        sampled =
            kotel_sampler_decide(&kotel_cfg.sampler, parent, out->trace_id);
        out->flags = sampled ? KOTEL_FLAG_SAMPLED : 0;
        out->valid = true;
}

const char *kotel_message_topic(const rd_kafka_message_t *rkm)
{
        return rkm->rkt ? real_rd_kafka_topic_name(rkm->rkt) : NULL;
}
