/* librdkafka's statistics JSON, read with json-c (see kafka_stats.h for
 * the hand-off between the app thread and the metrics exporter's). */
#include "kafka_stats.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { S_FREE = 0, S_CLAIMING, S_LIVE, S_DEAD };

/* A copy of one statistics JSON, NUL-terminated. */
struct blob {
        size_t len;
        uint64_t time_ns;
        char data[];
};

struct slot {
        int state;
        const void *rk;
        struct kotel_client *client; /* a reference; set while CLAIMING */
        struct blob *pending;        /* atomic exchange on both sides */
        /* The exporter's thread only. */
        struct kotel_kstats_snap snap;
        uint64_t snap_time_ns;
};

static struct slot slots[KOTEL_KSTATS_SLOTS];
static uint64_t too_big, bad, overflowed;

static uint64_t wall_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- parsing (json-c) ------------------------------------------------ */

static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool int_member(struct json_object *o, const char *key, int64_t *out)
{
        struct json_object *v = member(o, key);

        if (!v || !json_object_is_type(v, json_type_int))
                return false;
        *out = json_object_get_int64(v);
        return true;
}

static char *str_member(struct json_object *o, const char *key)
{
        struct json_object *v = member(o, key);

        return v && json_object_is_type(v, json_type_string)
                   ? strdup(json_object_get_string(v))
                   : NULL;
}

static int add_lags(struct kotel_kstats_snap *s, const char *topic,
                    struct json_object *parts)
{
        json_object_object_foreach(parts, key, p)
        {
                struct kotel_kstats_lag *l, *grown;
                int64_t part, lag;

                (void)key;
                if (!json_object_is_type(p, json_type_object) ||
                    !int_member(p, "partition", &part) || part < 0 ||
                    part > INT32_MAX || !int_member(p, "consumer_lag", &lag) ||
                    lag < 0)
                        continue; /* UA (-1), or no committed offset yet */
                grown = realloc(s->lags, (s->n_lags + 1) * sizeof(*grown));
                if (!grown)
                        return -1;
                s->lags = grown;
                l       = &s->lags[s->n_lags];
                if (!(l->topic = strdup(topic)))
                        return -1;
                l->partition = (int32_t)part;
                l->lag       = lag;
                s->n_lags++;
        }
        return 0;
}

/* "host:port" (the host may be a bracketed IPv6 address). */
static int add_broker(struct kotel_kstats_snap *s, const char *nodename,
                      double rtt_s)
{
        struct kotel_kstats_broker *b, *grown;
        const char *colon = strrchr(nodename, ':');
        size_t hl = colon ? (size_t)(colon - nodename) : strlen(nodename);
        long port = colon ? strtol(colon + 1, NULL, 10) : 0;

        if (hl >= 2 && nodename[0] == '[' && nodename[hl - 1] == ']') {
                nodename++;
                hl -= 2;
        }
        grown = realloc(s->brokers, (s->n_brokers + 1) * sizeof(*grown));
        if (!grown)
                return -1;
        s->brokers = grown;
        b          = &s->brokers[s->n_brokers];
        if (!(b->host = strndup(nodename, hl)))
                return -1;
        b->port      = port > 0 && port < 65536 ? (int)port : 0;
        b->rtt_avg_s = rtt_s;
        s->n_brokers++;
        return 0;
}

static int read_brokers(struct kotel_kstats_snap *s, struct json_object *brs)
{
        json_object_object_foreach(brs, key, b)
        {
                struct json_object *rtt, *nn, *src;
                int64_t id, cnt, avg;

                (void)key;
                /* Bootstrap entries (-1) and the internal broker have no
                 * node id of their own; a logical broker (GroupCoordinator,
                 * TxnCoordinator) is another broker's connection again. */
                if (!json_object_is_type(b, json_type_object) ||
                    !int_member(b, "nodeid", &id) || id < 0 ||
                    ((src = member(b, "source")) &&
                     json_object_is_type(src, json_type_string) &&
                     !strcmp(json_object_get_string(src), "logical")) ||
                    !(rtt = member(b, "rtt")) ||
                    !json_object_is_type(rtt, json_type_object) ||
                    !int_member(rtt, "cnt", &cnt) || cnt <= 0 ||
                    !int_member(rtt, "avg", &avg) || avg < 0 ||
                    !(nn = member(b, "nodename")) ||
                    !json_object_is_type(nn, json_type_string))
                        continue;
                if (add_broker(s, json_object_get_string(nn),
                               (double)avg / 1e6) < 0)
                        return -1;
        }
        return 0;
}

static int read_snap(struct kotel_kstats_snap *s, struct json_object *root)
{
        struct json_object *type = member(root, "type"), *v;

        if (!json_object_is_type(root, json_type_object) || !type ||
            !json_object_is_type(type, json_type_string) ||
            !(s->name = str_member(root, "name")))
                return -1;
        s->producer = !strcmp(json_object_get_string(type), "producer");
        if (s->producer && (!int_member(root, "msg_cnt", &s->msg_cnt) ||
                            !int_member(root, "msg_size", &s->msg_size)))
                return -1;
        if ((v = member(root, "brokers")) &&
            json_object_is_type(v, json_type_object) && read_brokers(s, v) < 0)
                return -1;
        if (s->producer || !(v = member(root, "topics")) ||
            !json_object_is_type(v, json_type_object))
                return 0;
        json_object_object_foreach(v, key, t)
        {
                struct json_object *parts;

                if (json_object_is_type(t, json_type_object) &&
                    (parts = member(t, "partitions")) &&
                    json_object_is_type(parts, json_type_object) &&
                    add_lags(s, key, parts) < 0)
                        return -1;
        }
        return 0;
}

void kotel_kafka_stats_snap_free(struct kotel_kstats_snap *s)
{
        for (size_t i = 0; i < s->n_lags; i++)
                free(s->lags[i].topic);
        for (size_t i = 0; i < s->n_brokers; i++)
                free(s->brokers[i].host);
        free(s->lags);
        free(s->brokers);
        free(s->name);
        memset(s, 0, sizeof(*s));
}

int kotel_kafka_stats_parse(const char *json, size_t len,
                            struct kotel_kstats_snap *out)
{
        struct json_tokener *tok;
        struct json_object *root;
        int rc = -1;

        memset(out, 0, sizeof(*out));
        if (len > KOTEL_KSTATS_MAX_BYTES)
                return -1;
        /* librdkafka nests five levels deep; a little room, no more. */
        if (!(tok = json_tokener_new_ex(16)))
                return -1;
        root = json_tokener_parse_ex(tok, json, (int)len);
        if (root && json_tokener_get_error(tok) == json_tokener_success &&
            json_tokener_get_parse_end(tok) == len)
                rc = read_snap(out, root);
        json_object_put(root);
        json_tokener_free(tok);
        if (rc < 0)
                kotel_kafka_stats_snap_free(out);
        return rc;
}

/* ---- slots ------------------------------------------------------------- */

bool kotel_kafka_stats_add(const void *rk, struct kotel_client *c)
{
        for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++) {
                struct slot *s = &slots[i];
                int st         = S_FREE;

                if (!__atomic_compare_exchange_n(&s->state, &st, S_CLAIMING,
                                                 false, __ATOMIC_ACQUIRE,
                                                 __ATOMIC_RELAXED))
                        continue;
                s->rk     = rk;
                s->client = kotel_client_ref(c);
                __atomic_store_n(&s->state, S_LIVE, __ATOMIC_RELEASE);
                return true;
        }
        return false;
}

static struct slot *live_slot(const void *rk)
{
        for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++)
                if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) ==
                        S_LIVE &&
                    slots[i].rk == rk)
                        return &slots[i];
        return NULL;
}

void kotel_kafka_stats_remove(const void *rk)
{
        struct slot *s = live_slot(rk);

        if (s)
                __atomic_store_n(&s->state, S_DEAD, __ATOMIC_RELEASE);
}

void kotel_kafka_stats_offer(const void *rk, const char *json, size_t len)
{
        struct slot *s = live_slot(rk);
        struct blob *b;

        if (!s)
                return;
        if (len > KOTEL_KSTATS_MAX_BYTES) {
                __atomic_add_fetch(&too_big, 1, __ATOMIC_RELAXED);
                return;
        }
        if (!(b = malloc(sizeof(*b) + len + 1)))
                return;
        b->len     = len;
        b->time_ns = wall_ns();
        memcpy(b->data, json, len);
        b->data[len] = '\0';
        free(__atomic_exchange_n(&s->pending, b, __ATOMIC_ACQ_REL));
}

/* ---- collection (the exporter's thread) ------------------------------ */

static void release(struct slot *s)
{
        free(__atomic_exchange_n(&s->pending, NULL, __ATOMIC_ACQ_REL));
        kotel_kafka_stats_snap_free(&s->snap);
        kotel_client_unref(s->client);
        s->client = NULL;
        s->rk     = NULL;
        __atomic_store_n(&s->state, S_FREE, __ATOMIC_RELEASE);
}

static void refresh(struct slot *s)
{
        struct blob *b =
            __atomic_exchange_n(&s->pending, NULL, __ATOMIC_ACQ_REL);
        struct kotel_kstats_snap snap;

        if (!b)
                return;
        if (kotel_kafka_stats_parse(b->data, b->len, &snap) < 0) {
                bad++;
        } else {
                kotel_kafka_stats_snap_free(&s->snap);
                s->snap         = snap;
                s->snap_time_ns = b->time_ns;
        }
        free(b);
}

/* Appends @p to gauge @g, or past the cap makes it the overflow point. */
static void put(struct kotel_gpoint *out, size_t cap, size_t *n,
                const struct kotel_gpoint *p)
{
        if (!cap)
                return;
        if (*n + 1 < cap) {
                out[(*n)++] = *p;
                return;
        }
        /* out[cap - 1] is the overflow point: the last value past the cap. */
        overflowed++;
        out[cap - 1]          = *p;
        out[cap - 1].overflow = true;
        *n                    = cap;
}

static struct slot *dead_prev[KOTEL_KSTATS_SLOTS];
static size_t n_dead_prev;

void kotel_kafka_stats_collect(struct kotel_gpoint *out[KOTEL_KG_N], size_t cap,
                               size_t n[KOTEL_KG_N])
{
        struct slot *dead[KOTEL_KSTATS_SLOTS];
        size_t n_dead = 0;

        /* The last call's points borrowed these destroyed clients'
         * snapshots; they went out once, now they go. */
        for (size_t i = 0; i < n_dead_prev; i++)
                release(dead_prev[i]);
        n_dead_prev = 0;
        for (int g = 0; g < KOTEL_KG_N; g++)
                n[g] = 0;
        for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++) {
                struct slot *s = &slots[i];
                int st         = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
                const struct kotel_kstats_snap *sn = &s->snap;
                struct kotel_gpoint p;

                /* A destroyed client's last values go out once more. */
                if (st != S_LIVE && st != S_DEAD)
                        continue;
                refresh(s);
                if (!sn->name) {
                        if (st == S_DEAD)
                                release(s);
                        continue;
                }
                memset(&p, 0, sizeof(p));
                p.client      = s->client;
                p.client_name = sn->name;
                p.partition   = -1;
                p.time_ns     = s->snap_time_ns;
                if (sn->producer) {
                        p.ival = sn->msg_cnt;
                        put(out[KOTEL_KG_QUEUE_MSGS], cap,
                            &n[KOTEL_KG_QUEUE_MSGS], &p);
                        p.ival = sn->msg_size;
                        put(out[KOTEL_KG_QUEUE_BYTES], cap,
                            &n[KOTEL_KG_QUEUE_BYTES], &p);
                }
                for (size_t k = 0; k < sn->n_brokers; k++) {
                        struct kotel_gpoint b = p;

                        b.host      = sn->brokers[k].host;
                        b.port      = sn->brokers[k].port;
                        b.is_double = true;
                        b.dval      = sn->brokers[k].rtt_avg_s;
                        put(out[KOTEL_KG_RTT], cap, &n[KOTEL_KG_RTT], &b);
                }
                for (size_t k = 0; k < sn->n_lags; k++) {
                        struct kotel_gpoint l = p;

                        l.topic     = sn->lags[k].topic;
                        l.partition = sn->lags[k].partition;
                        l.group     = s->client ? s->client->group_id : NULL;
                        l.ival      = sn->lags[k].lag;
                        put(out[KOTEL_KG_LAG], cap, &n[KOTEL_KG_LAG], &l);
                }
                if (st == S_DEAD)
                        dead[n_dead++] = s;
        }
        memcpy(dead_prev, dead, n_dead * sizeof(*dead));
        n_dead_prev = n_dead;
}

void kotel_kafka_stats_counts(uint64_t *big, uint64_t *bad_out, uint64_t *over)
{
        *big     = __atomic_load_n(&too_big, __ATOMIC_RELAXED);
        *bad_out = bad;
        *over    = overflowed;
}

void kotel_kafka_stats_reset(void)
{
        n_dead_prev = 0;
        for (int i = 0; i < KOTEL_KSTATS_SLOTS; i++)
                if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) !=
                    S_FREE)
                        release(&slots[i]);
        too_big = bad = overflowed = 0;
}
