/* semclient: a plain librdkafka program (it knows nothing of kotel) for the
 * semantics tests: exact headers on produce, header dumps on consume,
 * retries with the same headers object, produce_batch failures, delivery
 * failures, and a scripted fail-open transcript meant to be compared line
 * for line with and without LD_PRELOAD.
 *
 *   semclient -b B produce -t T -n N [-p P] [-H name=value]... [--binary-key]
 *             [--tombstone] [--ts-offset MS] [-X prop=value]...
 *       producev with one headers object per message; prints one "dr" line
 *       per delivery report with every header. --ts-offset: each message's
 *       timestamp is now + MS (default: librdkafka's, the produce time).
 *   semclient -b B consume -t T -n N [-o OUT] [-H name=value]...
 *       consumer_poll; prints "msg" lines with every header; with -o
 *       forwards each message to OUT from the consuming thread (with the
 *       -H headers, if any), then destroys it.
 *   semclient -b B retry -t T
 *       producev with the app's own headers (a valid traceparent) to a
 *       partition that does not exist, then again with the same headers
 *       object to partition 0; prints the headers after each call.
 *   semclient -b B batchfail -t T
 *       produce_batch with an unknown explicit partition (per message and
 *       for the whole call).
 *   semclient -b B failopen -t T
 *       the fail-open transcript (see failopen()).
 *   semclient threads
 *       prints the number of threads of this process (no librdkafka call).
 */
#include <dirent.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *brokers, *topic, *out_topic;
static int count = 1, partition = RD_KAFKA_PARTITION_UA;
static int binary_key, tombstone, have_ts_offset;
static long long ts_offset;
static const char *hdr_names[16], *hdr_values[16], *props[16];
static int n_hdrs, n_props, n_drs;

static void die(const char *what)
{
        fprintf(stderr, "semclient: %s\n", what);
        exit(2);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* " name=value" for every header, in order; then " nhdrs=N". */
static void print_headers(rd_kafka_headers_t *h)
{
        const char *name;
        const void *v;
        size_t len, i = 0;

        for (; h && !rd_kafka_header_get_all(h, i, &name, &v, &len); i++)
                printf(" %s=%.*s", name, (int)len, v ? (const char *)v : "");
        printf(" nhdrs=%zu\n", i);
}

static void print_message_headers(const rd_kafka_message_t *m)
{
        rd_kafka_headers_t *h = NULL;

        if (rd_kafka_message_headers(m, &h))
                h = NULL;
        print_headers(h);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        (void)opaque;
        n_drs++;
        printf("dr id=%ld err=%s partition=%d offset=%lld",
               (long)(intptr_t)m->_private, rd_kafka_err2name(m->err),
               (int)m->partition, m->err ? -1LL : (long long)m->offset);
        print_message_headers(m);
}

/* Serves delivery reports until @n have arrived (20 s at most). Used where
 * flush() would wait out its timeout: librdkafka 2.0.2 leaks a message that
 * produce_batch fails on after creating it, so the queue never drains. */
static void wait_drs(rd_kafka_t *rk, int n)
{
        double deadline = now_s() + 20;

        while (n_drs < n && now_s() < deadline)
                rd_kafka_poll(rk, 100);
}

static rd_kafka_conf_t *base_conf(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char err[256];

        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
            rd_kafka_conf_set(c, "client.id", "semclient", err, sizeof(err)))
                die(err);
        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        for (int i = 0; i < n_props; i++) {
                char buf[256], *eq;

                snprintf(buf, sizeof(buf), "%s", props[i]);
                eq = strchr(buf, '=');
                if (!eq)
                        die("-X prop=value");
                *eq = '\0';
                if (rd_kafka_conf_set(c, buf, eq + 1, err, sizeof(err)))
                        die(err);
        }
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

static rd_kafka_headers_t *app_headers(void)
{
        rd_kafka_headers_t *h;

        if (!n_hdrs)
                return NULL;
        h = rd_kafka_headers_new(8);
        for (int i = 0; i < n_hdrs; i++)
                rd_kafka_header_add(h, hdr_names[i], -1, hdr_values[i], -1);
        return h;
}

/* ---- produce ---------------------------------------------------------- */

static int cmd_produce(void)
{
        rd_kafka_t *rk = producer();

        for (int i = 0; i < count; i++) {
                char key[16], val[32];
                size_t klen;
                rd_kafka_headers_t *h = app_headers();
                rd_kafka_resp_err_t err;

                if (binary_key) {
                        /* Not UTF-8: must never become a span attribute. */
                        key[0] = (char)0xff;
                        key[1] = (char)0xfe;
                        key[2] = 0;
                        key[3] = (char)i;
                        klen   = 4;
                } else {
                        klen = (size_t)snprintf(key, sizeof(key), "k%d", i);
                }
                snprintf(val, sizeof(val), "payload-%d", i);
                err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_VALUE(tombstone ? NULL : val,
                                     tombstone ? 0 : strlen(val)),
                    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_HEADERS(h),
                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)i),
                    RD_KAFKA_V_TIMESTAMP(have_ts_offset ? now_ms() + ts_offset
                                                        : 0),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err) {
                        printf("produce-error %d %s\n", i, rd_kafka_err2name(err));
                        if (h)
                                rd_kafka_headers_destroy(h);
                }
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 20000);
        printf("outq=%d\n", rd_kafka_outq_len(rk));
        rd_kafka_destroy(rk);
        return 0;
}

/* ---- consume ---------------------------------------------------------- */

static int cmd_consume(void)
{
        rd_kafka_conf_t *c = base_conf();
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_t *rk, *fwd = NULL;
        double deadline = now_s() + 30;
        char err[256], group[300];
        int seen = 0;

        /* One group per topic: consumers of different topics never share
         * a group's rebalances. */
        snprintf(group, sizeof(group), "semclient-%s", topic);
        rd_kafka_conf_set(c, "group.id", group, NULL, 0);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
        if (!rk)
                die(err);
        if (out_topic)
                fwd = producer();
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_poll_set_consumer(rk);
        if (rd_kafka_subscribe(rk, l))
                die("subscribe");
        rd_kafka_topic_partition_list_destroy(l);
        while (seen < count && now_s() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m)
                        continue;
                if (!m->err) {
                        seen++;
                        printf("msg key=");
                        for (size_t i = 0; i < m->key_len; i++) {
                                unsigned char ch = ((const unsigned char *)m->key)[i];
                                printf(ch > 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
                        }
                        printf(" offset=%lld", (long long)m->offset);
                        print_message_headers(m);
                        if (fwd) {
                                rd_kafka_headers_t *h = app_headers();
                                rd_kafka_resp_err_t e;

                                e = rd_kafka_producev(
                                    fwd, RD_KAFKA_V_TOPIC(out_topic),
                                    RD_KAFKA_V_VALUE("fwd", 3),
                                    RD_KAFKA_V_KEY(m->key, m->key_len),
                                    RD_KAFKA_V_HEADERS(h),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END);
                                if (e)
                                        die("forward");
                        }
                }
                rd_kafka_message_destroy(m);
        }
        if (fwd) {
                rd_kafka_flush(fwd, 20000);
                rd_kafka_destroy(fwd);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        printf("consumed=%d\n", seen);
        return seen == count ? 0 : 1;
}

/* ---- retry ------------------------------------------------------------ */

static int cmd_retry(void)
{
        rd_kafka_t *rk = producer();
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        rd_kafka_resp_err_t err;

        /* Metadata first, so that partition 7 is known not to exist. */
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000))
                die("metadata");
        rd_kafka_metadata_destroy(md);
        rd_kafka_header_add(h, "app", -1, "1", -1);
        rd_kafka_header_add(h, "traceparent", -1,
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                            -1);
        err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(7),
                                RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_OPAQUE((void *)1),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END);
        printf("first err=%s", rd_kafka_err2name(err));
        print_headers(h);
        if (!err)
                die("produce to partition 7 succeeded");
        err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_OPAQUE((void *)2),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END);
        printf("second err=%s\n", rd_kafka_err2name(err));
        if (err)
                rd_kafka_headers_destroy(h);
        rd_kafka_flush(rk, 20000);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}

/* ---- produce_batch failures ------------------------------------------- */

/* rd_kafka_produce_batch for a batch with an unknown explicit partition:
 * librdkafka 2.0.2 leaks such messages (never acked, never freed). Its own
 * function so that the ASan run's LeakSanitizer suppression
 * (tests/sanitizers/lsan.supp) can name this deliberate call, and nothing
 * else. */
__attribute__((noinline)) static int
produce_batch_unknown_partition(rd_kafka_topic_t *rkt, int32_t part, int flags,
                                rd_kafka_message_t *msgs, int n)
{
        return rd_kafka_produce_batch(rkt, part, flags, msgs, n);
}

static void batch(rd_kafka_topic_t *rkt, int32_t part, int flags,
                  const int32_t *parts, int n, int first_id)
{
        rd_kafka_message_t msgs[8];
        char vals[8][16];
        int good;

        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < n; i++) {
                snprintf(vals[i], sizeof(vals[i]), "b%d", first_id + i);
                msgs[i].payload   = vals[i];
                msgs[i].len       = strlen(vals[i]);
                msgs[i].key       = vals[i];
                msgs[i].key_len   = strlen(vals[i]);
                msgs[i].partition = parts ? parts[i] : 0;
                msgs[i]._private  = (void *)(intptr_t)(first_id + i);
        }
        good = produce_batch_unknown_partition(rkt, part, flags | RD_KAFKA_MSG_F_COPY,
                                               msgs, n);
        printf("batch good=%d", good);
        for (int i = 0; i < n; i++)
                printf(" %s", rd_kafka_err2name(msgs[i].err));
        printf("\n");
}

static int cmd_batchfail(void)
{
        rd_kafka_t *rk = producer();
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const int32_t parts[3] = {0, 9, 0};

        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000))
                die("metadata");
        rd_kafka_metadata_destroy(md);
        /* Per-message partitions, the middle one unknown: the partitioner
         * fails for it. */
        batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_PARTITION, parts, 3, 10);
        /* The whole call to an unknown explicit partition. */
        batch(rkt, 9, 0, NULL, 2, 20);
        wait_drs(rk, 2);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}

/* ---- fail-open transcript --------------------------------------------- */

/* The outcome of one call as the app sees it. */
static void outcome(const char *what, long rc)
{
        int e = errno;

        printf("%s rc=%ld errno=%d last_error=%s\n", what, rc, e,
               rd_kafka_err2name(rd_kafka_last_error()));
}

/* producev's own errors, each where producev finds it: header conflicts
 * (with and without a topic), an unknown vtype, an invalid topic name, a
 * message too large, the transactional state and a fatal error. */
static void failopen_producev_errors(void)
{
        rd_kafka_conf_t *c = base_conf();
        char err[256], longname[600];
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_t *rk;
        int rc;

        rd_kafka_conf_set(c, "message.max.bytes", "1000", NULL, 0);
        rd_kafka_conf_set(c, "enable.idempotence", "true", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
                /* 24 headers: more argument words than kotel keeps on its
                 * stack. */
#define H(n) RD_KAFKA_V_HEADER("h" #n, #n, -1)
#define H4(n) H(n##0), H(n##1), H(n##2), H(n##3)
        errno = 0;
        rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), H4(1), H4(2), H4(3),
                               H4(4), H4(5), H4(6),
                               RD_KAFKA_V_OPAQUE((void *)400), RD_KAFKA_V_END);
        outcome("producev-24-headers", rc);
        rd_kafka_flush(rk, 10000);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_HEADER("a", "1", 1),
                                  RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        outcome("producev-header-then-headers", rc);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_HEADERS(h),
                                  RD_KAFKA_V_HEADER("a", "1", 1),
                                  RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_END);
        outcome("producev-headers-then-header-topic-after", rc);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  (rd_kafka_vtype_t)99, RD_KAFKA_V_END);
        outcome("producev-unknown-vtype", rc);
        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        errno                          = 0;
        rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(longname),
                               RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END);
        outcome("producev-topic-name-too-long", rc);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE(longname, sizeof(longname)),
                                  RD_KAFKA_V_VALUE(longname, sizeof(longname)),
                                  RD_KAFKA_V_KEY(longname, sizeof(longname)),
                                  RD_KAFKA_V_HEADER("a", "1", 1), RD_KAFKA_V_END);
        outcome("producev-too-large", rc);
        rd_kafka_test_fatal_error(
            rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "failopen");
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END);
        outcome("producev-after-fatal", rc);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  (rd_kafka_vtype_t)99, RD_KAFKA_V_END);
        outcome("producev-unknown-vtype-after-fatal", rc);
        rd_kafka_headers_destroy(h);
        rd_kafka_destroy(rk);

        c = base_conf();
        rd_kafka_conf_set(c, "transactional.id", "failopen", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
        errno = 0;
        rc    = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END);
        outcome("producev-not-in-transaction", rc);
        rd_kafka_destroy(rk);
}

/* Every return value, errno, rd_kafka_last_error(), delivery report (count,
 * order, fields) and header object the app can see, for a sequence with
 * failing calls. Run twice (with and without the agent), the output must
 * be identical; a double free or a lost message would show or crash. */
static int cmd_failopen(void)
{
        rd_kafka_conf_t *c = base_conf();
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt;
        rd_kafka_headers_t *h;
        rd_kafka_error_t *error;
        rd_kafka_vu_t vu[5];
        char err[256];
        rd_kafka_t *rk;
        char *owned;
        int rc;

        rd_kafka_conf_set(c, "queue.buffering.max.messages", "3", NULL, 0);
        rd_kafka_conf_set(c, "linger.ms", "50", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        if (!rk)
                die(err);
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000))
                die("metadata");
        rd_kafka_metadata_destroy(md);

        errno = 0;
        rc = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, "m1", 2, "k1", 2,
                              (void *)1);
        outcome("produce-ok", rc);
        errno = 0;
        rc = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_FREE,
                              "m2", 2, NULL, 0, (void *)2);
        outcome("produce-copy-and-free", rc);
        errno = 0;
        rc = rd_kafka_produce(rkt, 42, RD_KAFKA_MSG_F_COPY, "m3", 2, NULL, 0,
                              (void *)3);
        outcome("produce-unknown-partition", rc);
        /* A failed F_FREE produce leaves the payload to the app: freeing it
         * here would abort on a double free if anyone else had. */
        owned = strdup("m4");
        errno = 0;
        rc    = rd_kafka_produce(rkt, 42, RD_KAFKA_MSG_F_FREE, owned, 2, NULL, 0,
                                 (void *)4);
        outcome("produce-free-unknown-partition", rc);
        if (rc == -1)
                free(owned);

        errno = 0;
        rc = rd_kafka_producev(rk, RD_KAFKA_V_VALUE("m5", 2),
                               RD_KAFKA_V_OPAQUE((void *)5), RD_KAFKA_V_END);
        outcome("producev-no-topic", rc);

        h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "app", -1, "x", -1);
        errno = 0;
        rc = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(42),
                               RD_KAFKA_V_VALUE("m6", 2), RD_KAFKA_V_HEADERS(h),
                               RD_KAFKA_V_OPAQUE((void *)6),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END);
        outcome("producev-headers-unknown-partition", rc);
        printf("headers-after-failure");
        print_headers(h);

        memset(vu, 0, sizeof(vu));
        vu[0].vtype      = RD_KAFKA_VTYPE_RKT;
        vu[0].u.rkt      = rkt;
        vu[1].vtype      = RD_KAFKA_VTYPE_PARTITION;
        vu[1].u.i32      = 42;
        vu[2].vtype      = RD_KAFKA_VTYPE_VALUE;
        vu[2].u.mem.ptr  = "m7";
        vu[2].u.mem.size = 2;
        vu[3].vtype      = RD_KAFKA_VTYPE_HEADERS;
        vu[3].u.headers  = h;
        vu[4].vtype      = RD_KAFKA_VTYPE_MSGFLAGS;
        vu[4].u.i        = RD_KAFKA_MSG_F_COPY;
        errno = 0;
        error = rd_kafka_produceva(rk, vu, 5);
        outcome("produceva-headers-unknown-partition",
                error ? rd_kafka_error_code(error) : 0);
        if (error)
                rd_kafka_error_destroy(error);
        printf("headers-after-failure");
        print_headers(h);
        rd_kafka_headers_destroy(h);

        /* Fill the queue (max 3 messages, one already queued). */
        for (int i = 0; i < 4; i++) {
                char what[32];

                snprintf(what, sizeof(what), "produce-fill-%d", i);
                errno = 0;
                rc = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, "f", 1, NULL, 0,
                                      (void *)(intptr_t)(100 + i));
                outcome(what, rc);
        }
        errno = 0;
        rc = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE("q", 1),
                               RD_KAFKA_V_HEADER("app", "y", 1),
                               RD_KAFKA_V_OPAQUE((void *)200),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END);
        outcome("producev-queue-full", rc);
        rc = rd_kafka_flush(rk, 20000);
        outcome("flush", rc);
        printf("outq=%d\n", rd_kafka_outq_len(rk));

        {
                rd_kafka_message_t msgs[3];

                memset(msgs, 0, sizeof(msgs));
                for (int i = 0; i < 3; i++) {
                        msgs[i].payload  = "b";
                        msgs[i].len      = 1;
                        msgs[i]._private = (void *)(intptr_t)(300 + i);
                }
                msgs[1].partition = 42;
                errno             = 0;
                rc = produce_batch_unknown_partition(
                    rkt, RD_KAFKA_PARTITION_UA,
                    RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_PARTITION, msgs, 3);
                outcome("produce-batch", rc);
                for (int i = 0; i < 3; i++)
                        printf("batch[%d] err=%s\n", i,
                               rd_kafka_err2name(msgs[i].err));
        }
        wait_drs(rk, n_drs + 2);
        printf("drs=%d\n", n_drs);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        failopen_producev_errors();
        printf("done\n");
        return 0;
}

/* ---- threads ---------------------------------------------------------- */

static int thread_count(void)
{
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int n = 0;

        if (!d)
                die("/proc/self/task");
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* With -b: also the count while a producer exists (its librdkafka threads
 * plus whatever else runs), after a short settle. */
static int cmd_threads(void)
{
        printf("threads=%d version=%s\n", thread_count(), rd_kafka_version_str());
        if (brokers) {
                rd_kafka_t *rk = producer();

                usleep(200 * 1000);
                printf("threads-with-client=%d\n", thread_count());
                rd_kafka_destroy(rk);
        }
        return 0;
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
                else if (!strcmp(a, "-t") && v)
                        topic = v, i++;
                else if (!strcmp(a, "-o") && v)
                        out_topic = v, i++;
                else if (!strcmp(a, "-n") && v)
                        count = atoi(v), i++;
                else if (!strcmp(a, "-p") && v)
                        partition = atoi(v), i++;
                else if (!strcmp(a, "-X") && v && n_props < 16)
                        props[n_props++] = v, i++;
                else if (!strcmp(a, "-H") && v && n_hdrs < 16) {
                        char *eq = strchr(argv[i + 1], '=');
                        if (!eq)
                                die("-H name=value");
                        *eq                = '\0';
                        hdr_names[n_hdrs]  = argv[i + 1];
                        hdr_values[n_hdrs] = eq + 1;
                        n_hdrs++;
                        i++;
                } else if (!strcmp(a, "--binary-key"))
                        binary_key = 1;
                else if (!strcmp(a, "--tombstone"))
                        tombstone = 1;
                else if (!strcmp(a, "--ts-offset") && v)
                        ts_offset = atoll(v), have_ts_offset = 1, i++;
                else if (!cmd)
                        cmd = a;
                else
                        die("unknown argument");
        }
        if (cmd && !strcmp(cmd, "threads"))
                return cmd_threads();
        if (!brokers || !cmd || !topic)
                die("usage: semclient -b BROKERS COMMAND -t TOPIC ...");
        if (!strcmp(cmd, "produce"))
                return cmd_produce();
        if (!strcmp(cmd, "consume"))
                return cmd_consume();
        if (!strcmp(cmd, "retry"))
                return cmd_retry();
        if (!strcmp(cmd, "batchfail"))
                return cmd_batchfail();
        if (!strcmp(cmd, "failopen"))
                return cmd_failopen();
        die("unknown command");
        return 2;
}
