/* thrd_shim: a test-only preload for the sanitizer runs (tests/sanitize.mk).
 *
 * librdkafka starts its threads with C11 thrd_create(), which glibc
 * implements by calling its internal pthread_create directly, not through
 * the PLT, so the ASan and TSan runtimes never see those threads start:
 * TSan crashes in its interceptors on them (no thread state), ASan does not
 * clear their stacks' shadow (after fork() a reused stack still carries the
 * parent's redzones: false reports) and LSan cannot suspend them. This
 * thrd_create goes through the exported pthread_create, which the runtimes
 * intercept. Never part of libkotel.so. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct start {
        thrd_start_t func;
        void *arg;
};

static void *trampoline(void *p)
{
        struct start s = *(struct start *)p;

        free(p);
        /* thrd_join reads the int result back out of the pointer. */
        return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
        struct start *s = malloc(sizeof(*s));
        int rc;

        if (!s)
                return thrd_nomem;
        s->func = func;
        s->arg  = arg;
        rc      = pthread_create((pthread_t *)thr, NULL, trampoline, s);
        if (rc) {
                free(s);
                return rc == ENOMEM ? thrd_nomem : thrd_error;
        }
        return thrd_success;
}

/* The same holds for C11 joins, mutexes and condition variables, which
 * librdkafka uses for all its hand-offs between threads: glibc's versions
 * call its internal pthread functions, which TSan does not see, so every
 * message passed through a librdkafka queue would look like a race. These
 * call the exported (intercepted) ones; glibc's mtx_t and cnd_t are
 * pthread_mutex_t and pthread_cond_t underneath. */
int thrd_join(thrd_t thr, int *res)
{
        void *r;

        if (pthread_join((pthread_t)thr, &r))
                return thrd_error;
        if (res)
                *res = (int)(intptr_t)r;
        return thrd_success;
}

int thrd_detach(thrd_t thr)
{
        return pthread_detach((pthread_t)thr) ? thrd_error : thrd_success;
}

int mtx_init(mtx_t *m, int type)
{
        pthread_mutexattr_t a;
        int rc;

        pthread_mutexattr_init(&a);
        if (type & mtx_recursive)
                pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
        pthread_mutexattr_destroy(&a);
        return rc ? thrd_error : thrd_success;
}

int mtx_lock(mtx_t *m)
{
        return pthread_mutex_lock((pthread_mutex_t *)m) ? thrd_error : thrd_success;
}

int mtx_trylock(mtx_t *m)
{
        int rc = pthread_mutex_trylock((pthread_mutex_t *)m);

        return rc == EBUSY ? thrd_busy : rc ? thrd_error : thrd_success;
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
        int rc = pthread_mutex_timedlock((pthread_mutex_t *)m, ts);

        return rc == ETIMEDOUT ? thrd_timedout : rc ? thrd_error : thrd_success;
}

int mtx_unlock(mtx_t *m)
{
        return pthread_mutex_unlock((pthread_mutex_t *)m) ? thrd_error : thrd_success;
}

void mtx_destroy(mtx_t *m)
{
        pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
        int rc = pthread_cond_init((pthread_cond_t *)c, NULL);

        return rc == ENOMEM ? thrd_nomem : rc ? thrd_error : thrd_success;
}

int cnd_signal(cnd_t *c)
{
        return pthread_cond_signal((pthread_cond_t *)c) ? thrd_error : thrd_success;
}

int cnd_broadcast(cnd_t *c)
{
        return pthread_cond_broadcast((pthread_cond_t *)c) ? thrd_error : thrd_success;
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
        return pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m)
                   ? thrd_error
                   : thrd_success;
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                  const struct timespec *restrict ts)
{
        int rc = pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts);

        return rc == ETIMEDOUT ? thrd_timedout : rc ? thrd_error : thrd_success;
}

void cnd_destroy(cnd_t *c)
{
        pthread_cond_destroy((pthread_cond_t *)c);
}
