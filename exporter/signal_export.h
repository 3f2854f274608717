/* What the logs and metrics exporters' threads share: the run state, the
 * wake and done semaphores, the shutdown deadline, starting the worker
 * thread, the transport's set-up and the export-with-retry loop. The
 * per-signal parts (what is queued, when a batch goes, how it is encoded)
 * stay in logs_export.c and metrics_export.c.
 *
 * Life cycle: IDLE -> (kotel_sigx_configure) OFF -> (kotel_sigx_run) RUNNING
 * -> (kotel_sigx_stop_begin) STOPPING -> (kotel_sigx_stop_wait) OFF. A
 * signal turned off, or whose start failed, stays OFF; so does a forked
 * child (kotel_sigx_atfork_child: the thread did not survive).
 *
 * Shutdown: the exiting thread sets the deadline and posts wake; the
 * worker does its last export, every request bounded by the deadline, and
 * posts done; the exiting thread waits for that until the deadline only. */
#ifndef KOTEL_SIGNAL_EXPORT_H
#define KOTEL_SIGNAL_EXPORT_H

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"
#include "transport.h"

enum {
        KOTEL_SIGX_IDLE = 0,
        KOTEL_SIGX_RUNNING,
        KOTEL_SIGX_STOPPING,
        KOTEL_SIGX_OFF
};

struct kotel_sigx {
        int state;
        sem_t wake, done;
        uint64_t deadline_ns; /* shutdown's (mono), 0 before */
};

/* Whether @x runs (records are taken). Any thread, lock-free. */
static inline bool kotel_sigx_running(const struct kotel_sigx *x)
{
        return __atomic_load_n(&x->state, __ATOMIC_ACQUIRE) ==
               KOTEL_SIGX_RUNNING;
}

/* The shutdown deadline, 0 before shutdown began. Any thread. */
static inline uint64_t kotel_sigx_deadline(const struct kotel_sigx *x)
{
        return __atomic_load_n(&x->deadline_ns, __ATOMIC_ACQUIRE);
}

/* A start's first steps: IDLE -> OFF (once: false for any later
 * caller), then @exporter_env (OTEL_LOGS_EXPORTER, ...): "none" stops
 * there with nothing else read (nor logged a second time: the generic
 * OTEL_EXPORTER_OTLP_* variables are the traces' too); else @set is loaded
 * for @signal. True when the caller is to go on starting (@set's kind is
 * not none). The thread starting the exporter. */
bool kotel_sigx_configure(struct kotel_sigx *x, const char *exporter_env,
                          enum kotel_signal signal,
                          struct kotel_settings *set);

/* Sets up libcurl (and the TLS libraries it uses, kept alive past
 * atexit) and a transport for @set; NULL on failure. The caller owns the
 * result. Called by the thread starting an exporter. */
struct kotel_transport *kotel_sigx_transport(const struct kotel_settings *set);

/* Starts @worker on a detached thread with every signal blocked (the
 * app's handlers never run on it) and sets @x RUNNING; -1 when the
 * thread could not start (@x stays OFF). */
int kotel_sigx_run(struct kotel_sigx *x, void *(*worker)(void *));

/* RUNNING -> STOPPING with @deadline_ns (mono), waking the worker. Any
 * thread; once. */
void kotel_sigx_stop_begin(struct kotel_sigx *x, uint64_t deadline_ns);

/* Waits until the worker posted done or @deadline_ns (mono) passed, then
 * sets @x OFF; false (no wait) when @x was not stopping. */
bool kotel_sigx_stop_wait(struct kotel_sigx *x, uint64_t deadline_ns);

/* In a forked child: @x is OFF (its thread did not survive). */
void kotel_sigx_atfork_child(struct kotel_sigx *x);

/* Waits on @sem until posted or @until (mono). */
void kotel_sigx_wait_until(sem_t *sem, uint64_t until);

/* Posts @body through @t until accepted, refused or @deadline (mono, and
 * the shutdown deadline when earlier) passes, retrying retryable failures
 * with backoff (and the collector's Retry-After, at most a minute). When
 * accepted, *@rejected is what the collector's partial success said it
 * rejected. @what ("logs", "metrics") names the signal in log lines. The
 * worker thread only. */
bool kotel_sigx_post(const struct kotel_sigx *x, struct kotel_transport *t,
                     const struct kotel_settings *set, const char *what,
                     const uint8_t *body, size_t len, uint64_t deadline,
                     int64_t *rejected);

#endif
