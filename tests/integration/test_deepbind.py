"""A module loaded with RTLD_DEEPBIND (as PHP loads its extensions) binds
to librdkafka before the preloaded hooks; kotel points the module's
bindings of the hooked functions at its hooks after the load, so the
module is traced exactly like its directly linked twin (kclient), with
lazy and immediate binding, and with a read-only (full RELRO) GOT."""

import os

from kotel_test import (BUILD, KCLIENT, LIB, PRELOAD, Broker, Receiver, agent_env, of_service,
                        run)
from twin import check_headers, shape

HOST = os.path.join(BUILD, "tests", "deepbind_host")
MODULE = os.path.join(BUILD, "tests", "deepbind_module.so")
MODULE_RELRO = os.path.join(BUILD, "tests", "deepbind_module_relro.so")
N = 3


def twin(r):
    """kclient's spans: produce -a producev, then consume -a poll."""
    with Broker(["t:1"]) as b:
        p = run([KCLIENT, "-b", b.bootstrap, "produce", "-a", "producev", "-t", "t",
                 "-n", str(N)], agent_env(r, "linked-p"))
        c = run([KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", "t",
                 "-n", str(N)], agent_env(r, "linked-c"))
    return p, c


def test_deepbind_module_traced_like_its_linked_twin():
    if PRELOAD != LIB:
        # ASan and TSan refuse any dlopen with RTLD_DEEPBIND (their
        # interceptors would be bypassed): google/sanitizers issue 611.
        print("# skip: the sanitizer runtimes refuse RTLD_DEEPBIND")
        return
    with Receiver() as r:
        lp, lc = twin(r)
        # A bare name is found through the host's RUNPATH ($ORIGIN), and
        # $ORIGIN in the name is the host's directory, as without kotel.
        cases = [(MODULE, "now"), (MODULE, "lazy"), (MODULE_RELRO, "now"),
                 (os.path.basename(MODULE), "now"), ("$ORIGIN/deepbind_module.so", "lazy")]
        outs = []
        for i, (module, binding) in enumerate(cases):
            with Broker(["t:1"]) as b:
                # One process both produces and consumes: one service per
                # case, told apart by span kind below.
                out = run([HOST, module, binding, b.bootstrap, "t", str(N)],
                          agent_env(r, "deep%d" % i)).stdout
            assert "delivered=%d" % N in out and "consumed=%d" % N in out, out
            outs.append(out)
        spans = r.wait_for(lambda s: len(of_service(s, "linked-c")) >= N and all(
            len(of_service(s, "deep%d" % i)) >= 2 * N for i in range(len(cases))))
        linked = shape(of_service(spans, "linked-p") + of_service(spans, "linked-c"))
        assert len(linked) >= 2 * N, linked
        for i in range(len(cases)):
            deep = of_service(spans, "deep%d" % i)
            assert shape(deep) == linked, (cases[i], shape(deep), linked)
        check_headers(None, lc.stdout, spans, "linked-p", N)
        # The module's delivery reports and consumed messages carry its
        # send spans' traceparent.
        for i, out in enumerate(outs):
            check_headers(out, out, spans, "deep%d" % i, N)


def test_deepbind_module_untraced_without_agent_still_runs():
    # The same host and module without kotel: the control for the test
    # above (no span at all, same output shape).
    with Receiver() as r, Broker(["t:1"]) as b:
        out = run([HOST, MODULE, "now", b.bootstrap, "t", str(N)],
                  agent_env(r, "plain", preload=False)).stdout
        assert "delivered=%d" % N in out and "consumed=%d" % N in out, out
        assert all("traceparent=-" in l for l in out.splitlines() if l.startswith("msg ")), out
        assert r.spans == []
