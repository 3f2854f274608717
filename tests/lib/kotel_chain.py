"""Checks for end-to-end traces across processes: producer -> forwarder ->
consumer, matched per message by key (the test clients use keys k0..kN-1
and forward with the same key)."""

from kotel_test import named, of_service, parse_lines


def one(spans, service, name, key):
    """The single span of @service named @name for message key @key."""
    got = [s for s in named(of_service(spans, service), name)
           if s["attributes"].get("messaging.kafka.message.key") == key]
    assert len(got) == 1, "%s %s %s: %d spans" % (service, name, key, len(got))
    return got[0]


def check_hop(send, proc):
    """@proc (CONSUMER) continues @send (PRODUCER) in the same trace."""
    assert send["kind"] == "PRODUCER" and proc["kind"] == "CONSUMER", (send, proc)
    assert proc["parent_span_id"] == send["span_id"], (proc, send)
    assert proc["trace_id"] == send["trace_id"]


def check_chain(spans, n, origin="origin", forwarder="forwarder", sink="sink",
                topic_in="in", topic_out="out", sink_out=None):
    """Asserts one trace per message, each hop the child of the previous hop
    of the same message; returns {key: (send, fproc, fsend, cproc)}."""
    hops = {}
    for i in range(n):
        k = "k%d" % i
        send = one(spans, origin, "send " + topic_in, k)
        fproc = one(spans, forwarder, "process " + topic_in, k)
        fsend = one(spans, forwarder, "send " + topic_out, k)
        cproc = one(spans, sink, "process " + topic_out, k)
        assert send["parent_span_id"] == "", send
        check_hop(send, fproc)
        assert fsend["parent_span_id"] == fproc["span_id"], \
            "%s: forwarder's send is not a child of its own process span" % k
        check_hop(fsend, cproc)
        hops[k] = (send, fproc, fsend, cproc)
    # One trace per message, not one for all.
    assert len({h[0]["trace_id"] for h in hops.values()}) == n
    if sink_out is not None:
        # What the sink received carries the forwarder's send context.
        rows = parse_lines(sink_out, "msg")
        assert len(rows) == n, sink_out
        for row in rows:
            fsend = hops[row["key"]][2]
            assert row["traceparent"] == "00-%s-%s-01" % (fsend["trace_id"],
                                                          fsend["span_id"])
    return hops
