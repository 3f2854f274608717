"""An OTLP/gRPC collector for tests: tests/lib/otlp_grpc_server.js (npm's
@grpc/grpc-js, a gRPC implementation kotel shares nothing with) in a child
process, behind the same interface as otlp_receiver.Receiver: spans,
requests, metrics, metrics_requests, logs, logs_requests,
wait_for/wait_spans/wait_metrics/wait_logs, endpoint, and scripts of
answers.

The server decodes each request with protobufjs from the project's .proto
files and reports it as a JSON line; here it becomes the same span and
data-point and log-record dicts otlp_receiver's protoc-generated
decoding makes, so a test
checks both transports with one set of assertions.

Script steps (grpc_script / grpc_metrics_script / grpc_logs_script): {"code": 14, "message":
"...", "retry_delay_ms": 1500}, {"hang": True}, {"close": True},
{"partial": {"rejected": 1, "message": "..."}}, {"delay_ms": 2000}.
"""

import base64
import json
import os
import subprocess
import threading
import time

from collector_waits import TIMEOUT_SCALE, CollectorWaits

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(HERE, "otlp_grpc_server.js")
NODE_MODULES = os.path.join(ROOT, "tests", "node_modules")

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}

# gRPC status codes by name, for scripts.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED = 0, 1, 2, 3, 4
PERMISSION_DENIED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE = 7, 8, 10, 11
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 12, 13, 14, 15, 16


def _hex(b64):
    return base64.b64decode(b64 or "").hex()


def _anyvalue(v):
    which = v.get("value") if v else None
    if not which:
        return None
    x = v[which]
    if which == "array_value":
        return [_anyvalue(e) for e in x.get("values", [])]
    if which == "kvlist_value":
        return {kv["key"]: _anyvalue(kv["value"]) for kv in x.get("values", [])}
    if which == "int_value":
        return int(x)
    if which == "bytes_value":
        return base64.b64decode(x)
    return x


def _attrs(kvs):
    return {kv["key"]: _anyvalue(kv.get("value")) for kv in kvs or []}


def spans_from_request(req):
    """The ExportTraceServiceRequest as protobufjs decoded it, as
    otlp_receiver.spans_from_proto's dicts."""
    out = []
    for rs in req.get("resource_spans", []):
        res = _attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scope_spans", []):
            scope = ss.get("scope") or {}
            for s in ss.get("spans", []):
                st = s.get("status") or {}
                out.append({
                    "trace_id": _hex(s["trace_id"]),
                    "span_id": _hex(s["span_id"]),
                    "parent_span_id": _hex(s.get("parent_span_id")),
                    "trace_state": s.get("trace_state", ""),
                    "flags": s.get("flags", 0),
                    "name": s["name"],
                    "kind": KINDS.get(s.get("kind", 0), str(s.get("kind"))),
                    "start": int(s["start_time_unix_nano"]),
                    "end": int(s["end_time_unix_nano"]),
                    "attributes": _attrs(s.get("attributes")),
                    "links": [{"trace_id": _hex(l["trace_id"]), "span_id": _hex(l["span_id"]),
                               "flags": l.get("flags", 0)} for l in s.get("links", [])],
                    "status": {"code": st.get("code", 0), "message": st.get("message", "")},
                    "resource": res,
                    "scope": {"name": scope.get("name", ""), "version": scope.get("version", "")},
                })
    return out


def metrics_from_request(req):
    """The ExportMetricsServiceRequest, as otlp_receiver.metrics_from_proto's
    dicts (one per data point)."""
    out = []
    for rm in req.get("resource_metrics", []):
        res = _attrs((rm.get("resource") or {}).get("attributes"))
        for sm in rm.get("scope_metrics", []):
            scope = sm.get("scope") or {}
            for m in sm.get("metrics", []):
                kind = m["data"]
                data = m[kind]
                for p in data.get("data_points", []):
                    d = {"name": m["name"], "unit": m.get("unit", ""),
                         "description": m.get("description", ""), "type": kind,
                         "temporality": data.get("aggregation_temporality", 0),
                         "attributes": _attrs(p.get("attributes")),
                         "start": int(p["start_time_unix_nano"]), "time": int(p["time_unix_nano"]),
                         "resource": res,
                         "scope": {"name": scope.get("name", ""), "version": scope.get("version", "")}}
                    if kind == "histogram":
                        d.update(count=int(p["count"]), sum=p.get("sum", 0.0),
                                 bucket_counts=[int(c) for c in p.get("bucket_counts", [])],
                                 bounds=list(p.get("explicit_bounds", [])),
                                 exemplars=[{"trace_id": _hex(e.get("trace_id")),
                                             "span_id": _hex(e.get("span_id")),
                                             "value": e.get("as_double", 0.0),
                                             "time": int(e["time_unix_nano"])}
                                            for e in p.get("exemplars", [])])
                    else:
                        d["monotonic"] = data.get("is_monotonic", False)
                        v = p.get("value")
                        d["value"] = int(p[v]) if v == "as_int" else p.get(v, 0)
                    out.append(d)
    return out


def logs_from_request(req):
    """The ExportLogsServiceRequest, as otlp_receiver.logs_from_proto's
    dicts (one per log record)."""
    out = []
    for rl in req.get("resource_logs", []):
        res = _attrs((rl.get("resource") or {}).get("attributes"))
        for sl in rl.get("scope_logs", []):
            scope = sl.get("scope") or {}
            for r in sl.get("log_records", []):
                out.append({
                    "time": int(r["time_unix_nano"]),
                    "observed_time": int(r["observed_time_unix_nano"]),
                    "severity_number": r.get("severity_number", 0),
                    "severity_text": r.get("severity_text", ""),
                    "body": _anyvalue(r.get("body")),
                    "attributes": _attrs(r.get("attributes")),
                    "flags": r.get("flags", 0),
                    "trace_id": _hex(r.get("trace_id")),
                    "span_id": _hex(r.get("span_id")),
                    "resource": res,
                    "scope": scope.get("name", ""),
                })
    return out


class GrpcReceiver(CollectorWaits):
    """The OTLP/gRPC server on 127.0.0.1 (h2c; TLS with tls={"cert",
    "key", "client_ca"}); endpoint is http:// or https://127.0.0.1:port.
    Requests record what the server saw: path, metadata (headers),
    encoding, deadline_ms, the answer given, n_spans / n_points /
    n_records."""

    proto = "grpc"
    # kotel_test.agent_env adds this to a client's environment.
    agent_env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}

    def __init__(self, tls=None):
        self.spans, self.requests = [], []
        self.metrics, self.metrics_requests = [], []
        self.logs, self.logs_requests = [], []
        self.cond = threading.Condition()
        self._acks = set()
        self._next_id = 0
        self.port = None
        args = ["node", SERVER]
        if tls:
            args += ["--tls", ",".join([tls["cert"], tls["key"]] +
                                       ([tls["client_ca"]] if tls.get("client_ca") else []))]
        if not os.path.isdir(os.path.join(NODE_MODULES, "@grpc", "grpc-js")):
            raise RuntimeError("tests/node_modules is missing: run make tools (npm ci in tests/)")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        with self.cond:
            deadline = time.time() + 30 * TIMEOUT_SCALE
            while self.port is None and self.proc.poll() is None and time.time() < deadline:
                self.cond.wait(0.2)
        if self.port is None:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError("the OTLP/gRPC server did not start: " + err[-2000:])
        self.endpoint = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            with self.cond:
                if "port" in ev:
                    self.port = ev["port"]
                elif "ack" in ev:
                    self._acks.add(ev["ack"])
                elif ev.get("event") == "request":
                    self._record(ev)
                self.cond.notify_all()

    def _record(self, ev):
        ok = ev["answer"].get("code") == 0
        req = {"path": ev["path"], "headers": ev["metadata"], "encoding": ev["encoding"],
               "deadline_ms": ev["deadline_ms"], "answer": ev["answer"], "time": ev["time"],
               "status": ev["answer"].get("code")}
        if ev["signal"] == "traces":
            spans = spans_from_request(ev["request"])
            req["n_spans"] = len(spans)
            self.requests.append(req)
            if ok:
                self.spans.extend(spans)
        elif ev["signal"] == "logs":
            records = logs_from_request(ev["request"])
            req["n_records"] = len(records)
            self.logs_requests.append(req)
            if ok:
                self.logs.extend(records)
        else:
            points = metrics_from_request(ev["request"])
            req["n_points"] = len(points)
            self.metrics_requests.append(req)
            if ok:
                self.metrics.extend(points)

    def _command(self, **cmd):
        with self.cond:
            self._next_id += 1
            cmd["id"] = i = self._next_id
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        with self.cond:
            deadline = time.time() + 20 * TIMEOUT_SCALE
            while i not in self._acks and time.time() < deadline:
                self.cond.wait(0.2)
            assert i in self._acks, "the OTLP/gRPC server did not acknowledge %r" % cmd

    def wait_requests(self, n, timeout=20.0):
        """Waits until @n trace requests were reported; returns them."""
        return self._wait("requests", lambda r: len(r) >= n, timeout)

    def grpc_script(self, steps):
        self._command(cmd="script", signal="traces", steps=steps)

    def grpc_metrics_script(self, steps):
        self._command(cmd="script", signal="metrics", steps=steps)

    def grpc_logs_script(self, steps):
        self._command(cmd="script", signal="logs", steps=steps)

    def require_gzip(self):
        self._command(cmd="require_gzip")

    def wait_logs_requests(self, n, timeout=20.0):
        """Waits until @n logs requests were reported; returns them."""
        return self._wait("logs_requests", lambda r: len(r) >= n, timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
