#include "span.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

static struct kotel_pool pool;

void kotel_span_pool_init(uint32_t n)
{
        kotel_pool_init(&pool, sizeof(struct kotel_span), n);
}

size_t kotel_span_bytes(void)
{
        return kotel_pool_slot_size(sizeof(struct kotel_span));
}

/* A pooled span is zeroed up to its key only: the key is written as it is
 * filled (encoders read key_len bytes of it), not zeroed first. */
static struct kotel_span *from_pool(void)
{
        return kotel_pool_get_head(&pool, offsetof(struct kotel_span, key));
}

struct kotel_span *kotel_span_new(void)
{
        struct kotel_span *s = from_pool();

        return s ? s : calloc(1, sizeof(struct kotel_span));
}

struct kotel_span *kotel_span_new_pooled(void)
{
        /* No pool at all (compiled out under AddressSanitizer, or its
         * set-up failed): spans then come from malloc everywhere. */
        if (!__atomic_load_n(&pool.base, __ATOMIC_ACQUIRE))
                return calloc(1, sizeof(struct kotel_span));
        return from_pool();
}

int kotel_span_set_error_text(struct kotel_span *s, const char *type,
                              const char *msg)
{
        size_t tn = type ? strnlen(type, KOTEL_ERROR_MAX - 1) : 0;
        size_t mn = msg ? strnlen(msg, KOTEL_STATUS_MSG_MAX - 1) : 0;
        char *b   = malloc(tn + 1 + (msg ? mn + 1 : 0));

        if (s->error_owned)
                free((char *)s->error_type);
        s->error_type  = b;
        s->error_owned = b != NULL;
        s->status_msg  = NULL;
        if (!b)
                return -1;
        memcpy(b, type, tn);
        b[tn] = '\0';
        if (msg) {
                memcpy(b + tn + 1, msg, mn);
                b[tn + 1 + mn] = '\0';
                s->status_msg  = b + tn + 1;
        }
        return 0;
}

int kotel_span_reserve_links(struct kotel_span *s, uint32_t n)
{
        if (n <= 1) {
                s->links   = &s->link0;
                s->n_links = 0;
                return 0;
        }
        s->links = calloc(n, sizeof(*s->links));
        if (!s->links) {
                s->n_links = 0;
                return -1;
        }
        return 0;
}

void kotel_span_free(struct kotel_span *s)
{
        if (!s)
                return;
        if (s->links && s->links != &s->link0)
                free(s->links);
        free(s->tracestate);
        free((char *)kotel_span_commit_offsets(s));
        if (s->error_owned)
                free((char *)s->error_type);
        if (s->topic_owned)
                free((char *)s->topic);
        kotel_client_unref(s->client);
        if (!kotel_pool_put(&pool, s))
                free(s);
}

struct kotel_client *kotel_client_new(void)
{
        void *p;

        if (posix_memalign(&p, _Alignof(struct kotel_client),
                           sizeof(struct kotel_client)) != 0)
                return NULL;
        memset(p, 0, sizeof(struct kotel_client));
        ((struct kotel_client *)p)->refs = 1;
        return p;
}

struct kotel_client *kotel_client_ref(struct kotel_client *c)
{
        if (c)
                __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
        return c;
}

void kotel_client_unref(struct kotel_client *c)
{
        if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        free(c->client_id);
        free(c->group_id);
        free(c->server_address);
        free(c);
}

const char *kotel_op_name(enum kotel_op op)
{
        static const char *names[] = {"send", "poll", "process", "commit"};

        return op <= KOTEL_OP_COMMIT ? names[op] : "unknown";
}

const char *kotel_op_type(enum kotel_op op)
{
        static const char *types[] = {"send", "receive", "process", "settle"};

        return op <= KOTEL_OP_COMMIT ? types[op] : "unknown";
}
