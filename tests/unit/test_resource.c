/* agent/resource.c's per-client resources (KOTEL_SERVICE_NAME_FROM):
 * the variable's parser; under client.id, a resource per distinct
 * client.id with service.name replaced and the process resource's other
 * attributes, interned (the same name gives the same pointer); the
 * process resource for no client.id, an empty one or librdkafka's default
 * "rdkafka"; past KOTEL_RESOURCE_CLIENT_MAX names, the process resource,
 * counted; a real librdkafka client created through kotel's rd_kafka_new
 * gets the resource of its client.id, which kotel_resource_of(rk) (the
 * logs' way to it) returns. */
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/resource.h"
#include "agent/symbols.h"
#include "tap.h"

#define BAIL(why)                                                              \
        do {                                                                   \
                printf("Bail out! %s\n", why);                                 \
                return 1;                                                      \
        } while (0)

static const char *attr(const struct kotel_resource *r, const char *key)
{
        for (size_t i = 0; i < r->n; i++)
                if (!strcmp(r->attrs[i].key, key))
                        return r->attrs[i].str ? r->attrs[i].str : "(int)";
        return NULL;
}

/* The attributes of @a and @b other than service.name are the same. */
static bool same_but_name(const struct kotel_resource *a,
                          const struct kotel_resource *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++) {
                const char *k = a->attrs[i].key;

                if (!strcmp(k, "service.name"))
                        continue;
                if (!attr(b, k) || strcmp(attr(a, k), attr(b, k)))
                        return false;
        }
        return true;
}

int main(void)
{
        const struct kotel_resource *proc, *a, *a2, *b, *r;
        char name[32];
        bool all;

        CHECK(kotel_resource_parse_from(NULL) == KOTEL_SVCNAME_OFF &&
                  kotel_resource_parse_from("") == KOTEL_SVCNAME_OFF &&
                  kotel_resource_parse_from(" none ") == KOTEL_SVCNAME_OFF,
              "unset, empty and none: off");
        CHECK(kotel_resource_parse_from("client.id") ==
                      KOTEL_SVCNAME_CLIENT_ID &&
                  kotel_resource_parse_from(" Client.ID\t") ==
                      KOTEL_SVCNAME_CLIENT_ID,
              "client.id, any case, blanks around");
        CHECK(kotel_resource_parse_from("group.id") == KOTEL_SVCNAME_GROUP_ID,
              "group.id");
        CHECK(kotel_resource_parse_from("client_id") < 0 &&
                  kotel_resource_parse_from("client.id,group.id") < 0 &&
                  kotel_resource_parse_from("transactional.id") < 0,
              "anything else: invalid");

        setenv("OTEL_SERVICE_NAME", "host-app", 1);
        setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod", 1);
        setenv("KOTEL_SERVICE_NAME_FROM", "client.id", 1);
        proc = kotel_resource_get();
        CHECK(proc && !strcmp(attr(proc, "service.name"), "host-app"),
              "the process resource keeps OTEL_SERVICE_NAME");
        a = kotel_resource_for_client("orders-connector", "g1");
        CHECK(a && a != proc &&
                  !strcmp(attr(a, "service.name"), "orders-connector"),
              "client.id names the client's service");
        CHECK(same_but_name(a, proc),
              "its other attributes are the process resource's");
        a2 = kotel_resource_for_client("orders-connector", "other-group");
        CHECK(a2 == a, "the same client.id gives the same resource");
        b = kotel_resource_for_client("billing-job", NULL);
        CHECK(b && b != a && !strcmp(attr(b, "service.name"), "billing-job"),
              "another client.id, another resource");
        CHECK(kotel_resource_for_client(NULL, "g") == proc &&
                  kotel_resource_for_client("", "g") == proc &&
                  kotel_resource_for_client("rdkafka", "g") == proc,
              "no client.id, an empty one or librdkafka's default: the "
              "process resource");
        CHECK(kotel_resource_client_count() == 2, "two resources interned");
        {
                rd_kafka_conf_res_t (*conf_set)(rd_kafka_conf_t *, const char *,
                                                const char *, char *, size_t);
                void *h = dlopen("librdkafka.so.1", RTLD_NOW | RTLD_GLOBAL);
                rd_kafka_conf_t *conf;
                char errstr[256];
                rd_kafka_t *rk;

                setenv("OTEL_TRACES_EXPORTER", "none", 1);
                setenv("OTEL_METRICS_EXPORTER", "none", 1);
                if (!h || !kotel_agent_ready())
                        BAIL("librdkafka not loadable or agent not ready");
                *(void **)&conf_set = dlsym(h, "rd_kafka_conf_set");
                conf                = real_rd_kafka_conf_new();
                if (!conf_set || conf_set(conf, "client.id", "billing-job",
                                          errstr, sizeof(errstr)))
                        BAIL("rd_kafka_conf_set");
                rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                  sizeof(errstr));
                if (!rk)
                        BAIL(errstr);
                CHECK(kotel_resource_of(rk) == b,
                      "a client created with client.id billing-job has "
                      "that resource (kotel_resource_of)");
                CHECK(kotel_resource_of(NULL) == proc,
                      "a handle kotel does not know: the process resource");
                rd_kafka_destroy(rk);
        }
        all = true;
        for (int i = 2; i < KOTEL_RESOURCE_CLIENT_MAX; i++) {
                snprintf(name, sizeof(name), "svc-%d", i);
                r = kotel_resource_for_client(name, NULL);
                all &= r != proc && !strcmp(attr(r, "service.name"), name);
        }
        CHECK(all && kotel_resource_client_count() == KOTEL_RESOURCE_CLIENT_MAX,
              "up to KOTEL_RESOURCE_CLIENT_MAX names, each its resource");
        CHECK(kotel_resource_for_client("one-too-many", NULL) == proc &&
                  kotel_resource_for_client("two-too-many", NULL) == proc &&
                  kotel_resource_overflowed() == 2,
              "past the table: the process resource, counted");
        CHECK(kotel_resource_for_client("billing-job", NULL) == b,
              "names interned before the table filled still find theirs");
        TAP_DONE();
}
