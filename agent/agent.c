#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "callsite.h"
#include "commit.h"
#include "config.h"
#include "ids.h"
#include "inflight.h"
#include "logs_export.h"
#include "lastclient.h"
#include "metrics_export.h"
#include "msgtab.h"
#include "produce.h"
#include "ptrmap.h"
#include "resource.h"
#include "symbols.h"
#include "tls.h"

__thread struct kotel_tls kotel_tls;

enum { INIT_NONE = 0, INIT_RUNNING, INIT_READY, INIT_OFF };
static int init_state;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
/* The client registry's lock (below); the fork handlers take it too. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t kotel_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t kotel_mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kotel_agent_move_on(void)
{
        struct kotel_tls *t = &kotel_tls;

        kotel_agent_settle();

        if (t->batch_refs_n) {
                kotel_msgtab_release_many(t->batch_refs, t->batch_refs_n);
                t->batch_refs_n = 0;
        }
        kotel_agent_end_current();
}

void kotel_agent_settle(void)
{
        struct kotel_tls *t = &kotel_tls;

        if (t->pending.ref.idx) {
                kotel_msgtab_end(&t->pending);
                t->pending.ref.idx = 0;
        }
}

void kotel_agent_end_current(void)
{
        struct kotel_tls *t = &kotel_tls;

        if (!t->has_current)
                return;
        t->has_current = false;
        if (t->defer_end) {
                t->pending = (struct kotel_live_end){
                    t->current,
                    t->current_ends_on_move || t->current_destroyed,
                    kotel_now_ns()};
        } else {
                struct kotel_live_end end = {
                    t->current, t->current_ends_on_move || t->current_destroyed,
                    0};

                kotel_msgtab_end(&end);
        }
        free(t->current_baggage);
        t->current_baggage      = NULL;
        t->current              = (struct kotel_live_ref){0, 0};
        t->current_ends_on_move = false;
        t->current_owner        = NULL;
        t->current_rkm          = NULL;
        t->current_destroyed    = false;
}

static void on_thread_exit(void *arg)
{
        (void)arg;
        kotel_agent_move_on();
        free(kotel_tls.batch_refs);
        kotel_tls.batch_refs     = NULL;
        kotel_tls.batch_refs_cap = 0;
}

void kotel_tls_arm(void)
{
        if (kotel_tls.armed)
                return;
        kotel_tls.armed = true;
        pthread_setspecific(tls_key, &kotel_tls);
}

/* Runs on the thread that called exit(), which may be a signal handler
 * that interrupted any code, kotel's hooks and malloc included: no lock is
 * waited for (only tried) and nothing is allocated or freed, so nothing
 * here can wait on what that thread holds. Settling the spans still open
 * and flushing them share one deadline. The app's exit code is untouched:
 * this only returns. */
static void at_exit(void)
{
        uint64_t deadline = kotel_exporter_deadline_ns();
        int saved         = errno;

        /* The thread's current message and batch are in the side-table,
         * which ends them all. */
        kotel_exporter_count_dropped(kotel_msgtab_end_at_exit());
        kotel_produce_finish_at_exit("process exited before the delivery "
                                     "report",
                                     deadline);
        kotel_metrics_shutdown_begin(deadline);
        kotel_logs_shutdown_begin(deadline);
        kotel_exporter_shutdown_by(deadline);
        kotel_metrics_shutdown_wait(deadline);
        kotel_logs_shutdown_wait(deadline);
        errno = saved;
}

/* Every lock a hook can hold is taken before fork() and released after it,
 * so the child never inherits one held by a thread that does not exist
 * there. Order: the registry (which may build the resource under it), the
 * resource, the side-table, topic names, the in-flight shards, the commit
 * records (a leaf: nothing else is taken under it); no code path
 * takes them in another order. */
void kotel_agent_atfork_prepare(void)
{
        pthread_mutex_lock(&reg_lock);
        kotel_resource_atfork_prepare();
        kotel_msgtab_atfork_prepare();
        kotel_inflight_atfork_prepare();
        kotel_commit_atfork_prepare();
}

void kotel_agent_atfork_parent(void)
{
        kotel_commit_atfork_parent();
        kotel_inflight_atfork_parent();
        kotel_msgtab_atfork_parent();
        kotel_resource_atfork_parent();
        pthread_mutex_unlock(&reg_lock);
}

void kotel_agent_atfork_child(void)
{
        pthread_mutex_init(&reg_lock, NULL);
        kotel_inflight_atfork_child();
        kotel_lastclient_atfork_child();
        kotel_msgtab_atfork_child();
        kotel_commit_atfork_child();
        kotel_ids_atfork_child();
        kotel_resource_atfork_child();
        kotel_exporter_atfork_child();
        kotel_metrics_atfork_child();
        kotel_logs_atfork_child();
        kotel_tls.has_current  = false;
        kotel_tls.current      = (struct kotel_live_ref){0, 0};
        kotel_tls.batch_refs_n = 0;
        free(kotel_tls.current_baggage);
        kotel_tls.current_baggage = NULL;
        /* No thread here: the exporter starts again with the child's first
         * span, so fork()+exec() stays as cheap as without the agent. */
}

static void init(void)
{
        int saved = errno;

        kotel_log_init();
        kotel_config_load();
        /* A set-uid/set-gid program (AT_SECURE) is never traced: the
         * dynamic loader ignores LD_PRELOAD there, and kotel loaded another
         * way (/etc/ld.so.preload, a link) stays just as inert; the real
         * functions are still resolved, for the hooks to pass through. */
        if (!kotel_symbols_resolve() || kotel_cfg.disabled ||
            getauxval(AT_SECURE)) {
                __atomic_store_n(&init_state, INIT_OFF, __ATOMIC_RELEASE);
                goto out;
        }
        pthread_key_create(&tls_key, on_thread_exit);
        kotel_exporter_start();
        kotel_metrics_set_resource(kotel_resource_get());
        kotel_metrics_start();
        kotel_logs_start();
        kotel_callsite_init();
        pthread_atfork(kotel_agent_atfork_prepare, kotel_agent_atfork_parent,
                       kotel_agent_atfork_child);
        atexit(at_exit);
        __atomic_store_n(&init_state, INIT_READY, __ATOMIC_RELEASE);
        kotel_log(KOTEL_LOG_DEBUG, "tracing on (%s)", real_rd_kafka_version
                                                          ? "librdkafka found"
                                                          : "");
out:
        errno = saved;
}

bool kotel_agent_ready(void)
{
        int st = __atomic_load_n(&init_state, __ATOMIC_ACQUIRE);

        if (__builtin_expect(st == INIT_READY, 1))
                return true;
        if (st == INIT_OFF)
                return false;
        pthread_once(&init_once, init);
        return __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_READY;
}

/* ---- client registry ---------------------------------------------- */

static struct kotel_ptrmap clients; /* rk -> struct kotel_client * */
/* Bumped by every registry change: a per-thread cache of
 * kotel_clients_get() is valid while it stays the same. */
uint64_t kotel_clients_generation;
static struct kotel_ptrmap handles; /* queue/topic -> rk */

static char *conf_str(const rd_kafka_conf_t *conf, const char *name)
{
        char buf[1024];
        size_t size = sizeof(buf);

        if (real_rd_kafka_conf_get(conf, name, buf, &size) != RD_KAFKA_CONF_OK ||
            !buf[0])
                return NULL;
        return strdup(buf);
}

/* "host:port" of the first broker in a bootstrap list such as
 * "PLAINTEXT://a:9092,b:9092" or "[::1]:9092". */
static void first_broker(const char *list, char **addr, int *port)
{
        const char *p = list, *end, *colon, *scheme;
        char *a;
        long v;

        *addr = NULL;
        *port = 0;
        if (!list)
                return;
        while (*p == ' ')
                p++;
        end = p + strcspn(p, ", ");
        scheme = strstr(p, "://");
        if (scheme && scheme < end)
                p = scheme + 3;
        if (*p == '[') {
                const char *rb = memchr(p, ']', (size_t)(end - p));
                if (!rb)
                        return;
                a     = strndup(p + 1, (size_t)(rb - p - 1));
                colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        } else {
                colon = memchr(p, ':', (size_t)(end - p));
                a     = strndup(p, (size_t)((colon ? colon : end) - p));
        }
        if (!a || !*a) {
                free(a);
                return;
        }
        *addr = a;
        if (colon) {
                char *e;
                v = strtol(colon + 1, &e, 10);
                if (e == end && v > 0 && v < 65536)
                        *port = (int)v;
        }
}

struct kotel_client *kotel_clients_add(const rd_kafka_t *rk,
                                       const rd_kafka_conf_t *conf,
                                       rd_kafka_type_t type)
{
        struct kotel_client *c = kotel_client_new(), *old;
        char *servers;

        if (!c)
                return NULL;
        c->client_id = conf_str(conf, "client.id");
        if (type == RD_KAFKA_CONSUMER)
                c->group_id = conf_str(conf, "group.id");
        servers = conf_str(conf, "bootstrap.servers");
        if (!servers)
                servers = conf_str(conf, "metadata.broker.list");
        first_broker(servers, &c->server_address, &c->server_port);
        free(servers);
        c->resource = kotel_resource_for_client(c->client_id, c->group_id);
        /* The registry's reference; if the registry cannot hold it, the
         * client is never removed and this reference simply stays. */
        kotel_client_ref(c);
        pthread_mutex_lock(&reg_lock);
        /* An entry already at @rk is a destroyed client whose memory
         * librdkafka gave to this one before the destroy wrapper could
         * take its entry out: this one replaces it, and that wrapper's
         * remove, which names its own entry, leaves this one alone. */
        old = kotel_ptrmap_del(&clients, (uint64_t)(uintptr_t)rk);
        kotel_ptrmap_put(&clients, (uint64_t)(uintptr_t)rk, c);
        __atomic_add_fetch(&kotel_clients_generation, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&reg_lock);
        kotel_client_unref(old);
        return c;
}

/* For spans whose client cannot be told (a handle created before the agent
 * saw it): the process resource, no client attributes. Immortal; a fork
 * child builds its own, for its pid. */
static struct kotel_client *default_client(void)
{
        static struct kotel_client *dflt;
        static pid_t dflt_pid;
        struct kotel_client *c;

        pthread_mutex_lock(&reg_lock);
        if (!dflt || dflt_pid != getpid()) {
                c = kotel_client_new();
                if (c) {
                        c->resource = kotel_resource_get();
                        dflt        = c;
                        dflt_pid    = getpid();
                }
        }
        c = dflt;
        pthread_mutex_unlock(&reg_lock);
        return c;
}

struct kotel_client *kotel_clients_get(const void *rk)
{
        struct kotel_client *c = NULL;

        if (rk) {
                pthread_mutex_lock(&reg_lock);
                c = kotel_ptrmap_get(&clients, (uint64_t)(uintptr_t)rk);
                pthread_mutex_unlock(&reg_lock);
        }
        return c ? c : default_client();
}

size_t kotel_clients_count(void)
{
        size_t n;

        pthread_mutex_lock(&reg_lock);
        n = clients.count;
        pthread_mutex_unlock(&reg_lock);
        return n;
}

struct kotel_client *kotel_clients_peek(const void *rk)
{
        struct kotel_client *c;

        pthread_mutex_lock(&reg_lock);
        c = kotel_ptrmap_get(&clients, (uint64_t)(uintptr_t)rk);
        pthread_mutex_unlock(&reg_lock);
        return c;
}

bool kotel_clients_known(const void *rk)
{
        return kotel_clients_peek(rk) != NULL;
}

void kotel_clients_remove(const void *rk, const struct kotel_client *which)
{
        struct kotel_client *c = NULL;

        pthread_mutex_lock(&reg_lock);
        if (!which ||
            kotel_ptrmap_get(&clients, (uint64_t)(uintptr_t)rk) != which) {
                /* Not registered, or already another client's entry. */
                pthread_mutex_unlock(&reg_lock);
                return;
        }
        c = kotel_ptrmap_del(&clients, (uint64_t)(uintptr_t)rk);
        __atomic_add_fetch(&kotel_clients_generation, 1, __ATOMIC_RELEASE);
        for (size_t i = 0; handles.slots && i <= handles.mask;) {
                if (handles.slots[i].key && handles.slots[i].val == rk) {
                        kotel_ptrmap_del(&handles, handles.slots[i].key);
                        continue;
                }
                i++;
        }
        pthread_mutex_unlock(&reg_lock);
        kotel_client_unref(c);
}

void kotel_handles_put(const void *handle, const void *rk)
{
        if (!handle || !rk)
                return;
        pthread_mutex_lock(&reg_lock);
        kotel_ptrmap_put(&handles, (uint64_t)(uintptr_t)handle, (void *)rk);
        pthread_mutex_unlock(&reg_lock);
}

const void *kotel_handles_rk(const void *handle)
{
        const void *rk;

        if (!handle)
                return NULL;
        pthread_mutex_lock(&reg_lock);
        rk = kotel_ptrmap_get(&handles, (uint64_t)(uintptr_t)handle);
        pthread_mutex_unlock(&reg_lock);
        return rk;
}
