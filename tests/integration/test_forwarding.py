"""Context that survives forwarding: producer -> forwarder -> consumer, three
processes, ONE trace per message end to end, whichever way the forwarder
hands the consumed message on (kclient's forward patterns):

    send (producer) -> process (forwarder) -> send (forwarder, parent = the
    process span OF THE SAME MESSAGE) -> process (consumer)

Messages are matched by key (k0..kN-1, forwarded with the same key). Also
pins the process span end rule (msgtab.h): a process span ends when the
message is destroyed AND the consuming thread moved on, whichever is last."""

from kotel_chain import check_chain
from kotel_test import Broker, Receiver, kclient, named, of_service, parse_lines

N = 6


def chain(pattern, n=N, sleep_ms=0):
    """Runs the three processes; returns (spans, forwarder stdout, consumer
    stdout) once every span of the chain has arrived."""
    with Broker(["in:1", "out:1"]) as b, Receiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "in", "-n", str(n),
                receiver=r, service="origin")
        args = ["forward", "-a", pattern, "-t", "in", "-o", "out", "-n", str(n),
                "-g", "fwd"]
        if sleep_ms:
            args += ["--sleep", str(sleep_ms)]
        f = kclient(b, *args, receiver=r, service="forwarder")
        c = kclient(b, "consume", "-a", "poll", "-t", "out", "-n", str(n),
                    "-g", "sink", receiver=r, service="sink")
        spans = r.wait_for(lambda s: len(named(s, "send in")) >= n and
                           len(named(s, "process in")) >= n and
                           len(named(s, "send out")) >= n and
                           len(named(s, "process out")) >= n)
        return spans, f.stdout, c.stdout


def check(spans, sink_out, n=N):
    return check_chain(spans, n, sink_out=sink_out)


def test_forward_thread_current():
    spans, _, c = chain("current")
    check(spans, c)


def test_forward_consume_batch_queue():
    spans, f, c = chain("batch")
    assert parse_lines(f, "batch"), "the forwarder did not consume batches: " + f
    check(spans, c)
    assert named(of_service(spans, "forwarder"), "poll in"), "no poll span for the batch"


def test_forward_legacy_consume_batch():
    spans, f, c = chain("batchl")
    assert parse_lines(f, "batch"), f
    check(spans, c)


def test_forward_batch_by_produce_batch():
    # A consumed batch forwarded as one produce_batch of its own buffers.
    spans, f, c = chain("batchpb")
    assert parse_lines(f, "batch"), f
    check(spans, c)


def test_forward_list_later():
    spans, _, c = chain("list")
    hops = check(spans, c)
    # A held message's process span lasts until it is destroyed, after the
    # forward: it covers the forwarder's send of the same message.
    for send, fproc, fsend, _ in hops.values():
        assert fproc["end"] >= fsend["start"], "process span ended before the forward"


def test_forward_worker_thread():
    spans, _, c = chain("worker", sleep_ms=50)
    hops = check(spans, c)
    # The consuming thread moves on at once; the worker's destroy comes last
    # and ends the span, after the worker's send started.
    for _, fproc, fsend, _ in hops.values():
        assert fproc["end"] >= fsend["start"]
        assert fproc["end"] - fproc["start"] >= 50e6


def test_forward_zero_copy_beats_current():
    # Message i is produced (by its payload or key buffer) while message
    # i+1 is the thread's current one: the pointer must win.
    spans, _, c = chain("zerocopy")
    check(spans, c)


def test_forward_copied_headers():
    # New payload, copied key: only the copied traceparent can link, through
    # the creation-context index, to the forwarder's process span.
    spans, _, c = chain("headers")
    check(spans, c)


def test_process_span_covers_processing_after_early_destroy():
    # Python's shape in C: destroy right after poll, then process (sleep) and
    # produce. The span ends when the thread moves on, not at destroy.
    spans, _, c = chain("early", sleep_ms=100)
    hops = check(spans, c)
    for _, fproc, fsend, _ in hops.values():
        assert fproc["end"] - fproc["start"] >= 100e6, fproc
        assert fproc["end"] >= fsend["start"]


def test_process_span_covers_processing_before_destroy():
    spans, _, c = chain("current", sleep_ms=100)
    hops = check(spans, c)
    for _, fproc, fsend, _ in hops.values():
        assert fproc["end"] - fproc["start"] >= 100e6, fproc
        assert fproc["end"] >= fsend["start"]
