/* Flush on the last client (see lastclient.h for why).
 *
 * Live clients = the registry's clients (agent.c) minus those that ended
 * without being destroyed: closed with rd_kafka_consumer_close, or flushed
 * by rd_kafka_flush down to nothing in flight (kept here, under
 * closed_lock, never held with the registry's lock). A flushed producer
 * stays ended even if it produces again: Python's forwarder flushes its
 * producer, then closes its consumer, and never destroys the producer; at
 * worst a later close waits for spans already queued, within the
 * deadline. The two counts are
 * read one after the other, not atomically together: a client created on
 * another thread at that moment can at worst cause one flush too many or
 * too few, and a flush too many only waits for spans already queued,
 * within the deadline. The flush itself runs on the app thread that ended
 * the client, outside every lock, and never stops the exporter: a program
 * that creates a new client afterwards is traced as before. */
#include "lastclient.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "agent.h"
#include "ptrmap.h"
#include "symbols.h"
#include "tls.h"

static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kotel_ptrmap closed; /* rk -> rk: ended, not destroyed */

/* Registered clients that have not ended. */
static size_t live(void)
{
        size_t n = kotel_clients_count(), c;

        pthread_mutex_lock(&closed_lock);
        c = closed.count;
        pthread_mutex_unlock(&closed_lock);
        return n > c ? n - c : 0;
}

void kotel_lastclient_closed(const rd_kafka_t *rk)
{
        int saved = errno;

        if (rk && kotel_clients_known(rk)) {
                pthread_mutex_lock(&closed_lock);
                kotel_ptrmap_put(&closed, (uint64_t)(uintptr_t)rk, (void *)rk);
                pthread_mutex_unlock(&closed_lock);
        }
        if (live() == 0)
                kotel_exporter_flush_by(kotel_exporter_deadline_ns());
        errno = saved;
}

void kotel_lastclient_destroyed(const rd_kafka_t *rk, uint64_t deadline_ns)
{
        int saved = errno;

        pthread_mutex_lock(&closed_lock);
        kotel_ptrmap_del(&closed, (uint64_t)(uintptr_t)rk);
        pthread_mutex_unlock(&closed_lock);
        if (live() == 0)
                kotel_exporter_flush_by(deadline_ns);
        errno = saved;
}

/* The app thread; returns what the real one does. A flush that leaves
 * nothing in flight ends the producer (see above): confluent_kafka's
 * Producer has no close and is often never destroyed. */
KOTEL_EXPORT rd_kafka_resp_err_t rd_kafka_flush(rd_kafka_t *rk, int timeout_ms)
{
        rd_kafka_resp_err_t err;

        if (!KOTEL_REAL(rd_kafka_flush))
                return RD_KAFKA_RESP_ERR__FAIL;
        err = real_rd_kafka_flush(rk, timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || kotel_tls.in_hook ||
            !kotel_agent_ready())
                return err;
        kotel_lastclient_closed(rk);
        return err;
}

void kotel_lastclient_atfork_child(void)
{
        pthread_mutex_init(&closed_lock, NULL);
}
