"""Secure execution (AT_SECURE): a set-uid program is never traced and reads
no OTEL_*/KOTEL_* variable, however kotel was loaded. The dynamic loader
already ignores LD_PRELOAD there; /etc/ld.so.preload or a link does not,
so the test runs kclient_linked (libkotel.so needed before librdkafka, as
ld.so.preload would load it), a set-uid-root copy of it, as an
unprivileged user: its invoker's environment must not steer kotel."""

import os
import shutil
import stat
import subprocess
import tempfile

from kotel_test import (BUILD, LIB, PRELOAD, TIMEOUT_SCALE, Broker, Receiver, agent_env,
                        parse_lines, stats)

KCLIENT_LINKED = os.path.join(BUILD, "tests", "kclient_linked")
NOBODY = 65534


def _why_not():
    if os.geteuid() != 0:
        return "needs root to make a set-uid-root copy and run it as uid %d" % NOBODY
    if PRELOAD != LIB:
        return "a sanitizer runtime must be preloaded, which AT_SECURE forbids"
    return None


def _run_copy(b, r, setuid):
    """The copy of kclient_linked, set-uid root or not, run as nobody with
    kotel's variables pointing at @r."""
    d = tempfile.mkdtemp(prefix="kotel-secure-")
    try:
        os.chmod(d, 0o755)
        exe = os.path.join(d, "kclient")
        shutil.copy(KCLIENT_LINKED, exe)
        os.chmod(exe, 0o755 | (stat.S_ISUID if setuid else 0))
        env = agent_env(r, "secure", preload=False, OTEL_LOG_LEVEL="debug",
                        OTEL_TRACES_SAMPLER="not-a-sampler", KOTEL_SHUTDOWN_TIMEOUT="5000")
        env.pop("LD_PRELOAD", None)
        p = subprocess.run([exe, "-b", b.bootstrap, "produce", "-a", "produce", "-t", "t",
                            "-n", "3"], env=dict(env, HOME="/"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60 * TIMEOUT_SCALE,
                           user=NOBODY, group=NOBODY, extra_groups=[])
        assert p.returncode == 0, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        return p
    finally:
        shutil.rmtree(d)


def test_setuid_program_ignores_otel_variables_and_is_not_traced():
    why = _why_not()
    if why:
        print("# skip: %s" % why)
        return
    with Broker() as b, Receiver() as r:
        # The same copy without the set-uid bit: kotel is loaded and reads
        # the variables (so the set-uid run below is a real contrast).
        plain = _run_copy(b, r, setuid=False)
        assert stats(plain.stderr)["exported"] == 3, plain.stderr
        assert "kotel: debug:" in plain.stderr, plain.stderr
        assert "OTEL_TRACES_SAMPLER: 'not-a-sampler'" in plain.stderr, plain.stderr
        assert all(d["traceparent"].startswith("00-")
                   for d in parse_lines(plain.stdout, "dr")), plain.stdout
        n = len(r.requests)
        assert n >= 1

        suid = _run_copy(b, r, setuid=True)
        drs = parse_lines(suid.stdout, "dr")
        assert len(drs) == 3 and all(d["err"] == "NO_ERROR" for d in drs), suid.stdout
        assert not any(d["traceparent"].startswith("00-") for d in drs), suid.stdout
        # Not even the sampler's complaint: the variables were not read.
        assert "kotel:" not in suid.stderr, suid.stderr
        assert len(r.requests) == n, "the set-uid run exported"
