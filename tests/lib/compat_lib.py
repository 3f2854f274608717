"""Shared checks for the compatibility suite (tests/compat, make
test-compat): real programs under kotel, their spans and the traceparent
in the messages they send."""

import os
import subprocess
import threading

from kotel_chain import one
from kotel_test import BUILD, TIMEOUT_SCALE, named, of_service

# What make test-compat builds for the suite (the Go program, node-rdkafka).
COMPAT = os.path.join(BUILD, "compat")


def no_errors(spans):
    """No span ended with an error status or an error.type."""
    bad = [s for s in spans if s["status"]["code"] == 2 or "error.type" in s["attributes"]]
    assert not bad, "spans with errors: %s" % bad[:3]


def tp_of(span):
    return "00-%s-%s-01" % (span["trace_id"], span["span_id"])


def check_send_spans(spans, service, topic, drs):
    """One root PRODUCER span "send TOPIC" of @service per delivery row in
    @drs ({key, partition, offset}) with that partition and offset;
    returns {key: span}."""
    sends = {}
    for d in drs:
        s = one(spans, service, "send " + topic, d["key"])
        assert s["kind"] == "PRODUCER", s
        assert s["parent_span_id"] == "", s
        a = s["attributes"]
        assert a["messaging.system"] == "kafka" and a["messaging.destination.name"] == topic, a
        assert a["messaging.destination.partition.id"] == d["partition"], (a, d)
        assert a["messaging.kafka.offset"] == int(d["offset"]), (a, d)
        sends[d["key"]] = s
    assert len(named(of_service(spans, service), "send " + topic)) == len(drs)
    # One trace per message.
    assert len({s["trace_id"] for s in sends.values()}) == len(drs)
    return sends


def check_traced(msgs, sends):
    """Each consumed row ({key, traceparent}) carries the traceparent of
    its message's send span."""
    for m in msgs:
        assert m["traceparent"] == tp_of(sends[m["key"]]), (m, sends[m["key"]])


def run_held(cmd, env, receiver, pred, timeout=90):
    """Runs @cmd, a program that prints "closed" once it has shut its
    clients down and then waits for its standard input to end; waits for
    that line, then for pred(spans) at @receiver, then ends its input.
    Returns (stdout, stderr, spans); asserts a zero exit status.

    For runtimes that end without C exit handlers (Go): the spans are
    waited for while the process is alive, so the test does not depend on
    what happens to a queue at a raw exit."""
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = [], []
    closed = threading.Event()

    def read_out():
        for line in p.stdout:
            out.append(line)
            if line.strip() == "closed":
                closed.set()
        closed.set()

    def read_err():
        err.append(p.stderr.read())

    threads = [threading.Thread(target=read_out, daemon=True),
               threading.Thread(target=read_err, daemon=True)]
    for t in threads:
        t.start()
    try:
        closed.wait(timeout * TIMEOUT_SCALE)
        spans = receiver.wait_for(pred, timeout=30) if p.poll() is None else []
    finally:
        p.stdin.close()
        try:
            p.wait(timeout * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for t in threads:
        t.join(10)
    stdout, stderr = "".join(out), "".join(err)
    assert p.returncode == 0 and "closed" in stdout, "%s exited %s\nstdout:\n%s\nstderr:\n%s" % (
        cmd, p.returncode, stdout[-3000:], stderr[-3000:])
    return stdout, stderr, spans


def at(spans, service, name, partition, offset):
    """The single span of @service named @name for the message at
    @partition/@offset (for programs whose keys do not tell messages apart)."""
    got = [s for s in named(of_service(spans, service), name)
           if s["attributes"].get("messaging.destination.partition.id") == str(partition)
           and s["attributes"].get("messaging.kafka.offset") == int(offset)]
    assert len(got) == 1, "%s %s %s/%s: %d spans" % (service, name, partition, offset, len(got))
    return got[0]


def check_consumed_by_offset(spans, producer, consumer, topic, msgs):
    """Each consumed row ({partition, offset, traceparent}) has a root send
    span of @producer at that partition and offset, carries its
    traceparent, and @consumer's process span of it is its child."""
    for m in msgs:
        send = at(spans, producer, "send " + topic, m["partition"], m["offset"])
        assert send["kind"] == "PRODUCER" and send["parent_span_id"] == "", send
        assert m["traceparent"] == tp_of(send), (m, send)
        proc = at(spans, consumer, "process " + topic, m["partition"], m["offset"])
        assert proc["kind"] == "CONSUMER", proc
        assert proc["parent_span_id"] == send["span_id"] and proc["trace_id"] == send["trace_id"]


def check_pair(spans, producer, consumer, topic, drs, msgs, group=None):
    """A producer's delivery rows @drs and a consumer's rows @msgs of the
    same messages (keys k0..): root send spans with partition and offset,
    the traceparent in each consumed message, each process span (CONSUMER,
    with the group, partition and offset) the child of its send span, and
    no span in error."""
    assert len(msgs) == len(drs), (drs, msgs)
    no_errors(spans)
    sends = check_send_spans(spans, producer, topic, drs)
    check_traced(msgs, sends)
    for m in msgs:
        proc = one(spans, consumer, "process " + topic, m["key"])
        send = sends[m["key"]]
        assert proc["kind"] == "CONSUMER", proc
        assert proc["parent_span_id"] == send["span_id"], (proc, send)
        assert proc["trace_id"] == send["trace_id"]
        a = proc["attributes"]
        if group is not None:
            assert a["messaging.consumer.group.name"] == group, a
        assert a["messaging.kafka.offset"] == int(m["offset"]), (a, m)
        assert a["messaging.destination.partition.id"] == m["partition"], (a, m)
    assert len(named(of_service(spans, consumer), "process " + topic)) == len(msgs)
