"""The resource (service.name precedence, OTEL_RESOURCE_ATTRIBUTES, process
and SDK attributes) and what a span records of a message (key only when
printable UTF-8, tombstone only when true, body size)."""

import socket

from kotel_test import Broker, Receiver, kclient, named
from semantics_lib import log_lines, semclient


def one_send_resource(env):
    with Broker(["t:1"]) as b, Receiver() as r:
        p = semclient(b, "produce", "-t", "t", "-n", "1", receiver=r, env=env)
        spans = r.wait_spans(1)
        return spans[0]["resource"], p


def test_service_name_from_env():
    res, _ = one_send_resource({"OTEL_SERVICE_NAME": "billing",
                                "OTEL_RESOURCE_ATTRIBUTES": "service.name=other"})
    assert res["service.name"] == "billing"


def test_service_name_from_resource_attributes():
    res, _ = one_send_resource({"OTEL_SERVICE_NAME": None,
                                "OTEL_RESOURCE_ATTRIBUTES": "service.name=from%20attrs"})
    assert res["service.name"] == "from attrs"


def test_service_name_unknown_service_exe():
    res, _ = one_send_resource({"OTEL_SERVICE_NAME": None})
    assert res["service.name"] == "unknown_service:semclient"


def test_resource_attributes_and_process():
    res, p = one_send_resource({
        "OTEL_RESOURCE_ATTRIBUTES":
            " deployment.environment = prod ,team=a%2Cb%3Dc,broken,host.name=myhost"})
    assert res["deployment.environment"] == "prod"
    assert res["team"] == "a,b=c"
    assert res["host.name"] == "myhost"  # the user's value wins
    assert "broken" not in res
    assert len(log_lines(p.stderr, "OTEL_RESOURCE_ATTRIBUTES")) == 1, p.stderr
    assert isinstance(res["process.pid"], int) and res["process.pid"] > 1
    assert res["process.executable.name"] == "semclient"
    assert res["telemetry.sdk.name"] == "kotel"
    assert res["telemetry.sdk.language"] == "c"
    assert res["telemetry.sdk.version"]


def test_host_name_default():
    res, _ = one_send_resource({})
    assert res["host.name"] == socket.gethostname()


def test_binary_key_omitted_text_key_kept():
    with Broker(["t:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "t", "-n", "3", "--binary-key", receiver=r)
        semclient(b, "produce", "-t", "t", "-n", "1", receiver=r)
        spans = r.wait_spans(4)
        keys = [s["attributes"].get("messaging.kafka.message.key") for s in spans]
        assert sorted(keys, key=str) == sorted([None, None, None, "k0"], key=str), keys


def test_consumed_binary_key_omitted():
    with Broker(["t:1"]) as b, Receiver() as r:
        semclient(b, "produce", "-t", "t", "-n", "2", "--binary-key", preload=False)
        semclient(b, "consume", "-t", "t", "-n", "2", receiver=r)
        spans = r.wait_for(lambda s: len(named(s, "process t")) >= 2)
        for s in named(spans, "process t"):
            assert "messaging.kafka.message.key" not in s["attributes"], s


def test_tombstone_only_when_true():
    with Broker(["t:1"]) as b, Receiver() as r:
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", "2", "--tombstone",
                receiver=r, service="tomb")
        kclient(b, "produce", "-a", "producev", "-t", "t", "-n", "1",
                receiver=r, service="live")
        spans = r.wait_spans(3)
        for s in spans:
            a = s["attributes"]
            if s["resource"]["service.name"] == "tomb":
                assert a["messaging.kafka.message.tombstone"] is True, a
                assert a["messaging.message.body.size"] == 0
            else:
                assert "messaging.kafka.message.tombstone" not in a, a
                assert a["messaging.message.body.size"] == len("payload-0")
