"""Helpers for the semantics tests: run tests/clients/semclient.c with or
without the agent and read its header dumps."""

import os
import socket

from kotel_test import BUILD, agent_env, run

SEMCLIENT = os.path.join(BUILD, "tests", "semclient")
TP_SAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TP_UNSAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def semclient(broker, *args, receiver=None, service="sem", preload=True, env=None,
              check=True, timeout=90):
    e = agent_env(receiver, service, preload=preload, **(env or {}))
    bootstrap = broker if isinstance(broker, str) else broker.bootstrap
    return run([SEMCLIENT, "-b", bootstrap] + list(args), e, check=check, timeout=timeout)


def rows(out, prefix):
    """semclient lines 'PREFIX a=b c=d ... nhdrs=N' -> dicts (the last value
    of a repeated name wins; 'traceparent_count' counts traceparents)."""
    result = []
    for line in out.splitlines():
        if not line.startswith(prefix + " "):
            continue
        row = {"traceparent_count": 0}
        for part in line.split()[1:]:
            if "=" in part:
                k, v = part.split("=", 1)
                row[k] = v
                if k == "traceparent":
                    row["traceparent_count"] += 1
        result.append(row)
    return result


def tp_fields(tp):
    version, trace_id, span_id, flags = tp.split("-")
    return trace_id, span_id, flags


def dead_bootstrap():
    """A 127.0.0.1 address where nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "127.0.0.1:%d" % port


def log_lines(stderr, text):
    return [l for l in stderr.splitlines() if l.startswith("kotel:") and text in l]
