/* kclient: an ordinary librdkafka program (it knows nothing of kotel) that
 * exercises every produce and consume API and the forwarding patterns, for
 * the integration tests to run under LD_PRELOAD.
 *
 *   kclient -b BOOTSTRAP produce -a API -t TOPIC -n COUNT [-p PART] [-H k=v]
 *           [--tombstone] [--no-flush] [--nokey]
 *       API: produce producev produceva batch
 *   kclient -b BOOTSTRAP consume -a API -t TOPIC -n COUNT [-g GROUP]
 *           [--sleep MS]
 *       API: poll consume queue batch batchq callback callbackq event
 *            eventarray eventhold
 *       eventhold: poll two events, process the first one's message (for
 *       --sleep MS) while destroying the second one, then destroy the first
 *       (the second one's message goes unprocessed)
 *   kclient -b BOOTSTRAP forward -a PATTERN -t IN -o OUT -n COUNT [-g GROUP]
 *           [--sleep MS]
 *       PATTERN: current early batch batchl list worker zerocopy headers
 *       (see the forward section below)
 *   --raw-exit: end with _exit() instead of returning from main (no exit
 *       handlers run, as with Go's runtime or Python's os._exit)
 *   --setlocale: setlocale(LC_ALL, "") first, as many programs do, and
 *       print "locale LC_NUMERIC=NAME decimal_point=C" (the tests check
 *       that the locale they asked for is really active)
 *
 * Keys are "k0".."k<COUNT-1>"; payloads "payload-<i>". Consumers print one
 * line per message: "msg key=K partition=P offset=O traceparent=TP". */
#include <librdkafka/rdkafka.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *brokers, *api = "", *topic, *out_topic, *group = "kclient";
static int count = 1, partition = RD_KAFKA_PARTITION_UA, flush_at_end = 1;
static int tombstone, nokey, raw_exit;
static const char *hdr_name, *hdr_value;
static int delivered, failed;

static void die(const char *what)
{
        fprintf(stderr, "kclient: %s\n", what);
        exit(2);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        rd_kafka_headers_t *h = NULL;
        const void *v         = NULL;
        size_t len            = 0;

        if (m->err)
                failed++;
        else
                delivered++;
        if (rd_kafka_message_headers(m, &h) == 0)
                rd_kafka_header_get_last(h, "traceparent", &v, &len);
        printf("dr key=%.*s err=%s partition=%d offset=%lld traceparent=%.*s\n",
               (int)m->key_len, m->key ? (const char *)m->key : "",
               rd_kafka_err2name(m->err), (int)m->partition,
               (long long)m->offset, (int)len, v ? (const char *)v : "-");
}

static rd_kafka_conf_t *base_conf(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];

        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
            rd_kafka_conf_set(c, "client.id", "kclient", err, sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
        return c;
}

static rd_kafka_t *producer(void)
{
        rd_kafka_conf_t *c = base_conf();
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set(c, "linger.ms", "5", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
        return rk;
}

static rd_kafka_t *consumer(int subscribe_to_topic)
{
        rd_kafka_conf_t *c = base_conf();
        char err[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set(c, "group.id", group, NULL, 0);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_conf_set(c, "enable.partition.eof", "false", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
        if (!rk)
                die(err);
        if (subscribe_to_topic) {
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
                rd_kafka_poll_set_consumer(rk);
                if (rd_kafka_subscribe(rk, l))
                        die("subscribe");
                rd_kafka_topic_partition_list_destroy(l);
        }
        return rk;
}

static void print_msg(const rd_kafka_message_t *m)
{
        rd_kafka_headers_t *h = NULL;
        const void *v         = NULL;
        size_t len            = 0;

        if (rd_kafka_message_headers(m, &h) == 0)
                rd_kafka_header_get_last(h, "traceparent", &v, &len);
        printf("msg key=%.*s partition=%d offset=%lld traceparent=%.*s\n",
               (int)m->key_len, m->key ? (const char *)m->key : "",
               (int)m->partition, (long long)m->offset, (int)len,
               v ? (const char *)v : "-");
        fflush(stdout);
}

/* ---- produce ---------------------------------------------------------- */

static void finish_producer(rd_kafka_t *rk)
{
        if (flush_at_end)
                rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);
        printf("delivered=%d failed=%d\n", delivered, failed);
}

static int cmd_produce(void)
{
        rd_kafka_t *rk = producer();
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_message_t *batch = calloc((size_t)count, sizeof(*batch));
        char keys[count][16], vals[count][32];

        for (int i = 0; i < count; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                snprintf(vals[i], sizeof(vals[i]), "payload-%d", i);
        }
        for (int i = 0; i < count; i++) {
                void *val     = tombstone ? NULL : vals[i];
                size_t vlen   = tombstone ? 0 : strlen(vals[i]);
                const void *k = nokey ? NULL : keys[i];
                size_t klen   = nokey ? 0 : strlen(keys[i]);
                int rc        = 0;

                if (!strcmp(api, "produce")) {
                        rc = rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY,
                                              val, vlen, k, klen, NULL);
                } else if (!strcmp(api, "producev")) {
                        if (hdr_name)
                                rc = rd_kafka_producev(
                                    rk, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_VALUE(val, vlen),
                                    RD_KAFKA_V_KEY(k, klen),
                                    RD_KAFKA_V_HEADER(hdr_name, hdr_value, -1),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
                        else
                                rc = rd_kafka_producev(
                                    rk, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_VALUE(val, vlen),
                                    RD_KAFKA_V_KEY(k, klen),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
                } else if (!strcmp(api, "produceva")) {
                        rd_kafka_vu_t vu[6];
                        rd_kafka_error_t *e;
                        size_t n = 0;

                        vu[n].vtype  = RD_KAFKA_VTYPE_TOPIC;
                        vu[n++].u.cstr = topic;
                        vu[n].vtype  = RD_KAFKA_VTYPE_PARTITION;
                        vu[n++].u.i32 = partition;
                        vu[n].vtype  = RD_KAFKA_VTYPE_VALUE;
                        vu[n].u.mem.ptr  = val;
                        vu[n++].u.mem.size = vlen;
                        vu[n].vtype  = RD_KAFKA_VTYPE_KEY;
                        vu[n].u.mem.ptr  = (void *)k;
                        vu[n++].u.mem.size = klen;
                        vu[n].vtype  = RD_KAFKA_VTYPE_MSGFLAGS;
                        vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
                        if (hdr_name) {
                                rd_kafka_headers_t *h = rd_kafka_headers_new(1);
                                rd_kafka_header_add(h, hdr_name, -1, hdr_value, -1);
                                vu[n].vtype     = RD_KAFKA_VTYPE_HEADERS;
                                vu[n++].u.headers = h;
                        }
                        e = rd_kafka_produceva(rk, vu, n);
                        if (e) {
                                rc = -1;
                                rd_kafka_error_destroy(e);
                        }
                } else if (!strcmp(api, "batch")) {
                        batch[i].payload = val;
                        batch[i].len     = vlen;
                        batch[i].key     = (void *)k;
                        batch[i].key_len = klen;
                        continue;
                } else {
                        die("unknown produce api");
                }
                if (rc)
                        printf("produce-error %d\n", i);
                rd_kafka_poll(rk, 0);
        }
        if (!strcmp(api, "batch")) {
                int good = rd_kafka_produce_batch(rkt, partition,
                                                  RD_KAFKA_MSG_F_COPY, batch, count);
                printf("batch-good=%d\n", good);
                for (int i = 0; i < count; i++)
                        if (batch[i].err)
                                printf("batch-error %d %s\n", i,
                                       rd_kafka_err2name(batch[i].err));
        }
        rd_kafka_topic_destroy(rkt);
        free(batch);
        finish_producer(rk);
        return 0;
}

/* ---- consume ---------------------------------------------------------- */

static int seen;
static int sleep_ms;

/* One round of "eventhold" on @q. */
static void event_hold(rd_kafka_queue_t *q)
{
        rd_kafka_event_t *a = rd_kafka_queue_poll(q, 200), *b;
        const rd_kafka_message_t *m;

        if (!a)
                return;
        b = rd_kafka_queue_poll(q, 200);
        if (rd_kafka_event_type(a) == RD_KAFKA_EVENT_FETCH &&
            (m = rd_kafka_event_message_next(a)) && !m->err) {
                print_msg(m);
                seen++;
        }
        if (b)
                rd_kafka_event_destroy(b);
        if (sleep_ms > 0)
                usleep((useconds_t)sleep_ms * 1000);
        rd_kafka_event_destroy(a);
}

static void cb(rd_kafka_message_t *m, void *opaque)
{
        (void)opaque;
        if (m->err)
                return;
        print_msg(m);
        seen++;
}

static int cmd_consume(void)
{
        int group_api = !strcmp(api, "poll");
        rd_kafka_t *rk = consumer(group_api);
        rd_kafka_topic_t *rkt = NULL;
        rd_kafka_queue_t *q   = NULL;
        double deadline       = now_s() + 30;
        rd_kafka_message_t *msgs[64];

        if (!group_api) {
                rkt = rd_kafka_topic_new(rk, topic, NULL);
                if (!strcmp(api, "queue") || !strcmp(api, "batchq") ||
                    !strcmp(api, "callbackq") || !strncmp(api, "event", 5)) {
                        q = rd_kafka_queue_new(rk);
                        rd_kafka_consume_start_queue(rkt, 0, RD_KAFKA_OFFSET_BEGINNING, q);
                } else {
                        rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING);
                }
        }
        while (seen < count && now_s() < deadline) {
                rd_kafka_message_t *m = NULL;

                if (group_api)
                        m = rd_kafka_consumer_poll(rk, 200);
                else if (!strcmp(api, "consume"))
                        m = rd_kafka_consume(rkt, 0, 200);
                else if (!strcmp(api, "queue"))
                        m = rd_kafka_consume_queue(q, 200);
                else if (!strcmp(api, "batch") || !strcmp(api, "batchq")) {
                        ssize_t n = !strcmp(api, "batch")
                                        ? rd_kafka_consume_batch(rkt, 0, 200, msgs, 64)
                                        : rd_kafka_consume_batch_queue(q, 200, msgs, 64);
                        for (ssize_t i = 0; i < n; i++) {
                                if (!msgs[i]->err) {
                                        print_msg(msgs[i]);
                                        seen++;
                                }
                                rd_kafka_message_destroy(msgs[i]);
                        }
                        continue;
                } else if (!strcmp(api, "callback")) {
                        rd_kafka_consume_callback(rkt, 0, 200, cb, NULL);
                        continue;
                } else if (!strcmp(api, "callbackq")) {
                        rd_kafka_consume_callback_queue(q, 200, cb, NULL);
                        continue;
                } else if (!strcmp(api, "eventhold")) {
                        event_hold(q);
                        continue;
                } else if (!strncmp(api, "event", 5)) {
                        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 200);
                        if (!ev)
                                continue;
                        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_FETCH) {
                                if (!strcmp(api, "eventarray")) {
                                        const rd_kafka_message_t *arr[64];
                                        size_t n = rd_kafka_event_message_array(ev, arr, 64);
                                        for (size_t i = 0; i < n; i++)
                                                if (!arr[i]->err) {
                                                        print_msg(arr[i]);
                                                        seen++;
                                                }
                                } else {
                                        const rd_kafka_message_t *em;
                                        while ((em = rd_kafka_event_message_next(ev)))
                                                if (!em->err) {
                                                        print_msg(em);
                                                        seen++;
                                                }
                                }
                        }
                        rd_kafka_event_destroy(ev);
                        continue;
                } else {
                        die("unknown consume api");
                }
                if (!m)
                        continue;
                if (!m->err) {
                        print_msg(m);
                        seen++;
                }
                rd_kafka_message_destroy(m);
        }
        if (rkt) {
                rd_kafka_consume_stop(rkt, 0);
                rd_kafka_topic_destroy(rkt);
        }
        if (q)
                rd_kafka_queue_destroy(q);
        if (group_api)
                rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        printf("consumed=%d\n", seen);
        return seen == count ? 0 : 1;
}

/* ---- forward ----------------------------------------------------------
 *
 * Each pattern hands the consumed message on the way its name says, and
 * shares with the produced message only what the pattern implies:
 *   current   poll, produce a new payload and a copied key, destroy: only
 *             the thread's current message can link them
 *   early     poll, copy, destroy, then produce (Python's shape: the
 *             message is gone while it is still being processed)
 *   batch     rd_kafka_consume_batch_queue on the group's queue, produce
 *             each with a new payload and the consumed key buffer
 *   batchl    the same with the legacy rd_kafka_consume_batch (partition 0)
 *   batchpb   rd_kafka_consume_batch_queue, then one rd_kafka_produce_batch
 *             of the whole batch by the consumed payload and key buffers
 *   list      poll all into a list, then produce each with its own payload
 *             and key buffers, then destroy all
 *   worker    hand the message pointer to a worker thread that produces
 *             with its buffers and destroys it
 *   zerocopy  forward message i after message i+1 was polled (i+1 is the
 *             thread's current): even i by its payload buffer with a copied
 *             key, odd i by its key buffer with a new payload
 *   headers   poll all, then produce each with a copy of its headers, a new
 *             payload and a copied key
 * --sleep MS sleeps that long per message while processing it. */

static rd_kafka_t *fwd_producer;

enum share { SHARE_NONE = 0, SHARE_PAYLOAD = 1, SHARE_KEY = 2 };

static void nap(void)
{
        if (sleep_ms > 0)
                usleep((useconds_t)sleep_ms * 1000);
}

/* Produces the forward of @key/@payload; @share says which of the
 * consumed buffers go out as they are (the others are copied first). */
static void forward_buf(const void *key, size_t key_len, const void *payload,
                        size_t len, int share, rd_kafka_headers_t *hdrs)
{
        char vbuf[128], kbuf[64];
        const void *val = payload, *k = key;
        size_t vlen     = len;
        rd_kafka_resp_err_t err;

        if (!(share & SHARE_PAYLOAD)) {
                /* A transformed payload: no buffer shared with the input. */
                vlen = (size_t)snprintf(vbuf, sizeof(vbuf), "fwd:%.*s", (int)len,
                                        (const char *)payload);
                val = vbuf;
        }
        if (!(share & SHARE_KEY)) {
                if (key_len > sizeof(kbuf))
                        die("key too long");
                memcpy(kbuf, key, key_len);
                k = kbuf;
        }
        if (hdrs)
                err = rd_kafka_producev(fwd_producer, RD_KAFKA_V_TOPIC(out_topic),
                                        RD_KAFKA_V_VALUE((void *)val, vlen),
                                        RD_KAFKA_V_KEY(k, key_len),
                                        RD_KAFKA_V_HEADERS(hdrs),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END);
        else
                err = rd_kafka_producev(fwd_producer, RD_KAFKA_V_TOPIC(out_topic),
                                        RD_KAFKA_V_VALUE((void *)val, vlen),
                                        RD_KAFKA_V_KEY(k, key_len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END);
        if (err) {
                printf("forward-error %s\n", rd_kafka_err2name(err));
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
        }
}

static void forward_one(const rd_kafka_message_t *m, int share,
                        rd_kafka_headers_t *hdrs)
{
        forward_buf(m->key, m->key_len, m->payload, m->len, share, hdrs);
}

struct work {
        rd_kafka_message_t *msgs[1024];
        int n;
        int done;
        pthread_mutex_t lock;
        pthread_cond_t cond;
};

static void *worker(void *arg)
{
        struct work *w = arg;
        int i          = 0;

        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (i >= w->n && !w->done)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (i >= w->n && w->done)
                        break;
                rd_kafka_message_t *m = w->msgs[i++];
                pthread_mutex_unlock(&w->lock);
                nap();
                forward_one(m, SHARE_PAYLOAD | SHARE_KEY, NULL);
                rd_kafka_message_destroy(m);
                pthread_mutex_lock(&w->lock);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* The batch patterns: every message of each batch is forwarded, then the
 * batch is destroyed. Returns the number of messages forwarded. */
static void produce_batch_of(rd_kafka_message_t **msgs, ssize_t got)
{
        rd_kafka_topic_t *rkt   = rd_kafka_topic_new(fwd_producer, out_topic, NULL);
        rd_kafka_message_t *out = calloc((size_t)got, sizeof(*out));
        int n = 0, good;

        for (ssize_t i = 0; i < got; i++) {
                if (msgs[i]->err)
                        continue;
                out[n].payload   = msgs[i]->payload;
                out[n].len       = msgs[i]->len;
                out[n].key       = msgs[i]->key;
                out[n].key_len   = msgs[i]->key_len;
                n++;
        }
        good = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA,
                                      RD_KAFKA_MSG_F_COPY, out, n);
        if (good != n)
                printf("forward-error produce_batch %d/%d\n", good, n);
        free(out);
        rd_kafka_topic_destroy(rkt);
}

static int forward_batches(rd_kafka_t *rk, int legacy, double deadline)
{
        rd_kafka_queue_t *q   = NULL;
        rd_kafka_topic_t *rkt = NULL;
        rd_kafka_message_t *msgs[64];
        int n = 0;

        if (legacy) {
                rkt = rd_kafka_topic_new(rk, topic, NULL);
                rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING);
        } else {
                q = rd_kafka_queue_get_consumer(rk);
        }
        while (n < count && now_s() < deadline) {
                ssize_t got = legacy ? rd_kafka_consume_batch(rkt, 0, 500, msgs, 64)
                                     : rd_kafka_consume_batch_queue(q, 500, msgs, 64);

                if (got > 0)
                        printf("batch size=%zd\n", got);
                if (got > 0 && !strcmp(api, "batchpb")) {
                        produce_batch_of(msgs, got);
                        for (ssize_t i = 0; i < got; i++)
                                n += !msgs[i]->err;
                } else {
                        for (ssize_t i = 0; i < got; i++)
                                if (!msgs[i]->err) {
                                        nap();
                                        forward_one(msgs[i], SHARE_KEY, NULL);
                                        n++;
                                }
                }
                for (ssize_t i = 0; i < got; i++)
                        rd_kafka_message_destroy(msgs[i]);
        }
        if (rkt) {
                rd_kafka_consume_stop(rkt, 0);
                rd_kafka_topic_destroy(rkt);
        }
        if (q)
                rd_kafka_queue_destroy(q);
        return n;
}

static int cmd_forward(void)
{
        int is_batch   = !strcmp(api, "batch") || !strcmp(api, "batchl") ||
                       !strcmp(api, "batchpb");
        rd_kafka_t *rk = consumer(!!strcmp(api, "batchl"));
        rd_kafka_message_t *held[1024], *prev = NULL;
        double deadline = now_s() + 60;
        struct work w   = {.lock = PTHREAD_MUTEX_INITIALIZER,
                           .cond = PTHREAD_COND_INITIALIZER};
        pthread_t th;
        int n = 0;

        if (count > 1024)
                die("count too large");
        if (!is_batch && strcmp(api, "current") && strcmp(api, "early") &&
            strcmp(api, "list") && strcmp(api, "worker") &&
            strcmp(api, "zerocopy") && strcmp(api, "headers"))
                die("unknown forward pattern");
        fwd_producer = producer();
        if (!strcmp(api, "worker"))
                pthread_create(&th, NULL, worker, &w);
        if (is_batch)
                n = forward_batches(rk, !strcmp(api, "batchl"), deadline);
        while (!is_batch && n < count && now_s() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                n++;
                if (!strcmp(api, "current")) {
                        nap();
                        forward_one(m, SHARE_NONE, NULL);
                        rd_kafka_message_destroy(m);
                } else if (!strcmp(api, "early")) {
                        char k[64], v[128];
                        size_t kl = m->key_len, vl = m->len;

                        if (kl > sizeof(k) || vl > sizeof(v))
                                die("message too long");
                        memcpy(k, m->key, kl);
                        memcpy(v, m->payload, vl);
                        rd_kafka_message_destroy(m);
                        nap();
                        forward_buf(k, kl, v, vl, SHARE_NONE, NULL);
                } else if (!strcmp(api, "worker")) {
                        pthread_mutex_lock(&w.lock);
                        w.msgs[w.n++] = m;
                        pthread_cond_signal(&w.cond);
                        pthread_mutex_unlock(&w.lock);
                } else if (!strcmp(api, "zerocopy")) {
                        /* m is now the thread's current message. */
                        if (prev) {
                                nap();
                                forward_one(prev, (n % 2) ? SHARE_KEY : SHARE_PAYLOAD,
                                            NULL);
                                rd_kafka_message_destroy(prev);
                        }
                        prev = m;
                } else {
                        held[n - 1] = m;
                }
        }
        if (prev) {
                forward_one(prev, (n % 2) ? SHARE_PAYLOAD : SHARE_KEY, NULL);
                rd_kafka_message_destroy(prev);
        }
        if (!strcmp(api, "worker")) {
                pthread_mutex_lock(&w.lock);
                w.done = 1;
                pthread_cond_signal(&w.cond);
                pthread_mutex_unlock(&w.lock);
                pthread_join(th, NULL);
        } else if (!strcmp(api, "list") || !strcmp(api, "headers")) {
                /* All were polled first: the thread's current message is
                 * the last one, not the one being forwarded. */
                for (int i = 0; i < n; i++) {
                        rd_kafka_headers_t *h = NULL;

                        nap();
                        if (!strcmp(api, "list")) {
                                forward_one(held[i], SHARE_PAYLOAD | SHARE_KEY, NULL);
                                continue;
                        }
                        if (rd_kafka_message_headers(held[i], &h) == 0)
                                h = rd_kafka_headers_copy(h);
                        else
                                h = NULL;
                        forward_one(held[i], SHARE_NONE, h);
                }
                for (int i = 0; i < n; i++)
                        rd_kafka_message_destroy(held[i]);
        }
        rd_kafka_flush(fwd_producer, 10000);
        rd_kafka_destroy(fwd_producer);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        printf("forwarded=%d delivered=%d failed=%d\n", n, delivered, failed);
        return n == count && delivered == count ? 0 : 1;
}

static int end(int rc)
{
        if (raw_exit) {
                fflush(stdout);
                _exit(rc);
        }
        return rc;
}

int main(int argc, char **argv)
{
        const char *cmd = NULL;

        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "-b") && v)
                        brokers = v, i++;
                else if (!strcmp(a, "-a") && v)
                        api = v, i++;
                else if (!strcmp(a, "-t") && v)
                        topic = v, i++;
                else if (!strcmp(a, "-o") && v)
                        out_topic = v, i++;
                else if (!strcmp(a, "-n") && v)
                        count = atoi(v), i++;
                else if (!strcmp(a, "-p") && v)
                        partition = atoi(v), i++;
                else if (!strcmp(a, "--sleep") && v)
                        sleep_ms = atoi(v), i++;
                else if (!strcmp(a, "-g") && v)
                        group = v, i++;
                else if (!strcmp(a, "-H") && v) {
                        char *eq = strchr(argv[i + 1], '=');
                        if (!eq)
                                die("-H name=value");
                        *eq       = '\0';
                        hdr_name  = argv[i + 1];
                        hdr_value = eq + 1;
                        i++;
                } else if (!strcmp(a, "--tombstone"))
                        tombstone = 1;
                else if (!strcmp(a, "--nokey"))
                        nokey = 1;
                else if (!strcmp(a, "--raw-exit"))
                        raw_exit = 1;
                else if (!strcmp(a, "--no-flush"))
                        flush_at_end = 0;
                else if (!strcmp(a, "--setlocale")) {
                        const char *l = setlocale(LC_ALL, "");

                        printf("locale LC_NUMERIC=%s decimal_point=%s\n",
                               l ? setlocale(LC_NUMERIC, NULL) : "-",
                               localeconv()->decimal_point);
                } else if (!cmd)
                        cmd = a;
                else
                        die("unknown argument");
        }
        if (!brokers || !cmd || !topic)
                die("usage: kclient -b BROKERS produce|consume|forward -t TOPIC ...");
        if (!strcmp(cmd, "produce"))
                return end(cmd_produce());
        if (!strcmp(cmd, "consume"))
                return end(cmd_consume());
        if (!strcmp(cmd, "forward"))
                return end(cmd_forward());
        die("unknown command");
        return 2;
}
