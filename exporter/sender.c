/* The OTLP send path: encodes a batch, POSTs it and retries retryable
 * failures with backoff, and logs how exports fare.
 *
 * Exporter thread only: exporter.c's worker calls kotel_sender_export()
 * for each batch (exporter.c settles the counts it returns). struct
 * kotel_sender, embedded in exporter.c's state, holds what outlives a
 * batch and is this module's alone: the backoff, the time before which no
 * request goes out (retry_at_ns: after a retryable failure it holds back
 * the next batch too), the jitter's generator, the streak of failures the
 * log lines follow, and the encoder and gzip buffers reused from batch to
 * batch. The owner gives it, read-only, the settings, the shutdown
 * deadline and whether shutdown has begun (so that retries stop at that
 * deadline), and the retried counter, added to atomically.
 *
 * Fork: kotel_sender_atfork_child() starts a child's streak and backoff
 * afresh and keeps the parent's encoder and gzip reachable, unfreed. */
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "otlp.h"

#define BACKOFF_INITIAL_MS 200
#define BACKOFF_MAX_MS 5000
/* The least any retry waits, whatever the server says: the fixed half of
 * the first backoff. */
#define BACKOFF_FLOOR_MS (BACKOFF_INITIAL_MS / 2)
/* Retry-After is honoured up to this. */
#define RETRY_AFTER_MAX_MS 60000
/* While exports keep failing, one error line per this many ms. */
#define FAIL_LOG_INTERVAL_NS (60ull * 1000000000ull)
#define FAIL_KINDS_MAX KOTEL_SENDER_FAIL_KINDS_MAX

/* 0..n-1, for backoff jitter; exporter thread only. */
static uint64_t jitter(struct kotel_sender *snd, uint64_t n)
{
        snd->rng ^= snd->rng << 13;
        snd->rng ^= snd->rng >> 7;
        snd->rng ^= snd->rng << 17;
        return n ? snd->rng % n : 0;
}

/* The earliest of the export deadline and, when stopping, shutdown's. */
static uint64_t effective_deadline(const struct kotel_sender *snd,
                                   uint64_t export_deadline)
{
        uint64_t sd = __atomic_load_n(snd->shutdown_ns, __ATOMIC_ACQUIRE);

        if (snd->stopping() && sd && (!export_deadline || sd < export_deadline))
                return sd;
        return export_deadline;
}

static void nap_ns(uint64_t ns)
{
        struct timespec ts = {.tv_sec  = (time_t)(ns / 1000000000ull),
                              .tv_nsec = (long)(ns % 1000000000ull)};

        nanosleep(&ts, NULL);
}

/* Whether @what/@detail is a kind of failure not logged yet in this
 * streak (then it is from now on); false once FAIL_KINDS_MAX are known. */
static bool new_fail_kind(struct kotel_sender *snd, const char *what,
                          const char *detail)
{
        uint32_t h = 2166136261u;

        for (const char *p = what; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        for (const char *p = detail; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        for (unsigned i = 0; i < snd->n_fail_kinds; i++)
                if (snd->fail_kinds[i] == h)
                        return false;
        if (snd->n_fail_kinds == FAIL_KINDS_MAX)
                return false;
        snd->fail_kinds[snd->n_fail_kinds++] = h;
        return true;
}

/* Exporter thread. A failing collector gets one error line for the first
 * failure of each kind, then one a minute while it keeps failing (the rest
 * at debug level), and one info line when it recovers: never a line per
 * batch. Those lines are bounded here, so no rate limit applies to them. */
static void log_failure(struct kotel_sender *snd, size_t n, const char *what,
                        const char *detail)
{
        uint64_t now = kotel_clock_ns();
        bool loud    = new_fail_kind(snd, what, detail) || !snd->failing ||
                    now - snd->fail_log_ns >= FAIL_LOG_INTERVAL_NS;

        snd->failing = true;
        if (loud) {
                snd->fail_log_ns = now;
                kotel_log_always(KOTEL_LOG_ERROR,
                                 "export of %zu spans to %s %s: %s", n,
                                 snd->set->url, what, detail);
        } else {
                kotel_log(KOTEL_LOG_DEBUG, "export of %zu spans to %s %s: %s",
                          n, snd->set->url, what, detail);
        }
}

static void log_success(struct kotel_sender *snd, size_t n, size_t len)
{
        if (snd->failing)
                kotel_log_always(KOTEL_LOG_INFO, "export to %s works again",
                                 snd->set->url);
        snd->failing      = false;
        snd->n_fail_kinds = 0;
        kotel_log(KOTEL_LOG_DEBUG, "exported %zu spans (%zu bytes) to %s", n,
                  len, snd->set->url);
}

/* How long to wait before the next request after a retryable failure:
 * the exponential backoff with jitter (half fixed, half random, so that
 * many exporters that failed together do not retry together), or the
 * server's Retry-After (capped) when longer. A server cannot shorten it:
 * "Retry-After: 0", a date in the past or a tiny value still wait the
 * backoff, at least BACKOFF_FLOOR_MS. */
static long retry_wait(struct kotel_sender *snd,
                       const struct kotel_send_info *info)
{
        long backoff = snd->backoff_ms;
        long wait = backoff / 2 + (long)jitter(snd, (uint64_t)backoff / 2 + 1);

        if (wait < BACKOFF_FLOOR_MS)
                wait = BACKOFF_FLOOR_MS;
        if (info->retry_after_ms > wait)
                wait = info->retry_after_ms < RETRY_AFTER_MAX_MS
                           ? info->retry_after_ms
                           : RETRY_AFTER_MAX_MS;
        snd->backoff_ms =
            backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        return wait;
}

/* Waits until the retry gate opens; false when it will not open before the
 * batch's deadline (at exit: at once, without sleeping in vain). */
static bool wait_retry_gate(struct kotel_sender *snd, uint64_t export_deadline)
{
        for (;;) {
                uint64_t d   = effective_deadline(snd, export_deadline);
                uint64_t now = kotel_clock_ns();

                if (now >= snd->retry_at_ns)
                        return true;
                if (d &&
                    (now >= d || (snd->stopping() && snd->retry_at_ns >= d)))
                        return false;
                /* In steps, to see shutdown begin. */
                nap_ns(snd->retry_at_ns - now < 20000000ull
                           ? snd->retry_at_ns - now
                           : 20000000ull);
        }
}

/* One POST attempt's outcome, settled into *@exported and *@failed when
 * final. Returns true when the batch is settled. */
static bool settle_response(struct kotel_sender *snd,
                            enum kotel_send_result res,
                            const struct kotel_send_info *info, size_t n,
                            size_t len, size_t *exported, size_t *failed)
{
        if (res != KOTEL_SEND_RETRY)
                snd->backoff_ms = BACKOFF_INITIAL_MS;
        if (res == KOTEL_SEND_OK) {
                size_t rejected =
                    info->rejected > 0 && (uint64_t)info->rejected <= n
                        ? (size_t)info->rejected
                        : 0;

                *exported = n - rejected;
                *failed   = rejected;
                if (info->detail[0])
                        kotel_log(KOTEL_LOG_WARN, "export to %s: %s",
                                  snd->set->url, info->detail);
                log_success(snd, n, len);
                return true;
        }
        if (res == KOTEL_SEND_FAIL) {
                *failed = n;
                log_failure(snd, n, "failed, not retrying", info->detail);
                return true;
        }
        return false;
}

/* Sends one encoded batch, retrying retryable failures with exponential
 * backoff and jitter (Retry-After honoured) until the export timeout. The
 * backoff and its gate outlive the batch: after a batch is given up, the
 * next one waits out the gate too, so no path sends two requests closer
 * than BACKOFF_FLOOR_MS after a retryable failure.
 * Exporter thread; borrows @spans; sets how many were exported/failed. */
static void otlp_send(struct kotel_sender *snd, struct kotel_transport *t,
                      const uint8_t *body, size_t len, size_t n,
                      size_t *exported, size_t *failed)
{
        uint64_t export_deadline =
            snd->set->export_timeout_ms
                ? kotel_clock_ns() +
                      (uint64_t)snd->set->export_timeout_ms * 1000000ull
                : 0;
        char last[sizeof(((struct kotel_send_info *)0)->detail)] = "";
        char why[sizeof(last) + 96];
        const char *none = "none, no time was left";

        for (;;) {
                struct kotel_send_info info;
                long timeout = snd->set->timeout_ms;
                uint64_t d;
                enum kotel_send_result res;
                long wait;

                if (!wait_retry_gate(snd, export_deadline)) {
                        none = "none, the collector's backoff had not ended";
                        break;
                }
                d = effective_deadline(snd, export_deadline);
                if (d) {
                        long left = kotel_clock_ms_left(d);
                        if (left <= 0)
                                break;
                        if (left < timeout)
                                timeout = left;
                }
                res = kotel_transport_post(t, body, len, timeout, &info);
                if (settle_response(snd, res, &info, n, len, exported, failed))
                        return;
                snprintf(last, sizeof(last), "%s", info.detail);
                wait = retry_wait(snd, &info);
                snd->retry_at_ns =
                    kotel_clock_ns() + (uint64_t)wait * 1000000ull;
                d = effective_deadline(snd, export_deadline);
                if (d && kotel_clock_ms_left(d) <= wait) {
                        kotel_log(KOTEL_LOG_DEBUG,
                                  "export to %s: %s; no time left to retry "
                                  "in %ld ms",
                                  snd->set->url, info.detail, wait);
                        break;
                }
                __atomic_add_fetch(snd->retried, 1, __ATOMIC_RELAXED);
                kotel_log(KOTEL_LOG_DEBUG,
                          "export to %s: %s; retrying in %ld ms", snd->set->url,
                          info.detail, wait);
        }
        *failed = n;
        snprintf(why, sizeof(why), "%s; last attempt: %s",
                 snd->stopping()
                     ? "shutdown deadline reached"
                     : "export timeout (OTEL_BSP_EXPORT_TIMEOUT) reached",
                 last[0] ? last : none);
        log_failure(snd, n, "gave up", why);
}

void kotel_sender_export(struct kotel_sender *snd, struct kotel_transport *t,
                         struct kotel_span *const *spans, size_t n,
                         size_t *exported, size_t *failed)
{
        uint8_t *json       = NULL;
        const uint8_t *body = NULL;
        size_t len          = 0;
        int rc;

        if (snd->set->protocol == KOTEL_PROTO_HTTP_JSON) {
                rc   = kotel_otlp_encode_json(spans, n, &json, &len);
                body = json;
        } else {
                rc = kotel_trace_enc_encode(&snd->enc, spans, n, &body, &len);
        }
        /* Once per batch, not once per attempt. */
        if (rc == 0 && snd->set->gzip)
                rc = kotel_gzip_compress(&snd->gz, body, len, &body, &len);
        if (rc < 0 || !t) {
                *failed = n;
                log_failure(snd, n, "failed",
                            rc < 0 ? "out of memory while encoding"
                                   : "no HTTP transport");
        } else {
                otlp_send(snd, t, body, len, n, exported, failed);
        }
        free(json);
}

void kotel_sender_start(struct kotel_sender *snd,
                        const struct kotel_settings *set, uint64_t *retried,
                        const uint64_t *shutdown_ns, bool (*stopping)(void),
                        uint64_t seed)
{
        snd->set         = set;
        snd->retried     = retried;
        snd->shutdown_ns = shutdown_ns;
        snd->stopping    = stopping;
        snd->rng         = seed;
        snd->backoff_ms  = BACKOFF_INITIAL_MS;
        snd->retry_at_ns = 0;
}

void kotel_sender_free(struct kotel_sender *snd)
{
        kotel_trace_enc_free(&snd->enc);
        kotel_gzip_free(&snd->gz);
}

void kotel_sender_atfork_child(struct kotel_sender *snd)
{
        if (snd->enc.out.p || snd->enc.scratch.p || snd->enc.group ||
            snd->gz.c) {
                snd->orphan_enc = snd->enc;
                snd->orphan_gz  = snd->gz;
                memset(&snd->enc, 0, sizeof(snd->enc));
                memset(&snd->gz, 0, sizeof(snd->gz));
        }
        snd->failing      = false;
        snd->n_fail_kinds = 0;
        snd->retry_at_ns  = 0;
        snd->backoff_ms   = BACKOFF_INITIAL_MS;
}
