#!/usr/bin/python3
"""kotel benchmarks: `make bench` runs this (see docs/performance.md).

Throughput runs a plain librdkafka program (build/bench/kbench) against the
mock cluster (build/tests/mockbroker, another process) in each
configuration, interleaved within each round so that the machine's load
drifts over all of them alike; figures are medians over --runs rounds and
ratios are to the no-agent median. Each run also reports the CPU time of
its timed window by thread class (app, librdkafka's rdk:* threads, kotel's
exporter, other), which makes the CPU-per-message table. Then the hot-path
micro-benchmark (build/bench/hotpath), the exporter benchmark
(build/bench/expbench) by CPU time and, under callgrind, by instructions
per span, the drop test at a paced 100 k msgs/s, and the long
collector-down run for RSS. Prints the tables and writes them (with the
raw figures) to --out. --quick: one short round of everything, a smoke
check (tests/integration/test_bench.py), not a measurement.
"""

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import kotel_test  # noqa: E402

BUILD = kotel_test.BUILD
KBENCH = os.path.join(BUILD, "bench", "kbench")
SINK = os.path.join(BUILD, "bench", "otlpsink")
HOTPATH = os.path.join(BUILD, "bench", "hotpath")
EXPBENCH = os.path.join(BUILD, "bench", "expbench")
METRICSBENCH = os.path.join(BUILD, "bench", "metricsbench")
CONBENCH = os.path.join(BUILD, "bench", "conbench")
# metricsbench's cases: (threads, one shared series, every message
# sampled: an exemplar each).
METRICS_CASES = ((1, False, False), (1, False, True), (2, False, True), (2, True, True))

CONFIGS = ["none", "disabled", "ratio0", "full", "down"]
# producev also runs the floor (no agent, the app adds the same 55-byte
# traceparent itself) and 100 % with gzip.
CONFIGS_PRODUCEV = ["none", "floor", "disabled", "ratio0", "full", "gzip", "down",
                    "nometrics"]
# consumer_poll also runs 100 % with metrics off: metrics' own cost.
CONFIGS_POLL = CONFIGS + ["nometrics"]
LABELS = {
    "none": "no agent",
    "floor": "no agent, the app adds a 55-byte traceparent itself (floor)",
    "gzip": "agent, 100 % sampled, collector up, gzip",
    "disabled": "agent, OTEL_SDK_DISABLED=true",
    "ratio0": "agent, traceidratio 0",
    "full": "agent, 100 % sampled, collector up",
    "down": "agent, 100 % sampled, collector down",
    "nometrics": "agent, 100 % sampled, collector up, metrics off",
}
# Partitions: the mock cluster keeps only ~40k messages per partition, so the
# consumer's source topic holds CONSUME_N / CONSUME_PARTS well under that.
CONSUME_PARTS = 16
# kbench -w: rounds of app work per message for the whole-run control
# (~37 ns on the development machine, about metrics' in-process cost).
WORK_ROUNDS = 32
CONSUME_N = 400000
FORWARD_N = 100000
DROP_RATE = 100000
# librdkafka 2.0.2 stops fetching every partition once more than
# queued.min.messages (default 100 000) are queued, and only its broker
# thread's next one-second wake-up restarts them: a consumer slower than
# the fetcher idles for up to a second at a time. The consumer runs set it
# to at least the backlog (docs/troubleshooting.md).
QUEUED_MIN = max(CONSUME_N, 100000)
# CPU classes reported by kbench, in table order.
CPU_CLASSES = (("app", "app thread"), ("rdk", "librdkafka threads (rdk:*)"),
               ("exp", "kotel exporter"), ("other", "other"), ("total", "process total"))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    def __init__(self):
        self.proc = subprocess.Popen([SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.endpoint = self.proc.stdout.readline().strip()

    def close(self):
        self.proc.stdin.close()
        out = self.proc.stdout.read()
        self.proc.wait(5)
        return out.strip()


def env_for(config, endpoint, down_endpoint, extra=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OTEL_") or k.startswith("KOTEL_") or k == "LD_PRELOAD":
            del env[k]
    if config not in ("none", "floor"):
        env["LD_PRELOAD"] = kotel_test.PRELOAD
        env["OTEL_SERVICE_NAME"] = "kbench"
        env["OTEL_LOG_LEVEL"] = "info"
        # Exit is not timed, but a dead collector would hold every exit
        # for the default 5 s.
        env["KOTEL_SHUTDOWN_TIMEOUT"] = "1000"
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = down_endpoint if config == "down" else endpoint
    if config == "disabled":
        env["OTEL_SDK_DISABLED"] = "true"
    if config == "nometrics":
        env["OTEL_METRICS_EXPORTER"] = "none"
    if config == "gzip":
        env["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"
    if config == "ratio0":
        env["OTEL_TRACES_SAMPLER"] = "traceidratio"
        env["OTEL_TRACES_SAMPLER_ARG"] = "0"
    env.update(extra or {})
    return env


def parse_kv(line):
    return {k: v for k, v in (p.split("=", 1) for p in line.split()[1:] if "=" in p)}


def run_kbench(args, env, timeout=300, cpu=None):
    # cpu: every thread of the run on that one CPU (its affinity is
    # inherited by all the threads librdkafka and the agent start).
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    p = subprocess.run([KBENCH] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, preexec_fn=pin)
    if p.returncode != 0:
        raise RuntimeError("kbench %s failed (%d): %s" % (args, p.returncode, p.stderr[-2000:]))
    res = None
    rss = []
    for line in p.stdout.splitlines():
        if line.startswith("result "):
            res = parse_kv(line)
        elif line.startswith("rss "):
            kv = parse_kv(line)
            rss.append((float(kv["t"]), int(kv["kb"])))
    res["stats"] = kotel_test.stats(p.stderr)
    n = float(res["msgs"]) or 1.0
    # CPU per message of the timed window, us, by thread class.
    res["cpu"] = {k: float(res["cpu_%s_ns" % k]) / n / 1000.0 for k, _ in CPU_CLASSES}
    res["rss_series"] = rss
    return res


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rate(r):
    return "%.0f k msgs/s" % (r / 1000.0)


def callgrind_ir(args, env):
    """Instructions callgrind counts for expbench @args (all threads)."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        EXPBENCH] + args, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    m = re.findall(r"Collected : (\d+)", p.stderr)
    if p.returncode or not m:
        raise RuntimeError("callgrind expbench %s failed: %s" % (args, p.stderr[-2000:]))
    return int(m[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--long-seconds", type=float, default=60.0)
    ap.add_argument("--drop-seconds", type=float, default=8.0)
    ap.add_argument("--out", default=os.path.join(BUILD, "bench", "results.md"))
    ap.add_argument("--quick", action="store_true",
                    help="one short round of everything: a smoke check, not a measurement")
    a = ap.parse_args()
    global CONSUME_N, FORWARD_N, QUEUED_MIN
    hot_n, exp_s, cg_counts, metrics_n = 100000, 1.0, (2, 10), 2000000
    con_pairs = 400
    if a.quick:
        a.runs, a.seconds, a.drop_seconds, a.long_seconds = 1, 0.5, 1.0, 4.0
        CONSUME_N, FORWARD_N = 20000, 5000
        QUEUED_MIN = max(CONSUME_N, 100000)
        hot_n, exp_s, cg_counts, metrics_n = 20000, 0.2, (1, 2), 100000
        con_pairs = 20
    t_start = time.time()
    load_before = loadavg()
    raw = []  # lines for the raw section

    broker = kotel_test.Broker(topics=("bp:8", "bc:%d" % CONSUME_PARTS, "bo:8", "bd:8", "bl:8"))
    sink = Sink()
    down = "http://127.0.0.1:%d" % closed_port()
    ep = sink.endpoint
    bs = broker.bootstrap
    log("bench: broker %s, sink %s, collector-down endpoint %s" % (bs, ep, down))
    try:
        # Source topic for the consumers and the forwarder, written with the
        # agent (exporter off) so that every message carries a traceparent
        # for the consuming agent to read, as in a traced system.
        run_kbench(["-b", bs, "fill", "-t", "bc", "-n", str(CONSUME_N)],
                   env_for("full", ep, down, {"OTEL_TRACES_EXPORTER": "none"}))

        qmin = ["-q", str(QUEUED_MIN)]
        # The consumers' clocks start once librdkafka has fetched the
        # whole backlog into memory (kbench --prefetch): their app thread
        # then takes messages without the fetcher competing for the two
        # CPUs or sleeping on an empty queue, which otherwise moves its
        # CPU per message by more than the tens of ns compared here.
        workloads = [
            ("producer producev", ["produce", "-a", "producev", "-t", "bp", "-s", str(a.seconds)],
             CONFIGS_PRODUCEV),
            ("producer produce", ["produce", "-a", "produce", "-t", "bp", "-s", str(a.seconds)],
             CONFIGS),
            ("consumer consumer_poll", ["consume", "-a", "poll", "-t", "bc", "-n", str(CONSUME_N)]
             + qmin + ["--prefetch"], CONFIGS_POLL),
            ("consumer consume_batch_queue", ["consume", "-a", "batch", "-t", "bc", "-n",
                                              str(CONSUME_N)] + qmin + ["--prefetch"], CONFIGS),
            ("forwarder poll->producev", ["forward", "-t", "bc", "-o", "bo", "-n", str(FORWARD_N)]
             + qmin, CONFIGS),
        ]
        results = {(w, c): [] for w, _, cs in workloads for c in cs}
        for r in range(a.runs):
            for wi, (w, args, cs) in enumerate(workloads):
                # Rotate the order every round and workload.
                k = (r + wi) % len(cs)
                for c in cs[k:] + cs[:k]:
                    extra = list(args)
                    if c == "floor":
                        extra.append("--tp")
                    if "-g" not in extra and args[0] in ("consume", "forward"):
                        extra += ["-g", "g-%d-%d-%s" % (r, wi, c)]
                    res = run_kbench(["-b", bs] + extra, env_for(c, ep, down))
                    results[(w, c)].append(res)
                    raw.append("%s | %s | run %d | %s msgs/s | maxrss %s kB | threads %s (kotel %s) | "
                               "us/msg %s | %s" % (
                                   w, c, r, res["rate"], res["maxrss_kb"], res["threads"],
                                   res["kotel_threads"],
                                   " ".join("%s=%.3f" % kv for kv in res["cpu"].items()),
                                   res["stats"]))
                    log("bench: %-30s %-8s run %d: %10.0f msgs/s  load %s" % (
                        w, c, r, float(res["rate"]), " ".join(loadavg())))

        # Metrics on against off on the consumer differ by tens of ns, which
        # five pairs of runs do not resolve on two shared cores: twice as
        # many pairs again, in alternating order, for that row alone.
        cp_args = [w for w in workloads if w[0] == "consumer consumer_poll"][0][1]

        def pairs_of(label, tag, a_run, b_run, cpu=None):
            # 2 x runs pairs of consumer_poll runs, the order alternating;
            # a_run, b_run: (config, extra kbench arguments); tag: unique
            # to the series (a group name read to its end cannot be reused).
            out = []
            for r in range(2 * a.runs):
                pair = {}
                for k, (c, extra) in ((0, a_run), (1, b_run)) if r % 2 else ((1, b_run), (0, a_run)):
                    pair[k] = run_kbench(["-b", bs] + cp_args + extra
                                         + ["-g", "g-%s%d-%d" % (tag, r, k)],
                                         env_for(c, ep, down), cpu=cpu)
                    raw.append("consumer consumer_poll (%s) | %s%s | run %d | work_ns %s | "
                               "us/msg %s" % (label, c, " ".join([""] + extra), r,
                                              pair[k]["work_ns"], " ".join(
                                                  "%s=%.3f" % kv for kv in pair[k]["cpu"].items())))
                out.append((pair[0], pair[1]))
            return out

        metric_pairs = [(x, y) for x, y in zip(results[("consumer consumer_poll", "full")],
                                               results[("consumer consumer_poll", "nometrics")])]
        metric_pairs += pairs_of("metrics pairs", "m", ("full", []), ("nometrics", []))
        log("bench: consumer metrics pairs done")

        # Two controls for those whole-run pairs. The same pairs with every
        # thread of the run on one CPU (the last), where no thread's cache
        # lines travel between cores. And pairs where the app itself does
        # a known amount of register-only work per message (kbench -w,
        # timed alone: about what the in-process rows measure for metrics)
        # against none, both with metrics off: what whole runs make of that
        # much more work on the app thread.
        pinned_pairs = pairs_of("metrics pairs, one CPU", "p", ("full", []), ("nometrics", []),
                                cpu=max(os.sched_getaffinity(0)))
        work_pairs = pairs_of("app work pairs", "w", ("nometrics", ["-w", str(WORK_ROUNDS)]),
                              ("nometrics", []))
        log("bench: consumer whole-run controls done")

        # Hot path, per configuration and produce API, interleaved.
        hot = {(c, api): [] for c in ("disabled", "ratio0", "full") for api in ("producev", "produce")}
        for r in range(a.runs):
            for (c, api) in hot:
                env = env_for(c, ep, down)
                env.pop("LD_PRELOAD", None)  # hotpath links the agent itself
                p = subprocess.run([HOTPATH, "-n", str(hot_n), "-a", api], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   timeout=300)
                line = [l for l in p.stdout.splitlines() if l.startswith("result ")]
                if p.returncode or not line:
                    raise RuntimeError("hotpath failed: %s" % p.stderr[-2000:])
                hot[(c, api)].append(parse_kv(line[0]))
                raw.append("hotpath | %s | run %d | %s" % (c, r, line[0]))
        log("bench: hot path done")

        # The instruments' own cost per consumed message, on the
        # recording thread: metricsbench times the consumer hooks' calls
        # into them (its rounds alternate metrics on and off).
        mb = {}
        for r in range(a.runs):
            for t, sh, x in METRICS_CASES:
                p = subprocess.run([METRICSBENCH, "-n", str(metrics_n), "-r", "5", "-t", str(t)]
                                   + (["-S"] if sh else []) + (["-x"] if x else []),
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=300)
                if p.returncode:
                    raise RuntimeError("metricsbench failed: %s" % p.stderr[-2000:])
                for line in p.stdout.splitlines():
                    if line.startswith("result "):
                        kv = parse_kv(line)
                        mb.setdefault((t, sh, x, kv["mode"]), []).append(float(kv["ns"]))
                        raw.append("metricsbench | run %d | %s" % (r, line))
        log("bench: metrics recording done")

        # Metrics' per-message cost on the consuming thread, in one
        # process: conbench runs the agent's consumer path over real
        # fetched messages, blocks of 1000 alternating metrics on and off.
        con = {c: [] for c in ("ratio0", "full")}
        for r in range(a.runs):
            for c in (("ratio0", "full") if r % 2 else ("full", "ratio0")):
                env = env_for(c, ep, down)
                env.pop("LD_PRELOAD", None)  # conbench links the agent itself
                p = subprocess.run([CONBENCH, "-b", bs, "-t", "bc", "-n", str(min(CONSUME_N, 20000)),
                                    "-p", str(con_pairs)], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=300)
                line = [l for l in p.stdout.splitlines() if l.startswith("result ")]
                if p.returncode or not line:
                    raise RuntimeError("conbench failed: %s" % p.stderr[-2000:])
                con[c].append({k: float(v) for k, v in parse_kv(line[0]).items()})
                raw.append("conbench | %s | run %d | %s" % (c, r, line[0]))
        log("bench: consumer metrics A/B done")

        # Exporter.
        exp = {}
        for r in range(a.runs):
            env = env_for("full", ep, down)
            env.pop("LD_PRELOAD", None)
            p = subprocess.run([EXPBENCH, "-s", str(exp_s)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=300)
            for line in p.stdout.splitlines():
                if line.startswith("result "):
                    kv = parse_kv(line)
                    exp.setdefault(kv["stage"], []).append(kv)
                    raw.append("expbench | run %d | %s" % (r, line))
        log("bench: exporter done")

        # The exporter's instructions per span, load-independent: callgrind
        # counts expbench's instructions for two batch counts of one stage,
        # and the difference over the extra spans leaves out start-up and
        # the first connection.
        exp_ir = {}
        env = env_for("full", ep, down)
        env.pop("LD_PRELOAD", None)
        for st in ("encode", "encode+gzip", "send-none", "send-gzip"):
            lo, hi = (callgrind_ir(["-S", st, "-n", str(n)], env) for n in cg_counts)
            exp_ir[st] = (hi - lo) / ((cg_counts[1] - cg_counts[0]) * 512.0)
            raw.append("callgrind expbench | %s | %d batches %d Ir, %d batches %d Ir | %.0f Ir/span"
                       % (st, cg_counts[0], lo, cg_counts[1], hi, exp_ir[st]))
        log("bench: exporter instructions done")

        # Drops at a sustained 100 k msgs/s, 100 % sampled, default batch
        # processor settings; and peak RSS at that rate with and without.
        drop = []
        paced = {"none": [], "full": []}
        for r in range(max(1, a.runs // 2)):
            for c in ("none", "full"):
                res = run_kbench(["-b", bs, "produce", "-a", "producev", "-t", "bd", "-s",
                                  str(a.drop_seconds), "-r", str(DROP_RATE)], env_for(c, ep, down))
                paced[c].append(res)
                if c == "full":
                    drop.append(res)
                raw.append("paced %d/s | %s | run %d | %s msgs/s | maxrss %s kB | %s" % (
                    DROP_RATE, c, r, res["rate"], res["maxrss_kb"], res["stats"]))
        # The same with a deeper span queue (not the default), to show what
        # the default's 20 ms of headroom at 100 k spans/s costs.
        drop_deep = []
        for r in range(max(1, a.runs // 2)):
            res = run_kbench(["-b", bs, "produce", "-a", "producev", "-t", "bd", "-s",
                              str(a.drop_seconds), "-r", str(DROP_RATE)],
                             env_for("full", ep, down, {"OTEL_BSP_MAX_QUEUE_SIZE": "65536"}))
            drop_deep.append(res)
            raw.append("paced %d/s | full, OTEL_BSP_MAX_QUEUE_SIZE=65536 | run %d | %s msgs/s | "
                       "maxrss %s kB | %s" % (DROP_RATE, r, res["rate"], res["maxrss_kb"],
                                              res["stats"]))
        log("bench: drop test done")

        # RSS over a long run with the collector down (and without the
        # agent, for reference), paced at 100 k msgs/s.
        longrun = {}
        for c in ("none", "down"):
            secs = a.long_seconds if c == "down" else min(a.long_seconds, 20)
            longrun[c] = run_kbench(["-b", bs, "produce", "-a", "producev", "-t", "bl", "-s",
                                     str(secs), "-r", str(DROP_RATE), "--rss"],
                                    env_for(c, ep, down), timeout=a.long_seconds * 3 + 60)
            raw.append("long %s | rss series (s, kB): %s | %s" % (
                c, longrun[c]["rss_series"], longrun[c]["stats"]))
        log("bench: long run done")
    finally:
        sink_out = sink.close()
        broker.close()
    raw.append(sink_out)

    # ---- table ---------------------------------------------------------
    rows = []

    def row(config, figure, ratio, target, met):
        rows.append((config, figure, ratio, target, met))

    def yes(b):
        return "met" if b else "NOT met"

    for w, _, cs in workloads:
        base = med([float(x["rate"]) for x in results[(w, "none")]])
        for c in cs:
            rate = med([float(x["rate"]) for x in results[(w, c)]])
            ratio = rate / base
            target, met = "", ""
            if w.startswith("producer"):
                if c == "ratio0":
                    target, met = ">= 0.97x", yes(ratio >= 0.97)
                elif c == "full":
                    target, met = ">= 0.75x", yes(ratio >= 0.75)
            row("%s: %s" % (w, LABELS[c]), fmt_rate(rate), "%.2fx" % ratio, target, met)

    # Disabled: threads and per-call cost.
    dis_threads = max([int(x["kotel_threads"]) for (w, c), xs in results.items()
                       if c == "disabled" for x in xs] +
                      [int(x["kotel_threads"]) for (c, api), xs in hot.items()
                       if c == "disabled" for x in xs])

    def hmed(c, api, key):
        return med([float(x[key]) for x in hot[(c, api)]])

    for api in ("produce", "producev"):
        d = hmed("disabled", api, "ab_diff_ns")
        row("hot path: disabled, %s() through the hook vs straight into librdkafka" % api,
            "%+.1f ns per call (p50s: %.1f vs %.1f ns)" % (
                d, hmed("disabled", api, "hooked_p50_ns"), hmed("disabled", api, "direct_p50_ns")),
            "", "<= 5 ns", yes(d <= 5))
    row("disabled: kotel threads started (every disabled run)", str(dis_threads), "", "0",
        yes(dis_threads == 0))
    for c in ("ratio0", "full"):
        for api in ("producev", "produce"):
            p50, p99 = hmed(c, api, "agent_p50_ns"), hmed(c, api, "agent_p99_ns")
            tgt = c == "full"
            row("hot path: %s, %s(): agent-owned (wrappers + on_send, less librdkafka's "
                "header work)" % (LABELS[c], api),
                "%.0f ns p50, %.0f ns p99" % (p50, p99), "",
                "p50 <= 100 ns, p99 <= 500 ns" if tgt else "",
                yes(p50 <= 100 and p99 <= 500) if tgt else "")
            row("hot path: %s, %s(): whole overhead incl. librdkafka's header work (A/B)" % (
                LABELS[c], api),
                "%+.0f ns per call (p50s: %.0f vs %.0f ns)" % (
                    hmed(c, api, "ab_diff_ns"), hmed(c, api, "hooked_p50_ns"),
                    hmed(c, api, "direct_p50_ns")),
                "%.2fx" % (hmed(c, api, "hooked_p50_ns") / hmed(c, api, "direct_p50_ns")), "", "")

    for st in ("encode", "encode-protobuf-c", "encode+gzip", "encode+zlib1", "send-gzip",
               "send-none"):
        xs = exp.get(st, [])
        if not xs:
            continue
        sps = med([float(x["spans_per_s"]) for x in xs])
        cpu = med([float(x["cpu_ns_per_span"]) for x in xs])
        row("exporter: %s, one thread" % st,
            "%.0f k spans/s, %.2f us CPU/span" % (sps / 1000, cpu / 1000), "", "", "")
    for st, lim in (("encode", None), ("encode+gzip", None), ("send-none", 2000),
                    ("send-gzip", 10000)):
        row("exporter: %s, instructions per span (callgrind)" % st, "%.0f Ir/span" % exp_ir[st],
            "", "<= %d Ir/span" % lim if lim else "", yes(exp_ir[st] <= lim) if lim else "")

    # CPU per message by thread class (medians over rounds of each run's
    # per-message figure), beside the floor (producer) or no agent
    # (consumer), and the targets on them. A difference is the median over
    # rounds of the difference within each round (both runs of a round
    # ran back to back, under about the same load), not the difference of
    # the medians: the machine's load moves every class's CPU per message
    # by tens of percent between rounds, and pairing cancels most of it.
    def cpu(w, c, k):
        return med([x["cpu"][k] for x in results[(w, c)]])

    def above(w, c, ref, k):
        pairs = zip(results[(w, c)], results[(w, ref)])
        return med([x["cpu"][k] - y["cpu"][k] for x, y in pairs])

    def exporting(w, c):
        # The exporter's column only where the agent records spans to
        # export (not at ratio 0, where its thread idles).
        return med([int(x["exp_threads"]) for x in results[(w, c)]]) > 0 and \
            med([x["stats"]["started"] if x["stats"] else 0 for x in results[(w, c)]]) > 0

    def exp_per_span(w, c):
        # Flat out, the default queue drops most spans: the exporter's CPU
        # per exported span is its CPU per message over the exported share.
        xs = []
        for x in results[(w, c)]:
            st = x["stats"]
            if st and st["exported"] > 0:
                xs.append(x["cpu"]["exp"] * st["started"] / st["exported"])
        return med(xs)

    cpu_rows = []
    for w, ref in (("producer producev", "floor"), ("consumer consumer_poll", "none")):
        base = med([float(x["rate"]) for x in results[(w, "none")]])
        cs = [cs for ww, _, cs in workloads if ww == w][0]
        for c in cs:
            cells = []
            for k, _ in CPU_CLASSES:
                if k == "exp" and not exporting(w, c):
                    cells.append("–")
                else:
                    cells.append("%.2f" % cpu(w, c, k))
            for k in ("app", "rdk", "total"):
                cells.append("%+.2f" % above(w, c, ref, k))
            rate = med([float(x["rate"]) for x in results[(w, c)]])
            cells.append("%s (%.2fx)" % (fmt_rate(rate), rate / base))
            cpu_rows.append(["%s: %s" % (w, LABELS[c])] + cells)

    pv, cp = "producer producev", "consumer consumer_poll"
    for k, lim in (("app", 0.25), ("rdk", 0.25), ("total", 1.0)):
        d = above(pv, "full", "floor", k)
        row("CPU per message, producer, 100 %% sampled, %s above the floor" % dict(CPU_CLASSES)[k],
            "%+.2f us" % d, "", "<= %.2f us" % lim, yes(d <= lim))
    for c, lim in (("full", 0.5), ("gzip", 1.0)):
        e = exp_per_span(pv, c)
        row("CPU per exported span, kotel exporter thread, producer, %s (per message x "
            "started / exported)" % LABELS[c], "%.2f us (%.2f us per message)" % (
                e, cpu(pv, c, "exp")), "", "<= %.1f us" % lim, yes(e <= lim))
    for w in (pv, cp):
        for c in ("full", "gzip"):
            if (w, c) not in results:
                continue
            st = [x["stats"] for x in results[(w, c)] if x["stats"]]
            started, dropped = sum(x["started"] for x in st), sum(x["dropped"] for x in st)
            row("spans dropped flat out, %s, %s (no target: flat out, spans are made faster "
                "than one exporter thread sends them)" % (w, LABELS[c]),
                "%d of %d" % (dropped, started), "", "", "")
    for c, lim in (("ratio0", 0.4), ("full", 0.6)):
        d = above(cp, c, "none", "app")
        row("CPU per message, consumer, %s, app thread above no agent" % LABELS[c],
            "%+.2f us" % d, "", "<= %.1f us" % lim, yes(d <= lim))
    # The instruments alone, per consumed message (metricsbench).
    for t, sh, x in METRICS_CASES:
        on, off = med(mb[(t, sh, x, "on")]), med(mb[(t, sh, x, "off")])
        row("metrics recording per consumed message (metricsbench), %d thread%s%s%s: on / off" % (
            t, "s" if t > 1 else "",
            "" if t == 1 else ", one shared series" if sh else ", a partition each",
            ", every message sampled (an exemplar each)" if x else ""),
            "%.1f / %.1f ns (%+.1f ns)" % (on, off, on - off), "", "<= 50 ns added",
            yes(on - off <= 50))
    # Metrics' cost per consumed message on the app thread (issue 10's
    # target), in one process (conbench): medians over runs of each run's
    # median within pairs of adjacent blocks.
    for c in ("ratio0", "full"):
        d = med([x["diff_ns"] for x in con[c]])
        row("CPU per message, consumer, %s, metrics on above metrics off, app thread, in one "
            "process (conbench: %d runs of %d pairs of 1000-message blocks; quartiles within "
            "pairs %+.1f / %+.1f ns)" % (LABELS[c], len(con[c]), con_pairs,
                                          med([x["q1_ns"] for x in con[c]]),
                                          med([x["q3_ns"] for x in con[c]])),
            "%+.1f ns (off %.0f ns)" % (d, med([x["off_ns"] for x in con[c]])), "",
            "<= 50 ns", yes(d <= 50))
    # The same, whole runs: 100 % with metrics on (the default) against
    # off, kbench's app thread. Context, no target: pairs of runs move by
    # +-50 ns on two shared cores (docs/performance.md), and a run with
    # metrics off also lacks the metrics thread and tables. The producer
    # records its metrics in on_acknowledgement, on librdkafka's broker
    # thread: its app thread runs no metrics code (callgrind), so its rows
    # show how far a flat-out producer's pace moves the app thread's CPU
    # between runs.
    ds = sorted(x["cpu"]["app"] - y["cpu"]["app"] for x, y in metric_pairs)
    d = med(ds)
    row("CPU per message, %s, metrics on above metrics off, app thread, whole runs (%d pairs "
        "of runs; quartiles %+.3f / %+.3f us; the target is on the in-process rows)" % (
            cp, len(ds), ds[len(ds) // 4], ds[(3 * len(ds)) // 4]),
        "%+.3f us" % d, "", "", "")
    ds = sorted(x["cpu"]["app"] - y["cpu"]["app"] for x, y in work_pairs)
    wns = med([float(x["work_ns"]) for x, _ in work_pairs])
    row("CPU per message, %s, 100 %%, metrics off, the app's own work of %.0f ns per message "
        "(kbench -w %d, timed alone) above none, app thread, whole runs (%d pairs; quartiles "
        "%+.3f / %+.3f us; a control: what whole runs make of that much more work on the "
        "app thread)" % (cp, wns, WORK_ROUNDS, len(ds), ds[len(ds) // 4],
                             ds[(3 * len(ds)) // 4]),
        "%+.3f us" % med(ds), "", "", "")
    ds = sorted(x["cpu"]["app"] - y["cpu"]["app"] for x, y in pinned_pairs)
    row("CPU per message, %s, metrics on above metrics off, app thread, whole runs with all "
        "threads on one CPU (%d pairs; quartiles %+.3f / %+.3f us; no cache line moves "
        "between cores)" % (cp, len(ds), ds[len(ds) // 4], ds[(3 * len(ds)) // 4]),
        "%+.3f us" % med(ds), "", "", "")
    for k in ("app", "rdk"):
        d = above(pv, "full", "nometrics", k)
        row("CPU per message, %s, metrics on above metrics off, %s (the producer's metrics "
            "run on librdkafka's broker thread, none on the app thread)" % (
                pv, dict(CPU_CLASSES)[k]), "%+.3f us" % d, "", "", "")
    d = above(pv, "ratio0", "floor", "total")
    row("CPU per message, producer, traceidratio 0, process total above the floor",
        "%+.2f us (floor %.2f us)" % (d, cpu(pv, "floor", "total")), "",
        "on the floor (within 10 %)", yes(abs(d) <= 0.1 * cpu(pv, "floor", "total")))
    for w in (pv, cp):
        d = above(w, "disabled", "none", "total")
        row("CPU per message, %s, OTEL_SDK_DISABLED=true, process total above no agent" % w,
            "%+.2f us (no agent %.2f us)" % (d, cpu(w, "none", "total")), "",
            "within noise (10 %)", yes(abs(d) <= 0.1 * cpu(w, "none", "total")))

    # Memory.
    def rss_med(w, c):
        return med([int(x["maxrss_kb"]) for x in results[(w, c)]]) / 1024.0

    for w in ("producer producev", "consumer consumer_poll", "forwarder poll->producev"):
        n, f = rss_med(w, "none"), rss_med(w, "full")
        row("peak RSS, %s flat out: no agent / 100 %% sampled" % w,
            "%.1f / %.1f MiB (+%.1f)" % (n, f, f - n), "%.2fx" % (f / n), "<= +16 MiB",
            yes(f - n <= 16))
    pn = med([int(x["maxrss_kb"]) for x in paced["none"]]) / 1024.0
    pf = med([int(x["maxrss_kb"]) for x in paced["full"]]) / 1024.0
    row("peak RSS, producer at 100 k msgs/s: no agent / 100 % sampled",
        "%.1f / %.1f MiB (+%.1f)" % (pn, pf, pf - pn), "%.2fx" % (pf / pn), "<= +16 MiB",
        yes(pf - pn <= 16))
    for c in ("none", "down"):
        ser = longrun[c]["rss_series"]
        if len(ser) >= 4:
            q = ser[len(ser) // 4][1] / 1024.0
            last = max(kb for _, kb in ser[len(ser) // 4:]) / 1024.0
            fig = "%.1f MiB at %.0f s -> max %.1f MiB to %.0f s (%+.1f)" % (
                q, ser[len(ser) // 4][0], last, ser[-1][0], last - q)
            flat = last - q <= 2.0
        else:
            fig, flat = "too short", False
        row("RSS over a long run at 100 k msgs/s, %s" % LABELS[c], fig, "",
            "flat (<= +2 MiB after warm-up)" if c == "down" else "",
            yes(flat) if c == "down" else "")

    dropped = sum(x["stats"]["dropped"] for x in drop if x["stats"])
    started = sum(x["stats"]["started"] for x in drop if x["stats"])
    rates = [float(x["rate"]) for x in drop]
    row("spans dropped at a sustained 100 k msgs/s, 100 %% sampled (%d runs of %.0f s)" % (
        len(drop), a.drop_seconds),
        "%d of %d (achieved %s)" % (dropped, started, fmt_rate(med(rates))), "", "0",
        yes(dropped == 0 and started > 0))

    dropped = sum(x["stats"]["dropped"] for x in drop_deep if x["stats"])
    started = sum(x["stats"]["started"] for x in drop_deep if x["stats"])
    row("the same with OTEL_BSP_MAX_QUEUE_SIZE=65536 (default 2048)",
        "%d of %d (achieved %s)" % (dropped, started,
                                    fmt_rate(med([float(x["rate"]) for x in drop_deep]))),
        "", "0", yes(dropped == 0 and started > 0))

    elapsed = time.time() - t_start
    load_after = loadavg()
    head = []
    head.append("kotel benchmark, %s UTC" % time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    head.append("")
    head.append("- machine: %s, %d cores (%s), %s, librdkafka %s" % (
        platform.node() or "?", os.cpu_count(), cpu_model(), distro(), rdkafka_version()))
    head.append("- load average (1/5/15 min): before %s, after %s; uptime: %s" % (
        "/".join(load_before), "/".join(load_after), uptime()))
    head.append("- runs: %d per configuration (medians), %.1f s per producer run, %d messages "
                "per consumer run, %d per forwarder run; ran %.0f s" % (
                    a.runs, a.seconds, CONSUME_N, FORWARD_N, elapsed))
    head.append("- consumers and the forwarder run with queued.min.messages=%d (at least the "
                "backlog), so that librdkafka 2.0.2's fetch stall (docs/troubleshooting.md) "
                "does not distort them; the consumers' clocks start once the whole backlog is "
                "fetched into librdkafka's local queue (kbench --prefetch)" % QUEUED_MIN)
    if a.quick:
        head.append("- QUICK MODE (--quick): one short round, a smoke check; the figures are "
                    "not measurements")
    head.append("")
    cpu_table = ["CPU per message, us (medians over rounds; timed window; \"above ref\": "
                 "median over rounds of the difference from the reference row run in the same "
                 "round, the floor for the producer, no agent for the consumer):", "",
                 "| configuration | " + " | ".join(l for _, l in CPU_CLASSES) +
                 " | app above ref | librdkafka above ref | total above ref | throughput |",
                 "|---" * (len(CPU_CLASSES) + 5) + "|"]
    for r in cpu_rows:
        cpu_table.append("| %s |" % " | ".join(r))
    cpu_table.append("")
    table = ["| configuration | figure | ratio to no agent | target | met? |",
             "|---|---|---|---|---|"]
    for r in rows:
        table.append("| %s |" % " | ".join(r))
    text = "\n".join(head + cpu_table + table) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
        f.write("\n## Raw figures\n\n```\n")
        f.write("\n".join(raw))
        f.write("\n```\n")
    log("bench: table written to %s (%.0f s)" % (a.out, elapsed))


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def distro():
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def rdkafka_version():
    try:
        return subprocess.run(["pkg-config", "--modversion", "rdkafka"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    except OSError:
        return "?"


def uptime():
    return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True).stdout.strip()


if __name__ == "__main__":
    main()
