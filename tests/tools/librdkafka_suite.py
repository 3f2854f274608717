#!/usr/bin/python3
"""librdkafka's own test suite as a guard: every test flagged local, run
once without and once with kotel preloaded, compared test by test.

  tests/tools/librdkafka_suite.py --tests-dir DIR [--lib LIBKOTEL]
                                  [-j JOBS] [-k NUMBERS] [--timeout S]
                                  [--plain-only [--repeat N]]

DIR is the tests/ directory of librdkafka's source with test-runner built
in it (tests/librdkafka.mk). The tests come from the test table in
DIR/test.c: every entry flagged TEST_F_LOCAL (the local and mock-cluster
tests, what `test-runner -l` runs, and 0079, flagged a known issue too,
with -k). Each test number runs in a process of its own
(`TESTS=NNNN test-runner -l -p1`), a test in SPLIT once per sub-test
function (SUBTESTS=function:); each process has a time limit.

A unit passes when its outcome with LD_PRELOAD=LIBKOTEL (passed, failed,
crashed by a signal, timed out) is the outcome it has without, or when the
only difference is a JUSTIFIED failure. Prints one line per unit and, last,
"N passed, N failed"; exits non-zero if any unit failed. EXCLUDED units
are listed with their reason and not run.

--plain-only runs only the pass without kotel, --repeat times, and prints
every unit whose outcome is not the same in all runs: how the exclusion
list below was made. See docs/testing.md.
"""

import argparse
import collections
import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Units not run, with the reason; keys are a test number or
# "number:sub-test function". Each fails or hangs WITHOUT kotel.
EXCLUDED = {
    "0045":
        "flaky without kotel (failed in 2 of 3 runs on 2 busy cores): "
        "do_test_regex_many_mock, the whole test, creates topics one by one "
        "under a regex subscription and fails when a poll returns the "
        "consumer error \"Subscribed topic not available: ^topic_.*: Broker: "
        "Unknown topic or partition\" (metadata racing the mock cluster's "
        "topic creation), then main() aborts on the consumer's leftover "
        "threads",
    "0105:do_test_disconnected_group_coord":
        "flaky without kotel (failed in 1 of 16 runs without kotel, 3 of "
        "13 with): the test brings broker 2 down right after creating its "
        "producer; when the producer's first bootstrap connection went to "
        "broker 2 and metadata had not come back yet, librdkafka 2.0.2 "
        "keeps reconnecting to that one bootstrap broker and "
        "init_transactions(-1) fails after 120 s (\"Timed out waiting for "
        "operation to finish\")",
    "0105:do_test_txn_concurrent_operations":
        "hangs without kotel: the test sets the coordinator's RTT to 5 s, "
        "which equals its socket.connection.setup.timeout.ms (5 s), so "
        "every connection times out in APIVERSION_QUERY and "
        "init_transactions(-1) never returns; the framework kills the "
        "process after 60 s",
}

# Tests run once per sub-test function: 0105 runs for ~6 minutes in one
# process (the longest by far) and holds the excluded sub-test above.
SPLIT = ("0105",)

# Started first, so that the longest processes (here 20 s to 80 s each
# when run alone) do not end the run alone.
SLOW = ("0105", "0116", "0106", "0113", "0104", "0117", "0080", "0120", "0034")

# Differences that are kotel's design, not a bug: a unit that passes
# without kotel may fail with kotel when its one failure is of this test
# number and test name and has this message. Any other failure in the same
# process is not excused.
Justified = collections.namedtuple("Justified", "number test message why")
JUSTIFIED = [
    Justified("0072", "0072_headers_ut",
              re.compile(r'^Test assertion failed: "msgid != 0": '
                         r"dr_msg_cb: first message should have no headers$"),
              "kotel's traceparent header shows in delivery reports, by "
              "design (docs/span-model.md)"),
]
# A justified failure ends its test thread before the test destroys its
# client, so main() then also reports that client's threads as still
# running: excused only together with a justified failure.
LEFT_THREADS = re.compile(r"^\d+ thread\(s\) still active in librdkafka$")

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FAIL_HEAD = re.compile(r'^### Test "(.*?)(?: \((.*)\))?" failed at (\S+) at .*: ###$')
# The summary failure main() adds after a test failed: not a failure of its own.
MAIN_SUMMARY = re.compile(r"^\d+ test\(s\) failed, see previous errors$")
TIMED_OUT = re.compile(r"timed out \(timeout set to \d+ seconds\)")
# A row of the summary table at exit: "| 0004_conf | PASSED | 0.038s |".
SUMMARY_ROW = re.compile(r"^\|\s*(\S+)\s*\|\s*([A-Z]+)\s*\|")
# kotel's counters line at exit (OTEL_LOG_LEVEL=info): proof it was loaded.
KOTEL_COUNTERS = re.compile(r"kotel: info: spans started=(\d+) ")


def local_tests(test_c):
    """The test table's TEST_F_LOCAL entries (not manual), grouped by
    number in table order: {number: [(name, flags), ...]}."""
    with open(test_c) as f:
        src = f.read()
    table = src[src.index("struct test tests[]"):]
    table = table[:table.index("{NULL}")]
    tests = collections.OrderedDict()
    for m in re.finditer(r"_TEST\(\s*(\w+)\s*,\s*([^,)]*)", table):
        name, flags = m.group(1), m.group(2)
        if "TEST_F_LOCAL" in flags and "TEST_F_MANUAL" not in flags:
            tests.setdefault(name.split("_")[0], []).append((name, flags))
    return tests


def subtest_functions(tests_dir, names):
    """The functions main_NAME calls (do_test_*), in order: each starts a
    sub-test named after itself (SUB_TEST)."""
    funcs = []
    for name in names:
        for fn in os.listdir(tests_dir):
            if not fn.startswith(name.split("_")[0] + "-"):
                continue
            with open(os.path.join(tests_dir, fn), errors="replace") as f:
                src = f.read()
            m = re.search(r"^int main_%s\(.*?^}" % name, src, re.S | re.M)
            if not m:
                continue
            for call in re.findall(r"\b(do_test\w*)\s*\(", m.group(0)):
                if call not in funcs:
                    funcs.append(call)
    return funcs


class Unit:
    def __init__(self, number, tests, subtest=None):
        self.number = number
        names = [name for name, _ in tests]
        self.names = names
        self.subtest = subtest
        # Flagged a known issue upstream (0079, fork): test-runner skips it
        # unless given -k (then it runs only such tests).
        self.known_issue = any(re.search(r"\bTEST_F_KNOWN_ISSUE\b", f) for _, f in tests)
        self.key = number + (":" + subtest if subtest else "")
        self.label = " ".join(names) + (" (%s)" % subtest if subtest else "")


def units(tests_dir, only):
    tests = local_tests(os.path.join(tests_dir, "test.c"))
    out = []
    for number, entries in tests.items():
        if only and number not in only:
            continue
        if number in SPLIT:
            funcs = subtest_functions(tests_dir, [name for name, _ in entries])
            if not funcs:
                raise SystemExit("librdkafka_suite: no sub-tests found for %s" % number)
            out.extend(Unit(number, entries, f) for f in funcs)
        else:
            out.append(Unit(number, entries))
    return out


class Outcome:
    """What one process did: kind is passed, failed, crashed or timed out;
    failures are (test, sub-test, message) from the framework's lines."""

    def __init__(self, kind, detail="", failures=(), subtests=0, secs=0.0):
        self.kind = kind
        self.detail = detail
        self.failures = list(failures)
        self.subtests = subtests
        self.secs = secs

    def describe(self):
        if self.kind == "passed":
            return "passed"
        first = self.failures[0] if self.failures else None
        msg = self.detail
        if first:
            msg = (msg + ": " if msg else "") + "%s%s: %s" % (
                first[0], " (%s)" % first[1] if first[1] else "", first[2])
            if len(self.failures) > 1:
                msg += " (+%d more)" % (len(self.failures) - 1)
        return self.kind + (" (%s)" % msg if msg else "")


def parse(log, rc, timed_out, secs, subtest=None):
    with open(log, errors="replace") as f:
        lines = [ANSI.sub("", l.rstrip("\n")) for l in f]
    failures = []
    for i, line in enumerate(lines):
        m = FAIL_HEAD.match(line.strip())
        if m:
            msg = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if m.group(1) == "<MAIN>" and MAIN_SUMMARY.match(msg):
                continue
            failures.append((m.group(1), m.group(2) or "", msg))
    # Lines naming a sub-test of @subtest ("[ function:line... ]"): none
    # when the filter selected nothing.
    subtests = sum(1 for l in lines if subtest and "] [ %s:" % subtest in l)
    counters = [m for m in map(KOTEL_COUNTERS.search, lines) if m]
    states = dict(m.groups() for m in map(SUMMARY_ROW.match, lines) if m)
    if timed_out:
        kind, detail = "timed out", "killed after %ds" % secs
    elif any(TIMED_OUT.search(f[2]) for f in failures):
        kind, detail = "timed out", ""
    elif rc == 0:
        kind, detail = "passed", ""
    elif rc < 0 and not (rc == -signal.SIGABRT and failures):
        # A signal other than the framework's abort after a failure.
        kind, detail = "crashed", signal.Signals(-rc).name
    else:
        kind, detail = "failed", "" if failures else "exit code %d" % rc
    o = Outcome(kind, detail, failures, subtests, secs)
    o.states = states
    o.kotel_exits = len(counters)
    o.spans = sum(int(m.group(1)) for m in counters)
    return o


class Sink(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports and answers 200 with an empty (valid)
    ExportTraceServiceResponse; counts them, decodes nothing."""
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n:
            self.rfile.read(n)
        with Sink.lock:
            Sink.count += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def run_one(args, unit, mode, run, env_base):
    logdir = os.path.join(args.logs, mode + ("" if run == 0 else ".%d" % run))
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, unit.key.replace(":", "-") + ".log")
    env = dict(env_base)
    env["TESTS"] = unit.number
    if unit.subtest:
        env["SUBTESTS"] = unit.subtest + ":"
    env["OTEL_SERVICE_NAME"] = "librdkafka-" + unit.key.replace(":", "-")
    if mode == "kotel":
        env["LD_PRELOAD"] = args.lib
        env["OTEL_LOG_LEVEL"] = "info"
    t0 = time.time()
    timed_out = False
    with open(log, "w") as out:
        argv = [args.runner, "-l", "-p1"] + (["-k"] if unit.known_issue else [])
        p = subprocess.Popen(argv, cwd=args.tests_dir, env=env,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
            timed_out = True
    return parse(log, rc, timed_out, time.time() - t0, unit.subtest), log


def justified(unit, plain, kotel):
    """The JUSTIFIED entries that excuse every failure of @kotel, when the
    unit passes without kotel; [] if any failure is not excused."""
    if plain.kind != "passed" or kotel.kind != "failed" or not kotel.failures:
        return []
    used = []
    for test, _sub, msg in kotel.failures:
        if test == "<MAIN>" and LEFT_THREADS.match(msg):
            continue
        j = next((j for j in JUSTIFIED if j.number == unit.number and j.test == test
                  and j.message.search(msg)), None)
        if not j:
            return []
        used.append(j)
    return used if len(used) == 1 else []


def verdict_plain(u, outs):
    """--plain-only: ok when every run passed."""
    if all(o.kind == "passed" for o in outs):
        return True, "ok %s (%.0fs)" % (u.label, max(o.secs for o in outs))
    return False, "not ok %s: %s" % (u.label, " / ".join(o.describe() for o in outs))


def verdict(u, plain_run, kotel_run):
    """(ok, line) for a unit from its runs without and with kotel."""
    (plain, plog), (kotel, klog) = plain_run, kotel_run
    secs = "%.0fs/%.0fs" % (plain.secs, kotel.secs)
    if u.subtest and plain.kind == "passed" and plain.subtests == 0:
        return False, "not ok %s: selected no sub-test (see %s)" % (u.label, plog)
    skipped = [n for n in u.names if plain.states.get(n) == "SKIPPED"]
    if plain.kind == "passed" and skipped:
        # Equal outcomes of a test that did not run would prove nothing.
        return False, "not ok %s: %s skipped without kotel (see %s)" % (
            u.label, " ".join(skipped), plog)
    if plain.kind == kotel.kind:
        note = "" if plain.kind == "passed" else ": %s both ways: without kotel %s" % (
            plain.kind, plain.describe())
        return True, "ok %s (%s)%s" % (u.label, secs, note)
    excused = justified(u, plain, kotel)
    if excused:
        msg = next(f[2] for f in kotel.failures if f[0] == excused[0].test)
        return True, "ok %s (%s): justified difference: with kotel, %s (%s)" % (
            u.label, secs, msg, excused[0].why)
    return False, "not ok %s: without kotel %s; with kotel %s (see %s)" % (
        u.label, plain.describe(), kotel.describe(), klog)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests-dir", required=True)
    ap.add_argument("--runner", help="test-runner (default TESTS_DIR/test-runner)")
    ap.add_argument("--lib", default=os.environ.get("KOTEL_LIB", "build/libkotel.so"))
    ap.add_argument("--logs", help="log directory (default TESTS_DIR/../../logs)")
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument("-k", dest="only", default="",
                    help="comma-separated test numbers to run")
    ap.add_argument("--timeout", type=int, default=600, help="per process, seconds")
    ap.add_argument("--plain-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    args.tests_dir = os.path.abspath(args.tests_dir)
    args.runner = os.path.abspath(args.runner or os.path.join(args.tests_dir, "test-runner"))
    args.lib = os.path.abspath(args.lib)
    args.logs = os.path.abspath(args.logs or os.path.join(args.tests_dir, "..", "..", "logs"))
    if not args.plain_only and not os.path.isfile(args.lib):
        raise SystemExit("librdkafka_suite: %s not found (KOTEL_LIB)" % args.lib)
    only = set(filter(None, args.only.split(",")))
    all_units = units(args.tests_dir, only)
    todo = [u for u in all_units if u.key not in EXCLUDED and u.number not in EXCLUDED]
    for u in all_units:
        if u not in todo:
            print("# excluded %s: %s" % (u.label, EXCLUDED.get(u.key) or EXCLUDED[u.number]),
                  flush=True)

    # Logs of an earlier run (of a unit excluded since, say) would mislead.
    for old in glob.glob(os.path.join(args.logs, "*", "*.log")):
        os.remove(old)

    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    sink.daemon_threads = True
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    # test-runner's CI mode, as upstream runs it on shared CI machines:
    # time limits x3, and a TIMING_ASSERT outside its window warns
    # instead of failing (on 2 busy cores a 100 ms window is luck).
    env["CI"] = "true"
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:%d" % sink.server_address[1]

    modes = ["plain"] if args.plain_only else ["plain", "kotel"]
    runs = args.repeat if args.plain_only else 1
    order = sorted(todo, key=lambda u: SLOW.index(u.number) if u.number in SLOW else len(SLOW))
    jobs = [(u, m, r) for r in range(runs) for u in order for m in modes]
    t0 = time.time()
    print("# %d units, %d processes, %d at a time; logs in %s"
          % (len(todo), len(jobs), args.jobs, args.logs), flush=True)
    passed = failed = 0
    results = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {(u, m, r): pool.submit(run_one, args, u, m, r, env) for u, m, r in jobs}
        # One line per unit, in table order, as soon as its runs are done.
        for u in todo:
            for m in modes:
                for r in range(runs):
                    results[(u, m, r)] = futs[(u, m, r)].result()
            ok, line = (verdict_plain(u, [results[(u, "plain", r)][0] for r in range(runs)])
                        if args.plain_only else
                        verdict(u, results[(u, "plain", 0)], results[(u, "kotel", 0)]))
            passed, failed = passed + ok, failed + (not ok)
            print(line, flush=True)
    sink.shutdown()

    if not args.plain_only:
        kouts = [results[(u, "kotel", 0)][0] for u in todo]
        exits = sum(1 for o in kouts if o.kotel_exits)
        print("# kotel: counters line at exit in %d of %d processes, %d spans "
              "started, %d OTLP exports received"
              % (exits, len(kouts), sum(o.spans for o in kouts), Sink.count))
        if todo and not exits:
            # Not one process shows kotel: it was not loaded (or logs
            # nothing), and matching outcomes would prove nothing.
            failed += 1
            print("not ok kotel loaded: no kotel counters line in any log "
                  "(is %s preloadable?)" % args.lib)
    print("# %.0fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
