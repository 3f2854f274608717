#!/usr/bin/python3
"""kotel's test runner.

Runs the unit test programs (TAP output) and the integration test modules
(tests/integration/test_*.py, every test_* function), each module in its
own process, and ends with one line: "N passed, N failed".

  tests/run.py [-j JOBS] [-k SUBSTRING] [--unit-only|--integration-only]
"""

import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build"))


def run_module(path, pattern):
    """In a child: import the module, run its test_* functions."""
    sys.path.insert(0, os.path.join(HERE, "lib"))
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = sorted(n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n)))
    failed = 0
    for n in names:
        full = "%s::%s" % (os.path.basename(path), n)
        if pattern and pattern not in full:
            continue
        t0 = time.time()
        try:
            getattr(mod, n)()
            print("ok - %s (%.1fs)" % (full, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("not ok - %s (%.1fs)" % (full, time.time() - t0), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
    return 1 if failed else 0


def tap_counts(out):
    passed = sum(1 for l in out.splitlines() if l.startswith("ok "))
    failed = sum(1 for l in out.splitlines() if l.startswith("not ok "))
    return passed, failed


def run_child(cmd, timeout):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\nnot ok - %s (timed out after %ds)\n" % (" ".join(cmd), timeout)
        rc = -1
    return cmd, out, rc, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-k", default="")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--module", help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=int, default=900)
    args = ap.parse_args()
    if args.module:
        sys.exit(run_module(args.module, args.k))

    jobs = []
    if not args.integration_only:
        for exe in sorted(glob.glob(os.path.join(BUILD, "tests", "unit", "test_*"))):
            if os.access(exe, os.X_OK) and (not args.k or args.k in os.path.basename(exe)):
                jobs.append([exe])
    if not args.unit_only:
        for mod in sorted(glob.glob(os.path.join(HERE, "integration", "test_*.py"))):
            jobs.append([sys.executable, os.path.abspath(__file__), "--module", mod, "-k", args.k])

    passed = failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for cmd, out, rc, dt in pool.map(lambda c: run_child(c, args.timeout), jobs):
            p, f = tap_counts(out)
            if rc != 0 and f == 0:
                f = 1
                out += "\nnot ok - %s exited %d\n" % (os.path.basename(cmd[-3] if "--module" in cmd else cmd[0]), rc)
            passed += p
            failed += f
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
