"""Helpers for the exporter's integration tests: the forker client, a
blackholed collector, free ports, and a test CA made with openssl."""

import os
import socket
import subprocess
import time

from kotel_test import BUILD, agent_env, kclient, run, stats

FORKER = os.path.join(BUILD, "tests", "forker")


def forker(broker, mode, *args, receiver=None, service="forker", env=None, check=True,
           timeout=90):
    e = agent_env(receiver, service, **(env or {}))
    return run([FORKER, "-b", broker.bootstrap] + list(args) + [mode], e, check=check,
               timeout=timeout)


def produce(broker, n, receiver=None, endpoint=None, env=None, check=True, timeout=90):
    """kclient produces n messages to topic t; returns (process, stats)."""
    env = dict(env or {})
    if endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    p = kclient(broker, "produce", "-a", "produce", "-t", "t", "-n", str(n),
                receiver=receiver, env=env, check=check, timeout=timeout)
    return p, stats(p.stderr)


def timed_produce(broker, n, **kw):
    t0 = time.time()
    p, st = produce(broker, n, **kw)
    return p, st, time.time() - t0


def free_port():
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Blackhole:
    """A collector that accepts connections into its backlog and never
    answers: every request hangs until the client gives up."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.endpoint = "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate,
    all made now in directory d. Returns a dict of paths."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=kotel test CA", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name, cn in (("srv", "127.0.0.1"), ("cli", "kotel client")):
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + cn, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".pem", "-days", "2",
                 *(["-extfile", "san.ext"] if name == "srv" else []), cwd=d)
    return {k: os.path.join(d, v) for k, v in (
        ("ca", "ca.pem"), ("srv_cert", "srv.pem"), ("srv_key", "srv.key"),
        ("cli_cert", "cli.pem"), ("cli_key", "cli.key"))}
