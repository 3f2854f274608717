/* The span model shared by agent/ (which fills spans) and exporter/ (which
 * encodes them).
 *
 * A span is one fixed-size record, so that the hot path fills it without
 * further allocation: its topic points at an interned name, its key is
 * inline, last, and not cleared when a span is reused. Only the rare
 * variable parts (more than one link, a tracestate, an error's type and
 * message, a topic past the intern table's bound) are allocated. Ownership:
 * whoever holds the pointer owns it until it hands it to
 * kotel_exporter_submit(), which takes it on every path. */
#ifndef KOTEL_SPAN_H
#define KOTEL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values are OTLP's Span.SpanKind. */
enum kotel_span_kind {
        KOTEL_KIND_INTERNAL = 1,
        KOTEL_KIND_SERVER   = 2,
        KOTEL_KIND_CLIENT   = 3,
        KOTEL_KIND_PRODUCER = 4,
        KOTEL_KIND_CONSUMER = 5,
};

/* Messaging operations (semantic conventions v1.44). */
enum kotel_op {
        KOTEL_OP_SEND = 0,
        KOTEL_OP_POLL,
        KOTEL_OP_PROCESS,
        KOTEL_OP_COMMIT,
};

enum kotel_status { KOTEL_STATUS_UNSET = 0, KOTEL_STATUS_ERROR = 2 };

#define KOTEL_TOPIC_MAX 250 /* Kafka's limit is 249 characters. */
#define KOTEL_KEY_MAX 128
#define KOTEL_ERROR_MAX 48
#define KOTEL_STATUS_MSG_MAX 96

struct kotel_kv {
        const char *key;
        const char *str; /* string value, or NULL for an integer */
        int64_t i;
};

/* Immutable once published; lives as long as any span refers to it. */
struct kotel_resource {
        size_t n;
        struct kotel_kv *attrs;
};

/* What a librdkafka client contributes to its spans. Refcounted: the client
 * registry holds one reference until rd_kafka_destroy, every span one more.
 * The count has a cache line to itself, and the rest another: a producing
 * or consuming thread takes a reference per span while the exporter reads
 * the fields and drops the reference per span, and a count that shared a
 * line with the fields (or with a neighbour on the heap) made the exporter
 * miss on every read (docs/performance.md, issue 10). Allocated by
 * kotel_client_new(). */
struct kotel_client {
        int refs;
        char *client_id __attribute__((aligned(64)));
        char *group_id;       /* NULL for producers */
        char *server_address; /* first bootstrap broker */
        int server_port;
        const struct kotel_resource *resource;
} __attribute__((aligned(64)));

/* A call site, as the code.* attributes give it: interned by the exporter
 * thread's symbolizer (exporter/symbolize.c), immortal. Any part may be
 * NULL or 0: unknown. */
struct kotel_code_loc {
        const char *function; /* code.function.name */
        const char *file;     /* code.file.path */
        uint32_t line;        /* code.line.number */
};

struct kotel_link {
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t flags;
};

struct kotel_span {
        uint8_t trace_id[16];
        uint8_t span_id[8];
        uint8_t parent_span_id[8];
        uint8_t flags; /* W3C trace-flags */
        bool has_parent;
        uint8_t kind;   /* enum kotel_span_kind */
        uint8_t op;     /* enum kotel_op */
        uint8_t status; /* enum kotel_status */
        bool has_partition;
        bool has_offset;
        bool has_key;
        bool tombstone;
        bool has_body_size;
        uint8_t ts_type;  /* see age_ms */
        bool topic_owned; /* see topic */
        bool error_owned; /* see error_type */
        bool code_resolved; /* see code_ip */
        uint16_t key_len;
        int32_t partition;
        uint32_t batch_count; /* > 0 only on batch (poll) spans */
        int64_t offset;
        /* One word for what two kinds of span need: the message's body
         * size (has_body_size: send and process spans), or, without it, a
         * commit span's committed offsets of its topic, "partition:offset"
         * pairs joined by commas (kotel.commit.offsets), malloc'd and freed
         * with the span, or NULL. Read them through kotel_span_commit_
         * offsets(). */
        union {
                uint64_t body_size;
                char *commit_offsets;
        };
        /* Process spans: the message's age when processing started
         * (kotel.message.age_ms), and its timestamp's type (1: create
         * time, 2: log-append time, librdkafka's values; 0: no age). */
        int64_t age_ms;
        uint64_t start_ns;
        uint64_t end_ns;
        /* Where the app produced or consumed the message: a return address
         * in its code (agent/callsite.c), or 0; the exporter thread turns it
         * into @code before encoding (NULL: nothing known) and sets
         * code_resolved. One word: a span waiting for its acknowledgement
         * holds its slot. Read @code through kotel_span_code(). */
        union {
                uintptr_t code_ip;
                const struct kotel_code_loc *code;
        };
        struct kotel_client *client; /* a reference, or NULL */
        char *tracestate;            /* malloc'd, or NULL */
        uint32_t n_links;
        struct kotel_link *links; /* == &link0 when n_links == 1 */
        union {
                struct kotel_link link0;
                /* A send span waiting for its acknowledgement (it has no
                 * links before then): the producing client's handle and,
                 * once taken out of the in-flight table in bulk, the next
                 * span of that list (agent/inflight.c). Cleared when it
                 * is settled. */
                struct {
                        const void *rk;
                        struct kotel_span *next;
                } inflight;
        };
        /* NUL-terminated, at most KOTEL_TOPIC_MAX - 1 bytes, or NULL: an
         * interned name (immortal, never freed), or, when topic_owned, the
         * span's own malloc'd copy (the intern table was full). */
        const char *topic;
        /* Only when there is an error, else NULL; both NUL-terminated,
         * under KOTEL_ERROR_MAX and KOTEL_STATUS_MSG_MAX bytes: interned
         * names (immortal, never freed), or, when error_owned, one
         * malloc'd block with the type and, after its NUL, the status
         * message (kotel_span_set_error_text). */
        const char *error_type;
        const char *status_msg; /* or NULL: no message */
        char key[KOTEL_KEY_MAX];
};

/* Reserves @n span slots so that kotel_span_new() need not malloc; the
 * first call counts, any thread. */
void kotel_span_pool_init(uint32_t n);
/* The memory one span takes, links and tracestate aside: its pool slot
 * (sizeof(struct kotel_span) rounded up to a cache line; a span from
 * calloc takes a little less). */
size_t kotel_span_bytes(void);
/* Any thread. A span (from the pool, else calloc), or NULL on allocation
 * failure: zeroed up to its key, which is not cleared (it holds key_len
 * bytes). */
struct kotel_span *kotel_span_new(void);
/* The same from the pool only, or NULL: for exit, where malloc may wait on
 * a lock the exiting thread holds. Without a pool (AddressSanitizer
 * builds), from calloc. */
struct kotel_span *kotel_span_new_pooled(void);
/* Any thread; takes @s and its references. */
void kotel_span_free(struct kotel_span *s);
/* A zeroed client with one reference, on its own cache lines; NULL when
 * out of memory. */
struct kotel_client *kotel_client_new(void);
/* Any thread; lock-free. */
struct kotel_client *kotel_client_ref(struct kotel_client *c);
void kotel_client_unref(struct kotel_client *c);
/* Gives @s the error type @type and status message @msg (NULL: none), in
 * one allocation freed with the span, replacing any it had; each is cut to
 * its limit (KOTEL_ERROR_MAX - 1, KOTEL_STATUS_MSG_MAX - 1 bytes). Returns
 * 0 or -1 (out of memory: then the span has neither). */
int kotel_span_set_error_text(struct kotel_span *s, const char *type,
                              const char *msg);
/* Room for @n links on @s; returns 0 or -1 (then the span keeps none). */
int kotel_span_reserve_links(struct kotel_span *s, uint32_t n);

/* A commit span's offsets (see body_size), else NULL. */
static inline const char *kotel_span_commit_offsets(const struct kotel_span *s)
{
        return s->has_body_size ? NULL : s->commit_offsets;
}

/* The call site of @s once the exporter resolved it, else NULL. */
static inline const struct kotel_code_loc *
kotel_span_code(const struct kotel_span *s)
{
        return s->code_resolved ? s->code : NULL;
}

/* "send", "poll", ... and the messaging.operation.type of each. */
const char *kotel_op_name(enum kotel_op op);
const char *kotel_op_type(enum kotel_op op);

#endif
