/* A protobuf wire-format writer for hand-written OTLP encoders (traces
 * now; metrics and logs can use the same pieces).
 *
 * Two layers. struct kotel_pbw is a growable output buffer that remembers
 * allocation failure. The inline put_* functions write through a cursor
 * (uint8_t *) into room the caller reserved with kotel_pbw_room(): an
 * encoder bounds what it is about to write (a span, say), reserves that
 * once, then writes field after field without a capacity check each, and
 * commits the cursor at the end.
 *
 * Length prefixes: a nested message whose size is cheap to compute up
 * front (a key-value, a link) is written with its exact length. One whose
 * size is only known after writing it (a span) gets a reserved prefix of
 * a guessed width (kotel_pbw_len_open) that kotel_pbw_len_close fills in
 * once the body is written, moving the body only when the guess was wrong,
 * so the output is canonical (minimal varints), byte for byte what
 * protobuf-c writes. Output is little-endian (fixed32/fixed64), as the
 * wire format is; the writer assumes a little-endian host.
 *
 * No hidden state: a writer is a plain struct owned by its caller, so any
 * number can be used on any threads (one thread per writer). */
#ifndef KOTEL_PBWIRE_H
#define KOTEL_PBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kotel's protobuf writer assumes a little-endian host"
#endif

enum kotel_pb_wire {
        KOTEL_PB_VARINT = 0,
        KOTEL_PB_I64    = 1,
        KOTEL_PB_LEN    = 2,
        KOTEL_PB_I32    = 5,
};

/* A field's tag as a number (a varint on the wire; one byte for fields
 * 1-15, two for 16-2047). */
#define KOTEL_PB_TAG(field, wire) (((uint32_t)(field) << 3) | (uint32_t)(wire))

struct kotel_pbw {
        uint8_t *p;
        size_t len;
        size_t cap;
        bool oom;
};

/* Grows @w so that @more bytes fit past its length; false (and w->oom) on
 * allocation failure. Out of line: the rare path of kotel_pbw_room. */
bool kotel_pbw_grow(struct kotel_pbw *w, size_t more);
void kotel_pbw_free(struct kotel_pbw *w);

/* A cursor with room for @more bytes at the end of @w, or NULL (w->oom). */
static inline uint8_t *kotel_pbw_room(struct kotel_pbw *w, size_t more)
{
        if (__builtin_expect(w->cap - w->len < more, 0) &&
            !kotel_pbw_grow(w, more))
                return NULL;
        return w->p + w->len;
}

/* The cursor @o, obtained from kotel_pbw_room, is the new end of @w. */
static inline void kotel_pbw_commit(struct kotel_pbw *w, const uint8_t *o)
{
        w->len = (size_t)(o - w->p);
}

static inline size_t kotel_pb_varint_size(uint64_t v)
{
        /* ceil(bits / 7) for bits = 1..64, without a division. */
        unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);

        return (bits * 9 + 64) / 64;
}

static inline uint8_t *kotel_pb_put_varint(uint8_t *o, uint64_t v)
{
        while (v >= 0x80) {
                *o++ = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        *o++ = (uint8_t)v;
        return o;
}

static inline uint8_t *kotel_pb_put_raw(uint8_t *o, const void *src, size_t n)
{
        memcpy(o, src, n);
        return o + n;
}

static inline uint8_t *kotel_pb_put_fixed32(uint8_t *o, uint32_t v)
{
        memcpy(o, &v, 4);
        return o + 4;
}

static inline uint8_t *kotel_pb_put_fixed64(uint8_t *o, uint64_t v)
{
        memcpy(o, &v, 8);
        return o + 8;
}

/* A length-delimited field (bytes, string or a message already encoded):
 * tag, length, @n bytes. At most 10 + n bytes for tags below 2048. */
static inline uint8_t *kotel_pb_put_len_field(uint8_t *o, uint32_t tag,
                                              const void *src, size_t n)
{
        o = kotel_pb_put_varint(o, tag);
        o = kotel_pb_put_varint(o, n);
        return kotel_pb_put_raw(o, src, n);
}

/* How many bytes a length-delimited field takes, tag below 2048. */
static inline size_t kotel_pb_len_field_size(uint32_t tag, size_t n)
{
        return (tag < 128 ? 1 : 2) + kotel_pb_varint_size(n) + n;
}

/* Opens a nested message of unknown size: writes the tag and reserves
 * @guess bytes (1-5) for its length; returns the cursor where its body
 * starts. The caller keeps that cursor for kotel_pbw_len_close. Needs room
 * for the tag and @guess. */
static inline uint8_t *kotel_pbw_len_open(uint8_t *o, uint32_t tag,
                                          size_t guess)
{
        o = kotel_pb_put_varint(o, tag);
        return o + guess;
}

/* Closes the message whose body runs from @body to @end, with @guess bytes
 * reserved before @body: writes its length and returns the new end (moved
 * when the length needs more or fewer bytes than guessed; then the writer
 * needs room for 5 - @guess more bytes past @end). */
uint8_t *kotel_pbw_len_close(uint8_t *body, uint8_t *end, size_t guess);

/* Message-at-a-time writing on top of the cursor layer, for encoders whose
 * messages are small next to a kotel_pbw_room check each (metrics, logs).
 * Every step does nothing once w->oom is set, so an encoder checks w->oom
 * once at the end. The reserved prefix is KOTEL_PBW_GUESS bytes wide:
 * bodies up to 2 MiB need no move when closed. */
#define KOTEL_PBW_GUESS 3

/* Opens a nested message (field @tag) in @w; returns its body's offset for
 * kotel_pbw_msg_close (0 when out of memory: w->oom is then set). */
static inline size_t kotel_pbw_msg_open(struct kotel_pbw *w, uint32_t tag)
{
        uint8_t *o = kotel_pbw_room(w, 8);

        if (!o)
                return 0;
        o = kotel_pbw_len_open(o, tag, KOTEL_PBW_GUESS);
        kotel_pbw_commit(w, o);
        return w->len;
}

/* Closes the message kotel_pbw_msg_open returned @body for. */
static inline void kotel_pbw_msg_close(struct kotel_pbw *w, size_t body)
{
        uint8_t *o;

        if (w->oom || !(o = kotel_pbw_room(w, 8)))
                return;
        o = kotel_pbw_len_close(w->p + body, w->p + w->len, KOTEL_PBW_GUESS);
        kotel_pbw_commit(w, o);
}

/* A string field; an empty string is left out (proto3). */
static inline void kotel_pbw_str(struct kotel_pbw *w, uint32_t tag,
                                 const char *s)
{
        size_t n = strlen(s);
        uint8_t *o;

        if (!n || !(o = kotel_pbw_room(w, 12 + n)))
                return;
        kotel_pbw_commit(w, kotel_pb_put_len_field(o, tag, s, n));
}

/* A fixed64 field (one-byte @tag); 0 is left out (proto3). */
static inline void kotel_pbw_fixed64(struct kotel_pbw *w, uint32_t tag,
                                     uint64_t v)
{
        uint8_t *o;

        if (!v || !(o = kotel_pbw_room(w, 9)))
                return;
        *o++ = (uint8_t)tag;
        kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
}

/* A double field (one-byte @tag); 0 is left out (proto3). */
static inline void kotel_pbw_double(struct kotel_pbw *w, uint32_t tag,
                                    double d)
{
        uint64_t v;
        uint8_t *o;

        if (d == 0 || !(o = kotel_pbw_room(w, 9)))
                return;
        memcpy(&v, &d, 8);
        *o++ = (uint8_t)tag;
        kotel_pbw_commit(w, kotel_pb_put_fixed64(o, v));
}

/* Decimal digits of @v into @buf (20 bytes at least); returns the count.
 * No NUL. Not snprintf: this runs once per span. */
size_t kotel_fmt_u64(char *buf, uint64_t v);

#endif
