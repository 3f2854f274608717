"""A librdkafka++ (C++) program under the agent: produce, consume and a
consume -> produce forwarder, one trace per message end to end."""

import os

from kotel_chain import check_chain
from kotel_test import BUILD, Broker, Receiver, agent_env, named, of_service, parse_lines, run

KCLIENT_CPP = os.path.join(BUILD, "tests", "kclient_cpp")
N = 5


def cpp(b, r, service, *args):
    return run([KCLIENT_CPP, b.bootstrap] + [str(a) for a in args], agent_env(r, service))


def test_cpp_produce_forward_consume():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        p = cpp(b, r, "origin", "produce", "in", N)
        drs = parse_lines(p.stdout, "dr")
        assert [d["key"] for d in drs] == ["k%d" % i for i in range(N)], p.stdout
        f = cpp(b, r, "forwarder", "forward", "in", N, "cppfwd", "out")
        c = cpp(b, r, "sink", "consume", "out", N, "cppsink")
        spans = r.wait_for(lambda s: len(named(s, "process out")) >= N)
        hops = check_chain(spans, N, sink_out=c.stdout)
        # What the forwarder read carries the origin's send context.
        for row in parse_lines(f.stdout, "msg"):
            send = hops[row["key"]][0]
            assert row["traceparent"] == "00-%s-%s-01" % (send["trace_id"], send["span_id"])
            assert send["attributes"]["messaging.client.id"] == "kclient_cpp"
        for d in drs:
            assert hops[d["key"]][0]["attributes"]["messaging.kafka.offset"] == int(d["offset"])
        assert len(named(of_service(spans, "sink"), "process out")) == N


def test_cpp_create_failure_then_retry():
    """Regression: every librdkafka++ create() failure crashed under the
    agent (librdkafka++ destroys its copy of the conf after rd_kafka_new
    fails past its own copy, and kotel's on_new entry in it was already
    freed). Two failures with the same Conf, then a traced producer from it."""
    with Broker(["plain:1", "traced:1"]) as b, Receiver() as r:
        plain = run([KCLIENT_CPP, b.bootstrap, "badssl", "plain", "2"],
                    agent_env(r, "cpp", preload=False))
        traced = cpp(b, r, "cpp", "badssl", "traced", 2)
        assert plain.stdout.count("create failed: ssl.ca.location failed") == 2
        strip = lambda out: [l.split(" offset=")[0] for l in out.splitlines()]
        assert strip(traced.stdout) == strip(plain.stdout), (plain.stdout, traced.stdout)
        spans = r.wait_for(lambda s: len(named(s, "send traced")) >= 1)
        assert len(named(spans, "send traced")) == 1
