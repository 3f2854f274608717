"""FFI clients bind librdkafka with dlsym on its handle, past LD_PRELOAD:
kotel's dlsym answers the functions it hooks with its hooks (and only
those), so a Python ctypes client is traced exactly like its directly
linked twin (kclient, the same calls and configuration)."""

import os
import shutil
import subprocess

from kotel_test import KCLIENT, LIB, PYTHON, ROOT, Broker, Receiver, agent_env, of_service, run
from twin import check_headers, shape

CLIENTS = os.path.join(ROOT, "tests", "clients")
CTYPES = os.path.join(CLIENTS, "py_ctypes.py")
NODE_DIR = os.path.join(ROOT, "tests", "ffi_node")
N = 4
def roundtrip(r, service, produce_cmd, consume_cmd):
    with Broker(["t:1"]) as b:
        p = run(produce_cmd(b), agent_env(r, service + "-p"))
        c = run(consume_cmd(b), agent_env(r, service + "-c"))
    return p, c


def test_ctypes_client_traced_like_its_linked_twin():
    with Receiver() as r:
        lp, lc = roundtrip(
            r, "linked",
            lambda b: [KCLIENT, "-b", b.bootstrap, "produce", "-a", "produce", "-t", "t",
                       "-n", str(N)],
            lambda b: [KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", "t",
                       "-n", str(N)])
        fp, fc = roundtrip(
            r, "ffi",
            lambda b: [PYTHON, CTYPES, b.bootstrap, "produce", "t", str(N)],
            lambda b: [PYTHON, CTYPES, b.bootstrap, "consume", "t", str(N)])
        spans = r.wait_for(lambda s: all(len(of_service(s, x)) >= N for x in
                                         ("linked-p", "linked-c", "ffi-p", "ffi-c")))
        for side in ("p", "c"):
            linked = shape(of_service(spans, "linked-" + side))
            ffi = shape(of_service(spans, "ffi-" + side))
            assert len(linked) >= N, linked
            assert ffi == linked, (ffi, linked)
        check_headers(lp.stdout, lc.stdout, spans, "linked-p", N)
        check_headers(fp.stdout, fc.stdout, spans, "ffi-p", N)


PROBE = r"""
import ctypes, sys
lib = ctypes.CDLL("librdkafka.so.1")
maps = [l.split() for l in open("/proc/self/maps")]
def owner(addr):
    for m in maps:
        lo, hi = (int(x, 16) for x in m[0].split("-"))
        if lo <= addr < hi and len(m) > 5:
            return m[5]
    return "?"
for name in sys.argv[1:]:
    addr = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    print(name, owner(addr))
"""


def test_dlsym_answers_only_the_hooked_functions_with_hooks():
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True,
                         text=True, check=True).stdout
    hooked = sorted(l.split()[-1] for l in out.splitlines() if " rd_kafka_" in l)
    assert "rd_kafka_new" in hooked and "rd_kafka_flush" in hooked, hooked
    plain = ["rd_kafka_version", "rd_kafka_conf_set", "rd_kafka_poll", "rd_kafka_subscribe",
             "rd_kafka_topic_destroy", "rd_kafka_conf_new"]
    p = run([PYTHON, "-c", PROBE] + hooked + plain, agent_env(None, "probe"))
    where = dict(l.split() for l in p.stdout.splitlines())
    lib = os.path.realpath(LIB)
    for name in hooked:
        assert os.path.realpath(where[name]) == lib, (name, where[name])
    for name in plain:
        assert "librdkafka" in where[name], (name, where[name])
    # Without the agent every one of them is librdkafka's own.
    p = run([PYTHON, "-c", PROBE] + hooked, agent_env(None, "probe", preload=False))
    assert all("librdkafka" in l.split()[1] for l in p.stdout.splitlines()), p.stdout


def koffi_ready():
    """None once koffi is installed in tests/ffi_node (npm ci from the
    committed lock file, the first time), else why it cannot be."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are not installed"
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "koffi")):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=600)
        assert p.returncode == 0, "npm ci in tests/ffi_node failed:\n" + p.stdout[-3000:]
    return None


def test_node_koffi_client_traced_like_its_linked_twin():
    why = koffi_ready()
    if why:
        print("# skip: %s" % why)
        return
    client = os.path.join(NODE_DIR, "client.js")
    with Receiver() as r:
        lp, lc = roundtrip(
            r, "linked",
            lambda b: [KCLIENT, "-b", b.bootstrap, "produce", "-a", "produce", "-t", "t",
                       "-n", str(N)],
            lambda b: [KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", "t",
                       "-n", str(N)])
        fp, fc = roundtrip(r, "koffi",
                           lambda b: ["node", client, b.bootstrap, "produce", "t", str(N)],
                           lambda b: ["node", client, b.bootstrap, "consume", "t", str(N)])
        spans = r.wait_for(lambda s: all(len(of_service(s, x)) >= N for x in
                                         ("linked-p", "linked-c", "koffi-p", "koffi-c")))
        for side in ("p", "c"):
            linked = shape(of_service(spans, "linked-" + side))
            assert len(linked) >= N, linked
            assert shape(of_service(spans, "koffi-" + side)) == linked
        check_headers(fp.stdout, fc.stdout, spans, "koffi-p", N)


DLCALLER = os.path.join(os.path.dirname(KCLIENT), "dlcaller")
DLCALLER_MOD = os.path.join(os.path.dirname(KCLIENT), "dlcaller_mod.so")


def test_dlsym_next_and_default_keep_the_callers_view():
    # RTLD_NEXT and RTLD_DEFAULT answer according to the caller's place
    # and scope: a kotel that called the real dlsym (instead of jumping to
    # it) would look from kotel's place, after dlcaller_mod.so and outside
    # the module's local scope, and miss both.
    env = agent_env(None, "dlcaller")
    env["LD_PRELOAD"] = ":".join(e for e in env["LD_PRELOAD"].split(":") if e != LIB)
    env["LD_PRELOAD"] = ":".join(filter(None, [env["LD_PRELOAD"], DLCALLER_MOD, LIB]))
    assert run([DLCALLER, "next"], env).stdout == "found\n"
    assert run([DLCALLER, "default", DLCALLER_MOD], agent_env(None, "dlcaller")).stdout \
        == "found\n"
    # Without the preloaded module nothing comes after the program.
    assert run([DLCALLER, "next"], agent_env(None, "dlcaller")).stdout == "missing\n"
