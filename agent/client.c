/* Client lifecycle hooks: rd_kafka_new installs the interceptors through an
 * on_new interceptor on the app's conf, and takes it out again when
 * rd_kafka_new fails (see below); close and destroy settle what the
 * client leaves open; handle constructors remember which client a queue or
 * topic belongs to, for the consume APIs that take only the handle. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "commit.h"
#include "inflight.h"
#include "kafka_log.h"
#include "lastclient.h"
#include "msgtab.h"
#include "produce.h"
#include "stats.h"
#include "symbols.h"
#include "tls.h"

/* ---- rd_kafka_new --------------------------------------------------------
 *
 * kotel reaches a client only through an on_new interceptor, and an on_new
 * interceptor lives only in a configuration: so the app's configuration
 * carries kotel's entry into rd_kafka_new. That is safe on success (the
 * client owns the configuration, and kotel's entry with it) but not on
 * failure: librdkafka before 2.13 struct-copies the configuration into the
 * client and, when rd_kafka_new fails after that copy (a bad SSL setting, a
 * missing CA file, a SASL or engine error), destroys the copy's interceptor
 * lists, which are the app's lists. Without kotel those lists are empty and
 * nothing happens; with kotel's entry in them, the app's own
 * rd_kafka_conf_destroy (or a retry of rd_kafka_new with the same
 * configuration) would free them a second time.
 *
 * So kotel takes its entry out again whenever rd_kafka_new fails, and the
 * app's configuration ends exactly as it would have without kotel:
 * finalized or not, with its own settings, callbacks, opaque, default topic
 * configuration, certificates and interceptors, and no kotel state. The
 * entry is the only thing in the configuration's on_new list (kotel adds it
 * only to a list that was empty), so taking it out means putting the list
 * header back to empty. rd_kafka_conf_t is opaque: the header's place is
 * learnt once at run time, by adding an entry to a fresh configuration and
 * seeing which bytes change (probe_on_new_list). After a failure:
 *   - past the copy (our on_new ran) on librdkafka < 2.13: librdkafka freed
 *     the entry and the list storage; the header is zeroed;
 *   - before the copy (rd_kafka_conf_finalize refused the configuration),
 *     or on a librdkafka that no longer frees the lists: the entry is still
 *     there; its header is swapped with a fresh configuration's empty one
 *     and that configuration destroyed, which frees the entry the way
 *     librdkafka does.
 * A configuration whose on_new list already had the app's own entries gets
 * kotel's appended as before: librdkafka frees those lists on a failure
 * with or without kotel (librdkafka issue #4142), so kotel changes nothing
 * there.
 *
 * Copying the app's configuration with rd_kafka_conf_dup instead would not
 * keep it identical: a dup keeps the app's interceptors only through their
 * on_conf_dup, loads plugin.library.paths again, leaves the app's object
 * unfinalized, and the app's object would have to be destroyed on success
 * (running its on_conf_destroy interceptors at create time); and the dup
 * itself ends with freed lists on failure just the same.
 *
 * If the probe cannot find the header (an unexpected librdkafka), kotel does
 * not trace the clients of this process rather than risk the app's
 * rd_kafka_new. */

#define RDK_FIXED_FAIL_PATH 0x020d0000 /* 2.13.0 */

static struct {
        size_t off, len;
        bool ok;
} on_new_list;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

/* The app thread inside rd_kafka_new: what on_new saw. */
static __thread struct creating {
        rd_kafka_type_t type;
        rd_kafka_t *rk; /* set by on_new: librdkafka copied the conf */
        const struct kotel_client *client; /* what on_new registered */
} creating;

static rd_kafka_resp_err_t probe_on_new(rd_kafka_t *rk,
                                        const rd_kafka_conf_t *conf,
                                        void *ic_opaque, char *errstr,
                                        size_t errstr_size)
{
        (void)rk, (void)conf, (void)ic_opaque, (void)errstr, (void)errstr_size;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static bool all_zero(const unsigned char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* Once, on the first rd_kafka_new: which bytes of a configuration adding
 * an on_new entry changes. librdkafka's list header is {int size; int cnt;
 * void **elems; ...}: adding to an empty list changes size, cnt and elems,
 * 16 bytes at an 8-byte aligned offset, and nothing else. */
static void probe_on_new_list(void)
{
        rd_kafka_conf_t *p = real_rd_kafka_conf_new();
        size_t n, first = SIZE_MAX, last = 0, end;
        unsigned char *before;

        if (!p)
                return;
        n      = malloc_usable_size(p);
        before = malloc(n);
        if (before) {
                memcpy(before, p, n);
                if (real_rd_kafka_conf_interceptor_add_on_new(
                        p, "kotel-probe", probe_on_new, NULL) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR) {
                        for (size_t i = 0; i < n; i++) {
                                if (before[i] == ((unsigned char *)p)[i])
                                        continue;
                                if (first == SIZE_MAX)
                                        first = i;
                                last = i;
                        }
                }
        }
        if (first != SIZE_MAX) {
                on_new_list.off = first & ~(size_t)7;
                end             = (last + 8) & ~(size_t)7;
                on_new_list.len = end - on_new_list.off;
                on_new_list.ok  = on_new_list.len == 16 && end <= n &&
                                 all_zero(before + on_new_list.off, 16);
        }
        free(before);
        real_rd_kafka_conf_destroy(p);
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                                  void *ic_opaque, char *errstr,
                                  size_t errstr_size)
{
        struct kotel_client *c;
        int saved = errno;

        (void)ic_opaque;
        (void)errstr;
        (void)errstr_size;
        creating.rk     = rk;
        c               = kotel_clients_add(rk, conf, creating.type);
        creating.client = c;
        if (c && creating.type == RD_KAFKA_PRODUCER)
                kotel_produce_install(rk, c);
        kotel_kafka_log_install(rk, conf, c);
        kotel_stats_install(rk, (rd_kafka_conf_t *)conf, c);
        if (c && creating.type == RD_KAFKA_CONSUMER)
                kotel_commit_install(rk, c);
        /* The registry holds its own reference; interceptors borrow it
         * (they cannot outlive the client). */
        kotel_client_unref(c);
        errno = saved;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* rd_kafka_new failed: take kotel's entry (the only one) out of @conf's
 * on_new list. @copied: librdkafka got past the struct copy. */
static void forget_on_new(rd_kafka_conf_t *conf, bool copied)
{
        unsigned char *hdr = (unsigned char *)conf + on_new_list.off;
        unsigned char tmp[16];
        rd_kafka_conf_t *scratch;

        if (copied && real_rd_kafka_version() < RDK_FIXED_FAIL_PATH) {
                memset(hdr, 0, on_new_list.len);
                return;
        }
        scratch = real_rd_kafka_conf_new();
        if (!scratch)
                return; /* the entry stays: a valid configuration still */
        memcpy(tmp, hdr, sizeof(tmp));
        memcpy(hdr, (unsigned char *)scratch + on_new_list.off, sizeof(tmp));
        memcpy((unsigned char *)scratch + on_new_list.off, tmp, sizeof(tmp));
        real_rd_kafka_conf_destroy(scratch);
}

/* After the real destroy every librdkafka thread of @rk is gone: what is
 * still open will never be settled by librdkafka. */
static void settle_client(const void *rk, const struct kotel_client *which)
{
        kotel_produce_finish_unacked(rk, "client destroyed before the "
                                         "delivery report");
        kotel_msgtab_end_client(rk);
        kotel_kafka_log_forget(rk);
        kotel_stats_forget(rk);
        kotel_commit_forget(rk);
        kotel_clients_remove(rk, which);
}

/* The app thread; takes @conf on success only, as the real one does. */
KOTEL_EXPORT rd_kafka_t *rd_kafka_new(rd_kafka_type_t type,
                                      rd_kafka_conf_t *conf, char *errstr,
                                      size_t errstr_size)
{
        struct creating outer = creating;
        rd_kafka_conf_t *own  = NULL;
        bool restore          = false;
        rd_kafka_t *rk;
        int saved;

        if (!KOTEL_REAL(rd_kafka_new))
                return NULL;
        if (!kotel_agent_ready())
                return real_rd_kafka_new(type, conf, errstr, errstr_size);
        pthread_once(&probe_once, probe_on_new_list);
        if (!on_new_list.ok) {
                KOTEL_LOG_ONCE(KOTEL_LOG_WARN,
                               "unexpected librdkafka configuration layout: "
                               "clients are not traced");
                return real_rd_kafka_new(type, conf, errstr, errstr_size);
        }
        if (!conf)
                conf = own = real_rd_kafka_conf_new();
        /* Only an empty on_new list can be restored by forget_on_new. One
         * that holds the app's entries gets ours appended (see above). */
        if (conf) {
                bool empty = all_zero((unsigned char *)conf + on_new_list.off,
                                      on_new_list.len);

                restore = real_rd_kafka_conf_interceptor_add_on_new(
                              conf, "kotel", on_new, NULL) ==
                              RD_KAFKA_RESP_ERR_NO_ERROR &&
                          empty;
        }
        creating.type   = type;
        creating.rk     = NULL;
        creating.client = NULL;
        rk            = real_rd_kafka_new(type, conf, errstr, errstr_size);
        saved         = errno;
        if (!rk) {
                /* The failed client is gone: forget it (by address). */
                if (creating.rk)
                        settle_client(creating.rk, creating.client);
                if (restore)
                        forget_on_new(conf, creating.rk != NULL);
                /* rd_kafka_new owns the conf only on success. */
                if (own)
                        real_rd_kafka_conf_destroy(own);
        }
        creating = outer;
        errno    = saved;
        return rk;
}

KOTEL_EXPORT void rd_kafka_destroy(rd_kafka_t *rk)
{
        struct kotel_tls *t = &kotel_tls;
        const struct kotel_client *which;
        uint64_t deadline;
        int saved;

        if (!KOTEL_REAL(rd_kafka_destroy))
                return;
        if (!kotel_agent_ready() || t->in_hook) {
                real_rd_kafka_destroy(rk);
                return;
        }
        t->in_hook++;
        kotel_agent_move_on();
        which = kotel_clients_peek(rk);
        real_rd_kafka_destroy(rk);
        saved    = errno;
        deadline = kotel_exporter_deadline_ns(); /* one for all kotel adds */
        settle_client(rk, which);
        kotel_lastclient_destroyed(rk, deadline);
        t->in_hook--;
        errno = saved;
}

KOTEL_EXPORT void rd_kafka_destroy_flags(rd_kafka_t *rk, int flags)
{
        struct kotel_tls *t = &kotel_tls;
        const struct kotel_client *which;
        uint64_t deadline;
        int saved;

        if (!KOTEL_REAL(rd_kafka_destroy_flags))
                return;
        if (!kotel_agent_ready() || t->in_hook) {
                real_rd_kafka_destroy_flags(rk, flags);
                return;
        }
        t->in_hook++;
        kotel_agent_move_on();
        which = kotel_clients_peek(rk);
        real_rd_kafka_destroy_flags(rk, flags);
        saved    = errno;
        deadline = kotel_exporter_deadline_ns(); /* one for all kotel adds */
        settle_client(rk, which);
        kotel_lastclient_destroyed(rk, deadline);
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
        kotel_lastclient_closed(rk);
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
