"""Every consume API: one CONSUMER process span per message, parented to
and linked to the producer's send span; batch APIs add one poll span with
links to every message."""

from kotel_test import Broker, GrpcReceiver, Receiver, kclient, named, of_service, parse_lines

N = 5


def check_api(api, batch=False, R=Receiver):
    with Broker(["events:1"]) as b, R() as r:
        kclient(b, "produce", "-a", "producev", "-t", "events", "-n", str(N),
                receiver=r, service="producer")
        c = kclient(b, "consume", "-a", api, "-t", "events", "-n", str(N),
                    receiver=r, service="consumer")
        assert len(parse_lines(c.stdout, "msg")) == N, c.stdout
        want = 2 * N
        spans = r.wait_for(lambda s: len(named(s, "process events")) >= N and
                           len(named(s, "send events")) >= N)
        sends = {s["span_id"]: s for s in named(spans, "send events")}
        procs = named(of_service(spans, "consumer"), "process events")
        assert len(procs) == N, [s["name"] for s in spans]
        for p in procs:
            assert p["kind"] == "CONSUMER"
            parent = sends[p["parent_span_id"]]
            assert p["trace_id"] == parent["trace_id"]
            assert p["links"] and p["links"][0]["span_id"] == parent["span_id"]
            a = p["attributes"]
            assert a["messaging.operation.type"] == "process"
            assert a["messaging.destination.name"] == "events"
            assert a["messaging.kafka.offset"] == parent["attributes"]["messaging.kafka.offset"]
            assert a["messaging.kafka.message.key"] == parent["attributes"]["messaging.kafka.message.key"]
            assert a["messaging.destination.partition.id"] == "0"
            assert p["end"] >= p["start"]
        polls = named(spans, "poll events")
        if batch:
            assert polls, "no poll span for a batch API"
            linked = set()
            total = 0
            for pl in polls:
                assert pl["kind"] == "CLIENT"
                n = pl["attributes"]["messaging.batch.message_count"]
                assert n == len(pl["links"]) and n > 0
                total += n
                linked |= {l["span_id"] for l in pl["links"]}
            assert total == N and linked == set(sends)
        else:
            assert not polls, "poll span for a single-message API"
        assert len(spans) >= want


def test_consumer_poll():
    check_api("poll")


def test_consumer_poll_over_grpc():
    # Producer and consumer traced end to end, exported over OTLP/gRPC.
    check_api("poll", R=GrpcReceiver)


def test_consume_batch_over_grpc():
    check_api("batch", batch=True, R=GrpcReceiver)


def test_consume():
    check_api("consume")


def test_consume_queue():
    check_api("queue")


def test_consume_batch():
    check_api("batch", batch=True)


def test_consume_batch_queue():
    check_api("batchq", batch=True)


def test_consume_callback():
    check_api("callback")


def test_consume_callback_queue():
    check_api("callbackq")


def test_event_message_next():
    check_api("event")


def test_event_message_array():
    check_api("eventarray", batch=True)


def test_event_destroy_ends_only_its_own_message():
    # The app holds two events and processes the first one's message while
    # destroying the second: that message's span must last until its own
    # event is destroyed, after the processing.
    sleep_ms = 300
    with Broker(["events:1"]) as b, Receiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "events", "-n", "6",
                receiver=r, service="producer")
        c = kclient(b, "consume", "-a", "eventhold", "-t", "events", "-n", "2",
                    "--sleep", str(sleep_ms), receiver=r, service="consumer")
        got = parse_lines(c.stdout, "msg")
        assert len(got) >= 2, c.stdout
        spans = r.wait_for(lambda s: len(named(of_service(s, "consumer"),
                                              "process events")) >= len(got))
        procs = named(of_service(spans, "consumer"), "process events")
        assert len(procs) == len(got), procs
        for p in procs:
            assert p["end"] - p["start"] >= sleep_ms * 1e6 * 0.9, p
