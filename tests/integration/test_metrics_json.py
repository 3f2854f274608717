"""Metrics over OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL or the
general OTEL_EXPORTER_OTLP_PROTOCOL = http/json, docs/metrics.md): the
receiver parses each request strictly (protobuf's JSON parser) and the
values are what the test produced and consumed, the exemplars point at
spans the trace receiver got, and the same run in protobuf gives the same
points; per-client resources (KOTEL_SERVICE_NAME_FROM) group the same way."""

import json
import os

from kotel_test import BUILD, Broker, Receiver, agent_env, named, run
from metric_points import latest, total
from otlp_receiver import metrics_from_json
from semantics_lib import log_lines, rows, semclient

MULTICLIENT = os.path.join(BUILD, "tests", "multiclient")
METRICS = {"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "200"}


def shape(points):
    """What a point says, times and values of durations aside."""
    return sorted((q["name"], q["unit"], q["type"], q["temporality"],
                   tuple(sorted(q["attributes"].items())), q.get("value"),
                   q.get("count"), tuple(q.get("bounds", ())),
                   q["resource"]["service.name"])
                  for q in points)


def produce_consume(protocol_env, n=15):
    with Broker(["j:2"]) as b, Receiver() as r:
        env = dict(METRICS, **protocol_env)
        p = semclient(b, "produce", "-t", "j", "-n", str(n), receiver=r, env=env)
        c = semclient(b, "consume", "-t", "j", "-n", str(n), receiver=r, env=env,
                      service="cons")
        assert len(rows(p.stdout, "dr")) == n and len(rows(c.stdout, "msg")) == n
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.consumed.messages") >= n)
        spans = r.wait_for(lambda s: len(named(s, "send j")) >= n)
        return p, c, r, pts, spans


def test_metrics_http_json_values_and_exemplars():
    n = 15
    p, c, r, pts, spans = produce_consume(
        {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, n)
    reqs = [q for q in r.metrics_requests if q["status"] == 200]
    assert reqs and all(q["headers"]["Content-Type"] == "application/json" for q in reqs)
    assert all(q["error"] is None for q in r.metrics_requests)
    # Traces keep their own protocol (protobuf by default).
    assert all(q["headers"]["Content-Type"] == "application/x-protobuf"
               for q in r.requests if q["path"].endswith("/v1/traces"))
    assert not log_lines(p.stderr, "http/json") and not log_lines(c.stderr, "http/json")
    assert total(pts, "messaging.client.sent.messages") == n
    assert total(pts, "messaging.client.consumed.messages") == n
    sends = [q for q in latest(pts, "messaging.client.operation.duration")
             if q["attributes"]["messaging.operation.name"] == "send"]
    assert sum(q["count"] for q in sends) == n == sum(sum(q["bucket_counts"]) for q in sends)
    assert all(q["bounds"] == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
                               1, 2.5, 5, 7.5, 10] for q in sends)
    assert all(0 < q["sum"] for q in sends)
    send_ids = {(s["trace_id"], s["span_id"]) for s in named(spans, "send j")}
    ex = [e for q in sends for e in q["exemplars"]]
    assert ex and all((e["trace_id"], e["span_id"]) in send_ids for e in ex), ex
    ages = latest(pts, "kotel.message.age")
    assert sum(q["count"] for q in ages) == n
    # The body is plain OTLP/JSON: 64-bit integers as strings, ids in hex.
    doc = json.loads(reqs[-1]["body"])
    m = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    point = (m.get("histogram") or m["sum"])["dataPoints"][0]
    assert isinstance(point["timeUnixNano"], str)


def test_general_protocol_http_json_applies_to_metrics():
    n = 8
    _, _, r, pts, _ = produce_consume({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, n)
    assert all(q["headers"]["Content-Type"] == "application/json"
               for q in r.metrics_requests + r.requests)
    assert total(pts, "messaging.client.sent.messages") == n


def test_json_and_protobuf_say_the_same():
    """Counters and histogram counts agree point for point between a
    protobuf run and a JSON run of the same program."""
    n = 10
    got = []
    for proto in ("http/protobuf", "http/json"):
        _, _, r, pts, _ = produce_consume({"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": proto}, n)
        last = [q for name in ("messaging.client.sent.messages",
                               "messaging.client.consumed.messages",
                               "messaging.client.operation.duration",
                               "kotel.message.age") for q in latest(pts, name)]
        for q in last:
            q["attributes"].pop("server.port", None)
            q["attributes"].pop("server.address", None)
        got.append(shape(last))
    assert got[0] == got[1], got


def test_json_groups_per_client_resources():
    with Broker(["svc:2"]) as b, Receiver() as r:
        env = agent_env(r, "multi-host", OTEL_METRICS_EXPORTER="otlp",
                        OTEL_METRIC_EXPORT_INTERVAL="200",
                        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http/json",
                        KOTEL_SERVICE_NAME_FROM="client.id")
        run([MULTICLIENT, "-b", b.bootstrap, "-t", "svc", "-n", "4"], env)
        last = json.loads([q for q in r.metrics_requests if q["status"] == 200][-1]["body"])
        names = [a["value"]["stringValue"] for rm in last["resourceMetrics"]
                 for a in rm["resource"]["attributes"] if a["key"] == "service.name"]
        assert sorted(names) == ["billing-svc", "multi-host", "orders-svc"], names
        # The exit flush's request: cumulative, every series.
        sent = {}
        for q in metrics_from_json(json.dumps(last)):
            if q["name"] == "messaging.client.sent.messages":
                svc = q["resource"]["service.name"]
                sent[svc] = sent.get(svc, 0) + q["value"]
        assert sent == {"orders-svc": 4, "billing-svc": 4}, sent


def test_json_escapes_a_client_id_service_name():
    """A client.id is the app's text: quotes, a backslash, a tab and
    non-ASCII reach the JSON bodies of both signals escaped, and come back
    intact."""
    weird = 'we"ird\\svc\tname-\u540d'
    with Broker(["w:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "w", "-n", "3", "-X", "client.id=" + weird,
                  receiver=r, env=dict(METRICS, OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
                                       KOTEL_SERVICE_NAME_FROM="client.id"))
        spans = r.wait_for(lambda s: len(named(s, "send w")) >= 3)
        pts = r.wait_metrics(lambda m: total(m, "messaging.client.sent.messages") >= 3)
        assert {s["resource"]["service.name"] for s in spans} == {weird}
        assert {q["resource"]["service.name"] for q in pts
                if q["name"] == "messaging.client.sent.messages"} == {weird}


def _records(out):
    """metrics_enc_dump's output -> [(protobuf bytes, json bytes)]."""
    pairs, i, cur = [], 0, {}
    while i < len(out):
        nl = out.index(b"\n", i)
        kind, n = out[i:nl].split()
        body = out[nl + 1:nl + 1 + int(n)]
        i = nl + 1 + int(n)
        cur[kind] = body
        if kind == b"J":
            pairs.append((cur[b"P"], body))
    return pairs


def test_json_encoder_says_what_the_protobuf_encoder_says():
    """Random requests (several resources, points without a client,
    overflow, exemplars, quotes, control bytes and non-ASCII text in
    names): each JSON body, parsed strictly, is the same message as the
    protobuf body of the same request."""
    import subprocess

    from google.protobuf import json_format  # noqa: F401 (the parser used)
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from otlp_receiver import metrics_json_to_request

    out = subprocess.run([os.path.join(BUILD, "tests", "metrics_enc_dump"), "7", "300"],
                         stdout=subprocess.PIPE, check=True, timeout=120).stdout
    pairs = _records(out)
    assert len(pairs) == 300
    groups = 0
    for pb, js in pairs:
        want = metrics_service_pb2.ExportMetricsServiceRequest()
        want.ParseFromString(pb)
        got = metrics_json_to_request(js)
        assert got == want, (str(want)[:2000], str(got)[:2000])
        groups = max(groups, len(want.resource_metrics))
    assert groups >= 4, groups
