"""Python's confluent-kafka (Debian python3-confluent-kafka, a C extension
on the system librdkafka) under kotel: tests/clients/py_produce.py
(Producer.produce with an on_delivery callback, rd_kafka_producev) and
py_consume.py (Consumer.poll, rd_kafka_consumer_poll)."""

import os

from compat_lib import check_pair
from kotel_test import PYTHON, ROOT, Broker, Receiver, agent_env, named, parse_lines, run

CLIENTS = os.path.join(ROOT, "tests", "clients")
N = 5


def test_python_producer_to_python_consumer():
    with Broker(["pytopic:2"]) as b, Receiver() as r:
        p = run([PYTHON, os.path.join(CLIENTS, "py_produce.py"), b.bootstrap, "pytopic",
                 str(N)], agent_env(r, "py-p"))
        drs = parse_lines(p.stdout, "dr")
        assert len(drs) == N and all(d["err"] == "NO_ERROR" for d in drs), p.stdout
        c = run([PYTHON, os.path.join(CLIENTS, "py_consume.py"), b.bootstrap, "pytopic",
                 str(N), "pygroup"], agent_env(r, "py-c"))
        msgs = parse_lines(c.stdout, "msg")
        spans = r.wait_for(lambda s: len(named(s, "process pytopic")) >= N)
        check_pair(spans, "py-p", "py-c", "pytopic", drs, msgs, group="pygroup")
