"""OTEL_PROPAGATORS (tracecontext, baggage, none), strict W3C parsing of
consumed headers, tracestate carried through, and KOTEL_PROCESS_PARENT."""

from kotel_test import Broker, Receiver, named, of_service, stats
from semantics_lib import TP_SAMPLED, log_lines, rows, semclient, tp_fields

BAGGAGE = "userId=alice,tier=gold;p=1"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def forward(b, r, n, headers, env=None, fwd_headers=()):
    """Produces N messages with exactly HEADERS (no agent), forwards them
    under the agent, and returns (consumer run, forwarded message rows)."""
    args = []
    for h in headers:
        args += ["-H", h]
    semclient(b, "produce", "-t", "in", "-n", str(n), *args, preload=False)
    fargs = []
    for h in fwd_headers:
        fargs += ["-H", h]
    c = semclient(b, "consume", "-t", "in", "-n", str(n), "-o", "out", *fargs,
                  receiver=r, service="fwd", env=env)
    o = semclient(b, "consume", "-t", "out", "-n", str(n), preload=False)
    return c, rows(o.stdout, "msg")


def test_baggage_forwarded_from_consumed_message():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 2, ["traceparent=" + TP_SAMPLED, "baggage=" + BAGGAGE])
        assert len(outs) == 2
        for m in outs:
            assert m["baggage"] == BAGGAGE, m
            assert tp_fields(m["traceparent"])[0] == TRACE


def test_baggage_forwarded_without_traceparent():
    # Baggage rides with the consumed message even when it has no trace.
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["baggage=" + BAGGAGE])
        assert outs[0]["baggage"] == BAGGAGE, outs


def test_app_baggage_wins():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["baggage=" + BAGGAGE], fwd_headers=["baggage=mine=1"])
        assert outs[0]["baggage"] == "mine=1", outs
        assert outs[0]["nhdrs"] == "2", outs  # baggage + traceparent, no duplicate


def test_invalid_baggage_not_propagated_and_logged_once():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 3, ["traceparent=" + TP_SAMPLED, "baggage=no equals sign"])
        assert all("baggage" not in m for m in outs), outs
        assert len(log_lines(c.stderr, "invalid baggage")) == 1, c.stderr


def test_propagators_tracecontext_only_drops_baggage():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED, "baggage=" + BAGGAGE],
                          env={"OTEL_PROPAGATORS": "tracecontext"})
        assert "baggage" not in outs[0] and tp_fields(outs[0]["traceparent"])[0] == TRACE


def test_propagators_baggage_only():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED, "baggage=" + BAGGAGE],
                          env={"OTEL_PROPAGATORS": "baggage"})
        assert outs[0]["baggage"] == BAGGAGE and "traceparent" not in outs[0], outs
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1)
        # The incoming traceparent was not extracted: a new root.
        proc = named(spans, "process in")[0]
        assert proc["trace_id"] != TRACE and proc["parent_span_id"] == "" and not proc["links"]


def test_propagators_none_injects_and_extracts_nothing():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "2", receiver=r,
                      env={"OTEL_PROPAGATORS": "none"})
        assert all(d["nhdrs"] == "0" for d in rows(p.stdout, "dr")), p.stdout
        assert stats(p.stderr)["started"] == 2  # still traced, just not propagated
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED, "baggage=" + BAGGAGE],
                          env={"OTEL_PROPAGATORS": "none"})
        # The forwarded message carries nothing of ours (the app sent none).
        assert outs[0]["nhdrs"] == "0", outs
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1)
        proc = named(spans, "process in")[0]
        assert proc["trace_id"] != TRACE and proc["parent_span_id"] == ""


def test_unknown_propagator_logged():
    with Broker(["in:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "1", receiver=r,
                      env={"OTEL_PROPAGATORS": "tracecontext,b3"})
        assert len(log_lines(p.stderr, "OTEL_PROPAGATORS")) == 1, p.stderr
        assert rows(p.stdout, "dr")[0]["traceparent_count"] == 1


BAD_TRACEPARENTS = [
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  # bad length
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",  # v00 too long
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
    "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",  # non-hex
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
]


def test_bad_traceparent_is_absent_and_logged_once():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        for tp in BAD_TRACEPARENTS:
            semclient(b, "produce", "-t", "in", "-n", "2", "-H", "traceparent=" + tp,
                      preload=False)
        n = 2 * len(BAD_TRACEPARENTS)
        c = semclient(b, "consume", "-t", "in", "-n", str(n), "-o", "out",
                      receiver=r, service="fwd")
        assert len(log_lines(c.stderr, "invalid traceparent")) == 1, c.stderr
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= n)
        procs = named(spans, "process in")
        assert len(procs) == n
        for p in procs:
            assert p["parent_span_id"] == "" and p["links"] == [], p
            assert p["trace_id"] != TRACE
        # What the app forwarded carries our valid traceparent instead.
        o = semclient(b, "consume", "-t", "out", "-n", str(n), preload=False)
        for m in rows(o.stdout, "msg"):
            assert m["traceparent_count"] == 1
            assert tp_fields(m["traceparent"])[0] != TRACE


def test_tracestate_carried_through():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED,
                                    "tracestate=vendor=abc,other@sys=x y"])
        assert outs[0]["tracestate"] == "vendor=abc,other@sys=x", outs  # split on spaces
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1 and
                           len(named(s, "send out")) >= 1)
        assert named(spans, "process in")[0]["trace_state"] == "vendor=abc,other@sys=x y"
        assert named(spans, "send out")[0]["trace_state"] == "vendor=abc,other@sys=x y"


def test_invalid_tracestate_dropped():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED, "tracestate=Bad=Key"])
        assert "tracestate" not in outs[0], outs
        assert tp_fields(outs[0]["traceparent"])[0] == TRACE
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1)
        assert named(spans, "process in")[0]["trace_state"] == ""


def test_process_parent_default_is_parent():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        forward(b, r, 1, ["traceparent=" + TP_SAMPLED])
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1)
        p = named(spans, "process in")[0]
        assert p["trace_id"] == TRACE and p["parent_span_id"] == "00f067aa0ba902b7"


def test_process_parent_link():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED],
                          env={"KOTEL_PROCESS_PARENT": "link"})
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1 and
                           len(named(s, "send out")) >= 1)
        p = named(spans, "process in")[0]
        assert p["parent_span_id"] == "" and p["trace_id"] != TRACE, p
        assert p["links"] == [{"trace_id": TRACE, "span_id": "00f067aa0ba902b7", "flags": 1}]
        # What it produces continues the process span's (new) trace.
        send = named(spans, "send out")[0]
        assert send["trace_id"] == p["trace_id"] and send["parent_span_id"] == p["span_id"]
        assert tp_fields(outs[0]["traceparent"])[0] == p["trace_id"]


def test_process_parent_invalid_logged():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        c, outs = forward(b, r, 1, ["traceparent=" + TP_SAMPLED],
                          env={"KOTEL_PROCESS_PARENT": "sibling"})
        assert len(log_lines(c.stderr, "KOTEL_PROCESS_PARENT")) == 1, c.stderr
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= 1)
        assert named(spans, "process in")[0]["parent_span_id"] == "00f067aa0ba902b7"


def test_orphan_tracestate_not_sent_with_a_new_traceparent():
    # The app's headers carry a tracestate but no valid traceparent (e.g.
    # copied from a message of another system): the send span starts a new
    # trace, and the old tracestate must not travel with its traceparent.
    with Broker(["in:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "in", "-n", "1", "-H", "tracestate=stale=1",
                  receiver=r, service="p")
        semclient(b, "produce", "-t", "in", "-n", "1",
                  "-H", "traceparent=00-BAD-00f067aa0ba902b7-01",
                  "-H", "tracestate=stale=2", receiver=r, service="p")
        o = semclient(b, "consume", "-t", "in", "-n", "2", preload=False)
        msgs = rows(o.stdout, "msg")
        assert len(msgs) == 2, o.stdout
        for m in msgs:
            assert "tracestate" not in m, m
            assert m["traceparent_count"] == 1
            assert tp_fields(m["traceparent"])[0] != TRACE
        spans = r.wait_for(lambda s: len(named(s, "send in")) >= 2)
        assert [s["trace_state"] for s in named(spans, "send in")] == ["", ""]
