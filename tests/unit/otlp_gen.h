/* Span batches from a byte stream, for comparing the hand-written OTLP
 * trace encoder with the protobuf-c reference: the unit test
 * (test_otlp_trace_enc.c) feeds it pseudo-random bytes, the fuzzer
 * (tests/fuzz/otlp_trace_enc.c) its input. Every field of struct
 * kotel_span and struct kotel_client can come out present or absent, at
 * any length the span model allows, within the invariants the agent keeps
 * (otlp_trace_enc.c lists them): a key has no NUL, strings are
 * NUL-terminated or fill their array.
 *
 * The stream reads as zeros once exhausted, so any input makes a batch. */
#ifndef KOTEL_OTLP_GEN_H
#define KOTEL_OTLP_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/otlp.h"
#include "exporter/otlp_trace_enc.h"
#include "exporter/span.h"

#define GEN_RESOURCES 4
#define GEN_RES_ATTRS 6
#define GEN_CLIENTS 12
#define GEN_CODES 4

struct gen {
        const uint8_t *p;
        size_t n;
};

struct gen_world {
        struct kotel_kv kv[GEN_RESOURCES][GEN_RES_ATTRS];
        struct kotel_resource res[GEN_RESOURCES];
        struct kotel_client *clients[GEN_CLIENTS];
        size_t n_clients;
        /* Call sites: a function always (the symbolizer names none
         * without), a file and line or not, across the varint bounds. */
        struct kotel_code_loc codes[GEN_CODES];
};

static inline uint8_t gen_u8(struct gen *g)
{
        if (!g->n)
                return 0;
        g->n--;
        return *g->p++;
}

static inline uint64_t gen_u64(struct gen *g, int bytes)
{
        uint64_t v = 0;

        for (int i = 0; i < bytes; i++)
                v |= (uint64_t)gen_u8(g) << (8 * i);
        return v;
}

/* A length in [0, max], biased towards the varint boundaries that a
 * field's or its enclosing message's length prefix crosses. */
static inline size_t gen_len(struct gen *g, size_t max)
{
        static const size_t edges[] = {0,   1,   100, 105, 110,
                                       115, 120, 127, 128, 129};
        uint8_t b                   = gen_u8(g);
        size_t v                    = b < 64    ? edges[b % 10]
                                      : b < 128 ? (size_t)b - 64
                                                : (size_t)gen_u64(g, 2);

        return v > max ? v % (max + 1) : v;
}

/* @len printable bytes (no NUL), varied by the stream. */
static inline void gen_text(struct gen *g, char *dst, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                uint8_t c = gen_u8(g);

                dst[i] = (char)(c ? c : 'a' + i % 26);
        }
}

static inline char *gen_strdup(struct gen *g, size_t max)
{
        size_t len = gen_len(g, max);
        char *s    = malloc(len + 1);

        if (!s)
                abort();
        gen_text(g, s, len);
        s[len] = '\0';
        return s;
}

static inline void gen_world_init(struct gen *g, struct gen_world *w)
{
        static const char *keys[] = {
            "service.name", "process.pid", "host.name", "",
            ("a.key.long.enough.to.push.the.key.value.past.one.hundred.and."
             "twenty.eight.bytes.when.its.value.is.short")};

        memset(w, 0, sizeof(*w));
        for (int r = 0; r < GEN_RESOURCES; r++) {
                w->res[r].n     = gen_u8(g) % (GEN_RES_ATTRS + 1);
                w->res[r].attrs = w->kv[r];
                for (size_t i = 0; i < w->res[r].n; i++) {
                        struct kotel_kv *kv = &w->kv[r][i];

                        kv->key = strdup(keys[gen_u8(g) % 5]);
                        if (gen_u8(g) & 1)
                                kv->str = gen_strdup(g, 300);
                        else
                                kv->i = (int64_t)gen_u64(g, 1 + gen_u8(g) % 8);
                }
        }
        w->n_clients = 1 + gen_u8(g) % GEN_CLIENTS;
        for (size_t i = 0; i < w->n_clients; i++) {
                struct kotel_client *c = kotel_client_new();
                uint8_t f              = gen_u8(g);

                if (!c)
                        abort();
                c->client_id      = f & 1 ? gen_strdup(g, 200) : NULL;
                c->group_id       = f & 2 ? gen_strdup(g, 200) : NULL;
                c->server_address = f & 4 ? gen_strdup(g, 200) : NULL;
                c->server_port    = (int)(int32_t)gen_u64(g, f & 8 ? 4 : 2);
                c->resource = f & 16 ? NULL : &w->res[(f >> 5) % GEN_RESOURCES];
                w->clients[i] = c;
        }
        for (int i = 0; i < GEN_CODES; i++) {
                struct kotel_code_loc *cl = &w->codes[i];
                uint8_t f                 = gen_u8(g);

                cl->function = gen_strdup(g, f & 1 ? 300 : 40);
                cl->file     = f & 2 ? gen_strdup(g, 300) : NULL;
                cl->line     = f & 4 ? (uint32_t)gen_u64(g, 1 + f % 4) : 0;
        }
}

static inline void gen_world_free(struct gen_world *w)
{
        for (int r = 0; r < GEN_RESOURCES; r++)
                for (size_t i = 0; i < w->res[r].n; i++) {
                        free((char *)w->kv[r][i].key);
                        free((char *)w->kv[r][i].str);
                }
        for (size_t i = 0; i < w->n_clients; i++)
                kotel_client_unref(w->clients[i]);
        for (int i = 0; i < GEN_CODES; i++) {
                free((char *)w->codes[i].function);
                free((char *)w->codes[i].file);
        }
}

/* A span of @w's clients (or none), every field from the stream. */
static inline struct kotel_span *gen_span(struct gen *g, struct gen_world *w)
{
        struct kotel_span *s = kotel_span_new();
        uint8_t f1, f2, c;
        size_t len;

        if (!s)
                abort();
        f1 = gen_u8(g);
        f2 = gen_u8(g);
        for (int i = 0; i < 16; i++)
                s->trace_id[i] = gen_u8(g);
        for (int i = 0; i < 8; i++)
                s->span_id[i] = gen_u8(g);
        s->has_parent = f1 & 1;
        if (s->has_parent)
                for (int i = 0; i < 8; i++)
                        s->parent_span_id[i] = gen_u8(g);
        s->flags         = f1 & 2 ? gen_u8(g) : 0;
        s->kind          = gen_u8(g) % 7;
        s->op            = gen_u8(g) % 5; /* 4: out of range, "unknown" */
        s->status        = f1 & 4   ? KOTEL_STATUS_ERROR
                           : f1 & 8 ? 1
                                    : KOTEL_STATUS_UNSET;
        s->has_partition = f1 & 16;
        s->partition     = (int32_t)gen_u64(g, f1 & 32 ? 4 : 1);
        s->has_offset    = f1 & 64;
        s->offset        = (int64_t)gen_u64(g, 1 + gen_u8(g) % 8);
        s->has_key       = f1 & 128;
        if (s->has_key) {
                s->key_len = (uint16_t)gen_len(g, KOTEL_KEY_MAX - 1);
                gen_text(g, s->key, s->key_len);
        }
        s->tombstone     = f2 & 1;
        s->has_body_size = f2 & 2;
        {
                /* Drawn whatever has_body_size says, so the stream stays
                 * the same; stored only with it (it shares its word with
                 * commit_offsets). */
                uint64_t v = gen_u64(g, 1 + gen_u8(g) % 8);

                if (s->has_body_size)
                        s->body_size = v;
        }
        s->batch_count   = f2 & 4 ? (uint32_t)gen_u64(g, 1 + gen_u8(g) % 4) : 0;
        s->start_ns      = f2 & 8 ? gen_u64(g, 8) : 0;
        s->end_ns        = f2 & 16 ? gen_u64(g, 8) : 0;
        s->ts_type       = gen_u8(g) % 3;
        s->age_ms =
            s->ts_type ? (int64_t)(gen_u64(g, 1 + gen_u8(g) % 6) >> 1) : 0;
        /* A topic may be longer than the encoders read (KOTEL_TOPIC_MAX -
         * 1 bytes) or absent (NULL); an error type may fill its array,
         * without a NUL; the arrays of a span from the pool are not
         * cleared, so a shorter one ends with its NUL. */
        s->topic       = gen_strdup(g, KOTEL_TOPIC_MAX + 8);
        s->topic_owned = true;
        if (!s->topic[0]) {
                free((char *)s->topic);
                s->topic       = NULL;
                s->topic_owned = false;
        }
        {
                /* Longer than the span keeps (it cuts them), or empty, or
                 * no text at all. */
                char type[KOTEL_ERROR_MAX + 8], msg[KOTEL_STATUS_MSG_MAX + 8];
                size_t mlen;

                len = gen_len(g, sizeof(type) - 1);
                gen_text(g, type, len);
                type[len] = '\0';
                mlen      = gen_len(g, sizeof(msg) - 1);
                gen_text(g, msg, mlen);
                msg[mlen] = '\0';
                if (len || mlen)
                        kotel_span_set_error_text(s, type,
                                                  mlen      ? msg
                                                  : len & 1 ? ""
                                                            : NULL);
        }
        if (f2 & 32)
                s->tracestate = gen_strdup(g, 512);
        c = gen_u8(g);
        if (c % (w->n_clients + 1))
                s->client =
                    kotel_client_ref(w->clients[c % (w->n_clients + 1) - 1]);
        if (f2 & 64) {
                uint32_t n =
                    f2 & 128 ? (uint32_t)gen_u64(g, 2) % 1200 : gen_u8(g) % 4;

                if (kotel_span_reserve_links(s, n) == 0 && n) {
                        s->n_links = n;
                        for (uint32_t i = 0; i < n; i++) {
                                uint8_t b = gen_u8(g);

                                memset(s->links[i].trace_id, b, 16);
                                memset(s->links[i].span_id, b ^ 0x5a, 8);
                                s->links[i].flags = b & 1 ? b : 0;
                        }
                }
        }
        /* Commit spans' offsets list: absent, empty (then not an
         * attribute), or up to the agent's bound and past. */
        if (gen_u8(g) & 1 && !s->has_body_size)
                s->commit_offsets = gen_strdup(g, 1100);
        c = gen_u8(g);
        if (c % (GEN_CODES + 1)) {
                s->code          = &w->codes[c % (GEN_CODES + 1) - 1];
                s->code_resolved = true;
        }
        return s;
}

/* Compares the two encoders on @spans: true when both succeed with the
 * same bytes. @e is reused across calls, as the exporter reuses it. */
static inline bool gen_same_bytes(struct kotel_trace_enc *e,
                                  struct kotel_span *const *spans, size_t n,
                                  size_t *out_len)
{
        uint8_t *ref = NULL;
        const uint8_t *got;
        size_t ref_len = 0, got_len = 0;
        bool same;

        if (kotel_otlp_encode_proto(spans, n, &ref, &ref_len) < 0 ||
            kotel_trace_enc_encode(e, spans, n, &got, &got_len) < 0) {
                free(ref);
                return false;
        }
        same = ref_len == got_len && memcmp(ref, got, ref_len) == 0;
        if (out_len)
                *out_len = got_len;
        free(ref);
        return same;
}

#endif
