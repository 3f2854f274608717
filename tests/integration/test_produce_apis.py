"""Every produce API: one PRODUCER span per message, ended at the ack with
partition and offset, and the span's own context in the message headers."""

from kotel_test import Broker, GrpcReceiver, Receiver, kclient, named, parse_lines


def check_api(api, R=Receiver):
    with Broker(["orders:1"]) as b, R() as r:
        p = kclient(b, "produce", "-a", api, "-t", "orders", "-n", "3",
                    receiver=r, service="shop")
        drs = parse_lines(p.stdout, "dr")
        assert len(drs) == 3 and all(d["err"] == "NO_ERROR" for d in drs), p.stdout
        spans = r.wait_spans(3)
        sends = named(spans, "send orders")
        assert len(sends) == 3, spans
        by_span = {s["span_id"]: s for s in sends}
        for d in drs:
            version, trace_id, span_id, flags = d["traceparent"].split("-")
            assert version == "00" and flags == "01", d
            s = by_span[span_id]
            assert s["trace_id"] == trace_id
            assert s["kind"] == "PRODUCER"
            assert s["parent_span_id"] == ""
            a = s["attributes"]
            assert a["messaging.system"] == "kafka"
            assert a["messaging.operation.name"] == "send"
            assert a["messaging.operation.type"] == "send"
            assert a["messaging.destination.name"] == "orders"
            assert a["messaging.destination.partition.id"] == d["partition"]
            assert a["messaging.kafka.offset"] == int(d["offset"])
            assert a["messaging.kafka.message.key"] == d["key"]
            assert a["messaging.message.body.size"] == len("payload-0")
            assert a["messaging.client.id"] == "kclient"
            assert a["server.address"] == "127.0.0.1"
            assert a["server.port"] == int(b.bootstrap.rsplit(":", 1)[1])
            assert "messaging.consumer.group.name" not in a
            assert s["resource"]["service.name"] == "shop"
            assert s["end"] >= s["start"] > 0
            assert s["status"]["code"] == 0


def test_produce():
    check_api("produce")


def test_producev():
    check_api("producev")


def test_producev_over_grpc():
    check_api("producev", R=GrpcReceiver)


def test_produce_batch_over_grpc():
    check_api("batch", R=GrpcReceiver)


def test_produceva():
    check_api("produceva")


def test_produce_batch():
    check_api("batch")
