"""librdkafka's statistics as gauges (KOTEL_KAFKA_STATS, docs/metrics.md):
consumer lag equal to the backlog a real consumer leaves on the mock
cluster, the producer's queued messages and bytes, broker round-trip time;
an app's own stats callback gets the same calls and JSON with and without
kotel; a Python (confluent-kafka) consumer's lag too; an app that did not ask for statistics sees no callback and no
statistics event while kotel reads them; bad settings get a log line and
the default."""

import glob
import json
import os
import subprocess
import tempfile

from kotel_test import (BUILD, ROOT, SANITIZER_MARKS, TIMEOUT_SCALE, Broker, Receiver, agent_env,
                        leak_checked, run)
from semantics_lib import dead_bootstrap, log_lines, semclient

STATSCLIENT = os.path.join(BUILD, "tests", "statsclient")
STATS = {"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "200",
         "KOTEL_KAFKA_STATS": "true", "KOTEL_KAFKA_STATS_INTERVAL_MS": "100"}
REQ = "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"
LAG = "messaging.kafka.consumer.lag"
QMSGS = "messaging.kafka.producer.queue.messages"
QBYTES = "messaging.kafka.producer.queue.size"
RTT = "messaging.kafka.broker.rtt"


def named(points, name):
    return [p for p in points if p["name"] == name]


def statsclient(bootstrap, *args, receiver=None, env=None, preload=True, check=True):
    e = agent_env(receiver, "stats", preload=preload, **(env or {}))
    return run([STATSCLIENT, "-b", bootstrap] + list(args), e, check=check)


class Held:
    """statsclient running until the test touches its stop file."""

    def __init__(self, bootstrap, *args, receiver=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="kstats")
        self.stop = os.path.join(self.dir, "stop")
        cmd = [STATSCLIENT, "-b", bootstrap] + list(args) + ["-u", self.stop]
        e = agent_env(receiver, "stats", **(env or {}))
        self.proc = subprocess.Popen(cmd, env=leak_checked(cmd, e), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def finish(self):
        open(self.stop, "w").close()
        out, err = self.proc.communicate(timeout=60 * TIMEOUT_SCALE)
        for mark in SANITIZER_MARKS:
            assert mark not in err, err[-4000:]
        assert self.proc.returncode == 0, (out, err[-3000:])
        return out, err


def protoc_decode(body):
    p = subprocess.run(["protoc", "--decode=" + REQ, "-I", os.path.join(ROOT, "exporter", "proto"),
                        "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"],
                       input=body, capture_output=True, check=True)
    return p.stdout.decode()


def test_consumer_lag_equals_the_backlog_left():
    n, consumed = 20, 7
    with Broker(["lag:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "lag", "-n", str(n), preload=False)
        h = Held(b.bootstrap, "consume", "-t", "lag", "-c", str(consumed), receiver=r, env=STATS)
        try:
            pts = r.wait_metrics(lambda m: any(p["value"] == n - consumed
                                               for p in named(m, LAG)), timeout=40)
            rtts = r.wait_metrics(lambda m: named(m, RTT), timeout=20)
        finally:
            out, err = h.finish()
        assert "committed consumed=%d" % consumed in out, out
        lags = named(pts, LAG)
        assert lags, err[-3000:]
        last = lags[-1]
        assert last["value"] == n - consumed and last["type"] == "gauge"
        assert last["unit"] == "{message}"
        a = last["attributes"]
        assert a["messaging.system"] == "kafka"
        assert a["messaging.destination.name"] == "lag"
        assert a["messaging.destination.partition.id"] == "0"
        assert a["messaging.consumer.group.name"] == "statsclient-lag"
        assert a["messaging.client.id"].startswith("rdkafka#consumer-")
        assert not any("offset" in k for k in a)
        # Never more than the backlog, never for another partition.
        assert all(p["value"] <= n and p["attributes"]["messaging.destination.partition.id"] == "0"
                   for p in lags)
        # The exact bytes, decoded by protoc: a Gauge with as_int 13.
        raw = [q["raw"] for q in r.metrics_requests if LAG.encode() in q["raw"]]
        text = protoc_decode(raw[-1])
        block = text.split('name: "%s"' % LAG, 1)[1]
        assert "gauge {" in block.split("name:", 1)[0]
        port = int(b.bootstrap.rsplit(":", 1)[1])
        rtt = named(rtts, RTT)[-1]
        assert rtt["unit"] == "s" and rtt["value"] > 0
        assert rtt["attributes"]["server.address"] == "127.0.0.1"
        assert rtt["attributes"]["server.port"] == port
        assert "as_int: %d" % (n - consumed) in text


def test_producer_queue_gauges_count_what_waits():
    n, size = 9, 100
    with Receiver() as r:
        h = Held(dead_bootstrap(), "produce", "-t", "q", "-n", str(n), "-s", str(size),
                 receiver=r, env=STATS)
        try:
            pts = r.wait_metrics(lambda m: any(p["value"] == n for p in named(m, QMSGS)) and
                                 any(p["value"] == n * size for p in named(m, QBYTES)), timeout=40)
        finally:
            out, err = h.finish()
        assert "queued=%d" % n in out
        q = [p for p in named(pts, QMSGS) if p["value"] == n][-1]
        s = [p for p in named(pts, QBYTES) if p["value"] == n * size][-1]
        assert q["unit"] == "{message}" and s["unit"] == "By"
        for p in (q, s):
            assert p["type"] == "gauge"
            assert p["attributes"]["messaging.client.id"].startswith("rdkafka#producer-")
            assert "messaging.consumer.group.name" not in p["attributes"]
        assert not named(pts, LAG)


def jsons(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "stats-*.json")),
                    key=lambda f: int(f.rsplit("-", 1)[1].split(".")[0])):
        with open(f) as fh:
            out.append(json.load(fh))
    return out


def test_app_stats_cb_gets_the_same_calls_and_json_with_kotel():
    """The app asked for statistics every 300 ms with its own callback;
    kotel (asked for every 50 ms) keeps the app's interval and passes the
    app the same JSON, opaque and ownership (odd calls keep the JSON)."""
    with Broker(["t:1"]) as b, Receiver() as r:
        runs = {}
        for name, preload in (("plain", False), ("kotel", True)):
            d = tempfile.mkdtemp(prefix="kstats-" + name)
            env = dict(STATS, KOTEL_KAFKA_STATS_INTERVAL_MS="50")
            p = statsclient(b.bootstrap, "appcb", "-i", "300", "-d", "2.5", "-o", d,
                            receiver=r, env=env, preload=preload)
            assert "opaque_ok=1" in p.stdout, p.stdout
            runs[name] = (int(p.stdout.split("calls=")[1].split()[0]), jsons(d))
        for name, (calls, docs) in runs.items():
            assert calls >= 2 and len(docs) == calls, (name, calls)
            # librdkafka's timer never fires early: 300 ms apart, not 50.
            ts = [d["ts"] for d in docs]
            assert all(b2 - a2 >= 270000 for a2, b2 in zip(ts, ts[1:])), (name, ts)
        plain, kotel = runs["plain"][1], runs["kotel"][1]
        assert abs(runs["plain"][0] - runs["kotel"][0]) <= 2
        assert {tuple(sorted(d)) for d in plain} == {tuple(sorted(d)) for d in kotel}
        assert {d["type"] for d in kotel} == {"producer"}
        # kotel read those same statistics for its gauges.
        names = {d["name"] for d in kotel}
        pts = r.wait_metrics(lambda m: any(p["attributes"].get("messaging.client.id") in names
                                           for p in named(m, QMSGS)))
        assert any(p["attributes"]["messaging.client.id"] in names for p in named(pts, QMSGS))


def test_app_that_did_not_ask_for_statistics_sees_none():
    with Broker(["t:1"]) as b, Receiver() as r:
        # A stats_cb but no interval: no calls without kotel, none with.
        p = statsclient(b.bootstrap, "appcb", "-d", "1.5", receiver=r, env=STATS)
        assert "calls=0 " in p.stdout, p.stdout
        # The event API with RD_KAFKA_EVENT_STATS enabled but no interval:
        # no statistics event (statsclient exits 3 on one).
        e = statsclient(b.bootstrap, "events", "-d", "1.5", receiver=r, env=STATS)
        assert "stats_events=0" in e.stdout, e.stdout
        # With its own interval the app gets its events as before.
        a = statsclient(b.bootstrap, "events", "-i", "300", "-d", "1.5", receiver=r, env=STATS)
        assert int(a.stdout.split("stats_events=")[1]) >= 2, a.stdout
        # kotel read statistics of all three clients (one producer each).
        pts = r.wait_metrics(
            lambda m: len({p["resource"].get("process.pid") for p in named(m, QMSGS)}) >= 3)
        assert len({p["resource"].get("process.pid") for p in named(pts, QMSGS)}) >= 3


def test_bad_stats_settings_get_a_log_line_and_the_default():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = statsclient(b.bootstrap, "appcb", "-d", "0.5", receiver=r,
                        env=dict(STATS, KOTEL_KAFKA_STATS="maybe",
                                 KOTEL_KAFKA_STATS_INTERVAL_MS=None))
        assert log_lines(p.stderr, "KOTEL_KAFKA_STATS: 'maybe' is not true or false, using false")
        assert not log_lines(p.stderr, "librdkafka statistics every")
        p = statsclient(b.bootstrap, "appcb", "-d", "0.5", receiver=r,
                        env=dict(STATS, KOTEL_KAFKA_STATS_INTERVAL_MS="-5",
                                 OTEL_LOG_LEVEL="debug"))
        assert log_lines(p.stderr, "KOTEL_KAFKA_STATS_INTERVAL_MS: '-5' is not an integer")
        assert log_lines(p.stderr, "librdkafka statistics every 5000 ms")
        p = statsclient(b.bootstrap, "appcb", "-d", "0.5", receiver=r,
                        env=dict(STATS, KOTEL_KAFKA_STATS=None,
                                 KOTEL_KAFKA_STATS_INTERVAL_MS="250", OTEL_LOG_LEVEL="debug"))
        assert log_lines(p.stderr, "librdkafka statistics every 250 ms")
        p = statsclient(b.bootstrap, "appcb", "-d", "0.5", receiver=r,
                        env=dict(STATS, OTEL_METRICS_EXPORTER="none"))
        assert log_lines(p.stderr, "KOTEL_KAFKA_STATS: metrics are off")


PY_CONSUMER = r"""
import os, sys, time, confluent_kafka as ck
c = ck.Consumer({"bootstrap.servers": sys.argv[1], "group.id": "py-lag",
                 "auto.offset.reset": "earliest", "enable.auto.commit": False})
c.subscribe(["pylag"])
n, t = 0, time.time()
while n < 4 and time.time() - t < 60:
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
c.commit(asynchronous=False)
c.pause(c.assignment())
print("consumed=%d" % n, flush=True)
while not os.path.exists(sys.argv[2]) and time.time() - t < 120:
    c.poll(0.1)
c.close()
"""


def test_python_consumer_lag():
    """confluent-kafka loads librdkafka RTLD_LOCAL: kotel's statistics
    calls resolve there too, and the lag is the backlog left."""
    with Broker(["pylag:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "pylag", "-n", "10", preload=False)
        d = tempfile.mkdtemp(prefix="kstats-py")
        stop = os.path.join(d, "stop")
        cmd = ["/usr/bin/python3", "-c", PY_CONSUMER, b.bootstrap, stop]
        e = agent_env(r, "py", **STATS)
        p = subprocess.Popen(cmd, env=leak_checked(cmd, e), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            pts = r.wait_metrics(lambda m: any(q["value"] == 6 for q in named(m, LAG)), timeout=60)
        finally:
            open(stop, "w").close()
            out, err = p.communicate(timeout=60 * TIMEOUT_SCALE)
        assert p.returncode == 0 and "consumed=4" in out, (out, err[-3000:])
        lag = [q for q in named(pts, LAG) if q["value"] == 6][-1]
        assert lag["attributes"]["messaging.consumer.group.name"] == "py-lag"
        assert lag["attributes"]["messaging.destination.name"] == "pylag"
