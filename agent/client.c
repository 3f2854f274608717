/* Client lifecycle hooks: rd_kafka_new installs the interceptors through an
 * on_new interceptor on the app's conf; close and destroy settle what the
 * client leaves open; handle constructors remember which client a queue or
 * topic belongs to, for the consume APIs that take only the handle. */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"
#include "inflight.h"
#include "msgtab.h"
#include "produce.h"
#include "symbols.h"
#include "tls.h"

static __thread rd_kafka_type_t creating_type;

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                                  void *ic_opaque, char *errstr,
                                  size_t errstr_size)
{
        struct kotel_client *c;
        int saved = errno;

        (void)ic_opaque;
        (void)errstr;
        (void)errstr_size;
        c = kotel_clients_add(rk, conf, creating_type);
        if (c && creating_type == RD_KAFKA_PRODUCER)
                kotel_produce_install(rk, c);
        /* The registry holds its own reference; interceptors borrow it
         * (they cannot outlive the client). */
        kotel_client_unref(c);
        errno = saved;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

KOTEL_EXPORT rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                                      char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *own = NULL;
        rd_kafka_t *rk;
        int saved;

        if (!KOTEL_REAL(rd_kafka_new))
                return NULL;
        if (!kotel_agent_ready())
                return real_rd_kafka_new(type, conf, errstr, errstr_size);
        if (!conf)
                conf = own = real_rd_kafka_conf_new();
        /* A conf that already has our on_new (a retry after a failed
         * rd_kafka_new) answers __CONFLICT, which is fine. */
        if (conf)
                real_rd_kafka_conf_interceptor_add_on_new(conf, "kotel", on_new,
                                                          NULL);
        creating_type = type;
        rk            = real_rd_kafka_new(type, conf, errstr, errstr_size);
        saved         = errno;
        /* rd_kafka_new owns the conf only on success. */
        if (!rk && own)
                real_rd_kafka_conf_destroy(own);
        errno = saved;
        return rk;
}

/* After the real destroy every librdkafka thread of @rk is gone: what is
 * still open will never be settled by librdkafka. */
static void settle_client(const void *rk)
{
        kotel_produce_finish_unacked(rk, "client destroyed before the "
                                         "delivery report");
        kotel_msgtab_end_client(rk);
        kotel_clients_remove(rk);
}

KOTEL_EXPORT void rd_kafka_destroy(rd_kafka_t *rk)
{
        struct kotel_tls *t = &kotel_tls;
        int saved;

        if (!KOTEL_REAL(rd_kafka_destroy))
                return;
        if (!kotel_agent_ready() || t->in_hook) {
                real_rd_kafka_destroy(rk);
                return;
        }
        t->in_hook++;
        kotel_agent_move_on();
        real_rd_kafka_destroy(rk);
        saved = errno;
        settle_client(rk);
        t->in_hook--;
        errno = saved;
}

KOTEL_EXPORT void rd_kafka_destroy_flags(rd_kafka_t *rk, int flags)
{
        struct kotel_tls *t = &kotel_tls;
        int saved;

        if (!KOTEL_REAL(rd_kafka_destroy_flags))
                return;
        if (!kotel_agent_ready() || t->in_hook) {
                real_rd_kafka_destroy_flags(rk, flags);
                return;
        }
        t->in_hook++;
        kotel_agent_move_on();
        real_rd_kafka_destroy_flags(rk, flags);
        saved = errno;
        settle_client(rk);
        t->in_hook--;
        errno = saved;
}

KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_consumer_close(rd_kafka_t *rk)
{
        struct kotel_tls *t = &kotel_tls;
        rd_kafka_resp_err_t err;
        int saved;

        if (!KOTEL_REAL(rd_kafka_consumer_close))
                return RD_KAFKA_RESP_ERR__FAIL;
        if (!kotel_agent_ready() || t->in_hook)
                return real_rd_kafka_consumer_close(rk);
        t->in_hook++;
        kotel_agent_move_on();
        err   = real_rd_kafka_consumer_close(rk);
        saved = errno;
        kotel_msgtab_end_client(rk);
        t->in_hook--;
        errno = saved;
        return err;
}

/* ---- handles -------------------------------------------------------- */

KOTEL_EXPORT rd_kafka_topic_t *rd_kafka_topic_new(rd_kafka_t *rk,
                                                  const char *topic,
                                                  rd_kafka_topic_conf_t *conf)
{
        rd_kafka_topic_t *rkt;
        int saved;

        if (!KOTEL_REAL(rd_kafka_topic_new))
                return NULL;
        rkt = real_rd_kafka_topic_new(rk, topic, conf);
        if (rkt && kotel_agent_ready()) {
                saved = errno;
                kotel_handles_put(rkt, rk);
                errno = saved;
        }
        return rkt;
}

#define QUEUE_HOOK(name, params, args)                                         \
        KOTEL_EXPORT rd_kafka_queue_t *name params                             \
        {                                                                      \
                rd_kafka_queue_t *q;                                           \
                int saved;                                                     \
                if (!KOTEL_REAL(name))                                         \
                        return NULL;                                           \
                q = real_##name args;                                          \
                if (q && kotel_agent_ready()) {                                \
                        saved = errno;                                         \
                        kotel_handles_put(q, rk);                              \
                        errno = saved;                                         \
                }                                                              \
                return q;                                                      \
        }

QUEUE_HOOK(rd_kafka_queue_new, (rd_kafka_t * rk), (rk))
QUEUE_HOOK(rd_kafka_queue_get_main, (rd_kafka_t * rk), (rk))
QUEUE_HOOK(rd_kafka_queue_get_consumer, (rd_kafka_t * rk), (rk))
QUEUE_HOOK(rd_kafka_queue_get_partition,
           (rd_kafka_t * rk, const char *topic, int32_t partition),
           (rk, topic, partition))
