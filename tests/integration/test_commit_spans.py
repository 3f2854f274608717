"""Commit spans: one `commit {topic}` CLIENT span (operation type settle) per
topic of every offset commit (rd_kafka_commit, rd_kafka_commit_message,
rd_kafka_commit_queue, automatic commits), with the committed offsets, the
consumer's context as parent, links to the process spans of the messages it
settles that are still open, and error.type on failure; and the app sees
exactly what it sees without kotel (return values, offset_commit_cb calls,
their order, its own partition list)."""

import os

from kotel_test import (BUILD, KCLIENT, PYTHON, Broker, Receiver, agent_env, run,
                        stats)

COMMITCLIENT = os.path.join(BUILD, "tests", "commitclient")
SERVICE = "committer"


def commitclient(mode, r=None, preload=True, env=None):
    e = agent_env(r, SERVICE, preload=preload, **(env or {}))
    return run([COMMITCLIENT, mode], e)


def cb_follows_commits(out):
    """Each offset_commit_cb reports the commits in the order they were
    made (commit_message lines name the message; its cb, offset + 1)."""
    made, cbs = [], []
    for line in out.splitlines():
        if line.startswith("commit_message "):
            where = line.split()[1]  # orders[1]@0
            topic, rest = where.split("[")
            part, off = rest.split("]@")
            made.append("%s:%s@%d" % (topic, part, int(off) + 1))
        elif line.startswith("cb "):
            cbs.append(line.split("offsets=")[1])
    return cbs == made[:len(cbs)] and len(cbs) == len(made)


def app_view(mode, r, deterministic, env=None):
    """Runs @mode without and with kotel; the app's transcript must match:
    identical when the program's order is deterministic, else the same
    lines with every callback in commit order."""
    plain = commitclient(mode, preload=False)
    traced = commitclient(mode, r, env=env)
    assert plain.stdout.endswith("done\n"), plain.stdout
    if deterministic:
        assert plain.stdout == traced.stdout, (plain.stdout, traced.stdout)
    else:
        assert sorted(plain.stdout.splitlines()) == sorted(traced.stdout.splitlines()), (
            plain.stdout, traced.stdout)
        assert cb_follows_commits(plain.stdout), plain.stdout
        assert cb_follows_commits(traced.stdout), traced.stdout
    return traced


def spans_of(r, n_commits):
    spans = r.wait_for(lambda s: len(commits(s)) >= n_commits and len(procs(s)) >= 4)
    return commits(spans), procs(spans)


def commits(spans):
    return [s for s in spans if s["name"].startswith("commit ")
            and s["resource"].get("service.name") == SERVICE]


def procs(spans):
    return [s for s in spans if s["name"].startswith("process ")
            and s["resource"].get("service.name") == SERVICE]


def offsets(span):
    return sorted(span["attributes"]["kotel.commit.offsets"].split(","))


def check_common(c, group=True):
    a = c["attributes"]
    assert c["kind"] == "CLIENT", c
    assert a["messaging.system"] == "kafka"
    assert a["messaging.operation.name"] == "commit"
    assert a["messaging.operation.type"] == "settle"
    assert c["name"] == "commit " + a["messaging.destination.name"]
    assert a["messaging.client.id"] == "commitclient"
    if group:
        assert a["messaging.consumer.group.name"] == "cg"
    else:
        assert "messaging.consumer.group.name" not in a
    assert 0 < c["start"] <= c["end"], c


def check_per_message(mode, linked):
    with Receiver() as r:
        app_view(mode, r, deterministic=False)
        cs, ps = spans_of(r, 4)
        assert len(cs) == 4, [c["name"] for c in cs]
        by_id = {p["span_id"]: p for p in ps}
        for c in cs:
            check_common(c)
            a = c["attributes"]
            assert "error.type" not in a and c["status"]["code"] == 0, c
            # The consumer's context: the process span of the message.
            p = by_id[c["parent_span_id"]]
            pa = p["attributes"]
            assert c["trace_id"] == p["trace_id"]
            assert a["messaging.destination.name"] == pa["messaging.destination.name"]
            assert a["messaging.destination.partition.id"] == pa["messaging.destination.partition.id"]
            assert offsets(c) == ["%s:%d" % (pa["messaging.destination.partition.id"],
                                             pa["messaging.kafka.offset"] + 1)]
            if linked:
                assert [l["span_id"] for l in c["links"]] == [p["span_id"]], c


def test_commit_message_sync():
    check_per_message("sync", linked=True)


def test_commit_message_async():
    """Async commits finish later, in order: each span still gets its own
    call's parent (its message's process span)."""
    check_per_message("async", linked=False)


def check_whole(mode, deterministic=True):
    """One commit of orders[0]@2, orders[1]@1, audit[0]@1, made after the
    last message (still held by the app): two spans, one trace, the last
    process span as parent, and the span of its topic linked to it."""
    with Receiver() as r:
        app_view(mode, r, deterministic)
        cs, ps = spans_of(r, 2)
        assert len(cs) == 2, [c["name"] for c in cs]
        by_name = {c["name"]: c for c in cs}
        o, au = by_name["commit orders"], by_name["commit audit"]
        for c in cs:
            check_common(c)
            assert "error.type" not in c["attributes"], c
        assert offsets(o) == ["0:2", "1:1"]
        assert "messaging.destination.partition.id" not in o["attributes"]
        assert offsets(au) == ["0:1"]
        assert au["attributes"]["messaging.destination.partition.id"] == "0"
        assert o["trace_id"] == au["trace_id"] and o["span_id"] != au["span_id"]
        last = {p["span_id"]: p for p in ps}[o["parent_span_id"]]
        assert au["parent_span_id"] == last["span_id"]
        mine = by_name["commit " + last["attributes"]["messaging.destination.name"]]
        assert last["span_id"] in [l["span_id"] for l in mine["links"]], (mine, last)


def test_commit_current_assignment():
    check_whole("commit")


def test_commit_list_leaves_the_app_list_unchanged():
    check_whole("list")  # the client prints the list after the call


def test_commit_queue_sync_with_callback():
    check_whole("queue")


def test_commit_queue_async_on_a_queue():
    check_whole("queueasync")


def test_commit_in_the_rebalance_callback_at_close():
    """A synchronous commit the app makes in its rebalance callback, which
    librdkafka runs inside rd_kafka_consumer_close (a hooked call): the
    app's transcript is unchanged and the commit has its spans, roots (the
    thread has moved on from its last message), one trace."""
    with Receiver() as r:
        out = app_view("revoke", r, deterministic=True)
        assert "revoke commit err=NO_ERROR" in out.stdout, out.stdout
        cs = commits(r.wait_for(lambda s: len(commits(s)) >= 2))
        assert sorted(c["name"] for c in cs) == ["commit audit", "commit orders"], cs
        for c in cs:
            check_common(c)
            assert c["parent_span_id"] == "", c
        assert cs[0]["trace_id"] == cs[1]["trace_id"]
        by_name = {c["name"]: c for c in cs}
        assert offsets(by_name["commit orders"]) == ["0:2", "1:1"]
        assert offsets(by_name["commit audit"]) == ["0:1"]


def test_auto_commit_spans_are_roots():
    with Receiver() as r:
        out = commitclient("auto", r)
        assert "auto commits served=1" in out.stdout, out.stdout
        cs = r.wait_for(lambda s: len(commits(s)) >= 2)
        cs = commits(cs)
        assert len(cs) >= 2, cs
        for c in cs:
            check_common(c)
            assert c["parent_span_id"] == "", c
        # The commits with everything consumed: all three partitions.
        got = {}
        for c in cs:
            got.setdefault(c["name"], set()).update(offsets(c))
        assert "0:2" in got["commit orders"] and "1:1" in got["commit orders"], got
        assert "0:1" in got["commit audit"], got


def test_failed_commit_has_error_type():
    """The broker refuses the OffsetCommit: the app gets the error, and
    each span of the commit says which one."""
    with Receiver() as r:
        out = app_view("fail", r, deterministic=True)
        assert "commit err=OFFSET_METADATA_TOO_LARGE" in out.stdout
        cs, _ = spans_of(r, 2)
        assert len(cs) == 2
        for c in cs:
            check_common(c)
            assert c["attributes"]["error.type"] == "OFFSET_METADATA_TOO_LARGE", c
            assert c["status"]["code"] == 2, c


def test_commit_without_group_fails_in_the_wrapper():
    """librdkafka refuses at once (no consumer group) and never calls
    on_commit: the wrapper's own spans carry the error, sync and async."""
    with Receiver() as r:
        app_view("nogroup", r, deterministic=True)
        cs = commits(r.wait_for(lambda s: len(commits(s)) >= 4))
        assert len(cs) == 4, cs
        assert sorted(c["name"] for c in cs) == ["commit audit"] * 2 + ["commit orders"] * 2
        for c in cs:
            check_common(c, group=False)
            assert c["attributes"]["error.type"] == "_UNKNOWN_GROUP", c
            assert c["status"]["code"] == 2


def test_unsampled_commits_make_no_spans():
    """The sampler decides for commit spans as for the others (here: the
    process span as parent, or none): always_off makes none at all."""
    with Receiver() as r:
        for mode in ("sync", "commit", "auto"):
            out = commitclient(mode, r, env={"OTEL_TRACES_SAMPLER": "always_off"})
            assert out.stdout.endswith("done\n"), out.stdout
            assert stats(out.stderr)["started"] == 0, out.stderr
        assert commits(r.spans) == []


PY_COMMITS = r"""
import sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
              "client.id": "pycommit", "auto.offset.reset": "earliest",
              "enable.auto.commit": False})
c.subscribe(["pyc"])
seen, deadline = 0, time.time() + 60
while seen < 3 and time.time() < deadline:
    m = c.poll(0.2)
    if m is None or m.error():
        continue
    seen += 1
    r = c.commit(message=m, asynchronous=False)
    print("commit %d:%d -> %s" % (m.partition(), m.offset(),
          ",".join("%d@%d" % (t.partition, t.offset) for t in r)), flush=True)
c.close()
print("done", flush=True)
"""


def test_python_commit_message():
    """confluent-kafka's synchronous Consumer.commit(message=...): one span
    per call, child of (and linked to) the message's process span, though
    Python destroys the message inside poll()."""
    with Broker(["pyc:1"]) as b, Receiver() as r:
        run([KCLIENT, "-b", b.bootstrap, "produce", "-a", "producev", "-t", "pyc",
             "-n", "3"], agent_env(preload=False))
        plain = run([PYTHON, "-c", PY_COMMITS, b.bootstrap, "pycg-plain"],
                    agent_env(preload=False))
        out = run([PYTHON, "-c", PY_COMMITS, b.bootstrap, "pycg"],
                  agent_env(r, "pycommitter"))
        assert plain.stdout.endswith("done\n") and plain.stdout.count("commit ") == 3
        assert out.stdout == plain.stdout, (plain.stdout, out.stdout)
        spans = r.wait_for(lambda s: len([x for x in s if x["name"] == "commit pyc"]) >= 3)
        cs = [s for s in spans if s["name"] == "commit pyc"]
        ps = {s["span_id"]: s for s in spans if s["name"] == "process pyc"}
        assert len(cs) == 3 and len(ps) == 3, [s["name"] for s in spans]
        for c in cs:
            p = ps[c["parent_span_id"]]
            assert c["kind"] == "CLIENT"
            assert c["attributes"]["messaging.consumer.group.name"] == "pycg"
            assert c["attributes"]["messaging.client.id"] == "pycommit"
            assert offsets(c) == ["0:%d" % (p["attributes"]["messaging.kafka.offset"] + 1)]
            assert [l["span_id"] for l in c["links"]] == [p["span_id"]]
