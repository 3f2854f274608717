#!/usr/bin/python3
"""kotel's test runner.

Runs the unit test programs (TAP output) and the integration test modules
(tests/integration/test_*.py, every test_* function), each module in its
own process, and ends with one line: "N passed, N failed".

  tests/run.py [-j JOBS] [-k SUBSTRING] [--unit-only|--integration-only]
               [--suite DIR]

Under the sanitizer targets (tests/sanitize.mk) KOTEL_SAN_LOGS names a
directory: each job gets its own subdirectory there, the sanitizer
runtimes write their reports into it (log_path), and any report file fails
the test that was running (or, if it appears later, the job). A report
printed to a stderr nobody reads, or made by a process whose exit code
nobody checks, still fails the suite.
"""

import argparse
import glob
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build"))
SAN_LOGS = os.environ.get("KOTEL_SAN_LOGS", "")
# The variables whose runtimes take a log_path (LSan reports through ASan's).
SAN_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")
# Slow runtimes (sanitizers, valgrind) scale every timeout by this.
TIMEOUT_SCALE = float(os.environ.get("KOTEL_TIMEOUT_SCALE", "1") or 1)


# A line LeakSanitizer writes in a fork child whose parent had other
# threads (they do not exist in the child, so LSan cannot stop them). It is
# a caution, not a report: a leak it finds is reported on its own lines.
LSAN_CAUTION = re.compile(r"^==\d+==Running thread \d+ was not suspended\. "
                          r"False leaks are possible\.$")


def is_report(path):
    """Whether the file holds anything but LSan's fork-child caution."""
    with open(path, errors="replace") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    return any(not LSAN_CAUTION.match(l) for l in lines)


def san_reports(logdir):
    """Report files in @logdir not yet claimed by a test (a file holding
    only LSan's fork-child caution is removed, not counted)."""
    if not logdir or not os.path.isdir(logdir):
        return []
    found = []
    for f in sorted(os.listdir(logdir)):
        path = os.path.join(logdir, f)
        if not os.path.isfile(path):
            continue
        if is_report(path):
            found.append(path)
        else:
            os.unlink(path)
    return found


def claim_reports(logdir):
    """Moves @logdir's report files into logdir/claimed and returns their
    text as '# ' lines (empty when there were none)."""
    lines = []
    for path in san_reports(logdir):
        os.makedirs(os.path.join(logdir, "claimed"), exist_ok=True)
        with open(path, errors="replace") as f:
            text = f.read()
        lines.append("# sanitizer report %s:" % os.path.basename(path))
        lines += ["# " + l for l in text.splitlines()[:200]]
        os.rename(path, os.path.join(logdir, "claimed", os.path.basename(path)))
    return lines


def job_env(name):
    """The environment for one job: its own sanitizer log directory."""
    env = dict(os.environ)
    if not SAN_LOGS:
        return env, ""
    logdir = os.path.join(SAN_LOGS, name)
    os.makedirs(logdir, exist_ok=True)
    env["KOTEL_SAN_JOB_LOGS"] = logdir
    for var in SAN_VARS:
        if var in env:
            tag = var.split("_")[0].lower()
            env[var] = env[var] + ":log_path=" + os.path.join(logdir, tag)
    return env, logdir


def run_module(path, pattern):
    """In a child: import the module, run its test_* functions."""
    sys.path.insert(0, os.path.join(HERE, "lib"))
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = sorted(n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n)))
    logdir = os.environ.get("KOTEL_SAN_JOB_LOGS", "")
    # Tests a slow or sanitized run cannot hold, named by the target that
    # sets KOTEL_SKIP (comma-separated substrings), with its reasons.
    skip = [x for x in os.environ.get("KOTEL_SKIP", "").split(",") if x]
    failed = 0
    for n in names:
        full = "%s::%s" % (os.path.basename(path), n)
        if pattern and pattern not in full:
            continue
        if any(x in full for x in skip):
            print("# skipped - %s (KOTEL_SKIP)" % full, flush=True)
            continue
        t0 = time.time()
        try:
            getattr(mod, n)()
            error = []
        except Exception:
            error = traceback.format_exc().splitlines()
        # A sanitizer report from any process the test ran fails it.
        reports = claim_reports(logdir)
        if error or reports:
            failed += 1
            print("not ok - %s (%.1fs)" % (full, time.time() - t0), flush=True)
            for line in error:
                print("# " + line, flush=True)
            for line in reports:
                print(line, flush=True)
        else:
            print("ok - %s (%.1fs)" % (full, time.time() - t0), flush=True)
    return 1 if failed else 0


def tap_counts(out):
    passed = sum(1 for l in out.splitlines() if l.startswith("ok "))
    failed = sum(1 for l in out.splitlines() if l.startswith("not ok "))
    return passed, failed


def job_name(cmd):
    return os.path.basename(cmd[cmd.index("--module") + 1] if "--module" in cmd else cmd[0])


def run_child(cmd, timeout):
    t0 = time.time()
    env, logdir = job_env(job_name(cmd))
    # Unit tests that start librdkafka's own threads (test_produce) need
    # the sanitizer targets' thrd_shim.so too (KOTEL_UNIT_PRELOAD): TSan
    # crashes in a thread it did not see start.
    if "--module" not in cmd and os.environ.get("KOTEL_UNIT_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["KOTEL_UNIT_PRELOAD"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\nnot ok - %s (timed out after %ds)\n" % (" ".join(cmd), timeout)
        rc = -1
    # Reports no test claimed: a unit test's own, or from a process that
    # outlived its test.
    late = claim_reports(logdir)
    if late:
        out += "\nnot ok - %s: sanitizer report\n%s\n" % (job_name(cmd), "\n".join(late))
    return cmd, out, rc, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-k", default="")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--module", help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--suite", default="integration",
                    help="directory under tests/ holding the test_*.py modules")
    args = ap.parse_args()
    if args.module:
        sys.exit(run_module(args.module, args.k))

    jobs = []
    if not args.integration_only:
        for exe in sorted(glob.glob(os.path.join(BUILD, "tests", "unit", "test_*"))):
            if os.access(exe, os.X_OK) and (not args.k or args.k in os.path.basename(exe)):
                jobs.append([exe])
    if not args.unit_only:
        for mod in sorted(glob.glob(os.path.join(HERE, args.suite, "test_*.py"))):
            jobs.append([sys.executable, os.path.abspath(__file__), "--module", mod, "-k", args.k])

    passed = failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for cmd, out, rc, dt in pool.map(lambda c: run_child(c, args.timeout * TIMEOUT_SCALE), jobs):
            p, f = tap_counts(out)
            if rc != 0 and f == 0:
                f = 1
                out += "\nnot ok - %s exited %d\n" % (job_name(cmd), rc)
            passed += p
            failed += f
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
