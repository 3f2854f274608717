"""Metrics (docs/metrics.md): the instruments' values against what the test
produced and consumed, decoded by the receiver (Python protobuf) and by
`protoc --decode` of the exact bytes; exemplars point at spans the trace
receiver got; error.type on failed deliveries; metrics are recorded for
unsampled messages too; bad settings get a log line and defaults; a
collector that rejects metrics leaves traces alone."""

import os
import re
import subprocess
import time

from kotel_test import ROOT, Broker, GrpcReceiver, Receiver, kclient, named, parse_lines
from metric_points import latest, total
from semantics_lib import dead_bootstrap, log_lines, rows, semclient, tp_fields

METRICS = {"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "200"}
REQ = "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"


def protoc_decode(body):
    p = subprocess.run(["protoc", "--decode=" + REQ, "-I", os.path.join(ROOT, "exporter", "proto"),
                        "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"],
                       input=body, capture_output=True, check=True)
    return p.stdout.decode()


def protoc_sum(text, name):
    """The sum of as_int over metric @name's points in protoc's text."""
    block = text.split('name: "%s"' % name, 1)[1].split("\n  metrics {", 1)[0]
    return sum(int(v) for v in re.findall(r"as_int: (\d+)", block))


def test_produce_consume_counts_durations_exemplars():
    produce_consume_counts(Receiver)


def test_produce_consume_counts_durations_exemplars_over_grpc():
    # The same points as @grpc/grpc-js decodes them from OTLP/gRPC.
    produce_consume_counts(GrpcReceiver)


def produce_consume_counts(R):
    n = 25
    with Broker(["m:2"]) as b, R() as r:
        t0 = time.time()
        p = semclient(b, "produce", "-t", "m", "-n", str(n), receiver=r, env=METRICS)
        produce_s = time.time() - t0
        c = semclient(b, "consume", "-t", "m", "-n", str(n), receiver=r, env=METRICS,
                      service="cons")
        assert len(rows(p.stdout, "dr")) == n and len(rows(c.stdout, "msg")) == n
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.consumed.messages") >= n)
        spans = r.wait_for(lambda s: len(named(s, "send m")) >= n)
        assert total(pts, "messaging.client.sent.messages") == n
        assert total(pts, "messaging.client.consumed.messages") == n
        sends = [q for q in latest(pts, "messaging.client.operation.duration")
                 if q["attributes"]["messaging.operation.name"] == "send"]
        assert sum(q["count"] for q in sends) == n
        assert sum(sum(q["bucket_counts"]) for q in sends) == n
        assert 0 < sum(q["sum"] for q in sends) <= n * produce_s
        for q in sends:
            a = q["attributes"]
            assert a["messaging.system"] == "kafka" and a["messaging.destination.name"] == "m"
            assert a["messaging.operation.type"] == "send"
            assert a["messaging.destination.partition.id"] in ("0", "1")
            assert "server.address" in a and "error.type" not in a
            assert not any("key" in k or "offset" in k or "message.id" in k for k in a)
            assert q["bounds"] == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
                                   1, 2.5, 5, 7.5, 10]
            assert q["temporality"] == 2 and q["unit"] == "s"
        for q in latest(pts, "messaging.client.consumed.messages"):
            assert q["attributes"]["messaging.consumer.group.name"]
            assert q["monotonic"] and q["unit"] == "{message}"
        send_ids = {(s["trace_id"], s["span_id"]) for s in named(spans, "send m")}
        ex = [e for q in sends for e in q["exemplars"]]
        assert ex and all((e["trace_id"], e["span_id"]) in send_ids for e in ex), ex
        if R is GrpcReceiver:
            assert all(q["path"] == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
                       for q in r.metrics_requests)
            return
        # protoc decodes the exact bytes of each process's last request,
        # whose cumulative counts are the totals.
        texts = [protoc_decode(q["body"]) for q in r.metrics_requests if q["status"] == 200]
        for name in ("messaging.client.sent.messages", "messaging.client.consumed.messages"):
            last = [t for t in texts if 'name: "%s"' % name in t][-1]
            assert protoc_sum(last, name) == n, last
        assert any("exemplars {" in t and "trace_id:" in t for t in texts)


def test_unsampled_messages_are_counted():
    n = 12
    with Broker(["u:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "u", "-n", str(n), receiver=r,
                  env=dict(METRICS, OTEL_TRACES_SAMPLER="always_off",
                           OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="delta"))
        pts = r.wait_metrics(lambda m: sum(p["value"] for p in m
                                           if p["name"] == "messaging.client.sent.messages") >= n)
        sent = [p for p in pts if p["name"] == "messaging.client.sent.messages"]
        # Delta: the points add up to the messages.
        assert sum(p["value"] for p in sent) == n and all(p["temporality"] == 1 for p in sent)
        hist = [p for p in pts if p["name"] == "messaging.client.operation.duration"]
        assert sum(p["count"] for p in hist) == n
        # trace_based: no sampled span, no exemplar.
        assert not any(p["exemplars"] for p in hist)
        assert r.spans == []


def test_failed_delivery_has_error_type():
    with Receiver() as r:
        semclient(dead_bootstrap(), "produce", "-t", "t", "-n", "3",
                  "-X", "message.timeout.ms=300", receiver=r, env=METRICS)
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.sent.messages") >= 3)
        sent = latest(pts, "messaging.client.sent.messages")
        assert [q["attributes"].get("error.type") for q in sent] == ["_MSG_TIMED_OUT"], sent
        assert sent[0]["value"] == 3


def test_cardinality_overflow():
    # Four partitions, a limit of 2: one attribute set and the overflow
    # series; every message counted once, the overflow logged.
    n = 40
    with Broker(["a:4"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "a", "-n", str(n), receiver=r,
                      env=dict(METRICS, KOTEL_METRICS_CARDINALITY_LIMIT="2"))
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.sent.messages") >= n)
        sent = latest(pts, "messaging.client.sent.messages")
        assert sum(q["value"] for q in sent) == n
        over = [q for q in sent if q["attributes"].get("otel.metric.overflow")]
        assert len(sent) == 2 and len(over) == 1, sent
        assert over[0]["attributes"] == {"otel.metric.overflow": True}
        hist = latest(pts, "messaging.client.operation.duration")
        assert len(hist) == 2 and sum(q["count"] for q in hist) == n
        assert log_lines(p.stderr, "went to the overflow series"), p.stderr


def test_bad_settings_logged_and_defaults_used():
    with Broker(["d:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "d", "-n", "2", receiver=r,
                      env=dict(METRICS, OTEL_METRIC_EXPORT_INTERVAL="soon",
                               OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="sideways",
                               OTEL_METRICS_EXEMPLAR_FILTER="sometimes"))
        assert log_lines(p.stderr, "OTEL_METRIC_EXPORT_INTERVAL: 'soon'")
        assert log_lines(p.stderr, "TEMPORALITY_PREFERENCE: 'sideways'")
        assert log_lines(p.stderr, "OTEL_METRICS_EXEMPLAR_FILTER: 'sometimes'")
        # Defaults: 60 s interval, so only the exit flush, cumulative,
        # trace_based exemplars.
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.sent.messages") >= 2)
        sent = latest(pts, "messaging.client.sent.messages")
        assert sum(q["value"] for q in sent) == 2 and sent[0]["temporality"] == 2
        assert len(r.metrics_requests) == 1


def test_rejecting_metrics_collector_leaves_traces_alone():
    with Broker(["x:1"]) as b, Receiver() as r:
        r.metrics_script = [{"status": 400}] * 100
        p = semclient(b, "produce", "-t", "x", "-n", "5", receiver=r, env=METRICS)
        spans = r.wait_spans(5)
        assert len(named(spans, "send x")) == 5
        assert r.metrics_requests and all(q["status"] == 400 for q in r.metrics_requests)
        assert log_lines(p.stderr, "metrics export to")
        assert "spans started=5 exported=5 dropped=0 failed=0" in p.stderr, p.stderr


def test_rejecting_metrics_collector_leaves_traces_alone_over_grpc():
    with Broker(["x:1"]) as b, GrpcReceiver() as r:
        r.grpc_metrics_script([{"code": 3, "message": "no"}] * 100)
        p = semclient(b, "produce", "-t", "x", "-n", "5", receiver=r, env=METRICS)
        spans = r.wait_spans(5)
        assert len(named(spans, "send x")) == 5
        assert r.metrics_requests and all(q["status"] == 3 for q in r.metrics_requests)
        assert log_lines(p.stderr, 'failed: gRPC INVALID_ARGUMENT: "no"'), p.stderr
        assert "spans started=5 exported=5 dropped=0 failed=0" in p.stderr, p.stderr


def test_metrics_exporter_none_sends_nothing():
    with Broker(["n:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "n", "-n", "3", receiver=r,
                  env=dict(METRICS, OTEL_METRICS_EXPORTER="none"))
        r.wait_spans(3)
        assert r.metrics_requests == []


def test_message_age_span_attribute_and_histogram():
    # Messages created 3 s before they are consumed: the process spans and
    # kotel.message.age say at least 3 s, and at most the test's own span
    # of time; the type is the producer's create time.
    n = 8
    with Broker(["age:1"]) as b, Receiver() as r:
        t0 = time.time()
        semclient(b, "produce", "-t", "age", "-n", str(n), "--ts-offset", "-3000",
                  receiver=r, env=METRICS)
        c = semclient(b, "consume", "-t", "age", "-n", str(n), receiver=r, env=METRICS,
                      service="cons")
        bound_ms = (time.time() - t0) * 1000 + 3000
        procs = named(r.wait_for(lambda s: len(named(s, "process age")) >= n), "process age")
        assert len(procs) == n
        for s in procs:
            a = s["attributes"]
            assert a["kotel.message.timestamp_type"] == "create_time", a
            assert 3000 <= a["kotel.message.age_ms"] <= bound_ms, a
        pts = r.wait_metrics(lambda m: sum(q["count"] for q in latest(m, "kotel.message.age")) >= n)
        age = latest(pts, "kotel.message.age")
        assert len(age) == 1 and age[0]["count"] == n, age
        a = age[0]["attributes"]
        assert a["messaging.destination.name"] == "age" and a["messaging.consumer.group.name"]
        assert "messaging.operation.name" not in a
        assert a["messaging.destination.partition.id"] == "0"
        assert 3.0 * n <= age[0]["sum"] <= bound_ms / 1000 * n
        assert age[0]["bucket_counts"][12] + age[0]["bucket_counts"][11] == n  # (2.5, 7.5]
        assert not latest(pts, "kotel.message.age.negative")
        assert not log_lines(c.stderr, "error")


def test_negative_age_recorded_as_zero_and_counted():
    # Timestamps 60 s in the future (another machine's clock): age 0,
    # counted, never dropped.
    n = 5
    with Broker(["fut:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "fut", "-n", str(n), "--ts-offset", "60000",
                  receiver=r, env=METRICS)
        semclient(b, "consume", "-t", "fut", "-n", str(n), receiver=r, env=METRICS)
        pts = r.wait_metrics(lambda m: total(m, "kotel.message.age.negative") >= n)
        assert total(pts, "kotel.message.age.negative") == n
        age = latest(pts, "kotel.message.age")
        assert age[0]["count"] == n and age[0]["sum"] == 0 and age[0]["bucket_counts"][0] == n
        procs = named(r.wait_for(lambda s: len(named(s, "process fut")) >= n), "process fut")
        assert procs and all(s["attributes"]["kotel.message.age_ms"] == 0 for s in procs)


def test_process_and_single_poll_durations():
    # consumer_poll, one message per call: messaging.process.duration once
    # per message (the consumed counter's attributes, operation process),
    # its exemplars the process spans'; one poll measurement per call that
    # returned a message; unsampled messages the same, without exemplars.
    n = 20
    with Broker(["pd:2"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "pd", "-n", str(n), receiver=r, env=METRICS)
        t0 = time.time()
        c = semclient(b, "consume", "-t", "pd", "-n", str(n), receiver=r, env=METRICS,
                      service="cons")
        took = time.time() - t0
        assert len(rows(c.stdout, "msg")) == n
        pts = r.wait_metrics(
            lambda m: sum(q["count"] for q in latest(m, "messaging.process.duration")) >= n)
        proc = latest(pts, "messaging.process.duration")
        assert sum(q["count"] for q in proc) == n, proc
        assert sum(sum(q["bucket_counts"]) for q in proc) == n
        assert 0 <= sum(q["sum"] for q in proc) <= took
        consumed = {q["attributes"]["messaging.destination.partition.id"]: q["value"]
                    for q in latest(pts, "messaging.client.consumed.messages")}
        for q in proc:
            a = q["attributes"]
            assert a["messaging.operation.name"] == "process", a
            assert a["messaging.operation.type"] == "process"
            assert a["messaging.destination.name"] == "pd" and a["messaging.consumer.group.name"]
            assert q["count"] == consumed[a["messaging.destination.partition.id"]], (q, consumed)
            assert q["unit"] == "s" and q["bounds"][0] == 0.005 and q["bounds"][-1] == 10
        procs = named(r.wait_for(lambda s: len(named(s, "process pd")) >= n), "process pd")
        ids = {(s["trace_id"], s["span_id"]) for s in procs}
        ex = [e for q in proc for e in q["exemplars"]]
        assert ex and all((e["trace_id"], e["span_id"]) in ids for e in ex), ex
        polls = [q for q in latest(pts, "messaging.client.operation.duration")
                 if q["attributes"]["messaging.operation.name"] == "poll"]
        assert len(polls) == 1 and polls[0]["count"] == n, polls
        a = polls[0]["attributes"]
        assert a["messaging.operation.type"] == "receive" and a["messaging.destination.name"] == "pd"
        assert "messaging.destination.partition.id" not in a
        assert 0 < polls[0]["sum"] <= took
        assert not polls[0]["exemplars"]  # a single poll has no span of its own

    with Broker(["pu:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "pu", "-n", str(n), preload=False)
        semclient(b, "consume", "-t", "pu", "-n", str(n), receiver=r,
                  env=dict(METRICS, OTEL_TRACES_SAMPLER="always_off"))
        pts = r.wait_metrics(
            lambda m: sum(q["count"] for q in latest(m, "messaging.process.duration")) >= n)
        proc = latest(pts, "messaging.process.duration")
        assert len(proc) == 1 and proc[0]["count"] == n, proc
        assert not proc[0]["exemplars"] and r.spans == []


def test_batch_poll_durations():
    # consume_batch: one poll measurement per batch call that returned
    # messages, the poll spans' own durations; sent.messages stays the
    # sends' alone.
    n = 30
    with Broker(["bp:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "bp", "-n", str(n), receiver=r, env=METRICS)
        c = kclient(b, "consume", "-a", "batch", "-t", "bp", "-n", str(n), receiver=r,
                    service="batcher", env=METRICS)
        assert len(parse_lines(c.stdout, "msg")) == n
        spans = r.wait_for(lambda s: len(named(s, "process bp")) >= n)
        polls = [s for s in named(spans, "poll bp") if s["resource"]["service.name"] == "batcher"]
        assert polls
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.consumed.messages") >= n)
        dur = [q for q in latest(pts, "messaging.client.operation.duration")
               if q["attributes"]["messaging.operation.name"] == "poll"]
        assert len(dur) == 1 and dur[0]["count"] == len(polls), (dur, len(polls))
        a = dur[0]["attributes"]
        assert a["messaging.operation.type"] == "receive" and a["messaging.destination.name"] == "bp"
        assert "messaging.destination.partition.id" not in a
        span_s = sum((s["end"] - s["start"]) / 1e9 for s in polls)
        assert abs(dur[0]["sum"] - span_s) < 1e-6 * len(polls) + 1e-9, (dur[0]["sum"], span_s)
        ids = {(s["trace_id"], s["span_id"]) for s in polls}
        assert dur[0]["exemplars"] and all((e["trace_id"], e["span_id"]) in ids
                                           for e in dur[0]["exemplars"])
        assert total(pts, "messaging.client.sent.messages") == n


def test_exit_cuts_a_retry_wait_short_for_the_last_export():
    # A forwarder that takes 0.8 s a message: its first metrics export is
    # told to come back in 5 s; the program exits before that, the wait
    # ends at exit and the last export goes out within
    # KOTEL_SHUTDOWN_TIMEOUT, spans alongside.
    with Broker(["win:1", "wout:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "win", "-n", "3", preload=False)
        r.metrics_script = [{"status": 503, "headers": {"Retry-After": "5"}}]
        t0 = time.time()
        kclient(b, "forward", "-a", "current", "-t", "win", "-o", "wout", "-n", "3",
                "--sleep", "800", receiver=r, service="fwd",
                env=dict(METRICS, KOTEL_SHUTDOWN_TIMEOUT="1500"))
        took = time.time() - t0
        assert r.metrics_requests and r.metrics_requests[0]["status"] == 503
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.consumed.messages") >= 3,
                             timeout=1.0)
        assert total(pts, "messaging.client.consumed.messages") == 3, (took, r.metrics_requests)
        assert total(pts, "messaging.client.sent.messages") == 3
        assert len(named(r.wait_spans(3), "send wout")) == 3
