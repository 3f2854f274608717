"""A local OTLP/HTTP trace receiver for tests and the demo.

It decodes what it receives with Google's protobuf runtime (python3-protobuf)
from classes protoc generates out of the project's .proto subset, so the
agent's protobuf-c encoder is checked by an independent implementation. It
also accepts OTLP/JSON. Tests can script its answers (status codes,
Retry-After, delays, garbage bodies, partial success) to exercise the
exporter's failure handling.

Run standalone: otlp_receiver.py --port 4318 --out spans.jsonl
"""

import argparse
import base64
import gzip
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build")), "py"))

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: E402
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2  # noqa: E402
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2  # noqa: E402

from collector_waits import CollectorWaits  # noqa: E402

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _anyvalue(v):
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_anyvalue(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _anyvalue(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, which)


def _attrs(kvs):
    return {kv.key: _anyvalue(kv.value) for kv in kvs}


def spans_from_proto(body):
    req = trace_service_pb2.ExportTraceServiceRequest()
    req.ParseFromString(body)
    out = []
    for rs in req.resource_spans:
        res = _attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append({
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "trace_state": s.trace_state,
                    "flags": s.flags,
                    "name": s.name,
                    "kind": KINDS.get(s.kind, str(s.kind)),
                    "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano,
                    "attributes": _attrs(s.attributes),
                    "links": [{"trace_id": l.trace_id.hex(), "span_id": l.span_id.hex(),
                               "flags": l.flags} for l in s.links],
                    "status": {"code": s.status.code, "message": s.status.message},
                    "resource": res,
                    "scope": {"name": ss.scope.name, "version": ss.scope.version},
                })
    return out


def metrics_from_proto(body):
    """One dict per data point of an ExportMetricsServiceRequest."""
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    req.ParseFromString(body)
    out = []
    for rm in req.resource_metrics:
        res = _attrs(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                data = getattr(m, kind)
                for p in data.data_points:
                    d = {"name": m.name, "unit": m.unit, "description": m.description,
                         "type": kind, "temporality": getattr(data, "aggregation_temporality", 0),
                         "attributes": _attrs(p.attributes), "start": p.start_time_unix_nano,
                         "time": p.time_unix_nano, "resource": res,
                         "scope": {"name": sm.scope.name, "version": sm.scope.version}}
                    if kind == "histogram":
                        d.update(count=p.count, sum=p.sum, bucket_counts=list(p.bucket_counts),
                                 bounds=list(p.explicit_bounds),
                                 exemplars=[{"trace_id": e.trace_id.hex(), "span_id": e.span_id.hex(),
                                             "value": e.as_double, "time": e.time_unix_nano}
                                            for e in p.exemplars])
                    else:
                        d["monotonic"] = getattr(data, "is_monotonic", False)
                        d["value"] = getattr(p, p.WhichOneof("value"))
                    out.append(d)
    return out


def _ids_to_base64(objs):
    """OTLP/JSON's trace and span ids (hex) in @objs (exemplars, log
    records) as protobuf's JSON mapping has bytes: base64."""
    for o in objs:
        for k in ("traceId", "spanId"):
            if k in o:
                o[k] = base64.b64encode(bytes.fromhex(o[k])).decode()


def metrics_from_json(body):
    """The same for an OTLP/JSON request (metrics_json_to_request)."""
    return metrics_from_proto(metrics_json_to_request(body).SerializeToString())


def metrics_json_to_request(body):
    """An OTLP/JSON metrics request as an ExportMetricsServiceRequest,
    parsed strictly: protobuf's own JSON parser (unknown fields, wrong
    types and malformed numbers raise), after the one difference of
    OTLP/JSON from protobuf's JSON mapping, trace and span ids in hex
    rather than base64, is undone."""
    from google.protobuf import json_format

    doc = json.loads(body)
    for rm in doc.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for p in m.get("histogram", {}).get("dataPoints", []):
                    _ids_to_base64(p.get("exemplars", []))
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    json_format.Parse(json.dumps(doc), req)
    return req


def logs_from_proto(body):
    """Every LogRecord of an ExportLogsServiceRequest, flattened."""
    req = logs_service_pb2.ExportLogsServiceRequest()
    req.ParseFromString(body)
    out = []
    for rl in req.resource_logs:
        res = _attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            for r in sl.log_records:
                out.append({
                    "time": r.time_unix_nano,
                    "observed_time": r.observed_time_unix_nano,
                    "severity_number": r.severity_number,
                    "severity_text": r.severity_text,
                    "body": _anyvalue(r.body) if r.HasField("body") else None,
                    "attributes": _attrs(r.attributes),
                    "flags": r.flags,
                    "trace_id": r.trace_id.hex(),
                    "span_id": r.span_id.hex(),
                    "resource": res,
                    "scope": sl.scope.name,
                })
    return out


def _json_value(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "doubleValue" in v:
        return v["doubleValue"]
    return None


def logs_from_json(body):
    """logs_from_proto's records from an OTLP/JSON ExportLogsServiceRequest,
    parsed strictly: protobuf's own JSON parser (unknown fields, wrong types
    and malformed numbers raise), after the one difference of OTLP/JSON from
    protobuf's JSON mapping, trace and span ids in hex rather than base64,
    is undone."""
    from google.protobuf import json_format

    doc = json.loads(body)
    for rl in doc.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            _ids_to_base64(sl.get("logRecords", []))
    req = logs_service_pb2.ExportLogsServiceRequest()
    json_format.ParseDict(doc, req)
    return logs_from_proto(req.SerializeToString())


def spans_from_json(body):
    doc = json.loads(body)
    out = []
    for rs in doc.get("resourceSpans", []):
        res = {a["key"]: _json_value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                out.append({
                    "trace_id": s["traceId"],
                    "span_id": s["spanId"],
                    "parent_span_id": s.get("parentSpanId", ""),
                    "trace_state": s.get("traceState", ""),
                    "flags": s.get("flags", 0),
                    "name": s["name"],
                    "kind": KINDS.get(s.get("kind", 0)),
                    "start": int(s["startTimeUnixNano"]),
                    "end": int(s["endTimeUnixNano"]),
                    "attributes": {a["key"]: _json_value(a["value"]) for a in s.get("attributes", [])},
                    "links": [{"trace_id": l["traceId"], "span_id": l["spanId"],
                               "flags": l.get("flags", 0)} for l in s.get("links", [])],
                    "status": {"code": s.get("status", {}).get("code", 0),
                               "message": s.get("status", {}).get("message", "")},
                    "resource": res,
                    "scope": ss.get("scope", {}),
                })
    return out


def _decode(h, body, from_json, from_proto):
    """A request's body after its Content-Encoding, decoded by its
    Content-Type: (body, items, None), or (body as far as it was undone,
    [], the error) when the agent sent something undecodable."""
    try:
        if h.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if h.headers.get("Content-Type", "").startswith("application/json"):
            return body, from_json(body), None
        return body, from_proto(body), None
    except Exception as e:
        return body, [], repr(e)


def _answer(h, status, resp_body, headers):
    """The protobuf answer, with @headers (a value may be a callable,
    called now)."""
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v() if callable(v) else v)
    h.send_header("Content-Type", "application/x-protobuf")
    h.send_header("Content-Length", str(len(resp_body)))
    try:
        h.end_headers()
        h.wfile.write(resp_body)
    except OSError:  # the client gave up first (timeout, oversized body)
        h.close_connection = True


class Receiver(CollectorWaits):
    """An OTLP/HTTP receiver on 127.0.0.1 (ephemeral port unless given).

    script: a list of responses consumed one per request, each a dict with
    optional keys status, headers, body (bytes), delay (seconds), close
    (drop the connection without answering). A header value may be a
    callable, called when the response is sent (e.g. an HTTP date). Once it runs out, requests get
    200 with an empty ExportTraceServiceResponse.
    """

    def __init__(self, port=0, tls=None, out=None):
        self.spans = []
        self.requests = []
        self.script = []
        # /v1/metrics has its own: data points, requests and script.
        self.metrics = []
        self.metrics_requests = []
        self.metrics_script = []
        # /v1/logs: log records and requests (always answered 200).
        self.logs = []
        self.logs_requests = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.out = out
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls["cert"], tls["key"])
            if tls.get("client_ca"):
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(tls["client_ca"])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        scheme = "https" if tls else "http"
        self.endpoint = "%s://127.0.0.1:%d" % (scheme, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, h):
        length = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(length) if length else b""
        raw = body
        if h.path.endswith("/v1/metrics"):
            return self._handle_metrics(h, body)
        if h.path.endswith("/v1/logs"):
            return self._handle_logs(h, body)
        with self.lock:
            step = self.script.pop(0) if self.script else {}
        if step.get("delay"):
            time.sleep(step["delay"])
        if step.get("close"):
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return
        status = step.get("status", 200)
        spans, error = [], None
        if status == 200:
            body, spans, error = _decode(h, body, spans_from_json, spans_from_proto)
            if error:
                status = 400
        req = {"path": h.path, "headers": dict(h.headers), "raw": raw, "body": body,
               "status": status, "n_spans": len(spans), "error": error, "time": time.time(),
               "client": h.client_address}
        # Recorded before answering: once the client has its answer, a test
        # that looks finds the request there.
        with self.cond:
            self.requests.append(req)
            if status == 200 and not step.get("reject_count_spans_anyway"):
                self.spans.extend(spans)
                if self.out:
                    with open(self.out, "a") as f:
                        for s in spans:
                            f.write(json.dumps(s) + "\n")
            self.cond.notify_all()
        resp_body = step.get("body")
        if resp_body is None:
            resp_body = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        _answer(h, status, resp_body, step.get("headers", {}))

    def _handle_metrics(self, h, body):
        raw = body
        with self.lock:
            step = self.metrics_script.pop(0) if self.metrics_script else {}
        status = step.get("status", 200)
        points, error = [], None
        if status == 200:
            body, points, error = _decode(h, body, metrics_from_json, metrics_from_proto)
            if error:
                status = 400
        with self.cond:
            self.metrics_requests.append({"path": h.path, "headers": dict(h.headers), "raw": raw,
                                          "body": body, "status": status, "error": error,
                                          "n_points": len(points), "time": time.time()})
            if status == 200:
                self.metrics.extend(points)
            self.cond.notify_all()
        resp_body = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
        _answer(h, status, resp_body, step.get("headers", {}))

    def _handle_logs(self, h, body):
        raw = body
        body, records, error = _decode(h, body, logs_from_json, logs_from_proto)
        status = 400 if error else 200
        with self.cond:
            self.logs_requests.append({"path": h.path, "headers": dict(h.headers), "raw": raw,
                                       "body": body, "status": status, "error": error,
                                       "n_records": len(records), "time": time.time()})
            if status == 200:
                self.logs.extend(records)
            self.cond.notify_all()
        resp_body = logs_service_pb2.ExportLogsServiceResponse().SerializeToString()
        _answer(h, status, resp_body, {})

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=4318)
    ap.add_argument("--out", required=True, help="append received spans as JSON lines")
    args = ap.parse_args()
    r = Receiver(port=args.port, out=args.out)
    print(r.endpoint, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
