#include "signal_export.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "env.h"
#include "log.h"

#define BACKOFF_INITIAL_MS 200
#define BACKOFF_MAX_MS 5000

bool kotel_sigx_configure(struct kotel_sigx *x, const char *exporter_env,
                          enum kotel_signal signal, struct kotel_settings *set)
{
        int st = KOTEL_SIGX_IDLE;
        const char *v;

        if (!__atomic_compare_exchange_n(&x->state, &st, KOTEL_SIGX_OFF, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return false;
        v = kotel_env_str(exporter_env);
        if (v && !kotel_env_casecmp(v, "none"))
                return false;
        kotel_settings_load_signal(set, signal);
        return set->kind != KOTEL_EXPORTER_NONE;
}

/* Keeps GnuTLS (libcurl's TLS backend on some systems) initialised past
 * the app's atexit handlers, as OPENSSL_INIT_NO_ATEXIT does for OpenSSL:
 * the exit flush runs after them. */
static void hold_gnutls(void)
{
        int (*global_init)(void);

        *(void **)&global_init = dlsym(RTLD_DEFAULT, "gnutls_global_init");
        if (global_init)
                global_init();
}

struct kotel_transport *kotel_sigx_transport(const struct kotel_settings *set)
{
        OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
        hold_gnutls();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return NULL;
        return kotel_transport_new(set);
}

int kotel_sigx_run(struct kotel_sigx *x, void *(*worker)(void *))
{
        pthread_t th;
        sigset_t all, old;
        int rc;

        sem_init(&x->wake, 0, 0);
        sem_init(&x->done, 0, 0);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&th, NULL, worker, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc)
                return -1;
        pthread_detach(th);
        __atomic_store_n(&x->state, KOTEL_SIGX_RUNNING, __ATOMIC_RELEASE);
        return 0;
}

void kotel_sigx_stop_begin(struct kotel_sigx *x, uint64_t deadline_ns)
{
        int st = KOTEL_SIGX_RUNNING;

        if (!__atomic_compare_exchange_n(&x->state, &st, KOTEL_SIGX_STOPPING,
                                         false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
                return;
        __atomic_store_n(&x->deadline_ns, deadline_ns ? deadline_ns : 1,
                         __ATOMIC_RELEASE);
        sem_post(&x->wake);
}

bool kotel_sigx_stop_wait(struct kotel_sigx *x, uint64_t deadline_ns)
{
        if (__atomic_load_n(&x->state, __ATOMIC_ACQUIRE) != KOTEL_SIGX_STOPPING)
                return false;
        kotel_sigx_wait_until(&x->done, deadline_ns);
        __atomic_store_n(&x->state, KOTEL_SIGX_OFF, __ATOMIC_RELEASE);
        return true;
}

void kotel_sigx_atfork_child(struct kotel_sigx *x)
{
        __atomic_store_n(&x->state, KOTEL_SIGX_OFF, __ATOMIC_RELEASE);
}

void kotel_sigx_wait_until(sem_t *sem, uint64_t until)
{
        struct timespec ts = {.tv_sec  = (time_t)(until / 1000000000ull),
                              .tv_nsec = (long)(until % 1000000000ull)};

        while (sem_clockwait(sem, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
                ;
}

/* Sleeps @ms, in steps, ending early when shutdown begins (whose deadline
 * then bounds the retry). */
static void nap_ms(const struct kotel_sigx *x, long ms)
{
        uint64_t until = kotel_clock_ns() + (uint64_t)ms * 1000000ull;

        for (;;) {
                uint64_t now = kotel_clock_ns(), step;
                struct timespec ts;

                if (now >= until || kotel_sigx_deadline(x))
                        return;
                step = until - now < 20000000ull ? until - now : 20000000ull;
                ts.tv_sec  = 0;
                ts.tv_nsec = (long)step;
                nanosleep(&ts, NULL);
        }
}

bool kotel_sigx_post(const struct kotel_sigx *x, struct kotel_transport *t,
                     const struct kotel_settings *set, const char *what,
                     const uint8_t *body, size_t len, uint64_t deadline,
                     int64_t *rejected)
{
        long backoff   = BACKOFF_INITIAL_MS;
        char last[160] = "none, no time was left";

        for (;;) {
                struct kotel_send_info info;
                uint64_t sd = kotel_sigx_deadline(x), now = kotel_clock_ns();
                enum kotel_send_result res;
                long left, wait;

                /* Shutdown began: its deadline bounds this export too. */
                if (sd && sd < deadline)
                        deadline = sd;
                left = deadline > now ? (long)((deadline - now) / 1000000) : 0;
                if (left <= 0)
                        break;
                res = kotel_transport_post(
                    t, body, len, left < set->timeout_ms ? left : set->timeout_ms,
                    &info);
                if (res == KOTEL_SEND_OK) {
                        *rejected = info.rejected;
                        if (info.detail[0])
                                kotel_log(KOTEL_LOG_WARN, "%s export to %s: %s",
                                          what, set->url, info.detail);
                        return true;
                }
                snprintf(last, sizeof(last), "%s", info.detail);
                if (res == KOTEL_SEND_FAIL)
                        break;
                wait = backoff;
                if (info.retry_after_ms > wait)
                        wait = info.retry_after_ms < 60000 ? info.retry_after_ms
                                                           : 60000;
                backoff =
                    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                now = kotel_clock_ns();
                if (now >= deadline ||
                    (uint64_t)wait * 1000000ull >= deadline - now)
                        break;
                kotel_log(KOTEL_LOG_DEBUG,
                          "%s export to %s: %s; retrying in %ld ms", what,
                          set->url, info.detail, wait);
                nap_ms(x, wait);
        }
        kotel_log(KOTEL_LOG_ERROR, "%s export to %s failed: %s", what, set->url,
                  last);
        return false;
}
