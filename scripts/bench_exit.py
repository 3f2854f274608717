#!/usr/bin/python3
"""Exit and rd_kafka_destroy with millions of unacknowledged messages
(`make bench` runs this after scripts/bench.py; `make bench-exit` alone;
see docs/performance.md).

build/tests/exitclient queues --messages messages to a broker that never
answers (a closed port), then times rd_kafka_destroy() without a flush, or
returns from main with the producer alive and the caller times the exit
(from the client's last CLOCK_MONOTONIC stamp to its reaping). Four
configurations, interleaved within each round, medians over --runs:

  none         no agent
  none+header  no agent, every message given a traceparent header of its
               own: the librdkafka work kotel's header adds, without kotel
  kotel 0      agent, KOTEL_SHUTDOWN_TIMEOUT=0
  kotel D      agent, KOTEL_SHUTDOWN_TIMEOUT=D (--deadline-ms), exporting
               to a closed port (the exit flush retries until the deadline)

The target: under kotel, within 10 % of the time without kotel plus the
deadline. kotel's header makes librdkafka's own purge of each message
slower, so the comparison that isolates kotel's own work is to none+header;
both ratios are shown. Appends its table to --out.
"""

import argparse
import os
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

EXITCLIENT = os.path.join(kotel_test.BUILD, "tests", "exitclient")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(how, n, config, deadline_ms):
    bs = "127.0.0.1:%d" % closed_port()
    args = [EXITCLIENT, "-b", bs, "-n", str(n)]
    if config == "none+header":
        args.append("-H")
    args += ["unacked", how]
    agent = config.startswith("kotel")
    d = 0 if config == "kotel 0" else deadline_ms
    env = kotel_test.agent_env(None, "bench-exit", preload=agent,
                               OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:%d" % closed_port(),
                               KOTEL_SHUTDOWN_TIMEOUT=str(d), OTEL_LOG_LEVEL="debug")
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    at = None
    for line in p.stdout:
        if line.startswith("exit_at_ns="):
            at = int(line.split("=")[1])
        elif line.startswith("destroy_ms="):
            at = float(line.split("=")[1])
    p.wait(600)
    end = time.monotonic_ns()
    err = p.stderr.read()
    if p.returncode != 0 or at is None:
        raise RuntimeError("exitclient %s %s failed (%d): %s" % (how, config, p.returncode,
                                                               err[-2000:]))
    ms = (end - at) / 1e6 if how == "exit" else at
    # kotel's own part: its debug line for the unacknowledged messages.
    own = re.search(r"(?:exit|rd_kafka_destroy): \d+ unacknowledged.* in (\d+) us", err)
    return ms, (int(own.group(1)) / 1000.0 if own else None), kotel_test.stats(err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--messages", type=int, default=2000000)
    ap.add_argument("--deadline-ms", type=int, default=1000)
    ap.add_argument("--out", default=os.path.join(kotel_test.BUILD, "bench", "results.md"))
    a = ap.parse_args()
    configs = ["none", "none+header", "kotel 0", "kotel %d" % a.deadline_ms]
    res = {}
    raw = []
    t0 = time.time()
    for r in range(a.runs):
        for how in ("destroy", "exit"):
            for c in configs:
                ms, own, st = run(how, a.messages, c, a.deadline_ms)
                res.setdefault((how, c), []).append(ms)
                if own is not None:
                    res.setdefault((how, c, "own"), []).append(own)
                raw.append("%s %s run %d: %.1f ms (kotel's own %s ms) %s" % (
                    how, c, r, ms, own, st or ""))
                print(raw[-1], file=sys.stderr, flush=True)
    rows = ["| %s, %d M unacknowledged messages | median of %d | target | met? |" % (
                "what", a.messages // 1000000, a.runs), "|---|---|---|---|"]
    for how in ("destroy", "exit"):
        what = "rd_kafka_destroy() without flush" if how == "destroy" else "return from main"
        base = statistics.median(res[(how, "none")])
        hdr = statistics.median(res[(how, "none+header")])
        rows.append("| %s: no agent / no agent, own header | %.1f / %.1f ms | | |" % (
            what, base, hdr))
        for c in configs[2:]:
            d = 0 if c == "kotel 0" else a.deadline_ms
            k = statistics.median(res[(how, c)])
            own = statistics.median(res.get((how, c, "own"), [float("nan")]))
            target = 1.1 * hdr + d
            rows.append("| %s: agent, KOTEL_SHUTDOWN_TIMEOUT=%d | %.1f ms (%+.1f vs own header, "
                        "%+.1f vs no agent; kotel's own work %.1f ms) | <= 1.1 x %.1f + %d = "
                        "%.1f ms | %s |" % (what, d, k, k - hdr, k - base, own, hdr, d, target,
                                            "yes" if k <= target else "no"))
    text = "\n".join(["", "## Exit and destroy with unacknowledged messages (%.0f s)" % (
        time.time() - t0), ""] + rows) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "a") as f:
        f.write(text)
        f.write("\n```\n" + "\n".join(raw) + "\n```\n")


if __name__ == "__main__":
    main()
