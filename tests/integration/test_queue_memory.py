"""Memory at large queue sizes: a 16 M span queue costs nothing until it is
used, and the queue is capped by KOTEL_QUEUE_MEMORY_LIMIT, beyond which
spans are dropped and counted like any full queue."""

import re
import subprocess
import time

from exporter_helpers import FORKER, produce
from kotel_test import Broker, Receiver, agent_env


def idle_rss_kb(b, r, extra):
    """VmRSS of a producer that sent 2 messages (exporter running) and now
    waits for stdin to close."""
    env = agent_env(r, "idle", **extra)
    p = subprocess.Popen([FORKER, "-b", b.bootstrap, "-n", "2", "hold"], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        lines = [p.stdout.readline(), p.stdout.readline()]
        assert "ready\n" in lines, lines
        time.sleep(0.2)
        with open("/proc/%d/status" % p.pid) as f:
            rss = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")][0]
    finally:
        p.stdin.close()
        rc = p.wait(60)
    assert rc == 0, p.stderr.read()
    return rss


def test_large_queue_idles_at_small_rss():
    # Before: 275 MB resident at idle with OTEL_BSP_MAX_QUEUE_SIZE=16777216
    # (every cell of the ring written at start-up), 13 MB with the default.
    with Broker() as b, Receiver() as r:
        base = idle_rss_kb(b, r, {})
        capped = idle_rss_kb(b, r, {"OTEL_BSP_MAX_QUEUE_SIZE": "16777216"})
        full = idle_rss_kb(b, r, {"OTEL_BSP_MAX_QUEUE_SIZE": "16777216",
                                  "KOTEL_QUEUE_MEMORY_LIMIT": "20000000000"})
        assert capped - base < 16 * 1024, (base, capped)
        assert full - base < 16 * 1024, (base, full)


def test_queue_capped_by_memory_budget_drops_and_counts():
    with Broker() as b, Receiver() as r:
        # The first requests stall, so the queue fills up behind them.
        r.script = [{"delay": 1.5}] * 2
        p, st = produce(b, 5000, receiver=r, env={
            "OTEL_BSP_MAX_QUEUE_SIZE": "16777216", "KOTEL_QUEUE_MEMORY_LIMIT": "1048576",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100", "OTEL_BSP_SCHEDULE_DELAY": "50",
            "KOTEL_SHUTDOWN_TIMEOUT": "60000"})
        m = re.search(r"OTEL_BSP_MAX_QUEUE_SIZE=16777216 .*\((\d+) a span\), over "
                      r"KOTEL_QUEUE_MEMORY_LIMIT=1048576; the queue holds (\d+) spans",
                      p.stderr)
        assert m, p.stderr
        per, cap = int(m.group(1)), int(m.group(2))
        # A span's pool slot and two ring cells (exporter/span.h).
        assert 256 <= per <= 1024, per
        assert cap == 1048576 // per, (per, cap)
        assert "span queue full (OTEL_BSP_MAX_QUEUE_SIZE=%d)" % cap in p.stderr, p.stderr
        assert st["started"] == 5000, st
        assert st["dropped"] > 0 and st["failed"] == 0, st
        assert st["exported"] + st["dropped"] == 5000, st
        assert len(r.spans) == st["exported"]
