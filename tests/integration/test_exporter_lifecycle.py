"""The exporter's lifecycle: no thread before librdkafka is used, a named
worker with every signal blocked, a full queue drops and counts (spans sent
= received + counted), exit bounded even with a blackholed collector, and
fork: no deadlock, no re-sent backlog, unique ids, fork+exec works."""

import os
import subprocess
import time
from collections import Counter

from exporter_helpers import FORKER, Blackhole, forker, produce, timed_produce
from kotel_test import PYTHON, Broker, GrpcReceiver, Receiver, agent_env, parse_lines, run, stats


def test_full_queue_drops_and_counts():
    with Broker() as b, Receiver() as r:
        r.script = [{"delay": 1.0}] * 3
        p, st = produce(b, 300, receiver=r, env={
            "OTEL_BSP_MAX_QUEUE_SIZE": "5", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2",
            "OTEL_BSP_SCHEDULE_DELAY": "50", "KOTEL_SHUTDOWN_TIMEOUT": "60000"})
        assert st["started"] == 300, st
        assert st["dropped"] > 0, st
        assert st["failed"] == 0, st
        assert st["exported"] + st["dropped"] == 300, st
        assert len(r.spans) == st["exported"]
        assert len({s["span_id"] for s in r.spans}) == st["exported"]
        assert "span queue full" in p.stderr


def test_exit_bounded_with_blackholed_collector_and_no_export_timeout():
    with Broker() as b, Blackhole() as bh:
        p, st, took = timed_produce(b, 20, endpoint=bh.endpoint, env={
            "OTEL_BSP_EXPORT_TIMEOUT": "0", "KOTEL_SHUTDOWN_TIMEOUT": "2000",
            "OTEL_BSP_SCHEDULE_DELAY": "50"}, timeout=80)
        assert p.returncode == 0
        # Unbounded, this never returns (no export timeout, requests hang).
        assert took < 40, took
        assert st["started"] == 20 and st["exported"] == 0, st
        # Given up by the worker (failed) or left unsent (dropped): which
        # depends on who reaches the deadline first; never lost uncounted.
        assert st["dropped"] + st["failed"] == 20, st
        assert "unsent at exit" in p.stderr or "shutdown deadline reached" in p.stderr, p.stderr


def test_shutdown_deadline_capped_by_export_timeout():
    # 40 one-span batches against a blackhole, 1.5 s export timeout each:
    # a minute without the cap, KOTEL_SHUTDOWN_TIMEOUT says 10 minutes.
    with Broker() as b, Blackhole() as bh:
        p, st, took = timed_produce(b, 40, endpoint=bh.endpoint, env={
            "OTEL_BSP_EXPORT_TIMEOUT": "1500", "KOTEL_SHUTDOWN_TIMEOUT": "600000",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1", "OTEL_BSP_SCHEDULE_DELAY": "60000"},
            timeout=85)
        assert took < 30, took
        assert st["dropped"] + st["failed"] == 40 and st["exported"] == 0, st


def test_no_thread_or_socket_without_librdkafka():
    code = ("import os\n"
            "socks = 0\n"
            "for f in os.listdir('/proc/self/fd'):\n"
            "    try:\n"
            "        socks += os.readlink('/proc/self/fd/' + f).startswith('socket:')\n"
            "    except OSError:\n"
            "        pass  # the directory listing's own fd, closed since\n"
            "print(len(os.listdir('/proc/self/task')), socks)\n")
    env = agent_env(None, "idle", OTEL_LOG_LEVEL="debug")
    p = run([PYTHON, "-c", code], env)
    assert p.stdout.split() == ["1", "0"], p.stdout
    assert "exporter started" not in p.stderr and "spans started" not in p.stderr, p.stderr


def sigmask(pid, tid):
    with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
        for line in f:
            if line.startswith("SigBlk:"):
                return int(line.split()[1], 16)
    raise AssertionError("no SigBlk")


def test_exporter_thread_named_with_signals_blocked():
    with Broker() as b, Receiver() as r:
        env = agent_env(r, "hold")
        p = subprocess.Popen([FORKER, "-b", b.bootstrap, "-n", "2", "hold"], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            lines = [p.stdout.readline(), p.stdout.readline()]
            assert "ready\n" in lines, lines
            names = {}
            for tid in os.listdir("/proc/%d/task" % p.pid):
                with open("/proc/%d/task/%s/comm" % (p.pid, tid)) as f:
                    names[tid] = f.read().strip()
            workers = [t for t, n in names.items() if n == "kotel-exporter"]
            assert len(workers) == 1, names
            mask = sigmask(p.pid, workers[0])
            for sig in (1, 2, 3, 10, 12, 13, 14, 15, 17, 28, 34, 50, 64):
                assert mask & (1 << (sig - 1)), "signal %d not blocked: %x" % (sig, mask)
            main = sigmask(p.pid, str(p.pid))
            assert not main & (1 << 1), "the app's own mask changed: %x" % main
        finally:
            p.stdin.close()
            rc = p.wait(60)
        assert rc == 0


def spans_by_pid(spans):
    return Counter(s["resource"]["process.pid"] for s in spans)


def check_fork(b, r, out, children, n):
    pids = {int(row["pid"]): row["role"] for row in parse_lines("x " + out.replace("\n", "\nx "), "x")
            if "pid" in row}
    parent = [p for p, role in pids.items() if role == "parent"]
    kids = [p for p, role in pids.items() if role == "child"]
    assert len(parent) == 1 and len(kids) == children, out
    spans = r.wait_spans(n * (2 + children))
    ids = [s["span_id"] for s in spans]
    assert len(ids) == len(set(ids)), "duplicate span ids: %s" % Counter(ids).most_common(3)
    by_pid = spans_by_pid(spans)
    assert by_pid[parent[0]] == 2 * n, by_pid
    for k in kids:
        assert by_pid[k] == n, by_pid
    for s in spans:
        assert s["attributes"]["messaging.kafka.message.key"].startswith(
            "%d-" % s["resource"]["process.pid"]), s
    assert len(spans) == n * (2 + children)


def test_fork_child_does_not_resend_parent_backlog():
    # The parent's spans sit in its queue at fork (60 s schedule delay).
    with Broker() as b, Receiver() as r:
        p = forker(b, "fork", "-n", "5", "-c", "3", receiver=r, timeout=80,
                   env={"OTEL_BSP_SCHEDULE_DELAY": "60000", "KOTEL_SHUTDOWN_TIMEOUT": "30000"})
        check_fork(b, r, p.stdout, 3, 5)
        lines = [l for l in p.stderr.splitlines() if "spans started=" in l]
        assert len(lines) == 4, p.stderr  # 3 children, then the parent
        assert stats(lines[-1])["exported"] == 10, lines


def test_fork_while_exporter_mid_request():
    # The parent's worker is inside a stalled request when it forks.
    with Broker() as b, Receiver() as r:
        r.script = [{"delay": 2}]
        p = forker(b, "fork", "-n", "5", "-c", "4", "-s", "600", receiver=r, timeout=80,
                   env={"OTEL_BSP_SCHEDULE_DELAY": "50", "KOTEL_SHUTDOWN_TIMEOUT": "30000"})
        check_fork(b, r, p.stdout, 4, 5)


def test_fork_child_does_not_resend_parent_backlog_over_grpc():
    with Broker() as b, GrpcReceiver() as r:
        p = forker(b, "fork", "-n", "5", "-c", "3", receiver=r, timeout=80,
                   env={"OTEL_BSP_SCHEDULE_DELAY": "60000", "KOTEL_SHUTDOWN_TIMEOUT": "30000"})
        check_fork(b, r, p.stdout, 3, 5)
        lines = [l for l in p.stderr.splitlines() if "spans started=" in l]
        assert len(lines) == 4, p.stderr
        assert stats(lines[-1])["exported"] == 10, lines


def test_fork_while_exporter_mid_request_over_grpc():
    # The parent's worker is inside a gRPC call the server holds for 2 s.
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([{"delay_ms": 2000}])
        p = forker(b, "fork", "-n", "5", "-c", "4", "-s", "600", receiver=r, timeout=80,
                   env={"OTEL_BSP_SCHEDULE_DELAY": "50", "KOTEL_SHUTDOWN_TIMEOUT": "30000"})
        check_fork(b, r, p.stdout, 4, 5)


def test_fork_child_exit_code_kept():
    with Broker() as b, Receiver() as r:
        t0 = time.time()
        p = forker(b, "forkidle", "-n", "2", receiver=r, check=False, timeout=60)
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert time.time() - t0 < 40
        assert len(r.wait_spans(2)) == 2


def test_fork_exec_under_preload():
    with Broker() as b, Receiver() as r:
        p = forker(b, "exec", "-n", "3", receiver=r, timeout=60)
        pids = [int(row["pid"]) for row in parse_lines("x " + p.stdout.replace("\n", "\nx "), "x")
                if "pid" in row]
        assert len(set(pids)) == 2, p.stdout
        spans = r.wait_spans(6)
        assert spans_by_pid(spans) == {pids[0]: 3, pids[1]: 3}, spans_by_pid(spans)
        assert len({s["span_id"] for s in spans}) == 6
