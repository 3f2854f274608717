"""What the exporter does when the collector misbehaves: retries only
429/502/503/504 and connection failures (Retry-After honoured in both
forms), never other errors, handles partial success and bad bodies, gives
up after the export timeout; every span ends in exactly one counter and the
app's exit code never changes."""

import email.utils
import re
import time

from exporter_helpers import free_port, produce
from kotel_test import Broker, Receiver
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

N = 3
# One batch, sent at exit: the scripted answers then apply to it.
ONE_BATCH = {"OTEL_BSP_SCHEDULE_DELAY": "60000", "KOTEL_SHUTDOWN_TIMEOUT": "30000"}


def balanced(st, n=N):
    assert st is not None
    assert st["started"] == n, st
    assert st["exported"] + st["dropped"] + st["failed"] == st["started"], st


def retried_after(script, min_gap):
    with Broker() as b, Receiver() as r:
        r.script = script
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 1 and st["failed"] == 0, st
        assert len(r.requests) == 2, r.requests
        gap = r.requests[1]["time"] - r.requests[0]["time"]
        assert gap >= min_gap, "retried after %.2fs, Retry-After not honoured" % gap
        assert len({s["span_id"] for s in r.spans}) == N


def test_retry_after_seconds_on_429():
    # Without Retry-After the first backoff is 100-200 ms.
    retried_after([{"status": 429, "headers": {"Retry-After": "2"}}], 1.5)


def test_retry_after_http_date_on_503():
    def in_3s():
        return email.utils.formatdate(time.time() + 3, usegmt=True)
    # Whole seconds on both sides: 3 s ahead waits at least 2 s.
    retried_after([{"status": 503, "headers": {"Retry-After": in_3s}}], 1.5)


def test_502_and_504_retried_with_backoff():
    with Broker() as b, Receiver() as r:
        r.script = [{"status": 502}, {"status": 504}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 2, st
        assert [q["status"] for q in r.requests] == [502, 504, 200]


def no_retry(status):
    with Broker() as b, Receiver() as r:
        r.script = [{"status": status}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["failed"] == N and st["retried"] == 0 and st["exported"] == 0, st
        assert len(r.requests) == 1, r.requests
        assert "HTTP %d" % status in p.stderr and "not retrying" in p.stderr, p.stderr


def test_400_not_retried():
    no_retry(400)


def test_500_not_retried():
    no_retry(500)


def test_connection_refused_retried_until_export_timeout():
    with Broker() as b:
        p, st = produce(b, N, endpoint="http://127.0.0.1:%d" % free_port(),
                        env={"OTEL_BSP_EXPORT_TIMEOUT": "1500", "OTEL_BSP_SCHEDULE_DELAY": "60000"})
        balanced(st)
        assert st["failed"] == N and st["retried"] >= 1, st
        assert "gave up" in p.stderr, p.stderr


def test_stalled_collector_times_out_and_retries():
    with Broker() as b, Receiver() as r:
        r.script = [{"delay": 4}]
        p, st = produce(b, N, receiver=r,
                        env=dict(ONE_BATCH, OTEL_EXPORTER_OTLP_TIMEOUT="1000"))
        balanced(st)
        assert st["exported"] == N and st["retried"] >= 1, st
        # The stalled request may still land late: ids, not counts.
        assert len({s["span_id"] for s in r.spans}) == N


def test_dropped_connection_retried():
    with Broker() as b, Receiver() as r:
        r.script = [{"close": True}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 1, st


def test_partial_success_logged_not_retried():
    resp = trace_service_pb2.ExportTraceServiceResponse()
    resp.partial_success.rejected_spans = 1
    resp.partial_success.error_message = "span too old"
    with Broker() as b, Receiver() as r:
        r.script = [{"body": resp.SerializeToString()}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N - 1 and st["failed"] == 1 and st["retried"] == 0, st
        assert len(r.requests) == 1
        assert "partial success" in p.stderr and "span too old" in p.stderr, p.stderr


def test_garbage_response_body_ignored():
    with Broker() as b, Receiver() as r:
        r.script = [{"body": b"garbage\xff\x00garbage"}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 0, st
        assert "unparseable response body" in p.stderr, p.stderr


def test_oversized_response_body_capped():
    with Broker() as b, Receiver() as r:
        r.script = [{"body": b"\x0a" * (6 << 20)}]
        p, st = produce(b, N, receiver=r, env=ONE_BATCH)
        balanced(st)
        assert st["exported"] == N and st["retried"] == 0, st
        assert "response body over 4194304 bytes" in p.stderr, p.stderr


def test_failures_logged_once_per_streak():
    # 6 batches all refused with 400: one error line, not six.
    with Broker() as b, Receiver() as r:
        r.script = [{"status": 400}] * 6
        p, st = produce(b, 6, receiver=r, env=dict(ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1",
                                                   OTEL_LOG_LEVEL="error"))
        assert len(r.requests) == 6, r.requests
        errors = [l for l in p.stderr.splitlines() if "kotel: error:" in l]
        assert len(errors) == 1, p.stderr


def test_first_failure_of_each_kind_logged():
    # 400, 401, 400, 401, 400, 401: one error line for each kind.
    with Broker() as b, Receiver() as r:
        r.script = [{"status": 400}, {"status": 401}] * 3
        p, st = produce(b, 6, receiver=r, env=dict(ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1",
                                                   OTEL_LOG_LEVEL="error"))
        assert len(r.requests) == 6, r.requests
        errors = [l for l in p.stderr.splitlines() if "kotel: error:" in l]
        assert len(errors) == 2, p.stderr
        assert "HTTP 400" in errors[0] and "HTTP 401" in errors[1], errors


def test_summary_and_collapsed_count_survive_a_flood_of_warnings():
    # 60 batches at exit, each answered with a partial success: 60 warnings
    # within a second. 10 are written, the other 50 collapse into one line
    # with their count, and the counters line is never rate-limited.
    resp = trace_service_pb2.ExportTraceServiceResponse()
    resp.partial_success.rejected_spans = 1
    resp.partial_success.error_message = "span too old"
    n = 60
    with Broker() as b, Receiver() as r:
        r.script = [{"body": resp.SerializeToString()}] * n
        p, st = produce(b, n, receiver=r, env=dict(ONE_BATCH, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1"))
        assert st is not None, "no counters line:\n" + p.stderr[-3000:]
        balanced(st, n)
        assert st["failed"] == n, st
        lines = [l for l in p.stderr.splitlines() if l.startswith("kotel:")]
        warns = [l for l in lines if "partial success" in l]
        collapsed = [l for l in warns if "(repeated " in l]
        assert len(warns) - len(collapsed) == 10, p.stderr
        counts = [int(re.search(r"\(repeated (\d+) times in the last \d+ s\)$", l).group(1))
                  for l in collapsed]
        assert sum(counts) == n - 10, p.stderr
        # The collapsed count comes before the counters line, which is last.
        assert lines[-1].startswith("kotel: info: spans started="), p.stderr
