"""OTLP/HTTP as the collector sees it: protobuf bytes that protoc decodes,
http/json, gzip, TLS with a CA made here (verification on by default, client
certificates), headers from the environment (sent, never logged), endpoint
precedence, keep-alive and User-Agent. OTLP/gRPC: test_exporter_grpc."""

import base64
import json
import os
import subprocess
import tempfile

from exporter_helpers import make_ca, produce
from kotel_test import ROOT, Broker, Receiver
from semantics_lib import log_lines

N = 3
ONE_BATCH = {"OTEL_BSP_SCHEDULE_DELAY": "60000", "KOTEL_SHUTDOWN_TIMEOUT": "30000"}
PROTO_DIR = os.path.join(ROOT, "exporter", "proto")


def test_protoc_decodes_raw_request():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(ONE_BATCH, OTEL_SERVICE_NAME="billing"))
        assert st["exported"] == N, st
        assert len(r.requests) == 1
        req = r.requests[0]
        assert req["path"] == "/v1/traces"
        assert req["headers"]["Content-Type"] == "application/x-protobuf"
        d = subprocess.run(
            ["protoc", "--decode", "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
             "-I", PROTO_DIR, "opentelemetry/proto/collector/trace/v1/trace_service.proto"],
            input=req["body"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        text = d.stdout.decode()
        assert text.count("resource_spans {") == 1, text
        assert text.count("  spans {") == N, text
        assert text.count('name: "send t"') == N, text
        assert 'string_value: "billing"' in text, text
        assert 'name: "kotel"' in text, text
        assert text.count("kind: SPAN_KIND_PRODUCER") == N, text


def test_http_json():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, receiver=r,
                        env=dict(ONE_BATCH, OTEL_EXPORTER_OTLP_PROTOCOL="http/json"))
        assert st["exported"] == N, st
        req = r.requests[0]
        assert req["headers"]["Content-Type"] == "application/json"
        doc = json.loads(req["body"])
        spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
        assert len(spans) == N
        assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)
        assert sorted(s["attributes"]["messaging.kafka.message.key"] for s in r.spans) == \
            ["k0", "k1", "k2"]


def test_gzip():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, receiver=r,
                        env=dict(ONE_BATCH, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="gzip"))
        assert st["exported"] == N, st
        req = r.requests[0]
        assert req["headers"].get("Content-Encoding") == "gzip"
        assert req["raw"][:2] == b"\x1f\x8b" and len(req["raw"]) != len(req["body"])
        assert len(r.spans) == N and req["error"] is None


def test_tls_with_test_ca_and_client_certificate():
    with tempfile.TemporaryDirectory() as d, Broker() as b:
        c = make_ca(d)
        tls = {"cert": c["srv_cert"], "key": c["srv_key"], "client_ca": c["ca"]}
        with Receiver(tls=tls) as r:
            assert r.endpoint.startswith("https://")
            p, st = produce(b, N, receiver=r, env=dict(
                ONE_BATCH, OTEL_EXPORTER_OTLP_CERTIFICATE=c["ca"],
                OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=c["cli_cert"],
                OTEL_EXPORTER_OTLP_CLIENT_KEY=c["cli_key"]))
            assert st["exported"] == N, (st, p.stderr)
            assert len(r.spans) == N


def test_tls_verifies_server_by_default():
    with tempfile.TemporaryDirectory() as d, Broker() as b:
        c = make_ca(d)
        with Receiver(tls={"cert": c["srv_cert"], "key": c["srv_key"]}) as r:
            # No OTEL_EXPORTER_OTLP_CERTIFICATE: the system store does not
            # know this CA, so the handshake must fail, and not be retried.
            p, st = produce(b, N, receiver=r, env=ONE_BATCH)
            assert st["failed"] == N and st["exported"] == 0 and st["retried"] == 0, st
            assert r.requests == [] and r.spans == []
            assert "not retrying" in p.stderr, p.stderr


def test_headers_sent_and_never_logged():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(
            ONE_BATCH, OTEL_LOG_LEVEL="debug",
            OTEL_EXPORTER_OTLP_HEADERS="api-key=s3cr%3Dt0ken,x-tenant=acme%20corp,broken%zz"))
        assert st["exported"] == N, st
        h = r.requests[0]["headers"]
        assert h["api-key"] == "s3cr=t0ken" and h["x-tenant"] == "acme corp", h
        assert "1 malformed entry" in p.stderr, p.stderr
        for secret in ("s3cr", "t0ken", "acme"):
            assert secret not in p.stderr, p.stderr


FRAMING = ["Content-Length=0", "Transfer-Encoding=chunked", "Host=evil.example",
           "Content-Type=text/plain", "Content-Encoding=br", "Connection=close",
           "expect=100-continue", "USER-AGENT=me"]


def test_framing_headers_refused_others_kept():
    # Content-Length=0 on a kept-alive connection would make the collector
    # read each body as the next request: refused, one line each, and every
    # request still arrives whole, with the other headers.
    with Broker() as b, Receiver() as r:
        p, st = produce(b, 4, receiver=r, env=dict(
            ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1",
            OTEL_EXPORTER_OTLP_HEADERS=",".join(FRAMING + ["x-tenant=blue"])))
        assert st["exported"] == 4 and len(r.requests) == 4, (st, p.stderr)
        assert len(r.spans) == 4 and all(q["error"] is None for q in r.requests)
        assert len({q["client"] for q in r.requests}) == 1, "one connection reused"
        for q in r.requests:
            h = q["headers"]
            assert h["x-tenant"] == "blue", h
            assert h["Host"] == "127.0.0.1:%d" % r.port, h
            assert h["Content-Type"] == "application/x-protobuf", h
            assert h["User-Agent"].startswith("kotel/"), h
            assert "Content-Encoding" not in h and "Transfer-Encoding" not in h, h
            assert "Expect" not in h and h.get("Connection") != "close", h
            assert int(h["Content-Length"]) == len(q["raw"]) > 0, h
        for entry in FRAMING:
            name = entry.split("=")[0]
            lines = log_lines(p.stderr, "OTEL_EXPORTER_OTLP_HEADERS: '%s' is set by kotel" % name)
            assert len(lines) == 1, (name, p.stderr)
        assert "malformed" not in p.stderr and "evil" not in p.stderr, p.stderr


def test_traces_headers_override_generic():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, receiver=r, env=dict(
            ONE_BATCH, OTEL_EXPORTER_OTLP_HEADERS="x-generic=1",
            OTEL_EXPORTER_OTLP_TRACES_HEADERS="x-traces=2"))
        h = r.requests[0]["headers"]
        assert h.get("x-traces") == "2" and "x-generic" not in h, h


def test_generic_endpoint_gets_v1_traces():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, N, endpoint=r.endpoint + "/base/", env=ONE_BATCH)
        assert st["exported"] == N, st
        assert [q["path"] for q in r.requests] == ["/base/v1/traces"]


def test_traces_endpoint_wins_and_is_used_as_is():
    with Broker() as b, Receiver() as generic, Receiver() as traces:
        p, st = produce(b, N, endpoint=generic.endpoint, env=dict(
            ONE_BATCH, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=traces.endpoint + "/custom/path"))
        assert st["exported"] == N, st
        assert [q["path"] for q in traces.requests] == ["/custom/path"]
        assert generic.requests == []


def test_endpoint_credentials_never_logged_and_query_kept():
    # Userinfo and an "?api_key=" query reach the collector, with the
    # signal's path before the query, and never stderr, even at debug and
    # in the lines of a failing export.
    base = "http://user:s3cret@127.0.0.1:%d/?api_key=k3y"
    with Broker() as b, Receiver() as r:
        r.script = [{"status": 503}]
        p, st = produce(b, N, endpoint=base % r.port,
                        env=dict(ONE_BATCH, OTEL_LOG_LEVEL="debug"))
        assert st["exported"] == N and len(r.requests) == 2, st
        assert [q["path"] for q in r.requests] == ["/v1/traces?api_key=k3y"] * 2
        assert r.requests[1]["headers"]["Authorization"] == "Basic " + \
            base64.b64encode(b"user:s3cret").decode()
        assert "export to http://REDACTED@127.0.0.1:%d/v1/traces?REDACTED: HTTP 503" % \
            r.port in p.stderr, p.stderr
        for secret in ("s3cret", "k3y", "api_key", "user:"):
            assert secret not in p.stderr, p.stderr
    with Broker() as b, Receiver() as traces:
        traces.script = [{"status": 400}]
        p, st = produce(b, N, env=dict(
            ONE_BATCH, OTEL_LOG_LEVEL="debug", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=(
                "http://tok:s3cret@127.0.0.1:%d/custom?sig=k3y#frag" % traces.port)))
        assert [q["path"] for q in traces.requests] == ["/custom?sig=k3y"]
        assert "export of %d spans to http://REDACTED@127.0.0.1:%d/custom?REDACTED#REDACTED " \
            "failed" % (N, traces.port) in p.stderr, p.stderr
        for secret in ("s3cret", "k3y", "sig=", "tok", "frag"):
            assert secret not in p.stderr, p.stderr


def test_keep_alive_and_user_agent():
    with Broker() as b, Receiver() as r:
        p, st = produce(b, 4, receiver=r,
                        env=dict(ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1"))
        assert st["exported"] == 4 and len(r.requests) == 4, st
        assert len({q["client"] for q in r.requests}) == 1, "one connection reused"
        assert all(q["headers"]["User-Agent"].startswith("kotel/") for q in r.requests)
        assert "Expect" not in r.requests[0]["headers"]
