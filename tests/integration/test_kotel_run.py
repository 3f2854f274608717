"""make install / make uninstall and the installed kotel-run: it preloads
the installed library (found relative to itself) into a real program, kcat,
started directly or through a shell's exec, keeping LD_PRELOAD's entries;
and kotel-run --check tells a program kotel can trace from one it cannot
(librdkafka linked in statically, stripped or not; set-uid)."""

import os
import shutil
import stat
import subprocess
import tempfile

from kotel_test import (BUILD, KCLIENT, LIB, PRELOAD, ROOT, Broker, agent_env, run)

N = 3
KCAT = shutil.which("kcat") or "/usr/bin/kcat"
STATIC = os.path.join(BUILD, "tests", "static_rdkafka")
STATIC_STRIPPED = STATIC + "_stripped"
SCRIPT = os.path.join(ROOT, "scripts", "kotel-run")


def make(*args):
    # -o: the library under test is used as built (never rebuilt here).
    p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "BUILD=" + BUILD,
                        "-o", LIB] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert p.returncode == 0, p.stdout
    return p.stdout


def tsan_why():
    """kotel-run is a shell script: the TSan runtime, which the TSan build
    of the agent needs first in LD_PRELOAD, crashes dash at start (with or
    without kotel), so under make test-tsan nothing can run through it."""
    if "libtsan" in PRELOAD:
        return "the TSan runtime in LD_PRELOAD crashes the shell kotel-run runs in"
    return None


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs)


def base_env():
    """No agent variables; under the sanitizer runs their runtime (which
    must be loaded) is already in LD_PRELOAD, as a user's own entry."""
    env = agent_env(None, "unused", preload=False, OTEL_SERVICE_NAME=None,
                    OTEL_BSP_SCHEDULE_DELAY=None)
    others = [e for e in PRELOAD.split(":") if e and e != LIB]
    if others:
        env["LD_PRELOAD"] = ":".join(others)
    return env


def test_make_install_then_kotel_run_traces_kcat_and_uninstall_removes_all():
    if tsan_why():
        print("# skip: %s" % tsan_why())
        return
    with tempfile.TemporaryDirectory() as dest, Broker(["t:1"]) as b:
        make("install", "DESTDIR=" + dest, "PREFIX=/usr/local")
        got = files_under(dest)
        for f in ("usr/local/lib/libkotel.so", "usr/local/bin/kotel-run",
                  "usr/local/share/man/man1/kotel-run.1",
                  "usr/local/share/doc/kotel/install.md",
                  "usr/local/share/doc/kotel/configuration.md",
                  "usr/local/share/doc/kotel/examples/kotel.conf"):
            assert f in got, (f, got)
        tool = os.path.join(dest, "usr/local/bin/kotel-run")
        lib = os.path.join(dest, "usr/local/lib/libkotel.so")
        assert os.access(tool, os.X_OK)
        lines = "".join("k%d:v%d\n" % (i, i) for i in range(N))
        kcat = [KCAT, "-P", "-b", b.bootstrap, "-t", "t", "-K", ":"]
        # Directly, and through a shell that execs kcat.
        for cmd in ([tool, "--console", "--service", "svc", "--verbose", "--"] + kcat,
                    [tool, "--console", "--service", "svc", "--", "sh", "-c",
                     'exec "$@"', "sh"] + kcat):
            p = run(cmd, base_env(), input=lines)
            spans = [l for l in p.stderr.splitlines() if l.startswith("kotel: span 'send t'")]
            assert len(spans) == N, p.stderr
            for i in range(N):
                assert sum("messaging.kafka.message.key=k%d " % i in l for l in spans) == 1
        said = [l for l in run([tool, "--verbose", "--", "true"], base_env()).stderr.splitlines()
                if l.startswith("kotel-run: LD_PRELOAD=")]
        assert len(said) == 1 and os.path.realpath(lib) in said[0].split("=", 1)[1].split(":"), said
        # The entries already in LD_PRELOAD stay, after kotel, and kotel
        # is never there twice.
        libm = "/lib/x86_64-linux-gnu/libm.so.6"
        env = dict(base_env())
        env["LD_PRELOAD"] = ":".join([lib, libm] + ([env["LD_PRELOAD"]] if "LD_PRELOAD" in env
                                                    else []))
        out = run([tool, "--", "sh", "-c", 'echo "$LD_PRELOAD"'], env).stdout.strip()
        # (A sanitizer runtime of the sanitizer runs stays first.)
        mine = [e for e in out.split(":") if "san.so" not in os.path.basename(e)]
        assert mine[:2] == [os.path.realpath(lib), libm], out
        assert sum(os.path.basename(e) == "libkotel.so" for e in out.split(":")) == 1, out
        make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr/local")
        assert files_under(dest) == [], files_under(dest)


def check(program):
    # --check runs nothing under the agent: no sanitizer runtime needed
    # (it would report the leaks of tr, od and sed at their exit).
    env = dict(base_env(), KOTEL_LIB=LIB)
    env.pop("LD_PRELOAD", None)
    p = subprocess.run([SCRIPT, "--check", program], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    return p.returncode, p.stdout + p.stderr


def test_check_tells_what_kotel_can_trace():
    rc, out = check(KCLIENT)
    assert rc == 0 and "links librdkafka dynamically" in out, out
    rc, out = check(SCRIPT)
    assert rc == 0 and "a script" in out, out
    for prog in (STATIC, STATIC_STRIPPED):
        rc, out = check(prog)
        assert rc == 1 and "linked in statically" in out, out
        assert "-tags dynamic" in out and "dynamic-linking" in out, out
    rc, out = check("no-such-program-kotel")
    assert rc == 2 and "not found" in out, out
    with tempfile.TemporaryDirectory() as d:
        for bit, word in ((stat.S_ISUID, "set-uid"), (stat.S_ISGID, "set-gid")):
            copy = os.path.join(d, "kclient-" + word)
            shutil.copy(KCLIENT, copy)
            os.chmod(copy, 0o755 | bit)
            rc, out = check(copy)
            assert rc == 1 and "AT_SECURE" in out, out


def test_statically_linked_librdkafka_is_not_reached():
    if tsan_why():
        print("# skip: %s" % tsan_why())
        return
    # What --check warns about: the program runs, produces, and kotel
    # never sees a librdkafka call (no span, no exit counters).
    with Broker(["t:1"]) as b:
        env = dict(base_env(), KOTEL_LIB=LIB, OTEL_LOG_LEVEL="debug")
        p = run([SCRIPT, "--console", "--", STATIC, b.bootstrap, "t"], env)
        assert p.stdout.startswith("left=0 "), p.stdout
        assert "kotel: span" not in p.stderr and "spans started" not in p.stderr, p.stderr
        # The same message through the shared librdkafka is traced.
        p = run([SCRIPT, "--console", "--", KCLIENT, "-b", b.bootstrap, "produce", "-a",
                 "producev", "-t", "t", "-n", "1"], env)
        assert "kotel: span 'send t'" in p.stderr, p.stderr
