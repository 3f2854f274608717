"""`make demo` (scripts/demo.py, run here without the apt step): kcat ->
the Python enricher -> the C billing consumer, each under the agent, gives
one trace per order across the three processes, and the demo says so; the
misrouted order's failed send has kotel's log record of the failure under
it; the demo stops as soon as all that came; it fails when the traces do
not come; its tree printer (with log records) and its chain check on
hand-made spans."""

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


def run_demo(*args, timeout=120, logs=None):
    """(exit status, output, spans); the log records are put in @logs."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "spans.jsonl")
        lpath = os.path.join(d, "logs.jsonl")
        p = subprocess.run([PYTHON, DEMO, "--spans-out", path, "--logs-out", lpath,
                            "--preload", PRELOAD] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=leak_checked([PYTHON], dict(os.environ, PYTHONIOENCODING="utf-8")),
                           encoding="utf-8",
                           timeout=timeout)
        spans = []
        if os.path.exists(path):
            with open(path) as f:
                spans = [json.loads(line) for line in f]
        if logs is not None and os.path.exists(lpath):
            with open(lpath) as f:
                logs.extend(json.loads(line) for line in f)
    return p.returncode, p.stdout, spans


def test_demo_one_trace_per_order_across_three_services():
    logs = []
    rc, out, spans = run_demo(logs=logs)
    assert rc == 0, out
    # It stopped once everything had come, not at its 30 s deadline.
    assert "Traces received by the OTLP receiver (complete " in out, out
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
    # The misrouted order: kcat's send, the enricher's process and its
    # failed send, in one trace that billing never sees.
    bad = demo.MISROUTED[0]
    msend = one(spans, "orders-api", "send orders", bad)
    mproc = one(spans, "enricher", "process orders", bad)
    mfail = one(spans, "enricher", "send orders.enriched", bad)
    check_hop(msend, mproc)
    assert mfail["parent_span_id"] == mproc["span_id"] and mfail["trace_id"] == msend["trace_id"]
    assert mfail["attributes"]["error.type"] == "_UNKNOWN_PARTITION", mfail
    assert not [s for s in spans if s["resource"]["service.name"] == "billing" and
                s["attributes"].get("messaging.kafka.message.key") == bad]
    # The consumers' offset commits are traces of their own, counted apart.
    commits = [s for s in spans if s["name"].startswith("commit ")]
    assert all(s["kind"] == "CLIENT" and s["parent_span_id"] == "" for s in commits), commits
    assert len({s["trace_id"] for s in spans if s not in commits}) == len(KEYS) + 1
    if commits:
        assert "%d commit spans (offset commits: " % len(commits) in out, out
    # kotel's record of the failed delivery carries that send span's ids.
    dr = [r for r in logs if r["attributes"].get("kotel.kafka.log.facility") == "DR"]
    assert len(dr) == 1, logs
    assert (dr[0]["trace_id"], dr[0]["span_id"]) == (mfail["trace_id"], mfail["span_id"])
    assert dr[0]["attributes"]["error.type"] == "_UNKNOWN_PARTITION"
    assert dr[0]["resource"]["service.name"] == "enricher"
    assert dr[0]["body"] == "Delivery failed: orders.enriched [7]: Local: Unknown partition"

    # The printed trees: one per order, the services in order, each hop
    # one level under the previous one.
    lines = out.splitlines()
    heads = [i for i, l in enumerate(lines) if l.startswith("trace ")]
    assert len(heads) == len(KEYS) + 1, out
    mhead = [i for i in heads if lines[i].startswith("trace %s: " % mfail["trace_id"])]
    assert len(mhead) == 1, out
    heads.remove(mhead[0])
    # The misrouted order's tree: its failed send, then the log record
    # printed under it, one level deeper.
    m = mhead[0]
    assert "orders-api \u2192 enricher, 3 spans in 2 processes" in lines[m], lines[m]
    assert "\u2514\u2500 send orders.enriched " in lines[m + 3], lines[m + 3]
    assert "error=_UNKNOWN_PARTITION" in lines[m + 3], lines[m + 3]
    log_row = lines[m + 4]
    assert log_row == " " * 11 + "\u25b8 log err DR: " + dr[0]["body"], log_row
    assert lines[m + 5] == "", lines[m + 5]
    assert "%d log record%s: %d under the span in progress when it was logged" % (
        len(logs), "" if len(logs) == 1 else "s",
        sum(1 for r in logs if (r["trace_id"], r["span_id"]) in
            {(s["trace_id"], s["span_id"]) for s in spans})) in out, out
    assert "%s's trace ends at the enricher's failed send" % bad in out, out
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
    assert "%d spans, %d traces, services: %s" % (4 * len(KEYS) + 3, len(KEYS) + 1,
                                                   ", ".join(SERVICES)) in out, out
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318" in out, out
    # The metrics next to the trace tree: each service's messages, counted
    # once each (the misrouted order everywhere but in billing; its failed
    # send is a sent message with an error.type).
    assert "Metrics received" in out, out
    for svc, name, n in (("orders-api", "messaging.client.sent.messages", len(KEYS) + 1),
                         ("enricher", "messaging.client.consumed.messages", len(KEYS) + 1),
                         ("enricher", "messaging.client.sent.messages", len(KEYS) + 1),
                         ("billing", "messaging.client.consumed.messages", len(KEYS)),
                         ("billing", "kotel.message.age", len(KEYS))):
        row = [l for l in lines if l.split()[:2] == [svc, name]]
        assert len(row) == 1 and row[0].split()[2].rstrip(",") == str(n), (svc, name, out)
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


def test_trace_tree_prints_log_records_under_their_spans():
    spans = [
        span("root", "s1", start=0),
        span("kid", "s2", parent="s1", start=10),
        span("other", "s9", trace="t2", start=20),
    ]

    def rec(body, trace="t1", sid="s1", t=0, fac="FAIL"):
        return {"trace_id": trace, "span_id": sid, "severity_text": "err", "body": body,
                "time": t, "attributes": {"kotel.kafka.log.facility": fac}}

    logs = [rec("second", t=2), rec("first", t=1), rec("of the kid", sid="s2", fac="DR"),
            rec("x" * 200, trace="t2", sid="s9"),
            rec("span not received", sid="s7"), rec("no trace", trace="", sid="")]
    lines = trace_tree.render(spans, Utf8(), logs).splitlines()
    # Under the root, above its child, in time order; the pipe goes on
    # down to the child.
    assert lines[1].startswith("  root "), lines
    assert lines[2] == "  \u2502  \u25b8 log err FAIL: first", lines
    assert lines[3] == "  \u2502  \u25b8 log err FAIL: second", lines
    assert lines[4].startswith("  \u2514\u2500 kid "), lines
    assert lines[5] == "        \u25b8 log err DR: of the kid", lines
    assert lines[6] == ""
    # At its span's children's depth when it has none; a long body is cut.
    assert lines[9] == "     \u25b8 log err FAIL: " + "x" * 107 + "...", lines
    assert lines[-1] == ("6 log records: 4 under the span in progress when it was logged, "
                         "2 in no span above"), lines
    ascii_lines = trace_tree.render(spans, Ascii(), logs).splitlines()
    assert ascii_lines[2] == "  |  > log err FAIL: first", ascii_lines
    # Without logs, no log line and no count.
    assert "log" not in trace_tree.render(spans, Utf8())


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
