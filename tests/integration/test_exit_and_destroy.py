"""Exit and rd_kafka_destroy under kotel: a SIGTERM handler that calls
exit() never hangs (kotel's exit path waits on no lock the exiting thread
may hold, and adds no library cleanup that frees memory at exit); exit and
destroy with millions of unacknowledged messages stay bounded by
KOTEL_SHUTDOWN_TIMEOUT; and the send spans of unacknowledged messages are
still ended with their error, or counted as dropped. The precise timing
against a run without kotel is in `make bench` (docs/performance.md)."""

import os
import random
import signal
import subprocess
import time

from kotel_test import (BUILD, TIMEOUT_SCALE, Receiver, agent_env, leak_checked, named,
                        stats)
from semantics_lib import dead_bootstrap

EXITCLIENT = os.path.join(BUILD, "tests", "exitclient")
# Two million messages take ~1 GB and seconds to queue; the sanitizer and
# valgrind runs (TIMEOUT_SCALE > 1) use fewer.
MANY = 2000000 if TIMEOUT_SCALE <= 1 else 200000


def start(args, env):
    return subprocess.Popen([EXITCLIENT] + args, env=leak_checked([EXITCLIENT], env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def dead_endpoint():
    return "http://" + dead_bootstrap()


def test_sigterm_handler_calling_exit_never_hangs():
    # The producer is interrupted anywhere: inside on_send holding an
    # in-flight shard lock, inside malloc holding the arena lock. Before
    # the fix, 6 to 14 runs in 20 hung in kotel's exit handler or in
    # OpenSSL's and GnuTLS's exit cleanup (free() on the arena lock).
    seed = int(time.time())
    rnd = random.Random(seed)
    env = agent_env(None, "sigexit", OTEL_EXPORTER_OTLP_ENDPOINT=dead_endpoint(),
                    KOTEL_SHUTDOWN_TIMEOUT="300", OTEL_LOG_LEVEL="none")
    if "ASAN_OPTIONS" in env:
        # LeakSanitizer's check at exit locks ASan's allocator, which the
        # interrupted thread may hold (the signal came inside malloc): it
        # then waits for itself, with or without kotel. The allocator's
        # own locks are the sanitizer's; kotel's exit path is what runs
        # here, so the leak check is off for this test.
        env = dict(env, ASAN_OPTIONS=env["ASAN_OPTIONS"] + ":detect_leaks=0")
    hung, bad = [], []
    for i in range(40):
        p = start(["-b", dead_bootstrap(), "sigexit"], env)
        line = p.stdout.readline()
        assert line.startswith("producing"), (line, p.stderr.read())
        time.sleep(rnd.uniform(0, 0.3))
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10 * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            hung.append(i)
        else:
            if p.returncode != 0:
                bad.append((i, p.returncode))
        p.stdout.close()
        p.stderr.close()
    assert not hung, "runs %s of 40 hung at exit (seed %d)" % (hung, seed)
    assert not bad, "runs exited abnormally: %s (seed %d)" % (bad, seed)


def unacked(how, n, env):
    """exitclient unacked @how: (seconds the destroy or the exit took,
    the exporter's counters)."""
    p = start(["-b", dead_bootstrap(), "-n", str(n), "unacked", how], env)
    out, err = "", ""
    at = None
    for line in p.stdout:
        out += line
        if line.startswith("exit_at_ns="):
            at = int(line.split("=")[1])
        elif line.startswith("destroy_ms="):
            at = float(line.split("=")[1])
    try:
        p.wait(120 * TIMEOUT_SCALE)
    finally:
        if p.poll() is None:
            p.kill()
    end = time.monotonic_ns()
    err = p.stderr.read()
    p.stderr.close()
    assert p.returncode == 0 and at is not None, (p.returncode, out, err[-3000:])
    took = (end - at) / 1e9 if how == "exit" else at / 1000.0
    return took, stats(err), err


def many_env(timeout_ms):
    return agent_env(None, "unacked", OTEL_EXPORTER_OTLP_ENDPOINT=dead_endpoint(),
                     KOTEL_SHUTDOWN_TIMEOUT=str(timeout_ms))


def test_exit_with_millions_unacked_is_bounded_by_the_deadline():
    # Two million messages to a broker that never answers, then main
    # returns. kotel's part takes well under a millisecond at a deadline
    # of 0 (make bench); quadratic, it took seconds.
    took, st, err = unacked("exit", MANY, many_env(0))
    assert took < 3 * TIMEOUT_SCALE, took
    assert st["started"] == MANY and st["dropped"] + st["failed"] == MANY, st
    took, st, err = unacked("exit", MANY, many_env(1000))
    assert took < (1 + 3) * TIMEOUT_SCALE, took
    assert st["started"] == MANY, st
    assert st["exported"] + st["dropped"] + st["failed"] == MANY, st


def test_destroy_with_millions_unacked_is_bounded_by_the_deadline():
    took, st, err = unacked("destroy", MANY, many_env(0))
    assert took < 3 * TIMEOUT_SCALE, took
    assert st["started"] == MANY and st["dropped"] + st["failed"] == MANY, st
    took, st, err = unacked("destroy", MANY, many_env(2000))
    assert took < (2 + 3) * TIMEOUT_SCALE, took
    assert st["exported"] + st["dropped"] + st["failed"] == MANY, st


def spans_of_unacked(how, n, extra):
    with Receiver() as r:
        env = agent_env(r, "unacked", **extra)
        took, st, err = unacked(how, n, env)
        sends = named(r.wait_for(lambda s: len(s) >= st["exported"]), "send t")
    return sends, st


def test_destroy_without_flush_ends_the_spans_of_messages_in_flight():
    sends, st = spans_of_unacked("destroy", 3000, {"OTEL_BSP_MAX_QUEUE_SIZE": "4096"})
    assert st["started"] == st["exported"] == len(sends) == 3000, st
    for s in sends:
        assert s["status"]["code"] == 2, s
        assert s["attributes"]["error.type"] == "_DESTROY", s
        assert "destroyed before the delivery report" in s["status"]["message"], s


def test_exit_without_flush_ends_the_spans_of_messages_in_flight():
    sends, st = spans_of_unacked("exit", 3000, {"OTEL_BSP_MAX_QUEUE_SIZE": "4096"})
    assert st["started"] == st["exported"] == len(sends) == 3000, st
    for s in sends:
        assert s["attributes"]["error.type"] == "_DESTROY", s
        assert "process exited before the delivery report" in s["status"]["message"], s


def test_unacked_spans_beyond_the_queue_are_counted_dropped():
    # The queue holds 500: the rest are counted, never built.
    sends, st = spans_of_unacked("destroy", 5000, {"OTEL_BSP_MAX_QUEUE_SIZE": "500"})
    assert st["started"] == 5000, st
    assert st["exported"] == len(sends) >= 500, st
    assert st["exported"] + st["dropped"] == 5000 and st["dropped"] > 0, st


def test_unacked_spans_at_deadline_zero_are_counted_dropped():
    for how in ("destroy", "exit"):
        sends, st = spans_of_unacked(how, 3000, {"KOTEL_SHUTDOWN_TIMEOUT": "0"})
        assert st["started"] == 3000 and st["dropped"] == 3000, (how, st)
        assert not sends, how
