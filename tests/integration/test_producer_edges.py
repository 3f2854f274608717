"""Producer edge cases: one traceparent per message whatever the app does
with its headers, the app's own traceparent as parent, produce_batch
failures, destroy without flush, and delivery failures."""

from kotel_test import Broker, Receiver, kclient, named, stats
from semantics_lib import TP_SAMPLED, dead_bootstrap, rows, semclient, tp_fields

TRACE, APP_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def test_app_traceparent_becomes_parent_and_is_replaced():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "t", "-n", "2", "-H", "traceparent=" + TP_SAMPLED,
                      "-H", "other=1", receiver=r)
        spans = r.wait_spans(2)
        by_id = {s["span_id"]: s for s in named(spans, "send t")}
        for d in rows(p.stdout, "dr"):
            assert d["traceparent_count"] == 1 and d["nhdrs"] == "2", d
            trace_id, span_id, _ = tp_fields(d["traceparent"])
            s = by_id[span_id]
            assert trace_id == TRACE == s["trace_id"]
            assert s["parent_span_id"] == APP_SPAN


def test_retry_with_same_headers_after_failure():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = semclient(b, "retry", "-t", "t", receiver=r)
        first = rows(p.stdout, "first")[0]
        # The failed call hands the app its headers back unchanged.
        assert first["err"] == "_UNKNOWN_PARTITION"
        assert first["traceparent"] == TP_SAMPLED and first["nhdrs"] == "2", first
        assert rows(p.stdout, "second")[0]["err"] == "NO_ERROR"
        dr = rows(p.stdout, "dr")
        assert len(dr) == 1 and dr[0]["traceparent_count"] == 1 and dr[0]["nhdrs"] == "2"
        spans = r.wait_spans(2)
        sends = named(spans, "send t")
        assert len(sends) == 2
        failed = [s for s in sends if s["status"]["code"] == 2]
        good = [s for s in sends if s["status"]["code"] == 0]
        assert len(failed) == 1 and len(good) == 1
        assert failed[0]["attributes"]["error.type"] == "_UNKNOWN_PARTITION"
        # Both attempts are children of the app's context, not of each other.
        assert failed[0]["parent_span_id"] == APP_SPAN == good[0]["parent_span_id"]
        assert good[0]["span_id"] == tp_fields(dr[0]["traceparent"])[1]
        assert stats(p.stderr)["started"] == 2


def test_produce_batch_failures_end_with_error():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = semclient(b, "batchfail", "-t", "t", receiver=r)
        lines = rows(p.stdout, "batch")
        assert len(lines) == 2 and len(rows(p.stdout, "dr")) == 2, p.stdout
        st = stats(p.stderr)
        spans = r.wait_spans(st["started"])
        sends = named(spans, "send t")
        # Every span started was ended and exported: nothing leaked.
        assert st["started"] == st["exported"] == len(sends), (st, len(sends))
        ok = [s for s in sends if s["status"]["code"] == 0]
        bad = [s for s in sends if s["status"]["code"] == 2]
        assert len(ok) == 2 and len(bad) == len(sends) - 2 >= 1, sends
        for s in bad:
            assert s["attributes"]["error.type"] == "_UNKNOWN_PARTITION", s
            assert "messaging.kafka.offset" not in s["attributes"]


def test_destroy_without_flush_ends_spans():
    with Receiver() as r:
        p = kclient(dead_bootstrap_broker(), "produce", "-a", "producev", "-t", "t",
                    "-n", "4", "--no-flush", receiver=r)
        spans = r.wait_spans(4)
        sends = named(spans, "send t")
        assert len(sends) == 4, spans
        for s in sends:
            assert s["status"]["code"] == 2
            assert s["attributes"]["error.type"] == "_DESTROY", s
            assert "destroyed before the delivery report" in s["status"]["message"]
        assert stats(p.stderr)["started"] == 4


class dead_bootstrap_broker:
    def __init__(self):
        self.bootstrap = dead_bootstrap()


def test_delivery_timeout_error_type():
    with Receiver() as r:
        p = semclient(dead_bootstrap(), "produce", "-t", "t", "-n", "3",
                      "-X", "message.timeout.ms=300", receiver=r)
        drs = rows(p.stdout, "dr")
        assert len(drs) == 3 and all(d["err"] == "_MSG_TIMED_OUT" for d in drs), p.stdout
        spans = r.wait_spans(3)
        by_id = {s["span_id"]: s for s in spans}
        for d in drs:
            s = by_id[tp_fields(d["traceparent"])[1]]
            assert s["status"]["code"] == 2
            assert s["attributes"]["error.type"] == "_MSG_TIMED_OUT"
            assert "messaging.kafka.offset" not in s["attributes"]
