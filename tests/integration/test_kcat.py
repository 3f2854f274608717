"""kcat, an unmodified librdkafka program, under the agent: -P (producev)
sends with a traceparent header next to the user's own, -C
(consume_callback_queue) and -G (consumer_poll) continue the producer's
trace, one trace per message kcat -> kcat."""

import shutil

from kotel_chain import check_hop, one
from kotel_test import Broker, Receiver, agent_env, named, of_service, run

N = 4
KCAT = shutil.which("kcat") or "/usr/bin/kcat"


def headers(line):
    """'k0 app=1,traceparent=00-...' -> ('k0', [('app', '1'), ...])"""
    key, _, hs = line.partition(" ")
    return key, [tuple(h.split("=", 1)) for h in hs.split(",") if h]


def kcat_produce(b, r):
    lines = "".join("k%d:v%d\n" % (i, i) for i in range(N))
    run([KCAT, "-P", "-b", b.bootstrap, "-t", "in", "-K", ":", "-H", "app=1"],
        agent_env(r, "kcat-p"), input=lines)


def check_consumed(spans, out, service, group=None):
    lines = [l for l in out.splitlines() if l.startswith("k")]
    assert len(lines) == N, out
    for line in lines:
        key, hs = headers(line)
        # The user's header is kept and exactly one traceparent is added.
        assert ("app", "1") in hs, line
        tps = [v for n, v in hs if n == "traceparent"]
        assert len(tps) == 1, line
        send = one(spans, "kcat-p", "send in", key)
        assert tps[0] == "00-%s-%s-01" % (send["trace_id"], send["span_id"])
        assert send["attributes"]["messaging.kafka.offset"] >= 0
        proc = one(spans, service, "process in", key)
        check_hop(send, proc)
        if group:
            assert proc["attributes"]["messaging.consumer.group.name"] == group
    # One trace per message.
    assert len({s["trace_id"] for s in named(of_service(spans, "kcat-p"), "send in")}) == N


def test_kcat_producer_to_kcat_consumer():
    with Broker(["in:1"]) as b, Receiver() as r:
        kcat_produce(b, r)
        c = run([KCAT, "-C", "-b", b.bootstrap, "-t", "in", "-c", str(N), "-e",
                 "-f", "%k %h\\n"], agent_env(r, "kcat-c"))
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= N)
        check_consumed(spans, c.stdout, "kcat-c")
        assert not named(spans, "poll in"), "poll span for a per-message API"


def test_kcat_group_consumer():
    with Broker(["in:1"]) as b, Receiver() as r:
        kcat_produce(b, r)
        c = run([KCAT, "-b", b.bootstrap, "-G", "kgroup", "-c", str(N), "-o", "beginning",
                 "-f", "%k %h\\n", "in"], agent_env(r, "kcat-g"))
        spans = r.wait_for(lambda s: len(named(s, "process in")) >= N)
        check_consumed(spans, c.stdout, "kcat-g", group="kgroup")
