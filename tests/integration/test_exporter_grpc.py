"""OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc) against a collector built on
npm's @grpc/grpc-js (tests/lib/otlp_grpc_server.js): the HTTP exporter
tests of test_exporter_transport and test_exporter_failures, over gRPC.
What the server decodes is checked span by span against what the clients
produced; its scripted answers exercise every OTLP retryable code (with
the server's RetryInfo delay), the others, a server that never answers, one
that resets the stream, partial success and gzip."""

import tempfile

from exporter_helpers import Blackhole, free_port, make_ca, produce
from kotel_test import Broker, GrpcReceiver, Receiver, kclient, named, parse_lines
from otlp_grpc_receiver import (ABORTED, CANCELLED, DATA_LOSS, DEADLINE_EXCEEDED, INTERNAL,
                                INVALID_ARGUMENT, OUT_OF_RANGE, PERMISSION_DENIED,
                                RESOURCE_EXHAUSTED, UNAUTHENTICATED, UNAVAILABLE, UNIMPLEMENTED,
                                UNKNOWN)
from semantics_lib import log_lines

N = 3
# One batch, sent at exit: the scripted answers then apply to it.
ONE_BATCH = {"OTEL_BSP_SCHEDULE_DELAY": "60000", "KOTEL_SHUTDOWN_TIMEOUT": "30000"}
TRACE_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
GRPC = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}


def balanced(st, n=N):
    assert st is not None
    assert st["started"] == n, st
    assert st["exported"] + st["dropped"] + st["failed"] == st["started"], st


def check_sends(spans, n=N, topic="t"):
    """Every span the server decoded is one of the n sends kclient made:
    keys k0..k{n-1}, offsets 0..n-1, distinct ids, kotel's scope."""
    sends = named(spans, "send " + topic)
    assert len(sends) == n == len(spans), spans
    assert {s["attributes"]["messaging.kafka.message.key"] for s in sends} == \
        {"k%d" % i for i in range(n)}
    assert sorted(s["attributes"]["messaging.kafka.offset"] for s in sends) == list(range(n))
    assert len({s["span_id"] for s in sends}) == n
    for s in sends:
        assert s["kind"] == "PRODUCER" and len(s["trace_id"]) == 32 and len(s["span_id"]) == 16
        assert s["attributes"]["messaging.system"] == "kafka"
        assert s["attributes"]["messaging.destination.name"] == topic
        assert s["resource"]["service.name"] == "kclient"
        assert s["scope"]["name"] == "kotel" and s["end"] >= s["start"] > 0


def test_spans_decoded_by_grpc_js():
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(ONE_BATCH, OTEL_LOG_LEVEL="debug"))
        assert st["exported"] == N, (st, p.stderr)
        reqs = r.wait_requests(1)
        assert len(reqs) == 1 and reqs[0]["path"] == TRACE_PATH
        assert reqs[0]["encoding"] == "identity"
        assert reqs[0]["headers"]["user-agent"].startswith("kotel/")
        # grpc-timeout reached the server as a deadline, at most the
        # export timeout's 10 s default.
        assert 0 < reqs[0]["deadline_ms"] <= 10000, reqs[0]
        check_sends(r.wait_spans(N))
        assert "otlp to http://127.0.0.1:%d%s" % (r.port, TRACE_PATH) in p.stderr, p.stderr


def test_per_signal_protocol():
    # OTEL_EXPORTER_OTLP_TRACES_PROTOCOL alone selects gRPC for traces.
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(
            ONE_BATCH, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc"))
        assert st["exported"] == N, (st, p.stderr)
        check_sends(r.wait_spans(N))


def test_gzip_and_a_server_requiring_it():
    with Broker() as b, GrpcReceiver() as r:
        r.require_gzip()
        p, st = produce(b, N, receiver=r,
                        env=dict(ONE_BATCH, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="gzip"))
        assert st["exported"] == N, (st, p.stderr)
        # The compressed flag was set and grpc-encoding said gzip: grpc-js
        # gunzipped the message.
        assert [q["encoding"] for q in r.wait_requests(1)] == ["gzip"]
        check_sends(r.wait_spans(N))
    with Broker() as b, GrpcReceiver() as r:
        r.require_gzip()
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["failed"] == N and st["retried"] == 0, st
        assert 'gRPC INVALID_ARGUMENT: "gzip required"' in p.stderr, p.stderr


def test_tls_with_alpn_h2_and_client_certificate():
    with tempfile.TemporaryDirectory() as d, Broker() as b:
        c = make_ca(d)
        with GrpcReceiver(tls={"cert": c["srv_cert"], "key": c["srv_key"],
                               "client_ca": c["ca"]}) as r:
            assert r.endpoint.startswith("https://")
            p, st = produce(b, N, receiver=r, env=dict(
                ONE_BATCH, OTEL_EXPORTER_OTLP_CERTIFICATE=c["ca"],
                OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=c["cli_cert"],
                OTEL_EXPORTER_OTLP_CLIENT_KEY=c["cli_key"]))
            assert st["exported"] == N, (st, p.stderr)
            check_sends(r.wait_spans(N))


def test_endpoint_without_scheme_and_insecure():
    # "host:port": OTEL_EXPORTER_OTLP_INSECURE=true makes it h2c...
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, N, env=dict(ONE_BATCH, **GRPC, OTEL_EXPORTER_OTLP_INSECURE="true",
                                       OTEL_EXPORTER_OTLP_ENDPOINT="127.0.0.1:%d" % r.port))
        assert st["exported"] == N, (st, p.stderr)
        check_sends(r.wait_spans(N))
    # ...without it, TLS, which this h2c server cannot answer: not retried.
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, N, env=dict(ONE_BATCH, **GRPC, OTEL_LOG_LEVEL="debug",
                                       OTEL_EXPORTER_OTLP_ENDPOINT="127.0.0.1:%d" % r.port))
        balanced(st)
        assert st["failed"] == N and st["exported"] == 0, st
        assert "otlp to https://127.0.0.1:%d%s" % (r.port, TRACE_PATH) in p.stderr, p.stderr
        assert r.requests == []


def test_default_endpoint_is_4317():
    with Broker() as b:
        p, st = produce(b, 1, env=dict(**GRPC, OTEL_LOG_LEVEL="debug",
                                       OTEL_BSP_EXPORT_TIMEOUT="500"))
        assert "otlp to http://localhost:4317%s" % TRACE_PATH in p.stderr, p.stderr


def test_headers_are_metadata_and_grpc_names_refused():
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(
            ONE_BATCH, OTEL_EXPORTER_OTLP_HEADERS="X-Tenant=blue,api-key=s3cr%3Dt,"
                                                  "grpc-timeout=1S,TE=gzip"))
        assert st["exported"] == N, (st, p.stderr)
        h = r.wait_requests(1)[0]["headers"]
        assert h["x-tenant"] == "blue" and h["api-key"] == "s3cr=t", h
        assert 0 < r.requests[0]["deadline_ms"] <= 10000
        for name in ("grpc-timeout", "TE"):
            assert len(log_lines(p.stderr, "OTEL_EXPORTER_OTLP_HEADERS: '%s' is set by kotel"
                                 % name)) == 1, (name, p.stderr)
        assert "s3cr" not in p.stderr


def retried_once(step, env=ONE_BATCH):
    """One answer @step, then OK: retried once, every span delivered."""
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([step])
        p, st = produce(b, N, receiver=r, env=env)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 1 and st["failed"] == 0, (st, p.stderr)
        reqs = r.wait_requests(2)
        assert len(reqs) == 2 and reqs[1]["answer"] == {"code": 0}, reqs
        check_sends(r.wait_spans(N))
        return reqs


def test_every_otlp_retryable_code_retried():
    for code in (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, DATA_LOSS, CANCELLED):
        retried_once({"code": code, "message": "try later"})


def test_unavailable_n_times_then_ok():
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([{"code": UNAVAILABLE}] * 3)
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 3, (st, p.stderr)
        assert [q["status"] for q in r.wait_requests(4)] == [UNAVAILABLE] * 3 + [0]
        check_sends(r.wait_spans(N))


def test_retry_info_delay_honoured():
    # Without RetryInfo the first backoff is 100-200 ms.
    for code in (UNAVAILABLE, RESOURCE_EXHAUSTED):
        reqs = retried_once({"code": code, "message": "slow down", "retry_delay_ms": 2000})
        gap = reqs[1]["time"] - reqs[0]["time"]
        assert gap >= 1.5, "retried after %.2fs, RetryInfo not honoured" % gap


def no_retry(code, name, **step):
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([dict(step, code=code, message="nope")])
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["failed"] == N and st["retried"] == 0 and st["exported"] == 0, (code, st)
        assert len(r.wait_requests(1)) == 1
        assert 'gRPC %s: "nope"' % name in p.stderr and "not retrying" in p.stderr, p.stderr


def test_resource_exhausted_without_retry_info_not_retried():
    no_retry(RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED")


def test_other_codes_not_retried():
    for code, name in ((INVALID_ARGUMENT, "INVALID_ARGUMENT"), (UNKNOWN, "UNKNOWN"),
                       (PERMISSION_DENIED, "PERMISSION_DENIED"), (INTERNAL, "INTERNAL"),
                       (UNIMPLEMENTED, "UNIMPLEMENTED"), (UNAUTHENTICATED, "UNAUTHENTICATED")):
        no_retry(code, name)


def test_server_that_never_answers_times_out_and_retries():
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([{"hang": True}])
        p, st = produce(b, N, receiver=r,
                        env=dict(ONE_BATCH, OTEL_EXPORTER_OTLP_TIMEOUT="1000"))
        balanced(st)
        assert st["exported"] == N and st["retried"] >= 1, (st, p.stderr)
        assert r.wait_requests(2)[0]["answer"] == {"hang": True}
        check_sends(r.wait_spans(N))


def test_blackholed_collector_gives_up_at_export_timeout():
    with Broker() as b, Blackhole() as bh:
        p, st = produce(b, N, endpoint=bh.endpoint, env=dict(
            GRPC, OTEL_BSP_SCHEDULE_DELAY="100", OTEL_BSP_EXPORT_TIMEOUT="1500",
            OTEL_EXPORTER_OTLP_TIMEOUT="500"))
        balanced(st)
        assert st["exported"] == 0 and st["retried"] >= 1, st
        # Given up by the worker (failed) or left unsent at exit (dropped),
        # whichever reaches the deadline first; never lost uncounted.
        assert st["dropped"] + st["failed"] == N, st
        assert "unsent at exit" in p.stderr or "gave up" in p.stderr, p.stderr


def test_stream_reset_retried():
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([{"close": True}])
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 1, (st, p.stderr)
        check_sends(r.wait_spans(N))


def test_connection_refused_retried_until_export_timeout():
    with Broker() as b:
        p, st = produce(b, N, endpoint="http://127.0.0.1:%d" % free_port(), env=dict(
            GRPC, OTEL_BSP_EXPORT_TIMEOUT="1500", OTEL_BSP_SCHEDULE_DELAY="60000"))
        balanced(st)
        assert st["failed"] == N and st["retried"] >= 1, st
        assert "gave up" in p.stderr, p.stderr


def test_partial_success_logged_not_retried():
    with Broker() as b, GrpcReceiver() as r:
        r.grpc_script([{"partial": {"rejected": 1, "message": "span too old"}}])
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N - 1 and st["failed"] == 1 and st["retried"] == 0, st
        assert len(r.wait_requests(1)) == 1
        assert "partial success: 1 rejected: span too old" in p.stderr, p.stderr


def test_http1_only_server_fails_clearly():
    # h2c prior knowledge to a server that speaks HTTP/1.1 only (the
    # OTLP/HTTP port, say): no span is counted exported.
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, endpoint=r.endpoint, env=dict(
            GRPC, OTEL_BSP_SCHEDULE_DELAY="60000", OTEL_BSP_EXPORT_TIMEOUT="2000"))
        balanced(st)
        assert st["failed"] == N and st["exported"] == 0, (st, p.stderr)
        assert r.spans == []
        assert log_lines(p.stderr, "export of 3 spans to"), p.stderr


def test_many_batches_over_fresh_connections():
    # 20 batches of one: every call completes (libcurl < 8 cannot reuse an
    # h2c connection; each gets its own).
    n = 20
    with Broker() as b, GrpcReceiver() as r:
        p, st = produce(b, n, receiver=r, env=dict(ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1"))
        assert st["exported"] == n and st["retried"] == 0, (st, p.stderr)
        check_sends(r.wait_spans(n), n)


def test_traced_producer_and_consumer_end_to_end():
    with Broker(["events:1"]) as b, GrpcReceiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "events", "-n", str(N),
                receiver=r, service="producer")
        c = kclient(b, "consume", "-a", "poll", "-t", "events", "-n", str(N),
                    receiver=r, service="consumer")
        assert len(parse_lines(c.stdout, "msg")) == N, c.stdout
        spans = r.wait_for(lambda s: len(named(s, "process events")) >= N and
                           len(named(s, "send events")) >= N)
        sends = {s["span_id"]: s for s in named(spans, "send events")}
        procs = named(spans, "process events")
        assert len(sends) == N and len(procs) == N
        for pr in procs:
            parent = sends[pr["parent_span_id"]]
            assert pr["trace_id"] == parent["trace_id"]
            assert pr["links"][0]["span_id"] == parent["span_id"]
            assert pr["attributes"]["messaging.kafka.message.key"] == \
                parent["attributes"]["messaging.kafka.message.key"]
