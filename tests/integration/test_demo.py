"""`make demo` (scripts/demo.py, run here without the apt step): kcat ->
the Python enricher -> the C billing consumer, each under the agent, gives
one trace per order across the three processes, and the demo says so; it
fails when the traces do not come; its tree printer and its chain check
on hand-made spans."""

import json
import os
import subprocess
import sys
import tempfile

from kotel_chain import check_hop, one
from kotel_test import PRELOAD, PYTHON, ROOT, leak_checked

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import demo  # noqa: E402
import trace_tree  # noqa: E402

DEMO = os.path.join(ROOT, "scripts", "demo.py")
SERVICES = ("orders-api", "enricher", "billing")
KEYS = [k for k, _ in demo.ORDERS]


def run_demo(*args, timeout=120):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "spans.jsonl")
        p = subprocess.run([PYTHON, DEMO, "--spans-out", path, "--preload", PRELOAD] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=leak_checked([PYTHON], dict(os.environ, PYTHONIOENCODING="utf-8")),
                           encoding="utf-8",
                           timeout=timeout)
        spans = []
        if os.path.exists(path):
            with open(path) as f:
                spans = [json.loads(line) for line in f]
    return p.returncode, p.stdout, spans


def test_demo_one_trace_per_order_across_three_services():
    rc, out, spans = run_demo()
    assert rc == 0, out
    for k in KEYS:
        send = one(spans, "orders-api", "send orders", k)
        fproc = one(spans, "enricher", "process orders", k)
        fsend = one(spans, "enricher", "send orders.enriched", k)
        bproc = one(spans, "billing", "process orders.enriched", k)
        assert send["parent_span_id"] == "", send
        check_hop(send, fproc)
        assert fsend["parent_span_id"] == fproc["span_id"], (fproc, fsend)
        assert fsend["trace_id"] == send["trace_id"]
        check_hop(fsend, bproc)
        # Three processes, the first of them kcat itself.
        assert send["resource"]["process.executable.name"] == "kcat"
        pids = {s["resource"]["process.pid"] for s in (send, fproc, fsend, bproc)}
        assert len(pids) == 3, pids
        assert send["attributes"]["messaging.kafka.offset"] >= 0
        assert bproc["attributes"]["messaging.kafka.offset"] >= 0
    # The consumers' offset commits are traces of their own, counted apart.
    commits = [s for s in spans if s["name"].startswith("commit ")]
    assert all(s["kind"] == "CLIENT" and s["parent_span_id"] == "" for s in commits), commits
    assert len({s["trace_id"] for s in spans if s not in commits}) == len(KEYS)
    if commits:
        assert "%d commit spans (offset commits: " % len(commits) in out, out

    # The printed trees: one per order, the services in order, each hop
    # one level under the previous one.
    lines = out.splitlines()
    heads = [i for i, l in enumerate(lines) if l.startswith("trace ")]
    assert len(heads) == len(KEYS), out
    for i in heads:
        assert "orders-api \u2192 enricher \u2192 billing" in lines[i], lines[i]
        assert "4 spans in 3 processes" in lines[i], lines[i]
        body = lines[i + 1:i + 5]
        for depth, (svc, name, kind) in enumerate(demo.CHAIN):
            row = body[depth]
            tree_part = row[2:].split(name)[0]
            assert len(tree_part) == (3 * depth), (depth, row)
            assert (" %s " % kind) in row and (" %s [" % svc) in row, row
            assert "topic=" in row and "partition=" in row and "offset=" in row, row
            assert "key=order-10" in row, row
    assert "%d spans, %d traces, services: %s" % (4 * len(KEYS), len(KEYS),
                                                   ", ".join(SERVICES)) in out, out
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318" in out, out
    # The metrics next to the trace tree: each service's messages, counted
    # once each.
    assert "Metrics received" in out, out
    for svc, name in (("orders-api", "messaging.client.sent.messages"),
                      ("enricher", "messaging.client.consumed.messages"),
                      ("enricher", "messaging.client.sent.messages"),
                      ("billing", "messaging.client.consumed.messages"),
                      ("billing", "kotel.message.age")):
        row = [l for l in lines if l.split()[:2] == [svc, name]]
        assert len(row) == 1 and row[0].split()[2].rstrip(",") == str(len(KEYS)), (svc, name, out)
    assert "FAILED" not in out, out


def test_demo_fails_when_no_trace_arrives():
    # The agent turned off: the messages flow, no span comes, the demo
    # must say so and exit 1 once its deadline passes.
    rc, out, spans = run_demo("--timeout", "4", "--agent-env", "OTEL_SDK_DISABLED=true")
    assert rc == 1, out
    assert spans == [], spans
    assert "demo: FAILED" in out, out
    for k in KEYS:
        assert "%s: complete chain not found; spans seen: none" % k in out, out
    # It failed for want of spans, not because a program died.
    assert "exited" not in out, out


def span(name, sid, parent="", service="svc", kind="INTERNAL", start=0, end=1000000,
         trace="t1", **attrs):
    return {"trace_id": trace, "span_id": sid, "parent_span_id": parent, "name": name,
            "kind": kind, "start": start, "end": end, "attributes": attrs, "links": [],
            "resource": {"service.name": service, "process.pid": 1}}


class Utf8:
    encoding = "utf-8"


class Ascii:
    encoding = "ascii"


def test_trace_tree_shape_on_hand_made_spans():
    spans = [
        # Given out of order; children sorted by start time.
        span("c2", "s4", parent="s1", start=30000, end=40000),
        span("root", "s1", service="a", start=0, end=2500000,
             **{"messaging.destination.name": "orders",
                "messaging.destination.partition.id": "2",
                "messaging.kafka.offset": 7, "messaging.kafka.message.key": "k"}),
        span("c1", "s2", parent="s1", service="b", start=10000, end=20000),
        span("gc", "s3", parent="s2", service="b", start=15000, end=16000),
        span("lost", "s9", parent="nothere0000", trace="t2", start=5000, end=1200005000),
    ]
    text = trace_tree.render(spans, Utf8())
    lines = text.splitlines()
    assert lines[0].startswith("trace t1: a \u2192 b \u2192 svc, 4 spans in 3 processes"), lines
    assert lines[1].startswith("  root ") and " INTERNAL " in lines[1], lines[1]
    assert lines[2].startswith("  \u251c\u2500 c1 "), lines[2]
    assert lines[3].startswith("  \u2502  \u2514\u2500 gc "), lines[3]
    assert lines[4].startswith("  \u2514\u2500 c2 "), lines[4]
    assert "topic=orders partition=2 offset=7 key=k" in lines[1], lines[1]
    assert " 2.50 ms " in lines[1], lines[1]
    assert lines[5] == "", lines
    # A span whose parent never came is a root and says so.
    assert lines[6].startswith("trace t2: svc, 1 span in 1 process, 1.20 s"), lines
    assert "lost (parent nothere0 not received)" in lines[7], lines[7]
    assert lines[-1] == "5 spans, 2 traces, services: a, svc, b", lines[-1]
    assert lines[2].endswith(" 10 \u00b5s") and lines[3].endswith(" 1 \u00b5s"), lines
    ascii_text = trace_tree.render(spans, Ascii())
    assert " 10 us\n" in ascii_text, ascii_text
    assert "`- c2" in ascii_text and "|- c1" in ascii_text, ascii_text
    ascii_text.encode("ascii")
    assert trace_tree.render([], Utf8()) == "0 spans, 0 traces, services: none"


def test_demo_chain_check_rejects_broken_chains():
    def chain(key, trace="t", break_at=None):
        spans, parent = [], ""
        for i, (svc, name, kind) in enumerate(demo.CHAIN):
            sid = "%s-%d" % (key, i)
            s = span(name, sid, parent=parent, service=svc, kind=kind, trace=trace,
                     start=i, end=i + 1, **{"messaging.kafka.message.key": key})
            if i == break_at:
                s["parent_span_id"] = "elsewhere"
            spans.append(s)
            parent = sid
        return spans

    good = chain("a")
    assert list(demo.find_chains(good)) == ["a"]
    assert demo.find_chains(chain("a", break_at=3)) == {}
    assert demo.find_chains(chain("a", break_at=1)) == {}
    # The forwarder's send not under its process span: a new trace.
    broken = chain("a")
    broken[2]["parent_span_id"] = ""
    assert demo.find_chains(broken) == {}
    # Hops of one message split over two traces.
    split = chain("a")
    for s in split[2:]:
        s["trace_id"] = "other"
    assert demo.find_chains(split) == {}
    # Wrong service on a hop, and what the demo then reports.
    wrong = chain(KEYS[0])
    wrong[1]["resource"]["service.name"] = "billing"
    assert demo.find_chains(wrong) == {}
    report = demo.missing_report(wrong)
    assert len(report) == len(KEYS), report
    assert report[0].startswith("  %s: complete chain not found; spans seen: " % KEYS[0])
    assert "billing: process orders" in report[0], report
    # The demo is done only when every order has its chain.
    every = [s for k in KEYS for s in chain(k, trace=k)]
    assert demo.all_complete(every)
    assert not demo.all_complete([s for s in every if s["span_id"] != KEYS[-1] + "-3"])
