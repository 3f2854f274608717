#!/usr/bin/python3
"""kotel's end-to-end demo, what `make demo` runs once everything is built.

Starts a local Kafka broker (librdkafka's mock cluster, build/tests/mockbroker)
and a local OTLP/HTTP receiver (tests/lib/otlp_receiver.py), both on
127.0.0.1, then runs three unmodified programs under LD_PRELOAD=libkotel.so:

  orders-api  kcat -P, producing a few orders, with keys, to `orders`
  enricher    scripts/enricher.py (Python, confluent-kafka): consumes
              `orders`, adds prices, produces to `orders.enriched`
  billing     scripts/billing.c (C, a consumer group): consumes
              `orders.enriched`

One more order names a partition orders.enriched does not have: the
enricher's send of it fails, and kotel's log record of that failed delivery
(docs/logs.md) carries the send span's ids. The demo waits (with a
deadline) until every other order's trace has reached billing and that log
record has come, stops what it started, and prints the traces as trees,
each log record under the span it belongs to. Exits 0 when every order gave
one trace orders-api -> enricher -> billing and the failed send its log
record, 1 when not, 2 when something it needs is missing.

  demo.py [--timeout SECONDS] [--spans-out FILE] [--logs-out FILE]
          [--preload LIBS] [--agent-env NAME=VALUE]...
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build"))
LIB = os.path.join(BUILD, "libkotel.so")
MOCKBROKER = os.path.join(BUILD, "tests", "mockbroker")
BILLING = os.path.join(BUILD, "demo", "billing")
ENRICHER = os.path.join(ROOT, "scripts", "enricher.py")
PYTHON = "/usr/bin/python3"

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

IN_TOPIC, OUT_TOPIC = "orders", "orders.enriched"
ORDERS = [
    ("order-1001", {"item": "coffee", "qty": 2}),
    ("order-1002", {"item": "bagel", "qty": 1}),
    ("order-1003", {"item": "tea", "qty": 3}),
]
# Routed (by whoever placed it) to a partition orders.enriched (3
# partitions) does not have: its trace ends at the enricher's failed send,
# with the log record of the failure under that span.
MISROUTED = ("order-1004", {"item": "coffee", "qty": 1, "partition": 7})
# The services, and the spans each message's trace should hold, in order,
# each the parent of the next.
PRODUCER, FORWARDER, CONSUMER = "orders-api", "enricher", "billing"
CHAIN = (
    (PRODUCER, "send " + IN_TOPIC, "PRODUCER"),
    (FORWARDER, "process " + IN_TOPIC, "CONSUMER"),
    (FORWARDER, "send " + OUT_TOPIC, "PRODUCER"),
    (CONSUMER, "process " + OUT_TOPIC, "CONSUMER"),
)

_print_lock = threading.Lock()


def say(*lines):
    with _print_lock:
        for line in lines:
            print(line, flush=True)


class Child:
    """A program the demo started; its output is shown, prefixed."""

    def __init__(self, label, argv, env=None, stdin=None, show=True, own_session=False):
        self.label = label
        self.proc = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT if show else subprocess.DEVNULL,
                                     text=True, start_new_session=own_session)
        self.thread = None
        if show:
            self.thread = threading.Thread(target=self._pump, daemon=True)
            self.thread.start()

    def _pump(self):
        for line in self.proc.stdout:
            say("  %-10s | %s" % (self.label, line.rstrip("\n")))

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after @timeout; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.thread:
            self.thread.join(2)
        return self.proc.returncode


def agent_env(service, endpoint, preload, extra):
    """The environment of a traced program: the user's, without any OTEL_*
    or KOTEL_* setting that could send the spans elsewhere, plus kotel."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "KOTEL_", "LD_PRELOAD"))}
    env.update({
        "LD_PRELOAD": preload,
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        # Export within 100 ms rather than the default 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        # Metrics every second rather than every minute, so that they reach
        # the receiver while the demo runs, not only in the exit flush.
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        # librdkafka's lines and errors as log records (docs/logs.md),
        # exported within 100 ms.
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_BLRP_SCHEDULE_DELAY": "100",
    })
    env.update(extra)
    return env


def metrics_report(points):
    """Lines summing the metrics each service sent (docs/metrics.md): the
    last cumulative point of each series, summed per service and metric."""
    last = {}
    for p in points:
        key = (p["resource"].get("service.name", "?"), p["name"],
               p["attributes"].get("messaging.operation.name", ""),
               tuple(sorted(p["attributes"].items())))
        if key not in last or p["time"] >= last[key]["time"]:
            last[key] = p
    rows = {}
    for (svc, name, op, _), p in last.items():
        r = rows.setdefault((svc, name, op), {"n": 0, "sum": 0.0})
        r["n"] += p["count"] if "count" in p else p["value"]
        r["sum"] += p.get("sum", 0.0)
    lines = ["Metrics received (summed per service; docs/metrics.md):", ""]
    for (svc, name, op), r in sorted(rows.items()):
        label = "%s (%s)" % (name, op) if name.endswith("duration") else name
        if name.endswith("duration") or name == "kotel.message.age":
            lines.append("  %-11s %-46s %4d, mean %.1f ms" % (
                svc, label, r["n"], 1000.0 * r["sum"] / r["n"] if r["n"] else 0))
        else:
            lines.append("  %-11s %-46s %4d" % (svc, label, r["n"]))
    return lines + [""]


def find_chains(spans):
    """{key: [span per CHAIN step]} for every message whose spans form the
    whole chain, each step the child of the previous one, in one trace."""
    by_id = {s["span_id"]: s for s in spans}
    chains = {}
    for last in spans:
        if (last["resource"].get("service.name"), last["name"], last["kind"]) != CHAIN[-1]:
            continue
        chain = [last]
        while len(chain) < len(CHAIN):
            parent = by_id.get(chain[0]["parent_span_id"] or "")
            if parent is None or parent["trace_id"] != last["trace_id"]:
                break
            chain.insert(0, parent)
        got = [(s["resource"].get("service.name"), s["name"], s["kind"]) for s in chain]
        if got != list(CHAIN) or chain[0]["parent_span_id"]:
            continue
        key = last["attributes"].get("messaging.kafka.message.key")
        if all(s["attributes"].get("messaging.kafka.message.key") == key for s in chain):
            chains[key] = chain
    return chains


def all_complete(spans):
    return set(find_chains(spans)) >= {key for key, _ in ORDERS}


def misrouted_send(spans):
    """The enricher's failed send of the misrouted order, or None."""
    for s in spans:
        if ((service_of(s), s["name"], s["kind"]) == CHAIN[2] and
                s["attributes"].get("messaging.kafka.message.key") == MISROUTED[0] and
                s["attributes"].get("error.type")):
            return s
    return None


def service_of(span):
    return span["resource"].get("service.name")


def failure_logs(spans, logs):
    """The log records carrying the misrouted order's failed send span."""
    send = misrouted_send(spans)
    if send is None:
        return []
    return [r for r in logs if r.get("trace_id") == send["trace_id"] and
            r.get("span_id") == send["span_id"]]


def missing_report(spans):
    """What is missing, per order, when the chain is incomplete."""
    chains = find_chains(spans)
    lines = []
    for key, _ in ORDERS:
        if key in chains:
            continue
        have = sorted({"%s: %s" % (s["resource"].get("service.name"), s["name"]) for s in spans
                       if s["attributes"].get("messaging.kafka.message.key") == key})
        lines.append("  %s: complete chain not found; spans seen: %s" % (
            key, ", ".join(have) or "none"))
    return lines


class Stopped(Exception):
    """A signal asked the demo to stop."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def on_signal(signum, frame):
    raise Stopped(signum)


def run(args):
    kcat = shutil.which("kcat")
    needed = [(args.preload.split(":")[-1], "make"), (MOCKBROKER, "make tools"),
              (BILLING, "make tools"), (os.path.join(BUILD, "py", ".stamp"), "make tools"),
              (kcat or "kcat", "scripts/install-deps.sh")]
    for path, how in needed:
        if not os.path.exists(path):
            say("demo: %s is missing (%s builds or installs it; `make demo` does all)" % (
                path, how))
            return 2
    from otlp_receiver import Receiver  # needs the classes in build/py
    import trace_tree
    extra = dict(kv.split("=", 1) for kv in args.agent_env if "=" in kv)

    started = []
    receiver = None
    try:
        # The broker outlives the clients on Ctrl-C (its own session; it is
        # stopped last) and never outlives the demo (it exits when its
        # stdin closes).
        broker = Child("broker", [MOCKBROKER, "-t", IN_TOPIC + ":3", "-t", OUT_TOPIC + ":3"],
                       stdin=subprocess.PIPE, show=False, own_session=True)
        started.append(broker)
        bootstrap = broker.proc.stdout.readline().strip()
        if not bootstrap:
            say("demo: the mock broker did not start")
            return 1
        receiver = Receiver(port=0)
        say("kotel demo",
            "  Kafka broker (librdkafka mock cluster): %s, topics %s and %s" % (
                bootstrap, IN_TOPIC, OUT_TOPIC),
            "  OTLP/HTTP receiver: %s" % receiver.endpoint,
            "  agent: LD_PRELOAD=%s" % args.preload,
            "")
        say("Starting billing (C consumer) and enricher (Python forwarder); "
            "kcat produces %d orders (%s to a partition that does not exist):" % (
                len(ORDERS) + 1, MISROUTED[0]))
        billing = Child(CONSUMER, [BILLING, "-b", bootstrap, "-t", OUT_TOPIC],
                        agent_env(CONSUMER, receiver.endpoint, args.preload, extra))
        started.append(billing)
        enricher = Child(FORWARDER, [PYTHON, ENRICHER, bootstrap, IN_TOPIC, OUT_TOPIC],
                         agent_env(FORWARDER, receiver.endpoint, args.preload, extra))
        started.append(enricher)
        lines = "".join("%s|%s\n" % (k, json.dumps(v, separators=(",", ":")))
                        for k, v in ORDERS + [MISROUTED])
        producer = Child(PRODUCER, [kcat, "-P", "-b", bootstrap, "-t", IN_TOPIC, "-K", "|"],
                         agent_env(PRODUCER, receiver.endpoint, args.preload, extra),
                         stdin=subprocess.PIPE)
        started.append(producer)
        t0 = time.time()
        producer.proc.stdin.write(lines)
        producer.proc.stdin.close()
        try:
            rc = producer.proc.wait(30)
        except subprocess.TimeoutExpired:
            rc = "none: still running after 30 s"
        if rc != 0:
            say("demo: kcat -P failed (exit status %s)" % rc)
            return 1

        # Until every order's trace is complete and the failed send's log
        # record came, or a service died. (The predicate runs under the
        # receiver's lock, which guards its logs too.)
        services = (enricher, billing)
        left = args.timeout - (time.time() - t0)
        spans = receiver.wait_for(lambda s: (all_complete(s) and
                                             failure_logs(s, receiver.logs)) or
                                  any(c.proc.poll() is not None for c in services),
                                  timeout=max(0.0, left))
        complete = all_complete(spans)
        elapsed = time.time() - t0
        early = {c.label: c.proc.returncode for c in services if c.proc.poll() is not None}

        # Stop the services the way an operator would (SIGTERM); they flush
        # their last spans as they exit.
        statuses = {c.label: c.stop() for c in services}
        with receiver.lock:
            spans = list(receiver.spans)
            metrics = list(receiver.metrics)
            logs = list(receiver.logs)
    finally:
        # A second Ctrl-C must not cut the clean-up short; stop() escalates
        # to SIGKILL on its own.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for c in reversed(started):
            c.stop()
        if receiver is not None:
            receiver.close()

    for path, items in ((args.spans_out, spans), (args.logs_out, logs)):
        if path:
            with open(path, "w") as f:
                for x in items:
                    f.write(json.dumps(x) + "\n")

    logged = failure_logs(spans, logs)
    say("", "Traces received by the OTLP receiver (%s %.1f s after kcat started), "
        "each log record under its span:" % (
            "complete" if complete and logged else "waited until", elapsed), "")
    # Offset commits (the consumers' automatic ones) are traces of their
    # own, one span each: counted on one line, not drawn.
    commits = [s for s in spans if s["name"].startswith("commit ")]
    say(trace_tree.render([s for s in spans if s not in commits], sys.stdout, logs))
    if commits:
        per = {}
        for s in commits:
            svc = s["resource"].get("service.name", "?")
            per[svc] = per.get(svc, 0) + 1
        say("%d commit spans (offset commits: %s)" % (
            len(commits), ", ".join("%s %d" % kv for kv in sorted(per.items()))))
    say("")
    say(*metrics_report(metrics))
    ok = complete
    for label, status in statuses.items():
        if label in early:
            say("demo: %s exited on its own (status %s) instead of running until stopped"
                % (label, early[label]))
            ok = False
        elif status != 0:
            say("demo: %s exited with status %s when stopped" % (label, status))
            ok = False
    if not complete:
        say("demo: FAILED: not every order gave one trace %s%s:" % (
            " -> ".join("%s (%s)" % (name, svc) for svc, name, _ in CHAIN),
            "" if early else " within %.0f s" % args.timeout))
        say(*missing_report(spans))
        return 1
    if not logged:
        say("demo: FAILED: no log record carries the trace of %s's failed send "
            "(send %s of %s)%s" % (
                MISROUTED[0], OUT_TOPIC, FORWARDER,
                "" if misrouted_send(spans) else "; that span was not received either"))
        return 1
    if not ok:
        return 1
    say("Each delivered order is one trace across three processes: kcat (%s) sends, "
        "the enricher processes it and sends the enriched order, billing processes that."
        % PRODUCER,
        "%s's trace ends at the enricher's failed send; the log record under it is "
        "kotel's record of that delivery failure, with the send span's trace and span ids."
        % MISROUTED[0],
        "",
        "To send your own programs' spans to a real collector (OTLP/HTTP, port 4318):",
        "",
        "  LD_PRELOAD=%s \\" % LIB,
        "  OTEL_SERVICE_NAME=my-service \\",
        "  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\",
        "  ./my-kafka-program")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait for the traces once kcat has started (default 30)")
    ap.add_argument("--spans-out", help="also write the received spans there, as JSON lines")
    ap.add_argument("--logs-out",
                    help="also write the received log records there, as JSON lines")
    ap.add_argument("--preload", default=LIB, metavar="LIBS",
                    help="what the traced programs get as LD_PRELOAD (default %(default)s)")
    ap.add_argument("--agent-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for the traced programs (repeatable)")
    args = ap.parse_args()
    # Ctrl-C, SIGTERM and SIGHUP unwind run(), which stops what it started.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        return run(args)
    except Stopped as e:
        say("demo: stopped by %s; everything it started is stopped" %
            signal.Signals(e.signum).name)
        return 128 + e.signum


if __name__ == "__main__":
    sys.exit(main())
