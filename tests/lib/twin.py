"""Comparing the spans of a program that reaches librdkafka another way
(FFI, a RTLD_DEEPBIND module) with those of its directly linked twin."""

from kotel_test import of_service, parse_lines

# Differ between two runs of the same program, or between the twins by
# construction: the call site (code.*) is each program's own code, and an
# interpreted FFI client has none (docs/span-model.md).
VOLATILE = {"server.port", "kotel.message.age_ms",
            "code.function.name", "code.file.path", "code.line.number"}


def shape(spans):
    """Everything about @spans but ids, times and the broker's port."""
    out = []
    for s in spans:
        attrs = {k: v for k, v in s["attributes"].items() if k not in VOLATILE}
        status = s.get("status")
        out.append((s["name"], s["kind"], bool(s["parent_span_id"]), len(s.get("links", [])),
                    status.get("code") if isinstance(status, dict) else status,
                    sorted(attrs.items())))
    return sorted(out, key=repr)


def check_headers(dr_out, msg_out, spans, producer_service, n):
    """The delivery reports (@dr_out, or None when not printed) and the
    consumed messages (@msg_out) carry the send spans' traceparent, one per
    message."""
    sends = {s["attributes"]["messaging.kafka.message.key"]: s
             for s in of_service(spans, producer_service) if s["kind"] == "PRODUCER"}
    for lines, what in ((dr_out, "dr"), (msg_out, "msg")):
        if lines is None:
            continue
        rows = parse_lines(lines, what)
        assert len(rows) == n, lines
        for row in rows:
            s = sends[row["key"]]
            assert row["traceparent"] == "00-%s-%s-01" % (s["trace_id"], s["span_id"]), row
