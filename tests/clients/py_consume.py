#!/usr/bin/python3
"""A plain confluent_kafka group consumer, optionally forwarding.

  py_consume.py BOOTSTRAP TOPIC COUNT GROUP [--sleep MS] [--out TOPIC]
                [--headers] [--batch N] [--os-exit]

Reads COUNT messages with poll() (or consume(N) with --batch); for each
prints
  msg key=K partition=P offset=O traceparent=TP
then "processes" it for --sleep MS and, with --out, produces a new value
with the same key there (the forwarder), with a copy of the consumed
message's headers when --headers. Python copies and destroys each
librdkafka message inside poll()/consume(), before the processing runs.
--os-exit ends with os._exit() after close(): no exit handler runs."""

import argparse
import os
import sys
import time

from confluent_kafka import Consumer, Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("count", type=int)
    ap.add_argument("group")
    ap.add_argument("--sleep", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--headers", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--os-exit", action="store_true")
    a = ap.parse_args()
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                  "auto.offset.reset": "earliest", "client.id": "pyclient"})
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5,
                  "client.id": "pyclient"}) if a.out else None
    c.subscribe([a.topic])
    seen, delivered = 0, []
    deadline = time.time() + 60
    while seen < a.count and time.time() < deadline:
        if a.batch:
            msgs = c.consume(a.batch, 0.5)
            if msgs:
                print("batch size=%d" % len(msgs), flush=True)
        else:
            msgs = [c.poll(0.2)]
        for m in msgs:
            if m is None or m.error():
                continue
            seen += 1
            tp = dict(m.headers() or []).get("traceparent", b"-")
            print("msg key=%s partition=%d offset=%d traceparent=%s" % (
                m.key().decode(), m.partition(), m.offset(), tp.decode()), flush=True)
            time.sleep(a.sleep / 1000.0)
            # A Producer is falsy while its queue is empty (it has __len__).
            if p is not None:
                p.produce(a.out, key=m.key(), value=b"fwd:" + m.value(),
                          headers=m.headers() if a.headers else None,
                          on_delivery=lambda err, msg: delivered.append(err))
                p.poll(0)
    left = p.flush(30) if p is not None else 0
    c.close()
    print("consumed=%d delivered=%d left=%d" % (seen, len(delivered), left), flush=True)
    ok = seen == a.count and (p is None or (len(delivered) == a.count and not any(delivered)))
    if a.os_exit:
        os._exit(0 if ok else 1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
