"""Programs that end without running C exit handlers (Go's runtime exits
with a raw exit_group, Python's multiprocessing workers with os._exit):
kotel's exit flush never runs, so what is still queued is exported when
the app closes, destroys or fully flushes its last client. The exporter's
schedule delay is set to an hour here, so nothing would leave the queue
but that flush: every span that reaches the receiver proves it."""

import os
import time

from kotel_chain import one
from kotel_test import (KCLIENT, PYTHON, ROOT, TIMEOUT_SCALE, Broker, Receiver, agent_env,
                        named, of_service, parse_lines, run)
from semantics_lib import dead_bootstrap

CLIENTS = os.path.join(ROOT, "tests", "clients")
N = 5
HOUR_MS = 3600 * 1000


def env(r, service):
    return agent_env(r, service, OTEL_BSP_SCHEDULE_DELAY=HOUR_MS)


def kc(b, r, service, *args):
    return run([KCLIENT, "-b", b.bootstrap] + list(args) + ["--raw-exit"], env(r, service))


def py(script, b, r, service, *args):
    return run([PYTHON, os.path.join(CLIENTS, script), b.bootstrap] +
               [str(a) for a in args] + ["--os-exit"], env(r, service))


def check_sends(spans, service, topic):
    for i in range(N):
        s = one(spans, service, "send " + topic, "k%d" % i)
        assert s["kind"] == "PRODUCER"


def check_process(spans, service, topic, rows):
    assert len(rows) == N, rows
    for row in rows:
        s = one(spans, service, "process " + topic, row["key"])
        assert s["attributes"]["messaging.kafka.offset"] == int(row["offset"])


def test_c_client_destroyed_then_raw_exit_loses_no_span():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = kc(b, r, "cprod", "produce", "-a", "producev", "-t", "t", "-n", str(N))
        assert "delivered=%d failed=0" % N in p.stdout, p.stdout
        # No "spans started=" line: the exit handler did not run.
        assert "spans started=" not in p.stderr, p.stderr
        spans = r.wait_for(lambda s: len(named(of_service(s, "cprod"), "send t")) >= N)
        check_sends(spans, "cprod", "t")
        c = kc(b, r, "ccons", "consume", "-a", "poll", "-t", "t", "-n", str(N), "-g", "g1")
        rows = parse_lines(c.stdout, "msg")
        spans = r.wait_for(lambda s: len(named(of_service(s, "ccons"), "process t")) >= N)
        check_process(spans, "ccons", "t", rows)


def test_c_forwarder_flushes_only_after_its_last_client():
    # The forwarder destroys its producer first, then closes and destroys
    # its consumer: the spans of both clients leave at the end.
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        kc(b, r, "origin", "produce", "-a", "produce", "-t", "in", "-n", str(N))
        kc(b, r, "fwd", "forward", "-a", "current", "-t", "in", "-o", "out", "-n", str(N))
        spans = r.wait_for(lambda s: len(named(of_service(s, "fwd"), "send out")) >= N and
                           len(named(of_service(s, "fwd"), "process in")) >= N)
        check_sends(spans, "fwd", "out")
        for i in range(N):
            one(spans, "fwd", "process in", "k%d" % i)


def test_python_clients_then_os_exit_lose_no_span():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        # The producer is flushed, never destroyed, then os._exit.
        p = py("py_produce.py", b, r, "pyprod", "in", N)
        assert "delivered=%d left=0" % N in p.stdout, p.stdout
        spans = r.wait_for(lambda s: len(named(of_service(s, "pyprod"), "send in")) >= N)
        check_sends(spans, "pyprod", "in")
        # A forwarder: its producer is flushed first (ended, not destroyed),
        # then the consumer closed; then os._exit.
        c = py("py_consume.py", b, r, "pyfwd", "in", N, "pygroup", "--out", "out")
        rows = parse_lines(c.stdout, "msg")
        spans = r.wait_for(lambda s: len(named(of_service(s, "pyfwd"), "send out")) >= N and
                           len(named(of_service(s, "pyfwd"), "process in")) >= N)
        check_process(spans, "pyfwd", "in", rows)
        check_sends(spans, "pyfwd", "out")


def test_flush_at_the_last_client_is_bounded_by_the_shutdown_deadline():
    # A collector where nothing listens: the flush cannot finish and gives
    # up at KOTEL_SHUTDOWN_TIMEOUT (1 s here), once: the producer's flush
    # ends it (warned), and its destroy then returns at once (a flush that
    # ran out of time is not waited for again until an export succeeds).
    with Broker(["t:1"]) as b:
        env = agent_env(None, "late", OTEL_BSP_SCHEDULE_DELAY=HOUR_MS,
                        OTEL_EXPORTER_OTLP_ENDPOINT="http://" + dead_bootstrap(),
                        KOTEL_SHUTDOWN_TIMEOUT=1000, OTEL_LOG_LEVEL="warn")
        start = time.monotonic()
        p = run([KCLIENT, "-b", b.bootstrap, "produce", "-a", "producev", "-t", "t",
                 "-n", str(N), "--raw-exit"], env)
        took = time.monotonic() - start
    assert "delivered=%d failed=0" % N in p.stdout, p.stdout
    warned = [l for l in p.stderr.splitlines() if "flush after the last client" in l]
    assert len(warned) == 1, p.stderr
    # Generous: one deadline (1 s) plus a loaded machine's start-up.
    assert took < 1 + 20 * TIMEOUT_SCALE, took
