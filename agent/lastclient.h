/* Flush on the last client: a program that shuts its clients down cleanly
 * and then ends without running C exit handlers (Go's runtime exits with a
 * raw exit_group, Python's os._exit, multiprocessing workers) would lose
 * every span still queued, since kotel's flush at exit never runs. So when
 * the app closes or destroys its last live client, the app thread that did
 * it waits (within KOTEL_SHUTDOWN_TIMEOUT) for the queued spans to be
 * exported. A client is live from rd_kafka_new until its
 * rd_kafka_consumer_close, its rd_kafka_destroy, or an rd_kafka_flush
 * that leaves nothing in flight (a producer is often never destroyed). */
#ifndef KOTEL_LASTCLIENT_H
#define KOTEL_LASTCLIENT_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

/* The app thread, after the real rd_kafka_consumer_close or a complete
 * rd_kafka_flush (@rk is still registered): @rk has ended; flushes when no
 * client is live. Keeps errno. */
void kotel_lastclient_closed(const rd_kafka_t *rk);
/* The app thread, after the real destroy and the client's removal from the
 * registry: flushes when no client is live, until @deadline_ns (the one
 * the destroy's own settling used: kotel adds one deadline in all).
 * Keeps errno. */
void kotel_lastclient_destroyed(const rd_kafka_t *rk, uint64_t deadline_ns);
/* The agent's fork child handler: the lock may have been held. */
void kotel_lastclient_atfork_child(void);

#endif
