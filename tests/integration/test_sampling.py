"""OTEL_TRACES_SAMPLER: unsampled messages still carry a traceparent (flags
00) so that every hop agrees; a consumer of a 00 message records no span for
it, and what it produces stays in the same trace with 00. (A group
consumer's automatic commits are roots of their own, sampled by the root
sampler whatever the flags of the messages they settle: see
docs/span-model.md, Parent of a commit span.)"""

from kotel_test import (Broker, Receiver, kclient, locale_env, named, of_service,
                        parse_lines, stats)
from semantics_lib import TP_UNSAMPLED, log_lines, rows, semclient, tp_fields


def commit_spans(spans, service):
    return [s for s in of_service(spans, service) if s["name"].startswith("commit ")]


def message_spans_started(proc, r, service):
    """How many spans @proc (exited, exporting to @r as @service) started
    other than its commit spans, which are all roots of their own."""
    started = stats(proc.stderr)["started"]
    spans = r.wait_for(lambda s: len(commit_spans(s, service)) >= started, timeout=2)
    commits = commit_spans(spans, service)
    assert all(c["parent_span_id"] == "" for c in commits), commits
    return started - len(commits)


def produce_and_forward(b, r, producer_env, consumer_env=None):
    p = semclient(b, "produce", "-t", "in", "-n", "3", receiver=r, service="prod",
                  env=producer_env)
    c = semclient(b, "consume", "-t", "in", "-n", "3", "-o", "out", receiver=r,
                  service="fwd", env=consumer_env)
    o = semclient(b, "consume", "-t", "out", "-n", "3", preload=False)
    return p, c, o


def test_always_off_propagates_unsampled_flags():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        p, c, o = produce_and_forward(b, r, {"OTEL_TRACES_SAMPLER": "always_off"})
        drs = rows(p.stdout, "dr")
        assert len(drs) == 3
        sent = {}
        for d in drs:
            assert d["traceparent_count"] == 1, d
            trace_id, span_id, flags = tp_fields(d["traceparent"])
            assert flags == "00", d
            sent[trace_id] = span_id
        assert stats(p.stderr)["started"] == 0, p.stderr
        # The consumer (default parentbased_always_on) follows the parent.
        assert message_spans_started(c, r, "fwd") == 0, c.stderr
        outs = rows(o.stdout, "msg")
        assert len(outs) == 3
        for m in outs:
            trace_id, span_id, flags = tp_fields(m["traceparent"])
            assert flags == "00" and trace_id in sent and span_id != sent[trace_id], m
        r.wait_spans(1, timeout=1.0)
        assert [s for s in r.spans if s not in commit_spans(r.spans, "fwd")] == []


def test_traceidratio_zero_is_never_sampled():
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "5", receiver=r,
                      env={"OTEL_TRACES_SAMPLER": "traceidratio",
                           "OTEL_TRACES_SAMPLER_ARG": "0"})
        assert all(tp_fields(d["traceparent"])[2] == "00" for d in rows(p.stdout, "dr"))
        assert stats(p.stderr)["started"] == 0


def test_parentbased_always_off_follows_sampled_parent():
    # The app's own sampled traceparent is followed even though new roots
    # would not be sampled.
    with Broker(["in:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "1", "-H",
                      "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                      receiver=r, env={"OTEL_TRACES_SAMPLER": "parentbased_always_off"})
        assert tp_fields(rows(p.stdout, "dr")[0]["traceparent"])[2] == "01"
        spans = r.wait_spans(1)
        assert len(named(spans, "send in")) == 1
        assert spans[0]["parent_span_id"] == "00f067aa0ba902b7"
        q = semclient(b, "produce", "-t", "in", "-n", "1",
                      receiver=r, env={"OTEL_TRACES_SAMPLER": "parentbased_always_off"})
        assert tp_fields(rows(q.stdout, "dr")[0]["traceparent"])[2] == "00"


def test_always_on_ignores_unsampled_parent():
    with Broker(["in:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "in", "-n", "1", "-H", "traceparent=" + TP_UNSAMPLED,
                  preload=False)
        c = semclient(b, "consume", "-t", "in", "-n", "1", receiver=r,
                      env={"OTEL_TRACES_SAMPLER": "always_on"})
        assert message_spans_started(c, r, "sem") == 1
        spans = named(r.wait_for(lambda s: named(s, "process in")), "process in")
        assert spans[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert spans[0]["flags"] & 1 == 1


def test_unsampled_message_consumer_makes_no_span():
    with Broker(["in:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "in", "-n", "4", "-H", "traceparent=" + TP_UNSAMPLED,
                  preload=False)
        c = semclient(b, "consume", "-t", "in", "-n", "4", receiver=r)
        assert len(rows(c.stdout, "msg")) == 4
        assert message_spans_started(c, r, "sem") == 0, c.stderr


def test_invalid_sampler_logs_once_and_uses_default():
    with Broker(["in:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "3", receiver=r,
                      env={"OTEL_TRACES_SAMPLER": "sometimes"})
        assert len(log_lines(p.stderr, "OTEL_TRACES_SAMPLER")) == 1, p.stderr
        assert stats(p.stderr)["started"] == 3
        q = semclient(b, "produce", "-t", "in", "-n", "3", receiver=r,
                      env={"OTEL_TRACES_SAMPLER": "traceidratio",
                           "OTEL_TRACES_SAMPLER_ARG": "1.5"})
        assert len(log_lines(q.stderr, "OTEL_TRACES_SAMPLER_ARG")) == 1, q.stderr
        assert stats(q.stderr)["started"] == 3


def test_invalid_log_level_reported_once_and_error_level_used():
    with Broker(["in:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "in", "-n", "2", receiver=r,
                      env={"OTEL_LOG_LEVEL": "chatty"})
        assert p.returncode == 0
        assert len(log_lines(p.stderr, "OTEL_LOG_LEVEL")) == 1, p.stderr
        # The default level, error: no info lines (such as the counters).
        assert "started=" not in p.stderr, p.stderr
        r.wait_for(lambda s: len(named(s, "send in")) >= 2)


def _in_locale(name):
    """kclient's environment for locale @name, or None after saying why the
    locale cannot be had here."""
    env, reason = locale_env(name)
    if env is None:
        print("# skip: %s" % reason)
    return env


def test_sampler_ratio_ignores_the_apps_decimal_comma_locale():
    # The app calls setlocale(LC_ALL, "") under de_DE (decimal comma)
    # before its first librdkafka call, where kotel reads its config:
    # "0.5" is still one half, not "not a number" and 100 %.
    env = _in_locale("de_DE.UTF-8")
    if env is None:
        return
    env.update({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"})
    with Broker(["t:1"]) as b, Receiver() as r:
        p = kclient(b, "--setlocale", "produce", "-a", "produce", "-t", "t", "-n", "400",
                    receiver=r, env=env)
        loc = parse_lines(p.stdout, "locale")
        assert loc and loc[0]["decimal_point"] == ",", p.stdout[:500]
        assert log_lines(p.stderr, "OTEL_TRACES_SAMPLER_ARG") == [], p.stderr
        # 400 roots at one half: 200 expected, sd 10.
        started = stats(p.stderr)["started"]
        assert 120 <= started <= 280, started


def test_config_words_ignore_the_apps_turkish_locale():
    # Under tr_TR, strcasecmp("INFO", "info") differs (I folds to a
    # dotless i): case-insensitive values must still match in ASCII.
    env = _in_locale("tr_TR.UTF-8")
    if env is None:
        return
    env.update({"OTEL_LOG_LEVEL": "INFO", "KOTEL_PROCESS_PARENT": "LINK",
                "OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP", "OTEL_SDK_DISABLED": "FALSE"})
    with Broker(["t:1"]) as b, Receiver() as r:
        p = kclient(b, "--setlocale", "produce", "-a", "produce", "-t", "t", "-n", "3",
                    receiver=r, env=env)
        loc = parse_lines(p.stdout, "locale")
        assert loc and loc[0]["LC_NUMERIC"] == "tr_TR.UTF-8", p.stdout[:500]
        assert [l for l in p.stderr.splitlines() if l.startswith("kotel: error")] == [], \
            p.stderr
        # INFO was read as info: the counters line is there.
        assert stats(p.stderr)["started"] == 3, p.stderr
        r.wait_spans(3)
        assert all(q["headers"].get("Content-Encoding") == "gzip" for q in r.requests)
