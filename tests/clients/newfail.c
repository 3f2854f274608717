/* newfail: a plain librdkafka program (it knows nothing of kotel) whose
 * rd_kafka_new fails in every way it can, then is retried with the same
 * configuration; its transcript is compared line for line with and
 * without LD_PRELOAD (tests/integration/test_failopen.py).
 *
 *   newfail BROKERS TOPIC [copied|refused|threads|app-interceptors]
 *
 * Each created client delivers one message (one "dr" line) and is
 * destroyed. */
#include <dlfcn.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

static const char *brokers, *topic, *only_case;
static int n_drs;

static void die(const char *what)
{
        fprintf(stderr, "newfail: %s\n", what);
        exit(2);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        rd_kafka_headers_t *h = NULL;
        const char *name;
        const void *v;
        size_t len, i = 0;

        n_drs++;
        printf("dr id=%ld err=%s", (long)(intptr_t)m->_private,
               rd_kafka_err2name(m->err));
        if (rd_kafka_message_headers(m, &h))
                h = NULL;
        for (; h && !rd_kafka_header_get_all(h, i, &name, &v, &len); i++)
                printf(" %s=%.*s", name, (int)len, v ? (const char *)v : "");
        printf(" nhdrs=%zu\n", i);
}

static void set(rd_kafka_conf_t *c, const char *name, const char *value)
{
        char err[256];

        if (rd_kafka_conf_set(c, name, value, err, sizeof(err)))
                die(err);
}

static rd_kafka_conf_t *producer_conf(void)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();

        set(c, "bootstrap.servers", brokers);
        set(c, "client.id", "newfail");
        set(c, "log_level", "0");
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        return c;
}

/* ---- failing rd_kafka_new ----------------------------------------------- */

/* With fail_threads set, librdkafka cannot start its threads: rd_kafka_new
 * fails past its copy of the configuration even when given NULL. */
static int fail_threads;

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
        static int (*real)(thrd_t *, thrd_start_t, void *);

        if (fail_threads) {
                errno = EAGAIN;
                return thrd_error;
        }
        if (!real)
                *(void **)&real = dlsym(RTLD_NEXT, "thrd_create");
        return real(thr, func, arg);
}

static int ic_new, ic_send, ic_ack, ic_dup;

static rd_kafka_resp_err_t app_on_send(rd_kafka_t *rk, rd_kafka_message_t *m,
                                       void *opaque)
{
        ic_send++;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t app_on_ack(rd_kafka_t *rk, rd_kafka_message_t *m,
                                      void *opaque)
{
        ic_ack++;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t app_on_new(rd_kafka_t *rk, const rd_kafka_conf_t *c,
                                      void *opaque, char *err, size_t size)
{
        ic_new++;
        rd_kafka_interceptor_add_on_send(rk, "app", app_on_send, NULL);
        rd_kafka_interceptor_add_on_acknowledgement(rk, "app", app_on_ack,
                                                    NULL);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t app_on_conf_dup(rd_kafka_conf_t *new_conf,
                                           const rd_kafka_conf_t *old_conf,
                                           size_t filter_cnt,
                                           const char **filter, void *opaque)
{
        ic_dup++;
        rd_kafka_conf_interceptor_add_on_new(new_conf, "app", app_on_new, NULL);
        rd_kafka_conf_interceptor_add_on_conf_dup(new_conf, "app",
                                                  app_on_conf_dup, NULL);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* rd_kafka_new as the app sees it; on success one message is delivered
 * (with its report) and the client destroyed. */
static rd_kafka_t *try_new(const char *what, rd_kafka_conf_t *c)
{
        char err[512] = "";
        rd_kafka_t *rk;

        errno = 0;
        rk    = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        printf("new %s %s errno=%d last_error=%s errstr=\"%s\"\n", what,
               rk ? "ok" : "failed", errno,
               rd_kafka_err2name(rd_kafka_last_error()), err);
        if (!rk)
                return NULL;
        if (rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("v", 1),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)n_drs),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
                die("producev");
        rd_kafka_flush(rk, 20000);
        rd_kafka_destroy(rk);
        printf(
            "app-interceptors on_new=%d on_send=%d on_ack=%d on_conf_dup=%d\n",
            ic_new, ic_send, ic_ack, ic_dup);
        return rk;
}

/* Past the configuration copy (the CA file is read then): twice, then
 * fixed; then the app destroys a failed configuration. */
static void newfail_copied(void)
{
        rd_kafka_conf_t *c = producer_conf();

        set(c, "security.protocol", "ssl");
        set(c, "ssl.ca.location", "/nonexistent/ca.pem");
        try_new("ssl-no-ca", c);
        try_new("ssl-no-ca-again", c);
        set(c, "security.protocol", "plaintext");
        try_new("plaintext", c);
        c = producer_conf();
        set(c, "security.protocol", "ssl");
        set(c, "ssl.ca.location", "/nonexistent/ca.pem");
        if (!try_new("ssl-no-ca-then-destroy", c))
                rd_kafka_conf_destroy(c);
}

/* Refused before the copy (by rd_kafka_conf_finalize), then past it, then
 * fixed. */
static void newfail_refused(void)
{
        rd_kafka_conf_t *c = producer_conf();

        set(c, "ssl.keystore.location", "/nonexistent/ks.p12");
        try_new("keystore-no-password", c);
        set(c, "ssl.keystore.password", "x");
        set(c, "security.protocol", "ssl");
        try_new("keystore-missing", c);
        set(c, "security.protocol", "plaintext");
        try_new("keystore-unused", c);
}

/* No threads: a NULL configuration, then the app's. */
static void newfail_threads(void)
{
        rd_kafka_conf_t *c;

        fail_threads = 1;
        try_new("no-threads-null-conf", NULL);
        c = producer_conf();
        try_new("no-threads", c);
        fail_threads = 0;
        try_new("threads", c);
}

/* The app's own on_new interceptor: refused once, then created; copies
 * made by rd_kafka_conf_dup with and without the app's on_conf_dup. */
static void newfail_app_interceptors(void)
{
        rd_kafka_conf_t *c = producer_conf(), *d;

        rd_kafka_conf_interceptor_add_on_new(c, "app", app_on_new, NULL);
        set(c, "ssl.keystore.location", "/nonexistent/ks.p12");
        try_new("app-on-new-refused", c);
        d = rd_kafka_conf_dup(c); /* no on_conf_dup: not copied */
        set(c, "ssl.keystore.password", "x");
        try_new("app-on-new", c);
        set(d, "ssl.keystore.password", "x");
        try_new("app-on-new-dup-without-on-conf-dup", d);
        c = producer_conf();
        rd_kafka_conf_interceptor_add_on_new(c, "app", app_on_new, NULL);
        rd_kafka_conf_interceptor_add_on_conf_dup(c, "app", app_on_conf_dup,
                                                  NULL);
        d = rd_kafka_conf_dup(c);
        rd_kafka_conf_destroy(c);
        try_new("app-on-new-dup-with-on-conf-dup", d);
}

/* Every way rd_kafka_new can fail, then a retry with the same
 * configuration (one case with -c, else all). */
static int cmd_newfail(void)
{
        static const struct {
                const char *name;
                void (*run)(void);
        } cases[] = {{"copied", newfail_copied},
                     {"refused", newfail_refused},
                     {"threads", newfail_threads},
                     {"app-interceptors", newfail_app_interceptors}};

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (!only_case || !strcmp(only_case, cases[i].name))
                        cases[i].run();
        printf("done\n");
        return 0;
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 3)
                die("usage: newfail BROKERS TOPIC [CASE]");
        brokers   = argv[1];
        topic     = argv[2];
        only_case = argc > 3 ? argv[3] : NULL;
        return cmd_newfail();
}
