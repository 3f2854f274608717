"""A hostile collector, for as long as the app runs (test_exporter_failures.py
scripts one bad answer and then a good one): one that never answers, one
that answers a byte at a time, a gigantic body, 3xx redirects, 429/502/503
with every kind of Retry-After, one that resets every connection and one
that closes mid-response. Each time a producer and then a consumer run
under it and must be unaffected (the same output as without kotel, in
normal time plus at most the shutdown deadline), every span is counted
once, the summary line is printed, the requests stay bounded (after a
retryable failure never two closer than the backoff floor; otherwise one
per batch), and kotel's log lines are the documented ones, few of them."""

import email.utils
import re
import time

from hostile_collector import HostileCollector
from kotel_test import KCLIENT, TIMEOUT_SCALE, Broker, agent_env, run, stats

N = 2000
SHUTDOWN_S = 2.0
ENV = {"KOTEL_SHUTDOWN_TIMEOUT": str(int(SHUTDOWN_S * 1000)),
       "OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_BSP_SCHEDULE_DELAY": "100",
       "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100"}
# Every retry, and every request after a retryable failure, waits at least
# this (docs/configuration.md); less 10 ms for timer slack.
FLOOR_S = 0.1 - 0.01
# What kotel may print (docs/troubleshooting.md), at OTEL_LOG_LEVEL=info.
KNOWN = re.compile(r"^kotel: (error: export of \d+ spans to \S+ (gave up|failed, not retrying): "
                   r"|warn: export to \S+: |info: export to \S+ works again|"
                   r"warn: \d+ spans unsent at exit|info: spans started=|"
                   r"warn: span queue full|"
                   r"warn: flush after the last client: spans still queued at the deadline$)")

_baseline = []


def app(b, env, preload=True):
    """Produces N messages, then consumes them: [(process, seconds)]."""
    out = []
    for args in (("produce", "-a", "produce"), ("consume", "-a", "consume")):
        t0 = time.time()
        p = run([KCLIENT, "-b", b.bootstrap] + list(args) + ["-t", "t", "-n", str(N)],
                agent_env(None, "hostile", preload=preload, **env), timeout=60)
        out.append((p, time.time() - t0))
    return out


def canonical(stdout):
    """The app's output without its traceparents (kotel's ids, random)."""
    return re.sub(r"traceparent=\S*", "traceparent=", stdout)


def baseline():
    if not _baseline:
        with Broker() as b:
            _baseline.extend(app(b, {}, preload=False))
    return _baseline


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def hostile(coll, env=None, max_lines=12):
    """Runs the app against @coll, with the checks every hostile collector
    shares; returns ([(stderr, stats)] one per app run, request times)."""
    res = []
    with Broker() as b:
        e = dict(ENV, OTEL_EXPORTER_OTLP_ENDPOINT=coll.endpoint, **(env or {}))
        runs = app(b, e)
    for (p, took), (base, base_took) in zip(runs, baseline()):
        assert canonical(p.stdout) == canonical(base.stdout), p.stdout[-2000:]
        assert took < base_took + (SHUTDOWN_S + 2.5) * TIMEOUT_SCALE, \
            (took, base_took, p.stderr[-2000:])
        st = stats(p.stderr)
        assert st is not None, "no summary line:\n" + p.stderr[-3000:]
        assert st["started"] == N, st
        assert st["exported"] + st["dropped"] + st["failed"] == N, st
        lines = [l for l in p.stderr.splitlines() if l.startswith("kotel:")]
        # Deadline lines come on top of the others when a collector this
        # slow outlasts the last-client flush's or the exit's deadline
        # (under a sanitizer): each documented, each at most a few.
        late = [l for l in lines if "flush after the last client" in l or
                "gave up: shutdown deadline reached" in l or "spans unsent at exit" in l]
        assert len(late) <= 4, p.stderr[-3000:]
        assert len(lines) - len(late) <= max_lines, p.stderr[-3000:]
        for l in lines:
            assert KNOWN.match(l), "undocumented line: " + l
        res.append((p.stderr, st))
    return res, list(coll.times)


def bounded(times, total_s):
    """Never two requests closer than the backoff floor (the second app
    process may send its first request right after the first's last)."""
    close = [g for g in gaps(times) if g < FLOOR_S]
    assert len(close) <= 1, "requests %.3f s apart: %s" % (min(close), close[:10])
    assert len(times) <= 2 + total_s / 0.1, (len(times), total_s)


def retry_storm(status, retry_after):
    with HostileCollector("status", status=status,
                          headers={"Retry-After": retry_after}) as coll:
        t0 = time.time()
        res, times = hostile(coll)
        bounded(times, time.time() - t0)
    for stderr, st in res:
        assert st["exported"] == 0, st
        assert "gave up" in stderr and "HTTP %d" % status in stderr, stderr[-2000:]


def test_retry_after_zero_on_503_waits_the_backoff_floor():
    retry_storm(503, "0")


def test_retry_after_zero_on_429_waits_the_backoff_floor():
    retry_storm(429, "0")


def test_retry_after_negative_waits_the_backoff_floor():
    retry_storm(503, "-5")


def test_retry_after_date_in_the_past_waits_the_backoff_floor():
    retry_storm(429, lambda: email.utils.formatdate(time.time() - 3600, usegmt=True))


def test_retry_after_garbage_waits_the_backoff_floor():
    retry_storm(503, "soon\x01please")


def test_retry_after_tiny_on_502_waits_the_backoff_floor():
    # A whole number of seconds is the smallest: 0 again, on another status.
    with HostileCollector("status", status=502, headers={"Retry-After": " 0 "}) as coll:
        t0 = time.time()
        hostile(coll)
        bounded(coll.times, time.time() - t0)


def test_retry_after_huge_holds_every_batch_and_exit_stays_bounded():
    # A day, or an HTTP date an hour ahead (both capped at 60 s): nothing
    # may be sent again in this test, and exit does not wait for it.
    def in_an_hour():
        return email.utils.formatdate(time.time() + 3600, usegmt=True)
    for retry_after in ("86400", in_an_hour):
        with HostileCollector("status", status=503, headers={"Retry-After": retry_after}) as coll:
            res, times = hostile(coll)
            # One request for each app run.
            assert len(times) <= 2, len(times)


def test_collector_that_never_answers():
    with HostileCollector("silent") as coll:
        t0 = time.time()
        res, times = hostile(coll)
        bounded(times, time.time() - t0)
    for stderr, st in res:
        assert st["exported"] == 0, st


def test_collector_answering_byte_by_byte():
    # A whole answer would take ~20 s: each request ends at its timeout.
    with HostileCollector("trickle", interval=0.2) as coll:
        t0 = time.time()
        res, times = hostile(coll)
        bounded(times, time.time() - t0)
    for stderr, st in res:
        assert st["exported"] == 0, st


def test_collector_with_gigantic_bodies():
    with HostileCollector("huge", size=64 << 20) as coll:
        # 10 warnings, their collapsed count and the summary (deadline
        # lines apart, see hostile()).
        res, times = hostile(coll)
    for stderr, st in res:
        # Accepted (2xx); the body is not read past its cap. (Under a
        # sanitizer, reading 4 MB a batch may outlast the shutdown
        # deadline: the rest is dropped then.)
        assert st["retried"] == 0 and st["exported"] >= 100, st
        assert (st["exported"] == N and st["failed"] == 0) or TIMEOUT_SCALE > 1, st
        # One warning per batch: 10 written, the rest collapsed into one
        # line with their count, before the summary.
        warns = [l for l in stderr.splitlines() if "response body over 4194304 bytes" in l]
        assert 1 <= len(warns) <= 11, stderr[-3000:]
        shown = [l for l in warns if "(repeated" not in l]
        collapsed = sum(int(m) for m in re.findall(r"\(repeated (\d+) times in the last \d+ s\)",
                                                   stderr))
        # (+1: a batch the shutdown deadline abandoned may still settle,
        # and log, as the process exits.)
        assert st["exported"] // 100 <= len(shown) + collapsed <= st["exported"] // 100 + 1, \
            stderr[-3000:]


def test_redirects_are_not_followed_nor_retried():
    for status in (301, 302, 303, 307, 308):
        with HostileCollector("redirect", status=status) as coll:
            res, times = hostile(coll)
            # One request per batch at most: N / 100 in each run.
            assert len(times) <= 2 * N // 100, len(times)
        for stderr, st in res:
            assert st["retried"] == 0 and st["exported"] == 0, st
            assert "HTTP %d" % status in stderr and "not retrying" in stderr, stderr[-2000:]


def test_collector_resetting_every_connection():
    # A connection failure: retried with the same backoff as an answer.
    with HostileCollector("reset") as coll:
        t0 = time.time()
        res, times = hostile(coll)
        bounded(times, time.time() - t0)
    for stderr, st in res:
        assert st["exported"] == 0 and st["retried"] >= 1, st


def test_collector_closing_mid_response():
    with HostileCollector("cut") as coll:
        t0 = time.time()
        res, times = hostile(coll)
        bounded(times, time.time() - t0)
    for stderr, st in res:
        assert st["exported"] == 0, st
