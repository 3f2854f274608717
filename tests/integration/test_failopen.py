"""Fail open and inertness: the app sees exactly what it sees without the
agent (return values, errno, rd_kafka_last_error(), delivery reports in
count and order, its own headers objects after failed calls, message
ownership); programs that never use librdkafka run unchanged; the library
exports only the hooked symbols; OTEL_SDK_DISABLED=true passes through."""

import os
import re
import subprocess

from kotel_test import LIB, Broker, Receiver, agent_env, named, run
from semantics_lib import SEMCLIENT, rows, semclient

HOOKED = sorted("""
rd_kafka_commit rd_kafka_commit_message rd_kafka_commit_queue
rd_kafka_consume rd_kafka_consume_batch rd_kafka_consume_batch_queue
rd_kafka_consume_callback rd_kafka_consume_callback_queue
rd_kafka_consume_queue rd_kafka_consumer_close rd_kafka_consumer_poll
rd_kafka_destroy rd_kafka_destroy_flags rd_kafka_event_destroy rd_kafka_flush
rd_kafka_event_message_array rd_kafka_event_message_next
rd_kafka_message_destroy rd_kafka_new rd_kafka_produce rd_kafka_produce_batch
rd_kafka_producev rd_kafka_produceva rd_kafka_queue_get_consumer
rd_kafka_queue_get_main rd_kafka_queue_get_partition rd_kafka_queue_new
rd_kafka_queue_poll rd_kafka_topic_new
""".split())
DL_HOOKED = ["dlopen", "dlsym", "dlvsym"]


def normalize(out):
    """Our traceparent in delivered messages is the one intended difference."""
    lines = []
    for line in out.splitlines():
        if line.startswith("dr "):
            line = re.sub(r" traceparent=\S+", "", line)
            line = re.sub(r" nhdrs=\d+", "", line)
        lines.append(line)
    return lines


def transcript(b, topic, preload, r=None, env=None):
    p = semclient(b, "failopen", "-t", topic, preload=preload, receiver=r, env=env)
    return p


def test_failopen_transcript_identical():
    with Broker(["plain:1", "traced:1", "disabled:1"]) as b, Receiver() as r:
        plain = transcript(b, "plain", False)
        traced = transcript(b, "traced", True, r)
        assert "done" in plain.stdout and "_QUEUE_FULL" in plain.stdout
        assert "_UNKNOWN_PARTITION" in plain.stdout
        # producev's own errors (librdkafka test 0105): after a fatal error
        # producev says _FATAL, not the fatal error's code.
        assert "producev-after-fatal rc=-150 errno=%d last_error=_FATAL" % 125 in plain.stdout
        assert "producev-not-in-transaction rc=-172 " in plain.stdout
        assert normalize(plain.stdout) == normalize(traced.stdout), (plain.stdout, traced.stdout)
        # The intended difference is really there (the comparison is not
        # vacuous): every delivered message carries one traceparent.
        drs = rows(traced.stdout, "dr")
        assert len(drs) == 6 and all(d["traceparent_count"] == 1 for d in drs)
        assert all(d["traceparent_count"] == 0 for d in rows(plain.stdout, "dr"))
        disabled = transcript(b, "disabled", True, r, env={"OTEL_SDK_DISABLED": "true"})
        assert plain.stdout == disabled.stdout  # byte for byte: no header either
        assert plain.returncode == traced.returncode == disabled.returncode == 0


def test_sdk_disabled_is_pass_through():
    with Broker(["t:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "t", "-n", "3", receiver=r,
                      env={"OTEL_SDK_DISABLED": "true"})
        drs = rows(p.stdout, "dr")
        assert len(drs) == 3 and all(d["nhdrs"] == "0" for d in drs), p.stdout
        base = semclient(b, "threads", preload=False)
        off = semclient(b, "threads", receiver=r, env={"OTEL_SDK_DISABLED": "true"})
        on = semclient(b, "threads", receiver=r)
        def n(p):
            return int(p.stdout.split("threads-with-client=")[1].split()[0])

        assert n(off) == n(base), (base.stdout, off.stdout)
        assert n(on) == n(base) + 1, (base.stdout, on.stdout)  # the exporter thread
        assert p.stderr.strip() == "" and off.stderr.strip() == "", (p.stderr, off.stderr)
        assert r.requests == []


def plain_and_preloaded(cmd, r):
    env_plain = agent_env(r, "inert", preload=False)
    env_pre = agent_env(r, "inert")
    a = subprocess.run(cmd, env=env_plain, capture_output=True, text=True, timeout=60)
    b = subprocess.run(cmd, env=env_pre, capture_output=True, text=True, timeout=60)
    return a, b


def test_inert_in_programs_without_librdkafka():
    with Receiver() as r:
        cmds = [["ls", "-la", "/usr/include/librdkafka"], ["ls", "/nonexistent-kotel"],
                ["/usr/bin/python3", "-c", "pass"],
                ["/usr/bin/python3", "-c",
                 "import os; print(len(os.listdir('/proc/self/task')))"],
                ["bash", "-c", "true"], ["bash", "-c", "exit 7"],
                [SEMCLIENT, "threads"]]
        for cmd in cmds:
            a, b = plain_and_preloaded(cmd, r)
            assert a.returncode == b.returncode, cmd
            assert a.stdout == b.stdout, (cmd, a.stdout, b.stdout)
            assert a.stderr == b.stderr, (cmd, a.stderr, b.stderr)
        a, b = plain_and_preloaded([SEMCLIENT, "threads"], r)
        assert b.stdout.startswith("threads=1 ")
        a, b = plain_and_preloaded(["bash", "-c", "exit 7"], r)
        assert b.returncode == 7
        assert r.requests == []


def test_exported_symbols_are_the_hooks():
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True,
                         text=True, check=True).stdout
    syms = sorted(l.split()[-1] for l in out.splitlines() if l.strip())
    kinds = {l.split()[-2] for l in out.splitlines() if l.strip()}
    # The loader's lookups, for FFI clients (agent/dlhooks.c).
    assert sorted(set(syms) - set(HOOKED)) == DL_HOOKED, syms
    syms = [s for s in syms if s not in DL_HOOKED]
    assert syms == HOOKED, syms
    assert kinds == {"T"}, kinds
    # Every hook is a real librdkafka function of the same name.
    rd = subprocess.run(["nm", "-D", "--defined-only", librdkafka_path()],
                        capture_output=True, text=True, check=True).stdout
    real = {l.split()[-1] for l in rd.splitlines() if l.strip()}
    assert set(HOOKED) <= real, set(HOOKED) - real


def librdkafka_path():
    out = subprocess.run(["ldd", SEMCLIENT], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "librdkafka.so" in line:
            return line.split("=>")[1].split()[0]
    raise AssertionError("librdkafka not found in ldd output:\n" + out)


NEWFAIL = os.path.join(os.path.dirname(SEMCLIENT), "newfail")
NEWFAIL_CASES = ["copied", "refused", "threads", "app-interceptors"]


def newfail(b, topic, case, preload, r=None, env=None):
    e = agent_env(r, "newfail", preload=preload, **(env or {}))
    return run([NEWFAIL, b.bootstrap, topic, case], e)


def test_failed_rd_kafka_new_leaves_the_app_conf_as_without_agent():
    """Regression (librdkafka test 0004, 0097, 0124, 0133, 0134): a failing
    rd_kafka_new freed kotel's on_new entry, shared with the app's conf, and
    the app's rd_kafka_conf_destroy or retry crashed. Each case: failures
    past and before librdkafka's copy of the conf, with NULL, with the app's
    own interceptors; retried with the same conf; identical transcripts
    (return, errno, rd_kafka_last_error, errstr, delivery reports, the app's
    interceptor calls), and the client created on the retry is traced."""
    with Broker(["plain:1", "traced:1", "off:1"]) as b, Receiver() as r:
        for case in NEWFAIL_CASES:
            plain = newfail(b, "plain", case, False)
            traced = newfail(b, "traced", case, True, r)
            off = newfail(b, "off", case, True, r, env={"OTEL_TRACES_SAMPLER": "always_off"})
            assert "failed" in plain.stdout and plain.stdout.endswith("done\n"), plain.stdout
            assert normalize(plain.stdout) == normalize(traced.stdout), (plain.stdout,
                                                                         traced.stdout)
            assert normalize(plain.stdout) == normalize(off.stdout), (plain.stdout, off.stdout)
            drs = rows(traced.stdout, "dr")
            assert drs and all(d["traceparent_count"] == 1 for d in drs), traced.stdout
        # One message per created client: 1 + 1 + 1 + 3.
        spans = r.wait_for(lambda s: len(named(s, "send traced")) >= 6)
        assert len(named(spans, "send traced")) == 6, spans
        assert named(spans, "send off") == []
        assert all(s["attributes"]["messaging.client.id"] == "newfail" for s in spans)
