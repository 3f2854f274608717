"""`make bench-quick` (scripts/bench.py --quick): the benchmark driver runs
one short round of every configuration and its output has every row and
column of the CPU-per-message table with plausible numbers (CPU per
message positive, the exporter's column only where the agent exports),
the exporter's instructions per span from callgrind, and says how the
consumers avoid librdkafka's fetch stall. A smoke check of the harness: no
timing or performance target is checked here (docs/performance.md)."""

import os
import re
import subprocess
import tempfile

from kotel_test import BUILD, PYTHON, ROOT, TIMEOUT_SCALE

BENCH = os.path.join(ROOT, "scripts", "bench.py")

PRODUCER = ("no agent", "no agent, the app adds a 55-byte traceparent itself (floor)",
            "agent, OTEL_SDK_DISABLED=true", "agent, traceidratio 0",
            "agent, 100 % sampled, collector up", "agent, 100 % sampled, collector up, gzip",
            "agent, 100 % sampled, collector down",
            "agent, 100 % sampled, collector up, metrics off")
CONSUMER = ("no agent", "agent, OTEL_SDK_DISABLED=true", "agent, traceidratio 0",
            "agent, 100 % sampled, collector up", "agent, 100 % sampled, collector down",
            "agent, 100 % sampled, collector up, metrics off")
# Where the agent records spans to export, and where it does not.
EXPORTS = ("agent, 100 % sampled, collector up", "agent, 100 % sampled, collector up, gzip",
           "agent, 100 % sampled, collector up, metrics off",
           "agent, 100 % sampled, collector down")
COLUMNS = ["configuration", "app thread", "librdkafka threads (rdk:*)", "kotel exporter",
           "other", "process total", "app above ref", "librdkafka above ref",
           "total above ref", "throughput"]

_out = None


def bench_output():
    global _out
    if _out is None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.md")
            p = subprocess.run([PYTHON, BENCH, "--quick", "--out", path],
                               env=dict(os.environ, KOTEL_BUILD=BUILD),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=600 * TIMEOUT_SCALE)
            assert p.returncode == 0, p.stdout[-4000:]
            with open(path) as f:
                _out = f.read()
    return _out


def cpu_table(out):
    lines = out.splitlines()
    head = [i for i, l in enumerate(lines) if l.startswith("| configuration | app thread")]
    assert len(head) == 1, out
    i = head[0]
    assert [c.strip() for c in lines[i].strip("|").split("|")] == COLUMNS, lines[i]
    rows = {}
    for l in lines[i + 2:]:
        if not l.startswith("|"):
            break
        cells = [c.strip() for c in l.strip("|").split("|")]
        assert len(cells) == len(COLUMNS), l
        rows[cells[0]] = dict(zip(COLUMNS, cells))
    return rows


def test_bench_quick_reports_cpu_per_message_for_every_configuration():
    out = bench_output()
    rows = cpu_table(out)
    want = ["producer producev: " + c for c in PRODUCER] + \
        ["consumer consumer_poll: " + c for c in CONSUMER]
    assert sorted(rows) == sorted(want), (sorted(rows), out)
    for name, r in rows.items():
        app, rdk = float(r["app thread"]), float(r["librdkafka threads (rdk:*)"])
        other, total = float(r["other"]), float(r["process total"])
        # Every configuration's app thread works for every message, and a
        # producer's librdkafka threads too (a consumer's have fetched its
        # backlog before the window: kbench --prefetch); the total holds
        # them.
        assert app > 0 and rdk >= 0 and other >= 0, (name, r)
        if name.startswith("producer"):
            assert rdk > 0, (name, r)
        assert total >= app + rdk - 0.02, (name, r)
        for k in ("app above ref", "librdkafka above ref", "total above ref"):
            float(r[k])
        assert re.match(r"^\d+ k msgs/s \(\d+\.\d\dx\)$", r["throughput"]), (name, r)
        exp = r["kotel exporter"]
        if name.split(": ", 1)[1] in EXPORTS:
            assert float(exp) >= 0 and total >= app + rdk + float(exp) - 0.02, (name, r)
        else:
            assert exp == "–", (name, r)
    # With the collector up the exporter works inside a producer's window
    # (the quick consumer's window is too short to be sure of that).
    for name in ("producer producev: agent, 100 % sampled, collector up",
                 "producer producev: agent, 100 % sampled, collector up, gzip"):
        assert float(rows[name]["kotel exporter"]) > 0, rows[name]
    # The floor is the producer's reference row, no agent the consumer's.
    assert float(rows[want[1]]["total above ref"]) == 0, rows[want[1]]
    assert float(rows["consumer consumer_poll: no agent"]["total above ref"]) == 0


def test_bench_quick_reports_exporter_instructions_and_the_fetch_stall_setting():
    out = bench_output()
    for st in ("encode", "encode+gzip", "send-none", "send-gzip"):
        m = re.search(r"^\| exporter: %s, instructions per span \(callgrind\) \| (\d+) Ir/span \|"
                      % re.escape(st), out, re.M)
        assert m and int(m.group(1)) > 0, (st, out)
    m = re.search(r"queued\.min\.messages=(\d+) \(at least the backlog\)", out)
    assert m and int(m.group(1)) >= 100000, out
    assert "QUICK MODE" in out
    assert "kbench --prefetch" in out
    # Every row with a target says met or NOT met; the producer's metrics
    # on/off rows have none (its metrics run on librdkafka's thread), nor
    # has the consumer's whole-run metrics row (its target is on the
    # in-process rows).
    rows = [[c.strip() for c in l.strip().strip("|").split("|")]
            for l in out.splitlines() if l.startswith(("| CPU per", "| metrics recording"))]
    targets = [c for c in rows if c[3]]
    assert len(targets) >= 14, out
    assert all(c[4] in ("met", "NOT met") for c in targets), targets
    assert [c for c in rows if not c[3]] == [
        c for c in rows if "producer producev, metrics on" in c[0] or "whole runs" in c[0]]
    # Metrics' cost per consumed message in one process (conbench), at
    # ratio 0 and 100 %, against the 50 ns target.
    m = re.findall(r"^\| CPU per message, consumer, [^|]*metrics on above metrics off, app "
                   r"thread, in one process \(conbench[^|]*\| ([+-][\d.]+) ns \(off (\d+) ns\) "
                   r"\|[^|]*\| <= 50 ns \|", out, re.M)
    assert len(m) == 2 and all(int(off) > 0 for _, off in m), out
    # The whole-run rows' two controls: every thread on one CPU, and the
    # app's own timed work (kbench -w) above none.
    m = re.findall(r"^\| CPU per message, consumer consumer_poll, metrics on above metrics off, "
                   r"app thread, whole runs with all threads on one CPU \(\d+ pairs[^|]*\| "
                   r"([+-][\d.]+) us \|", out, re.M)
    assert len(m) == 1, out
    m = re.findall(r"^\| CPU per message, consumer consumer_poll, 100 %, metrics off, the app's "
                   r"own work of (\d+) ns per message \(kbench -w \d+, timed alone\)[^|]*\| "
                   r"([+-][\d.]+) us \|", out, re.M)
    assert len(m) == 1 and int(m[0][0]) > 0, out
    # The instruments' own cost per consumed message, four cases.
    m = re.findall(r"^\| metrics recording per consumed message \(metricsbench\)[^|]*\| "
                   r"([\d.]+) / ([\d.]+) ns", out, re.M)
    assert len(m) == 4 and all(float(on) > 0 and float(off) > 0 for on, off in m), out
