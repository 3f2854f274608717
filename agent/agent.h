/* Agent lifecycle and the registry of librdkafka clients.
 *
 * Nothing happens at load time: the first hooked librdkafka call resolves
 * the real functions, reads the configuration, starts the exporter and
 * registers the exit and fork handlers. A program that never calls
 * librdkafka runs exactly as without the agent. */
#ifndef KOTEL_AGENT_H
#define KOTEL_AGENT_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "exporter/exporter.h"

/* The hooked librdkafka symbols are the library's only exports. */
#define KOTEL_EXPORT __attribute__((visibility("default")))

/* Any thread; lazy init. true when tracing is on (symbols resolved, not
 * disabled). When false, hooks only pass through. */
bool kotel_agent_ready(void);

/* Wall clock in ns since the epoch (vDSO). */
uint64_t kotel_now_ns(void);
/* CLOCK_MONOTONIC, in ns: for deadlines. */
uint64_t kotel_mono_ns(void);

/* Client registry (rd_kafka_t -> what its spans say). */
struct kotel_client *kotel_clients_add(const rd_kafka_t *rk,
                                       const rd_kafka_conf_t *conf,
                                       rd_kafka_type_t type);
/* Borrowed; valid while @rk lives. An unknown @rk (or NULL) gives the
 * process-wide default client (resource only), never NULL unless out of
 * memory. */
struct kotel_client *kotel_clients_get(const void *rk);
/* Lock-free: changes whenever a client is added or removed. Inline: a
 * consumed message's metrics compare it. */
extern uint64_t kotel_clients_generation;
static inline uint64_t kotel_clients_gen(void)
{
        return __atomic_load_n(&kotel_clients_generation, __ATOMIC_ACQUIRE);
}
/* The entry of @rk, or NULL (no default); any thread, registry lock. */
struct kotel_client *kotel_clients_peek(const void *rk);
/* Removes @rk's entry, with its handles, only while it is still @which
 * (what kotel_clients_peek() gave before the client was destroyed): once
 * librdkafka frees a client, a new one may be created at the same address
 * and registered before this runs. */
void kotel_clients_remove(const void *rk, const struct kotel_client *which);
/* Any thread; takes the registry's lock: how many clients are registered,
 * and whether @rk is one of them. */
size_t kotel_clients_count(void);
bool kotel_clients_known(const void *rk);
/* Handles created from a client (queues, topics) -> that client's rk. */
void kotel_handles_put(const void *handle, const void *rk);
const void *kotel_handles_rk(const void *handle);

/* The thread moved on from its current message (a new consume call,
 * close, destroy, thread exit). */
void kotel_agent_move_on(void);
/* The same for the current message only (its event was destroyed). */
void kotel_agent_end_current(void);
/* Settles the message a consume wrapper moved on from, if its next table
 * entry did not (tls.h: pending). */
void kotel_agent_settle(void);

/* The fork handlers init() registers (exposed for the unit tests). */
void kotel_agent_atfork_prepare(void);
void kotel_agent_atfork_parent(void);
void kotel_agent_atfork_child(void);

#endif
