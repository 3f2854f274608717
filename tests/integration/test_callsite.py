"""Call sites (docs/span-model.md, "Where in the program"): every sampled
span names the app's function, file and line that produced or consumed
its message (code.function.name, code.file.path, code.line.number): the
first frame outside librdkafka, kotel and the binding layers.

Checked against the test clients' own sources: the line a span names must
be the call of the librdkafka function it is about (a call written over
several lines is placed on any of them by the compiler's line table)."""

import os

from kotel_test import ROOT, Broker, Receiver, agent_env, kclient, named, run

KCLIENT_C = os.path.realpath(os.path.join(ROOT, "tests", "clients", "kclient.c"))
KCLIENT_CPP_SRC = os.path.realpath(os.path.join(ROOT, "tests", "clients", "kclient_cpp.cpp"))
PY_PRODUCE = os.path.join(ROOT, "tests", "clients", "py_produce.py")
N = 3


def source(path):
    with open(path) as f:
        return f.read().splitlines()


def statement_calls(path, line, function):
    """Whether the statement around 1-based @line of @path calls @function:
    the call starts on that line or on one of the few before it (the
    arguments of a call can span lines)."""
    lines = source(path)
    assert 1 <= line <= len(lines), (path, line)
    window = lines[max(0, line - 12):line]
    return any(function + "(" in l for l in window)


def code_attrs(span):
    a = span["attributes"]
    return a.get("code.function.name"), a.get("code.file.path"), a.get("code.line.number")


def check_site(span, function, path, api):
    fn, file, line = code_attrs(span)
    assert fn == function, span["attributes"]
    assert file and os.path.isabs(file), span["attributes"]
    assert os.path.realpath(file) == path, (file, path)
    assert isinstance(line, int) and statement_calls(path, line, api), \
        (line, api, source(path)[max(0, line - 3):line])


def test_c_producer_call_site_for_every_produce_api():
    apis = {"produce": "rd_kafka_produce", "producev": "rd_kafka_producev",
            "produceva": "rd_kafka_produceva", "batch": "rd_kafka_produce_batch"}
    for api, fn in apis.items():
        with Broker(["t:1"]) as b, Receiver() as r:
            kclient(b, "produce", "-a", api, "-t", "t", "-n", str(N), receiver=r)
            spans = r.wait_for(lambda s: len(named(s, "send t")) >= N)
            for s in named(spans, "send t"):
                check_site(s, "cmd_produce", KCLIENT_C, fn)


def test_c_consumer_call_site_on_process_and_poll_spans():
    for api, fn in (("poll", "rd_kafka_consumer_poll"), ("batch", "rd_kafka_consume_batch")):
        with Broker(["t:1"]) as b, Receiver() as r:
            kclient(b, "produce", "-a", "producev", "-t", "t", "-n", str(N), receiver=r,
                    service="producer")
            kclient(b, "consume", "-a", api, "-t", "t", "-n", str(N), receiver=r,
                    service="consumer")
            spans = r.wait_for(lambda s: len(named(s, "process t")) >= N)
            for s in named(spans, "process t"):
                check_site(s, "cmd_consume", KCLIENT_C, fn)
            if api == "batch":
                polls = named(spans, "poll t")
                assert polls
                for s in polls:
                    check_site(s, "cmd_consume", KCLIENT_C, fn)


def test_cpp_call_site_is_the_app_not_librdkafkapp():
    # librdkafka++ calls rd_kafka_producev and rd_kafka_consumer_poll: the
    # frames in it are walked past, to the program's own functions.
    cpp = os.path.join(os.environ.get("KOTEL_BUILD", os.path.join(ROOT, "build")),
                       "tests", "kclient_cpp")
    with Broker(["t:1"]) as b, Receiver() as r:
        run([cpp, b.bootstrap, "produce", "t", str(N)], agent_env(r, "cpp-p"))
        run([cpp, b.bootstrap, "consume", "t", str(N), "cppg"], agent_env(r, "cpp-c"))
        spans = r.wait_for(lambda s: len(named(s, "process t")) >= N and
                           len(named(s, "send t")) >= N)
        for s in named(spans, "send t"):
            check_site(s, "(anonymous namespace)::produce_one", KCLIENT_CPP_SRC, "produce")
        for s in named(spans, "process t"):
            check_site(s, "(anonymous namespace)::cmd_consume", KCLIENT_CPP_SRC, "consume")


def test_no_call_site_under_an_interpreter_or_when_turned_off():
    # A Python app's code is not machine code: there is nothing to name
    # (and the interpreter's own C functions would say nothing useful).
    with Broker(["t:1"]) as b, Receiver() as r:
        run(["/usr/bin/python3", PY_PRODUCE, b.bootstrap, "t", str(N)], agent_env(r, "py"))
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", str(N), receiver=r,
                service="off", env={"KOTEL_CODE_ATTRIBUTES": "false"})
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", str(N), receiver=r,
                service="on")
        spans = r.wait_for(lambda s: len(named(s, "send t")) >= 3 * N)
    by = {}
    for s in named(spans, "send t"):
        by.setdefault(s["resource"]["service.name"], []).append(s)
    assert len(by["py"]) == N and len(by["off"]) == N and len(by["on"]) == N, by.keys()
    for s in by["py"] + by["off"]:
        assert code_attrs(s) == (None, None, None), s["attributes"]
    for s in by["on"]:
        assert code_attrs(s)[0] == "cmd_produce", s["attributes"]
