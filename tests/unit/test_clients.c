/* The client registry: a client created at the address of one just
 * destroyed (librdkafka reused the memory) keeps its entry when the old
 * client's destroy wrapper removes what it registered. */
#include <librdkafka/rdkafka.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/symbols.h"
#include "tap.h"

static rd_kafka_conf_res_t fake_conf_get(const rd_kafka_conf_t *conf,
                                         const char *name, char *dest,
                                         size_t *dest_size)
{
        const char *v = !strcmp(name, "client.id") ? (const char *)conf : NULL;

        if (!v)
                return RD_KAFKA_CONF_UNKNOWN;
        snprintf(dest, *dest_size, "%s", v);
        return RD_KAFKA_CONF_OK;
}

int main(void)
{
        rd_kafka_t *rk = (rd_kafka_t *)(uintptr_t)0x1000;
        const void *queue = (const void *)(uintptr_t)0x2000;
        struct kotel_client *old, *new;

        real_rd_kafka_conf_get = fake_conf_get;
        old = kotel_clients_add(rk, (const rd_kafka_conf_t *)"old",
                                RD_KAFKA_PRODUCER);
        CHECK(old && kotel_clients_peek(rk) == old, "registered");
        CHECK(!strcmp(old->client_id, "old"), "its client.id");
        kotel_client_unref(old); /* on_new's reference, as client.c does */
        /* The old client is destroyed; before its wrapper removes its
         * entry, a new client gets the same address. */
        new = kotel_clients_add(rk, (const rd_kafka_conf_t *)"new",
                                RD_KAFKA_PRODUCER);
        CHECK(kotel_clients_peek(rk) == new, "the new client replaces it");
        kotel_handles_put(queue, rk);
        kotel_clients_remove(rk, old);
        CHECK(kotel_clients_peek(rk) == new && kotel_clients_get(rk) == new,
              "the old client's remove leaves the new entry");
        CHECK(kotel_handles_rk(queue) == rk, "and the new client's handles");
        CHECK(!strcmp(kotel_clients_get(rk)->client_id, "new"),
              "spans of the new client name it");
        kotel_clients_remove(rk, new);
        CHECK(kotel_clients_peek(rk) == NULL, "its own remove takes it out");
        CHECK(kotel_handles_rk(queue) == NULL, "with its handles");
        kotel_clients_remove(rk, new);
        CHECK(kotel_clients_peek(rk) == NULL, "a second remove is harmless");
        kotel_client_unref(new);
        TAP_DONE();
}
