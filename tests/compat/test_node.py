"""A Node.js program on node-rdkafka 2.15.0 from npm, built against the
system librdkafka (build/compat/node, see tests/compat.mk), under kotel.

node-rdkafka wraps librdkafka++: the producer sends with headers
(RdKafka::Producer::produce -> rd_kafka_producev) and polls for delivery
reports; the KafkaConsumer reads with consume(count, callback), one
RdKafka::KafkaConsumer::consume (rd_kafka_consumer_poll) per message. One send span
per message with its partition and offset, the traceparent of that span in
the consumed message next to the app's own header, and each process span
the child of its send span."""

import os
import shutil

from compat_lib import COMPAT, check_send_spans, check_traced, no_errors
from kotel_chain import check_hop, one
from kotel_test import Broker, Receiver, agent_env, named, parse_lines, run

N = 5
NODE = shutil.which("node") or "/usr/bin/node"
KOTELNODE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node", "kotelnode.js")
# node-rdkafka as make test-compat built it.
NODE_PATH = os.path.join(COMPAT, "node", "node_modules")


def test_node_producer_to_node_consumer():
    with Broker(["nodetopic:2"]) as b, Receiver() as r:
        p = run([NODE, KOTELNODE, "produce", b.bootstrap, "nodetopic", str(N)],
                agent_env(r, "node-p", NODE_PATH=NODE_PATH))
        drs = parse_lines(p.stdout, "dr")
        assert len(drs) == N, p.stdout
        c = run([NODE, KOTELNODE, "consume", b.bootstrap, "nodetopic", str(N), "nodegroup"],
                agent_env(r, "node-c", NODE_PATH=NODE_PATH))
        msgs = parse_lines(c.stdout, "msg")
        assert len(msgs) == N, c.stdout
        assert all(m["app"] == "node" for m in msgs), c.stdout
        spans = r.wait_for(lambda s: len(named(s, "send nodetopic")) >= N and
                           len(named(s, "process nodetopic")) >= N, timeout=30)
        no_errors(spans)
        sends = check_send_spans(spans, "node-p", "nodetopic", drs)
        check_traced(msgs, sends)
        for m in msgs:
            proc = one(spans, "node-c", "process nodetopic", m["key"])
            check_hop(sends[m["key"]], proc)
            a = proc["attributes"]
            assert a["messaging.consumer.group.name"] == "nodegroup", a
            assert a["messaging.kafka.offset"] == int(m["offset"]), (a, m)
            assert a["messaging.destination.partition.id"] == m["partition"], (a, m)
        assert len(named(spans, "process nodetopic")) == N
