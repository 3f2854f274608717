#include "resource.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "exporter/env.h"
#include "exporter/version.h"

#define MAX_ATTRS 64

static const struct kotel_resource *current;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

/* Per-client resources (KOTEL_SERVICE_NAME_FROM): interned by service
 * name under build_lock, built from the process resource of their time
 * and never freed. Every one ever built stays on the `all` list, so that
 * a fork child, which starts a table of its own (for its pid), still
 * reaches those its inherited clients and spans point at. */
struct client_res {
        struct kotel_resource r;
        const struct kotel_resource *base; /* the process resource used */
        char *name;
        struct client_res *next_all;
};

static struct client_res *table[KOTEL_RESOURCE_CLIENT_MAX];
static size_t n_table;
static struct client_res *all;
static uint64_t overflowed;
static int from_mode = -2; /* -2: KOTEL_SERVICE_NAME_FROM not read yet */

int kotel_resource_parse(const char *v, struct kotel_kv *kv, size_t cap,
                         size_t *n)
{
        int bad = 0;

        while (*v) {
                const char *end = strchr(v, ',');
                const char *eq, *kb, *ke, *vb, *ve;
                char *k, *val;

                if (!end)
                        end = v + strlen(v);
                eq = memchr(v, '=', (size_t)(end - v));
                kb = v;
                ke = eq ? eq : end;
                while (kb < ke && kotel_env_isspace((unsigned char)*kb))
                        kb++;
                while (ke > kb && kotel_env_isspace((unsigned char)ke[-1]))
                        ke--;
                if (!eq || ke == kb) {
                        if (end > v)
                                bad++;
                        goto next;
                }
                vb = eq + 1;
                ve = end;
                while (vb < ve && kotel_env_isspace((unsigned char)*vb))
                        vb++;
                while (ve > vb && kotel_env_isspace((unsigned char)ve[-1]))
                        ve--;
                k   = kotel_percent_decode(kb, (size_t)(ke - kb));
                val = kotel_percent_decode(vb, (size_t)(ve - vb));
                if (!k || !val)
                        goto next_bad;
                /* A later duplicate key wins, even once the list is full. */
                for (size_t i = 0; i < *n; i++)
                        if (!strcmp(kv[i].key, k)) {
                                free((char *)kv[i].key);
                                free((char *)kv[i].str);
                                kv[i] = kv[--*n];
                                break;
                        }
                if (*n >= cap)
                        goto next_bad;
                kv[*n].key = k;
                kv[*n].str = val;
                kv[*n].i   = 0;
                (*n)++;
                goto next;
next_bad:
                free(k);
                free(val);
                bad++;
next:
                v = *end ? end + 1 : end;
        }
        return bad;
}

static const char *exe_name(char *buf, size_t size)
{
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        const char *slash;

        if (n <= 0)
                return program_invocation_short_name;
        buf[n] = '\0';
        slash  = strrchr(buf, '/');
        return slash ? slash + 1 : buf;
}

static void set(struct kotel_kv *kv, size_t *n, const char *key,
                const char *str, int64_t i)
{
        for (size_t j = 0; j < *n; j++)
                if (!strcmp(kv[j].key, key)) {
                        free((char *)kv[j].str);
                        kv[j].str = str ? strdup(str) : NULL;
                        kv[j].i   = i;
                        return;
                }
        if (*n >= MAX_ATTRS)
                return;
        kv[*n].key = strdup(key);
        kv[*n].str = str ? strdup(str) : NULL;
        kv[*n].i   = i;
        if (!kv[*n].key || (str && !kv[*n].str)) {
                free((char *)kv[*n].key);
                free((char *)kv[*n].str);
                return;
        }
        (*n)++;
}

static bool has(const struct kotel_kv *kv, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(kv[i].key, key))
                        return true;
        return false;
}

static const struct kotel_resource *build(void)
{
        struct kotel_resource *r = calloc(1, sizeof(*r));
        struct kotel_kv *kv      = calloc(MAX_ATTRS, sizeof(*kv));
        const char *v            = kotel_env_str("OTEL_RESOURCE_ATTRIBUTES");
        const char *svc          = kotel_env_str("OTEL_SERVICE_NAME");
        char exe[4096], host[256], unknown[4200];
        const char *ename;
        size_t n = 0;

        if (!r || !kv) {
                free(r);
                free(kv);
                return NULL;
        }
        if (v) {
                int bad = kotel_resource_parse(v, kv, MAX_ATTRS - 8, &n);
                if (bad)
                        kotel_log(KOTEL_LOG_ERROR,
                                  "OTEL_RESOURCE_ATTRIBUTES: %d malformed "
                                  "entr%s skipped (expected key=value pairs "
                                  "separated by commas, values percent-encoded)",
                                  bad, bad == 1 ? "y" : "ies");
        }
        ename = exe_name(exe, sizeof(exe));
        if (svc)
                set(kv, &n, "service.name", svc, 0);
        else if (!has(kv, n, "service.name")) {
                snprintf(unknown, sizeof(unknown), "unknown_service:%s", ename);
                set(kv, &n, "service.name", unknown, 0);
        }
        set(kv, &n, "process.pid", NULL, (int64_t)getpid());
        set(kv, &n, "process.executable.name", ename, 0);
        if (gethostname(host, sizeof(host)) == 0) {
                host[sizeof(host) - 1] = '\0';
                if (!has(kv, n, "host.name"))
                        set(kv, &n, "host.name", host, 0);
        }
        set(kv, &n, "telemetry.sdk.name", "kotel", 0);
        set(kv, &n, "telemetry.sdk.language", "c", 0);
        set(kv, &n, "telemetry.sdk.version", KOTEL_VERSION, 0);
        r->n     = n;
        r->attrs = kv;
        return r;
}

const struct kotel_resource *kotel_resource_get(void)
{
        const struct kotel_resource *r = __atomic_load_n(&current, __ATOMIC_ACQUIRE);

        if (r)
                return r;
        pthread_mutex_lock(&build_lock);
        r = current;
        if (!r) {
                r = build();
                __atomic_store_n(&current, r, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&build_lock);
        return r;
}

int kotel_resource_parse_from(const char *v)
{
        size_t n;

        if (!v)
                return KOTEL_SVCNAME_OFF;
        while (kotel_env_isspace((unsigned char)*v))
                v++;
        n = strlen(v);
        while (n && kotel_env_isspace((unsigned char)v[n - 1]))
                n--;
        if (!n || (n == 4 && !kotel_env_ncasecmp(v, "none", 4)))
                return KOTEL_SVCNAME_OFF;
        if (n == 9 && !kotel_env_ncasecmp(v, "client.id", 9))
                return KOTEL_SVCNAME_CLIENT_ID;
        if (n == 8 && !kotel_env_ncasecmp(v, "group.id", 8))
                return KOTEL_SVCNAME_GROUP_ID;
        return -1;
}

/* build_lock held. */
static int mode(void)
{
        const char *v;

        if (from_mode != -2)
                return from_mode;
        v         = kotel_env_str("KOTEL_SERVICE_NAME_FROM");
        from_mode = kotel_resource_parse_from(v);
        if (from_mode < 0) {
                struct kotel_log_value q;

                kotel_log(KOTEL_LOG_ERROR,
                          "KOTEL_SERVICE_NAME_FROM='%s': not client.id, "
                          "group.id or none; every client has the process "
                          "resource",
                          kotel_log_value(&q, v));
                from_mode = KOTEL_SVCNAME_OFF;
        }
        return from_mode;
}

/* build_lock held. The process resource with service.name = @name: a new
 * attribute array whose other entries share the process resource's
 * (immortal) strings. */
static struct client_res *build_client(const struct kotel_resource *base,
                                       const char *name)
{
        struct client_res *e = calloc(1, sizeof(*e));
        struct kotel_kv *kv  = calloc(base->n + 1, sizeof(*kv));
        size_t n             = 0;
        bool named           = false;

        if (!e || !kv || !(e->name = strdup(name))) {
                free(e ? e->name : NULL);
                free(e);
                free(kv);
                return NULL;
        }
        for (size_t i = 0; i < base->n; i++) {
                kv[n] = base->attrs[i];
                if (!strcmp(kv[n].key, "service.name")) {
                        kv[n].str = e->name;
                        kv[n].i   = 0;
                        named     = true;
                }
                n++;
        }
        if (!named)
                kv[n++] = (struct kotel_kv){"service.name", e->name, 0};
        e->r.n      = n;
        e->r.attrs  = kv;
        e->base     = base;
        e->next_all = all;
        all         = e;
        return e;
}

const struct kotel_resource *kotel_resource_for_client(const char *client_id,
                                                       const char *group_id)
{
        const struct kotel_resource *base = kotel_resource_get();
        const struct kotel_resource *r    = base;
        const char *name                  = NULL;
        bool full                         = false;
        struct kotel_log_value q;

        if (!base)
                return NULL;
        pthread_mutex_lock(&build_lock);
        switch (mode()) {
        case KOTEL_SVCNAME_CLIENT_ID:
                /* librdkafka's default client.id names no one service. */
                if (client_id && strcmp(client_id, "rdkafka"))
                        name = client_id;
                break;
        case KOTEL_SVCNAME_GROUP_ID:
                name = group_id;
                break;
        }
        if (name && *name) {
                size_t i;

                for (i = 0; i < n_table; i++)
                        if (table[i]->base == base &&
                            !strcmp(table[i]->name, name))
                                break;
                if (i < n_table) {
                        r = &table[i]->r;
                } else if (n_table < KOTEL_RESOURCE_CLIENT_MAX) {
                        struct client_res *e = build_client(base, name);

                        if (e) {
                                table[n_table++] = e;
                                r                = &e->r;
                        }
                } else {
                        full = ++overflowed == 1;
                }
        }
        pthread_mutex_unlock(&build_lock);
        if (full)
                kotel_log(KOTEL_LOG_WARN,
                          "KOTEL_SERVICE_NAME_FROM: more than %d service "
                          "names; clients past them (\"%s\" is the first) "
                          "have the process resource",
                          KOTEL_RESOURCE_CLIENT_MAX, kotel_log_value(&q, name));
        return r;
}

const struct kotel_resource *kotel_resource_of(const void *rk)
{
        const struct kotel_client *c = kotel_clients_get(rk);

        return c && c->resource ? c->resource : kotel_resource_get();
}

size_t kotel_resource_client_count(void)
{
        size_t n;

        pthread_mutex_lock(&build_lock);
        n = n_table;
        pthread_mutex_unlock(&build_lock);
        return n;
}

uint64_t kotel_resource_overflowed(void)
{
        uint64_t n;

        pthread_mutex_lock(&build_lock);
        n = overflowed;
        pthread_mutex_unlock(&build_lock);
        return n;
}

/* In a fork child: the parent's resource. Spans and clients inherited from
 * the parent may still point to it: it is never freed, and stays reachable
 * from here. */
static const struct kotel_resource *volatile inherited
    __attribute__((used));

void kotel_resource_atfork_prepare(void)
{
        pthread_mutex_lock(&build_lock);
}

void kotel_resource_atfork_parent(void)
{
        pthread_mutex_unlock(&build_lock);
}

void kotel_resource_atfork_child(void)
{
        /* The parent's resource stays valid for spans already holding it;
         * the child gets its own pid on the next build. */
        pthread_mutex_init(&build_lock, NULL);
        inherited = current;
        __atomic_store_n(&current, NULL, __ATOMIC_RELEASE);
        /* The child's clients get resources with its pid; the parent's
         * stay on `all`. */
        n_table    = 0;
        overflowed = 0;
}
