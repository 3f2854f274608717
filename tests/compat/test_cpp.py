"""librdkafka++ (Debian librdkafka++1, the C++ API) under kotel: the test
client tests/clients/kclient_cpp produces with RdKafka::Producer::produce
and a DeliveryReportCb, and consumes in a group with
RdKafka::KafkaConsumer::consume (rd_kafka_producev and
rd_kafka_consumer_poll underneath)."""

import os

from compat_lib import check_pair
from kotel_test import BUILD, Broker, Receiver, agent_env, named, parse_lines, run

KCLIENT_CPP = os.path.join(BUILD, "tests", "kclient_cpp")
N = 5


def test_cpp_producer_to_cpp_consumer():
    with Broker(["cpptopic:1"]) as b, Receiver() as r:
        p = run([KCLIENT_CPP, b.bootstrap, "produce", "cpptopic", str(N)],
                agent_env(r, "cpp-p"))
        # kclient_cpp's delivery lines have no partition: the topic has one.
        drs = [dict(d, partition="0") for d in parse_lines(p.stdout, "dr")]
        assert len(drs) == N and all(d["err"] == "Success" for d in drs), p.stdout
        c = run([KCLIENT_CPP, b.bootstrap, "consume", "cpptopic", str(N), "cppgroup"],
                agent_env(r, "cpp-c"))
        msgs = parse_lines(c.stdout, "msg")
        spans = r.wait_for(lambda s: len(named(s, "process cpptopic")) >= N)
        check_pair(spans, "cpp-p", "cpp-c", "cpptopic", drs, msgs, group="cppgroup")
