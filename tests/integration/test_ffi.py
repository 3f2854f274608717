"""FFI clients bind librdkafka with dlsym on its handle, past LD_PRELOAD:
kotel's dlsym answers the functions it hooks with its hooks (and only
those), so a Python ctypes client is traced exactly like its directly
linked twin (kclient, the same calls and configuration)."""

import os
import subprocess

from kotel_test import (KCLIENT, LIB, PYTHON, ROOT, Broker, Receiver, agent_env,
                        of_service, parse_lines, run)

CLIENTS = os.path.join(ROOT, "tests", "clients")
CTYPES = os.path.join(CLIENTS, "py_ctypes.py")
N = 4
# Differ between two runs of the same program.
VOLATILE = {"server.port", "kotel.message.age_ms"}


def shape(spans):
    """Everything about @spans but ids, times and the broker's port."""
    out = []
    for s in spans:
        attrs = {k: v for k, v in s["attributes"].items() if k not in VOLATILE}
        out.append((s["name"], s["kind"], bool(s["parent_span_id"]), len(s.get("links", [])),
                    s["status"].get("code") if isinstance(s.get("status"), dict) else s.get("status"),
                    sorted(attrs.items())))
    return sorted(out, key=repr)


def roundtrip(r, service, produce_cmd, consume_cmd):
    with Broker(["t:1"]) as b:
        p = run(produce_cmd(b), agent_env(r, service + "-p"))
        c = run(consume_cmd(b), agent_env(r, service + "-c"))
    return p, c


def check_headers(p, c, spans, service):
    """The delivery reports and the consumed messages carry the send
    spans' traceparent, one per message."""
    sends = {s["attributes"]["messaging.kafka.message.key"]: s
             for s in of_service(spans, service + "-p")}
    for lines, what in ((p.stdout, "dr"), (c.stdout, "msg")):
        rows = parse_lines(lines, what)
        assert len(rows) == N, lines
        for row in rows:
            s = sends[row["key"]]
            assert row["traceparent"] == "00-%s-%s-01" % (s["trace_id"], s["span_id"]), row


def test_ctypes_client_traced_like_its_linked_twin():
    with Receiver() as r:
        lp, lc = roundtrip(
            r, "linked",
            lambda b: [KCLIENT, "-b", b.bootstrap, "produce", "-a", "produce", "-t", "t",
                       "-n", str(N)],
            lambda b: [KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", "t",
                       "-n", str(N)])
        fp, fc = roundtrip(
            r, "ffi",
            lambda b: [PYTHON, CTYPES, b.bootstrap, "produce", "t", str(N)],
            lambda b: [PYTHON, CTYPES, b.bootstrap, "consume", "t", str(N)])
        spans = r.wait_for(lambda s: all(len(of_service(s, x)) >= N for x in
                                         ("linked-p", "linked-c", "ffi-p", "ffi-c")))
        for side in ("p", "c"):
            linked = shape(of_service(spans, "linked-" + side))
            ffi = shape(of_service(spans, "ffi-" + side))
            assert len(linked) >= N, linked
            assert ffi == linked, (ffi, linked)
        check_headers(lp, lc, spans, "linked")
        check_headers(fp, fc, spans, "ffi")


PROBE = r"""
import ctypes, sys
lib = ctypes.CDLL("librdkafka.so.1")
maps = [l.split() for l in open("/proc/self/maps")]
def owner(addr):
    for m in maps:
        lo, hi = (int(x, 16) for x in m[0].split("-"))
        if lo <= addr < hi and len(m) > 5:
            return m[5]
    return "?"
for name in sys.argv[1:]:
    addr = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    print(name, owner(addr))
"""


def test_dlsym_answers_only_the_hooked_functions_with_hooks():
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True,
                         text=True, check=True).stdout
    hooked = sorted(l.split()[-1] for l in out.splitlines() if " rd_kafka_" in l)
    assert "rd_kafka_new" in hooked and "rd_kafka_flush" in hooked, hooked
    plain = ["rd_kafka_version", "rd_kafka_conf_set", "rd_kafka_poll", "rd_kafka_subscribe",
             "rd_kafka_topic_destroy", "rd_kafka_conf_new"]
    p = run([PYTHON, "-c", PROBE] + hooked + plain, agent_env(None, "probe"))
    where = dict(l.split() for l in p.stdout.splitlines())
    lib = os.path.realpath(LIB)
    for name in hooked:
        assert os.path.realpath(where[name]) == lib, (name, where[name])
    for name in plain:
        assert "librdkafka" in where[name], (name, where[name])
    # Without the agent every one of them is librdkafka's own.
    p = run([PYTHON, "-c", PROBE] + hooked, agent_env(None, "probe", preload=False))
    assert all("librdkafka" in l.split()[1] for l in p.stdout.splitlines()), p.stdout
