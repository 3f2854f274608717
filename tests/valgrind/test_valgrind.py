"""kotel under valgrind's memcheck in real clients (make test-valgrind only).

The plain build of the agent, preloaded into build/tests/kclient, which
valgrind runs against the mock broker with the exporter sending to the test
receiver: every produce API, every consume API (including the event API),
a forwarder whose worker thread destroys the messages, and the exporter's
retry path against a refused connection. Any memcheck error, and any
definite leak, fails the test (--error-exitcode and a scan of valgrind's
own log file, which is kept apart from the client's stderr)."""

import os
import shutil
import tempfile

from exporter_helpers import free_port
from kotel_test import (BUILD, KCLIENT, Broker, Receiver, agent_env, named, parse_lines, run,
                        stats)

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
ERROR_EXIT = 97
N = 3


def memcheck(broker, *args, receiver=None, service="vg", env=None, argv=None):
    """kclient @args (or the program and arguments @argv) under memcheck
    with the agent preloaded; asserts a clean valgrind log and returns the
    client's process."""
    e = agent_env(receiver, service, **(env or {}))
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "vg.%p")
        cmd = [VALGRIND, "--tool=memcheck", "--error-exitcode=%d" % ERROR_EXIT,
               "--leak-check=full", "--show-leak-kinds=definite",
               "--errors-for-leak-kinds=definite", "--track-origins=no",
               "--child-silent-after-fork=yes", "--num-callers=30",
               "--log-file=" + log] + (argv or [KCLIENT, "-b", broker.bootstrap] + list(args))
        p = run(cmd, e, check=False, timeout=300)
        logs = ""
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f)) as fh:
                logs += fh.read()
    summary = [l for l in logs.splitlines() if "ERROR SUMMARY" in l]
    assert summary, "no valgrind summary:\n" + logs[-3000:]
    assert all(" 0 errors" in l for l in summary) and p.returncode != ERROR_EXIT, \
        "memcheck errors in %s:\n%s" % (args, logs[-8000:])
    assert "definitely lost: 0 bytes" in logs or "definitely lost" not in logs, logs[-8000:]
    assert p.returncode == 0, "kclient exited %d\n%s" % (p.returncode, p.stderr[-3000:])
    return p


def produce_consume(produce_api, consume_api):
    with Broker(["t:1"]) as b, Receiver() as r:
        memcheck(b, "produce", "-a", produce_api, "-t", "t", "-n", str(N), receiver=r,
                 service="producer")
        c = memcheck(b, "consume", "-a", consume_api, "-t", "t", "-n", str(N),
                     receiver=r, service="consumer")
        assert len(parse_lines(c.stdout, "msg")) == N, c.stdout
        spans = r.wait_for(lambda s: len(named(s, "send t")) >= N and
                           len(named(s, "process t")) >= N)
        assert len(named(spans, "send t")) == N and len(named(spans, "process t")) == N


def test_produce_and_consumer_poll():
    produce_consume("produce", "poll")


def test_producev_and_consume_batch():
    produce_consume("producev", "batch")


def test_produceva_and_consume_callback_queue():
    produce_consume("produceva", "callbackq")


def test_produce_batch_and_event_api():
    produce_consume("batch", "eventarray")


def test_forward_worker_thread():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        memcheck(b, "produce", "-a", "producev", "-t", "in", "-n", str(N), receiver=r,
                 service="origin")
        memcheck(b, "forward", "-a", "worker", "-t", "in", "-o", "out", "-n", str(N),
                 receiver=r, service="forwarder")
        spans = r.wait_for(lambda s: len(named(s, "send out")) >= N)
        assert len(named(spans, "send out")) == N


def test_exporter_retries_refused_connection():
    with Broker(["t:1"]) as b:
        p = memcheck(b, "produce", "-a", "producev", "-t", "t", "-n", str(N),
                     env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % free_port(),
                          "OTEL_BSP_EXPORT_TIMEOUT": "1500"})
        st = stats(p.stderr)
        assert st and st["failed"] == N and st["retried"] >= 1, p.stderr


def test_failed_rd_kafka_new_and_retries():
    """kotel takes its on_new entry out of the app's conf after a failed
    rd_kafka_new (tests/clients/newfail.c): no invalid access, nothing
    lost, in every case."""
    newfail = os.path.join(BUILD, "tests", "newfail")
    with Broker(["t:1"]) as b, Receiver() as r:
        for case in ("copied", "refused", "threads", "app-interceptors"):
            p = memcheck(b, receiver=r, argv=[newfail, b.bootstrap, "t", case])
            assert p.stdout.endswith("done\n") and "failed" in p.stdout, p.stdout
