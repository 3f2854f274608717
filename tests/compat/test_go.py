"""A Go program on Debian's confluent-kafka-go 0.11.6 (cgo, linked to the
system librdkafka: build/compat/kotelgo from tests/compat/go) under kotel.

Produce (rd_kafka_producev with a user header, delivery reports on the
event API), then consume in a group (rd_kafka_queue_poll +
rd_kafka_event_message_next): one send span per message with its partition
and offset, the traceparent of that span in the consumed message, and each
process span the child of its send span.

A Go program returns from main through a raw exit: no C exit handler runs,
so spans still queued in the agent then would be lost. The main test keeps the
program alive after it closed its clients (-hold) until the spans are in;
test_go_raw_exit_after_close checks that a program that exits right after
closing loses nothing all the same: kotel flushes when its last client
ends."""

import os

from compat_lib import COMPAT, check_send_spans, check_traced, no_errors, run_held
from kotel_chain import check_hop, one
from kotel_test import Broker, Receiver, agent_env, named, parse_lines, run, stats

N = 5
KOTELGO = os.path.join(COMPAT, "kotelgo")


def test_go_producer_to_go_consumer():
    with Broker(["gotopic:2"]) as b, Receiver() as r:
        out, _, _ = run_held([KOTELGO, "-hold", "produce", b.bootstrap, "gotopic", str(N)],
                             agent_env(r, "go-p"), r,
                             lambda s: len(named(s, "send gotopic")) >= N)
        drs = parse_lines(out, "dr")
        assert len(drs) == N, out
        out, _, spans = run_held(
            [KOTELGO, "-hold", "consume", b.bootstrap, "gotopic", str(N), "gogroup"],
            agent_env(r, "go-c"), r, lambda s: len(named(s, "process gotopic")) >= N)
        msgs = parse_lines(out, "msg")
        assert len(msgs) == N, out
        no_errors(spans)
        sends = check_send_spans(spans, "go-p", "gotopic", drs)
        check_traced(msgs, sends)
        for m in msgs:
            proc = one(spans, "go-c", "process gotopic", m["key"])
            check_hop(sends[m["key"]], proc)
            a = proc["attributes"]
            assert a["messaging.consumer.group.name"] == "gogroup", a
            assert a["messaging.kafka.offset"] == int(m["offset"]), (a, m)
            assert a["messaging.destination.partition.id"] == m["partition"], (a, m)
        assert len(named(spans, "process gotopic")) == N


def test_go_raw_exit_after_close():
    """A Go producer that Flush()es, Close()s and returns from main: Go's
    exit runs no C exit handler (no exporter exit line on stderr), and with
    a schedule delay longer than the program's life only kotel's flush
    when the last client ends can deliver its spans. Every one arrives."""
    with Broker(["gotopic:1"]) as b, Receiver() as r:
        p = run([KOTELGO, "produce", b.bootstrap, "gotopic", str(N)],
                agent_env(r, "go-raw", OTEL_BSP_SCHEDULE_DELAY=60000))
        drs = parse_lines(p.stdout, "dr")
        assert len(drs) == N, p.stdout
        spans = r.wait_for(lambda s: len(named(s, "send gotopic")) >= N)
        no_errors(spans)
        check_send_spans(spans, "go-raw", "gotopic", drs)
        # Delivered by the last-client flush: the agent's exit handler
        # never ran.
        assert stats(p.stderr) is None, p.stderr[-2000:]
