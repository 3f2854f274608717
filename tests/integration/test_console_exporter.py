"""OTEL_TRACES_EXPORTER=console: one "kotel: span ..." line a span on
stderr, with its ids, kind and attributes. A message key is data from
whoever produced the message: one with control bytes (a newline that would
start a forged "kotel:" line, an escape sequence for the terminal) is not
recorded, so the console never prints it."""

import re
import shutil

from kotel_test import Broker, agent_env, run

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
SPAN = re.compile(r"^kotel: span '(?P<name>[^']*)' kind=(?P<kind>\w+) "
                  r"trace=(?P<trace>[0-9a-f]{32}) span=(?P<span>[0-9a-f]{16})"
                  r"(?: parent=(?P<parent>[0-9a-f]{16}))? duration_us=\d+(?P<rest>.*)$")


def console_lines(stderr):
    return [SPAN.match(l) for l in stderr.splitlines() if l.startswith("kotel: span")]


def produce(b, keys):
    # '#' ends a message and '|' its key, so keys may hold newlines.
    data = "".join("%s|v%d#" % (k, i) for i, k in enumerate(keys))
    env = agent_env(None, "console-p", OTEL_TRACES_EXPORTER="console")
    return run([KCAT, "-P", "-b", b.bootstrap, "-t", "in", "-K", "|", "-D", "#"],
               env, input=data)


def test_console_exporter_prints_one_line_per_span():
    with Broker(["in:1"]) as b:
        p = produce(b, ["k0", "k1", "k2"])
    lines = console_lines(p.stderr)
    assert len(lines) == 3 and all(lines), p.stderr
    keys = []
    for m in lines:
        assert m["name"] == "send in" and m["kind"] == "PRODUCER", m.group(0)
        assert " messaging.system=kafka" in m["rest"], m.group(0)
        assert " messaging.destination.name=in" in m["rest"], m.group(0)
        assert re.search(r" messaging.kafka.offset=\d+", m["rest"]), m.group(0)
        keys.append(re.search(r" messaging.kafka.message.key=(\S+)", m["rest"])[1])
    assert sorted(keys) == ["k0", "k1", "k2"], keys
    assert len({m["trace"] for m in lines}) == 3


def test_console_exporter_never_prints_a_key_with_control_bytes():
    # Such a key is not recorded at all (docs/span-model.md), so it cannot
    # forge a line or drive the terminal; the span is still printed.
    evil = "a\nkotel: span 'forged' kind=PRODUCER\x1b[2J\rb"
    with Broker(["in:1"]) as b:
        p = produce(b, [evil, "ok"])
    lines = console_lines(p.stderr)
    assert len(lines) == 2 and all(lines), repr(p.stderr)
    assert "forged" not in p.stderr and "\x1b" not in p.stderr, repr(p.stderr)
    keys = [re.search(r" messaging.kafka.message.key=(\S+)", m["rest"]) for m in lines]
    assert sorted(k[1] for k in keys if k) == ["ok"], repr(p.stderr)
