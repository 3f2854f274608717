"""Python's confluent_kafka (Debian's, which loads librdkafka RTLD_LOCAL)
under the agent: delivery callbacks untouched, spans for every message, and
one trace through a Python forwarder even though Python destroys each
message inside poll(), before the app processes it."""

import os

from kotel_chain import check_chain, check_hop, one
from kotel_test import (PYTHON, ROOT, Broker, Receiver, agent_env, named,
                        of_service, parse_lines, run)

CLIENTS = os.path.join(ROOT, "tests", "clients")
N = 5
SLEEP_MS = 100


def py(script, broker, *args, receiver=None, service="py", preload=True):
    env = agent_env(receiver, service, preload=preload)
    return run([PYTHON, os.path.join(CLIENTS, script), broker.bootstrap] +
               [str(a) for a in args], env)


def test_python_producer_delivery_callbacks_unchanged():
    with Broker(["in:1", "plain:1"]) as b, Receiver() as r:
        plain = py("py_produce.py", b, "plain", N, preload=False)
        traced = py("py_produce.py", b, "in", N, receiver=r, service="origin")
        want = parse_lines(plain.stdout, "dr")
        got = parse_lines(traced.stdout, "dr")
        # Called once per message, in the same order, with the same outcome.
        assert [d["key"] for d in got] == [d["key"] for d in want] == \
            ["k%d" % i for i in range(N)]
        assert all(d["err"] == "NO_ERROR" for d in got), traced.stdout
        spans = r.wait_for(lambda s: len(named(s, "send in")) >= N)
        assert len(named(of_service(spans, "origin"), "send in")) == N
        for d in got:
            s = one(spans, "origin", "send in", d["key"])
            assert s["attributes"]["messaging.kafka.offset"] == int(d["offset"])
            assert s["attributes"]["messaging.client.id"] == "pyclient"
            assert s["parent_span_id"] == ""
        # The traceparent went out with the messages: a plain consumer
        # (no agent) reads each send span's context from the headers.
        c = py("py_consume.py", b, "in", N, "check", preload=False)
        rows = parse_lines(c.stdout, "msg")
        assert len(rows) == N, c.stdout
        for row in rows:
            s = one(spans, "origin", "send in", row["key"])
            assert row["traceparent"] == "00-%s-%s-01" % (s["trace_id"], s["span_id"])


def test_python_group_consumer():
    with Broker(["in:1"]) as b, Receiver() as r:
        py("py_produce.py", b, "in", N, receiver=r, service="origin")
        c = py("py_consume.py", b, "in", N, "pygroup", "--sleep", SLEEP_MS,
               receiver=r, service="sink")
        assert len(parse_lines(c.stdout, "msg")) == N, c.stdout
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= N)
        for i in range(N):
            k = "k%d" % i
            send = one(spans, "origin", "send in", k)
            proc = one(spans, "sink", "process in", k)
            check_hop(send, proc)
            assert proc["attributes"]["messaging.consumer.group.name"] == "pygroup"
            # Python destroyed the message inside poll(); the span still
            # covers the processing that followed, until the next poll.
            assert proc["end"] - proc["start"] >= SLEEP_MS * 1e6, proc


def forward_chain(*fwd_args):
    """origin (Python) -> forwarder (Python, @fwd_args) -> sink (Python);
    returns the checked hops and the forwarder's stdout."""
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        py("py_produce.py", b, "in", N, receiver=r, service="origin")
        f = py("py_consume.py", b, "in", N, "pyfwd", "--sleep", SLEEP_MS, "--out", "out",
               *fwd_args, receiver=r, service="forwarder")
        c = py("py_consume.py", b, "out", N, "pysink", receiver=r, service="sink")
        spans = r.wait_for(lambda s: len(named(s, "process out")) >= N)
        hops = check_chain(spans, N, sink_out=c.stdout)
        for _, fproc, fsend, _ in hops.values():
            # The span covers the processing Python does after poll()
            # destroyed the message, and the produce within it.
            assert fproc["end"] - fproc["start"] >= SLEEP_MS * 1e6, fproc
            assert fproc["end"] >= fsend["start"]
        return hops, f.stdout


def test_python_forwarder_one_trace():
    forward_chain()


def test_python_forwarder_copying_headers():
    # The copied traceparent names the origin's send; the message it came
    # from was already destroyed inside poll(), yet the forwarder's send
    # must still be the child of that message's process span.
    forward_chain("--headers")


def test_python_batch_forwarder_copying_headers():
    # consume(N) destroys every message of the batch before the app sees
    # any: the process spans must still cover the app's processing, and a
    # copied traceparent must still find its message's process span.
    _, out = forward_chain("--headers", "--batch", str(N))
    assert parse_lines(out, "batch"), out


def test_python_single_message_batches_forward_like_poll():
    # consume(1) is poll() by another name: a batch of one message is the
    # thread's current one, so what the loop produces continues its trace
    # without any header copying.
    _, out = forward_chain("--batch", "1")
    assert parse_lines(out, "batch"), out


BAD_SSL = """
import confluent_kafka as c
for i in range(2):
    try:
        c.Producer({"security.protocol": "SSL", "ssl.ca.location": "/nonexistent"})
    except c.KafkaException as e:
        print("KafkaException", e.args[0].code(), e.args[0].str())
"""


def test_python_bad_ssl_raises_instead_of_crashing():
    """Regression: a Producer with a missing CA file died with SIGSEGV
    under the agent (rd_kafka_new failing past its copy of the conf freed
    kotel's on_new entry, and confluent_kafka's conf destroy freed it
    again), with any sampler; it must raise KafkaException, twice."""
    with Receiver() as r:
        cmd = [PYTHON, "-c", BAD_SSL]
        plain = run(cmd, agent_env(r, "py", preload=False))
        assert plain.stdout.count("KafkaException -186 ") == 2, plain.stdout
        for sampler in ("parentbased_always_on", "always_off"):
            traced = run(cmd, agent_env(r, "py", OTEL_TRACES_SAMPLER=sampler))
            assert traced.stdout == plain.stdout, (sampler, traced.stdout, traced.stderr)
