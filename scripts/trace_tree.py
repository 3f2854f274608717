#!/usr/bin/python3
"""Prints spans as one tree per trace, parents above children, with the
service, process id, kind, duration and the Kafka attributes of each span,
then a one-line summary. Given log records, each is printed under the span
whose trace and span ids it carries (docs/logs.md), and counted.

Spans are the dicts tests/lib/otlp_receiver.py decodes (trace_id, span_id,
parent_span_id, name, kind, start, end, attributes, resource, links); log
records its log-record dicts (trace_id, span_id, severity_text, body,
attributes).

  trace_tree.py SPANS.jsonl     (the file otlp_receiver.py --out writes)
"""

import json
import sys

# Attributes worth a column, in order, with the label they get.
KEY_ATTRS = (
    ("messaging.destination.name", "topic"),
    ("messaging.destination.partition.id", "partition"),
    ("messaging.kafka.offset", "offset"),
    ("messaging.kafka.message.key", "key"),
    ("messaging.batch.message_count", "batch"),
    ("error.type", "error"),
)


def _glyphs(stream):
    """Box-drawing characters when the output can carry them."""
    enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if enc == "utf8":
        return {"branch": "\u251c\u2500 ", "last": "\u2514\u2500 ", "pipe": "\u2502  ",
                "blank": "   ", "arrow": " \u2192 ", "us": "\u00b5s", "log": "\u25b8 "}
    return {"branch": "|- ", "last": "`- ", "pipe": "|  ", "blank": "   ", "arrow": " -> ",
            "us": "us", "log": "> "}


def service(span):
    return span["resource"].get("service.name", "?")


def duration(span, us="us"):
    """The span's duration as text: '3 us', '420 us', '5.25 ms', '12.3 ms',
    '1.25 s'."""
    ns = max(0, span["end"] - span["start"])
    if ns >= 1e9:
        return "%.2f s" % (ns / 1e9)
    if ns >= 1e7:
        return "%.1f ms" % (ns / 1e6)
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    return "%.0f %s" % (ns / 1e3, us)


def attrs_text(span):
    a = span["attributes"]
    parts = ["%s=%s" % (label, a[k]) for k, label in KEY_ATTRS if k in a]
    # kotel also links a process span to its parent; only other links say
    # something the tree does not.
    links = [l for l in span.get("links") or ()
             if l["span_id"] != span.get("parent_span_id")]
    if links:
        parts.append("links=%d" % len(links))
    return " ".join(parts)


def build_traces(spans):
    """Groups spans by trace: a list of (trace_id, roots), each root a
    (span, children) node, children and traces ordered by start time. A
    span whose parent was not received is a root, marked as such."""
    by_trace = {}
    for s in spans:
        by_trace.setdefault(s["trace_id"], []).append(s)
    traces = []
    for tid, group in by_trace.items():
        ids = {s["span_id"] for s in group}
        children = {}
        roots = []
        for s in sorted(group, key=lambda x: (x["start"], x["span_id"])):
            p = s.get("parent_span_id") or ""
            if p and p in ids and p != s["span_id"]:
                children.setdefault(p, []).append(s)
            else:
                roots.append(s)

        def node(s, seen):
            seen.add(s["span_id"])
            return (s, [node(c, seen) for c in children.get(s["span_id"], [])
                        if c["span_id"] not in seen])

        seen = set()
        trees = [node(r, seen) for r in roots]
        # Spans in a parent cycle (never from a sane agent) still show.
        trees += [node(s, seen) for s in group if s["span_id"] not in seen]
        traces.append((tid, trees))
    traces.sort(key=lambda t: min(n[0]["start"] for n in t[1]))
    return traces


def _walk(nodes, prefix, g, out, top):
    """(head, span, under) per span, depth first: @head draws the span's
    branch, @under is what a line under the span (a log record) starts
    with, so that it sits above the span's children."""
    for i, (span, kids) in enumerate(nodes):
        last = i == len(nodes) - 1
        if top:
            head, more = "", ""
        else:
            head = prefix + (g["last"] if last else g["branch"])
            more = prefix + (g["blank"] if last else g["pipe"])
        out.append((head, span, more + (g["pipe"] if kids else g["blank"])))
        _walk(kids, more, g, out, False)


LOG_BODY_MAX = 110


def log_text(rec):
    """One log record as a line of the tree: severity, facility, body."""
    body = str(rec.get("body") or "")
    if len(body) > LOG_BODY_MAX:
        body = body[:LOG_BODY_MAX - 3] + "..."
    fac = (rec.get("attributes") or {}).get("kotel.kafka.log.facility", "")
    return "log %s %s: %s" % (rec.get("severity_text") or "-", fac or "-", body)


def _services_in_order(flat):
    seen = []
    for _, s, _ in sorted(flat, key=lambda x: x[1]["start"]):
        if service(s) not in seen:
            seen.append(service(s))
    return seen


def format_trace(trace_id, roots, stream=sys.stdout, logs_by_span=None):
    """The lines that draw one trace; @logs_by_span: {(trace_id, span_id):
    [log record]}, each drawn under its span."""
    g = _glyphs(stream)
    flat = []
    _walk(roots, "", g, flat, True)
    spans = [s for _, s, _ in flat]
    pids = {(service(s), s["resource"].get("process.pid")) for s in spans}
    total = {"start": min(s["start"] for s in spans), "end": max(s["end"] for s in spans)}
    lines = ["trace %s: %s, %s in %s, %s end to end" % (
        trace_id, g["arrow"].join(_services_in_order(flat)), _count(len(spans), "span"),
        _count(len(pids), "process", "processes"), duration(total, g["us"]))]
    rows = []
    for head, s, under in flat:
        name = head + s["name"]
        parent = s.get("parent_span_id") or ""
        if parent and not head:
            name += " (parent %s not received)" % parent[:8]
        proc = " ".join(str(s["resource"][k]) for k in ("process.executable.name", "process.pid")
                        if k in s["resource"])
        who = service(s) + (" [%s]" % proc if proc else "")
        rows.append((name, s["kind"], who, duration(s, g["us"]), attrs_text(s)))
        for rec in (logs_by_span or {}).get((s["trace_id"], s["span_id"]), ()):
            rows.append("  " + under + g["log"] + log_text(rec))
    spans_rows = [r for r in rows if isinstance(r, tuple)]
    widths = [max(len(r[i]) for r in spans_rows) for i in range(4)]
    for r in rows:
        if not isinstance(r, tuple):
            lines.append(r)
            continue
        lines.append(("  %-*s  %-*s  %-*s  %*s  %s" % (
            widths[0], r[0], widths[1], r[1], widths[2], r[2], widths[3], r[3],
            r[4])).rstrip())
    return lines


def logs_by_span(spans, logs):
    """({(trace_id, span_id): [records]} of the records whose span was
    received, in time order; the number of the others)."""
    ids = {(s["trace_id"], s["span_id"]) for s in spans}
    out, elsewhere = {}, 0
    for rec in sorted(logs, key=lambda r: r.get("time", 0)):
        key = (rec.get("trace_id") or "", rec.get("span_id") or "")
        if key in ids:
            out.setdefault(key, []).append(rec)
        else:
            elsewhere += 1
    return out, elsewhere


def _count(n, one, many=None):
    return "%d %s" % (n, one if n == 1 else (many or one + "s"))


def summary(spans):
    """'12 spans, 3 traces, services: orders-api, enricher, billing'"""
    services = []
    for s in sorted(spans, key=lambda x: x["start"]):
        if service(s) not in services:
            services.append(service(s))
    return "%s, %s, services: %s" % (
        _count(len(spans), "span"), _count(len({s["trace_id"] for s in spans}), "trace"),
        ", ".join(services) or "none")


def render(spans, stream=sys.stdout, logs=None):
    """Every trace, a blank line between them, then the summary line; with
    @logs, each log record under its span and a line counting them."""
    by_span, elsewhere = logs_by_span(spans, logs or [])
    lines = []
    for tid, roots in build_traces(spans):
        lines += format_trace(tid, roots, stream, by_span)
        lines.append("")
    lines.append(summary(spans))
    if logs is not None:
        under = sum(len(v) for v in by_span.values())
        lines.append("%s: %d under the span in progress when it was logged, %d in no "
                     "span above" % (_count(len(logs), "log record"), under, elsewhere))
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        spans = [json.loads(line) for line in f if line.strip()]
    print(render(spans))
    return 0


if __name__ == "__main__":
    sys.exit(main())
