"""kcat (Debian kcat 1.7) under kotel: -P sends with rd_kafka_producev
(a user header next to kotel's traceparent), -G reads in a group with
rd_kafka_consumer_poll. kcat prints no delivery reports, so each send
span's partition and offset are checked against where the consumer found
the message."""

import shutil

from compat_lib import check_pair
from kotel_test import Broker, Receiver, agent_env, named, run

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
N = 5


def rows(out):
    """'msg key=k0 partition=0 offset=3 headers=app=1,traceparent=TP' -> dicts"""
    got = []
    for line in out.splitlines():
        if not line.startswith("msg "):
            continue
        row = dict(p.split("=", 1) for p in line.split()[1:])
        hs = [h.split("=", 1) for h in row.pop("headers").split(",") if h]
        assert ["app", "1"] in hs, line
        tps = [v for k, v in hs if k == "traceparent"]
        assert len(tps) == 1, line
        row["traceparent"] = tps[0]
        got.append(row)
    return got


def test_kcat_producer_to_kcat_group_consumer():
    with Broker(["kctopic:2"]) as b, Receiver() as r:
        run([KCAT, "-P", "-b", b.bootstrap, "-t", "kctopic", "-K", ":", "-H", "app=1"],
            agent_env(r, "kcat-p"), input="".join("k%d:v%d\n" % (i, i) for i in range(N)))
        c = run([KCAT, "-b", b.bootstrap, "-G", "kcgroup", "-c", str(N), "-o", "beginning",
                 "-f", "msg key=%k partition=%p offset=%o headers=%h\\n", "kctopic"],
                agent_env(r, "kcat-c"))
        msgs = rows(c.stdout)
        assert len(msgs) == N, c.stdout
        spans = r.wait_for(lambda s: len(named(s, "process kctopic")) >= N and
                           len(named(s, "send kctopic")) >= N)
        drs = [{"key": m["key"], "partition": m["partition"], "offset": m["offset"]}
               for m in msgs]
        check_pair(spans, "kcat-p", "kcat-c", "kctopic", drs, msgs, group="kcgroup")
