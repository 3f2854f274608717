#!/usr/bin/python3
"""What recording the call site costs a sampled span (`make bench` runs
this after scripts/bench.py; `make bench-callsite` alone; see
docs/performance.md, "Call sites").

build/bench/callsite produces CALLS messages to a broker that never
answers, timing each rd_kafka_producev call, either from the program's own
code (direct) or through librdkafka++ (cpp), under kotel with
KOTEL_CODE_ATTRIBUTES=true and =false, the four runs rotated within each
round. The per-call median's difference, on minus off, is the call
site's cost on the producing thread (every span is sampled: the default
sampler). The targets: 50 ns direct, 300 ns through librdkafka++.
Appends its table to --out.
"""

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import kotel_test  # noqa: E402

PROG = os.path.join(kotel_test.BUILD, "bench", "callsite")
TARGET = {"direct": 50, "cpp": 300}


def run(mode, code, calls):
    env = kotel_test.agent_env(None, "bench-callsite", OTEL_TRACES_EXPORTER="none",
                               KOTEL_CODE_ATTRIBUTES=code)
    p = subprocess.run([PROG, mode, str(calls)], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("callsite %s failed: %s" % (mode, p.stderr[-2000:]))
    line = [l for l in p.stdout.splitlines() if l.startswith("result ")][0]
    kv = dict(f.split("=", 1) for f in line.split()[1:])
    return float(kv["p50_ns"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--out")
    a = ap.parse_args()
    res = {(m, c): [] for m in ("direct", "cpp") for c in ("true", "false")}
    for r in range(a.runs):
        order = list(res)
        order = order[r % len(order):] + order[:r % len(order)]
        for m, c in order:
            res[(m, c)].append(run(m, c, a.calls))
    rows = ["", "### Call sites (code.* attributes)", "",
            "`make bench-callsite` (scripts/bench_callsite.py --runs %d --calls %d): "
            "median per-call ns of rd_kafka_producev on the producing thread, "
            "every span sampled, medians over the runs." % (a.runs, a.calls), "",
            "| producing from | code attributes on | off | call site's cost | target |",
            "|---|---|---|---|---|"]
    for m, label in (("direct", "the program's code (C API)"), ("cpp", "librdkafka++")):
        on = statistics.median(res[(m, "true")])
        off = statistics.median(res[(m, "false")])
        rows.append("| %s | %.0f ns | %.0f ns | %+.0f ns | %d ns |" %
                    (label, on, off, on - off, TARGET[m]))
    text = "\n".join(rows) + "\n"
    print(text)
    if a.out:
        with open(a.out, "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
