"""librdkafka's log lines and errors as OTLP log records (docs/logs.md),
with the app's own callbacks and librdkafka's stderr printing unchanged.

Every test runs logclient (an ordinary librdkafka program) under kotel
with OTEL_LOGS_EXPORTER=otlp and the receiver decoding /v1/logs; the "same
as without kotel" tests run it a second time with no LD_PRELOAD and
compare what the app saw."""

import contextlib
import os
import re

from kotel_test import BUILD, Broker, GrpcReceiver, Receiver, agent_env, kclient, named, run
from otlp_grpc_receiver import UNAVAILABLE
from semantics_lib import dead_bootstrap, log_lines

LOGS_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

LOGCLIENT = os.path.join(BUILD, "tests", "logclient")


def logclient(bootstrap, *args, receiver=None, kotel=True, env=None, check=True):
    extra = {"OTEL_LOGS_EXPORTER": "otlp", "OTEL_BLRP_SCHEDULE_DELAY": "100"}
    extra.update(env or {})
    e = agent_env(receiver, "logclient", preload=kotel, **extra)
    return run([LOGCLIENT, "-b", bootstrap] + list(args), e, check=check)


def app_lines(stdout, kind="log"):
    """The app's callback lines: ("log", level, fac, line) or ("error",
    name, reason)."""
    out = []
    for l in stdout.splitlines():
        if kind == "log" and l.startswith("log "):
            level, rest = l[4:].split(" ", 1)
            fac, line = rest.split("|", 1)
            out.append((int(level), fac, line))
        elif kind == "error" and l.startswith("error "):
            name, reason = l[6:].split("|", 1)
            out.append((name, reason))
    return out


SYSLOG_TO_OTEL = {7: 5, 6: 9, 5: 10, 4: 13, 3: 17, 2: 21, 1: 22, 0: 23}


def as_app_line(rec):
    """A log_cb record as the app's log_cb line it mirrors."""
    level = {v: k for k, v in SYSLOG_TO_OTEL.items()}[rec["severity_number"]]
    return (level, rec["attributes"]["kotel.kafka.log.facility"], rec["body"])


def no_ptr(s):
    return re.sub(r"0x[0-9a-f]+", "PTR", s)


def test_dead_broker_errors_become_log_records(receiver=Receiver):
    dead = dead_bootstrap()
    port = int(dead.rsplit(":", 1)[1])
    with receiver() as r:
        p = logclient(dead, "-X", "message.timeout.ms=1500", "dead", receiver=r)
        assert "dr _MSG_TIMED_OUT" in p.stdout
        logs = r.wait_logs(lambda ls: any(x["attributes"].get("kotel.kafka.log.facility")
                                          == "ERROR" for x in ls))
    fail = [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "FAIL"]
    assert fail, logs
    f = fail[0]
    assert f["severity_number"] == 17 and f["severity_text"] == "err"
    assert "Connection refused" in f["body"]
    assert f["attributes"]["kotel.kafka.broker"] == "%s/bootstrap" % dead
    assert f["attributes"]["server.address"] == "127.0.0.1"
    assert f["attributes"]["server.port"] == port
    assert f["attributes"]["messaging.system"] == "kafka"
    assert f["attributes"]["messaging.client.id"] == "rdkafka"
    assert f["resource"]["service.name"] == "logclient"
    assert f["time"] > 0 and f["observed_time"] == f["time"]
    # Without an app error_cb, librdkafka logs each error as an ERROR line
    # (kotel installs no error_cb of its own): no code, the line's text.
    errs = [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "ERROR"]
    assert any("brokers are down" in x["body"] or "Connect to" in x["body"] for x in errs)
    assert all("error.type" not in x["attributes"] for x in errs)
    # librdkafka's default printing still happened (rd_kafka_log_print).
    assert re.search(r"^%3\|\d+\.\d+\|FAIL\|rdkafka#producer-1\| ", p.stderr, re.M), p.stderr
    return r


def test_dead_broker_errors_over_grpc():
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc: the same records, decoded by
    @grpc/grpc-js from LogsService/Export calls."""
    r = test_dead_broker_errors_become_log_records(GrpcReceiver)
    assert r.logs_requests
    for q in r.logs_requests:
        assert q["path"] == LOGS_METHOD and q["encoding"] == "identity", q
        assert q["status"] == 0 and 0 < q["deadline_ms"] <= 10000, q


def errors_of(logs):
    """The records of error_cb calls."""
    return [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "ERROR"
            and "error.type" in x["attributes"]]


def test_error_cb_chained_and_recorded_with_code():
    dead = dead_bootstrap()
    with Receiver() as r:
        p = logclient(dead, "--error-cb", "--log-cb", "-X", "message.timeout.ms=1500",
                      "dead", receiver=r)
        app_errors = app_lines(p.stdout, "error")
        assert app_errors, p.stdout
        logs = r.wait_logs(lambda ls: len(errors_of(ls)) >= len(app_errors))
    recs = sorted((x["attributes"]["error.type"], x["body"]) for x in errors_of(logs))
    # Each error the app's error_cb got is one record with its code, and
    # no other.
    assert recs == sorted(app_errors), (recs, app_errors)
    codes = {x["attributes"]["error.type"]: x["attributes"]["kotel.kafka.error.code"]
             for x in logs if "error.type" in x["attributes"]}
    assert codes.get("_TRANSPORT") == -195, codes
    # And every line the app's log_cb got is one record.
    lines = app_lines(p.stdout)
    assert sorted(lines) == sorted(as_app_line(x) for x in logs
                                   if x["attributes"]["kotel.kafka.log.facility"]
                                   not in ("ERROR", "DR"))


def conf_run(receiver, kotel, *extra):
    """A producer created and destroyed with debug=conf and a consumer-only
    property (a CONFWARN line): the lines librdkafka logs on the app's
    thread are the same every run (but for an ERROR line, when the one
    rd_kafka_poll happens to serve a connection error: left out)."""
    return logclient(DEAD, "-X", "debug=conf", "-X", "auto.offset.reset=earliest",
                     *extra, "conf", receiver=receiver, kotel=kotel)


DEAD = dead_bootstrap()


def app_thread(lines):
    return [(lv, fac, no_ptr(l)) for lv, fac, l in lines
            if l.startswith("[thrd:app]") and fac != "ERROR"]


def test_app_log_cb_gets_the_same_lines_with_and_without_kotel():
    for queue in ([], ["--log-queue"]):
        with Receiver() as r:
            with_k = conf_run(r, True, "--log-cb", *queue)
            got = app_thread(app_lines(with_k.stdout))
            logs = r.wait_logs(lambda ls: len(ls) >= len(got))
        without = app_thread(app_lines(conf_run(None, False, "--log-cb", *queue).stdout))
        assert len(without) > 5 and any(f == "CONFWARN" for _, f, _ in without), without
        assert got == without, (queue, got, without)
        # kotel exported each of them.
        recs = [(lv, f, no_ptr(b)) for lv, f, b in map(as_app_line, logs)]
        for line in got:
            assert line in recs, (line, recs)


def stderr_lines(stderr):
    """librdkafka's printed lines from the app's thread, timestamps and
    pointers out."""
    out = []
    for l in stderr.splitlines():
        m = re.match(r"^%(\d)\|\d+\.\d+\|([^|]*)\|([^|]*)\| (.*)$", l)
        if m and m.group(4).startswith("[thrd:app]") and m.group(2) != "ERROR":
            out.append((m.group(1), m.group(2), m.group(3), no_ptr(m.group(4))))
    return out


def test_default_stderr_printing_unchanged():
    with Receiver() as r:
        with_k = stderr_lines(conf_run(r, True).stderr)
        r.wait_logs(lambda ls: len(ls) >= len(with_k))
        recs = [(lv, f, no_ptr(b)) for lv, f, b in map(as_app_line, r.logs)]
    without = stderr_lines(conf_run(None, False).stderr)
    assert len(without) > 5 and with_k == without, (with_k, without)
    for lv, fac, _, line in with_k:
        assert (int(lv), fac, line) in recs


def test_kotel_log_level_captures_more_without_showing_the_app_more():
    args = ["--log-cb", "-X", "log_level=3", "-X", "auto.offset.reset=earliest", "conf"]
    with Receiver() as r:
        p = logclient(dead_bootstrap(), *args, receiver=r)
        assert not [l for l in app_lines(p.stdout) if l[1] == "CONFWARN"]
        r.wait_logs(lambda ls: False, timeout=1.5)
        assert not [x for x in r.logs
                    if x["attributes"].get("kotel.kafka.log.facility") == "CONFWARN"]
    with Receiver() as r:
        p = logclient(dead_bootstrap(), *args, receiver=r, env={"KOTEL_KAFKA_LOG_LEVEL": "6"})
        # The app still sees nothing above its level 3 ...
        assert not [l for l in app_lines(p.stdout) if l[0] > 3], p.stdout
        # ... while kotel captured the warning.
        logs = r.wait_logs(lambda ls: any(x["attributes"].get("kotel.kafka.log.facility")
                                          == "CONFWARN" for x in ls))
        warn = [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "CONFWARN"]
        assert warn and warn[0]["severity_number"] == 13, logs


def test_consumer_group_join_lines_at_the_apps_level():
    with Broker(["t:1"]) as b, Receiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", "1")
        p = logclient(b.bootstrap, "--log-cb", "-X", "debug=cgrp", "group", receiver=r,
                      env={"KOTEL_LOGS_MAX_PER_SECOND": "0"})
        assert "group message" in p.stdout
        lines = app_lines(p.stdout)
        logs = r.wait_logs(lambda ls: len(ls) >= len(lines))
    assert any(lv == 7 for lv, _, _ in lines), lines
    # The same lines, at the level the app set (debug=cgrp: LOG_DEBUG).
    assert sorted(lines) == sorted(map(as_app_line, logs))
    assert any(x["severity_number"] == 5 and "group" in x["body"].lower() for x in logs)


def test_error_polled_inside_a_process_span_carries_its_trace():
    dead = dead_bootstrap()
    with Broker(["t:1"]) as b, Receiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", "1", receiver=r,
                service="origin")
        p = logclient(b.bootstrap, "--error-cb", "inspan", dead, receiver=r)
        assert "inspan done" in p.stdout
        n_err = len(app_lines(p.stdout, "error"))
        spans = r.wait_for(lambda s: named(s, "process t"))
        logs = r.wait_logs(lambda ls: len(errors_of(ls)) >= n_err)
    proc = [s for s in named(spans, "process t") if s["resource"]["service.name"] == "logclient"]
    assert len(proc) == 1, spans
    errs = errors_of(logs)
    assert len(errs) == n_err, (errs, p.stdout)
    for x in errs:
        # Served by rd_kafka_poll on the thread processing the message.
        assert x["trace_id"] == proc[0]["trace_id"], (x, proc[0])
        assert x["span_id"] == proc[0]["span_id"]
        assert x["flags"] == 1
    # librdkafka's broker threads are inside no span.
    fails = [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "FAIL"]
    assert all(x["trace_id"] == "" for x in fails)


def test_failed_delivery_record_carries_the_send_span(env=None, receiver=Receiver,
                                                      logs_receiver=None, prepare=None):
    """librdkafka logs no line inside a send span's lifetime on a thread
    where it is current (a timed-out message is only a debug line of
    rdk:main), so kotel records the delivery report's error itself, at
    on_acknowledgement, with the send span's ids. With @logs_receiver the
    logs go there alone (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT and _PROTOCOL)
    and the spans to @receiver; @prepare(logs receiver) runs first."""
    env = dict(env or {})
    with receiver() as r, (logs_receiver() if logs_receiver else
                           contextlib.nullcontext(r)) as lr:
        if logs_receiver:
            env.update(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=lr.endpoint,
                       OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=lr.proto)
        if prepare:
            prepare(lr)
        p = logclient(dead_bootstrap(), "-X", "message.timeout.ms=1500", "dead", receiver=r,
                      env=env)
        assert "dr _MSG_TIMED_OUT" in p.stdout
        spans = r.wait_for(lambda s: named(s, "send t"))
        logs = lr.wait_logs(lambda ls: any(x["attributes"].get("kotel.kafka.log.facility")
                                           == "DR" for x in ls))
    send = named(spans, "send t")
    dr = [x for x in logs if x["attributes"].get("kotel.kafka.log.facility") == "DR"]
    assert len(send) == 1 and len(dr) == 1, (send, dr)
    assert dr[0]["trace_id"] == send[0]["trace_id"]
    assert dr[0]["span_id"] == send[0]["span_id"]
    assert dr[0]["attributes"]["error.type"] == "_MSG_TIMED_OUT"
    assert dr[0]["attributes"]["kotel.kafka.error.code"] == -192
    assert dr[0]["severity_number"] == 17
    assert dr[0]["body"].startswith("Delivery failed: t [")
    assert send[0]["attributes"]["error.type"] == "_MSG_TIMED_OUT"
    if logs_receiver:
        assert r.logs_requests == [], "logs went to the traces' endpoint"
        return lr
    return r


def test_failed_delivery_record_over_grpc():
    r = test_failed_delivery_record_carries_the_send_span(receiver=GrpcReceiver)
    assert r.logs_requests and {q["path"] for q in r.logs_requests} == {LOGS_METHOD}


def test_logs_alone_over_grpc_with_gzip():
    """OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc (and _COMPRESSION=gzip) with
    the generic protocol http/protobuf: the spans go over HTTP, the logs
    over gRPC, gzip'd, to a server that refuses anything else."""
    lr = test_failed_delivery_record_carries_the_send_span(
        env={"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
             "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip"},
        logs_receiver=GrpcReceiver, prepare=lambda g: g.require_gzip())
    assert lr.logs_requests and lr.requests == []
    for q in lr.logs_requests:
        assert q["encoding"] == "gzip" and q["status"] == 0, q
    fail = [x for x in lr.logs if x["attributes"].get("kotel.kafka.log.facility") == "FAIL"]
    assert fail and fail[0]["attributes"]["server.address"] == "127.0.0.1"


def exit_counts(stderr):
    """The logs exporter's counts at exit (OTEL_LOG_LEVEL=debug)."""
    lines = log_lines(stderr, "log records submitted=")
    assert len(lines) == 1, stderr[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[0])}


def grpc_dead_run(steps):
    """The dead-broker logclient with its logs over gRPC, the logs
    service scripted with @steps; (process, receiver, exit counts) once
    the server reported every record kotel counted exported."""
    with GrpcReceiver() as r:
        r.grpc_logs_script(steps)
        p = logclient(dead_bootstrap(), "-X", "message.timeout.ms=1500", "dead", receiver=r,
                      env={"OTEL_LOG_LEVEL": "debug"})
        c = exit_counts(p.stderr)
        r.wait_logs(lambda ls: len(ls) >= c["exported"])
        r.wait_logs_requests(len(steps) + 1)
    assert any(x["attributes"].get("kotel.kafka.log.facility") == "FAIL" for x in r.logs)
    return p, r, c


def test_logs_over_grpc_unavailable_then_ok():
    p, r, c = grpc_dead_run([{"code": UNAVAILABLE, "message": "busy"}])
    reqs = r.logs_requests
    assert [q["status"] for q in reqs[:2]] == [UNAVAILABLE, 0], reqs
    # The refused batch was sent again, whole, and is what got in.
    assert reqs[1]["n_records"] == reqs[0]["n_records"] > 0
    assert sum(q["n_records"] for q in reqs if q["status"] == 0) == len(r.logs)
    assert c["exported"] == c["submitted"] == len(r.logs) and c["failed"] == 0, c
    assert 'gRPC UNAVAILABLE: "busy"' in p.stderr, p.stderr[-3000:]


def test_logs_partial_success_over_grpc_counted_failed():
    p, r, c = grpc_dead_run([{"partial": {"rejected": 1, "message": "record too old"}}])
    assert len(log_lines(p.stderr, "partial success: 1 rejected: record too old")) == 1, \
        p.stderr[-3000:]
    assert all(q["status"] == 0 for q in r.logs_requests)
    assert c["failed"] == 1 and c["exported"] == c["submitted"] - 1, c


def test_logs_over_http_json_and_gzip():
    """OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json (and _COMPRESSION=gzip):
    the same records, decoded from OTLP/JSON; the logs' own variables win
    over the generic ones."""
    r = test_failed_delivery_record_carries_the_send_span(env={
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip"})
    assert r.logs_requests
    for q in r.logs_requests:
        assert q["headers"]["Content-Type"] == "application/json", q["headers"]
        assert q["headers"].get("Content-Encoding") == "gzip"
        assert q["status"] == 200 and q["error"] is None
    fail = [x for x in r.logs if x["attributes"].get("kotel.kafka.log.facility") == "FAIL"]
    assert fail and fail[0]["attributes"]["server.address"] == "127.0.0.1"
    assert fail[0]["severity_text"] == "err" and fail[0]["time"] > 0


PY_DEAD = r"""
import logging, sys
import confluent_kafka as ck
seen = []
class H(logging.Handler):
    def emit(self, rec):
        seen.append(rec.getMessage())
log = logging.getLogger("app")
log.addHandler(H())
log.setLevel(logging.DEBUG)
errors = []
p = ck.Producer({"bootstrap.servers": sys.argv[1], "message.timeout.ms": 1500,
                 "error_cb": lambda e: errors.append(e.name())}, logger=log)
p.produce("t", b"v")
p.flush(30)
for _ in range(5):
    p.poll(0.1)
print("errors", len(errors), " ".join(sorted(set(errors))))
print("logs", len(seen))
"""


def test_python_client_callbacks_chained_and_recorded():
    """confluent-kafka loads librdkafka RTLD_LOCAL and sets its own error_cb
    and (with a logger) log_cb and log.queue: both chained, both recorded."""
    with Receiver() as r:
        p = run(["/usr/bin/python3", "-c", PY_DEAD, dead_bootstrap()],
                agent_env(r, "py", OTEL_LOGS_EXPORTER="otlp", OTEL_BLRP_SCHEDULE_DELAY="100"))
        out = dict(l.split(" ", 1) for l in p.stdout.splitlines())
        n_err = int(out["errors"].split()[0])
        n_logs = int(out["logs"])
        assert n_err >= 1 and "_TRANSPORT" in out["errors"], p.stdout
        assert n_logs >= 1, p.stdout
        logs = r.wait_logs(lambda ls: len(errors_of(ls)) >= n_err and any(
            x["attributes"].get("kotel.kafka.log.facility") == "DR" for x in ls))
    assert len(errors_of(logs)) == n_err
    lines = [x for x in logs
             if x["attributes"]["kotel.kafka.log.facility"] not in ("ERROR", "DR")]
    assert len(lines) == n_logs, (lines, p.stdout)
    assert all(x["resource"]["service.name"] == "py" for x in logs)


def test_logs_exporter_none_captures_nothing():
    """OTEL_LOGS_EXPORTER=none: no request to /v1/logs, and the app's
    log_cb gets what it gets without kotel."""
    with Receiver() as r:
        p = logclient(DEAD, "--log-cb", "-X", "debug=conf", "conf", receiver=r,
                      env={"OTEL_LOGS_EXPORTER": "none"})
        got = app_thread(app_lines(p.stdout))
    assert r.logs_requests == [] and r.logs == []
    without = app_thread(app_lines(logclient(DEAD, "--log-cb", "-X", "debug=conf", "conf",
                                             kotel=False).stdout))
    assert len(got) > 5 and got == without
