"""One service name per client (KOTEL_SERVICE_NAME_FROM, docs/span-model.md
#resource): one process hosting two producers (client.id orders-svc and
billing-svc) and a consumer (group.id audit-group, librdkafka's default
client.id) shows up as one service or several, according to the mode; the
spans and the metrics of each client carry its resource, and each request
holds one ResourceSpans / ResourceMetrics per resource; librdkafka's log
lines are log records under the resource of the client that logged them.
An invalid value is logged once and leaves the feature off."""

import os

from kotel_test import BUILD, Broker, Receiver, agent_env, named, run
from otlp_receiver import metrics_from_proto
from semantics_lib import log_lines, rows

MULTICLIENT = os.path.join(BUILD, "tests", "multiclient")
METRICS = {"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "200"}
N = 6
HOST = "multi-host"


def run_multi(broker, receiver, mode):
    env = agent_env(receiver, HOST, **METRICS)
    if mode is not None:
        env["KOTEL_SERVICE_NAME_FROM"] = mode
    p = run([MULTICLIENT, "-b", broker.bootstrap, "-t", "svc", "-n", str(N)], env)
    assert len(rows(p.stdout, "msg")) == 2 * N and "done" in p.stdout
    return p


def final_sum(receiver, name):
    """service.name -> the sum of counter @name in the last metrics request
    (the exit flush: cumulative, every series). Two producers of one
    service have the same attribute set, so series are not told apart
    across requests."""
    reqs = [q for q in receiver.metrics_requests if q["status"] == 200]
    out = {}
    for q in metrics_from_proto(reqs[-1]["body"]) if reqs else []:
        if q["name"] == name:
            svc = q["resource"]["service.name"]
            out[svc] = out.get(svc, 0) + q["value"]
    return out


def check(mode, want_a, want_b, want_consumer):
    with Broker(["svc:2"]) as b, Receiver() as r:
        p = run_multi(b, r, mode)
        spans = r.wait_for(lambda s: len(named(s, "send svc")) >= 2 * N and
                           len(named(s, "process svc")) >= 2 * N)
        pts = r.wait_metrics(lambda m: any(
            q["name"] == "messaging.client.consumed.messages" for q in m))
        sends = named(spans, "send svc")
        assert len(sends) == 2 * N
        for s in sends:
            key = s["attributes"]["messaging.kafka.message.key"]
            want = want_a if key.startswith("a") else want_b
            assert s["resource"]["service.name"] == want, (key, s["resource"])
            # Every other resource attribute is the process's.
            assert s["resource"]["process.pid"] == sends[0]["resource"]["process.pid"]
            assert s["resource"]["telemetry.sdk.name"] == "kotel"
        procs = named(spans, "process svc")
        assert len(procs) == 2 * N
        assert {s["resource"]["service.name"] for s in procs} == {want_consumer}
        sent = final_sum(r, "messaging.client.sent.messages")
        want_sent = {}
        for svc in (want_a, want_b):
            want_sent[svc] = want_sent.get(svc, 0) + N
        assert sent == want_sent, sent
        assert final_sum(r, "messaging.client.consumed.messages") == {want_consumer: 2 * N}
        # One ResourceMetrics per resource in each request.
        for q in pts:
            assert q["resource"]["telemetry.sdk.name"] == "kotel"
        return p, r


def test_off_one_service_for_all_clients():
    check(None, HOST, HOST, HOST)


def test_client_id_names_each_client():
    # The consumer has librdkafka's default client.id ("rdkafka"): it keeps
    # the process's service name.
    check("client.id", "orders-svc", "billing-svc", HOST)


def test_group_id_names_the_consumer():
    # Producers have no group.id: they keep the process's service name.
    check("group.id", HOST, HOST, "audit-group")


def test_requests_group_by_resource():
    """Each export request holds each resource once: the spans of a
    service in one ResourceSpans, its metrics in one ResourceMetrics."""
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    with Broker(["svc:2"]) as b, Receiver() as r:
        run_multi(b, r, "client.id")
        r.wait_for(lambda s: len(named(s, "process svc")) >= 2 * N)
        r.wait_metrics(lambda m: any(q["name"] == "messaging.client.consumed.messages"
                                     for q in m))
        services = set()
        for req in r.requests:
            if req.get("status", 200) != 200 or not req["path"].endswith("/v1/traces"):
                continue
            t = trace_service_pb2.ExportTraceServiceRequest()
            t.ParseFromString(req["body"])
            names = [a.value.string_value for rs in t.resource_spans
                     for a in rs.resource.attributes if a.key == "service.name"]
            assert len(names) == len(set(names)), names
            services.update(names)
        assert {"orders-svc", "billing-svc", HOST} <= services
        services = set()
        for req in r.metrics_requests:
            m = metrics_service_pb2.ExportMetricsServiceRequest()
            m.ParseFromString(req["body"])
            names = [a.value.string_value for rm in m.resource_metrics
                     for a in rm.resource.attributes if a.key == "service.name"]
            assert len(names) == len(set(names)), names
            services.update(names)
        assert {"orders-svc", "billing-svc", HOST} <= services


def test_log_records_carry_their_clients_service():
    """librdkafka's lines (debug=msg on every client) are log records of
    the client that logged them, under its resource: each producer's
    client.id is its service.name, the consumer (client.id rdkafka) keeps
    the process's; each logs request holds each resource once."""
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    mine = ("orders-svc", "billing-svc")
    with Broker(["svc:2"]) as b, Receiver() as r:
        env = agent_env(r, HOST, OTEL_LOGS_EXPORTER="otlp", OTEL_BLRP_SCHEDULE_DELAY="100",
                        KOTEL_LOGS_MAX_PER_SECOND="0", KOTEL_SERVICE_NAME_FROM="client.id")
        p = run([MULTICLIENT, "-b", b.bootstrap, "-t", "svc", "-n", str(N), "-d", "msg"], env)
        assert "done" in p.stdout
        logs = r.wait_logs(lambda ls: {(x["attributes"].get("messaging.client.id"),
                                        x["attributes"]["kotel.kafka.log.facility"])
                                       for x in ls} >= {(m, "PRODUCE") for m in mine} |
                           {("rdkafka", "FETCH")})
        reqs = list(r.logs_requests)
    by_svc = {}
    for x in logs:
        cid = x["attributes"]["messaging.client.id"]
        want = cid if cid in mine else HOST
        assert x["resource"]["service.name"] == want, x
        assert x["resource"]["telemetry.sdk.name"] == "kotel"
        by_svc.setdefault(want, set()).add(x["attributes"]["kotel.kafka.log.facility"])
    assert {"PRODUCE", "MSGSET"} <= by_svc["orders-svc"] and \
        {"PRODUCE", "MSGSET"} <= by_svc["billing-svc"], by_svc
    assert "FETCH" in by_svc[HOST] and "PRODUCE" not in by_svc[HOST], by_svc
    services = set()
    for q in reqs:
        req = logs_service_pb2.ExportLogsServiceRequest()
        req.ParseFromString(q["body"])
        names = [a.value.string_value for rl in req.resource_logs
                 for a in rl.resource.attributes if a.key == "service.name"]
        assert len(names) == len(set(names)), names
        services.update(names)
    assert services == {"orders-svc", "billing-svc", HOST}, services


def test_invalid_value_logged_once_and_off():
    with Broker(["svc:2"]) as b, Receiver() as r:
        p = run_multi(b, r, "transactional.id")
        lines = log_lines(p.stderr, "KOTEL_SERVICE_NAME_FROM")
        assert len(lines) == 1 and "transactional.id" in lines[0], p.stderr
        spans = r.wait_for(lambda s: len(named(s, "send svc")) >= 2 * N)
        assert {s["resource"]["service.name"] for s in spans} == {HOST}


def test_console_lines_name_the_service():
    with Broker(["svc:2"]) as b:
        env = agent_env(None, HOST, OTEL_TRACES_EXPORTER="console",
                        OTEL_METRICS_EXPORTER="console", KOTEL_SERVICE_NAME_FROM="client.id")
        p = run([MULTICLIENT, "-b", b.bootstrap, "-t", "svc", "-n", str(N)], env)
    sends = [l for l in p.stderr.splitlines() if l.startswith("kotel: span 'send svc'")]
    assert len(sends) == 2 * N, p.stderr[-3000:]
    for l in sends:
        svc = "orders-svc" if " messaging.kafka.message.key=a" in l else "billing-svc"
        assert l.endswith(" service.name=" + svc), l
    sent = [l for l in p.stderr.splitlines()
            if l.startswith("kotel: metric 'messaging.client.sent.messages'")]
    assert {l.rsplit(" service.name=", 1)[1] for l in sent} == {"orders-svc", "billing-svc"}
