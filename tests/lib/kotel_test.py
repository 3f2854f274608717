"""Shared helpers for kotel's integration tests: a mock broker, the OTLP
receiver, running real clients under LD_PRELOAD, and span queries."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build"))
LIB = os.environ.get("KOTEL_LIB", os.path.join(BUILD, "libkotel.so"))
# What goes into LD_PRELOAD: the sanitizer targets put their runtime first.
PRELOAD = os.environ.get("KOTEL_PRELOAD", LIB)
KCLIENT = os.path.join(BUILD, "tests", "kclient")
MOCKBROKER = os.path.join(BUILD, "tests", "mockbroker")
PYTHON = "/usr/bin/python3"
# Slow runtimes (sanitizers, valgrind) scale every timeout by this; the
# sanitizer targets set it (tests/sanitize.mk).
TIMEOUT_SCALE = float(os.environ.get("KOTEL_TIMEOUT_SCALE", "1") or 1)

sys.path.insert(0, HERE)
from otlp_receiver import Receiver  # noqa: E402,F401
from otlp_grpc_receiver import GrpcReceiver  # noqa: E402,F401

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer",
                   "runtime error:", "ERROR: LeakSanitizer")


class Broker:
    """librdkafka's mock cluster in a child process (dies with stdin)."""

    def __init__(self, topics=("t:1",), brokers=1):
        args = [MOCKBROKER, "-b", str(brokers)]
        for t in topics:
            args += ["-t", t]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        if not self.bootstrap:
            raise RuntimeError("mockbroker did not start")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def agent_env(receiver=None, service="test", preload=True, **extra):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OTEL_") or k.startswith("KOTEL_"):
            del env[k]
    if preload:
        env["LD_PRELOAD"] = PRELOAD
    env["OTEL_SERVICE_NAME"] = service
    env["OTEL_BSP_SCHEDULE_DELAY"] = "100"
    env["OTEL_LOG_LEVEL"] = "info"
    # Span tests leave metrics off (their exit flush would be one more
    # request and more log lines); metrics tests ask for them.
    env["OTEL_METRICS_EXPORTER"] = "none"
    # The same for logs (librdkafka's lines would be more requests); the
    # log tests ask for them.
    env["OTEL_LOGS_EXPORTER"] = "none"
    if receiver is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        # What the receiver speaks (GrpcReceiver: the grpc protocol).
        env.update(getattr(receiver, "agent_env", {}))
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def leak_checked(cmd, env):
    """Under ASan, LeakSanitizer stays on only in the programs built with
    the tests (BUILD/tests/*): python and kcat exit with allocations of
    their own (LSan prints them with one-frame stacks no suppression can
    tell from kotel's), so they run with detect_leaks=0. Every hook is
    leak-checked through the C clients."""
    if "ASAN_OPTIONS" in env and not os.path.abspath(cmd[0]).startswith(
            os.path.join(os.path.abspath(BUILD), "tests") + os.sep):
        env = dict(env, ASAN_OPTIONS=env["ASAN_OPTIONS"] + ":detect_leaks=0")
    return env


def run(cmd, env, timeout=90, check=True, input=None):
    env = leak_checked(cmd, env)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout * TIMEOUT_SCALE, input=input)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, "sanitizer report in %s:\n%s" % (cmd[0], p.stderr[-4000:])
    if check:
        assert p.returncode == 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            cmd, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


def kclient(broker, *args, receiver=None, service="kclient", env=None, check=True, timeout=90):
    e = agent_env(receiver, service, **(env or {}))
    return run([KCLIENT, "-b", broker.bootstrap] + list(args), e, check=check, timeout=timeout)


def locale_env(name):
    """(env, None) that selects locale @name ("de_DE.UTF-8") for a program
    calling setlocale(LC_ALL, ""), compiling it with localedef into
    BUILD/locale when the system lacks it; (None, reason) when it cannot be
    made. The caller still checks that the program saw it."""
    lang, _, charset = name.partition(".")
    env = {"LC_ALL": name, "LANG": name}
    have = subprocess.run(["locale", "-a"], stdout=subprocess.PIPE, text=True,
                          stderr=subprocess.DEVNULL).stdout.split()
    norm = name.lower().replace("-", "")
    if any(l.lower().replace("-", "") == norm for l in have):
        return env, None
    path = os.path.join(BUILD, "locale")
    if not os.path.isdir(os.path.join(path, name)):
        os.makedirs(path, exist_ok=True)
        try:
            p = subprocess.run(["localedef", "-i", lang, "-f", charset or "UTF-8",
                                os.path.join(path, name)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, "localedef cannot run: %s" % e
        # localedef exits 1 on warnings and still writes the locale.
        if not os.path.isdir(os.path.join(path, name)):
            return None, "localedef could not make %s: %s" % (name, p.stdout[-500:])
    env["LOCPATH"] = path
    return env, None


def parse_lines(out, prefix):
    """'msg key=k0 offset=3 ...' lines -> list of dicts."""
    rows = []
    for line in out.splitlines():
        if not line.startswith(prefix + " "):
            continue
        row = {}
        for part in line.split()[1:]:
            if "=" in part:
                k, v = part.split("=", 1)
                row[k] = v
        rows.append(row)
    return rows


def named(spans, name):
    return [s for s in spans if s["name"] == name]


def of_service(spans, service):
    return [s for s in spans if s["resource"].get("service.name") == service]


def by_key(spans):
    return {s["attributes"].get("messaging.kafka.message.key"): s for s in spans}


def stats(stderr):
    """The exporter's counters from its exit line (OTEL_LOG_LEVEL=info)."""
    for line in stderr.splitlines():
        if "spans started=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split() if "=" in p)}
    return None


def wait_until(pred, timeout=10.0, step=0.05):
    deadline = time.time() + timeout * TIMEOUT_SCALE
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
